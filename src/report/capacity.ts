// The capacity report: a sweep over load (and seeds) turned into answers — per load, the spread of
// latency, success, retries and utilization across seeds; the knee; the highest load meeting an
// SLO; a Little's-law consistency check; replicas needed at a target utilization; and the N+1
// regional failover question. Pure: the CLI parses options and writes `capacity.md`.

import { parseDurationUs } from "../sim/time.js";
import type { Parsed, SweepDoc, SweepResult } from "./sweep.js";

/** A service-level objective; an absent field is not checked. */
export interface Slo {
  /** Highest acceptable p99 end-to-end latency, in ms. */
  p99Ms?: number;
  /** Lowest acceptable success rate, a fraction in [0, 1]. */
  successRate?: number;
}

export interface CapacityOptions {
  /** The swept param holding the offered load (`500/s`, `30/m`, `200rps`, `500`). */
  loadParam: string;
  slo: Slo;
  /** The swept param holding the replica count; absent ⇒ `replicas`, absent too ⇒ no replicas answer. */
  replicasParam?: string;
  /** Replica count when it is not swept. */
  replicas?: number;
  /** Utilization to size for, a fraction in (0, 1]; default 0.7. */
  targetUtilization?: number;
  /** Load to size replicas for, in rps; absent ⇒ no replicas answer. */
  targetLoadRps?: number;
  /** Little's-law relative error above which a point is flagged, a fraction; default 0.05. */
  littleTolerance?: number;
}

/** Mean, min and max over the seeds that measured the figure; null when none did. */
export interface Spread {
  mean: number;
  min: number;
  max: number;
  n: number;
}

export interface LittleCheck {
  /** Observed mean in-flight requests (mean over seeds). */
  inFlightMean: number;
  /** rps × mean latency (s), mean over seeds: what Little's law predicts for the in-flight mean. */
  predicted: number;
  /** |observed − predicted| / predicted. */
  relativeError: number;
  /** relativeError > tolerance. */
  flagged: boolean;
}

export interface LoadPoint {
  loadRps: number;
  /** The load as swept, e.g. `500/s`. */
  load: string;
  seeds: string[];
  latencyMsP50: Spread | null;
  latencyMsP99: Spread | null;
  successRate: Spread | null;
  retryRatio: Spread | null;
  utilization: Spread | null;
  little: LittleCheck | null;
  /** Every seed met the SLO (a figure a seed could not measure counts as a miss). */
  sloAllSeeds: boolean;
  /** The means over seeds met the SLO. */
  sloMean: boolean;
}

export interface ReplicasAnswer {
  /** The point sized from: the highest load meeting the SLO on every seed. */
  fromLoadRps: number;
  replicas: number;
  utilization: number;
  targetLoadRps: number;
  targetUtilization: number;
  /** ceil(r·u·Λ / (λ·ρ*)). */
  needed: number;
}

/** One curve: the points sharing every swept param except the load, in rising load. */
export interface CapacitySeries {
  fixed: Record<string, string>;
  points: LoadPoint[];
  /** The lowest load whose mean p99 exceeds twice the mean p99 at the lowest load; null if none does. */
  kneeRps: number | null;
  /** Highest load such that it and every lower load met the SLO on every seed; null if the lowest missed. */
  maxLoadRpsAllSeeds: number | null;
  /** The same on the means over seeds. */
  maxLoadRpsMean: number | null;
  replicas: ReplicasAnswer | null;
}

export interface CapacityAnalysis {
  loadParam: string;
  slo: Slo;
  series: CapacitySeries[];
  /** Results left out: load errors and unparseable loads, with why. */
  skipped: { index: number; reason: string }[];
}

