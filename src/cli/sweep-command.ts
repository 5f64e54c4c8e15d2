// `meshsim sweep FILE --vary ...` runs a scenario over a grid of params and seeds on a pool of
// worker threads (results collected by grid index, so identical for any worker count), optionally
// only one shard of the grid; `meshsim merge` joins shard files into the unsharded sweep.
// Exit: 0 every point ran (failing expectations are data in a sweep), 2 bad input, 3 a worker crashed.

import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join, resolve } from "node:path";
import { type Command, InvalidArgumentError } from "commander";
import { stringify } from "yaml";
import {
  expandGrid,
  type GridPoint,
  k8sJobManifest,
  mergeShards,
  parseShard,
  parseVary,
  seedList,
  type ShardDoc,
  shardPoints,
  type SweepAxis,
  type SweepDoc,
  sweepCsv,
  type SweepGrid,
  type SweepResult,
  sweepTable,
} from "../report/sweep.js";
import { capacityAnalysis, capacityMarkdown, type CapacityOptions, nPlusOne, p99AtLoad, parseLoadRps, parseSlo } from "../report/capacity.js";
import { parseDurationUs } from "../sim/time.js";
import { formatInputError, type InputError } from "../k8s/input-error.js";
import { loadScenario } from "../scenario/load.js";
import { fileReader, manifestsRoot } from "./files.js";
import { commandLineError, EXIT, inputErrorsJson } from "./run-command.js";
import { type RunsProgress as Progress, runsProgressBar } from "./progress.js";
import type { PointJob } from "./sweep-worker.js";
import { runOnWorkers } from "./worker-pool.js";

export interface SweepOptions {
  /** `--manifests-root`: where the scenario's manifests may come from. Absent ⇒ the scenario's own directory tree. */
  manifestsRoot?: string;
  /** `name=v1,v2` or `name=a..b:n`, repeatable; absent ⇒ a single point with the scenario's params. */
  vary?: string[];
  /** Seeds 1..N per point; absent ⇒ the scenario's own seed. */
  seeds?: number;
  /** Worker threads; default os.availableParallelism(). 1 runs in this thread. */
  workers?: number;
  /** `i/n`, 0-based: run only grid indices with index % n === i. */
  shard?: string;
  /** Directory for sweep.json + sweep.csv (or shard-I-of-N.json when sharded). */
  out?: string;
  /** Print the sweep (or shard) JSON instead of the table; input errors as `{"ok":false,"errors":[...]}`. */
  json?: boolean;
  /** Print a Kubernetes Indexed Job running this many shards instead of running anything. */
  emitK8sJob?: number;
  image?: string;
  parallelism?: number;
  resultsClaim?: string;
  jobName?: string;
  /** `p99<=100ms,success>=0.999`: analyse capacity against this SLO; absent ⇒ no SLO answers. */
  slo?: string;
  /** The swept param holding the load; default `rate`. Given (or --slo given) ⇒ capacity report. */
  loadParam?: string;
  /** Load to size replicas for, as a rate (`4000/s`); absent ⇒ no replicas answer. */
  targetLoad?: string;
  /** Utilization to size replicas for, a fraction; default 0.7. */
  targetUtilization?: number;
  /** Replica count when not swept as `replicas`; absent ⇒ replicas are sized only from a swept `replicas` param. */
  replicas?: number;
  /** N+1: regions sharing the load (≥ 2); with `regionLoad`, the report answers whether losing one is survivable. */
  regions?: number;
  /** N+1: load each region carries normally, as a rate (`1500/s`). */
  regionLoad?: string;
  /** N+1: latency the gateway hop adds to failed-over traffic, e.g. `62ms`. Default 0. */
  gatewayHop?: string;
  /** N+1: extra attempts the failed-over traffic causes, a fraction. Default 0. */
  retryOverhead?: number;
}

type Print = (line: string) => void;

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError("expected a positive whole number");
  return n;
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** The grid from the command line, or the first problem with it. */
export function gridFromOptions(file: string, opts: SweepOptions): { ok: true; grid: SweepGrid } | { ok: false; error: string } {
  const axes: SweepAxis[] = [];
  for (const v of opts.vary ?? []) {
    const axis = parseVary(v);
    if (!axis.ok) return axis;
    if (axes.some((a) => a.name === axis.value.name)) return { ok: false, error: `--vary ${v}: ${axis.value.name} is already varied` };
    axes.push(axis.value);
  }
  return { ok: true, grid: { file, axes, seeds: seedList(opts.seeds) } };
}

