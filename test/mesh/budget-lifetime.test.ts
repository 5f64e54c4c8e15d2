// A proxy's retry budget for a destination lives until that destination's profile changes
// (reference §1.4: one `Budget` per destination profile, rebuilt only by an update of that
// profile; other services' updates, TrafficSplit patches elsewhere and endpoint changes never
// reset it), and the control plane pushes a destination only when its config changed.

import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { fileReader } from "../../src/cli/files.js";
import { loadScenario } from "../../src/scenario/load.js";
import { runWorldSpec } from "../../src/scenario/run.js";
import { destinationSignature, profileSignature } from "../../src/mesh/destination-signature.js";
import { FakeMesh, pod } from "./fake-mesh.js";

function profiled(name: string, retryRatio: number): string {
  return `apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: app}
spec: {selector: {app: ${name}}, ports: [{port: 80}]}
---
apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: ${name}.app.svc.cluster.local, namespace: app}
spec:
  routes:
    - {name: all, condition: {pathRegex: "/.*"}, isRetryable: true}
  retryBudget: {retryRatio: ${retryRatio}, minRetriesPerSecond: 10, ttl: 10s}
---
`;
}

const SPLIT = (aWeight: number) => `apiVersion: split.smi-spec.io/v1alpha2
kind: TrafficSplit
metadata: {name: b, namespace: app}
spec:
  service: b
  backends:
    - {service: b, weight: ${aWeight}}
    - {service: b2, weight: 1}
---
apiVersion: v1
kind: Service
metadata: {name: b2, namespace: app}
spec: {selector: {app: b2}, ports: [{port: 80}]}
`;

const A = { namespace: "app", name: "a", port: 80 };
const B = { namespace: "app", name: "b", port: 80 };

describe("what counts as a change", () => {
  it("two resolutions of the same objects have the same signature", () => {
    const one = new FakeMesh(profiled("a", 0.2) + SPLIT(1));
    const two = new FakeMesh(profiled("a", 0.2) + SPLIT(1));
    expect(destinationSignature(one.destinationFor(A))).toBe(destinationSignature(two.destinationFor(A)));
    expect(profileSignature(one.destinationFor(A))).toBe(profileSignature(two.destinationFor(A)));
  });

  it("a TrafficSplit weight changes its apex's destination and profile, not another Service's", () => {
    const before = new FakeMesh(profiled("a", 0.2) + profiled("b", 0.2) + SPLIT(1));
    const after = new FakeMesh(profiled("a", 0.2) + profiled("b", 0.2) + SPLIT(0));
    expect(destinationSignature(after.destinationFor(B))).not.toBe(destinationSignature(before.destinationFor(B)));
    expect(profileSignature(after.destinationFor(B))).not.toBe(profileSignature(before.destinationFor(B)));
    expect(destinationSignature(after.destinationFor(A))).toBe(destinationSignature(before.destinationFor(A)));
  });

  it("a destination on the client-policy stack has no profile to key a budget on", () => {
    const mesh = new FakeMesh("apiVersion: v1\nkind: Service\nmetadata: {name: c, namespace: app}\nspec: {selector: {app: c}, ports: [{port: 80}]}\n");
    expect(profileSignature(mesh.destinationFor({ namespace: "app", name: "c", port: 80 }))).toBeUndefined();
  });
});

describe("a proxy's budget for a destination", () => {
  function setUp() {
    const mesh = new FakeMesh(profiled("a", 0.2) + profiled("b", 0.2) + SPLIT(1));
    mesh.setEndpoints("a", [pod("a")]);
    const client = mesh.proxy();
    const budgetA = client.destination(A).budget;
    const budgetB = client.destination(B).budget;
    return { mesh, client, budgetA, budgetB };
  }

  it("survives another destination's profile update, and a re-delivery of its own unchanged profile", () => {
    const { mesh, client, budgetA, budgetB } = setUp();
    expect(budgetA).toBeDefined();
    mesh.pushConfig(profiled("a", 0.2) + profiled("b", 0.2) + SPLIT(0), "b");
    expect(client.destination(A).budget).toBe(budgetA);
    expect(client.destination(B).budget).not.toBe(budgetB);
    mesh.pushConfig(profiled("a", 0.2) + profiled("b", 0.2) + SPLIT(0), "a");
    expect(client.destination(A).budget).toBe(budgetA);
    expect(mesh.events.filter((e) => e.kind === "proxy.config-updated").map((e) => [e.fields["service"], e.fields["budget"]])).toEqual([
      ["app/b:80", "new"],
      ["app/a:80", "kept"],
    ]);
  });

  it("keeps what it has withdrawn across an endpoint change, and starts full after its profile changed", () => {
    const { mesh, client, budgetA } = setUp();
    // Reserve 10/s × 10 s = 100 retries (reference §1.5, derived vector 5): spend them all.
    for (let i = 0; i < 100; i++) expect(budgetA?.withdraw(0)).toBe(true);
    expect(budgetA?.withdraw(0)).toBe(false);
    mesh.setEndpoints("a", [pod("a"), pod("a2")]);
    expect(client.destination(A).budget?.withdraw(0)).toBe(false);
    mesh.pushConfig(profiled("a", 0.25) + profiled("b", 0.2) + SPLIT(1), "a");
    expect(client.destination(A).budget).not.toBe(budgetA);
    expect(client.destination(A).budget?.withdraw(0)).toBe(true);
  });
});

describe("the control plane pushes only destinations whose config changed", () => {
  it("a failover and its fail-back reach each client proxy as two updates of the split's Service, nothing else", () => {
    // test/fixtures/mesh/failback.yaml: 8 client proxies hold auth (the split's apex) and other (no
    // split, no profile). The operator patches the split twice; each patch changes auth's profile
    // only, so each proxy gets 2 updates: 16. Pushing every subscribed destination would give 32.
    const loaded = loadScenario(resolve("test/fixtures/mesh/failback.yaml"), fileReader);
    if (!loaded.ok) throw new Error("fixture should load");
    const run = runWorldSpec(loaded.spec);
    expect(run.world.splitUpdates).toHaveLength(2);
    expect(run.world.marks.get("proxy.config-updated")).toBe(16);
  });
});
