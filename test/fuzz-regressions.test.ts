// Causes the structure-aware fuzzer (test/fuzz, `npm run fuzz`) found, each as the smallest
// scenario that showed it.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runScenarioText } from "../src/api/run-scenario.js";
import { runScenario } from "../src/index.js";

function run(yaml: string, maxEvents?: number) {
  return runScenarioText(yaml, process.cwd(), maxEvents === undefined ? {} : { maxEvents });
}

const errorsOf = (yaml: string, maxEvents?: number): string[] => {
  const r = run(yaml, maxEvents);
  return r.ok ? [] : r.errors.map((e) => `${e.line}:${e.col} ${e.path}: ${e.message}${e.expected === undefined ? "" : ` (expected ${e.expected})`}`);
};

describe("a multicluster gateway lost with requests in flight", () => {
  // West is lost while the gateway is forwarding east's calls to west's auth. The gateway's
  // forwarder cleared its in-flight set before answering, so those requests were never answered
  // at the gateway and the conservation invariant broke (exit 3).
  const scenario = `name: gateway-lost-with-requests-in-flight
seed: 21
duration: 2s
clusters:
  - name: east
    services:
      - {name: checkout, namespace: payments}
  - name: west
    objects:
      - apiVersion: v1
        kind: Namespace
        metadata: {name: payments, annotations: {linkerd.io/inject: enabled}}
      - apiVersion: apps/v1
        kind: Deployment
        metadata: {name: auth, namespace: payments}
        spec:
          replicas: 2
          selector: {matchLabels: {app: auth}}
          template:
            metadata: {labels: {app: auth}}
            spec: {containers: [{name: auth, image: auth}]}
      - apiVersion: v1
        kind: Service
        metadata: {name: auth, namespace: payments, labels: {mirror.linkerd.io/exported: "true"}}
        spec: {selector: {app: auth}, ports: [{port: 80}]}
links:
  - {from: east, to: west}
behavior:
  - select: {deployment: auth}
    latency: {dist: lognormal, median: 4ms, p99: 25ms}
traffic:
  - {name: checkout, from: {cluster: east, namespace: payments, deployment: checkout}, to: "http://auth-west.payments.svc.cluster.local/verify", rate: 300/s}
faults:
  - {at: 500ms, clusterLoss: {cluster: west}}
`;

  it("answers them with the reset, so every request is accounted for", () => {
    const r = run(scenario);
    if (!r.ok) throw new Error(r.errors.map((e) => e.message).join("\n"));
    expect(r.run.world.invariantViolations).toEqual([]);
    expect(r.run.world.marks.get("pod.killed/cluster-lost")).toBeGreaterThan(0);
  });
});

describe("a workload whose selector does not select its own pod template", () => {
  const deployment = (templateLabels: string) => `name: t
seed: 1
duration: 1s
clusters:
  - name: c
    objects:
      - apiVersion: apps/v1
        kind: Deployment
        metadata: {name: auth, namespace: default}
        spec:
          selector: {matchLabels: {app: auth}}
          template:
            metadata: {labels: ${templateLabels}}
            spec: {containers: [{name: auth, image: auth}]}
`;

  it("is refused at its template labels, as the API server refuses it", () => {
    expect(errorsOf(deployment('{app: ""}'))).toEqual([
      '13:24 clusters[0].objects[0].spec.template.metadata.labels: Deployment default/auth: spec.selector.matchLabels asks for app: "auth" but the pod template has app: "": ' +
        "the API server refuses the object (`selector` does not match template `labels`) " +
        '(expected pod template labels that include every matchLabels entry (app: "auth"))',
    ]);
    expect(errorsOf(deployment("{tier: web}"))[0]).toContain("but the pod template has no label app");
  });

  it("loads when the template carries every matchLabels entry, and others besides", () => {
    expect(errorsOf(deployment("{app: auth, tier: web}"))).toEqual([]);
  });
});