/** `500/s`, `500rps`, `500` (per second) or `30/m`, `30/min` (per minute) → rps; null otherwise. */
export function parseLoadRps(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?(?:e[+-]?\d+)?)\s*(\/s|rps|\/m|\/min)?\s*$/i.exec(text);
  if (m === null) return null;
  const v = Number(m[1]);
  const unit = (m[2] ?? "/s").toLowerCase();
  return unit === "/m" || unit === "/min" ? v / 60 : v;
}

/** `p99<=100ms,success>=0.999` (either part may be left out; p99 takes us/ms/s). */
export function parseSlo(text: string): Parsed<Slo> {
  const slo: Slo = {};
  for (const part of text.split(",").map((p) => p.trim())) {
    const m = /^(p99|success)\s*(<=|>=)\s*(.+)$/.exec(part);
    if (m === null) return { ok: false, error: `--slo ${text}: "${part}" is not p99<=DURATION or success>=FRACTION` };
    const [, name, op, value] = m as unknown as [string, string, string, string];
    if (name === "p99") {
      const d = parseDurationUs(value);
      if (op !== "<=" || !d.ok) return { ok: false, error: `--slo ${text}: write p99<=DURATION, e.g. p99<=100ms` };
      slo.p99Ms = d.us / 1000;
    } else {
      const v = Number(value);
      if (op !== ">=" || !Number.isFinite(v) || v < 0 || v > 1) return { ok: false, error: `--slo ${text}: write success>=FRACTION with a fraction in [0, 1]` };
      slo.successRate = v;
    }
  }
  return { ok: true, value: slo };
}

export function spread(values: readonly (number | null)[]): Spread | null {
  const xs = values.filter((v): v is number => v !== null);
  if (xs.length === 0) return null;
  return { mean: xs.reduce((a, b) => a + b, 0) / xs.length, min: Math.min(...xs), max: Math.max(...xs), n: xs.length };
}

function meetsSlo(p99Ms: number | null | undefined, success: number | null | undefined, slo: Slo): boolean {
  if (slo.p99Ms !== undefined && (p99Ms === null || p99Ms === undefined || p99Ms > slo.p99Ms)) return false;
  if (slo.successRate !== undefined && (success === null || success === undefined || success < slo.successRate)) return false;
  return true;
}

/** Little's law L = λ·W per point: observed mean in-flight against rps × mean latency, both averaged over seeds. */
export function littleCheck(results: readonly SweepResult[], tolerance: number): LittleCheck | null {
  const usable = results.filter((r) => r.inFlightMean !== null && r.rps !== null && r.latencyMsMean !== null);
  if (usable.length === 0) return null;
  const mean = (f: (r: SweepResult) => number): number => usable.reduce((a, r) => a + f(r), 0) / usable.length;
  const inFlightMean = mean((r) => r.inFlightMean as number);
  const predicted = mean((r) => ((r.rps as number) * (r.latencyMsMean as number)) / 1000);
  if (predicted === 0) return null;
  const relativeError = Math.abs(inFlightMean - predicted) / predicted;
  return { inFlightMean, predicted, relativeError, flagged: relativeError > tolerance };
}

function loadPoint(load: string, loadRps: number, results: readonly SweepResult[], opts: CapacityOptions): LoadPoint {
  const p99 = spread(results.map((r) => r.latencyMsP99));
  const success = spread(results.map((r) => r.successRate));
  return {
    loadRps,
    load,
    seeds: results.map((r) => r.seed),
    latencyMsP50: spread(results.map((r) => r.latencyMsP50)),
    latencyMsP99: p99,
    successRate: success,
    retryRatio: spread(results.map((r) => r.retryRatio)),
    utilization: spread(results.map((r) => r.utilization ?? null)),
    little: littleCheck(results, opts.littleTolerance ?? 0.05),
    sloAllSeeds: results.every((r) => meetsSlo(r.latencyMsP99, r.successRate, opts.slo)),
    sloMean: meetsSlo(p99?.mean, success?.mean, opts.slo),
  };
}

