// A new pod template rolled out as the workload controllers roll it out: a RollingUpdate never has
// more than replicas + maxSurge pods nor fewer than replicas − maxUnavailable ready ones, and waits
// for each new pod's readiness probe before deleting an old one; Recreate deletes every old pod
// first; the strategy's percentages resolve as the controller resolves them.

import { describe, expect, it } from "vitest";
import type { K8sObject } from "../../src/k8s/object.js";
import { rolloutStrategy } from "../../src/mesh/rollout-strategy.js";
import { POD_START_US } from "../../src/mesh/defaults.js";
import { loadScenario } from "../../src/scenario/load.js";
import { runWorldSpec } from "../../src/scenario/run.js";
import { Trace } from "../../src/sim/trace.js";
import { memoryReader } from "../scenario/memory-reader.js";

const WATCH_MS = 3;
const PROBE_DELAY_S = 5;
const GRACE_S = 1;

/** `web` with `replicas` pods, a readiness probe 5 s after start, 1-ms service time; its image set to v2 at 10 s. */
function scenario(replicas: number, strategy: string): string {
  return `name: rollout
seed: 1
duration: 90s
mesh:
  controlPlane:
    watchDelay: {dist: constant, value: ${WATCH_MS}ms}
clusters:
  - name: c
    objects:
      - {apiVersion: v1, kind: Namespace, metadata: {name: shop, annotations: {linkerd.io/inject: enabled}}}
      - apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web, namespace: shop}
        spec:
          replicas: ${replicas}
          strategy: ${strategy}
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec:
              terminationGracePeriodSeconds: ${GRACE_S}
              containers:
                - name: web
                  image: web:v1
                  ports: [{containerPort: 80}]
                  readinessProbe: {httpGet: {path: /ready, port: 80}, initialDelaySeconds: ${PROBE_DELAY_S}, periodSeconds: 1}
      - {apiVersion: v1, kind: Service, metadata: {name: web, namespace: shop}, spec: {selector: {app: web}, ports: [{port: 80}]}}
    services:
      - {name: client, namespace: shop}
behavior:
  - {select: {deployment: web}, latency: 1ms}
traffic:
  - {name: t, from: {namespace: shop, deployment: client}, to: "http://web.shop.svc.cluster.local/", rate: 20/s}
changes:
  - {at: 10s, setImage: {deployment: web, namespace: shop, image: "web:v2"}}
`;
}

interface PodCounts {
  /** Most pods at once that were neither terminating nor gone. */
  maxPods: number;
  /** Fewest ready pods at once from the rollout's start to its end. */
  minReady: number;
  completedUs: number;
  run: ReturnType<typeof runWorldSpec>;
}

/** Replay the pod events of `web` from the trace, counting pods and ready pods after each. */
function rollout(yaml: string): PodCounts {
  const file = "/s/scenario.yaml";
  const loaded = loadScenario(file, memoryReader({ [file]: yaml }));
  if (!loaded.ok) throw new Error(loaded.errors.map((e) => e.message).join("\n"));
  const records: Array<{ t: number; kind: string; pod?: string; ready?: boolean }> = [];
  const run = runWorldSpec(loaded.spec, { trace: new Trace((line) => records.push(JSON.parse(line))) });
  expect(run.world.invariantViolations).toEqual([]);
  const completedUs = records.find((r) => r.kind === "rollout.completed")?.t ?? Number.NaN;
  const live = new Set<string>();
  const ready = new Set<string>();
  let maxPods = 0;
  let minReady = Infinity;
  for (const r of records) {
    if (r.pod === undefined || !r.pod.includes("/shop/web-")) continue;
    if (r.kind === "pod.started") live.add(r.pod);
    if ((r.kind === "pod.started" || r.kind === "pod.readiness-changed") && r.ready !== undefined) {
      if (r.ready) ready.add(r.pod);
      else ready.delete(r.pod);
    }
    if (r.kind === "pod.terminating" || r.kind === "pod.killed") {
      live.delete(r.pod);
      ready.delete(r.pod);
    }
    maxPods = Math.max(maxPods, live.size);
    if (r.t >= 10_000_000 && r.t <= completedUs) minReady = Math.min(minReady, ready.size);
  }
  return { maxPods, minReady, completedUs, run };
}

