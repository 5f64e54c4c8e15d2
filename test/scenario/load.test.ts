// A full scenario (the payments story of design/scenario-format.md, with tiny manifests) loads
// into the WorldSpec the simulator is built from; a minimal one gets every documented default; a
// linked two-cluster one turns its links and failover expectations into LinkSpecs and checks.

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { describeObject } from "../../src/k8s/object.js";
import type { WorldSpec } from "../../src/mesh/spec.js";
import { loadScenario } from "../../src/scenario/load.js";
import { lognormalFromMedianP99 } from "../../src/sim/distributions.js";
import { US_PER_MIN, US_PER_MS, US_PER_S } from "../../src/sim/time.js";
import { filesBelow, memoryReader, positionOf } from "./memory-reader.js";

/** The control-plane chain's documented defaults (src/scenario/schema.ts `mesh.controlPlane`). */
const CONTROL_PLANE_DEFAULTS = {
  endpointsDelay: { dist: "uniform", minUs: 5 * US_PER_MS, maxUs: 50 * US_PER_MS },
  watchDelay: { dist: "uniform", minUs: 1 * US_PER_MS, maxUs: 10 * US_PER_MS },
  smiAdaptorDelay: { dist: "uniform", minUs: 3 * US_PER_MS, maxUs: 30 * US_PER_MS },
  propagationDelay: { dist: "uniform", minUs: 50 * US_PER_MS, maxUs: 300 * US_PER_MS },
};
const RECONCILE_DEFAULT = { dist: "uniform", minUs: 2 * US_PER_MS, maxUs: 20 * US_PER_MS };

const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), "../fixtures/scenario/payments");
const SCENARIO = join(FIXTURE, "scenario.yaml");
const files = filesBelow(FIXTURE);

function load(opts = {}): WorldSpec {
  const r = loadScenario(SCENARIO, memoryReader(files), opts);
  if (!r.ok) throw new Error(JSON.stringify(r.errors, null, 1));
  return r.spec;
}

