// Configuration changes on the timeline, end to end: each kind of change goes through the API
// server and reaches what reads it through the same chain as the objects the run starts with. Every
// hop of the control plane is a constant here, so the instant a proxy gets its new config is exact:
// a TrafficSplit at + watch + SMI adaptor + push; a Service or route at + watch + push; a selector
// at + watch + Endpoints sync + push; a workload at + watch + pod start.

import { describe, expect, it } from "vitest";
import { metric } from "../../src/api/query.js";
import { runScenarioText } from "../../src/api/run-scenario.js";
import type { ChangeRecord } from "../../src/mesh/changes.js";
import { POD_START_US } from "../../src/mesh/defaults.js";
import { loadScenario } from "../../src/scenario/load.js";
import { runWorldSpec } from "../../src/scenario/run.js";
import { Trace } from "../../src/sim/trace.js";
import { memoryReader } from "../scenario/memory-reader.js";

const HOPS = { endpointsMs: 7, watchMs: 3, smiMs: 13, pushMs: 17 };
const AT_US = 5_000_000;

/** web (2 pods) and web-canary behind a 100/0 TrafficSplit, loadgen (2 pods) calling web; `changes` and `extra` appended. */
function scenario(changes: string, extra = ""): string {
  return `name: changes
seed: 1
duration: 12s
mesh:
  controlPlane:
    endpointsDelay: {dist: constant, value: ${HOPS.endpointsMs}ms}
    watchDelay: {dist: constant, value: ${HOPS.watchMs}ms}
    smiAdaptorDelay: {dist: constant, value: ${HOPS.smiMs}ms}
    propagationDelay: {dist: constant, value: ${HOPS.pushMs}ms}
clusters:
  - name: c
    services:
      - {name: web, namespace: shop, replicas: 2}
      - {name: web-canary, namespace: shop}
      - {name: loadgen, namespace: shop, replicas: 2}
    objects:
      - apiVersion: split.smi-spec.io/v1alpha2
        kind: TrafficSplit
        metadata: {name: web-split, namespace: shop}
        spec: {service: web, backends: [{service: web, weight: 100}, {service: web-canary, weight: 0}]}
behavior:
  - {select: {deployment: web}, latency: 1ms}
  - {select: {deployment: web-canary}, latency: 1ms}
traffic:
  - {name: t, from: {namespace: shop, deployment: loadgen}, to: "http://web.shop.svc.cluster.local/", rate: 100/s}
changes:
${changes}
${extra}`;
}

interface Outcome {
  run: ReturnType<typeof runWorldSpec>;
  /** Trace records, parsed. */
  records: Array<Record<string, unknown> & { t: number; kind: string }>;
  change: ChangeRecord;
}

function simulate(yaml: string): Outcome {
  const file = "/s/scenario.yaml";
  const loaded = loadScenario(file, memoryReader({ [file]: yaml }));
  if (!loaded.ok) throw new Error(loaded.errors.map((e) => `${e.line}:${e.col} ${e.path}: ${e.message}`).join("\n"));
  const records: Outcome["records"] = [];
  const run = runWorldSpec(loaded.spec, { trace: new Trace((line) => records.push(JSON.parse(line))) });
  expect(run.world.invariantViolations).toEqual([]);
  return { run, records, change: run.world.changes[0] as ChangeRecord };
}

/** Instants (µs) at which loadgen's proxies took a new config for web. */
function configUpdates(o: Outcome): number[] {
  return o.records.filter((r) => r.kind === "proxy.config-updated" && String(r["pod"]).startsWith("loadgen") && String(r["service"]).startsWith("shop/web:")).map((r) => r.t);
}

// Windows start on whole seconds: metrics are kept per 1-s bucket, which a window not named by an
// expectation is measured in.
const share = (o: Outcome, window: [string, string]): { canary: number; total: number } => ({
  canary: metric(o.run, "requests", { server: "c/shop/web-canary" }, window) ?? 0,
  total: metric(o.run, "requests", { traffic: "t" }, window) ?? 0,
});

