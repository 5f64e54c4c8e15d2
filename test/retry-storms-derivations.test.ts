// The retry-storm scenarios state their bounds as derivations in YAML comments; this file
// recomputes each derivation from its formula and checks the bound in the YAML brackets the derived
// value by about ±4 sd without being much wider, as scenarios.test.ts does for Erlang C. The YAML's
// `expect:` stays the assertion on the model (scenarios-retry-storms.test.ts runs it); this keeps
// the numbers in it derived rather than fitted when either side is edited.

import { describe, expect, it } from "vitest";
import type { ExpectSpec } from "../src/mesh/spec.js";
import { retryBudgetUnits } from "../src/policy/retry-budget.js";
import { loadSpec } from "./scenario-suite.js";

const dir = "scenarios/retry-storms";

type MetricExpect = Extract<ExpectSpec, { kind: "metric" }>;

function expectation(file: string, name: string): MetricExpect {
  const e = loadSpec(`${dir}/${file}`).expect.find((x) => x.name === name);
  if (e === undefined || e.kind !== "metric") throw new Error(`${file} has no metric expectation named "${name}"`);
  return e;
}

function between(file: string, name: string): [number, number] {
  const b = expectation(file, name).bound;
  if (!("between" in b)) throw new Error(`${file}: "${name}" is not a between bound`);
  return b.between;
}

function equals(file: string, name: string): number {
  const b = expectation(file, name).bound;
  if (!("equals" in b)) throw new Error(`${file}: "${name}" is not an equals bound`);
  return b.equals;
}

/**
 * The band holds [lo, hi] (the derived ±4 sd range, or the support) and is no wider than that
 * range grown by `slack` on each side: wide enough for every seed, narrow enough to catch a model
 * that is off by a few sd.
 */
function expectBand(band: [number, number], lo: number, hi: number, slack: number): void {
  expect(band[0]).toBeLessThanOrEqual(lo);
  expect(band[1]).toBeGreaterThanOrEqual(hi);
  expect(band[0]).toBeGreaterThanOrEqual(lo - slack);
  expect(band[1]).toBeLessThanOrEqual(hi + slack);
}

/** Standard normal CDF (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7). */
function phi(x: number): number {
  const t = 1 / (1 + 0.3275911 * (Math.abs(x) / Math.SQRT2));
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-(x * x) / 2);
  return x >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

/** P(a·U₁ + b·U₂ + c·U₃ < x) for independent U(0, 1): inclusion–exclusion over the cube's corners. */
function uniformSumCdf(weights: readonly number[], x: number): number {
  let total = 0;
  for (let mask = 0; mask < 1 << weights.length; mask++) {
    let y = x;
    let sign = 1;
    weights.forEach((w, i) => {
      if ((mask >> i) & 1) {
        y -= w;
        sign = -sign;
      }
    });
    if (y > 0) total += (sign * y ** weights.length) / factorial(weights.length);
  }
  return total / weights.reduce((p, w) => p * w, 1);
}

function factorial(n: number): number {
  return n <= 1 ? 1 : n * factorial(n - 1);
}

/** P(max_{s≤t} |W_s| ≥ a) for a Brownian motion of variance rate v from 0 (reflected walk reaching a). */
function reachProbability(a: number, v: number, t: number): number {
  if (t <= 0) return 0;
  const q = (Math.PI ** 2 * v) / (8 * a * a);
  let stay = 0;
  for (let n = 0; n < 400; n++) stay += ((-1) ** n / (2 * n + 1)) * Math.exp(-((2 * n + 1) ** 2) * q * t);
  return Math.min(1, Math.max(0, 1 - (4 / Math.PI) * stay));
}