describe("a RollingUpdate", () => {
  it("with maxSurge 1 and maxUnavailable 0 replaces one pod per round, each round a start and a probe long", () => {
    const r = rollout(scenario(4, "{type: RollingUpdate, rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}"));
    expect(r.maxPods).toBe(5);
    expect(r.minReady).toBe(4);
    // Each round: the pod starts (POD_START_US), its first probe comes initialDelaySeconds later
    // and answers in the 1-ms service time; only then is an old pod deleted and the next started.
    const roundUs = POD_START_US + PROBE_DELAY_S * 1_000_000 + 1_000;
    expect(r.completedUs).toBe(10_000_000 + WATCH_MS * 1000 + 4 * roundUs);
    expect(r.run.world.workloads.get("c/shop/web")).toEqual({ meshed: 4, running: 4 });
    // Ready pods served throughout, and old pods left the Endpoints before they went.
    expect(r.run.world.metrics.query({ traffic: "t" }, [0, 90_000_000]).successRate).toBe(1);
  });

  it("with the defaults, 25 % of 8 each way, stays within 10 pods and 6 ready ones", () => {
    const r = rollout(scenario(8, "{}"));
    expect(r.maxPods).toBeLessThanOrEqual(8 + 2);
    expect(r.maxPods).toBeGreaterThan(8);
    expect(r.minReady).toBe(8 - 2);
    expect(r.run.world.marks.get("rollout.completed/rolling-update")).toBe(1);
    expect(r.run.world.metrics.query({ traffic: "t" }, [0, 90_000_000]).successRate).toBe(1);
  });
});

describe("a Recreate rollout", () => {
  it("deletes every old pod, starts the new ones when the last is gone, and the Service is empty meanwhile", () => {
    const r = rollout(scenario(3, "{type: Recreate}"));
    expect(r.maxPods).toBe(3);
    expect(r.minReady).toBe(0);
    expect(r.completedUs).toBe(10_000_000 + WATCH_MS * 1000 + GRACE_S * 1_000_000 + POD_START_US + PROBE_DELAY_S * 1_000_000 + 1_000);
    // Requests during the gap fail fast (no endpoints): the window holds some failures.
    const gap = r.run.world.metrics.query({ traffic: "t" }, [12_000_000, 17_000_000]);
    expect(gap.successRate).toBeLessThan(0.5);
  });
});

describe("the strategy as the controller resolves it", () => {
  const obj = (kind: string, spec: Record<string, unknown>): K8sObject => ({
    apiVersion: "apps/v1", kind, metadata: { name: "w", namespace: "d", labels: {}, annotations: {} }, raw: { spec }, source: { file: "", line: 0, col: 0 }, positionOf: () => ({ file: "", line: 0, col: 0 }),
  });
  const cases: Array<[string, string, Record<string, unknown>, number, { kind: string; maxSurge: number; maxUnavailable: number }]> = [
    ["a Deployment's defaults round surge up and unavailability down", "Deployment", {}, 3, { kind: "RollingUpdate", maxSurge: 1, maxUnavailable: 0 }],
    ["10 replicas at the defaults", "Deployment", {}, 10, { kind: "RollingUpdate", maxSurge: 3, maxUnavailable: 2 }],
    ["both 0 lets one pod be unavailable", "Deployment", { strategy: { rollingUpdate: { maxSurge: 0, maxUnavailable: "10%" } } }, 3, { kind: "RollingUpdate", maxSurge: 0, maxUnavailable: 1 }],
    ["a StatefulSet rolls one at a time", "StatefulSet", {}, 5, { kind: "RollingUpdate", maxSurge: 0, maxUnavailable: 1 }],
    ["a DaemonSet's OnDelete rolls nothing", "DaemonSet", { updateStrategy: { type: "OnDelete" } }, 5, { kind: "OnDelete", maxSurge: 0, maxUnavailable: 0 }],
  ];
  for (const [name, kind, spec, replicas, expected] of cases) {
    it(name, () => expect(rolloutStrategy(obj(kind, spec), replicas)).toEqual(expected));
  }
});
