// The scenarios in scenarios/ (see test/scenario-suite.ts).

import { describe, expect, it } from "vitest";
import {
  asymptoticVariance,
  erlangC,
  expectOver,
  mmcChain,
  mmcMeanSojourn,
  mmcMeanWait,
  mmcMeanWaitSigma,
  mmcSojournQuantile,
  mmcUtilizationSigma,
} from "../src/sim/queueing-theory.js";
import { itRunsEveryScenario, loadSpec, scenarioFiles } from "./scenario-suite.js";

describe("scenarios", () => {
  it("exist", () => {
    expect(scenarioFiles("scenarios").length).toBeGreaterThanOrEqual(4);
  });

  itRunsEveryScenario("scenarios");

  // Each band is mean ± 4σ. The sojourn times of successive customers are strongly correlated
  // (a long queue delays everyone behind it), so σ is not the i.i.d. one: it comes from the M/M/2
  // queue-length chain itself. For the mean, W̄ − W ≈ Z/(λT) with Z = ∫N dt − W·(arrivals), an
  // additive functional of the birth–death chain whose asymptotic variance the Poisson equation
  // gives exactly. For a quantile x_p, σ = √(p(1−p)·τ/n)/f(x_p), where τ (≈ 24 at p50, ≈ 61 at p99,
  // against 1 for independent samples) is computed the same way from P(T > x_p | queue length at
  // arrival) plus each customer's own spread given that length, scaled by the share the
  // cross-correlation of successive customers adds to the mean's variance (exact there, 1.26); an
  // approximation, as a quantile's indicator has no exact additive form on this chain.
  it("mmc-validation's bands are Erlang C ± 4σ, σ from the M/M/2 chain's correlation", () => {
    const spec = loadSpec("scenarios/mmc-validation.yaml");
    const server = spec.behavior.find((b) => b.select.deployment === "server");
    expect(server?.concurrency).toBe(2);
    expect(server?.latency).toEqual({ dist: "exponential", meanUs: 10_000 });
    expect(spec.traffic[0]?.rate[0]?.rateRps).toBe(160);
    const c = 2;
    const lambda = 1.6; // per 10 ms
    const mu = 1;
    const unitMs = 10;
    const horizon = ((spec.durationUs - spec.warmupUs) / 1e3) / unitMs; // in units of 10 ms
    const n = lambda * horizon;
    const chain = mmcChain(c, lambda, mu, 200);
    const W = mmcMeanSojourn(c, lambda, mu);

    // The mean: exact.
    const meanVar = asymptoticVariance(chain, (k) => k, () => -W) / (lambda ** 2 * horizon);
    // The same variance without the cross-correlation of successive customers' own delays.
    const delay = (k: number): number => Math.max(0, k - c + 1) / (c * mu);
    const noCross = (asymptoticVariance(chain, () => 0, (k) => delay(k) + 1 / mu - W) + lambda * expectOver(chain, (k) => delay(k) / (c * mu) + 1 / mu ** 2)) / (lambda ** 2 * horizon);
    const crossShare = meanVar / noCross;
    expect(crossShare).toBeGreaterThan(1);
    expect(crossShare).toBeLessThan(1.5);

    const quantileSigma = (p: number): number => {
      const x = mmcSojournQuantile(c, lambda, mu, p);
      const tail = (k: number): number => sojournExceeds(k, x, c, mu);
      const own = expectOver(chain, (k) => tail(k) * (1 - tail(k)));
      const rate = (asymptoticVariance(chain, () => 0, (k) => tail(k) - (1 - p)) + lambda * own) * crossShare;
      return Math.sqrt(rate * horizon) / n / mmcSojournDensity(c, lambda, mu, x);
    };
    const theory: Record<string, { mean: number; sigma: number }> = {
      latencyMean: { mean: W * unitMs, sigma: Math.sqrt(meanVar) * unitMs },
      latencyP50: { mean: mmcSojournQuantile(c, lambda, mu, 0.5) * unitMs, sigma: quantileSigma(0.5) * unitMs },
      latencyP99: { mean: mmcSojournQuantile(c, lambda, mu, 0.99) * unitMs, sigma: quantileSigma(0.99) * unitMs },
      utilization: { mean: lambda / (c * mu), sigma: Math.sqrt(asymptoticVariance(chain, (k) => Math.min(k, c) / c, () => 0) / horizon) },
    };
    let checked = 0;
    for (const e of spec.expect) {
      if (e.kind !== "metric" || !("between" in e.bound) || theory[e.metric] === undefined) continue;
      const { mean, sigma } = theory[e.metric] as { mean: number; sigma: number };
      const [lo, hi] = e.bound.between;
      for (const side of [(mean - lo) / sigma, (hi - mean) / sigma]) {
        expect(side, `${e.metric}: [${lo}, ${hi}] around ${mean} ± ${sigma}`).toBeGreaterThanOrEqual(3.9);
        expect(side, `${e.metric}: [${lo}, ${hi}] around ${mean} ± ${sigma}`).toBeLessThanOrEqual(4.5);
      }
      checked += 1;
    }
    expect(checked).toBe(4);
  });

  // Jackson's theorem: in an open network of M/M/c nodes with Markov routing, each node is an
  // independent M/M/c fed at the rate the traffic equations λ_i = γ_i + Σ_j λ_j p_ji give. The
  // routing here is each behaviour's async calls (one destination each, made with `probability`).
  // Each utilization band must be the node's formula ± 4σ (3.9σ..4.5σ after rounding), σ from the
  // node's own queue-length chain over the measured time. Each wait band is the Cornish–Fisher
  // quantile at z = ∓4 from the skewness and excess kurtosis of the run's mean wait, measured on the
  // exact FCFS M/M/c (Kiefer–Wolfowitz recursion, 20 000 runs of the scenario's window; the file
  // says how), rounded outwards by at most 0.5σ.
  // Skewness γ and excess kurtosis κ of each node's mean wait over the run's window, from the exact
  // FCFS recursion (20 000 runs, se(γ) = 0.017): see scenarios/jackson-network.yaml.
  const WAIT_SHAPE: Record<string, [number, number]> = {
    "queueDelayMean front": [0.128, 0.067],
    "queueDelayMean worker": [0.16, 0.007],
    "queueDelayMean audit": [0.218, 0.118],
  };
  it("jackson-network's bands are the traffic equations and Erlang C ± 4σ (waits skew-corrected)", () => {
    const spec = loadSpec("scenarios/jackson-network.yaml");
    const nodes = spec.behavior.map((b) => b.select.deployment as string);
    const p = new Map<string, Array<[string, number]>>();
    for (const b of spec.behavior) {
      expect(b.latency.dist).toBe("exponential");
      p.set(b.select.deployment as string, b.calls.map((c) => {
        expect(c.afterResponse).toBe(true);
        return [new URL(c.to).hostname.split(".")[0] as string, c.probability ?? 1];
      }));
    }
    const gamma = new Map(nodes.map((n) => [n, 0]));
    for (const t of spec.traffic) {
      const to = new URL(t.to).hostname.split(".")[0] as string;
      gamma.set(to, (gamma.get(to) ?? 0) + (t.rate[0]?.rateRps ?? 0));
    }
    // Fixed-point iteration of the traffic equations: a contraction, as every cycle leaks.
    let lambda = new Map(gamma);
    for (let i = 0; i < 200; i += 1) {
      const next = new Map(gamma);
      for (const [from, calls] of p) for (const [to, q] of calls) next.set(to, (next.get(to) ?? 0) + (lambda.get(from) ?? 0) * q);
      lambda = next;
    }
    expect(lambda.get("front")).toBeCloseTo(240 / (1 - 0.5 * 0.6 * 0.2), 9);

    const horizon = (spec.durationUs - spec.warmupUs) / 1e6;
    const theory = new Map<string, { mean: number; sigma: number }>();
    for (const b of spec.behavior) {
      const n = b.select.deployment as string;
      const l = lambda.get(n) as number;
      const c = b.concurrency;
      const mu = 1e6 / (b.latency as { meanUs: number }).meanUs;
      const chain = mmcChain(c, l, mu);
      theory.set(`utilization ${n}`, { mean: l / (c * mu), sigma: mmcUtilizationSigma(chain, horizon) });
      theory.set(`queueDelayMean ${n}`, { mean: mmcMeanWait(c, l, mu) * 1e3, sigma: mmcMeanWaitSigma(chain, horizon) * 1e3 });
    }
    let checked = 0;
    for (const e of spec.expect) {
      if (e.kind !== "metric" || !("between" in e.bound)) continue;
      const key = `${e.metric} ${e.where.server?.split("/")[2] ?? ""}`;
      const t = theory.get(key);
      expect(t, key).toBeDefined();
      const { mean, sigma } = t as { mean: number; sigma: number };
      const [lo, hi] = e.bound.between;
      const shape = WAIT_SHAPE[key];
      if (shape !== undefined) {
        const [g, k] = shape;
        const cf = (z: number): number => z + ((z * z - 1) * g) / 6 + ((z ** 3 - 3 * z) * k) / 24 - ((2 * z ** 3 - 5 * z) * g * g) / 36;
        const outLo = (mean + sigma * cf(-4) - lo) / sigma;
        const outHi = (hi - (mean + sigma * cf(4))) / sigma;
        for (const out of [outLo, outHi]) {
          expect(out, `${key}: [${lo}, ${hi}] around ${mean} ± ${sigma}, γ ${g}, κ ${k}`).toBeGreaterThanOrEqual(0);
          expect(out, `${key}: [${lo}, ${hi}] around ${mean} ± ${sigma}, γ ${g}, κ ${k}`).toBeLessThanOrEqual(0.5);
        }
        checked += 1;
        continue;
      }
      for (const side of [(mean - lo) / sigma, (hi - mean) / sigma]) {
        expect(side, `${key}: [${lo}, ${hi}] around ${mean} ± ${sigma}`).toBeGreaterThanOrEqual(3.9);
        expect(side, `${key}: [${lo}, ${hi}] around ${mean} ± ${sigma}`).toBeLessThanOrEqual(4.5);
      }
      checked += 1;
    }
    expect(checked).toBe(2 * nodes.length);
  });
});