/** The capacity options from the command line: undefined when no report was asked for, or the first problem. */
export function capacityFromOptions(opts: SweepOptions): { ok: true; value: CapacityOptions | undefined } | { ok: false; error: string } {
  if (opts.slo === undefined && opts.loadParam === undefined && opts.targetLoad === undefined && opts.replicas === undefined && opts.regions === undefined) return { ok: true, value: undefined };
  const slo = opts.slo === undefined ? { ok: true as const, value: {} } : parseSlo(opts.slo);
  if (!slo.ok) return slo;
  const target = opts.targetLoad === undefined ? undefined : parseLoadRps(opts.targetLoad);
  if (target === null) return { ok: false, error: `--target-load ${opts.targetLoad}: expected a rate such as 4000/s` };
  const u = opts.targetUtilization;
  if (u !== undefined && !(u > 0 && u <= 1)) return { ok: false, error: `--target-utilization ${u}: expected a fraction in (0, 1]` };
  return {
    ok: true,
    value: { loadParam: opts.loadParam ?? "rate", slo: slo.value, ...(target === undefined ? {} : { targetLoadRps: target }), ...(u === undefined ? {} : { targetUtilization: u }), ...(opts.replicas === undefined ? {} : { replicas: opts.replicas }) },
  };
}

/** The capacity section, with the N+1 answer per series when `--regions` and `--region-load` are given. */
function capacitySection(doc: SweepDoc, options: CapacityOptions, opts: SweepOptions): string {
  const analysis = capacityAnalysis(doc, options);
  const lines = [capacityMarkdown(analysis)];
  const perRegionLoad = opts.regionLoad === undefined ? null : parseLoadRps(opts.regionLoad);
  if (opts.regions === undefined || perRegionLoad === null) return lines.join("\n");
  const hop = opts.gatewayHop === undefined ? { ok: true as const, us: 0 } : parseDurationUs(opts.gatewayHop);
  const gatewayHopMs = hop.ok ? hop.us / 1000 : 0;
  lines.push("### N+1: losing one region", "");
  for (const series of analysis.series) {
    const label = Object.entries(series.fixed).map(([k, v]) => `${k}=${v}`).join(" ") || "all runs";
    if (series.maxLoadRpsAllSeeds === null) {
      lines.push(`- ${label}: no swept load met the SLO, so a survivor cannot be sized`);
      continue;
    }
    const required = perRegionLoad + (perRegionLoad / Math.max(1, opts.regions - 1)) * (1 + (opts.retryOverhead ?? 0));
    const p99 = p99AtLoad(series, required);
    const answer = nPlusOne({
      perRegionLoad,
      regions: opts.regions,
      survivorMaxLoad: series.maxLoadRpsAllSeeds,
      retryOverhead: opts.retryOverhead ?? 0,
      gatewayHopMs,
      slo: analysis.slo,
      ...(p99 === null ? {} : { survivorP99Ms: p99 }),
    });
    lines.push(`- ${label}: **${answer.meets ? "yes" : "no"}**, margin ${answer.marginRps.toFixed(0)} rps — ${answer.reason}`);
  }
  return lines.join("\n") + "\n";
}