describe("the payments scenario", () => {
  const w = load();

  it("keeps identity, times and the seed as written", () => {
    expect(w.name).toBe("payments-region-loss");
    expect(w.description).toMatch(/^Auth degrades in us-east-1; .* us-west-2 auth service\.$/);
    expect(w.seed).toBe("1");
    expect(w.durationUs).toBe(15 * US_PER_MIN);
    expect(w.warmupUs).toBe(30 * US_PER_S);
  });

  it("--seed overrides the file's seed", () => {
    expect(load({ seed: "42" }).seed).toBe("42");
  });

  it("loads each cluster's manifests, inline objects and shorthand in that order", () => {
    const names = (i: number) => w.clusters[i]?.objects.map(describeObject);
    expect(names(0)).toEqual([
      "Deployment payments/auth",
      "Service payments/auth",
      "Namespace payments",
      "TrafficSplit payments/auth",
      "Deployment payments/checkout",
      "Service payments/checkout",
      "Namespace default",
      "Deployment default/server",
      "Service default/server",
    ]);
    expect(names(1)).toEqual(["Deployment payments/auth", "Service payments/auth", "Namespace payments", "Deployment payments/fraud"]);
  });

  it("positions manifest objects in their files and inline objects in the scenario", () => {
    const fraud = w.clusters[1]?.objects[3];
    const text = files[SCENARIO] as string;
    expect(fraud?.source).toEqual({ file: "scenario.yaml", ...positionOf(text, "apiVersion: apps/v1") });
    expect(fraud?.positionOf(["spec", "replicas"])).toEqual({ file: "scenario.yaml", ...positionOf(text, "2}") });
    expect(w.clusters[0]?.objects[0]?.source).toEqual({ file: "manifests/common/auth.yaml", line: 1, col: 1 });
  });

  it("gives each cluster its trust anchor and domain, defaulting to the mesh's", () => {
    expect(w.clusters.map((c) => [c.name, c.trustAnchor, c.domain])).toEqual([
      ["us-east-1", "root-a", "cluster.local"],
      ["us-west-2", "root-b", "west.local"],
    ]);
  });

  it("parses mesh settings, filling the ramp's unwritten parameters with their defaults", () => {
    expect(w.mesh).toEqual({
      trustAnchor: "root-a",
      proxyLatency: { dist: "constant", valueUs: 150 },
      controlPlane: CONTROL_PLANE_DEFAULTS,
      // window and minSamples as written; threshold 0.9, step 0.25 and interval 1s are the schema's defaults.
      failover: { mode: "success-rate-ramp", reconcileDelay: RECONCILE_DEFAULT, successRate: { windowUs: 30 * US_PER_S, threshold: 0.9, step: 0.25, intervalUs: US_PER_S, minSamples: 50 } },
      identity: { issuerValidityUs: 8760 * 3_600_000_000, leafLifetimeUs: 24 * 3_600_000_000 },
      gateway: { concurrency: 500 },
    });
  });

  it("parses network distributions into kernel specs", () => {
    expect(w.network).toEqual({
      podToPod: { dist: "lognormal", ...lognormalFromMedianP99(200, 1000) },
      between: [{ clusters: ["us-east-1", "us-west-2"], latency: { dist: "normal", meanUs: 31 * US_PER_MS, stddevUs: 2 * US_PER_MS } }],
    });
  });

  it("fills behaviour defaults around what was written", () => {
    expect(w.behavior[0]).toEqual({
      select: { namespace: "payments", deployment: "auth" },
      concurrency: 16,
      queueLimit: 256,
      latency: { dist: "lognormal", ...lognormalFromMedianP99(4 * US_PER_MS, 25 * US_PER_MS) },
      routes: [{ match: { method: "POST", path: "/capture" }, latency: { dist: "lognormal", ...lognormalFromMedianP99(12 * US_PER_MS, 60 * US_PER_MS) }, sideEffect: true }],
      errors: { rate: 0.001, status: 503 },
      calls: [],
      callMode: "sequential",
    });
    expect(w.behavior[1]).toEqual({
      select: { deployment: "checkout" },
      concurrency: 32,
      queueLimit: 512,
      latency: { dist: "exponential", meanUs: US_PER_MS },
      routes: [],
      errors: { rate: 0, status: 500 },
      calls: [{ to: "http://auth.payments.svc.cluster.local/verify", method: "GET", required: true }],
      callMode: "parallel",
    });
  });

  it("turns traffic into arrival processes, rate schedules and request mixes", () => {
    expect(w.traffic[0]).toEqual({
      name: "checkout",
      from: { cluster: "us-east-1", namespace: "payments", deployment: "checkout" },
      to: "http://auth.payments.svc.cluster.local:80",
      arrivals: { kind: "poisson" },
      rate: [{ atUs: 0, rateRps: 1500 }],
      requests: [
        { method: "GET", path: "/verify", weight: 4, bodyBytes: 0 },
        { method: "POST", path: "/capture", weight: 1, bodyBytes: 2048 },
      ],
    });
  });

  it("takes the client cluster, request and schedule defaults from the rest of the file", () => {
    const browse = w.traffic[1];
    expect(browse?.from.cluster).toBe("us-east-1");
    expect(browse?.requests).toEqual([{ method: "GET", path: "/cart", weight: 1, bodyBytes: 0 }]);
    // Silent until the first point; a ramp starts from the rate in effect.
    expect(browse?.rate).toEqual([
      { atUs: 0, rateRps: 0 },
      { atUs: 1 * US_PER_MIN, rateRps: 100 },
      { atUs: 5 * US_PER_MIN, rateRps: 100, rampToRps: 300, overUs: 1 * US_PER_MIN },
      { atUs: 10 * US_PER_MIN, rateRps: 50 },
    ]);
  });

  it("turns faults into timed actions, with params substituted keeping their type", () => {
    expect(w.faults).toEqual([
      { atUs: 5 * US_PER_MIN, untilUs: 10 * US_PER_MIN, action: { kind: "degrade", select: { cluster: "us-east-1", deployment: "auth" }, errorRate: 0.5, latencyFactor: 4 } },
      { atUs: 12 * US_PER_MIN, action: { kind: "clusterLoss", cluster: "us-west-2" } },
      { atUs: 13 * US_PER_MIN, action: { kind: "latency", between: ["us-east-1", "us-west-2"], addUs: 20 * US_PER_MS } },
    ]);
  });

  it("turns links into mirrors with a probe period of 3s and the target's name unless written", () => {
    expect(w.links).toEqual([
      { from: "us-east-1", to: "us-west-2", probePeriodUs: 3 * US_PER_S, clusterName: "us-west-2" },
      { from: "us-west-2", to: "us-east-1", probePeriodUs: 10 * US_PER_S, clusterName: "east" },
    ]);
  });

  it("turns expectations into checks, windows defaulting to [warmup, duration]", () => {
    expect(w.expect).toEqual([
      { name: "failover completes in single-digit seconds", kind: "failover", trafficSplit: "payments/auth", cluster: "us-east-1", afterUs: 5 * US_PER_MIN, at: "patched", withinUs: 10 * US_PER_S },
      { name: "no capture fails during the degradation", kind: "metric", metric: "failed", where: { traffic: "checkout", route: "POST /capture" }, window: [5 * US_PER_MIN, 10 * US_PER_MIN], bound: { equals: 0 } },
      { name: "retries add at most 10% plus the free floor", kind: "metric", metric: "retryRatio", where: { client: "us-east-1/payments/checkout", service: "auth" }, window: [30 * US_PER_S, 15 * US_PER_MIN], bound: { atMost: 0.12 } },
      { name: "the budget runs dry at least once", kind: "reached", mark: "retry.skipped/budget-exhausted", bound: { atLeast: 1 } },
    ]);
    expect(w.report).toEqual({ timelineUs: US_PER_S, charts: ["rps", "successRate", "latency", "retries", "weights", "gateways"] });
  });

  it("loads without warnings: links and failover expectations are simulated", () => {
    const r = loadScenario(SCENARIO, memoryReader(files));
    expect(r.ok ? r.warnings : r.errors).toEqual([]);
  });

  it("--set overrides a param everywhere it is used", () => {
    expect(load({ set: { rate: "90/m" } }).traffic[0]?.rate).toEqual([{ atUs: 0, rateRps: 1.5 }]);
  });
});