describe("a TrafficSplit change", () => {
  const patch = `  - at: 5s
    patch: {kind: TrafficSplit, name: web-split, namespace: shop, merge: {spec: {backends: [{service: web, weight: 0}, {service: web-canary, weight: 100}]}}}`;

  it("reaches every proxy after the adaptor's watch and sync and the destination controller's push, not before", () => {
    const o = simulate(scenario(patch));
    const expected = AT_US + (HOPS.watchMs + HOPS.smiMs + HOPS.pushMs) * 1000;
    expect(configUpdates(o).filter((t) => t >= AT_US)).toEqual([expected, expected]);
    expect(o.change).toMatchObject({ atUs: AT_US, entry: "changes[0]", change: "patch TrafficSplit shop/web-split", seenAtUs: AT_US + (HOPS.watchMs + HOPS.smiMs) * 1000, proxiesUpdatedAtUs: expected });
    expect(share(o, ["0s", "5s"]).canary).toBe(0);
    const after = share(o, ["6s", "12s"]);
    expect(after.canary).toBe(after.total);
    expect(after.total).toBeGreaterThan(500);
  });

  it("made while the control plane is down, reaches proxies one push after it is back", () => {
    const o = simulate(scenario(patch, "faults:\n  - {at: 4s, until: 7s, controlPlaneDown: {cluster: c}}\n"));
    expect(configUpdates(o).filter((t) => t >= AT_US)).toEqual([7_000_000 + HOPS.pushMs * 1000, 7_000_000 + HOPS.pushMs * 1000]);
    expect(o.change.pushDeferred).toBe(true);
    expect(o.change.proxiesUpdatedAtUs).toBeUndefined();
  });

  it("applied anew replaces the split; deleted, it takes the dstOverrides off with it", () => {
    const apply = `  - at: 5s
    apply:
      - apiVersion: split.smi-spec.io/v1alpha2
        kind: TrafficSplit
        metadata: {name: web-split, namespace: shop}
        spec: {service: web, backends: [{service: web, weight: 0}, {service: web-canary, weight: 1}]}
  - at: 8s
    delete: {kind: TrafficSplit, name: web-split, namespace: shop}`;
    const o = simulate(scenario(apply));
    const chain = (HOPS.watchMs + HOPS.smiMs + HOPS.pushMs) * 1000;
    expect(configUpdates(o).filter((t) => t >= AT_US)).toEqual([AT_US + chain, AT_US + chain, 8_000_000 + chain, 8_000_000 + chain]);
    const during = share(o, ["6s", "8s"]);
    expect(during.canary).toBe(during.total);
    expect(share(o, ["9s", "12s"]).canary).toBe(0);
    expect(o.run.world.marks.get("smi.profile-written/traffic-split-deleted")).toBe(1);
  });
});

