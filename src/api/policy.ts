// `meshsim policy`: what one client's proxy applies to one Service at one simulated instant, as
// `linkerd diagnostics policy` would show it — the stack and why, routes in the order the proxy
// matches them with their matches, retries, timeouts, backends and weights, failure accrual and the
// backend queue. The scenario plays up to the instant, so a failover, a Flagger step or a change
// shows; the proxy's own copy is read when it has one (it may lag the controllers by the
// propagation delay), else what the controllers would answer it now.

import type { Destination, ServiceRef } from "../mesh/destination.js";
import { OutboundProxy } from "../mesh/outbound.js";
import type { WorldSpec } from "../mesh/spec.js";
import { World } from "../mesh/world.js";
import { OUTBOUND_QUEUE_DEFAULTS } from "../policy/backend-queue.js";

export interface PolicyQuery {
  /** The client workload. */
  from: { cluster?: string; namespace: string; deployment: string };
  /** The Service it calls; `port` absent ⇒ the Service's first port. */
  to: { namespace: string; name: string; port?: number };
  /** The simulated instant, µs. */
  atUs: number;
}

export type Plain = string | number | boolean | null | Plain[] | { [k: string]: Plain };

export interface PolicyView {
  at: number;
  client: string;
  pod: string;
  service: string;
  /** `proxy` (the config the client's proxy holds), `controllers` (it never asked yet), `none` (no proxy). */
  source: "proxy" | "controllers" | "none";
  /** The whole policy as plain data (what `--json` prints). */
  policy: Record<string, Plain>;
}

/** The answer, or why there is none (a client or Service the scenario does not have). */
export function effectivePolicy(spec: WorldSpec, q: PolicyQuery): { ok: true; view: PolicyView } | { ok: false; problem: string } {
  const world = new World(spec);
  world.advanceTo(q.atUs);
  const clusters = [...world.clusters.values()].filter((c) => q.from.cluster === undefined || c.name === q.from.cluster);
  const found = clusters.flatMap((c) => {
    const d = c.deployments.get(`${q.from.namespace}/${q.from.deployment}`);
    return d === undefined ? [] : [{ cluster: c, d }];
  });
  if (found.length === 0) return { ok: false, problem: `there is no deployment ${q.from.namespace}/${q.from.deployment}${q.from.cluster === undefined ? "" : ` in cluster ${q.from.cluster}`}` };
  if (found.length > 1) return { ok: false, problem: `deployment ${q.from.namespace}/${q.from.deployment} runs in ${found.map((f) => f.cluster.name).join(" and ")}: say which with --cluster` };
  const { cluster, d } = found[0] as (typeof found)[number];
  const svc = cluster.services.get(`${q.to.namespace}/${q.to.name}`);
  if (svc === undefined) return { ok: false, problem: `there is no Service ${q.to.namespace}/${q.to.name} in cluster ${cluster.name} at ${q.atUs / 1e6}s` };
  const port = q.to.port ?? svc.ports[0]?.port ?? 80;
  const ref: ServiceRef = { namespace: q.to.namespace, name: q.to.name, port };
  const pod = d.pods.find((p) => p.alive);
  const base = { at: world.sim.nowUs / 1e6, client: `${cluster.name}/${q.from.namespace}/${q.from.deployment}`, service: `${ref.namespace}/${ref.name}:${port}` };
  if (pod === undefined) return { ok: false, problem: `deployment ${base.client} has no running pod at ${q.atUs / 1e6}s` };
  if (!(pod.client instanceof OutboundProxy)) {
    return { ok: true, view: { ...base, pod: pod.name, source: "none", policy: { stack: "none", reason: "the pod has no Linkerd proxy: kube-proxy picks a ready endpoint at random, with no routes, retries, timeouts, splits or failure accrual" } } };
  }
  const held = pod.client.heldDestination(ref);
  const dest = held ?? cluster.destination(ref, pod.namespace);
  return { ok: true, view: { ...base, pod: pod.name, source: held === undefined ? "controllers" : "proxy", policy: describeDestination(dest) } };
}