describe("retry budgets at 100 % failure: whole reserves, refilled every 6 window rolls", () => {
  const lambda = 50;
  // tower's roll lands at the first budget call 1 s + δ after the last, δ ~ Exp(λ), and moves the
  // index by 2: a slot is overwritten on the 5th roll after it was committed.
  const periodS = 6 * (1 + 1 / lambda);
  const firstBurstS = 1 + 1 / lambda;
  const burstsIn = (fromS: number, toS: number): { count: number; margin: number } => {
    let count = 0;
    let margin = Number.POSITIVE_INFINITY;
    for (let k = 0; k < 100; k++) {
      const t = firstBurstS + k * periodS;
      const driftSd = (1 / lambda) * Math.sqrt(6 * k);
      margin = Math.min(margin, Math.abs(t - fromS) / Math.max(driftSd, 1e-9), Math.abs(t - toS) / Math.max(driftSd, 1e-9));
      if (t >= fromS && t < toS) count += 1;
    }
    return { count, margin };
  };
  const retriesPerBurst = (retryRatio: number, minRetriesPerSecond: number): number => {
    const u = retryBudgetUnits({ retryRatio, minRetriesPerSecond, ttlUs: 10_000_000 });
    return Math.floor(u.reserve / u.withdrawAmount);
  };

  it("full-failure-policies: 15 bursts in [15 s, 110 s), 1 + R/N around Poisson(4 750)", () => {
    const { count, margin } = burstsIn(15, 110);
    expect(count).toBe(15);
    expect(margin).toBeGreaterThan(5);
    const f = "full-failure-policies.yaml";
    const cases: Array<[string, string, number]> = [
      ["default budget: 15 bursts of min·ttl = 100 retries", "default budget: 1 + 1500/N, N ~ Poisson(4750)", retriesPerBurst(0.2, 10)],
      ["guide budget: 15 bursts of 5·10 = 50 retries", "guide budget: 1 + 750/N", retriesPerBurst(0.1, 5)],
      ["ratio 0.3 at 100 % failure: only the reserve counts, 15 × 100 retries as for the default", "ratio 0.3: 1 + 1500/N, as for the default", retriesPerBurst(0.3, 10)],
    ];
    const n = lambda * 95;
    for (const [retriesName, ampName, perBurst] of cases) {
      const r = count * perBurst;
      expect(equals(f, retriesName)).toBe(r);
      expectBand(between(f, ampName), 1 + r / (n + 4 * Math.sqrt(n)), 1 + r / (n - 4 * Math.sqrt(n)), 0.003);
    }
    expectBand(between(f, "the budget refuses every request in the end"), n - 4 * Math.sqrt(n), n + 4 * Math.sqrt(n), 2);
  });

  it("layered: 5 bursts per proxy in [15 s, 47 s), +500 retries per hop, additive", () => {
    const { count, margin } = burstsIn(15, 47);
    expect(count).toBe(5);
    expect(margin).toBeGreaterThan(5);
    const f = "layered.yaml";
    const r = count * retriesPerBurst(0.2, 10);
    expect(equals(f, "the client proxy spends 5 reserves of 100 retries")).toBe(r);
    const n = lambda * 32;
    const hops: Array<[string, number]> = [
      ["the first hop sees 1 + 500/N", 1],
      ["the second hop 1 + 1000/N", 2],
      ["the leaf 1 + 3·500/N: additive in n", 3],
    ];
    for (const [name, above] of hops) {
      const extra = above * r;
      // Two attempts of slack for requests straddling the window's edges.
      expectBand(between(f, name), 1 + extra / (n + 4 * Math.sqrt(n)), 1 + (extra + 2) / (n - 4 * Math.sqrt(n)), 0.003);
    }
  });
});

