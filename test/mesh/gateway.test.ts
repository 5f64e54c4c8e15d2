// The multicluster gateway as Linkerd builds it (reference §7.2, §7.3): one proxy process that a
// crossing request passes once; probed on its admin port by the linking cluster's service mirror
// through that controller's own proxy (so an unreachable gateway fails the probe the way the proxy
// fails any request, quickly, not after the worker's 50 s timeout); a workload expectations can
// name as a server.

import { describe, expect, it } from "vitest";
import { metric } from "../../src/api/query.js";
import { runScenarioText } from "../../src/api/run-scenario.js";
import { SILENT_PEER_DETECT_US } from "../../src/mesh/connection.js";

const GATEWAY = "west/linkerd-multicluster/linkerd-gateway";
const SERVICE_MIRROR = "east/linkerd-multicluster/linkerd-service-mirror-west";

/** East's client calls west's exported api through west's gateway; every latency a constant. */
function linked(extra = ""): string {
  return `name: gw
seed: 4
duration: 60s
clusters:
  - name: east
    services:
      - {name: client, namespace: app}
  - name: west
    objects:
      - {apiVersion: v1, kind: Namespace, metadata: {name: app, annotations: {linkerd.io/inject: enabled}}}
      - apiVersion: apps/v1
        kind: Deployment
        metadata: {name: api, namespace: app}
        spec:
          replicas: 2
          selector: {matchLabels: {app: api}}
          template:
            metadata: {labels: {app: api}}
            spec: {containers: [{name: api, image: example/api:1}]}
      - apiVersion: v1
        kind: Service
        metadata: {name: api, namespace: app, labels: {mirror.linkerd.io/exported: "true"}}
        spec: {selector: {app: api}, ports: [{port: 80}]}
links:
  - {from: east, to: west}
mesh:
  proxy: {latency: {dist: constant, value: 1ms}}
network:
  podToPod: {dist: constant, value: 100us}
  between:
    - {clusters: [east, west], latency: {dist: constant, value: 20ms}}
behavior:
  - select: {deployment: api}
    latency: {dist: constant, value: 1ms}
traffic:
  - {name: calls, from: {cluster: east, namespace: app, deployment: client}, to: "http://api-west.app.svc.cluster.local/", arrivals: constant, rate: 20/s}
${extra}`;
}

function run(yaml: string) {
  const r = runScenarioText(yaml, "/nowhere");
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join("\n"));
  return r.run;
}

describe("the gateway as a server in expectations", () => {
  it("is named by its workload, and counts every crossing request but not the probes its proxy answers", () => {
    // Constant arrivals at 20/s send at 50 ms, 100 ms, ... 59.95 s: 1199 requests, each through the
    // gateway 24.3 ms later (well inside the run). The probes (about one per 3.15 s) land on the
    // proxy's admin port and are no inbound traffic: with them the count would be ≈ 1218.
    const r = run(linked(`expect:
  - {name: the gateway serves every crossing, metric: requests, where: {server: ${GATEWAY}}, equals: 1199}
  - {name: and answers all of them, metric: successRate, where: {server: ${GATEWAY}}, equals: 1}
`));
    expect(r.expectations.map((e) => [e.name, e.pass, e.measured])).toEqual([
      ["the gateway serves every crossing", true, 1199],
      ["and answers all of them", true, 1],
    ]);
    expect(metric(r, "rps", { server: GATEWAY })).toBeCloseTo(1199 / 60, 6);
  });

  it("is one proxy pass per crossing: three proxy latencies, not four", () => {
    // client out (1 ms) + pod-to-pod and WAN (0.1 + 20 ms) + gateway (1 ms) + pod-to-pod (0.1 ms)
    // + api in (1 ms) + service (1 ms) + back: 0.1 ms to the gateway, 0.1 + 20 ms to the client
    // = 44.4 ms for every request (a second gateway pass would make it 45.4 ms).
    const r = run(linked());
    expect(metric(r, "latencyMean", { traffic: "calls" }, ["10s", "60s"])).toBeCloseTo(44.4, 6);
  });
});