describe("a minimal scenario", () => {
  const yaml = `name: hello
seed: 7
duration: 10s
clusters:
  - name: local
    services:
      - {name: client}
      - {name: server, replicas: 2}
traffic:
  - name: hello
    from: {namespace: default, deployment: client}
    to: http://server.default.svc.cluster.local/hello
    rate: 100
`;
  const r = loadScenario("/m/hello.yaml", memoryReader({ "/m/hello.yaml": yaml }));
  const w = r.ok ? r.spec : undefined;

  it("loads", () => expect(r.ok ? [] : r.errors).toEqual([]));

  it("gets the documented mesh, network and report defaults", () => {
    expect(w?.warmupUs).toBe(0);
    expect(w?.description).toBe("");
    expect(w?.mesh).toEqual({
      trustAnchor: "root",
      proxyLatency: { dist: "constant", valueUs: 150 },
      controlPlane: CONTROL_PLANE_DEFAULTS,
      failover: { mode: "readiness", reconcileDelay: RECONCILE_DEFAULT, successRate: { windowUs: 10 * US_PER_S, threshold: 0.9, step: 0.25, intervalUs: US_PER_S, minSamples: 20 } },
      identity: { issuerValidityUs: 8760 * 3_600_000_000, leafLifetimeUs: 24 * 3_600_000_000 },
      gateway: { concurrency: 10_000 },
    });
    expect(w?.links).toEqual([]);
    expect(w?.network).toEqual({ podToPod: { dist: "lognormal", ...lognormalFromMedianP99(200, 1000) }, between: [] });
    expect(w?.clusters[0]).toMatchObject({ trustAnchor: "root", domain: "cluster.local" });
    expect(w?.report).toEqual({ timelineUs: US_PER_S, charts: ["rps", "successRate", "latency", "retries"] });
    expect([w?.behavior, w?.faults, w?.expect]).toEqual([[], [], []]);
  });

  it("reads a plain number as requests per second and defaults the rest of the traffic", () => {
    expect(w?.traffic[0]).toEqual({
      name: "hello",
      from: { cluster: "local", namespace: "default", deployment: "client" },
      to: "http://server.default.svc.cluster.local/hello",
      arrivals: { kind: "poisson" },
      rate: [{ atUs: 0, rateRps: 100 }],
      requests: [{ method: "GET", path: "/hello", weight: 1, bodyBytes: 0 }],
    });
  });
});

