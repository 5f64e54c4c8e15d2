// The worker-thread entry of sweep, verify and swarm: receives {kind, job} messages, runs the job
// (a grid point: load and run the scenario, reduce it; a swarm seed: generate, run and judge the
// case) and posts back the result. `runWorkerJob` is also the in-process path (one worker, tests).

import { resolve } from "node:path";
import { parentPort, workerData } from "node:worker_threads";
import { formatInputError } from "../k8s/input-error.js";
import { compactResult, failedResult, type GridPoint, type SweepResult } from "../report/sweep.js";
import { loadScenario } from "../scenario/load.js";
import { runWorldSpec } from "../scenario/run.js";
import { runSeed, type SeedOutcome, type SwarmOptions } from "../swarm/swarm.js";
import { fileReader } from "./files.js";

export interface PointJob {
  /** The scenario file, relative to the working directory or absolute. */
  file: string;
  point: GridPoint;
  /** `--manifests-root`, absolute; absent ⇒ manifests only below the scenario's own directory. */
  manifestsRoot?: string;
}

/** Load the scenario with the point's params and seed, run it, reduce it. Never throws on bad input. */
export function runPoint(job: PointJob): SweepResult {
  const { file, point } = job;
  const root = job.manifestsRoot === undefined ? {} : { manifestsRoot: job.manifestsRoot };
  const loaded = loadScenario(resolve(file), fileReader, { set: point.set, ...(point.seed === null ? {} : { seed: point.seed }), displayAs: file, ...root });
  if (!loaded.ok) return failedResult(point, loaded.errors.map(formatInputError).join("; "));
  return compactResult(point, runWorldSpec(loaded.spec));
}

/** One swarm seed: the case generated from it, run and judged. */
export interface SwarmJob {
  seed: number;
  options: SwarmOptions;
}

interface Jobs {
  point: { job: PointJob; result: SweepResult };
  swarm: { job: SwarmJob; result: SeedOutcome };
}
export type JobKind = keyof Jobs;
export type JobOf<K extends JobKind> = Jobs[K]["job"];
export type ResultOf<K extends JobKind> = Jobs[K]["result"];

export function runWorkerJob<K extends JobKind>(kind: K, job: JobOf<K>): ResultOf<K> {
  if (kind === "swarm") {
    const j = job as SwarmJob;
    return runSeed(j.seed, j.options) as ResultOf<K>;
  }
  return runPoint(job as PointJob) as ResultOf<K>;
}

// Only act as a worker when the sweep started this thread (a test runner's own worker must not).
const port = parentPort;
if (port !== null && (workerData as { meshsimSweep?: boolean } | null)?.meshsimSweep === true) {
  port.on("message", (m: { kind: JobKind; job: JobOf<JobKind> }) => {
    port.postMessage(runWorkerJob(m.kind, m.job));
  });
}
