import { describe, expect, it } from "vitest";
import { parseDistribution } from "../../src/sim/distribution-spec.js";
import { clampDelayUs, type DistributionSpec, lognormalFromMedianP99, MAX_DELAY_US, makeDistribution, normalCdf, sampleUs, standardNormal, Z_99 } from "../../src/sim/distributions.js";
import { forkRng } from "../../src/sim/rng.js";

const N = 100_000;

function samples(spec: DistributionSpec, n = N, label = "d"): Float64Array {
  const d = makeDistribution(spec);
  const rng = forkRng(11, label);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = d.sample(rng);
  return out.sort();
}
const mean = (xs: Float64Array) => xs.reduce((a, b) => a + b, 0) / xs.length;
const variance = (xs: Float64Array) => {
  const m = mean(xs);
  return xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length;
};
const q = (sorted: Float64Array, p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number;

describe("distributions", () => {
  it("constant always returns its value", () => {
    expect(samples({ dist: "constant", valueUs: 150 }, 10)).toEqual(new Float64Array(10).fill(150));
  });

  it("uniform stays in [min, max) with mean (min+max)/2", () => {
    const xs = samples({ dist: "uniform", minUs: 50_000, maxUs: 300_000 });
    expect(xs[0]).toBeGreaterThanOrEqual(50_000);
    expect(xs[xs.length - 1]).toBeLessThan(300_000);
    // sd of the mean = (max−min)/sqrt(12 N) ≈ 228 µs; 5 sd.
    expect(Math.abs(mean(xs) - 175_000)).toBeLessThan(5 * (250_000 / Math.sqrt(12 * N)));
  });

  it("exponential has mean m and median m·ln 2", () => {
    const xs = samples({ dist: "exponential", meanUs: 4000 });
    expect(Math.abs(mean(xs) / 4000 - 1)).toBeLessThan(5 / Math.sqrt(N)); // cv 1 ⇒ sd of mean m/sqrt(N)
    expect(Math.abs(q(xs, 0.5) / (4000 * Math.LN2) - 1)).toBeLessThan(0.02);
  });

  it("lognormal by median and p99 reproduces both", () => {
    const spec = parseDistribution({ dist: "lognormal", median: "4ms", p99: "25ms" });
    expect(spec.ok).toBe(true);
    if (!spec.ok) return;
    const xs = samples(spec.spec, 400_000);
    expect(Math.abs(q(xs, 0.5) / 4000 - 1)).toBeLessThan(0.01);
    expect(Math.abs(q(xs, 0.99) / 25_000 - 1)).toBeLessThan(0.03);
    // mean of a lognormal is e^(mu + sigma²/2)
    const sigma = Math.log(25_000 / 4000) / Z_99;
    expect(makeDistribution(spec.spec).meanUs).toBeCloseTo(4000 * Math.exp((sigma * sigma) / 2), 6);
  });

  it("normal truncated at 0 never goes negative and matches the truncated mean", () => {
    const m = 1000;
    const s = 1000;
    const xs = samples({ dist: "normal", meanUs: m, stddevUs: s });
    expect(xs[0]).toBeGreaterThanOrEqual(0);
    // E[X | X ≥ 0] = m + s·φ(−m/s)/(1 − Φ(−m/s))
    const alpha = -m / s;
    const expected = m + (s * Math.exp(-(alpha ** 2) / 2)) / Math.sqrt(2 * Math.PI) / (1 - normalCdf(alpha));
    expect(Math.abs(mean(xs) / expected - 1)).toBeLessThan(0.01);
  });

  it("erlang-k has mean m and variance m²/k", () => {
    const xs = samples({ dist: "erlang", k: 4, meanUs: 8000 });
    expect(Math.abs(mean(xs) / 8000 - 1)).toBeLessThan(0.01);
    expect(Math.abs(variance(xs) / (8000 ** 2 / 4) - 1)).toBeLessThan(0.03);
  });

  it("empirical interpolates linearly between the given percentiles", () => {
    const spec = parseDistribution({ dist: "empirical", percentiles: { 0: "1ms", 50: "4ms", 100: "10ms" } });
    expect(spec.ok).toBe(true);
    if (!spec.ok) return;
    const d = makeDistribution(spec.spec);
    const at = (u: number) => d.sample({ next: () => u, label: "fixed" });
    expect(at(0)).toBe(1000);
    expect(at(0.25)).toBe(2500);
    expect(at(0.5)).toBe(4000);
    expect(at(0.75)).toBe(7000);
    // mean of the piecewise-linear inverse CDF: 0.5·(1+4)/2 + 0.5·(4+10)/2 ms
    expect(d.meanUs).toBe(4750);
  });

  it("sampleUs rounds to whole microseconds", () => {
    const d = makeDistribution({ dist: "uniform", minUs: 0, maxUs: 10 });
    const rng = forkRng(1, "r");
    for (let i = 0; i < 100; i++) expect(Number.isInteger(sampleUs(d, rng))).toBe(true);
  });
});

describe("distribution specs as scenarios write them", () => {
  it.each([
    [{ dist: "constant", value: "150us" }, { dist: "constant", valueUs: 150 }],
    [{ dist: "uniform", min: "50ms", max: "300ms" }, { dist: "uniform", minUs: 50_000, maxUs: 300_000 }],
    [{ dist: "normal", mean: "31ms", stddev: "2ms" }, { dist: "normal", meanUs: 31_000, stddevUs: 2000 }],
    [{ dist: "erlang", k: 3, mean: "6ms" }, { dist: "erlang", k: 3, meanUs: 6000 }],
    [{ dist: "lognormal", mu: 8, sigma: 0.5 }, { dist: "lognormal", mu: 8, sigma: 0.5 }],
  ])("%j parses", (input, spec) => {
    expect(parseDistribution(input)).toEqual({ ok: true, spec });
  });

  it.each([
    [{ dist: "poisson" }, ["dist"], /one of constant, uniform/],
    [{ dist: "exponential", mean: "4" }, ["mean"], /no unit/],
    [{ dist: "exponential" }, ["mean"], /missing mean/],
    [{ dist: "exponential", mean: "4ms", median: "3ms" }, ["median"], /not one of them/],
    [{ dist: "lognormal", median: "25ms", p99: "4ms" }, ["p99"], /p99 ≥ median/],
    [{ dist: "empirical", percentiles: { 50: "4ms", 100: "9ms" } }, [], /quantile 0/],
    [{ dist: "empirical", percentiles: { 0: "5ms", 50: "4ms", 100: "9ms" } }, [], /must not decrease/],
    [{ dist: "uniform", min: "3ms", max: "1ms" }, [], /min ≤ max/],
    ["4ms", [], /expected a mapping/],
  ])("%j is rejected at %j", (input, path, message) => {
    const r = parseDistribution(input);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.path).toEqual(path);
      expect(r.error).toMatch(message);
    }
  });
});

