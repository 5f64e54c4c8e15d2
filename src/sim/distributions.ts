// Distributions of durations, each with one exact, documented parameterisation. Samples are
// microseconds as floats; `sampleUs` rounds to the clock's integer microseconds. Every sampler
// takes its uniforms from an `Rng`, so the same stream gives the same values.

import type { Rng } from "./rng.js";

/** z such that Φ(z) = 0.99 (the standard normal 99th percentile). */
export const Z_99 = 2.3263478740408408;

export type DistributionSpec =
  /** Always `valueUs`. */
  | { dist: "constant"; valueUs: number }
  /** Uniform on [minUs, maxUs). */
  | { dist: "uniform"; minUs: number; maxUs: number }
  /** Exponential with mean `meanUs` (rate 1/meanUs). */
  | { dist: "exponential"; meanUs: number }
  /** Normal(meanUs, stddevUs) truncated at 0: negative draws are redrawn (conditional law, not clamping). */
  | { dist: "normal"; meanUs: number; stddevUs: number }
  /** exp(N(mu, sigma)) with mu, sigma in ln-µs. */
  | { dist: "lognormal"; mu: number; sigma: number }
  /** Sum of `k` exponentials, each with mean meanUs/k (so the total has mean `meanUs`). */
  | { dist: "erlang"; k: number; meanUs: number }
  /**
   * Piecewise-linear inverse CDF through the given (quantile, value) points; the first point must be
   * quantile 0 and the last quantile 1, quantiles strictly increasing, values non-decreasing.
   */
  | { dist: "empirical"; points: ReadonlyArray<readonly [quantile: number, valueUs: number]> };

export interface Distribution {
  readonly spec: DistributionSpec;
  /** Mean in µs (exact where a closed form exists, else from the table). */
  readonly meanUs: number;
  sample(rng: Rng): number;
}

/** Lognormal parameters from a median and a 99th percentile (both µs, p99 > median > 0). */
export function lognormalFromMedianP99(medianUs: number, p99Us: number): { mu: number; sigma: number } {
  return { mu: Math.log(medianUs), sigma: (Math.log(p99Us) - Math.log(medianUs)) / Z_99 };
}

/**
 * A standard normal draw by Box–Muller: two uniforms give two independent normals, r·cos θ and
 * r·sin θ; the first is returned and the second kept on the stream for its next normal draw.
 */
export function standardNormal(rng: Rng): number {
  const spare = rng.spareNormal;
  if (spare !== undefined && spare === spare) {
    rng.spareNormal = NaN;
    return spare;
  }
  const u1 = 1 - rng.next(); // (0, 1]: log is finite
  const u2 = rng.next();
  const r = Math.sqrt(-2 * Math.log(u1));
  const theta = 2 * Math.PI * u2;
  rng.spareNormal = r * Math.sin(theta);
  return r * Math.cos(theta);
}

const MAX_REDRAWS = 64;

export function makeDistribution(spec: DistributionSpec): Distribution {
  const check = validateDistribution(spec);
  if (check !== undefined) throw new Error(check);
  switch (spec.dist) {
    case "constant":
      return { spec, meanUs: spec.valueUs, sample: () => spec.valueUs };
    case "uniform": {
      const width = spec.maxUs - spec.minUs;
      return { spec, meanUs: (spec.minUs + spec.maxUs) / 2, sample: (rng) => spec.minUs + width * rng.next() };
    }
    case "exponential":
      return { spec, meanUs: spec.meanUs, sample: (rng) => -spec.meanUs * Math.log(1 - rng.next()) };
    case "normal":
      return { spec, meanUs: truncatedNormalMean(spec.meanUs, spec.stddevUs), sample: (rng) => sampleTruncatedNormal(spec, rng) };
    case "lognormal":
      return {
        spec,
        meanUs: Math.exp(spec.mu + (spec.sigma * spec.sigma) / 2),
        sample: (rng) => Math.exp(spec.mu + spec.sigma * standardNormal(rng)),
      };
    case "erlang": {
      const stageMeanUs = spec.meanUs / spec.k;
      return {
        spec,
        meanUs: spec.meanUs,
        sample: (rng) => {
          let total = 0;
          for (let i = 0; i < spec.k; i++) total -= stageMeanUs * Math.log(1 - rng.next());
          return total;
        },
      };
    }
    case "empirical":
      return { spec, meanUs: empiricalMean(spec.points), sample: (rng) => empiricalQuantile(spec.points, rng.next()) };
  }
}

/** A sample rounded to whole microseconds (never negative). */
export function sampleUs(d: Distribution, rng: Rng): number {
  return clampDelayUs(d.sample(rng));
}

/**
 * Longest delay the kernel is asked to wait: 2^50 µs, about 35 years, far past any run's end, so
 * a heavy tail or an extreme factor (a lognormal with a huge spread, `latencyFactor: 1e308`) means
 * "not within this run" instead of an instant past 2^53 that integer time cannot hold.
 */