describe("the event guard and the cost of starting many pods", () => {
  // 65 536 replicas were estimated at 20 events a pod and let through a small guard, yet starting
  // them lists every replica once per replica (the Endpoints controller's sync): minutes of CPU.
  const replicas = (n: number) =>
    `name: t\nseed: 1\nduration: 1s\nclusters:\n  - name: c\n    services:\n      - {name: api, namespace: app, replicas: ${n}}\n      - {name: client, namespace: app}\n` +
    `traffic:\n  - {name: calls, from: {namespace: app, deployment: client}, to: "http://api.app.svc.cluster.local/", rate: 10/s}\n`;

  it("counts replicas² / 100 events for starting a workload's pods, and refuses what exceeds the limit", () => {
    const errors = errorsOf(replicas(65_536), 2e6);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^3:1 duration: this scenario would take about 4\.4e7 events .*65537 pods.*more than the limit of 2\.0e6/);
  });

  it("lets a thousand replicas through the same limit", () => {
    expect(errorsOf(replicas(1_000), 2e6)).toEqual([]);
  });

  it("counts the pods a change applies during the run", () => {
    // A Deployment of 2^31 − 1 replicas applied at 500ms passed the guard, which read only the
    // objects the run starts with, and the run never finished creating its pods.
    const change = `${replicas(1)}changes:
  - at: 500ms
    apply:
      - apiVersion: apps/v1
        kind: Deployment
        metadata: {name: big, namespace: app}
        spec:
          replicas: 2147483647
          selector: {matchLabels: {app: big}}
          template:
            metadata: {labels: {app: big}}
            spec: {containers: [{name: big, image: big}]}
`;
    expect(errorsOf(change)).toEqual([
      "3:1 duration: this scenario would run 2.1e9 pods (replicas, DaemonSet pods on every node, scale faults), more than the limit of 200000; lower the replica counts",
    ]);
  });

  it("counts the arrivals Poisson thinning draws after the rate drops to 0", () => {
    // 48 requests in the first seconds, then rate 0 for 2400 h: the generator still draws
    // candidates at the peak rate to the end (8.6e7 events) while the guard counted 48 requests.
    const idle = replicas(1)
      .replace("duration: 1s", "duration: 2400h")
      .replace("rate: 10/s}", "rate: [{at: 0s, rate: 10/s}, {at: 5s, rate: 0}]}");
    expect(errorsOf(idle, 2e6)).toEqual([expect.stringMatching(/^3:1 duration: this scenario would take about 8\.6e7 events \(50 requests.* 8\.6e7 probe and timer ticks\)/)]);
  });
});

describe("an Erlang distribution of billions of stages", () => {
  // `k: 4294967296` passed validation, and every draw summed k exponential stages: the first
  // proxy update never finished sampling.
  const erlang = (k: number) => `name: t
seed: 1
duration: 1s
mesh:
  controlPlane:
    propagationDelay: {dist: erlang, k: ${k}, mean: 1ms}
clusters:
  - name: c
    services:
      - {name: api, namespace: app}
      - {name: client, namespace: app}
traffic:
  - {name: calls, from: {namespace: app, deployment: client}, to: "http://api.app.svc.cluster.local/", rate: 20/s}
`;

  it("is refused at k, with the largest k accepted", () => {
    expect(errorsOf(erlang(4_294_967_296))).toEqual([
      "6:41 mesh.controlPlane.propagationDelay.k: erlang: k 4294967296 is too many stages (each draw sums k exponential stages, so a run would spend its time sampling) " +
        "(expected an integer k from 1 to 1000; for a nearly fixed time use {dist: normal, mean, stddev} or a constant)",
    ]);
  });

  it("runs with k = 1000", () => {
    expect(errorsOf(erlang(1000))).toEqual([]);
  });
});