describe("partial failure with a limit, and the budget's integer ratio", () => {
  const f = "partial-failure.yaml";
  const n = 9999;
  const fail = 0.3;
  const px = [1 - fail, fail * (1 - fail), fail * fail];

  it("attempts per request (1 − f³)/(1 − f), success 1 − f³, per attempt 1 − f", () => {
    const mean = (1 - fail ** 3) / (1 - fail);
    const second = px[0]! * 1 + px[1]! * 4 + px[2]! * 9;
    const sd = Math.sqrt((second - mean * mean) / n);
    expectBand(between(f, "attempts per request (1 − f³)/(1 − f) = 1.39 ± 4 sd"), mean - 4 * sd, mean + 4 * sd, 0.001);
    const s = 1 - fail ** 3;
    const sdS = Math.sqrt((s * (1 - s)) / n);
    expectBand(between(f, "success 1 − f³ = 0.973 ± 4 sd"), s - 4 * sdS, s + 4 * sdS, 0.0005);
    // Delta method on Σ(S_i − 0.7·X_i): outcomes (X, S) = (1,1), (2,1), (3,1), (3,0).
    const p = 1 - fail;
    const outcomes: Array<[number, number, number]> = [
      [px[0]!, 1, 1],
      [px[1]!, 2, 1],
      [fail * fail * p, 3, 1],
      [fail ** 3, 3, 0],
    ];
    const varD = outcomes.reduce((acc, [pr, x, ok]) => acc + pr * (ok - p * x) ** 2, 0);
    const sdA = Math.sqrt(varD / n) / mean;
    expectBand(between(f, "per attempt, success is 1 − f = 0.7 exactly in mean"), p - 4 * sdA, p + 4 * sdA, 0.001);
  });

  it("budgets with no reserve at f = 0.5: ρ = (1 − f)/(w − (1 − f)) with w = trunc(1/ratio)", () => {
    const cases: Array<[string, number]> = [
      ["ratio 0.3 behaves as 1/3: (1 − f)/(3 − (1 − f)) = 0.200 retries per request", 0.3],
      ["ratio 0.2 is 1/5: (1 − f)/(5 − (1 − f)) = 0.111 retries per request", 0.2],
    ];
    for (const [name, ratio] of cases) {
      const w = retryBudgetUnits({ retryRatio: ratio, minRetriesPerSecond: 0, ttlUs: 10_000_000 }).withdrawAmount;
      const p = 0.5;
      const rho = p / (w - p);
      const attempts = n * (1 + rho);
      const sd = (w / (w - p) ** 2) * Math.sqrt((p * (1 - p)) / attempts);
      // Units erased unspent when their slot ages out: 1/12 to 1/6 retry per ≈ 1.01 s roll.
      const rolls = 100 / 1.01;
      const lossLo = rolls / 12 / n;
      const lossHi = rolls / 6 / n;
      expectBand(between(f, name), rho - lossHi - 4 * sd, rho - lossLo + 4 * sd, 0.001);
      // A literal ratio (no truncation) is outside the band.
      const literal = p / (1 / ratio - p);
      if (Math.abs(literal - rho) > 1e-9) expect(literal < between(f, name)[0] || literal > between(f, name)[1]).toBe(true);
    }
  });
});

describe("timeouts × retries: latency quantiles of the backoff", () => {
  const f = "timeouts.yaml";
  const n = 180; // Poisson(240) − 4 sd
  const hdr = 0.001;

  it("per-try 500 ms, limit 1: 1 100 ms + U[25, 50) + under 1 ms", () => {
    const p50 = 1100 + 37.5;
    const sd50 = 25 / (2 * Math.sqrt(n));
    expectBand(between(f, "median latency 500 + 37.5 + 600 ms"), (p50 - 4 * sd50) * (1 - hdr), (p50 + 1 + 4 * sd50) * (1 + hdr), 0.3);
    const p99 = 1100 + 25 + 0.99 * 25;
    const sd99 = 25 * Math.sqrt((0.99 * 0.01) / n);
    expectBand(between(f, "p99 500 + 49.75 + 600 ms, never more than 500 + 50 + 600"), (p99 - 4 * sd99) * (1 - hdr), (1150 + 1) * (1 + hdr), 0.3);
  });

  it("limit 2, per-try 100 ms, deadline 500 ms: 320 ms + U[25, 50) + U[50, 100)", () => {
    const cdf = (x: number): number => uniformSumCdf([25, 50], x - 75);
    const quantile = (q: number): number => {
      let lo = 75;
      let hi = 150;
      for (let i = 0; i < 60; i++) {
        const mid = (lo + hi) / 2;
        if (cdf(mid) < q) lo = mid;
        else hi = mid;
      }
      return lo;
    };
    const density = (x: number): number => (cdf(x + 1e-3) - cdf(x - 1e-3)) / 2e-3;
    const q50 = quantile(0.5);
    const q99 = quantile(0.99);
    expect(q50).toBeCloseTo(112.5, 6);
    expect(q99).toBeCloseTo(145, 6);
    const sd50 = 1 / (2 * density(q50) * Math.sqrt(n));
    const sd99 = Math.sqrt((0.99 * 0.01) / n) / density(q99);
    expectBand(between(f, "median latency 100 + 100 + 120 ms + 112.5 ms of backoff"), (320 + q50 - 4 * sd50) * (1 - hdr), (320 + q50 + 1 + 4 * sd50) * (1 + hdr), 0.3);
    expectBand(between(f, "p99 465 ms, never past the deadline"), (320 + q99 - 4 * sd99) * (1 - hdr), (470 + 1) * (1 + hdr), 0.3);
    expect(between(f, "p99 465 ms, never past the deadline")[1]).toBeLessThan(500);
  });
});