export const MAX_DELAY_US = 2 ** 50;

/** A delay as whole microseconds in [0, MAX_DELAY_US]; NaN is 0. */
export function clampDelayUs(us: number): number {
  if (!(us > 0)) return 0;
  return us >= MAX_DELAY_US ? MAX_DELAY_US : Math.round(us);
}

function sampleTruncatedNormal(spec: { meanUs: number; stddevUs: number }, rng: Rng): number {
  for (let i = 0; i < MAX_REDRAWS; i++) {
    const x = spec.meanUs + spec.stddevUs * standardNormal(rng);
    if (x >= 0) return x;
  }
  // Only reachable when nearly all the mass is below zero; validation keeps mean ≥ 0, where the
  // chance of 64 misses is at most 2^-64.
  return 0;
}

/** Mean of N(m, s) truncated to [0, ∞): m + s·φ(α)/(1 − Φ(α)), α = −m/s. */
function truncatedNormalMean(m: number, s: number): number {
  if (s === 0) return m;
  const alpha = -m / s;
  const pdf = Math.exp(-(alpha * alpha) / 2) / Math.sqrt(2 * Math.PI);
  return m + (s * pdf) / (1 - normalCdf(alpha));
}

/** Φ(x) via the complementary error function (Numerical Recipes erfc, |error| < 1.2e-7). */
export function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * z);
  const poly =
    -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const erfc = t * Math.exp(poly);
  return x >= 0 ? 1 - erfc / 2 : erfc / 2;
}

/** The inverse CDF at u: linear interpolation between the surrounding (quantile, value) points. */
export function empiricalQuantile(points: ReadonlyArray<readonly [number, number]>, u: number): number {
  for (let i = 1; i < points.length; i++) {
    const [q1, v1] = points[i] as readonly [number, number];
    if (u <= q1 || i === points.length - 1) {
      const [q0, v0] = points[i - 1] as readonly [number, number];
      return v0 + ((v1 - v0) * (u - q0)) / (q1 - q0);
    }
  }
  return (points[0] as readonly [number, number])[1];
}

/** Mean of a piecewise-linear inverse CDF: Σ (q1 − q0)·(v0 + v1)/2. */
function empiricalMean(points: ReadonlyArray<readonly [number, number]>): number {
  let mean = 0;
  for (let i = 1; i < points.length; i++) {
    const [q0, v0] = points[i - 1] as readonly [number, number];
    const [q1, v1] = points[i] as readonly [number, number];
    mean += ((q1 - q0) * (v0 + v1)) / 2;
  }
  return mean;
}

/** A message saying what is wrong with a spec, or undefined when it is valid. */
export function validateDistribution(spec: DistributionSpec): string | undefined {
  const finite = (n: number) => Number.isFinite(n);
  switch (spec.dist) {
    case "constant":
      return finite(spec.valueUs) && spec.valueUs >= 0 ? undefined : "constant: value must be ≥ 0";
    case "uniform":
      return finite(spec.minUs) && spec.minUs >= 0 && spec.maxUs >= spec.minUs ? undefined : "uniform: need 0 ≤ min ≤ max";
    case "exponential":
      return finite(spec.meanUs) && spec.meanUs > 0 ? undefined : "exponential: mean must be > 0";
    case "normal":
      return finite(spec.meanUs) && spec.meanUs >= 0 && finite(spec.stddevUs) && spec.stddevUs >= 0
        ? undefined
        : "normal: need mean ≥ 0 and stddev ≥ 0";
    case "lognormal":
      return finite(spec.mu) && finite(spec.sigma) && spec.sigma >= 0 ? undefined : "lognormal: need finite mu and sigma ≥ 0 (p99 ≥ median > 0)";
    case "erlang":
      return Number.isInteger(spec.k) && spec.k >= 1 && finite(spec.meanUs) && spec.meanUs > 0
        ? undefined
        : "erlang: need an integer k ≥ 1 and mean > 0";
    case "empirical":
      return validateEmpirical(spec.points);
  }
}

function validateEmpirical(points: ReadonlyArray<readonly [number, number]>): string | undefined {
  if (points.length < 2) return "empirical: give at least two points, including p0 and p100";
  const first = points[0] as readonly [number, number];
  const last = points[points.length - 1] as readonly [number, number];
  if (first[0] !== 0) return "empirical: the first point must be quantile 0 (p0, the minimum)";
  if (last[0] !== 1) return "empirical: the last point must be quantile 1 (p100, the maximum)";
  for (let i = 1; i < points.length; i++) {
    const [q0, v0] = points[i - 1] as readonly [number, number];
    const [q1, v1] = points[i] as readonly [number, number];
    if (!(q1 > q0)) return `empirical: quantiles must increase (point ${i})`;
    if (!(v1 >= v0)) return `empirical: values must not decrease (point ${i})`;
  }
  if (first[1] < 0) return "empirical: values must be ≥ 0";
  return undefined;
}