describe("ServiceProfile values at the edge of what the proxy accepts", () => {
  const profile = (route: string, budget: string) => `name: t
seed: 1
duration: 2s
clusters:
  - name: c
    services:
      - {name: api, namespace: app}
      - {name: client, namespace: app}
    objects:
      - apiVersion: linkerd.io/v1alpha2
        kind: ServiceProfile
        metadata: {name: api.app.svc.cluster.local, namespace: app}
        spec:
          routes:
            - {name: all, condition: {pathRegex: "/.*"}, isRetryable: true${route}}
          retryBudget: ${budget}
behavior:
  - select: {deployment: api}
    errors: {rate: 0.5}
traffic:
  - {name: calls, from: {namespace: app, deployment: client}, to: "http://api.app.svc.cluster.local/", rate: 50/s}
`;

  it("minRetriesPerSecond of exactly i32::MAX is an invalid budget, not a stopped model", () => {
    // Linkerd's own check lets 2147483647 through (≤ i32::MAX) but tower's Budget::new asserts
    // below it; the budget reached the tower port and the run stopped (exit 3).
    const r = run(profile("", "{retryRatio: 0.2, minRetriesPerSecond: 2147483647, ttl: 10s}"));
    if (!r.ok) throw new Error(r.errors.map((e) => e.message).join("\n"));
    expect(r.run.world.invariantViolations).toEqual([]);
    const invalid = r.findings.diagnostics.filter((d) => d.code === "profile-retry-budget-invalid");
    expect(invalid.map((d) => d.message)).toEqual([expect.stringContaining("passes the proxy's own check but tower's Budget::new asserts it is below 2147483647: the proxy panics")]);
  });

  it("a route timeout of centuries is a timeout that never fires", () => {
    // `timeout: 9007199254740993us` is a valid Go duration; route entry + timeout was past the
    // kernel's integer clock and the run stopped (exit 3).
    const r = run(profile(", timeout: 9007199254740993us", "{retryRatio: 0.2, minRetriesPerSecond: 10, ttl: 10s}"));
    if (!r.ok) throw new Error(r.errors.map((e) => e.message).join("\n"));
    expect(r.run.world.invariantViolations).toEqual([]);
    expect(r.run.world.marks.get("route.timed-out") ?? 0).toBe(0);
  });
});

describe("annotation timeouts of centuries", () => {
  const route = (annotation: string) => `name: t
seed: 1
duration: 2s
clusters:
  - name: c
    services:
      - {name: api, namespace: app}
      - {name: client, namespace: app}
    objects:
      - apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata:
          name: api
          namespace: app
          annotations: {retry.linkerd.io/http: 5xx, ${annotation}}
        spec:
          parentRefs: [{name: api, kind: Service, group: core, port: 80}]
          rules: [{matches: [{path: {type: PathPrefix, value: /}}]}]
behavior:
  - select: {deployment: api}
    errors: {rate: 0.5}
traffic:
  - {name: calls, from: {namespace: app, deployment: client}, to: "http://api.app.svc.cluster.local/", rate: 50/s}
`;

  // 2562047h is the largest whole-hour Go duration; now + it was past the kernel's integer clock.
  it.each(["retry.linkerd.io/timeout", "timeout.linkerd.io/response", "timeout.linkerd.io/request"])("%s: 2562047h never fires", (key) => {
    const r = run(route(`${key}: 2562047h`));
    if (!r.ok) throw new Error(r.errors.map((e) => e.message).join("\n"));
    expect(r.run.world.invariantViolations).toEqual([]);
    expect(r.run.world.requests).toBeGreaterThan(50);
  });
});

describe("the success-rate ramp on a split whose primary is not one of its backends", () => {
  // The annotation names the apex \`api\` as primary, which the split does not list; the backend
  // \`Bad_Name\` is no DNS name, so proxies keep calling the apex and the ramp sees it fail. Its
  // patch then wrote \`api\` into spec.backends, and the patched-split invariant broke (exit 3).
  const scenario = `name: ramp-primary-not-a-backend
seed: 1
duration: 3s
mesh:
  failover: {mode: success-rate-ramp, successRate: {window: 1s, interval: 250ms, minSamples: 5}}
clusters:
  - name: c
    services:
      - {name: client, namespace: app}
      - {name: api, namespace: app}
      - {name: api-v1, namespace: app}
      - {name: api-v2, namespace: app}
    objects:
      - apiVersion: split.smi-spec.io/v1alpha2
        kind: TrafficSplit
        metadata:
          name: api
          namespace: app
          annotations: {failover.linkerd.io/primary-service: api}
          labels: {failover.linkerd.io/controlled-by: linkerd-failover}
        spec:
          service: api
          backends:
            - {service: Bad_Name, weight: 1}
            - {service: api-v2, weight: 0}
behavior:
  - select: {deployment: api}
    errors: {rate: 1, status: 503}
traffic:
  - {name: calls, from: {namespace: app, deployment: client}, to: "http://api.app.svc.cluster.local/", rate: 50/s}
`;

  it("leaves the split alone instead of patching a backend in", () => {
    const r = run(scenario);
    if (!r.ok) throw new Error(r.errors.map((e) => e.message).join("\n"));
    expect(r.run.world.invariantViolations).toEqual([]);
    expect(r.run.world.splitUpdates).toEqual([]);
  });
});