describe("a linked two-cluster scenario", () => {
  const yaml = `name: linked
seed: 2
duration: 10m
clusters:
  - name: east
    services: [{name: auth, namespace: payments}]
    objects:
      - apiVersion: split.smi-spec.io/v1alpha2
        kind: TrafficSplit
        metadata: {name: auth, namespace: payments}
        spec: {service: auth, backends: [{service: auth, weight: 1}, {service: auth-west, weight: 0}]}
  - name: west
    services: [{name: auth, namespace: payments}]
links:
  - {from: east, to: west}
  - {from: west, to: east, probePeriod: 500ms, clusterName: primary}
expect:
  - name: fails over within ten seconds of the degradation
    failover: {trafficSplit: payments/auth, cluster: east, after: 2m, within: 10s}
  - name: keeps the primary before the degradation
    failover: {trafficSplit: payments/auth, cluster: east, after: 1m30s, never: true}
`;
  const r = loadScenario("/l/linked.yaml", memoryReader({ "/l/linked.yaml": yaml }));
  const w = r.ok ? r.spec : undefined;

  it("loads without warnings", () => expect(r.ok ? r.warnings : r.errors).toEqual([]));

  it("mirrors each link's target, probing every 3s under the target's name unless written", () => {
    expect(w?.links).toEqual([
      { from: "east", to: "west", probePeriodUs: 3 * US_PER_S, clusterName: "west" },
      { from: "west", to: "east", probePeriodUs: 500 * US_PER_MS, clusterName: "primary" },
    ]);
  });

  it("turns failover expectations into failover checks measured from after", () => {
    expect(w?.expect).toEqual([
      { name: "fails over within ten seconds of the degradation", kind: "failover", trafficSplit: "payments/auth", cluster: "east", afterUs: 2 * US_PER_MIN, at: "patched", withinUs: 10 * US_PER_S },
      { name: "keeps the primary before the degradation", kind: "failover", trafficSplit: "payments/auth", cluster: "east", afterUs: 90 * US_PER_S, at: "patched", never: true },
    ]);
  });

  it("explains links and failover expectations in the scenario's own words, defaults filled in", () => {
    expect(r.ok && r.explain["links"]).toEqual([
      { from: "east", to: "west", probePeriod: "3s", clusterName: "west" },
      { from: "west", to: "east", probePeriod: "500ms", clusterName: "primary" },
    ]);
    expect(r.ok && r.explain["expect"]).toEqual([
      { name: "fails over within ten seconds of the degradation", failover: { trafficSplit: "payments/auth", cluster: "east", after: "2m", at: "patched", within: "10s" }, seeds: { atLeast: 1 } },
      { name: "keeps the primary before the degradation", failover: { trafficSplit: "payments/auth", cluster: "east", after: "1m30s", at: "patched", never: true }, seeds: { atLeast: 1 } },
    ]);
  });
});
