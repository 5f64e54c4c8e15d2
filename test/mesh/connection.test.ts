// A proxy's connections to its endpoints (src/mesh/connection.ts) against a small fake world: a
// constant 1 ms one-way latency, reachability and handshakes the test controls. Expected values
// come from the reference (§4.1: connect backoff 100 ms → 500 ms with jitter 0.1, one stream across
// consecutive failures, reset by a success; connect timeout 1 s; a connecting endpoint is not
// ready; mTLS once per connection) and from src/policy/exp-backoff.ts for the exact jitter draws.

import { describe, expect, it } from "vitest";
import { CONNECT_BACKOFF } from "../../src/policy/config.js";
import { backoffDelayUs } from "../../src/policy/exp-backoff.js";
import { type Connection, type ConnectionHost, SILENT_PEER_DETECT_US } from "../../src/mesh/connection.js";
import { ConnectionPool } from "../../src/mesh/connection-pool.js";
import type { HttpRequest, HttpResponse } from "../../src/mesh/http.js";
import { IdentitySystem } from "../../src/mesh/identity.js";
import { Pod } from "../../src/mesh/pod.js";
import { Priority } from "../../src/sim/priority.js";
import type { Rng } from "../../src/sim/rng.js";
import { Simulation } from "../../src/sim/simulation.js";
import type { TraceFields } from "../../src/sim/trace.js";

const MS = 1_000;
const S = 1_000_000;
/** One-way latency of every message in the fake world. */
const ONE_WAY_US = 1 * MS;
/** TCP round trip then TLS round trip before a new connection is ready. */
const SETUP_US = 4 * ONE_WAY_US;
const SEED = "connection-test";

interface Traced { atUs: number; kind: string; fields: TraceFields }

function pod(name: string, startedUs = 0): Pod {
  return new Pod({ cluster: "c", namespace: "app", deployment: name.replace(/-\d+$/, ""), labels: {}, serviceAccount: name.replace(/-\d+$/, ""), meshed: true, readinessProbe: undefined }, name, startedUs, true);
}

function world(opts: { handshake?: (client: Pod, server: Pod) => { ok: boolean; reason: string } } = {}) {
  const sim = new Simulation({ seed: SEED });
  const trace: Traced[] = [];
  const state = { reachable: true };
  const host: ConnectionHost = {
    sim,
    emit: (kind, fields) => trace.push({ atUs: sim.nowUs, kind, fields }),
    rng: (label) => sim.rng(label),
    latencyUs: () => ONE_WAY_US,
    reaches: () => state.reachable,
    handshake: opts.handshake ?? (() => ({ ok: true, reason: "mtls-established" })),
  };
  const client = pod("web-0");
  const pool = new ConnectionPool(client, host);
  const runTo = (untilUs: number): void => {
    sim.run({ untilUs, maxEvents: 1_000_000 });
  };
  const of = (kind: string): Traced[] => trace.filter((t) => t.kind === kind);
  return { sim, trace, state, client, pool, runTo, of };
}

/** The reconnect jitter stream the pool of `web-0` forks, reproduced from the same seed and label. */
function reconnectStream(): Rng {
  return new Simulation({ seed: SEED }).rng("proxy/c/app/web-0/reconnect");
}

const request = (n: number): HttpRequest => ({ method: "GET", path: `/${n}`, authority: "api:80", bodyBytes: 0, origin: { id: n, traffic: "t" } });

describe("setting a connection up", () => {
  it("between pods that ran from t = 0 is open already (steady state), with no set-up cost", () => {
    const w = world();
    const c = w.pool.acquire(pod("api-0"), () => {});
    expect(c.ready).toBe(true);
    expect(w.of("connection.established").map((t) => t.fields["reason"])).toEqual(["steady-state"]);
  });

  it("to a pod started later takes the TCP and the TLS round trip, and is not ready before", () => {
    const w = world();
    w.runTo(10 * S);
    const api = pod("api-1", 10 * S);
    const changes: boolean[] = [];
    const c = w.pool.acquire(api, () => changes.push(c.ready));
    expect(c.ready).toBe(false);
    w.runTo(10 * S + SETUP_US - 1);
    expect(c.ready).toBe(false);
    w.runTo(10 * S + SETUP_US + 1);
    expect(c.ready).toBe(true);
    expect(changes).toEqual([true]);
    expect(w.of("connection.established").at(-1)).toMatchObject({ atUs: 10 * S + SETUP_US, fields: { reason: "connected" } });
  });

  it("is shared by every balancer of the proxy and closed when the last one lets go", () => {
    const w = world();
    const api = pod("api-0");
    const a = (): void => {};
    const b = (): void => {};
    const first = w.pool.acquire(api, a);
    expect(w.pool.acquire(api, b)).toBe(first);
    w.pool.release(api, a, "endpoint-removed");
    expect(first.state).toBe("open");
    w.pool.release(api, b, "endpoint-removed");
    expect(first.state).toBe("closed");
    expect(w.pool.get(api)).toBeUndefined();
  });
});