describe("a retried POST executes twice", () => {
  it("duplicates ~ Poisson(1 200 · P(S > 100 ms − o)), S lognormal(median 50, p99 200)", () => {
    const sigma = Math.log(4) / 2.326348;
    const tail = (ms: number): number => 1 - phi(Math.log(ms / 50) / sigma);
    const lo = 1200 * tail(100 - 0.4);
    const hi = 1200 * tail(100 - 1.5);
    expectBand(between("non-idempotent.yaml", "slow first attempts are retried and execute twice"), lo - 4 * Math.sqrt(lo), hi + 4 * Math.sqrt(hi), 1);
  });
});

describe("fail-fast and load shedding", () => {
  it("1 + Poisson(150) fail fast; Poisson(50 × 14.108 s) are shed", () => {
    const f = "fail-fast.yaml";
    const ff = 1 + 50 * 3;
    expectBand(between(f, "the requests queued for 3 s fail with FailFast (504): 1 + Poisson(150)"), ff - 4 * Math.sqrt(150), ff + 4 * Math.sqrt(150), 1);
    const shutS = 27 + (0.005 + 0.05) / 2 + 0.1 + 0.0005 - (10 + 1 / 50 + 3);
    const shed = 50 * shutS;
    const sd = Math.sqrt(shed + 50 ** 2 * ((1 / 50) ** 2 + 0.045 ** 2 / 12));
    expectBand(between(f, "every request while the gate is shut is load-shed (503): Poisson(705)"), shed - 4 * sd, shed + 4 * sd, 1);
  });
});

describe("failure accrual", () => {
  it("7 consecutive failures, then one failed probe per penalty that ends before 60 s", () => {
    // Penalty i: 2^i s plus trunc(2^i · U / 2) whole seconds of jitter (bases ≥ 1 s), capped at 60 s.
    const minPenalty = (i: number): number => Math.min(2 ** i, 60);
    const maxPenalty = (i: number): number => Math.min(2 ** i + Math.max(0, Math.ceil(2 ** i / 2) - 1), 60);
    const ejectedByS = 1;
    let earliest = ejectedByS;
    let latest = ejectedByS;
    let surely = 0;
    let possibly = 0;
    for (let i = 0; i < 10; i++) {
      earliest += minPenalty(i);
      latest += maxPenalty(i);
      if (latest < 60) surely += 1;
      if (earliest - ejectedByS < 60) possibly += 1;
    }
    expect(surely).toBe(5);
    expect(possibly).toBe(5);
    const band = between("circuit-breaking.yaml", "with accrual only the first streak and the 5 probes fail: 7 + 5");
    expect(band).toEqual([7 + surely, 7 + surely + 1]);
    const plain = between("circuit-breaking.yaml", "without accrual P2C still sends the bad endpoint a third: success 2/3");
    expect(plain[0]).toBeLessThan(2 / 3);
    expect(plain[1]).toBeGreaterThan(2 / 3);
  });
});

/**
 * Fluid model of one metastable cell: backlog Q (requests at the pod), arrivals λ plus the retries
 * of attempts that timed out, served at `slots` × 100/s during the trigger and 500/s after. An
 * attempt arriving with Q ahead of it times out when its wait, at the capacity schedule it will
 * see, passes 90 ms (10 ms of service within the 100 ms per-try timeout); attempt k + 1 then
 * arrives 100 ms + U[25·2^(k−1), 50·2^(k−1)) ms later, the 4th only if it beats the 600 ms deadline
 * (41/48 of them). `extra` requests are added to the backlog when the trigger ends, to find how far
 * a cell is from the boundary. Returns the backlog 2.5 s after the trigger ended.
 */
