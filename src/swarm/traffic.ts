// The load of a swarm case: open-loop Poisson or constant arrivals at a fixed rate or on a
// schedule of steps and ramps, or a closed loop of users with think times; aimed at the entry
// service, another service, a linked cluster's mirror or a `dns:` name; with a mix of request
// kinds, headers, query strings and bodies.

import { distribution, urlFor } from "./behavior.js";
import type { Chooser } from "./choose.js";
import type { Switches } from "./features.js";
import type { ClusterPlan, Endpoint, ServicePlan, TopologyPlan } from "./topology.js";

type Obj = Record<string, unknown>;

interface Target {
  url: string;
  service: ServicePlan;
  grpc: boolean;
  /** A mirror or a `dns:` name: nothing tells `auto` it is gRPC, so gRPC must be said. */
  indirect: boolean;
}

function targets(c: Chooser, plan: TopologyPlan, cluster: ClusterPlan, clientNamespace: string): Target[] {
  const out: Target[] = [];
  const pick = (s: ServicePlan, e: Endpoint, mirror?: string): Target => ({ url: urlFor(c, clientNamespace, s, e, mirror), service: s, grpc: s.grpc, indirect: mirror !== undefined });
  const entry = cluster.services[0];
  if (entry !== undefined) out.push(pick(entry, c.pick(entry.endpoints)));
  const other = c.pick(cluster.services);
  out.push(pick(other, c.pick(other.endpoints)));
  for (const link of plan.links.filter((l) => l.from === cluster.name)) {
    const remote = plan.clusters.find((k) => k.name === link.to);
    const exported = remote?.services.filter((s) => s.exported !== undefined && !s.shorthand) ?? [];
    if (exported.length > 0) {
      const s = c.pick(exported);
      out.push(pick(s, c.pick(s.endpoints), link.clusterName));
    }
  }
  if (plan.dns !== undefined && cluster === plan.clusters[0]) {
    const s = cluster.services.find((x) => x.name === plan.dns?.service);
    if (s !== undefined) {
      const e = c.pick(s.endpoints);
      out.push({ url: `http://${s.name}.global${s.port === 80 ? "" : `:${s.port}`}${e.path}`, service: s, grpc: s.grpc, indirect: true });
    }
  }
  return out;
}

function rate(c: Chooser, on: Switches, durationMs: number, maxRps: number): unknown {
  const r = (): string => `${c.int(2, maxRps)}/s`;
  if (!on.has("rateSchedule") || c.chance(0.3)) return r();
  const points: Obj[] = [{ at: "0ms", rate: r() }];
  let at = 0;
  for (let i = c.int(1, 3); i > 0; i--) {
    at += c.int(1, Math.max(1, Math.floor(durationMs / 4)));
    if (at >= durationMs) break;
    if (c.chance(0.5)) {
      const over = c.int(1, Math.max(1, Math.floor(durationMs / 8)));
      points.push({ at: `${at}ms`, rampTo: r(), over: `${over}ms` });
      at += over;
    } else points.push({ at: `${at}ms`, rate: c.chance(0.2) ? "0/s" : r() });
  }
  return points;
}

function requests(c: Chooser, on: Switches, t: Target): Obj[] | undefined {
  if (!on.has("requestMix") || c.chance(0.3)) return undefined;
  return t.service.endpoints.filter((_, i) => i === 0 || c.chance(0.7)).map((e) => {
    const r: Obj = { path: e.path, weight: c.int(1, 5) };
    if (e.method !== (t.grpc ? "POST" : "GET") || c.chance(0.3)) r["method"] = e.method;
    if (on.has("headers") && c.chance(0.4)) r["headers"] = { "x-canary": "true", ...(c.chance(0.3) ? { "x-user": "alice" } : {}) };
    if (c.chance(0.2)) r["query"] = { variant: c.pick(["canary", "stable"]) };
    if (c.chance(0.2)) r["bodyBytes"] = c.int(0, 4096);
    return r;
  });
}

/** The traffic of every cluster with a client, named t0, t1, ... */
export function trafficEntries(c: Chooser, on: Switches, plan: TopologyPlan, durationMs: number, maxRps: number): Obj[] {
  const out: Obj[] = [];
  for (const cluster of plan.clusters) {
    const client = cluster.client;
    if (client === undefined) continue;
    const all = targets(c, plan, cluster, client.namespace);
    const chosen = [all[0] as Target, ...all.slice(1).filter(() => c.chance(0.5))].slice(0, cluster === plan.clusters[0] ? 3 : 1);
    for (const t of chosen) {
      const entry: Obj = { name: `t${out.length}`, from: { ...(plan.clusters.length > 1 || c.chance(0.3) ? { cluster: cluster.name } : {}), namespace: client.namespace, deployment: client.deployment }, to: t.url };
      if (on.has("closedLoop") && c.chance(0.5)) {
        // Edge values too: users that never pause between a response and the next request.
        const eager = c.chance(0.1);
        entry["arrivals"] = { closedLoop: { users: eager ? c.int(1, 2) : c.int(1, 8), thinkTime: eager ? "0ms" : distribution(c, c.int(20, 300) * 1000) } };
      } else {
        if (c.chance(0.3)) entry["arrivals"] = c.pick(["poisson", "constant"]);
        entry["rate"] = rate(c, on, durationMs, maxRps);
      }
      if (t.grpc && (t.indirect || c.chance(0.3))) entry["protocol"] = "grpc";
      const mix = requests(c, on, t);
      if (mix !== undefined && mix.length > 0) entry["requests"] = mix;
      out.push(entry);
    }
  }
  return out;
}