describe("a connect that fails", () => {
  /** Times of each refused connect to a dead pod, over `untilUs`. */
  function refusals(untilUs: number) {
    const w = world();
    w.runTo(1 * S);
    const dead = pod("api-1", 1 * S);
    dead.alive = false;
    let notified = 0;
    const c = w.pool.acquire(dead, () => (notified += 1));
    w.runTo(untilUs);
    return { c, notified, times: w.of("connection.failed").map((t) => t.atUs), w };
  }

  it("backs off 100 → 200 → 400 → 500 ms on one stream, each step jittered by up to 10 %", () => {
    const { times } = refusals(5 * S);
    const rng = reconnectStream();
    // Each refusal is one round trip (SYN, RST) after its connect started; the connect after
    // refusal i starts once backoff step i has passed.
    const expectedDelays = [0, 1, 2, 3, 4, 5].map((i) => backoffDelayUs(CONNECT_BACKOFF, i, rng));
    const gaps = times.slice(1).map((t, i) => t - (times[i] as number) - 2 * ONE_WAY_US);
    expect(times[0]).toBe(1 * S + 2 * ONE_WAY_US);
    expect(gaps.slice(0, 6)).toEqual(expectedDelays);
    const bounds: Array<[number, number]> = [[100, 110], [200, 220], [400, 440], [500, 500], [500, 500], [500, 500]];
    gaps.slice(0, 6).forEach((g, i) => {
      const [lo, hi] = bounds[i] as [number, number];
      expect(g).toBeGreaterThanOrEqual(lo * MS);
      expect(g).toBeLessThanOrEqual(hi * MS);
    });
  });

  it("fails no request: nothing is ever sent on a connection that is not open", () => {
    const { c, notified, w } = refusals(60 * S);
    expect(c.ready).toBe(false);
    expect(c.inFlight.size).toBe(0);
    // A dead pod's endpoint never becomes ready again, however many backoff timers run out.
    expect(notified).toBe(0);
    expect(w.of("connection.established")).toHaveLength(0);
    expect(w.of("connection.failed").length).toBeGreaterThan(100);
    expect(new Set(w.of("connection.failed").map((t) => t.fields["reason"]))).toEqual(new Set(["refused"]));
  });

  it("to a peer that does not answer ends at the 1 s connect timeout", () => {
    const w = world();
    w.runTo(1 * S);
    w.state.reachable = false;
    w.pool.acquire(pod("api-1", 1 * S), () => {});
    w.runTo(3 * S);
    const failed = w.of("connection.failed");
    expect(failed[0]).toMatchObject({ atUs: 2 * S, fields: { reason: "connect-timeout" } });
  });

  it("resets its backoff once a connect succeeds", () => {
    const w = world();
    w.runTo(1 * S);
    w.state.reachable = false;
    const c = w.pool.acquire(pod("api-1", 1 * S), () => {});
    // Two timeouts: waits 100–110 ms and 200–220 ms follow them.
    w.runTo(1 * S + 2 * S + 150 * MS);
    expect(w.of("connection.failed")).toHaveLength(2);
    w.state.reachable = true;
    w.runTo(5 * S);
    expect(c.ready).toBe(true);
    // The connection then breaks (its messages vanish): a fresh stream, so 100–110 ms again.
    w.state.reachable = false;
    const silentFromUs = w.sim.nowUs;
    c.peerSilent();
    w.runTo(silentFromUs + SILENT_PEER_DETECT_US + 1);
    expect(w.of("connection.broken").map((t) => t.fields["reason"])).toEqual(["peer-silent"]);
    const brokenUs = w.of("connection.broken")[0]?.atUs as number;
    w.runTo(brokenUs + 2 * S);
    const nextFailure = w.of("connection.failed").find((t) => t.atUs > brokenUs)?.atUs as number;
    const waitUs = nextFailure - 1 * S - brokenUs; // the connect timeout follows the wait
    expect(waitUs).toBeGreaterThanOrEqual(100 * MS);
    expect(waitUs).toBeLessThan(110 * MS);
  });
});

