// An unmeshed client's calls go through kube-proxy (direct-client.ts): a Service with no ready
// endpoint refuses the connection on the client's own node, which costs a node-local round trip,
// never zero time, so even a closed loop with no think time moves the clock.

import { describe, expect, it } from "vitest";
import { metric } from "../../src/api/query.js";
import { runScenarioText } from "../../src/api/run-scenario.js";
import { NODE_LOCAL_REFUSAL_US } from "../../src/mesh/network.js";

describe("kube-proxy's refusal of a Service with no endpoint", () => {
  it("answers a zero-think closed-loop user after one node-local round trip per request", () => {
    const r = runScenarioText(
      `name: refused
seed: 23
duration: 10ms
clusters:
  - name: east
    objects:
      - {apiVersion: v1, kind: Service, metadata: {name: billing, namespace: app}}
      - {apiVersion: apps/v1, kind: Deployment, metadata: {name: loadgen, namespace: app}}
traffic:
  - name: t0
    from: {namespace: app, deployment: loadgen}
    to: http://billing.app.svc.cluster.local:8080/api/list
    arrivals: {closedLoop: {users: 1, thinkTime: 0ms}}
`,
      "/nowhere",
    );
    if (!r.ok) throw new Error(r.errors.map((e) => e.message).join("\n"));
    expect(r.run.world.invariantViolations).toEqual([]);
    // One user, each request refused exactly NODE_LOCAL_REFUSAL_US after it was sent and the next
    // sent at once: answers come at 20, 40 … µs. A request counts when it ends, and the window is
    // [0, 10 ms): 10 000 / 20 − 1 = 499 answers (the 500th lands on 10 ms itself), all failed.
    const n = 10_000 / NODE_LOCAL_REFUSAL_US - 1;
    expect(metric(r.run, "requests", { traffic: "t0" }, ["0s", "10ms"])).toBe(n);
    expect(metric(r.run, "failed", { traffic: "t0" }, ["0s", "10ms"])).toBe(n);
    expect(metric(r.run, "latencyMean", { traffic: "t0" }, ["0s", "10ms"])).toBeCloseTo(NODE_LOCAL_REFUSAL_US / 1000, 6);
  });
});