/** The knee: the lowest load whose mean p99 is more than twice the mean p99 at the lowest load. */
export function kneeRps(points: readonly LoadPoint[]): number | null {
  const base = points[0]?.latencyMsP99?.mean;
  if (base === undefined) return null;
  return points.find((p) => p.latencyMsP99 !== null && p.latencyMsP99.mean > 2 * base)?.loadRps ?? null;
}

/** The highest load of the unbroken run of passing points from the lowest load up. */
function maxPassing(points: readonly LoadPoint[], pass: (p: LoadPoint) => boolean): number | null {
  let best: number | null = null;
  for (const p of points) {
    if (!pass(p)) break;
    best = p.loadRps;
  }
  return best;
}

/** Replicas for load Λ at utilization ρ*, from utilization u measured at load λ on r replicas: ceil(r·u·Λ/(λ·ρ*)). */
export function replicasNeeded(r: number, u: number, loadRps: number, targetLoadRps: number, targetUtilization: number): number {
  return Math.ceil((r * u * targetLoadRps) / (loadRps * targetUtilization));
}

function replicasAnswer(fixed: Record<string, string>, points: readonly LoadPoint[], maxRps: number | null, opts: CapacityOptions): ReplicasAnswer | null {
  const swept = fixed[opts.replicasParam ?? "replicas"];
  const replicas = swept !== undefined ? Number(swept) : opts.replicas;
  const from = points.find((p) => p.loadRps === maxRps);
  const utilization = from?.utilization?.mean;
  if (opts.targetLoadRps === undefined || replicas === undefined || !(replicas > 0) || from === undefined || utilization === undefined) return null;
  const targetUtilization = opts.targetUtilization ?? 0.7;
  const needed = replicasNeeded(replicas, utilization, from.loadRps, opts.targetLoadRps, targetUtilization);
  return { fromLoadRps: from.loadRps, replicas, utilization, targetLoadRps: opts.targetLoadRps, targetUtilization, needed };
}

/** Groups the sweep by every param but the load (one series each), then by load, and answers per series. */
export function capacityAnalysis(doc: SweepDoc, opts: CapacityOptions): CapacityAnalysis {
  const skipped: { index: number; reason: string }[] = [];
  const groups = new Map<string, { fixed: Record<string, string>; byLoad: Map<string, SweepResult[]> }>();
  for (const r of doc.results) {
    if (r.error !== undefined) {
      skipped.push({ index: r.index, reason: `did not run: ${r.error}` });
      continue;
    }
    const load = r.params[opts.loadParam];
    if (load === undefined || parseLoadRps(load) === null) {
      skipped.push({ index: r.index, reason: load === undefined ? `no ${opts.loadParam} param` : `${opts.loadParam}=${load} is not a load` });
      continue;
    }
    const fixed = Object.fromEntries(Object.entries(r.params).filter(([k]) => k !== opts.loadParam));
    const key = JSON.stringify(fixed);
    const g = groups.get(key) ?? { fixed, byLoad: new Map<string, SweepResult[]>() };
    groups.set(key, g);
    g.byLoad.set(load, [...(g.byLoad.get(load) ?? []), r]);
  }
  // Maps keep first-seen order, which is the grid's order, so the series come out stable.
  const series = [...groups.values()].map(({ fixed, byLoad }): CapacitySeries => {
    const points = [...byLoad.entries()]
      .map(([load, rs]) => loadPoint(load, parseLoadRps(load) as number, rs, opts))
      .sort((a, b) => a.loadRps - b.loadRps || a.load.localeCompare(b.load));
    const maxLoadRpsAllSeeds = maxPassing(points, (p) => p.sloAllSeeds);
    return {
      fixed,
      points,
      kneeRps: kneeRps(points),
      maxLoadRpsAllSeeds,
      maxLoadRpsMean: maxPassing(points, (p) => p.sloMean),
      replicas: replicasAnswer(fixed, points, maxLoadRpsAllSeeds, opts),
    };
  });
  return { loadParam: opts.loadParam, slo: opts.slo, series, skipped };
}