describe("a connection that breaks", () => {
  function open() {
    const w = world();
    const api = pod("api-0");
    const answers: Array<{ n: number; res: HttpResponse; atUs: number }> = [];
    const c = w.pool.acquire(api, () => {});
    const send = (n: number) => c.send(request(n), (res) => answers.push({ n, res, atUs: w.sim.nowUs }));
    return { w, api, c, answers, send };
  }

  it("fails the requests in flight on it, one trip after the peer died, and only those", () => {
    const { w, api, c, answers, send } = open();
    const answered = send(1);
    const lost = [send(2), send(3)];
    // The answer to 1 is on the wire when the pod dies: its FIN cannot overtake it.
    const answerAtUs = 5 * ONE_WAY_US;
    c.answering(answerAtUs);
    // Scheduled as the data plane schedules answers (before the pod dies, so before the FIN).
    w.sim.scheduleAt(answerAtUs, () => c.answer(answered, { status: 200 }), undefined, Priority.Completion);
    api.alive = false;
    c.peerGone();
    w.runTo(1 * S);
    expect(answers).toEqual([
      { n: 1, res: { status: 200 }, atUs: answerAtUs },
      { n: 2, res: { status: 502, error: "reset", from: "connection-peer-closed" }, atUs: answerAtUs },
      { n: 3, res: { status: 502, error: "reset", from: "connection-peer-closed" }, atUs: answerAtUs },
    ]);
    expect(lost.every((e) => e.done)).toBe(true);
    expect(w.of("connection.broken")[0]?.fields).toMatchObject({ failed: 2, reason: "peer-closed" });
  });

  it("is not ready before anyone hears of the failures, then reconnects (and is refused) after a fresh backoff", () => {
    const { w, api, c, send } = open();
    const seen: string[] = [];
    c.listeners.add(() => seen.push(c.state));
    c.send(request(9), () => seen.push(`answer while ${c.state}`));
    send(1);
    api.alive = false;
    c.peerGone();
    w.runTo(1 * S);
    expect(seen.slice(0, 2)).toEqual(["backoff", "answer while backoff"]);
    const brokenUs = w.of("connection.broken")[0]?.atUs as number;
    const firstRefusal = w.of("connection.failed")[0];
    const wait = (firstRefusal?.atUs as number) - brokenUs - 2 * ONE_WAY_US;
    expect(wait).toBe(backoffDelayUs(CONNECT_BACKOFF, 0, reconnectStream()));
    expect(firstRefusal?.fields["reason"]).toBe("refused");
  });
});

describe("the mTLS handshake, once per connection", () => {
  /** Two proxies whose leaves run out at 60 s: the issuer expires then, and leaves are clamped to it. */
  function identityWorld() {
    let identity!: IdentitySystem;
    const w = world({ handshake: (client, server) => identity.handshake(client, server) });
    identity = new IdentitySystem({ sim: w.sim, emit: (kind, fields) => w.trace.push({ atUs: w.sim.nowUs, kind, fields }) }, [{ name: "c", trustAnchor: "root" }], { issuerValidityUs: 60 * S });
    const api = pod("api-0");
    identity.proxyStarted(w.client);
    identity.proxyStarted(api);
    return { ...w, identity, api };
  }

  it("made when the connection opened keeps it working after the certificates expire", () => {
    const w = identityWorld();
    const c = w.pool.acquire(w.api, () => {});
    expect(c.ready).toBe(true);
    w.runTo(5 * 60 * S);
    expect(w.identity.handshake(w.client, w.api).ok).toBe(false); // a new handshake would fail now
    expect(c.ready).toBe(true);
    let answer: HttpResponse | undefined;
    const e = c.send(request(1), (res) => (answer = res));
    c.answer(e, { status: 200 });
    expect(answer).toEqual({ status: 200 });
    expect(w.of("connection.broken")).toHaveLength(0);
  });

  it("fails when the connection has to be made again", () => {
    const w = identityWorld();
    const listener = (): void => {};
    w.pool.acquire(w.api, listener);
    w.runTo(5 * 60 * S);
    // The endpoint leaves the balancer and comes back: a new connection, a new handshake.
    w.pool.release(w.api, listener, "endpoint-removed");
    const again = w.pool.acquire(w.api, listener);
    w.runTo(5 * 60 * S + 2 * S);
    expect(again.ready).toBe(false);
    expect(w.of("connection.failed")[0]?.fields).toMatchObject({ reason: "tls-handshake-failed" });
    expect(w.of("identity.handshake-failed").length).toBeGreaterThan(0);
  });
});

describe("several connections of one proxy", () => {
  it("keep one reconnect stream per proxy, forked by its label", () => {
    const w = world();
    expect(() => w.sim.rng("proxy/c/app/web-0/reconnect")).toThrow(/already forked/);
    expect(() => w.sim.rng("proxy/c/app/web-0/connect")).toThrow(/already forked/);
  });

  it("are all closed when the client dies, and an endpoint update arriving after that opens none", () => {
    const w = world();
    const a = w.pool.acquire(pod("api-0"), () => {});
    w.pool.closeAll("client-pod-killed");
    expect(a.state).toBe("closed");
    const api1 = pod("api-1");
    const late = w.pool.acquire(api1, () => {});
    w.runTo(10 * S);
    expect(late.state).toBe("closed");
    expect(w.pool.get(api1)).toBeUndefined();
    expect(w.of("connection.established")).toHaveLength(1);
  });

  it("are found by the pod they lead to", () => {
    const w = world();
    const api = [pod("api-0"), pod("api-1")];
    const conns = api.map((p) => w.pool.acquire(p, () => {}));
    expect(api.map((p) => w.pool.get(p))).toEqual(conns);
    expect([...w.pool.to(api[1] as Pod)]).toEqual([conns[1] as Connection]);
  });
});
