// Online invariants are checkers apart from the model: a patch the model could never write must
// still be caught and reported (exit 3), not silently simulated.

import { describe, expect, it } from "vitest";
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
