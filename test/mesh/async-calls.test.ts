// Calls an app makes after responding (`async: true`) and calls made with a probability: the app
// on its own against a recording host (src/mesh/app.ts), then whole meshes where the async call
// is a real request through the client pod's proxy.

import { describe, expect, it } from "vitest";
import { metric } from "../../src/api/query.js";
import { App, type AppHost } from "../../src/mesh/app.js";
import { DEFAULT_BEHAVIOR } from "../../src/mesh/defaults.js";
import type { HttpRequest, Respond } from "../../src/mesh/http.js";
import type { BehaviorSpec, CallSpec } from "../../src/mesh/spec.js";
import { runWorldSpec } from "../../src/scenario/run.js";
import { Priority } from "../../src/sim/priority.js";
import { Simulation } from "../../src/sim/simulation.js";
import { specFromText } from "../support/spec-from-text.js";

const MS = 1_000;

/** An app of `behavior` whose host logs responses and calls, and holds each call's answer until `answer` is called. */
function appWith(behavior: BehaviorSpec) {
  const sim = new Simulation({ seed: "async-calls" });
  const log: string[] = [];
  const pending: Array<{ spec: CallSpec; respond: Respond }> = [];
  const waits: number[] = [];
  const host: AppHost = {
    get nowUs() {
      return sim.nowUs;
    },
    after: (delayUs, handler, arg) => void sim.schedule(delayUs, handler, arg, Priority.Completion),
    call: (spec, _parent, respond) => {
      log.push(`${sim.nowUs} call ${spec.to}`);
      pending.push({ spec, respond });
    },
    sideEffect: () => {},
    busy: () => {},
    rejected: () => {},
    waited: (waitUs) => void waits.push(waitUs),
  };
  const app = new App(behavior, host, { latency: sim.rng("app/latency"), errors: sim.rng("app/errors"), calls: sim.rng("app/calls") });
  const request = (n: number): HttpRequest => ({ method: "GET", path: "/", authority: "api:80", bodyBytes: 0, origin: { id: n, traffic: "t" } });
  const send = (n: number) => app.handle(request(n), (res) => log.push(`${sim.nowUs} respond ${n} ${res.status}`));
  const run = () => sim.run({ untilUs: 10_000 * MS, maxEvents: 100_000 });
  /** Answer every call made so far at `atUs`, with 200. */
  const answerAt = (atUs: number) => sim.schedule(atUs, () => { for (const p of pending) p.respond({ status: 200, from: "test" }); }, undefined);
  return { sim, app, log, pending, waits, send, run, answerAt };
}

const call = (to: string, more: Partial<CallSpec> = {}): CallSpec => ({ to: `http://${to}.app.svc.cluster.local/`, method: "GET", required: true, ...more });

function behavior(more: Partial<BehaviorSpec>): BehaviorSpec {
  return { ...DEFAULT_BEHAVIOR, latency: { dist: "constant", valueUs: 10 * MS }, ...more };
}

describe("async calls in the app", () => {
  it("are made after the response, which waits only for the calls without async", () => {
    const a = appWith(behavior({ calls: [call("sync"), call("later", { afterResponse: true })] }));
    a.send(1);
    a.answerAt(3 * MS);
    a.run();
    // The sync call goes out at once; the response waits for its answer (3 ms) and then the service time (10 ms).
    expect(a.log).toEqual([
      "0 call http://sync.app.svc.cluster.local/",
      `${13 * MS} respond 1 200`,
      `${13 * MS} call http://later.app.svc.cluster.local/`,
    ]);
  });

  it("do not change the response, whatever they answer", () => {
    const a = appWith(behavior({ calls: [call("later", { afterResponse: true })] }));
    a.send(1);
    a.run();
    expect(a.log).toEqual([`${10 * MS} respond 1 200`, `${10 * MS} call http://later.app.svc.cluster.local/`]);
    a.pending[0]?.respond({ status: 503, from: "test" });
    a.run();
    expect(a.log).toHaveLength(2);
  });

  it("run in parallel mode too, after every parallel call without async is back", () => {
    const a = appWith(behavior({ callMode: "parallel", calls: [call("one"), call("later", { afterResponse: true }), call("two")] }));
    a.send(1);
    a.answerAt(3 * MS);
    a.run();
    expect(a.log).toEqual([
      "0 call http://one.app.svc.cluster.local/",
      "0 call http://two.app.svc.cluster.local/",
      `${13 * MS} respond 1 200`,
      `${13 * MS} call http://later.app.svc.cluster.local/`,
    ]);
  });

  it("are not made for a request its pod dropped when it died", () => {
    const a = appWith(behavior({ calls: [call("later", { afterResponse: true })] }));
    a.send(1);
    a.sim.schedule(5 * MS, () => a.app.abandonAll({ status: 502, error: "reset", from: "pod-killed" }), undefined);
    a.run();
    expect(a.log).toEqual([`${5 * MS} respond 1 502`]);
  });
});

