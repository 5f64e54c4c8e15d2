// The inbound proxy (src/mesh/inbound.ts) in front of a real app (src/mesh/app.ts), in a small fake
// world. Expected values: reference §4.1 (inbound queue capacity 10,000, fail-fast 1 s), the
// inbound server's error mapping in linkerd2-proxy `linkerd/app/inbound/src/http/server.rs`
// (`ServerRescue`: FailFastError → 504 gateway timeout, LoadShedError → 503 unavailable) and
// Linkerd's default classifier (src/policy/classify.ts `classifyDefault`: 5xx fails; a gRPC
// request is judged by its grpc-status only).

import { describe, expect, it } from "vitest";
import { INBOUND_QUEUE_DEFAULTS } from "../../src/policy/backend-queue.js";
import { App } from "../../src/mesh/app.js";
import { type AppHostWorld, appInboundTarget, PodAppHost } from "../../src/mesh/app-host.js";
import { DEFAULT_BEHAVIOR } from "../../src/mesh/defaults.js";
import { EdgeBook } from "../../src/mesh/edges.js";
import type { HttpRequest, HttpResponse } from "../../src/mesh/http.js";
import { type InboundHost, InboundProxy, type InboundTarget } from "../../src/mesh/inbound.js";
import type { CounterSeries, ServerSeries } from "../../src/mesh/metrics.js";
import { Pod } from "../../src/mesh/pod.js";
import type { BehaviorSpec } from "../../src/mesh/spec.js";
import { Simulation } from "../../src/sim/simulation.js";
import type { TraceFields } from "../../src/sim/trace.js";

const MS = 1_000;
const S = 1_000_000;

function pod(name: string, meshed = true): Pod {
  const deployment = name.replace(/-\d+$/, "");
  return new Pod({ cluster: "c", namespace: "app", deployment, labels: {}, serviceAccount: deployment, meshed, readinessProbe: undefined }, name, 0, true);
}

interface Recorded { startUs: number; endUs: number; success: boolean; status?: number }

function world() {
  const sim = new Simulation({ seed: "inbound-test" });
  const trace: Array<{ atUs: number; kind: string; fields: TraceFields }> = [];
  const recorded: Recorded[] = [];
  const arrivals: number[] = [];
  const series: ServerSeries = {
    record: (startUs, endUs, success, status) => recorded.push({ startUs, endUs, success, ...(status === undefined ? {} : { status }) }),
    busy: () => {},
    setConcurrency: () => {},
    waited: () => {},
  };
  const counter: CounterSeries = { add: (atUs) => arrivals.push(atUs) };
  const edges = new EdgeBook();
  let inbound: InboundProxy | undefined;
  const host: InboundHost & AppHostWorld = {
    sim,
    emit: (kind, fields) => trace.push({ atUs: sim.nowUs, kind, fields }),
    rng: (label) => sim.rng(label),
    edges,
    counter: () => counter,
    arrivals: () => counter,
    server: () => series,
    speaksGrpc: () => false,
    grpcUndecided: () => false,
    appCapacityChanged: () => inbound?.capacityChanged(),
    callUrl: () => undefined,
  };
  const server = pod("api-0");
  /** The server pod with a real app of `behavior` behind its inbound proxy. */
  const withApp = (behavior: BehaviorSpec): InboundProxy => {
    const appHost = new PodAppHost(server, host);
    const app = new App(behavior, appHost, { latency: sim.rng("app/latency"), errors: sim.rng("app/errors"), calls: sim.rng("app/calls") });
    server.app = app;
    inbound = new InboundProxy(server, host, appInboundTarget(app, appHost, behavior.queueLimit));
    return inbound;
  };
  const runTo = (untilUs: number): void => {
    sim.run({ untilUs, maxEvents: 1_000_000 });
  };
  const of = (kind: string) => trace.filter((t) => t.kind === kind);
  return { sim, host, server, edges, recorded, arrivals, withApp, runTo, of };
}

const request = (n: number, headers?: Record<string, string>): HttpRequest => ({
  method: "GET", path: `/${n}`, authority: "api:80", bodyBytes: 0, origin: { id: n, traffic: "t" }, ...(headers === undefined ? {} : { headers }),
});

/** Send `n` requests at the current instant; answers land in the returned array with their time. */
function sendAt(w: ReturnType<typeof world>, inbound: InboundProxy, ns: number[], client = pod("web-0")) {
  const answers: Array<{ n: number; atUs: number; res: HttpResponse }> = [];
  for (const n of ns) inbound.accept(request(n), client, InboundProxy.tlsOf(client, client.meshed), (res) => answers.push({ n, atUs: w.sim.nowUs, res }));
  return answers;
}

