// The small value languages of a scenario — durations (`300ms`), rates (`1500/s`), distributions
// (`{dist: lognormal, median: 4ms, p99: 25ms}` or a bare duration for a constant) and target URLs —
// as parsers that say exactly what is wrong, zod leaves built on them, and the inverse formatters
// that `meshsim explain` prints.

import { z } from "zod";
import { parseHttpUrl } from "../mesh/http.js";
import { parseDistribution } from "../sim/distribution-spec.js";
import { type DistributionSpec, Z_99 } from "../sim/distributions.js";
import { formatDurationUs, parseDurationUs } from "../sim/time.js";

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string; expected: string; path?: Array<string | number> };

const DURATION_EXPECTED = "a duration such as 300ms, 1.5s or 1m30s (units: us, ms, s, m, h)";
const RATE_EXPECTED = "a rate such as 1500/s, 90/m or 2/h, or a plain number of requests per second";
const DISTRIBUTION_EXPECTED = "a distribution such as {dist: lognormal, median: 4ms, p99: 25ms}, or a duration for a constant";

/** A duration in the simulator's own sections; a bare number other than 0 is refused (no unit). */
export function parseScenarioDuration(input: unknown): Parsed<number> {
  if (typeof input === "number") {
    if (input === 0) return { ok: true, value: 0 };
    return { ok: false, error: `${input} has no unit; write e.g. ${input}ms or ${input}s`, expected: DURATION_EXPECTED };
  }
  if (typeof input !== "string") return { ok: false, error: "not a duration", expected: DURATION_EXPECTED };
  const r = parseDurationUs(input);
  return r.ok ? { ok: true, value: r.us } : { ok: false, error: r.error, expected: DURATION_EXPECTED };
}

const RATE_UNIT_PER_S: Readonly<Record<string, number>> = { s: 1, m: 1 / 60, h: 1 / 3600 };

/** Requests per second from `1500/s`, `90/m`, `2/h` or a plain non-negative number (rps). */
export function parseRate(input: unknown): Parsed<number> {
  if (typeof input === "number") {
    if (Number.isFinite(input) && input >= 0) return { ok: true, value: input };
    return { ok: false, error: `${input} is not a usable rate`, expected: RATE_EXPECTED };
  }
  if (typeof input !== "string") return { ok: false, error: "not a rate", expected: RATE_EXPECTED };
  const text = input.trim();
  const m = /^(\d+(?:\.\d+)?)\s*\/\s*([a-z]+)$/.exec(text);
  if (m === null) {
    const hint = /^\d+(\.\d+)?$/.test(text) ? `; write ${text}/s for per second` : "";
    return { ok: false, error: `"${text}" is not a rate${hint}`, expected: RATE_EXPECTED };
  }
  const perS = RATE_UNIT_PER_S[m[2] as string];
  if (perS === undefined) return { ok: false, error: `"${text}": unknown rate unit "/${m[2]}" (use /s, /m or /h)`, expected: RATE_EXPECTED };
  return { ok: true, value: Number(m[1]) * perS };
}

/** The shortest exact form: `1500/s`, `90/m` when per-second would need a long fraction. */
export function formatRate(rateRps: number): string {
  if (Number.isInteger(rateRps) || String(rateRps).length <= 8) return `${rateRps}/s`;
  const perMin = rateRps * 60;
  if (Math.abs(perMin - Math.round(perMin)) < 1e-9) return `${Math.round(perMin)}/m`;
  const perHour = rateRps * 3600;
  if (Math.abs(perHour - Math.round(perHour)) < 1e-9) return `${Math.round(perHour)}/h`;
  return `${rateRps}/s`;
}

const DURATION_FIELDS = ["value", "min", "max", "mean", "stddev", "median", "p99"] as const;

/** A distribution mapping (see `sim/distribution-spec.ts`), or a bare duration meaning a constant. */
export function parseScenarioDistribution(input: unknown): Parsed<DistributionSpec> {
  if (typeof input === "string" || typeof input === "number") {
    const d = parseScenarioDuration(input);
    return d.ok ? { ok: true, value: { dist: "constant", valueUs: d.value } } : { ...d, expected: DISTRIBUTION_EXPECTED };
  }
  if (typeof input !== "object" || input === null) return { ok: false, error: "not a distribution", expected: DISTRIBUTION_EXPECTED };
  const obj = input as Record<string, unknown>;
  // Checked here first: the kernel parser would read a bare number as microseconds.
  for (const key of DURATION_FIELDS) {
    if (obj[key] === undefined) continue;
    const d = parseScenarioDuration(obj[key]);
    if (!d.ok) return { ...d, path: [key] };
  }
  const percentiles = obj["percentiles"];
  if (typeof percentiles === "object" && percentiles !== null) {
    for (const [key, value] of Object.entries(percentiles)) {
      const d = parseScenarioDuration(value);
      if (!d.ok) return { ...d, path: ["percentiles", key] };
    }
  }
  const r = parseDistribution(obj);
  if (!r.ok) return { ok: false, error: r.error, expected: DISTRIBUTION_EXPECTED, path: r.path };
  if (r.spec.dist === "erlang" && r.spec.k > MAX_ERLANG_K) {
    return {
      ok: false,
      error: `erlang: k ${r.spec.k} is too many stages (each draw sums k exponential stages, so a run would spend its time sampling)`,
      expected: `an integer k from 1 to ${MAX_ERLANG_K}; for a nearly fixed time use {dist: normal, mean, stddev} or a constant`,
      path: ["k"],
    };
  }
  return { ok: true, value: r.spec };
}