describe("calls with a probability", () => {
  it("are made for about that share of requests, from the app's calls stream", () => {
    // n = 4000 Bernoulli(0.3) draws: σ = √(0.3·0.7/4000) = 0.0072, so ± 4σ is ± 0.029.
    const a = appWith(behavior({ concurrency: 4000, calls: [call("sometimes", { afterResponse: true, probability: 0.3 })] }));
    for (let n = 0; n < 4000; n += 1) a.send(n);
    a.run();
    expect(Math.abs(a.pending.length / 4000 - 0.3)).toBeLessThanOrEqual(0.029);
  });

  it("count as succeeded when not made, so a sequential chain goes on", () => {
    const a = appWith(behavior({ calls: [call("never", { probability: 0 }), call("always")] }));
    a.send(1);
    a.run();
    expect(a.log).toEqual(["0 call http://always.app.svc.cluster.local/"]);
  });
});

describe("queue delay in the app", () => {
  it("is the wait from reaching the container to the start of service, 0 when a slot is free", () => {
    // One slot, 10 ms per request, three requests at once: they start at 0, 10 and 20 ms.
    const a = appWith(behavior({ concurrency: 1 }));
    for (const n of [1, 2, 3]) a.send(n);
    a.run();
    expect(a.waits).toEqual([0, 10 * MS, 20 * MS]);
  });
});

/** front answers in 10 ms and then calls worker, which takes 50 ms; `mode` says how front calls it. */
function chain(mode: "async" | "sync", extra = ""): string {
  return `name: async-${mode}
seed: 4
duration: 20s
warmup: 2s
clusters:
  - name: c
    services:
      - {name: client, namespace: app}
      - {name: front, namespace: app}
      - {name: worker, namespace: app}
network:
  podToPod: {dist: constant, value: 200us}
behavior:
  - select: {deployment: front}
    latency: {dist: constant, value: 10ms}
    calls: [{to: "http://worker.app.svc.cluster.local/", async: ${mode === "async"}}]
  - select: {deployment: worker}
    latency: {dist: constant, value: 50ms}
traffic:
  - {name: calls, from: {namespace: app, deployment: client}, to: "http://front.app.svc.cluster.local/", rate: 50/s, arrivals: constant}
${extra}`;
}

describe("async calls in a mesh", () => {
  const fired = runWorldSpec(specFromText(chain("async"), "async.yaml"));
  const waited = runWorldSpec(specFromText(chain("sync"), "sync.yaml"));

  it("do not add their latency to the response", () => {
    // Async: 10 ms of service plus the proxies and network, well under 30 ms; sync adds worker's 50 ms.
    expect(metric(fired, "latencyAbove", { traffic: "calls" }, undefined, { threshold: "30ms" })).toBe(0);
    expect(metric(fired, "latencyAbove", { traffic: "calls" }, undefined, { threshold: "10ms" })).toBe(1);
    expect(metric(waited, "latencyAbove", { traffic: "calls" }, undefined, { threshold: "60ms" })).toBe(1);
  });

  it("are real requests through the client pod's proxy: in the metrics and in viz edges", () => {
    // Constant arrivals at 50/s for the 18 s after warmup: 900 requests reach front, and each
    // makes one call, ending 10 ms after front's response plus the trip there and back with worker's 50 ms.
    expect(metric(fired, "requests", { server: "c/app/front" })).toBe(900);
    const down = metric(fired, "requests", { client: "c/app/front", service: "worker" });
    expect(down).not.toBeNull();
    expect(Math.abs((down as number) - 900)).toBeLessThanOrEqual(4);
    expect(metric(fired, "successRate", { client: "c/app/front", service: "worker" })).toBe(1);
    expect(fired.world.edges.map((e) => `${e.client} → ${e.server} ${e.secured}`)).toContain("c/app/front → c/app/worker √");
    expect(fired.world.invariantViolations).toEqual([]);
  });

  it("end with their pod: a killed front leaves no handler behind and breaks no invariant", () => {
    const killed = runWorldSpec(specFromText(chain("async", "faults:\n  - {at: 10s, killPods: {select: {deployment: front}}}\n"), "killed.yaml"));
    expect(killed.world.invariantViolations).toEqual([]);
    expect(metric(killed, "requests", { client: "c/app/front", service: "worker" })).toBeGreaterThan(0);
  });
});