export async function sweepCommand(file: string, opts: SweepOptions, out: Print, err: Print): Promise<number> {
  const bad = refusal(opts, out, err);
  const g = gridFromOptions(file, opts);
  if (!g.ok) return bad(g.error);
  const capacity = capacityFromOptions(opts);
  if (!capacity.ok) return bad(capacity.error);
  const grid = g.grid;
  if (opts.emitK8sJob !== undefined) {
    if (opts.shard !== undefined) return bad("--emit-k8s-job prints a Job for every shard; drop --shard");
    const manifest = k8sJobManifest(grid, {
      name: opts.jobName ?? "meshsim-sweep",
      image: opts.image ?? "meshsim:latest",
      shards: opts.emitK8sJob,
      ...(opts.parallelism === undefined ? {} : { parallelism: opts.parallelism }),
      resultsClaim: opts.resultsClaim ?? "meshsim-results",
    });
    out(stringify(manifest).trimEnd());
    return EXIT.ok;
  }
  let points = expandGrid(grid);
  let shard: { index: number; count: number } | undefined;
  if (opts.shard !== undefined) {
    const s = parseShard(opts.shard);
    if (!s.ok) return bad(s.error);
    shard = s.value;
    points = shardPoints(points, shard);
  }
  // Input errors common to every point (a missing or invalid scenario, a broken manifest) are
  // reported once, before anything runs; errors of particular param values stay in the results.
  const first = points[0];
  if (first !== undefined) {
    const loaded = loadScenario(resolve(file), fileReader, { set: first.set, ...(first.seed === null ? {} : { seed: first.seed }), displayAs: file, ...manifestsRoot(opts.manifestsRoot) });
    if (!loaded.ok) return bad(loaded.errors);
  }
  let results: SweepResult[];
  try {
    results = await runPoints(file, points, opts.workers ?? availableParallelism(), opts.json === true ? undefined : runsProgressBar("sweep", points.length), manifestsRoot(opts.manifestsRoot).manifestsRoot);
  } catch (e) {
    err(`meshsim sweep: a worker failed (a bug in meshsim): ${e instanceof Error ? e.message : String(e)}`);
    return EXIT.invariant;
  }
  const doc: SweepDoc | ShardDoc =
    shard === undefined ? { kind: "meshsim-sweep", grid, results } : { kind: "meshsim-sweep-shard", grid, shard, indices: points.map((p) => p.index), results };
  const report = doc.kind === "meshsim-sweep" && capacity.value !== undefined ? capacitySection(doc, capacity.value, opts) : undefined;
  out(opts.json === true ? JSON.stringify(doc, null, 2) : sweepTable(doc));
  if (report !== undefined && opts.json !== true) out("\n" + report.trimEnd());
  if (opts.out !== undefined) {
    mkdirSync(opts.out, { recursive: true });
    if (report !== undefined) writeFileSync(join(opts.out, "capacity.md"), report);
    if (doc.kind === "meshsim-sweep") writeSweep(opts.out, doc);
    else writeFileSync(join(opts.out, `shard-${doc.shard.index}-of-${doc.shard.count}.json`), JSON.stringify(doc, null, 2) + "\n");
  }
  return results.some((r) => r.error !== undefined) ? EXIT.badInput : EXIT.ok;
}

export function mergeCommand(files: readonly string[], opts: { out?: string; json?: boolean }, out: Print, err: Print): number {
  const bad = refusal(opts, out, err);
  const shards: ShardDoc[] = [];
  for (const f of files) {
    const shard = readShard(f);
    if ("message" in shard) return bad([shard]);
    shards.push(shard);
  }
  const merged = mergeShards(shards);
  if (!merged.ok) return bad(merged.error);
  out(opts.json === true ? JSON.stringify(merged.value, null, 2) : sweepTable(merged.value));
  if (opts.out !== undefined) writeSweep(opts.out, merged.value);
  return EXIT.ok;
}

/**
 * A shard file as `sweep --shard` wrote it, or the input error that says where it is not: the
 * line and column of a JSON syntax error, or the field that does not have a shard's shape.
 */