/** A destination as plain data, in the order the proxy uses it. */
export function describeDestination(dest: Destination): Record<string, Plain> {
  const queue = { capacity: OUTBOUND_QUEUE_DEFAULTS.capacity, failFast: `${OUTBOUND_QUEUE_DEFAULTS.failFastTimeoutUs / 1e6}s` };
  if (dest.stack === "profile") {
    return {
      stack: "ServiceProfile",
      reason: dest.reason,
      routes: [...dest.routes.map((r) => plain({ name: r.name, condition: r.condition, isRetryable: r.isRetryable, retriesEnabled: r.retriesEnabled, timeout: us(r.timeoutUs), responseClasses: r.responseClasses })), "[DEFAULT] (every other request; not retryable, no timeout)"],
      retryBudget: dest.budget === undefined ? "none: isRetryable routes are not retried" : { retryRatio: Number(dest.budget.retryRatio.toPrecision(7)), minRetriesPerSecond: dest.budget.minRetriesPerSecond, ttl: us(dest.budget.ttlUs) },
      backends: dest.targets.length === 0 ? [`${dest.service.name}.${dest.service.namespace}:${dest.service.port} (the apex itself)`] : dest.targets.map((t) => ({ service: `${t.service.namespace}/${t.service.name}:${t.service.port}`, weight: t.weight })),
      failureAccrual: "off (the ServiceProfile stack has none)",
      queue,
    };
  }
  return {
    stack: "client policy",
    reason: dest.reason,
    routes: dest.routes.map((r) => ({
      kind: r.kind,
      name: r.synthetic ? "[DEFAULT]" : `${r.namespace}/${r.name}`,
      ...(r.hostnames.length > 0 ? { hostnames: r.hostnames } : {}),
      rules: r.rules.map((rule) => {
        const cfg = dest.rules.get(rule);
        return plain({
          matches: rule.matches.length === 0 ? "every request" : rule.matches,
          retry: cfg?.retry === undefined ? "none" : { limit: cfg.retry.limit, statuses: cfg.retry.statusRanges.map((s) => (s.start === s.end ? `${s.start}` : `${s.start}-${s.end}`)), grpcCodes: cfg.retry.grpcCodes, perTryTimeout: us(cfg.retry.perTryTimeoutUs) },
          timeouts: { request: us(cfg?.timeouts.requestUs), response: us(cfg?.timeouts.responseUs), idle: us(cfg?.timeouts.idleUs) },
          backends: { distribution: cfg?.backends.kind ?? "first-available", reason: cfg?.backends.reason ?? "", backends: cfg?.backends.backends ?? [] },
        });
      }),
    })),
    failureAccrual: dest.accrual === undefined ? "off (no balancer.linkerd.io/failure-accrual on the Service)" : { kind: "consecutive", maxFailures: dest.accrual.maxFailures, minPenalty: us(dest.accrual.minPenaltyUs), maxPenalty: us(dest.accrual.maxPenaltyUs), jitterRatio: dest.accrual.jitterRatio },
    queue,
  };
}

function us(v: number | undefined): string | null {
  return v === undefined ? null : `${v / 1e6}s`;
}

/** Plain data: functions and compiled matchers dropped, Maps as entry lists, undefined gone. */
function plain(v: unknown): Plain {
  if (v === null || v === undefined) return null;
  if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") return v;
  if (Array.isArray(v)) return v.map(plain);
  if (v instanceof Map) return [...v.entries()].map(([k, x]) => [plain(k), plain(x)]);
  if (typeof v === "object") {
    const out: Record<string, Plain> = {};
    for (const [k, x] of Object.entries(v)) {
      if (x === undefined || typeof x === "function" || k === "matcher" || k === "diagnostics") continue;
      out[k] = plain(x);
    }
    return out;
  }
  return null;
}