describe("the gateway probe goes through the service mirror's own proxy", () => {
  it("shows as that proxy's requests to probe-gateway-<cluster>, all answered while the gateway is reachable", () => {
    const r = run(linked());
    const window: [string, string] = ["0s", "60s"];
    // One probe per 3.0–3.3 s (period 3 s + jitter below a tenth): 18 to 20 in 60 s.
    const probes = metric(r, "requests", { client: SERVICE_MIRROR, service: "probe-gateway-west" }, window);
    expect(probes).toBeGreaterThanOrEqual(18);
    expect(probes).toBeLessThanOrEqual(20);
    expect(metric(r, "successRate", { client: SERVICE_MIRROR, service: "probe-gateway-west" }, window)).toBe(1);
    expect(r.world.gateways).toEqual([{ from: "east", cluster: "west", alive: true, numSvc: 1, latencyMs: expect.any(Number) }]);
    // Its round trip: service mirror out (1 ms) + 0.1 + 20 ms + gateway proxy (1 ms), back 0.1 + 20 ms = 42.2 ms; the gauge keeps whole ms.
    expect(r.world.gateways[0]?.latencyMs).toBe(42);
  });

  it("fails like any request of that proxy when the gateway is unreachable: fail-fast, then load shedding, never the worker's 50 s timeout", () => {
    const r = run(linked(`faults:
  - {at: 10s, until: 40s, partition: {between: [east, west]}}
`));
    const points = r.world.gatewayTimeline[0]?.points ?? [];
    const firstDead = points.find((p) => !p.alive);
    // The first probe after 10 s leaves within one tick (≤ 3.3 s) on the proxy's open connection to
    // the gateway, which goes silent: it fails when the proxy finds the peer silent.
    expect(firstDead?.atUs).toBeGreaterThan(10_000_000 + SILENT_PEER_DETECT_US);
    expect(firstDead?.atUs).toBeLessThanOrEqual(13_300_000 + SILENT_PEER_DETECT_US);
    // From then on the proxy cannot connect (the endpoint is never ready): the next probe waits in
    // the backend queue until fail-fast (3 s, a 504), and the ones after are shed at once (503)
    // while the gate stays shut. Each answer comes within a tick plus 3 s of the one before.
    const during = points.filter((p) => p.atUs >= (firstDead?.atUs ?? 0) && p.atUs <= 40_000_000);
    expect(during.length).toBeGreaterThanOrEqual(5);
    expect(during.every((p) => !p.alive)).toBe(true);
    const gaps = during.slice(1).map((p, i) => p.atUs - (during[i]?.atUs ?? 0));
    expect(Math.max(...gaps)).toBeLessThanOrEqual(3_300_000 + 3_000_000);
    expect(r.world.marks.get("gateway.probed/status-504") ?? 0).toBeGreaterThanOrEqual(1);
    expect(r.world.marks.get("gateway.probed/status-503") ?? 0).toBeGreaterThanOrEqual(1);
    const failed = metric(r, "failed", { client: SERVICE_MIRROR, service: "probe-gateway-west" }, ["10s", "40s"]);
    expect(failed).toBeGreaterThanOrEqual(during.length);
    expect(r.world.marks.get("gateway.liveness-changed/probe-failed")).toBe(1);
    // Healed at 40 s: the gateway is found alive again.
    expect(r.world.marks.get("gateway.liveness-changed/probe-succeeded")).toBe(1);
    expect(points.at(-1)?.alive).toBe(true);
  });
});

describe("a gateway takes only mTLS from meshed peers", () => {
  it("resets an unmeshed client's plaintext call to a mirror: one 502 per request, the request ends once", () => {
    // The client is not injected: kube-proxy sends its request to the mirror's endpoint, west's
    // gateway, whose port 4143 accepts only mutually authenticated connections. Each request fails
    // once at the gateway and never reaches api.
    const r = run(linked().replace("  - name: east\n    services:\n      - {name: client, namespace: app}", "  - name: east\n    services:\n      - {name: client, namespace: app, meshed: false}"));
    expect(r.world.invariantViolations).toEqual([]);
    // Constant arrivals at 20/s for 60 s: 1199 requests (see above); the probes are not among them.
    const sent = metric(r, "requests", { traffic: "calls" }, ["0s", "60s"]);
    expect(sent).toBe(1199);
    expect(metric(r, "failed", { traffic: "calls" }, ["0s", "60s"])).toBe(sent);
    expect(r.world.marks.get("gateway.refused/plaintext")).toBe(sent);
    expect(metric(r, "requests", { server: GATEWAY }, ["0s", "60s"])).toBeNull();
  });
});

describe("a lost region sends nothing back", () => {
  it("leaves the requests in flight to its gateway hanging until the client finds the connection silent", () => {
    // Requests leave every 50 ms and spend 44.4 ms in flight (see above); west is lost at 30.01 s,
    // when the request sent at 30.00 s is on its way there. Nothing in west can send a FIN or RST,
    // so that request fails only when east's proxy finds the connection silent, SILENT_PEER_DETECT_US
    // later, never one WAN trip (20.1 ms) later.
    const r = run(linked(`faults:
  - {at: 30010ms, clusterLoss: {cluster: west}}
`));
    expect(r.world.invariantViolations).toEqual([]);
    const broken = r.world.marks.get("connection.broken/peer-closed") ?? 0;
    expect(broken).toBe(0);
    expect(r.world.marks.get("connection.broken/peer-silent")).toBeGreaterThanOrEqual(1);
  });
});
