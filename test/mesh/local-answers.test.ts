// Answers made next to the client take time too, so even a closed loop with no think time moves
// the clock: kube-proxy refusing an unmeshed client's call to a Service with no ready endpoint
// costs a node-local round trip (direct-client.ts); a meshed client's proxy answering a request
// itself (no matching route: 404) costs one pass through that proxy (request-flow.ts).

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

describe("an answer the client's own proxy makes", () => {
  it("costs one pass through the proxy: a 404 for a request no HTTPRoute rule matches", () => {
    const r = runScenarioText(
      `name: no-route
seed: 589
duration: 100ms
mesh:
  proxy: {latency: {dist: constant, value: 2ms}}
clusters:
  - name: east
    objects:
      - {apiVersion: v1, kind: Service, metadata: {name: api, namespace: app}}
      - apiVersion: apps/v1
        kind: Deployment
        metadata: {name: loadgen, namespace: app}
        spec: {template: {metadata: {annotations: {linkerd.io/inject: enabled}}}}
      - apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: api-route, namespace: app}
        spec:
          parentRefs: [{name: api, kind: Service, group: core}]
          rules: [{matches: [{path: {value: /api/profile}}]}]
traffic:
  - name: t0
    from: {namespace: app, deployment: loadgen}
    to: http://api.app.svc.cluster.local:8080/api/orders
    arrivals: {closedLoop: {users: 1, thinkTime: 0ms}}
`,
      "/nowhere",
    );
    if (!r.ok) throw new Error(r.errors.map((e) => e.message).join("\n"));
    expect(r.run.world.invariantViolations).toEqual([]);
    // Each request is answered 404 by the proxy 2 ms after it was sent, and the next leaves at
    // once: answers at 2, 4 … 98 ms inside [0, 100 ms), 100 / 2 − 1 = 49 of them (the 50th ends on 100 ms).
    expect(metric(r.run, "requests", { traffic: "t0" }, ["0s", "100ms"])).toBe(49);
    expect(metric(r.run, "latencyMean", { traffic: "t0" }, ["0s", "100ms"])).toBeCloseTo(2, 6);
    expect(r.run.world.marks.get("route.not-found/no-route")).toBe(50);
  });
});
