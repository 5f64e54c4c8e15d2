// Parameter sweeps, the pure half: parse `--vary` axes, expand the grid (a cartesian product in a
// stable order), slice it into shards, reduce a run to a compact result, merge shard files back
// into exactly the unsharded sweep, and render the table, the CSV and a Kubernetes Indexed Job.
// Results are keyed by grid index, so the worker count or shard split never changes the output.

import type { ScenarioRun } from "../scenario/run.js";
import type { MeshMetrics } from "../mesh/metrics.js";
import { measure } from "../scenario/expect.js";
import { wholeRun } from "./summary.js";

/** One swept param and its values, in the order given. */
export interface SweepAxis {
  name: string;
  values: string[];
}

/** What a sweep runs: the scenario file (as given), the axes, and the seeds (null = the scenario's own). */
export interface SweepGrid {
  file: string;
  axes: SweepAxis[];
  seeds: (string | null)[];
}

export interface GridPoint {
  index: number;
  set: Record<string, string>;
  seed: string | null;
}

/** One run reduced to what a sweep compares. Latencies in ms, rates as fractions; null when unmeasurable. */
export interface SweepResult {
  index: number;
  params: Record<string, string>;
  /** The seed the run used (the scenario's own when the grid says null). */
  seed: string;
  digest: string;
  pass: boolean;
  expectations: { name: string; pass: boolean; measured: number | null }[];
  requests: number;
  successRate: number | null;
  latencyMsP50: number | null;
  latencyMsP99: number | null;
  retryRatio: number | null;
  /**
   * Utilization of the busiest server workload (busy slot-time / slot-time), a fraction — the
   * bottleneck that decides capacity; null when no workload served anything.
   */
  utilization: number | null;
  /** Time-weighted mean of in-flight logical requests (Little's L). */
  inFlightMean: number | null;
  /** Logical requests completed per second at the clients (Little's λ). */
  rps: number | null;
  /** Mean end-to-end latency in ms (Little's W). */
  latencyMsMean: number | null;
  /** Client-proxy attempts per logical request. */
  amplification: number | null;
  /** Set when the point could not be loaded (e.g. a value the scenario refuses); the figures are then empty. */
  error?: string;
  /** How many of meshsim's own invariants broke in the run (a bug in meshsim); absent ⇒ none. */
  invariantViolations?: number;
}

export interface SweepDoc {
  kind: "meshsim-sweep";
  grid: SweepGrid;
  results: SweepResult[];
}