/** P(T > x) for a FIFO M/M/c customer who finds k in the system: Erlang(k − c + 1, cμ) wait + Exp(μ) service. */
function sojournExceeds(k: number, x: number, c: number, mu: number): number {
  const j = Math.max(0, k - c + 1);
  if (j === 0) return Math.exp(-mu * x);
  const a = c * mu;
  const b = a - mu;
  // P(Wq > x) = P(Poisson(ax) < j); the rest, e^{−μx}(a/b)^j P(Gamma(j, b) ≤ x), in logs.
  let waitExceeds = 0;
  let term = Math.exp(-a * x);
  for (let i = 0; i < j; i += 1) {
    if (i > 0) term *= (a * x) / i;
    waitExceeds += term;
  }
  let logFactorial = 0;
  for (let i = 2; i <= j; i += 1) logFactorial += Math.log(i);
  let served = 0;
  for (let i = j; i < j + 400; i += 1) {
    if (i > j) logFactorial += Math.log(i);
    served += Math.exp(j * Math.log(a / b) - mu * x - b * x + i * Math.log(b * x) - logFactorial);
  }
  return Math.min(1, waitExceeds + served);
}

/** Density of the M/M/c sojourn time at x (the derivative of the tail in mmcSojournQuantile). */
function mmcSojournDensity(c: number, lambda: number, mu: number, x: number): number {
  const C = erlangC(c, lambda, mu);
  const d = c * mu - lambda;
  return (1 - C) * mu * Math.exp(-mu * x) + (C * mu * d * (Math.exp(-d * x) - Math.exp(-mu * x))) / (mu - d);
}