/** Stages an Erlang distribution may have: a draw costs one logarithm per stage. */
export const MAX_ERLANG_K = 1000;

/** The human form of a distribution for `explain`; lognormals print as median/p99 when exact. */
export function formatDistribution(spec: DistributionSpec): Record<string, unknown> {
  const d = formatDurationUs;
  switch (spec.dist) {
    case "constant":
      return { dist: "constant", value: d(spec.valueUs) };
    case "uniform":
      return { dist: "uniform", min: d(spec.minUs), max: d(spec.maxUs) };
    case "exponential":
      return { dist: "exponential", mean: d(spec.meanUs) };
    case "normal":
      return { dist: "normal", mean: d(spec.meanUs), stddev: d(spec.stddevUs) };
    case "erlang":
      return { dist: "erlang", k: spec.k, mean: d(spec.meanUs) };
    case "empirical":
      return { dist: "empirical", percentiles: Object.fromEntries(spec.points.map(([q, v]) => [String(Math.round(q * 1e6) / 1e4), d(v)])) };
    case "lognormal": {
      const medianUs = Math.round(Math.exp(spec.mu));
      const p99Us = Math.round(Math.exp(spec.mu + Z_99 * spec.sigma));
      const exact = medianUs > 0 && Math.abs(Math.log(medianUs) - spec.mu) < 1e-9 && Math.abs((Math.log(p99Us) - spec.mu) / Z_99 - spec.sigma) < 1e-9;
      return exact ? { dist: "lognormal", median: d(medianUs), p99: d(p99Us) } : { dist: "lognormal", mu: spec.mu, sigma: spec.sigma };
    }
  }
}

/** `http://host[:port][/path]`, the only scheme the simulated mesh speaks. */
export function checkHttpUrl(input: string): Parsed<string> {
  if (parseHttpUrl(input) !== undefined) return { ok: true, value: input };
  const hint = /^https:/.test(input) ? "; the simulated mesh speaks plain http (the proxies add mTLS)" : "";
  return { ok: false, error: `"${input}" is not an http URL${hint}`, expected: "http://<service>.<namespace>.svc.cluster.local[:port][/path]" };
}

/** A zod transform that runs one of the parsers above and reports its error as a custom issue. */
function leaf<T>(parse: (v: unknown) => Parsed<T>) {
  return (value: unknown, ctx: z.RefinementCtx): T => {
    const r = parse(value);
    if (r.ok) return r.value;
    ctx.addIssue({ code: "custom", message: r.error, input: value, path: r.path ?? [], params: { expected: r.expected } });
    return z.NEVER;
  };
}

const scalar = (error: string) => z.union([z.string(), z.number()], { error });

/** Integer microseconds from a human duration. */
export const durationSchema = () =>
  scalar(`expected ${DURATION_EXPECTED}`).transform(leaf(parseScenarioDuration)).meta({ title: "duration" });

/**
 * A period or window: longer than 0, since something repeated every 0 s would run forever at one
 * instant.
 */
export const periodSchema = () =>
  durationSchema().refine((us) => us > 0, { error: "must be longer than 0 (something repeated every 0 s never lets time advance)" });

/** Requests per second. */
export const rateSchema = () => scalar(`expected ${RATE_EXPECTED}`).transform(leaf(parseRate)).meta({ title: "rate" });

const DIST_KINDS = ["constant", "uniform", "exponential", "normal", "lognormal", "erlang", "empirical"] as const;

const distributionObject = z.strictObject({
  dist: z.enum(DIST_KINDS),
  value: scalar(DURATION_EXPECTED).optional(),
  min: scalar(DURATION_EXPECTED).optional(),
  max: scalar(DURATION_EXPECTED).optional(),
  mean: scalar(DURATION_EXPECTED).optional(),
  stddev: scalar(DURATION_EXPECTED).optional(),
  median: scalar(DURATION_EXPECTED).optional(),
  p99: scalar(DURATION_EXPECTED).optional(),
  mu: z.number().optional(),
  sigma: z.number().optional(),
  k: z.int().min(1).optional(),
  percentiles: z.record(z.string(), scalar(DURATION_EXPECTED)).optional(),
});

/** A kernel `DistributionSpec`. */
export const distributionSchema = () =>
  z
    .union([z.string(), z.number(), distributionObject], { error: `expected ${DISTRIBUTION_EXPECTED}` })
    .transform(leaf(parseScenarioDistribution))
    .meta({ title: "distribution" });

/** A target URL, kept as written. */
export const httpUrlSchema = () =>
  z
    .string()
    .superRefine((v, ctx) => {
      const r = checkHttpUrl(v);
      if (!r.ok) ctx.addIssue({ code: "custom", message: r.error, input: v, params: { expected: r.expected } });
    })
    .meta({ title: "URL" });
