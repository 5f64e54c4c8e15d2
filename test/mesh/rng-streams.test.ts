// Random streams per entity and per purpose (README, "The determinism contract"): adding an
// unrelated workload shifts no other workload's draws, one client can reach a backend through two
// parents, and two runs that differ only in a route's policy see the same arrivals (common random
// numbers for A/B comparisons).

import { describe, expect, it } from "vitest";
import type { HttpRequest } from "../../src/mesh/http.js";
import { runWorldSpec, type ScenarioRun } from "../../src/scenario/run.js";
import type { WorldSpec } from "../../src/mesh/spec.js";
import { World } from "../../src/mesh/world.js";
import { specFromText } from "../support/spec-from-text.js";

const load = (text: string): WorldSpec => specFromText(text, "rng-streams.yaml");

interface Seen {
  run: ScenarioRun;
  /** Per traffic: each end-user request's start instant, in start order. */
  starts: Map<string, number[]>;
  /** Per traffic: `completion instant:status` of each end-user request, in completion order. */
  ends: Map<string, string[]>;
}

/** Run `spec`, keeping what each traffic's own requests (not apps' downstream calls) did. */
function observe(spec: WorldSpec): Seen {
  const targets = new Map(spec.traffic.map((t) => [t.name, t.to]));
  const own = (r: HttpRequest): boolean => {
    const to = targets.get(r.origin.traffic);
    return to !== undefined && to.includes(`//${r.authority.split(":")[0]}`);
  };
  const starts = new Map<string, number[]>();
  const ends = new Map<string, string[]>();
  const push = <T>(m: Map<string, T[]>, k: string, v: T): void => void (m.get(k) ?? m.set(k, []).get(k))?.push(v);
  const run = runWorldSpec(spec, {
    requests: {
      started: (atUs, r) => (own(r) ? push(starts, r.origin.traffic, atUs) : undefined),
      ended: (atUs, r, status) => (own(r) ? push(ends, r.origin.traffic, `${atUs}:${status}`) : undefined),
    },
  });
  return { run, starts, ends };
}

// ---- 1. an unrelated service changes nothing else -------------------------------------------------

/**
 * Client `a` calls service `x` in namespace `one` with random latencies everywhere (network, proxy
 * hops, the app), app errors, annotation retries with backoff, and a pod of `x` killed mid-run (the
 * Endpoints controller, the destination controller's pushes, reconnects). `withB` adds namespace
 * `two`: client `b` calling `y`, with its own errors, retries and pod kill at the same instants.
 */
function isolationScenario(withB: boolean): string {
  const retrying = (ns: string, svc: string) => `
      - apiVersion: gateway.networking.k8s.io/v1beta1
        kind: HTTPRoute
        metadata:
          name: ${svc}-route
          namespace: ${ns}
          annotations: {retry.linkerd.io/http: 5xx, retry.linkerd.io/limit: "2"}
        spec:
          parentRefs: [{name: ${svc}, kind: Service, group: core, port: 80}]
          rules: [{matches: [{path: {type: PathPrefix, value: /}}]}]`;
  return `name: isolation
seed: 5
duration: 40s
warmup: 1s
mesh:
  proxy: {latency: {dist: lognormal, median: 150us, p99: 600us}}
network:
  podToPod: {dist: lognormal, median: 200us, p99: 1ms}
clusters:
  - name: c
    services:
      - {name: a, namespace: one}
      - {name: x, namespace: one, replicas: 3}
${withB ? "      - {name: b, namespace: two}\n      - {name: y, namespace: two, replicas: 2}" : ""}
    objects:${retrying("one", "x")}${withB ? retrying("two", "y") : ""}
behavior:
  - select: {deployment: x}
    latency: {dist: lognormal, median: 5ms, p99: 30ms}
    errors: {rate: 0.05, status: 503}
${withB ? "  - select: {deployment: y}\n    latency: {dist: lognormal, median: 3ms, p99: 20ms}\n    errors: {rate: 0.1, status: 503}" : ""}
traffic:
  - {name: ta, from: {namespace: one, deployment: a}, to: "http://x.one.svc.cluster.local/", rate: 200/s}
${withB ? '  - {name: tb, from: {namespace: two, deployment: b}, to: "http://y.two.svc.cluster.local/", rate: 300/s}' : ""}
faults:
  - {at: 15s, killPods: {select: {namespace: one, deployment: x}}}
${withB ? "  - {at: 15s, killPods: {select: {namespace: two, deployment: y}}}\n  - {at: 25s, killPods: {select: {namespace: two, deployment: y}}}" : ""}
`;
}

describe("adding an unrelated service", () => {
  it("leaves every request of the existing traffic as it was: same completion instant, same status", () => {
    const alone = observe(load(isolationScenario(false)));
    const withB = observe(load(isolationScenario(true)));
    expect(alone.run.world.invariantViolations).toEqual([]);
    expect(withB.run.world.invariantViolations).toEqual([]);
    // The runs are not trivially alike: B sent traffic, and A's traffic saw retries and failures.
    expect(withB.ends.get("tb")?.length ?? 0).toBeGreaterThan(10_000);
    const a = alone.ends.get("ta") ?? [];
    expect(a.length).toBeGreaterThan(7_000);
    expect(alone.run.world.marks.get("retry.granted") ?? 0).toBeGreaterThan(100);
    expect(alone.run.world.marks.get("endpoints.updated") ?? 0).toBeGreaterThan(0);
    expect(withB.starts.get("ta")).toEqual(alone.starts.get("ta"));
    const b = withB.ends.get("ta") ?? [];
    const firstDiff = a.findIndex((v, i) => b[i] !== v);
    expect(firstDiff, `first differing completion of ta: #${firstDiff} ${a[firstDiff]} vs ${b[firstDiff]}`).toBe(-1);
    expect(b.length).toBe(a.length);
  });
});