export interface ShardDoc {
  kind: "meshsim-sweep-shard";
  grid: SweepGrid;
  /** 0-based shard index and shard count: this shard holds the grid indices with index % count === index. */
  shard: { index: number; count: number };
  indices: number[];
  results: SweepResult[];
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

const NUMBER_WITH_UNIT = /^(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)(.*)$/i;

/**
 * `name=v1,v2,v3` (a list, taken verbatim) or `name=a..b:n` — n evenly spaced values from a to b
 * inclusive, where a and b are numbers sharing a unit suffix (`500/s..8000/s:4` gives 500/s,
 * 3000/s, 5500/s, 8000/s; a suffix on only one end applies to both). n ≥ 2 whole.
 */
export function parseVary(text: string): Parsed<SweepAxis> {
  const eq = text.indexOf("=");
  if (eq <= 0) return { ok: false, error: `--vary ${text}: expected name=v1,v2,... or name=a..b:n` };
  const name = text.slice(0, eq);
  const spec = text.slice(eq + 1);
  const range = /^(.+)\.\.(.+):(\d+)$/.exec(spec);
  if (range === null) {
    const values = spec.split(",");
    if (values.some((v) => v.trim() === "")) return { ok: false, error: `--vary ${text}: empty value in the list` };
    return { ok: true, value: { name, values } };
  }
  const [, from, to, count] = range as unknown as [string, string, string, string];
  const a = NUMBER_WITH_UNIT.exec(from);
  const b = NUMBER_WITH_UNIT.exec(to);
  const n = Number(count);
  if (a === null || b === null) return { ok: false, error: `--vary ${text}: a range's ends must be numbers, optionally with a unit (500/s..8000/s:4)` };
  const [unitA, unitB] = [a[2] ?? "", b[2] ?? ""];
  if (unitA !== "" && unitB !== "" && unitA !== unitB) return { ok: false, error: `--vary ${text}: the ends have different units (${unitA} and ${unitB})` };
  if (!Number.isSafeInteger(n) || n < 2) return { ok: false, error: `--vary ${text}: the count after ':' must be a whole number ≥ 2` };
  const unit = unitA !== "" ? unitA : unitB;
  const lo = Number(a[1]);
  const hi = Number(b[1]);
  const values = Array.from({ length: n }, (_, i) => formatNumber(lo + ((hi - lo) * i) / (n - 1)) + unit);
  return { ok: true, value: { name, values } };
}

/** Twelve significant digits, no trailing zeros: 0.1 + 0.2 steps print as 0.3, not 0.30000000000000004. */
function formatNumber(v: number): string {
  return String(Number(v.toPrecision(12)));
}

/** `--seeds N` ⇒ seeds "1".."N"; absent ⇒ one run per point with the scenario's own seed. */
export function seedList(count: number | undefined): (string | null)[] {
  if (count === undefined) return [null];
  return Array.from({ length: count }, (_, i) => String(i + 1));
}

/** Every point of the grid: the first axis varies slowest, then later axes, then seeds fastest. */
export function expandGrid(grid: SweepGrid): GridPoint[] {
  let combos: Record<string, string>[] = [{}];
  for (const axis of grid.axes) combos = combos.flatMap((c) => axis.values.map((v) => ({ ...c, [axis.name]: v })));
  const points: GridPoint[] = [];
  for (const set of combos) for (const seed of grid.seeds) points.push({ index: points.length, set, seed });
  return points;
}

/** `i/n` with 0 ≤ i < n (0-based, like a Kubernetes Job's JOB_COMPLETION_INDEX). */
export function parseShard(text: string): Parsed<{ index: number; count: number }> {
  const m = /^(\d+)\/(\d+)$/.exec(text);
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (m === null || !Number.isSafeInteger(index) || !Number.isSafeInteger(count) || count < 1 || index >= count) {
    return { ok: false, error: `--shard ${text}: expected i/n with 0 ≤ i < n (0-based), e.g. 0/4` };
  }
  return { ok: true, value: { index, count } };
}

export function shardPoints(points: readonly GridPoint[], shard: { index: number; count: number }): GridPoint[] {
  return points.filter((p) => p.index % shard.count === shard.index);
}

/** A finished run as the sweep keeps it: whole-mesh figures over the post-warmup window. */
/** The highest per-workload utilization: averaging idle client pods in would hide the bottleneck. */
function busiestUtilization(m: MeshMetrics, w: [number, number]): number | null {
  let best: number | null = null;
  const servers = new Set(m.labelSets("server").flatMap((l) => (l.server === undefined ? [] : [l.server])));
  for (const server of [...servers].sort()) {
    const u = measure(m, "utilization", { server }, w);
    if (u !== null && (best === null || u > best)) best = u;
  }
  return best;
}

export function compactResult(point: GridPoint, run: ScenarioRun): SweepResult {
  const w = wholeRun(run);
  const m = run.world.metrics;
  return {
    index: point.index,
    params: point.set,
    seed: run.spec.seed,
    digest: run.world.digest,
    pass: run.pass,
    expectations: run.expectations.map((e) => ({ name: e.name, pass: e.pass, measured: e.measured })),
    requests: measure(m, "requests", {}, w) ?? 0,
    successRate: measure(m, "successRate", {}, w),
    latencyMsP50: measure(m, "latencyP50", {}, w),
    latencyMsP99: measure(m, "latencyP99", {}, w),
    retryRatio: measure(m, "retryRatio", {}, w),
    utilization: busiestUtilization(m, w),
    inFlightMean: measure(m, "inFlight", {}, w),
    rps: measure(m, "rps", {}, w),
    latencyMsMean: measure(m, "latencyMean", {}, w),
    amplification: measure(m, "amplification", {}, w),
    ...(run.world.invariantViolations.length > 0 ? { invariantViolations: run.world.invariantViolations.length } : {}),
  };
}

export function failedResult(point: GridPoint, error: string): SweepResult {
  return {
    index: point.index,
    params: point.set,
    seed: point.seed ?? "",
    digest: "",
    pass: false,
    expectations: [],
    requests: 0,
    successRate: null,
    latencyMsP50: null,
    latencyMsP99: null,
    retryRatio: null,
    utilization: null,
    inFlightMean: null,
    rps: null,
    latencyMsMean: null,
    amplification: null,
    error,
  };
}

/** Shard files back into the unsharded sweep; refuses different grids and missing or overlapping indices. */
export function mergeShards(shards: readonly ShardDoc[]): Parsed<SweepDoc> {
  const first = shards[0];
  if (first === undefined) return { ok: false, error: "merge: no shard files given" };
  const gridKey = JSON.stringify(first.grid);
  const total = expandGrid(first.grid).length;
  const byIndex = new Map<number, SweepResult>();
  for (const [k, s] of shards.entries()) {
    if (s.kind !== "meshsim-sweep-shard") return { ok: false, error: `merge: input ${k + 1} is not a sweep shard file` };
    if (JSON.stringify(s.grid) !== gridKey) return { ok: false, error: `merge: input ${k + 1} (shard ${s.shard.index}/${s.shard.count}) is of a different grid than input 1` };
    for (const r of s.results) {
      if (byIndex.has(r.index)) return { ok: false, error: `merge: grid index ${r.index} appears in more than one shard` };
      if (r.index < 0 || r.index >= total || !Number.isInteger(r.index)) return { ok: false, error: `merge: grid index ${r.index} is outside the grid (0..${total - 1})` };
      byIndex.set(r.index, r);
    }
  }
  const missing = Array.from({ length: total }, (_, i) => i).filter((i) => !byIndex.has(i));
  if (missing.length > 0) return { ok: false, error: `merge: ${missing.length} grid index(es) missing, first ${missing.slice(0, 5).join(", ")}` };
  const results = Array.from({ length: total }, (_, i) => byIndex.get(i) as SweepResult);
  return { ok: true, value: { kind: "meshsim-sweep", grid: first.grid, results } };
}

function fmt(v: number | null): string {
  if (v === null) return "n/a";
  return Number.isInteger(v) ? String(v) : v.toPrecision(4).replace(/\.?0+$/, "");
}

function rows(doc: { grid: SweepGrid; results: readonly SweepResult[] }): { header: string[]; cells: string[][] } {
  const names = doc.grid.axes.map((a) => a.name);
  const header = ["#", ...names, "seed", "pass", "requests", "success", "p50_ms", "p99_ms", "retry_ratio", "digest"];
  const cells = doc.results.map((r) => [
    String(r.index),
    ...names.map((n) => r.params[n] ?? ""),
    r.seed,
    r.error !== undefined ? "ERROR" : r.pass ? "PASS" : "FAIL",
    String(r.requests),
    fmt(r.successRate),
    fmt(r.latencyMsP50),
    fmt(r.latencyMsP99),
    fmt(r.retryRatio),
    r.digest.slice(0, 12),
  ]);
  return { header, cells };
}

/** The terminal table, one line per run, columns aligned; load errors listed below it. */
export function sweepTable(doc: { grid: SweepGrid; results: readonly SweepResult[] }): string {
  const { header, cells } = rows(doc);
  const widths = header.map((h, c) => Math.max(h.length, ...cells.map((r) => (r[c] ?? "").length)));
  const line = (r: string[]): string => r.map((v, c) => v.padEnd(widths[c] ?? 0)).join("  ").trimEnd();
  const errors = doc.results.filter((r) => r.error !== undefined).map((r) => `  #${r.index}: ${r.error}`);
  return [line(header.map((h) => h.toUpperCase())), ...cells.map(line), ...(errors.length > 0 ? ["", "errors:", ...errors] : [])].join("\n");
}

/** RFC 4180 CSV with full-precision numbers, one row per run plus a measured column per expectation. */
export function sweepCsv(doc: SweepDoc): string {
  const names = doc.grid.axes.map((a) => a.name);
  const expectations = [...new Set(doc.results.flatMap((r) => r.expectations.map((e) => e.name)))];
  const header = ["index", ...names, "seed", "pass", "requests", "success_rate", "latency_p50_ms", "latency_p99_ms", "retry_ratio", "digest", ...expectations, "error"];
  const num = (v: number | null): string => (v === null ? "" : String(v));
  const lines = doc.results.map((r) => [
    String(r.index),
    ...names.map((n) => r.params[n] ?? ""),
    r.seed,
    String(r.pass),
    String(r.requests),
    num(r.successRate),
    num(r.latencyMsP50),
    num(r.latencyMsP99),
    num(r.retryRatio),
    r.digest,
    ...expectations.map((n) => num(r.expectations.find((e) => e.name === n)?.measured ?? null)),
    r.error ?? "",
  ]);
  return [header, ...lines].map((r) => r.map(csvCell).join(",")).join("\n") + "\n";
}

function csvCell(v: string): string {
  return /[",\n\r]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v;
}

export interface K8sJobOptions {
  /** metadata.name of the Job. */
  name: string;
  /** Container image with meshsim and the scenario files in its working directory. */
  image: string;
  /** Shards, one pod each: the Job's completions. */
  shards: number;
  /** Pods at once; absent ⇒ all shards at once. */
  parallelism?: number;
  /** PersistentVolumeClaim mounted at /results, where every shard writes its file. */
  resultsClaim: string;
}

/** The sweep arguments a shard pod repeats: the file, the axes and the seed count. */
export function sweepArgs(grid: SweepGrid): string[] {
  const args = [grid.file];
  for (const a of grid.axes) args.push("--vary", `${a.name}=${a.values.join(",")}`);
  if (grid.seeds[0] !== null) args.push("--seeds", String(grid.seeds.length));
  return args;
}

/** A batch/v1 Indexed Job running one shard per completion index; plain data for the YAML printer. */
export function k8sJobManifest(grid: SweepGrid, opts: K8sJobOptions): Record<string, unknown> {
  const command = ["npx", "meshsim", "sweep", ...sweepArgs(grid), "--shard", `$(JOB_COMPLETION_INDEX)/${opts.shards}`, "--out", "/results"];
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: opts.name, labels: { "app.kubernetes.io/name": "meshsim-sweep" } },
    spec: {
      completionMode: "Indexed",
      completions: opts.shards,
      parallelism: opts.parallelism ?? opts.shards,
      backoffLimit: 2,
      template: {
        metadata: { labels: { "app.kubernetes.io/name": "meshsim-sweep" } },
        spec: {
          restartPolicy: "Never",
          containers: [
            {
              name: "sweep",
              image: opts.image,
              command,
              // Declared explicitly (Kubernetes also injects it) so `$(JOB_COMPLETION_INDEX)` expands in `command`.
              env: [{ name: "JOB_COMPLETION_INDEX", valueFrom: { fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" } } }],
              volumeMounts: [{ name: "results", mountPath: "/results" }],
            },
          ],
          volumes: [{ name: "results", persistentVolumeClaim: { claimName: opts.resultsClaim } }],
        },
      },
    },
  };
}
