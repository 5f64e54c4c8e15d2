// The scenarios in scenarios/ (see test/scenario-suite.ts).

import { describe, expect, it } from "vitest";
import { erlangC, mmcMeanSojourn, mmcSojournQuantile } from "../src/sim/queueing-theory.js";
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
});

interface Chain {
  c: number;
  lambda: number;
  mu: number;
  /** Stationary probabilities of 0..nMax in the system (the tail beyond is negligible). */
  pi: number[];
}

function mmcChain(c: number, lambda: number, mu: number, nMax: number): Chain {
  const pi = [1];
  for (let k = 1; k <= nMax; k += 1) pi.push(((pi[k - 1] as number) * lambda) / (Math.min(k, c) * mu));
  const total = pi.reduce((a, b) => a + b, 0);
  return { c, lambda, mu, pi: pi.map((q) => q / total) };
}

function expectOver(chain: Chain, g: (k: number) => number): number {
  return chain.pi.reduce((a, q, k) => a + q * g(k), 0);
}

/**
 * Asymptotic variance per unit time of ∫ f(N) dt + Σ over arrivals of a(N just before), for the
 * M/M/c birth–death chain: with h solving the Poisson equation, Σ_k π_k Σ_j q_kj (jump reward +
 * h_j − h_k)². For a birth–death chain h_{k+1} − h_k = −Σ_{i≤k} π_i r_i / (λ π_k), r the centred
 * reward rate.
 */
function asymptoticVariance(chain: Chain, f: (k: number) => number, a: (k: number) => number): number {
  const { c, lambda, mu, pi } = chain;
  const drift = expectOver(chain, (k) => f(k) + lambda * a(k));
  let cumulative = 0;
  let v = 0;
  let previousStep = 0;
  for (let k = 0; k < pi.length - 1; k += 1) {
    const q = pi[k] as number;
    if (k > 0) v += q * Math.min(k, c) * mu * previousStep ** 2;
    cumulative += q * (f(k) + lambda * a(k) - drift);
    const step = -cumulative / (lambda * q);
    v += q * lambda * (a(k) + step) ** 2;
    previousStep = step;
  }
  return v;
}

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
