// The human form of a distribution, as scenario files write it, turned into a `DistributionSpec`:
//   {dist: constant, value: 150us}            {dist: uniform, min: 50ms, max: 300ms}
//   {dist: exponential, mean: 4ms}            {dist: normal, mean: 31ms, stddev: 2ms}
//   {dist: lognormal, median: 4ms, p99: 25ms} {dist: lognormal, mu: 8.29, sigma: 0.79}  (ln-µs)
//   {dist: erlang, k: 3, mean: 6ms}           {dist: empirical, percentiles: {0: 1ms, 50: 4ms, 99: 20ms, 100: 50ms}}
// Errors name the offending key and say what was expected.

import { type DistributionSpec, lognormalFromMedianP99, validateDistribution } from "./distributions.js";
import { parseDurationUs } from "./time.js";

export type SpecResult = { ok: true; spec: DistributionSpec } | { ok: false; path: string[]; error: string };

const FIELDS: Readonly<Record<DistributionSpec["dist"], readonly string[]>> = {
  constant: ["value"],
  uniform: ["min", "max"],
  exponential: ["mean"],
  normal: ["mean", "stddev"],
  lognormal: ["median", "p99", "mu", "sigma"],
  erlang: ["k", "mean"],
  empirical: ["percentiles"],
};

class SpecError extends Error {
  constructor(readonly path: string[], message: string) {
    super(message);
  }
}

export function parseDistribution(input: unknown): SpecResult {
  try {
    const spec = toSpec(input);
    const problem = validateDistribution(spec);
    if (problem !== undefined) return { ok: false, path: [], error: problem };
    return { ok: true, spec };
  } catch (e) {
    if (e instanceof SpecError) return { ok: false, path: e.path, error: e.message };
    throw e;
  }
}

function toSpec(input: unknown): DistributionSpec {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new SpecError([], "expected a mapping such as {dist: exponential, mean: 4ms}");
  }
  const obj = input as Record<string, unknown>;
  const kind = obj["dist"];
  if (typeof kind !== "string" || !(kind in FIELDS)) {
    throw new SpecError(["dist"], `expected dist to be one of ${Object.keys(FIELDS).join(", ")}`);
  }
  const dist = kind as DistributionSpec["dist"];
  for (const key of Object.keys(obj)) {
    if (key !== "dist" && !(FIELDS[dist] as readonly string[]).includes(key)) {
      throw new SpecError([key], `${dist} takes ${FIELDS[dist].join(", ")}; "${key}" is not one of them`);
    }
  }
  const d = (key: string): number => duration(obj, key);
  switch (dist) {
    case "constant":
      return { dist, valueUs: d("value") };
    case "uniform":
      return { dist, minUs: d("min"), maxUs: d("max") };
    case "exponential":
      return { dist, meanUs: d("mean") };
    case "normal":
      return { dist, meanUs: d("mean"), stddevUs: d("stddev") };
    case "lognormal":
      return lognormal(obj);
    case "erlang":
      return { dist, k: number(obj, "k"), meanUs: d("mean") };
    case "empirical":
      return { dist, points: percentiles(obj["percentiles"]) };
  }
}

function lognormal(obj: Record<string, unknown>): DistributionSpec {
  if ("median" in obj || "p99" in obj) {
    if ("mu" in obj || "sigma" in obj) throw new SpecError(["mu"], "give either median + p99, or mu + sigma, not both");
    const medianUs = duration(obj, "median");
    const p99Us = duration(obj, "p99");
    if (!(medianUs > 0 && p99Us >= medianUs)) throw new SpecError(["p99"], "lognormal needs p99 ≥ median > 0");
    return { dist: "lognormal", ...lognormalFromMedianP99(medianUs, p99Us) };
  }
  return { dist: "lognormal", mu: number(obj, "mu"), sigma: number(obj, "sigma") };
}

function percentiles(input: unknown): Array<[number, number]> {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new SpecError(["percentiles"], "expected a mapping from percentile to duration, e.g. {0: 1ms, 50: 4ms, 100: 50ms}");
  }
  const points: Array<[number, number]> = [];
  for (const key of Object.keys(input)) {
    const p = Number(key);
    if (!Number.isFinite(p) || p < 0 || p > 100) throw new SpecError(["percentiles", key], "percentile keys are numbers from 0 to 100");
    points.push([p / 100, duration(input as Record<string, unknown>, key, ["percentiles"])]);
  }
  return points.sort((a, b) => a[0] - b[0]);
}

function duration(obj: Record<string, unknown>, key: string, prefix: string[] = []): number {
  const v = obj[key];
  if (v === undefined) throw new SpecError([...prefix, key], `missing ${key} (a duration such as 4ms)`);
  if (typeof v !== "string" && typeof v !== "number") throw new SpecError([...prefix, key], "expected a duration such as 4ms");
  const r = parseDurationUs(v);
  if (!r.ok) throw new SpecError([...prefix, key], r.error);
  return r.us;
}

function number(obj: Record<string, unknown>, key: string): number {
  const v = obj[key];
  if (typeof v !== "number" || !Number.isFinite(v)) throw new SpecError([key], `expected ${key} to be a number`);
  return v;
}