describe("the inbound queue in front of a saturated app", () => {
  /** One slot, no room in the app's own queue, each request takes 2 s: the app is full after one. */
  const slow: BehaviorSpec = { ...DEFAULT_BEHAVIOR, concurrency: 1, queueLimit: 0, latency: { dist: "constant", valueUs: 2 * S } };

  it("has the proxy's inbound defaults: 10,000 requests, fail-fast after 1 s", () => {
    expect(INBOUND_QUEUE_DEFAULTS).toEqual({ capacity: 10_000, failFastTimeoutUs: 1 * S });
  });

  it("holds requests while the app cannot take them, and fails them with 504 after 1 s", () => {
    const w = world();
    const inbound = w.withApp(slow);
    const answers = sendAt(w, inbound, [1, 2, 3]);
    w.runTo(1 * S - 1);
    expect(answers).toEqual([]);
    w.runTo(1 * S + 1);
    expect(answers).toEqual([
      { n: 2, atUs: 1 * S, res: { status: 504, from: "inbound-fail-fast" } },
      { n: 3, atUs: 1 * S, res: { status: 504, from: "inbound-fail-fast" } },
    ]);
    expect(w.of("inbound.fail-fast")[0]?.fields).toMatchObject({ failed: 2 });
  });

  it("sheds new requests with 503 while the gate is shut, and opens it once the app has room", () => {
    const w = world();
    const inbound = w.withApp(slow);
    sendAt(w, inbound, [1, 2]);
    w.runTo(1500 * MS);
    const shed = sendAt(w, inbound, [3]);
    expect(shed).toEqual([{ n: 3, atUs: 1500 * MS, res: { status: 503, from: "inbound-load-shed" } }]);
    // Request 1 ends at 2 s: the app has a free slot again, the gate opens, 4 is served.
    w.runTo(2 * S + 1);
    expect(w.of("inbound.gate-opened")).toHaveLength(1);
    const served = sendAt(w, inbound, [4]);
    w.runTo(4 * S + 2);
    expect(served).toEqual([{ n: 4, atUs: 4 * S + 1, res: { status: 200, from: "app" } }]);
  });

  it("hands a waiting request on as soon as a slot frees within the second", () => {
    const w = world();
    const quick: BehaviorSpec = { ...slow, latency: { dist: "constant", valueUs: 600 * MS } };
    const inbound = w.withApp(quick);
    const answers = sendAt(w, inbound, [1, 2]);
    w.runTo(2 * S);
    expect(answers).toEqual([
      { n: 1, atUs: 600 * MS, res: { status: 200, from: "app" } },
      { n: 2, atUs: 1200 * MS, res: { status: 200, from: "app" } },
    ]);
    expect(w.of("inbound.fail-fast")).toHaveLength(0);
    // The inbound's metrics measure from dispatch: 2 waited 600 ms here, which they do not count.
    expect(w.recorded.map((r) => r.endUs - r.startUs)).toEqual([600 * MS, 600 * MS]);
  });

  it("never lets the app refuse a request: its own queue never overflows behind the proxy", () => {
    const w = world();
    const inbound = w.withApp({ ...slow, queueLimit: 1 });
    sendAt(w, inbound, [1, 2, 3, 4]);
    w.runTo(10 * S);
    expect(w.of("app.rejected")).toHaveLength(0);
  });
});

describe("what the inbound proxy records", () => {
  it("classifies answers with Linkerd's default classifier, not by status alone", () => {
    const w = world();
    const answers: Array<{ status: number; grpcStatus?: number }> = [
      { status: 503 }, { status: 404 }, { status: 200, grpcStatus: 14 }, { status: 500, grpcStatus: 0 },
    ];
    const target: InboundTarget = {
      admits: () => true,
      handle: (req, respond) => respond({ ...(answers[Number(req.path.slice(1))] as HttpResponse), from: "app" }),
    };
    const inbound = new InboundProxy(w.server, w.host, target);
    const client = pod("web-0");
    const grpc = { "content-type": "application/grpc" };
    inbound.accept(request(0), client, InboundProxy.tlsOf(client, true), () => {});
    inbound.accept(request(1), client, InboundProxy.tlsOf(client, true), () => {});
    inbound.accept(request(2, grpc), client, InboundProxy.tlsOf(client, true), () => {});
    inbound.accept(request(3, grpc), client, InboundProxy.tlsOf(client, true), () => {});
    // 503 fails; 404 does not; gRPC UNAVAILABLE in a 200 fails; gRPC OK in a 500 does not.
    expect(w.recorded.map((r) => r.success)).toEqual([false, true, false, true]);
    expect(w.arrivals).toHaveLength(4);
  });

  it("sees mTLS from a meshed client and no TLS from an unmeshed one, as viz edges shows", () => {
    const w = world();
    const inbound = new InboundProxy(w.server, w.host, { admits: () => true, handle: (_r, respond) => respond({ status: 200 }) });
    expect(InboundProxy.tlsOf(pod("web-0"), true)).toEqual({ kind: "mtls", clientId: "web.app" });
    expect(InboundProxy.tlsOf(pod("job-0", false), false)).toEqual({ kind: "none", reason: "no_tls_from_remote" });
    sendAt(w, inbound, [1], pod("web-0"));
    sendAt(w, inbound, [2], pod("job-0", false));
    expect(w.edges.sorted().map((e) => [e.client, e.secured, e.clientIdentity])).toEqual([
      ["c/app/job", "Not Provided By Remote", "job.app"],
      ["c/app/web", "√", "web.app"],
    ]);
  });

  it("ends the requests still waiting with the given answer when its pod dies", () => {
    const w = world();
    const inbound = w.withApp({ ...DEFAULT_BEHAVIOR, concurrency: 1, queueLimit: 0, latency: { dist: "constant", valueUs: 2 * S } });
    const answers = sendAt(w, inbound, [1, 2]);
    w.runTo(500 * MS);
    inbound.abandon({ status: 502, error: "reset", from: "pod-killed" });
    w.runTo(3 * S);
    expect(answers.filter((a) => a.n === 2)).toEqual([{ n: 2, atUs: 500 * MS, res: { status: 502, error: "reset", from: "pod-killed" } }]);
    expect(w.of("inbound.fail-fast")).toHaveLength(0);
  });
});