describe("Service, route and profile changes", () => {
  it("a Service annotation reaches proxies after the policy controller's watch and push: retries start then", () => {
    const yaml = scenario(
      `  - at: 5s
    delete: {kind: TrafficSplit, name: web-split, namespace: shop}
  - at: 6s
    annotate: {kind: Service, name: web, namespace: shop, set: {retry.linkerd.io/http: 5xx, retry.linkerd.io/limit: 2}}`,
    ).replace("{select: {deployment: web}, latency: 1ms}", "{select: {deployment: web}, latency: 1ms, errors: {rate: 0.3, status: 503}}");
    const o = simulate(yaml);
    const annotated = o.run.world.changes[1] as ChangeRecord;
    expect(annotated.change).toBe("annotate Service shop/web");
    expect(annotated.proxiesUpdatedAtUs).toBe(6_000_000 + (HOPS.watchMs + HOPS.pushMs) * 1000);
    expect(metric(o.run, "retries", { traffic: "t" }, ["0s", "6s"])).toBe(0);
    expect(metric(o.run, "retries", { traffic: "t" }, ["7s", "12s"])).toBeGreaterThan(100);
  });

  it("an HTTPRoute applied at 5s routes from at + watch + push", () => {
    const o = simulate(
      scenario(`  - at: 3s
    delete: {kind: TrafficSplit, name: web-split, namespace: shop}
  - at: 5s
    apply:
      - apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: web-to-canary, namespace: shop}
        spec:
          parentRefs: [{name: web, kind: Service, group: core, port: 80}]
          rules: [{backendRefs: [{name: web-canary, port: 80}]}]`),
    );
    const applied = o.run.world.changes[1] as ChangeRecord;
    expect(applied.proxiesUpdatedAtUs).toBe(AT_US + (HOPS.watchMs + HOPS.pushMs) * 1000);
    expect(share(o, ["4s", "5s"]).canary).toBe(0);
    const after = share(o, ["6s", "12s"]);
    expect(after.canary).toBe(after.total);
  });

  it("a label no proxy's configuration depends on is applied and changes no proxy's configuration", () => {
    const o = simulate(
      scenario(`  - at: 5s
    label: {kind: Service, name: web, namespace: shop, set: {tier: front}}
  - at: 6s
    label: {kind: Service, name: web, namespace: shop, set: {"tier-": }}`),
    );
    expect(o.run.world.changes.map((c) => [c.change, c.proxiesUpdatedAtUs])).toEqual([["label Service shop/web", undefined], ["label Service shop/web", undefined]]);
    expect(o.run.world.marks.get("change.applied/label")).toBe(2);
  });

  it("a Service's new selector moves traffic after the watch, the Endpoints sync and the push", () => {
    const o = simulate(
      scenario(`  - at: 3s
    delete: {kind: TrafficSplit, name: web-split, namespace: shop}
  - at: 5s
    patch: {kind: Service, name: web, namespace: shop, merge: {spec: {selector: {app: web-canary}}}}`),
    );
    const moved = AT_US + (HOPS.watchMs + HOPS.endpointsMs + HOPS.pushMs) * 1000;
    const endpoints = o.records.filter((r) => r.kind === "endpoints.updated" && r["service"] === "shop/web" && r.t >= AT_US).map((r) => r.t);
    expect(endpoints).toEqual([moved - HOPS.pushMs * 1000]);
    expect(share(o, ["4s", "5s"]).canary).toBe(0);
    const after = share(o, ["6s", "12s"]);
    expect(after.canary).toBe(after.total);
  });
});

