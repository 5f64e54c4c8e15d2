// A backend's balancer (src/mesh/balancer.ts) over real connections (src/mesh/connection.ts) in a
// small fake world. Reference §4.1/§4.2: an endpoint that is connecting or backing off is not in
// P2C's ready set, so a refused connect fails no request; §4.4: with no ready endpoint requests
// wait in the backend queue and fail fast (504) after 3 s.

import { describe, expect, it } from "vitest";
import { Balancer, type BackendRequest, type Endpoint } from "../../src/mesh/balancer.js";
import type { ConnectionHost } from "../../src/mesh/connection.js";
import { ConnectionPool } from "../../src/mesh/connection-pool.js";
import { Pod } from "../../src/mesh/pod.js";
import type { ProxyErrorKind } from "../../src/policy/request-timeouts.js";
import { Priority } from "../../src/sim/priority.js";
import { Simulation } from "../../src/sim/simulation.js";

const MS = 1_000;
const S = 1_000_000;

function pod(name: string, startedUs = 0, meshed = true): Pod {
  const deployment = name.replace(/-\d+$/, "");
  return new Pod({ cluster: "c", namespace: "app", deployment, labels: {}, serviceAccount: deployment, meshed, readinessProbe: undefined }, name, startedUs, true);
}

function world() {
  const sim = new Simulation({ seed: "balancer-test" });
  const kinds: string[] = [];
  const host: ConnectionHost = {
    sim,
    emit: (kind, fields) => kinds.push(`${kind}/${String(fields["reason"])}`),
    rng: (label) => sim.rng(label),
    latencyUs: () => 1 * MS,
    reaches: () => true,
    handshake: () => ({ ok: true, reason: "mtls-established" }),
  };
  const client = pod("web-0");
  const pool = new ConnectionPool(client, host);
  const balancer = new Balancer("web-0/api", host, undefined, client, {
    acquire: (p, listener) => (p.meshed ? pool.acquire(p, listener) : undefined),
    release: (p, listener, reason) => pool.release(p, listener, reason),
  });
  const sentTo: string[] = [];
  const sentAtUs: number[] = [];
  const failed: Array<{ atUs: number; error: ProxyErrorKind }> = [];
  /** A request every 10 ms from `fromUs` until `toUs`; each answered 2 ms after it is sent. */
  const traffic = (fromUs: number, toUs: number): void => {
    for (let t = fromUs; t < toUs; t += 10 * MS) {
      sim.scheduleAt(t, () => {
        const r: BackendRequest = {
          cancelled: false,
          send: (endpoint: Endpoint) => {
            sentTo.push(endpoint.pod.name);
            sentAtUs.push(sim.nowUs);
            const sentUs = sim.nowUs;
            sim.schedule(2 * MS, () => balancer.complete(endpoint, sentUs, false, false), undefined, Priority.Completion);
          },
          fail: (error) => failed.push({ atUs: sim.nowUs, error }),
        };
        balancer.submit(r);
      }, undefined, Priority.Arrival);
    }
  };
  const runTo = (untilUs: number): void => {
    sim.run({ untilUs, maxEvents: 1_000_000 });
  };
  return { sim, pool, balancer, sentTo, sentAtUs, failed, traffic, runTo, kinds };
}

describe("endpoints whose connection is not open", () => {
  it("get no request: a dead pod's endpoint is refused, backs off, and P2C sends everything to the other", () => {
    const w = world();
    const live = pod("api-0");
    const dead = pod("api-1");
    dead.alive = false;
    w.balancer.setEndpoints([live, dead]);
    w.traffic(0, 60 * S);
    w.runTo(61 * S);
    expect(w.sentTo).toHaveLength(6000);
    expect(new Set(w.sentTo)).toEqual(new Set(["api-0"]));
    expect(w.failed).toEqual([]);
    // Its connects keep being refused (about two a second once the backoff is at 500 ms).
    expect(w.kinds.filter((k) => k === "connection.failed/refused").length).toBeGreaterThan(100);
  });

  it("never become ready again once their pod is dead, whatever the backoff timers do", () => {
    const w = world();
    const a = pod("api-0");
    const b = pod("api-1");
    w.balancer.setEndpoints([a, b]);
    w.traffic(0, 60 * S);
    w.runTo(10 * S);
    a.alive = false;
    b.alive = false;
    for (const p of [a, b]) for (const c of w.pool.to(p)) c.peerGone();
    const before = w.sentTo.length;
    w.runTo(61 * S);
    // Nothing is sent after the break reaches the client (one trip); what waits fails fast after 3 s.
    expect(w.sentTo.length - before).toBeLessThanOrEqual(1);
    expect(w.failed.length).toBeGreaterThan(0);
    expect(w.failed[0]).toEqual({ atUs: 10 * S + 3 * S + 10 * MS, error: "fail-fast" });
    expect(w.failed.some((f) => f.error === "load-shed")).toBe(true);
  });

  it("a new pod's endpoint waits for its connection, then takes traffic", () => {
    const w = world();
    w.balancer.setEndpoints([pod("api-0")]);
    w.runTo(5 * S);
    const fresh = pod("api-1", 5 * S);
    w.balancer.setEndpoints([pod("api-0"), fresh].slice(1));
    w.traffic(5 * S, 6 * S);
    w.runTo(7 * S);
    // Two round trips (TCP, TLS) of 2 ms: the first request waits in the queue until 5 s + 4 ms.
    expect(w.sentTo[0]).toBe("api-1");
    expect(w.sentAtUs[0]).toBe(5 * S + 4 * MS);
    expect(w.failed).toEqual([]);
    expect(w.kinds).toContain("connection.established/connected");
  });

  it("an unmeshed pod needs no connection of its own: its endpoint is ready at once", () => {
    const w = world();
    w.balancer.setEndpoints([pod("legacy-0", 5 * S, false)]);
    w.traffic(0, 100 * MS);
    w.runTo(1 * S);
    expect(w.sentTo).toHaveLength(10);
    expect(w.pool.get(pod("legacy-0"))).toBeUndefined();
  });
});

describe("a balancer letting go of its endpoints", () => {
  it("closes the connections of endpoints discovery dropped, and of all of them when it is closed", () => {
    const w = world();
    const a = pod("api-0");
    const b = pod("api-1");
    w.balancer.setEndpoints([a, b]);
    const ca = w.pool.get(a);
    w.balancer.setEndpoints([b]);
    expect(ca?.state).toBe("closed");
    expect(w.pool.get(b)?.state).toBe("open");
    w.balancer.close("backend-dropped");
    expect(w.pool.get(b)).toBeUndefined();
    expect(w.kinds).toEqual(["connection.established/steady-state", "connection.established/steady-state", "connection.closed/endpoint-removed", "connection.closed/backend-dropped"]);
  });

  it("keeps the connections when only failure accrual changes", () => {
    const w = world();
    const a = pod("api-0");
    w.balancer.setEndpoints([a]);
    const before = w.pool.get(a);
    w.balancer.setAccrual({ maxFailures: 7, minPenaltyUs: 1 * S, maxPenaltyUs: 60 * S, jitterRatio: 0.5 });
    expect(w.pool.get(a)).toBe(before);
    expect(before?.state).toBe("open");
  });
});