function fluidBacklog(slots: number, durationS: number, extra: number): number {
  const lambda = 300;
  const dt = 1e-4;
  const startS = 0.5;
  const steps = Math.round((startS + durationS + 2.5) / dt);
  const backoffS: Record<number, [number, number]> = { 2: [0.025, 0.05], 3: [0.05, 0.1], 4: [0.1, 0.2] };
  // Scheduled arrival rates of attempts 2–4, as difference arrays (added at start, removed at end).
  const delta: Record<number, Float64Array> = { 2: new Float64Array(steps + 4000), 3: new Float64Array(steps + 4000), 4: new Float64Array(steps + 4000) };
  const rate: Record<number, number> = { 2: 0, 3: 0, 4: 0 };
  let q = 0;
  let added = false;
  for (let i = 0; i < steps; i++) {
    const t = i * dt;
    const inTrigger = t >= startS && t < startS + durationS;
    const capacity = (inTrigger ? slots : 5) * 100;
    if (!added && t >= startS + durationS) {
      q = Math.max(0, q + extra);
      added = true;
    }
    for (const k of [2, 3, 4]) rate[k] = (rate[k] as number) + (delta[k] as Float64Array)[i]!;
    const arrivals: Record<number, number> = { 1: lambda, 2: rate[2]!, 3: rate[3]!, 4: rate[4]! };
    let waitS: number;
    if (inTrigger) {
      const span = startS + durationS - t;
      const slow = slots * 100;
      waitS = q <= slow * span ? q / slow : span + (q - slow * span) / 500;
    } else waitS = q / 500;
    if (waitS > 0.09) {
      for (const k of [1, 2, 3]) {
        const [lo, hi] = backoffS[k + 1]!;
        const j0 = i + Math.round((0.1 + lo) / dt);
        const j1 = i + Math.round((0.1 + hi) / dt);
        const r = (arrivals[k]! * dt * (k === 3 ? 41 / 48 : 1)) / ((j1 - j0) * dt);
        const d = delta[k + 1]!;
        d[j0] = (d[j0] ?? 0) + r;
        d[j1] = (d[j1] ?? 0) - r;
      }
    }
    q = Math.max(0, q + (arrivals[1]! + arrivals[2]! + arrivals[3]! + arrivals[4]! - capacity) * dt);
  }
  return q;
}

/**
 * The backlog that must be added at the end of the trigger for the fluid model to end trapped
 * (negative: that can be taken away); −2 000 means trapped even with the backlog emptied, by the
 * retries already under way.
 */
function fluidMargin(slots: number, durationS: number): number {
  let lo = -2000;
  let hi = 200;
  if (fluidBacklog(slots, durationS, lo) > 100) return lo;
  for (let i = 0; i < 16; i++) {
    const mid = (lo + hi) / 2;
    if (fluidBacklog(slots, durationS, mid) > 100) hi = mid;
    else lo = mid;
  }
  return hi;
}

