// The event estimate: integrated arrival rate × (1 + downstream calls) × events per request.

import { describe, expect, it } from "vitest";
import type { BehaviorSpec, RatePoint, TrafficSpec, WorldSpec } from "../../src/mesh/spec.js";
import { parseManifests } from "../../src/k8s/load.js";
import { EVENTS_PER_POD, EVENTS_PER_REQUEST, estimateEvents, eventBudgetProblem, integratedRate } from "../../src/scenario/estimate.js";
import { US_PER_MS, US_PER_S } from "../../src/sim/time.js";

const S = US_PER_S;

describe("integratedRate", () => {
  it.each<[string, RatePoint[], number, number]>([
    ["a constant rate is rate × duration", [{ atUs: 0, rateRps: 100 }], 10 * S, 1000],
    ["steps add up piece by piece", [{ atUs: 0, rateRps: 0 }, { atUs: 2 * S, rateRps: 10 }, { atUs: 5 * S, rateRps: 40 }], 10 * S, 3 * 10 + 5 * 40],
    // 0–4 s at 10/s, ramp 10→30 over 2 s (area 40), then 30/s for 4 s.
    ["a ramp is a trapezoid, then holds its target", [{ atUs: 0, rateRps: 10 }, { atUs: 4 * S, rateRps: 10, rampToRps: 30, overUs: 2 * S }], 10 * S, 40 + 40 + 120],
    // The run ends 1 s into a 2 s ramp 0→20: the area is the triangle up to 10/s.
    ["a ramp cut off by the end of the run counts only its start", [{ atUs: 0, rateRps: 0, rampToRps: 20, overUs: 2 * S }], 1 * S, 5],
    ["points after the end count nothing", [{ atUs: 0, rateRps: 1 }, { atUs: 20 * S, rateRps: 1000 }], 10 * S, 10],
  ])("%s", (_what, points, durationUs, want) => {
    expect(integratedRate(points, durationUs)).toBeCloseTo(want, 9);
  });
});

const behavior = (deployment: string, calls: string[]): BehaviorSpec => ({
  select: { deployment },
  concurrency: 1,
  queueLimit: 0,
  latency: { dist: "constant", valueUs: 1 },
  routes: [],
  errors: { rate: 0, status: 500 },
  calls: calls.map((to) => ({ to, method: "GET", required: true })),
  callMode: "sequential",
});

const traffic = (to: string, rateRps: number): TrafficSpec => ({
  name: to,
  from: { cluster: "c", namespace: "default", deployment: "client" },
  to,
  arrivals: { kind: "poisson" },
  rate: [{ atUs: 0, rateRps }],
  requests: [{ method: "GET", path: "/", weight: 1, bodyBytes: 0 }],
});

const world = (over: Partial<WorldSpec>): WorldSpec =>
  ({ durationUs: 10 * S, traffic: [], behavior: [], clusters: [], dns: [], links: [], faults: [], mesh: { failover: { mode: "readiness" } }, ...over }) as WorldSpec;

/** A cluster holding `yaml`'s objects, as the loader gives them. */
function cluster(yaml: string, nodes = 1): WorldSpec["clusters"][number] {
  const parsed = parseManifests(yaml, "m.yaml");
  expect(parsed.errors).toEqual([]);
  return { name: "c", objects: parsed.objects, trustAnchor: "root", domain: "cluster.local", nodes };
}

const DEPLOY = (replicas: number, probe = "") => `apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: default}
spec:
  replicas: ${replicas}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
      - name: api
        image: api${probe}
`;

describe("estimateEvents", () => {
  it("multiplies requests by one plus every downstream call they cause", () => {
    // web calls auth and cart; cart calls db: one request to web is 1 + 2 + 1 = 4 hops.
    const w = world({
      traffic: [traffic("http://web.default.svc.cluster.local/", 100)],
      behavior: [behavior("web", ["http://auth/", "http://cart/"]), behavior("cart", ["http://db/"])],
    });
    expect(estimateEvents(w)).toEqual({ requests: 1000, hops: 4000, pods: 0, ticks: 0, events: 4000 * EVENTS_PER_REQUEST });
  });

  it("follows a call cycle once round, then cuts it", () => {
    // a → b → a: three hops per request, not an endless chain.
    const w = world({ traffic: [traffic("http://a/", 1)], behavior: [behavior("a", ["http://b/"]), behavior("b", ["http://a/"])] });
    expect(estimateEvents(w).hops).toBe(10 * 3);
  });

  it("bounds a closed loop by users / mean think time", () => {
    const t: TrafficSpec = { ...traffic("http://a/", 0), arrivals: { kind: "closed-loop", users: 5, thinkTime: { dist: "constant", valueUs: 100 * US_PER_MS } }, rate: [] };
    expect(estimateEvents(world({ traffic: [t] })).requests).toBe(5 * 10 * 10);
  });

  it("says how big a refused scenario is and what to change", () => {
    const w = world({ traffic: [traffic("http://a/", 1e6)], durationUs: 3600 * S });
    expect(eventBudgetProblem(w)).toBe(
      "this scenario would take about 3.6e10 events (3.6e9 requests, 3.6e9 with downstream calls, × ~10 events each; 0 pods; 0 probe and timer ticks), " +
        "more than the limit of 2.0e9; shorten duration or lower the traffic rates, replicas or probe frequencies",
    );
    expect(eventBudgetProblem(world({ traffic: [traffic("http://a/", 1)] }))).toBeUndefined();
  });

  it("counts pods and their readiness probes: replicas × (start + duration / period probes)", () => {
    const probe = "\n        readinessProbe: {httpGet: {port: 80}, periodSeconds: 2}";
    const e = estimateEvents(world({ clusters: [cluster(DEPLOY(4, probe))] }));
    // 4 pods, each probed every 2 s over 10 s: 4 × 5 = 20 probe ticks.
    expect(e).toMatchObject({ pods: 4, ticks: 20, events: 4 * EVENTS_PER_POD + 20 * 3 });
  });

  it("a DaemonSet counts one pod per node, and a scale fault its largest count", () => {
    const ds = "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: agent, namespace: default}\nspec:\n  template:\n    spec: {containers: [{name: a, image: a}]}\n";
    expect(estimateEvents(world({ clusters: [cluster(ds, 7)] })).pods).toBe(7);
    const scaled = world({
      clusters: [cluster(DEPLOY(2))],
      faults: [{ atUs: S, action: { kind: "scale", select: { deployment: "api" }, replicas: 50 } }] as WorldSpec["faults"],
    });
    expect(estimateEvents(scaled).pods).toBe(50);
  });

  it("refuses a run of absurdly many pods before it starts, whatever the traffic", () => {
    expect(eventBudgetProblem(world({ clusters: [cluster(DEPLOY(2_147_483_647))] }))).toBe(
      "this scenario would run 2.1e9 pods (replicas, DaemonSet pods on every node, scale faults), more than the limit of 200000; lower the replica counts",
    );
  });

  it("counts periodic timers: DNS health checks per record and gateway probes", () => {
    const w = world({
      durationUs: 60 * S,
      dns: [{ name: "api.example.com", ttlUs: S, records: [{ cluster: "a", namespace: "n", service: "s" }, { cluster: "b", namespace: "n", service: "s" }], healthCheck: { intervalUs: 10 * S, failureThreshold: 3 } }],
      links: [{ from: "a", to: "b", probePeriodUs: 3 * S, clusterName: "b" }],
    });
    // 2 records × 6 checks + 20 probes.
    expect(estimateEvents(w).ticks).toBe(2 * 6 + 20);
  });
});
