// What the apps of a swarm case do: service-time distributions of every kind the format has,
// error rates with HTTP statuses or gRPC statuses (in headers, trailers or after a streamed body),
// per-route behaviour, downstream calls along the planned call graph (to local Services or a
// linked cluster's mirror), sequential or parallel.

import type { Chooser } from "./choose.js";
import type { Switches } from "./features.js";
import type { CallPlan, ClusterPlan, Endpoint, ServicePlan, TopologyPlan } from "./topology.js";

type Obj = Record<string, unknown>;

const us = (n: number): string => (n % 1000 === 0 ? `${n / 1000}ms` : `${n}us`);

/** A service-time distribution around a median of `medianUs`. */
export function distribution(c: Chooser, medianUs: number): unknown {
  const m = Math.max(10, Math.round(medianUs));
  switch (c.pick(["constant", "bare", "uniform", "exponential", "normal", "lognormal", "lognormal-mu", "erlang", "empirical"] as const)) {
    case "constant":
      return { dist: "constant", value: us(m) };
    case "bare":
      return us(m);
    case "uniform":
      return { dist: "uniform", min: us(Math.round(m / 2)), max: us(m * 2) };
    case "exponential":
      return { dist: "exponential", mean: us(m) };
    case "normal":
      return { dist: "normal", mean: us(m), stddev: us(Math.max(1, Math.round(m * c.real(0.05, 0.8)))) };
    case "lognormal":
      return { dist: "lognormal", median: us(m), p99: us(m * c.int(1, 10)) };
    case "lognormal-mu":
      return { dist: "lognormal", mu: Math.round(Math.log(m) * 100) / 100, sigma: c.real(0.1, 1.2) };
    case "erlang":
      return { dist: "erlang", k: c.int(1, 4), mean: us(m) };
    case "empirical":
      return { dist: "empirical", percentiles: { 0: us(Math.round(m / 4)), 50: us(m), 99: us(m * 5), 100: us(m * 10) } };
  }
}

/** A median service time: mostly fast, sometimes slow enough to meet the timeouts. */
function medianUs(c: Chooser): number {
  return c.chance(0.15) ? c.int(50, 400) * 1000 : c.int(1, 100) * 100;
}

const GRPC_STATUSES = ["UNAVAILABLE", "INTERNAL", "CANCELLED", "DEADLINE_EXCEEDED", "RESOURCE_EXHAUSTED", "UNKNOWN", 14, "none"] as const;

function errors(c: Chooser, grpc: boolean): Obj {
  const rate = c.chance(0.05) ? 1 : c.real(0, 0.3);
  if (grpc && c.chance(0.7)) return { rate, grpcStatus: c.pick(GRPC_STATUSES), grpcStatusIn: c.pick(["headers", "headers", "trailers", "streamed"]) };
  return { rate, status: c.pick([500, 502, 503, 504, 429]) };
}

/** The URL a caller in `from` uses for `target`: its FQDN, a short name in the same namespace, or a mirror. */
export function urlFor(c: Chooser, callerNamespace: string, target: ServicePlan, e: Endpoint, viaMirror?: string): string {
  const port = target.port === 80 ? "" : `:${target.port}`;
  if (viaMirror !== undefined) return `http://${target.name}-${viaMirror}.${target.namespace}.svc.cluster.local${port}${e.path}`;
  const host = callerNamespace === target.namespace && c.chance(0.2) ? target.name : c.chance(0.1) ? `${target.name}.${target.namespace}` : `${target.name}.${target.namespace}.svc.cluster.local`;
  return `http://${host}${port}${e.path}`;
}

function call(c: Chooser, on: Switches, cluster: ClusterPlan, caller: ServicePlan, k: CallPlan, plan: TopologyPlan): Obj | undefined {
  const remote = k.viaMirror === undefined ? cluster : plan.clusters.find((x) => x.name === k.viaMirror?.to);
  const target = remote?.services.find((s) => s.name === k.service);
  if (target === undefined) return undefined;
  const e = c.pick(target.endpoints);
  const out: Obj = { to: urlFor(c, caller.namespace, target, e, k.viaMirror?.clusterName) };
  if (e.method !== "GET") out["method"] = e.method;
  if (target.grpc && (k.viaMirror !== undefined || c.chance(0.3))) out["protocol"] = "grpc";
  if (c.chance(0.25)) out["required"] = false;
  if (on.has("headers") && c.chance(0.5)) out["headers"] = { "x-canary": c.pick(["true", "false"]) };
  if (on.has("headers") && c.chance(0.4)) out["forwardHeaders"] = c.chance(0.5) ? true : ["x-canary"];
  return out;
}

function routes(c: Chooser, s: ServicePlan, calls: Obj[]): Obj[] {
  return s.endpoints.filter(() => c.chance(0.6)).map((e) => {
    const r: Obj = { match: c.chance(0.7) ? { method: e.method, path: e.path } : { path: e.path } };
    if (c.chance(0.5)) r["latency"] = distribution(c, medianUs(c));
    if (c.chance(0.5)) r["errors"] = errors(c, s.grpc);
    if (e.method !== "GET" && c.chance(0.5)) r["sideEffect"] = true;
    if (calls.length > 0 && c.chance(0.3)) r["calls"] = calls.filter(() => c.chance(0.5));
    return r;
  });
}

/** One behaviour entry per service of each cluster (selected by cluster and deployment). */
export function behaviors(c: Chooser, on: Switches, plan: TopologyPlan): Obj[] {
  const out: Obj[] = [];
  const multi = plan.clusters.length > 1;
  for (const cluster of plan.clusters) {
    for (const s of cluster.services) {
      const b: Obj = { select: { ...(multi || c.chance(0.3) ? { cluster: cluster.name } : {}), ...(c.chance(0.3) ? { namespace: s.namespace } : {}), deployment: s.name } };
      if (c.chance(0.5)) b["concurrency"] = c.pick([1, 2, 4, 8, 16, 64]);
      if (c.chance(0.3)) b["queueLimit"] = c.pick([0, 4, 16, 128]);
      b["latency"] = distribution(c, medianUs(c));
      if (on.has("appErrors") && c.chance(0.6)) b["errors"] = errors(c, s.grpc);
      const calls = s.calls.flatMap((k): Obj[] => {
        const made = call(c, on, cluster, s, k, plan);
        return made === undefined ? [] : [made];
      });
      if (calls.length > 0) b["calls"] = calls;
      if (calls.length > 1 && on.has("parallelCalls") && c.chance(0.6)) b["callMode"] = "parallel";
      if (on.has("appRoutes")) {
        const r = routes(c, s, calls);
        if (r.length > 0) b["routes"] = r;
      }
      out.push(b);
    }
  }
  return out;
}
