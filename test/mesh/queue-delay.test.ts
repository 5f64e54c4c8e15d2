// The queueing delay at a server (`queueDelayMean`) against Erlang C, and `latencyAbove` over a
// service whose latency is known exactly.

import { describe, expect, it } from "vitest";
import { metric } from "../../src/api/query.js";
import { runWorldSpec } from "../../src/scenario/run.js";
import { erlangC, mmcChain, mmcMeanWait, mmcMeanWaitSigma } from "../../src/sim/queueing-theory.js";
import { specFromText } from "../support/spec-from-text.js";

/** One meshed pod with `c` slots and exponential service, fed Poisson arrivals; constant delays elsewhere. */
function mmc(seed: number, c: number, rate: number, meanMs: number): string {
  return `name: mmc-wait
seed: ${seed}
duration: 5m
warmup: 10s
clusters:
  - name: lab
    services:
      - {name: server, namespace: q}
      - {name: client, namespace: q}
network:
  podToPod: {dist: constant, value: 200us}
behavior:
  - select: {deployment: server}
    concurrency: ${c}
    queueLimit: 100000
    latency: {dist: exponential, mean: ${meanMs}ms}
traffic:
  - {name: arrivals, from: {namespace: q, deployment: client}, to: "http://server.q.svc.cluster.local/", rate: ${rate}/s}
`;
}

describe("queueDelayMean matches Erlang C", () => {
  // M/M/2 with λ = 120/s and μ = 100/s per slot (10 ms): ρ = 0.6, C(2, 1.2) = 1.2²/2/(1 − 0.6) /
  // (1 + 1.2 + 1.8) = 0.45, so Wq = C/(cμ − λ) = 0.45/80 s = 5.625 ms. The proxies and the network
  // only delay arrivals by a constant, which leaves a Poisson stream Poisson.
  // σ for T = 290 s after warmup: waits of successive requests are correlated through the queue, so
  // not sd(Wq)/√n (sd = √(C(2 − C))/(cμ − λ) = 10.44 ms over n = λT = 34 800: 0.056 ms) but, by
  // Little's law on the queue, W̄q − Wq ≈ (∫Q dt − Wq·arrivals)/(λT), whose variance the M/M/2
  // queue-length chain gives (mmcMeanWaitSigma): 0.236 ms, 18× the i.i.d. variance. The band is
  // ± 4σ, Wq ∈ [4.68, 6.57] ms, on every seed.
  const c = 2;
  const lambda = 120;
  const mu = 100;
  const horizon = 290;
  const wq = mmcMeanWait(c, lambda, mu) * 1e3;
  const sigma = mmcMeanWaitSigma(mmcChain(c, lambda, mu), horizon) * 1e3;

  it("the closed form is what the comment derives", () => {
    expect(erlangC(c, lambda, mu)).toBeCloseTo(0.45, 12);
    expect(wq).toBeCloseTo(5.625, 9);
    expect(sigma).toBeGreaterThan(4 * (Math.sqrt(0.45 * 1.55) / 80 / Math.sqrt(lambda * horizon)) * 1e3);
  });

  it.each([1, 2, 3, 4])("seed %i: within Wq ± 4σ", (seed) => {
    const run = runWorldSpec(specFromText(mmc(seed, c, lambda, 10), "mmc-wait.yaml"));
    const measured = metric(run, "queueDelayMean", { server: "lab/q/server" });
    expect(measured).not.toBeNull();
    expect(Math.abs((measured as number) - wq), `measured ${measured} ms against ${wq} ± 4 × ${sigma}`).toBeLessThanOrEqual(4 * sigma);
  });
});

describe("latencyAbove over a constant-latency service", () => {
  // An unmeshed client and server with no network delay: every request takes exactly the server's
  // 20 ms (20/s against 32 slots never queues: a request is served in 20 ms, so at most one or two
  // are ever in service). The fraction above a threshold is 1 below 20 ms and 0 above it, once the
  // threshold is clear of 20 ms by more than the histogram's resolution (20 000 µs ± 20 µs).
  const run = runWorldSpec(
    specFromText(
      `name: constant
seed: 1
duration: 20s
clusters:
  - name: lab
    services:
      - {name: server, namespace: q, meshed: false}
      - {name: client, namespace: q, meshed: false}
network:
  podToPod: {dist: constant, value: 0us}
behavior:
  - select: {deployment: server}
    latency: {dist: constant, value: 20ms}
traffic:
  - {name: calls, from: {namespace: q, deployment: client}, to: "http://server.q.svc.cluster.local/", rate: 20/s}
expect:
  - {name: none above 20.1 ms, metric: latencyAbove, threshold: 20.1ms, where: {traffic: calls}, equals: 0}
  - {name: all above 19.9 ms, metric: latencyAbove, threshold: 19.9ms, where: {traffic: calls}, equals: 1}
`,
      "constant.yaml",
    ),
  );

  it.each([
    ["1ms", 1],
    ["19.9ms", 1],
    ["20.1ms", 0],
    ["1s", 0],
  ])("above %s: %d", (threshold, want) => {
    expect(metric(run, "latencyAbove", { traffic: "calls" }, undefined, { threshold })).toBe(want);
    expect(metric(run, "latencyAbove", { server: "lab/q/server" }, undefined, { threshold })).toBe(want);
  });

  it("the expectations with a threshold hold and say what they measured", () => {
    expect(run.expectations.map((e) => [e.pass, e.expected])).toEqual([
      [true, "latencyAbove > 20.1 ms = 0"],
      [true, "latencyAbove > 19.9 ms = 1"],
    ]);
  });

  it("the query API asks for the threshold latencyAbove needs, and refuses one elsewhere", () => {
    expect(() => metric(run, "latencyAbove", { traffic: "calls" })).toThrow(/needs a threshold/);
    expect(() => metric(run, "latencyP99", { traffic: "calls" }, undefined, { threshold: "1ms" })).toThrow(/takes no threshold/);
  });

  it("nothing waits in a queue that never forms", () => {
    expect(metric(run, "queueDelayMean", { server: "lab/q/server" })).toBe(0);
  });
});