describe("durations longer than the clock can hold", () => {
  // 9007199254740993us is a valid Go duration (under 2^63 ns) but past 2^53 µs. Flagger scheduled
  // its next analysis there, and a Link object's gateway probe its next probe, and the kernel
  // refused the instant (exit 3, or an internal error while the world was built). Such an event
  // can never come: the kernel now schedules nothing.
  const scenario = `name: flagger-huge-interval
seed: 1
duration: 5s
clusters:
  - name: c
    services:
      - {name: web, namespace: shop, replicas: 2}
      - {name: loadgen, namespace: shop}
    objects:
      - apiVersion: flagger.app/v1beta1
        kind: Canary
        metadata: {name: web, namespace: shop}
        spec:
          provider: linkerd
          targetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
          service: {port: 80}
          analysis: {interval: 9007199254740993us, threshold: 5, maxWeight: 50, stepWeight: 10}
traffic:
  - {name: users, from: {namespace: shop, deployment: loadgen}, to: "http://web.shop.svc.cluster.local/", rate: 10/s}
`;
  it("runs: Flagger runs at t = 0 and its next run never comes", () => {
    const r = run(scenario);
    if (!r.ok) throw new Error(r.errors.map((e) => e.message).join("\n"));
    expect(r.run.world.invariantViolations).toEqual([]);
    expect(r.run.world.marks.get("flagger.event")).toBeGreaterThan(0);
  });

  it("runs with a Link object whose probe period is that long: the first probe never comes", () => {
    const text = readFileSync(join(process.cwd(), "test/fixtures/mesh/link-object.yaml"), "utf8");
    const huge = text.replace("period: 3s}", "period: 9007199254740993us}").replace(/^expect:[\s\S]*$/m, "");
    expect(huge).toContain("9007199254740993us");
    const r = run(huge);
    if (!r.ok) throw new Error(r.errors.map((e) => e.message).join("\n"));
    expect(r.run.world.invariantViolations).toEqual([]);
  });
});

describe("a gateway probe period far below a millisecond", () => {
  // The event estimate floored every timer period at 1 ms, so a 1 µs probe period (2 M probes in
  // 2 s) ran past the guard's estimate of 12 188 events instead of being refused up front.
  const scenario = `name: link-probe-every-microsecond
seed: 1
duration: 2s
clusters:
  - name: east
    services: [{name: checkout, namespace: payments}]
  - name: west
    services: [{name: auth, namespace: payments}]
links:
  - {from: east, to: west, probePeriod: 1us}
`;
  it("is refused by the event guard, with the probe ticks counted", () => {
    const errors = errorsOf(scenario, 200_000);
    expect(errors.join("\n")).toMatch(/2\.0e6 probe and timer ticks/);
  });
});

describe("the success-rate ramp over a split that lists its primary twice", () => {
  // test/fixtures/fuzz/ramp-repeated-backend.yaml says what broke: the ramp's patch dropped the
  // repeated backend, and the checker of patched splits flagged it (exit 3).
  it("patches the weights over the split's own list: no invariant breaks", () => {
    const r = runScenario(join(process.cwd(), "test/fixtures/fuzz/ramp-repeated-backend.yaml"));
    if (!r.ok) throw new Error(r.errors.map((e) => e.message).join("\n"));
    expect(r.run.world.invariantViolations).toEqual([]);
    // The ramp did patch: the degradation starts at 1s and the ramp moves weight.
    expect(r.run.world.splitUpdates.length).toBeGreaterThan(0);
  });
});