/** Mean p99 at a load, linearly interpolated between the swept loads; null outside them. */
export function p99AtLoad(series: CapacitySeries, loadRps: number): number | null {
  const pts = series.points.filter((p) => p.latencyMsP99 !== null);
  for (let i = 0; i < pts.length; i++) {
    const a = pts[i] as LoadPoint;
    const b = pts[i + 1];
    if (a.loadRps === loadRps) return (a.latencyMsP99 as Spread).mean;
    if (b !== undefined && a.loadRps < loadRps && loadRps < b.loadRps) {
      const t = (loadRps - a.loadRps) / (b.loadRps - a.loadRps);
      return (a.latencyMsP99 as Spread).mean + t * ((b.latencyMsP99 as Spread).mean - (a.latencyMsP99 as Spread).mean);
    }
  }
  return null;
}

export interface NPlusOneInput {
  /** Load each region carries normally, in rps. */
  perRegionLoad: number;
  /** Regions sharing the load, N ≥ 2; one fails and the other N − 1 split its load evenly. */
  regions: number;
  /** Highest load one survivor carries within the SLO, in rps (e.g. a series' maxLoadRpsAllSeeds). */
  survivorMaxLoad: number;
  /** Extra attempts the failed-over traffic causes (retries while it moves), a fraction of that traffic. */
  retryOverhead: number;
  /** Latency the failed-over traffic adds crossing the multicluster gateway, in ms. */
  gatewayHopMs: number;
  slo: Slo;
  /** The survivor's p99 at the required load, in ms (e.g. from p99AtLoad); absent ⇒ latency cannot be checked. */
  survivorP99Ms?: number;
}

export interface NPlusOneAnswer {
  meets: boolean;
  /** survivorMaxLoad − required load, in rps; negative when the survivor is short. */
  marginRps: number;
  requiredRps: number;
  reason: string;
}

/**
 * Can the mesh lose one region? Each survivor must carry
 *   required = L + (L / (N − 1)) · (1 + retryOverhead)
 * (its own load L plus its share of the failed region's, inflated by the retries the move causes),
 * so margin = survivorMaxLoad − required ≥ 0; and the moved traffic's p99, survivorP99Ms +
 * gatewayHopMs, must stay within slo.p99Ms.
 */
export function nPlusOne(input: NPlusOneInput): NPlusOneAnswer {
  const { perRegionLoad: load, regions, survivorMaxLoad, retryOverhead, gatewayHopMs, slo } = input;
  if (!(regions >= 2)) return { meets: false, marginRps: -load, requiredRps: Number.POSITIVE_INFINITY, reason: `${regions} region(s): nothing survives losing one` };
  const requiredRps = load + (load / (regions - 1)) * (1 + retryOverhead);
  const marginRps = survivorMaxLoad - requiredRps;
  const carry = `a survivor must carry ${fmt(requiredRps)} rps and can carry ${fmt(survivorMaxLoad)} rps`;
  if (marginRps < 0) return { meets: false, marginRps, requiredRps, reason: `${carry}: short by ${fmt(-marginRps)} rps` };
  if (slo.p99Ms !== undefined) {
    if (input.survivorP99Ms === undefined) return { meets: false, marginRps, requiredRps, reason: `${carry}, but its p99 at that load is unknown, so the latency SLO cannot be checked` };
    const p99 = input.survivorP99Ms + gatewayHopMs;
    if (p99 > slo.p99Ms) return { meets: false, marginRps, requiredRps, reason: `${carry}, but the moved traffic's p99 ${fmt(input.survivorP99Ms)} + ${fmt(gatewayHopMs)} ms gateway hop = ${fmt(p99)} ms exceeds ${fmt(slo.p99Ms)} ms` };
    return { meets: true, marginRps, requiredRps, reason: `${carry} (margin ${fmt(marginRps)} rps); moved traffic's p99 ${fmt(p99)} ms ≤ ${fmt(slo.p99Ms)} ms` };
  }
  return { meets: true, marginRps, requiredRps, reason: `${carry} (margin ${fmt(marginRps)} rps)` };
}