// ---- 2. one client, one backend, two parents ------------------------------------------------------

/** `loadgen` calls `web` (a 90/10 TrafficSplit over web and web-canary) and `web-canary` directly. */
const CANARY_AND_DIRECT = `name: canary-and-direct
seed: 11
duration: 2m
warmup: 10s
clusters:
  - name: shop
    services:
      - {name: loadgen, namespace: shop}
      - {name: web, namespace: shop, replicas: 3}
      - {name: web-canary, namespace: shop}
    objects:
      - apiVersion: split.smi-spec.io/v1alpha2
        kind: TrafficSplit
        metadata: {name: web-split, namespace: shop}
        spec:
          service: web
          backends: [{service: web, weight: 90}, {service: web-canary, weight: 10}]
behavior:
  - select: {deployment: web}
    latency: {dist: lognormal, median: 8ms, p99: 40ms}
  - select: {deployment: web-canary}
    latency: {dist: lognormal, median: 12ms, p99: 80ms}
traffic:
  - {name: split, from: {namespace: shop, deployment: loadgen}, to: "http://web.shop.svc.cluster.local/", rate: 100/s}
  - {name: direct, from: {namespace: shop, deployment: loadgen}, to: "http://web-canary.shop.svc.cluster.local/", rate: 20/s}
`;

describe("a canary split plus a direct call to the canary from one client", () => {
  const seen = observe(load(CANARY_AND_DIRECT));

  it("runs: one balancer per (parent, backend), no invariant broken", () => {
    expect(seen.run.world.invariantViolations).toEqual([]);
    expect(seen.ends.get("direct")?.length ?? 0).toBeGreaterThan(2_000);
  });

  it("names each balancer by proxy, parent and backend, and shares no stream between entities", () => {
    const world = new World(load(CANARY_AND_DIRECT));
    world.run();
    const labels = world.sim.rngs.labels();
    const client = "shop/shop/loadgen-0";
    expect(labels.filter((l) => l.startsWith(`balancer/${client}/`))).toEqual([
      `balancer/${client}/shop/web-canary:80/shop/web-canary:80`,
      `balancer/${client}/shop/web:80/shop/web-canary:80`,
      `balancer/${client}/shop/web:80/shop/web:80`,
    ]);
    for (const l of [`proxy/${client}/distribute`, `net/${client}->shop/shop/web-canary-0`, "net/shop/shop/web-canary-0->" + client, "proxy/shop/shop/web-0/latency"]) {
      expect(labels).toContain(l);
    }
    // The world-wide streams of before are gone.
    for (const shared of ["net", "proxy-latency", "control-plane/shop", "endpoints-controller/shop", "smi-adaptor/shop", "traffic/split"]) {
      expect(labels).not.toContain(shared);
    }
  });

  it("gives the canary its 10 % of the split's requests, within ±4σ of the binomial", () => {
    // Each split request picks web-canary with p = 0.1, independently: over n requests the count
    // is Binomial(n, p), so the share is within p ± 4·sqrt(p(1 − p)/n) but for ~6e-5 of seeds.
    // No retries here (no route policy), so arrivals at each server are the split's picks.
    const window: [number, number] = [0, seen.run.spec.durationUs];
    const arrivals = (server: string): number => seen.run.world.metrics.query({ traffic: "split", server }, window).arrivals;
    const toCanary = arrivals("shop/shop/web-canary");
    const toWeb = arrivals("shop/shop/web");
    const total = toCanary + toWeb;
    expect(total).toBeGreaterThan(10_000);
    const p = 0.1;
    const sigma = Math.sqrt((p * (1 - p)) / total);
    expect(Math.abs(toCanary / total - p)).toBeLessThan(4 * sigma);
  });
});

// ---- 3. common random numbers for A/B comparisons -------------------------------------------------

function abScenario(retries: boolean): string {
  return `name: ab
seed: 9
duration: 20s
clusters:
  - name: c
    services:
      - {name: client, namespace: app}
      - {name: api, namespace: app, replicas: 2}
    objects:
      - apiVersion: gateway.networking.k8s.io/v1beta1
        kind: HTTPRoute
        metadata:
          name: api-route
          namespace: app
          ${retries ? 'annotations: {retry.linkerd.io/http: 5xx, retry.linkerd.io/limit: "2"}' : "annotations: {}"}
        spec:
          parentRefs: [{name: api, kind: Service, group: core, port: 80}]
          rules: [{matches: [{path: {type: PathPrefix, value: /}}]}]
behavior:
  - select: {deployment: api}
    latency: {dist: lognormal, median: 5ms, p99: 30ms}
    errors: {rate: 0.2, status: 503}
traffic:
  - name: load
    from: {namespace: app, deployment: client}
    to: "http://api.app.svc.cluster.local/"
    rate: 150/s
    requests: [{path: /a, weight: 3}, {path: /b, weight: 1}]
`;
}

describe("two policies compared on common random numbers", () => {
  it("sends the same requests at the same instants whether or not the route retries", () => {
    const without = observe(load(abScenario(false)));
    const withRetries = observe(load(abScenario(true)));
    expect((withRetries.run.world.marks.get("retry.granted") ?? 0) - (without.run.world.marks.get("retry.granted") ?? 0)).toBeGreaterThan(100);
    expect(without.starts.get("load")?.length ?? 0).toBeGreaterThan(2_000);
    expect(withRetries.starts.get("load")).toEqual(without.starts.get("load"));
  });
});
