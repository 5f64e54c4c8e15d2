// Online invariants are checkers apart from the model: a patch the model could never write must
// still be caught and reported (exit 3), not silently simulated.

import { describe, expect, it } from "vitest";
import { HopLedger } from "../../src/mesh/hop-ledger.js";
import type { Pod } from "../../src/mesh/pod.js";
import { World } from "../../src/mesh/world.js";
import { specFromText } from "../support/spec-from-text.js";

function world(): World {
  const text = `name: inv
seed: 1
duration: 2s
clusters:
  - name: c
    services:
      - {name: web, namespace: app}
      - {name: web-canary, namespace: app}
    objects:
      - apiVersion: split.smi-spec.io/v1alpha2
        kind: TrafficSplit
        metadata: {name: web, namespace: app}
        spec: {service: web, backends: [{service: web, weight: 1}, {service: web-canary, weight: 0}]}
`;
  return new World(specFromText(text, "inv.yaml"));
}

describe("the TrafficSplit patch invariant", () => {
  it("accepts what linkerd-failover writes: the same backends, weights 0 and 1", () => {
    const w = world();
    w.sim.scheduleAt(1_000_000, () => w.clusters.get("c")?.patchTrafficSplit("app", "web", [{ service: "web", weight: 0 }, { service: "web-canary", weight: 1 }]), undefined);
    expect(w.run().invariantViolations).toEqual([]);
  });

  it.each([
    ["a negative weight", [{ service: "web", weight: -1 }, { service: "web-canary", weight: 1 }], "has a weight that is not a non-negative integer"],
    ["a fractional weight", [{ service: "web", weight: 0.5 }, { service: "web-canary", weight: 1 }], "has a weight that is not a non-negative integer"],
    ["a backend dropped", [{ service: "web", weight: 1 }], "changed its backends"],
  ])("reports %s", (_what, backends, problem) => {
    const w = world();
    w.sim.scheduleAt(1_000_000, () => w.clusters.get("c")?.patchTrafficSplit("app", "web", backends), undefined);
    expect(w.run().invariantViolations).toEqual([`TrafficSplit app/web ${problem} after a patch at 1000000us`]);
  });
});

describe("the conservation invariant at server pods", () => {
  const pod = { label: "pod/c/app/web-0" } as Pod;

  it("balances when every request is answered once or still held", () => {
    const found: string[] = [];
    const ledger = new HopLedger((m) => found.push(m));
    const answers: number[] = [];
    const replies = [1, 2, 3].map(() => ledger.arrived(pod, (res) => answers.push(res.status)));
    replies[0]?.({ status: 200 });
    replies[1]?.({ status: 503 });
    ledger.check(() => 1);
    expect(found).toEqual([]);
    expect(answers).toEqual([200, 503]);
  });

  it("reports a request that vanished without an answer", () => {
    const found: string[] = [];
    const ledger = new HopLedger((m) => found.push(m));
    ledger.arrived(pod, () => undefined);
    ledger.arrived(pod, () => undefined)({ status: 200 });
    ledger.check(() => 0);
    expect(found).toEqual(["pod/c/app/web-0: 2 requests arrived, 1 answered and 0 still held — 1 unaccounted for"]);
  });

  it("reports a second answer to one request at once", () => {
    const found: string[] = [];
    const ledger = new HopLedger((m) => found.push(m));
    const reply = ledger.arrived(pod, () => undefined);
    reply({ status: 200 });
    reply({ status: 502 });
    expect(found).toEqual(["pod/c/app/web-0 answered one request twice (502 after the first answer)"]);
  });

  it("holds through pod kills and restarts in a run", () => {
    const text = `name: churn
seed: 5
duration: 20s
clusters:
  - name: c
    services:
      - {name: web, namespace: app, replicas: 3}
      - {name: client, namespace: app}
behavior:
  - select: {deployment: web}
    latency: {dist: exponential, mean: 50ms}
    concurrency: 2
traffic:
  - {name: calls, from: {namespace: app, deployment: client}, to: "http://web.app.svc.cluster.local/", rate: 80/s}
faults:
  - {at: 5s, killPods: {select: {deployment: web}, count: 1}}
  - {at: 9s, restartPods: {select: {deployment: web}}}
  - {at: 12s, restartPods: {select: {deployment: web}}}
`;
    const result = new World(specFromText(text, "churn.yaml")).run();
    expect(result.invariantViolations).toEqual([]);
    expect(result.marks.get("pod.killed") ?? 0).toBeGreaterThan(0);
  });
});

describe("a model assertion that fails mid-run", () => {
  it("ends the run with an invariant violation naming the instant, not an exception", () => {
    const w = world();
    w.sim.scheduleAt(1_500_000, () => {
      throw new Error("metrics: request ends (1) before it starts (2)");
    }, undefined);
    const result = w.run();
    expect(result.invariantViolations).toEqual(["the model stopped at 1500000us, after event " + String(w.sim.events) + ": metrics: request ends (1) before it starts (2)"]);
    expect(result.simulatedUs).toBe(1_500_000);
  });
});