function readShard(file: string): ShardDoc | InputError {
  const at = (line: number, col: number, path: string, message: string): InputError => ({ file, line, col, path, message });
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    return at(0, 0, "", `cannot read: ${e instanceof Error ? e.message : String(e)}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    const offset = Number(/position (\d+)/.exec(e instanceof Error ? e.message : "")?.[1] ?? 0);
    const before = text.slice(0, offset);
    const line = before.split("\n").length;
    return at(line, offset - before.lastIndexOf("\n"), "", `not JSON: ${e instanceof Error ? e.message.replace(/ in JSON at position \d+.*$/, "") : String(e)}`);
  }
  const rec = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
  const shapeProblem = (): [string, string] | undefined => {
    if (!rec(doc) || doc["kind"] !== "meshsim-sweep-shard") return ["kind", "not a sweep shard file (kind is not meshsim-sweep-shard)"];
    if (!rec(doc["grid"]) || !Array.isArray(doc["grid"]["axes"]) || !Array.isArray(doc["grid"]["seeds"])) return ["grid", "grid must hold axes and seeds"];
    if (!rec(doc["shard"]) || !Number.isInteger(doc["shard"]["index"]) || !Number.isInteger(doc["shard"]["count"])) return ["shard", "shard must hold integer index and count"];
    if (!Array.isArray(doc["results"])) return ["results", "results must be a list"];
    const i = doc["results"].findIndex((r) => !rec(r) || !Number.isInteger(r["index"]));
    return i < 0 ? undefined : [`results[${i}].index`, "every result needs an integer index"];
  };
  const problem = shapeProblem();
  return problem === undefined ? (doc as ShardDoc) : at(0, 0, problem[0], `merge: ${problem[1]}`);
}

function writeSweep(dir: string, doc: SweepDoc): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "sweep.json"), JSON.stringify(doc, null, 2) + "\n");
  writeFileSync(join(dir, "sweep.csv"), sweepCsv(doc));
}

/**
 * Reports bad input and gives exit code 2: as text on stderr and, under --json, also as the one
 * `{"ok":false,"errors":[...]}` object on stdout. A string is an error in the command line.
 */
function refusal(opts: { json?: boolean }, out: Print, err: Print): (problem: string | readonly InputError[]) => number {
  return (problem) => {
    const errors = typeof problem === "string" ? [commandLineError(problem)] : problem;
    for (const e of errors) err(formatInputError(e));
    if (opts.json === true) out(inputErrorsJson(errors));
    return EXIT.badInput;
  };
}

/** Runs the points, at most `workers` at once; results come back in the points' order. */
export function runPoints(file: string, points: readonly GridPoint[], workers: number, onDone?: Progress, root?: string): Promise<SweepResult[]> {
  return runJobs(points.map((point) => ({ file, point, ...(root === undefined ? {} : { manifestsRoot: root }) })), workers, onDone);
}

/**
 * Runs the jobs (each a scenario file and a grid point), at most `workers` at once on worker
 * threads; results come back in the jobs' order, so they are the same for any worker count.
 */
export function runJobs(jobs: readonly PointJob[], workers: number, onDone?: Progress): Promise<SweepResult[]> {
  return runOnWorkers("point", jobs, workers, onDone);
}

function settle(p: Promise<number>, err: Print): void {
  p.then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      err(`meshsim: internal error: ${e instanceof Error ? e.message : String(e)}`);
      process.exitCode = EXIT.invariant;
    },
  );
}

export function registerSweep(program: Command, out: Print, err: Print): void {
  program
    .command("sweep")
    .description("run a scenario over a grid of params and seeds in parallel (exit 0 all ran, 2 bad input, 3 a worker crashed)")
    .argument("<file>", "scenario YAML file")
    .option("--vary <name=values>", "a param's values: v1,v2,v3 or a..b:n (n evenly spaced, inclusive, unit kept: 500/s..8000/s:4); repeatable", collect)
    .option("--seeds <n>", "run every point with seeds 1..n (default: the scenario's seed)", positiveInteger)
    .option("--manifests-root <dir>", "let the scenario's manifests come from anywhere below DIR (default: only below the scenario's own directory)")
    .option("--workers <n>", "worker threads (default: available parallelism; 1 runs in-process)", positiveInteger)
    .option("--shard <i/n>", "run only grid indices with index % n == i (0-based, 0 <= i < n)")
    .option("--out <dir>", "write sweep.json and sweep.csv (sharded: shard-I-of-N.json) into this directory")
    .option("--json", "print the sweep (or shard) JSON instead of the table; input errors as {ok: false, errors: [...]}")
    .option("--emit-k8s-job <shards>", "print a Kubernetes Indexed Job running the sweep as this many shards, and run nothing", positiveInteger)
    .option("--image <ref>", "the Job's image: meshsim and the scenario files in its working directory", "meshsim:latest")
    .option("--parallelism <n>", "the Job's parallelism (default: all shards at once)", positiveInteger)
    .option("--results-claim <name>", "the PersistentVolumeClaim the Job mounts at /results", "meshsim-results")
    .option("--job-name <name>", "the Job's metadata.name", "meshsim-sweep")
    .option("--slo <spec>", "capacity report against this SLO: p99<=100ms,success>=0.999 (either part optional)")
    .option("--load-param <name>", "the swept param holding the load, for the capacity report (default rate)")
    .option("--target-load <rate>", "capacity report: size replicas for this load, e.g. 4000/s")
    .option("--replicas <n>", "capacity report: the replica count the runs used, when not swept as a `replicas` param", positiveInteger)
    .option("--target-utilization <fraction>", "capacity report: utilization to size replicas for (default 0.7)", Number)
    .option("--regions <n>", "N+1: regions sharing the load (with --region-load)", positiveInteger)
    .option("--region-load <rate>", "N+1: load each region carries normally, e.g. 1500/s")
    .option("--gateway-hop <duration>", "N+1: latency the gateway hop adds to failed-over traffic, e.g. 62ms")
    .option("--retry-overhead <fraction>", "N+1: extra attempts the failed-over traffic causes, a fraction", Number)
    .action((file: string, opts: SweepOptions) => {
      settle(sweepCommand(file, opts, out, err), err);
    });
}

export function registerMerge(program: Command, out: Print, err: Print): void {
  program
    .command("merge")
    .description("merge sweep shard files into the unsharded sweep (refuses different grids, missing or overlapping indices)")
    .argument("<shards...>", "shard JSON files written by `meshsim sweep --shard i/n --out DIR`")
    .option("--out <dir>", "write sweep.json and sweep.csv into this directory")
    .option("--json", "print the sweep JSON instead of the table")
    .action((files: string[], opts: { out?: string; json?: boolean }) => {
      process.exitCode = mergeCommand(files, opts, out, err);
    });
}