function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toPrecision(4).replace(/\.?0+$/, "");
}

function cell(s: Spread | null, scale = 1): string {
  if (s === null) return "n/a";
  return s.min === s.max ? fmt(s.mean * scale) : `${fmt(s.mean * scale)} [${fmt(s.min * scale)}–${fmt(s.max * scale)}]`;
}

export function describeSlo(slo: Slo): string {
  const parts = [...(slo.p99Ms === undefined ? [] : [`p99 ≤ ${fmt(slo.p99Ms)} ms`]), ...(slo.successRate === undefined ? [] : [`success ≥ ${fmt(slo.successRate)}`])];
  return parts.length === 0 ? "none" : parts.join(", ");
}

function seriesMarkdown(s: CapacitySeries, loadParam: string): string[] {
  const fixed = Object.entries(s.fixed).map(([k, v]) => `${k}=${v}`).join(" ");
  const rows = s.points.map((p) => {
    const little = p.little === null ? "n/a" : `${(p.little.relativeError * 100).toFixed(1)} %${p.little.flagged ? " ⚠" : ""}`;
    const slo = `${p.sloAllSeeds ? "yes" : "no"} / ${p.sloMean ? "yes" : "no"}`;
    return `| ${p.load} | ${p.seeds.length} | ${cell(p.latencyMsP50)} | ${cell(p.latencyMsP99)} | ${cell(p.successRate)} | ${cell(p.retryRatio)} | ${cell(p.utilization)} | ${little} | ${slo} |`;
  });
  const r = s.replicas;
  return [
    ...(fixed === "" ? [] : [`### ${fixed}`, ""]),
    `| ${loadParam} | seeds | p50 ms | p99 ms | success | retry ratio | utilization | Little's law error | SLO (every seed / mean) |`,
    "|---|---|---|---|---|---|---|---|---|",
    ...rows,
    "",
    `- Knee (first load with mean p99 > 2× the lowest load's): ${s.kneeRps === null ? "none in the swept range" : `${fmt(s.kneeRps)} rps`}`,
    `- Highest load meeting the SLO on every seed: ${s.maxLoadRpsAllSeeds === null ? "none" : `${fmt(s.maxLoadRpsAllSeeds)} rps`}; on the mean: ${s.maxLoadRpsMean === null ? "none" : `${fmt(s.maxLoadRpsMean)} rps`}`,
    ...(r === null
      ? []
      : [`- Replicas for ${fmt(r.targetLoadRps)} rps at ${fmt(r.targetUtilization * 100)} % utilization: ${r.needed} (from ${fmt(r.utilization * 100)} % on ${r.replicas} at ${fmt(r.fromLoadRps)} rps)`]),
    ...(s.points.some((p) => p.little?.flagged === true) ? ["- ⚠ Little's law (in-flight = rps × mean latency) is off by more than the tolerance at some loads: check the measurement window."] : []),
    "",
  ];
}

/** The capacity section: a table per series (mean [min–max] over seeds) and its answers. */
export function capacityMarkdown(analysis: CapacityAnalysis): string {
  const lines = ["## Capacity", "", `SLO: ${describeSlo(analysis.slo)}. Load param: \`${analysis.loadParam}\`.`, ""];
  if (analysis.series.length === 0) lines.push("No results with a load value to analyse.", "");
  for (const s of analysis.series) lines.push(...seriesMarkdown(s, analysis.loadParam));
  if (analysis.skipped.length > 0) lines.push("Left out:", ...analysis.skipped.map((k) => `- #${k.index}: ${k.reason}`), "");
  return lines.join("\n");
}