describe("delays the kernel can hold", () => {
  it.each([
    [1.4, 1],
    [-3, 0],
    [Number.NaN, 0],
    [2 ** 50 + 1, 2 ** 50],
    [1e308 * 10, 2 ** 50],
  ])("%d µs becomes %d µs", (us, expected) => {
    expect(clampDelayUs(us)).toBe(expected);
  });

  it("a lognormal with an extreme spread never yields an instant integer time cannot hold", () => {
    // median 1 µs, p99 100 h ⇒ σ = ln(3.6e11)/2.326 ≈ 11.4: draws reach e^(11.4·z), beyond 2^53 for z > 3.2.
    const d = makeDistribution({ dist: "lognormal", ...lognormalFromMedianP99(1, 360_000_000_000) });
    const rng = forkRng(1, "extreme");
    for (let i = 0; i < 20_000; i++) {
      const us = sampleUs(d, rng);
      expect(Number.isSafeInteger(us) && us >= 0 && us <= MAX_DELAY_US).toBe(true);
    }
  });
});

describe("standard normals by Box–Muller pairs", () => {
  it("use both normals of a pair: two uniforms per two draws, and the pair uncorrelated", () => {
    const rng = forkRng(5, "pairs");
    let uniforms = 0;
    const counted = { label: rng.label, next: () => ((uniforms += 1), rng.next()) };
    const n = 100_000;
    let sxy = 0;
    let sx = 0;
    let sxx = 0;
    for (let i = 0; i < n; i += 1) {
      const x = standardNormal(counted);
      const y = standardNormal(counted);
      sx += x + y;
      sxx += x * x + y * y;
      sxy += x * y;
    }
    expect(uniforms).toBe(2 * n);
    // Over 2n draws: mean 0 (sd 1/√2n = 0.0022), variance 1 (sd √(2/2n) = 0.0032); the pair's
    // correlation 0 (sd 1/√n = 0.0032). Bands are 5 sd.
    expect(Math.abs(sx / (2 * n))).toBeLessThan(5 * Math.sqrt(1 / (2 * n)));
    expect(Math.abs(sxx / (2 * n) - 1)).toBeLessThan(5 * Math.sqrt(2 / (2 * n)));
    expect(Math.abs(sxy / n)).toBeLessThan(5 / Math.sqrt(n));
  });

  it("keep the spare normal on its own stream, so interleaving streams changes nothing", () => {
    const alone = (label: string): number[] => {
      const r = forkRng(9, label);
      return Array.from({ length: 5 }, () => standardNormal(r));
    };
    const a = forkRng(9, "a");
    const b = forkRng(9, "b");
    const mixed: number[][] = [[], []];
    for (let i = 0; i < 5; i += 1) {
      (mixed[0] as number[]).push(standardNormal(a));
      (mixed[1] as number[]).push(standardNormal(b));
    }
    expect(mixed).toEqual([alone("a"), alone("b")]);
  });
});