describe("metastable: which cells are far from the boundary", () => {
  const f = "metastable.yaml";
  const spec = loadSpec(`${dir}/${f}`);
  const lambda = 300;
  const slotsFull = 5;
  const perSlot = 100; // 10 ms a request

  it("a trapped service sees 3 + P(b₁ + b₂ + b₃ < 300 ms) attempts per request", () => {
    // Attempts 1–3 always go out (the third by 350 ms); the 4th only if its backoffs end before the
    // 600 ms deadline: 25U₁ + 50U₂ + 100U₃ < 125 ms − o, o ≤ 1 ms of hops.
    const p4 = uniformSumCdf([25, 50, 100], 125);
    expect(p4).toBeCloseTo(41 / 48, 12);
    const p4Late = uniformSumCdf([25, 50, 100], 124);
    // Requests ending in [30 s, 45 s) against arrivals in it: the requests within 600 ms of either
    // edge put k(u) of their attempts on the other side, k(u) the number of attempt offsets below
    // u; each edge adds λ·∫₀^0.6 E[k(u)²] du = λ·Σᵢⱼ E[(0.6 − max(oᵢ, oⱼ))⁺] to the variance.
    const grid = 24;
    let edge = 0;
    for (let a = 0; a < grid; a++)
      for (let b = 0; b < grid; b++)
        for (let c = 0; c < grid; c++) {
          const b1 = 0.025 + (0.025 * (a + 0.5)) / grid;
          const b2 = 0.05 + (0.05 * (b + 0.5)) / grid;
          const b3 = 0.1 + (0.1 * (c + 0.5)) / grid;
          const offsets = [0, 0.1 + b1, 0.2 + b1 + b2];
          if (0.3 + b1 + b2 + b3 < 0.6) offsets.push(0.3 + b1 + b2 + b3);
          for (const x of offsets) for (const y of offsets) edge += Math.max(0, 0.6 - Math.max(x, y));
        }
    edge /= grid ** 3;
    const n = lambda * 15;
    const sd = Math.sqrt((p4 * (1 - p4)) / n + (2 * lambda * edge) / n ** 2);
    expect(sd).toBeGreaterThan(0.011);
    expect(sd).toBeLessThan(0.0125);
    const bands = spec.expect.filter((e): e is MetricExpect => e.kind === "metric" && e.metric === "amplification" && "between" in e.bound && e.bound.between[0] > 2);
    expect(bands.length).toBeGreaterThan(0);
    for (const e of bands) expectBand((e.bound as { between: [number, number] }).between, 3 + p4Late - 4 * sd, 3 + p4 + 4 * sd, 0.01);
  });

  it("the fluid model puts a fifth's boundary at 0.19 s and has none at half (3 slots = λ)", () => {
    const margin = fluidMargin(1, 0.19);
    expect(Math.abs(margin)).toBeLessThan(2);
    expect(fluidMargin(1, 0.18)).toBeGreaterThan(2);
    expect(fluidMargin(1, 0.2)).toBeLessThan(-2);
    // At 3 slots the fluid backlog never grows: however long the trigger, only a fluctuation of
    // tens of requests at its end can trap the cell.
    expect(fluidBacklog(3, 10, 0)).toBe(0);
    expect(fluidMargin(3, 10)).toBeGreaterThan(40);
    expect(fluidMargin(1, 0.5)).toBe(-2000);
  });

  it("per-seed cells are far from the boundary, fractional ones near it", () => {
    // Probability of being trapped. With the trigger's rate m·μ below λ: the backlog's fluctuation
    // at the end of the trigger, √(λ·D), against the fluid model's margin. With m·μ = λ (no
    // drift): a walk of variance rate λ reflected at 0 that traps once it reaches 27 (90 ms of
    // waiting at 3 slots) with ≥ 0.5 s of trigger left, and cannot without reaching 27 by
    // D − 0.125 s or 45 by D — an estimate, bracketed.
    const trapped = (slots: number, durationS: number): [number, number] => {
      if (lambda - perSlot * slots === 0) {
        const lo = reachProbability(27, lambda, durationS - 0.5);
        const hi = Math.min(1, reachProbability(27, lambda, durationS - 0.125) + reachProbability(45, lambda, durationS));
        return [lo, hi];
      }
      const p = 1 - phi(fluidMargin(slots, durationS) / Math.sqrt(lambda * durationS));
      return [p, p];
    };
    const far = 5e-4;
    let cells = 0;
    for (const fault of spec.faults) {
      if (fault.action.kind !== "degrade" || fault.action.capacityFactor === undefined) continue;
      const traffic = fault.action.select.deployment as string;
      const mine = spec.expect.filter((e): e is MetricExpect => e.kind === "metric" && e.where.traffic === traffic && e.metric === "successRate");
      const recovers = mine.find((e) => "equals" in e.bound && e.bound.equals === 1);
      const staysDown = mine.find((e) => "equals" in e.bound && e.bound.equals === 0);
      cells += 1;
      if (traffic === "budgeted" || traffic === "no-retries") {
        // No timed-out attempt is ever retried: nothing can sustain the backlog.
        expect(recovers?.seeds, traffic).toBeUndefined();
        expect(staysDown, traffic).toBeUndefined();
        continue;
      }
      const slots = Math.max(1, Math.round(slotsFull * fault.action.capacityFactor));
      const [lo, hi] = trapped(slots, ((fault.untilUs as number) - fault.atUs) / 1e6);
      if (hi < far) {
        expect(recovers?.seeds, traffic).toBeUndefined();
        expect(recovers, traffic).toBeDefined();
        expect(staysDown, traffic).toBeUndefined();
      } else if (lo > 1 - far) {
        expect(staysDown?.seeds, traffic).toBeUndefined();
        expect(staysDown, traffic).toBeDefined();
        expect(recovers, traffic).toBeUndefined();
      } else {
        // Near the boundary: each outcome only as a share of seeds.
        expect(recovers ?? staysDown, traffic).toBeDefined();
        for (const e of [recovers, staysDown]) if (e !== undefined) expect(e.seeds?.atLeast, traffic).toBeLessThan(1);
      }
    }
    expect(cells).toBeGreaterThanOrEqual(12);
  });
});