describe("workload changes", () => {
  it("a patched replica count scales the Deployment after the controller's watch and the pods' start", () => {
    const o = simulate(scenario(`  - at: 5s
    patch: {kind: Deployment, name: web, namespace: shop, merge: {spec: {replicas: 4}}}`));
    const started = o.records.filter((r) => r.kind === "pod.started" && String(r["pod"]).includes("/shop/web-") && r.t >= AT_US).map((r) => r.t);
    expect(started).toEqual([AT_US + HOPS.watchMs * 1000 + POD_START_US, AT_US + HOPS.watchMs * 1000 + POD_START_US]);
    expect(o.run.world.workloads.get("c/shop/web")).toEqual({ meshed: 4, running: 4 });
  });

  it("a rollout restart replaces every pod, and no request fails on the way", () => {
    const o = simulate(scenario(`  - at: 3s
    rolloutRestart: {deployment: web, namespace: shop}`));
    const names = o.records.filter((r) => r.kind === "pod.started" && String(r["pod"]).includes("/shop/web-") && r.t > 0).map((r) => String(r["pod"]));
    expect(names).toEqual(["pod/c/shop/web-2", "pod/c/shop/web-3"]);
    expect(o.run.world.marks.get("rollout.completed/rolling-update")).toBe(1);
    expect(o.change.rolloutCompletedAtUs).toBeGreaterThan(3_000_000 + 2 * POD_START_US);
    expect(metric(o.run, "successRate", { traffic: "t" })).toBe(1);
  });

  it("a new image rolls out, and the behaviour that selects it answers for the new pods", () => {
    const yaml = scenario(
      `  - at: 1s
    delete: {kind: TrafficSplit, name: web-split, namespace: shop}
  - at: 2s
    setImage: {deployment: web, namespace: shop, image: "web:v2"}`,
    ).replace("behavior:\n", 'behavior:\n  - {select: {deployment: web, image: "web:v2"}, latency: 1ms, errors: {rate: 1, status: 500}}\n');
    const o = simulate(yaml);
    const done = (o.run.world.changes[1] as ChangeRecord).rolloutCompletedAtUs as number;
    expect(done).toBeGreaterThan(2_000_000);
    // The first v2 pod starts after the controller's watch and POD_START_US.
    expect(metric(o.run, "successRate", { traffic: "t" }, ["2s", "4s"])).toBe(1);
    // After the rollout (and the last old pod's Endpoints removal reaching the proxies) only v2 answers.
    expect(metric(o.run, "successRate", { traffic: "t" }, [`${Math.ceil(done / 1e6) + 1}s`, "12s"])).toBe(0);
  });

  it("a Deployment applied during the run starts its pods; deleted, its pods terminate", () => {
    const o = simulate(
      scenario(`  - at: 2s
    apply:
      - apiVersion: apps/v1
        kind: Deployment
        metadata: {name: batch, namespace: shop}
        spec:
          replicas: 2
          selector: {matchLabels: {app: batch}}
          template:
            metadata: {labels: {app: batch}}
            spec: {terminationGracePeriodSeconds: 1, containers: [{name: batch, image: batch:1}]}
  - at: 6s
    delete: {kind: Deployment, name: batch, namespace: shop}`),
    );
    const events = o.records.filter((r) => String(r["pod"] ?? "").includes("/shop/batch-")).map((r) => [r.kind, r.t]);
    const startUs = 2_000_000 + HOPS.watchMs * 1000 + POD_START_US;
    const goneUs = 6_000_000 + HOPS.watchMs * 1000 + 1_000_000;
    expect(events).toEqual([
      ["pod.started", startUs], ["pod.started", startUs],
      ["pod.terminating", 6_003_000], ["pod.terminating", 6_003_000],
      ["pod.killed", goneUs], ["pod.killed", goneUs],
    ]);
    expect(o.run.world.workloads.get("c/shop/batch")).toEqual({ meshed: 0, running: 0 });
  });

  it("a namespace annotated into the mesh, then a restart: the new pods come up with proxies", () => {
    const worker = `      - {apiVersion: v1, kind: Namespace, metadata: {name: jobs}}
      - apiVersion: apps/v1
        kind: Deployment
        metadata: {name: worker, namespace: jobs}
        spec:
          replicas: 2
          selector: {matchLabels: {app: worker}}
          template:
            metadata: {labels: {app: worker}}
            spec: {terminationGracePeriodSeconds: 1, containers: [{name: worker, image: worker:1}]}
`;
    const yaml = scenario(`  - at: 2s
    annotate: {kind: Namespace, name: jobs, set: {linkerd.io/inject: enabled}}
  - at: 3s
    rolloutRestart: {deployment: worker, namespace: jobs}`).replace("behavior:\n", `${worker}behavior:\n`);
    const o = simulate(yaml);
    expect(o.run.world.workloads.get("c/jobs/worker")).toEqual({ meshed: 2, running: 2 });
    const started = o.records.filter((r) => r.kind === "pod.started" && String(r["pod"]).includes("/jobs/worker-")).map((r) => r["pod"]);
    expect(started).toEqual(["pod/c/jobs/worker-0", "pod/c/jobs/worker-1", "pod/c/jobs/worker-2", "pod/c/jobs/worker-3"]);
  });
});

describe("the run's account of its changes", () => {
  it("lists each change in the summary and in --json, with its instants", () => {
    const r = runScenarioText(scenario(`  - at: 5s
    patch: {kind: TrafficSplit, name: web-split, namespace: shop, merge: {spec: {backends: [{service: web, weight: 50}, {service: web-canary, weight: 50}]}}}`), "/nowhere");
    if (!r.ok) throw new Error(r.errors.map((e) => e.message).join("\n"));
    expect(r.result["changes"]).toEqual([
      { at: 5, cluster: "c", entry: "changes[0]", change: "patch TrafficSplit shop/web-split", seenAt: 5.016, proxiesUpdatedAt: 5.033, rolloutCompletedAt: null },
    ]);
  });

  it("is the same on every run of one seed", () => {
    const yaml = scenario(`  - at: 2s
    setImage: {deployment: web, namespace: shop, image: "web:v2"}`);
    expect(simulate(yaml).run.world.digest).toBe(simulate(yaml).run.world.digest);
  });
});
