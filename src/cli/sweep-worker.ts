// The sweep's worker-thread entry: receives {file, point} messages, loads and runs that grid point,
// and posts back the compact result. `runPoint` is also the in-process path (one worker, tests).

import { resolve } from "node:path";
import { parentPort, workerData } from "node:worker_threads";
import { formatInputError } from "../k8s/input-error.js";
import { compactResult, failedResult, type GridPoint, type SweepResult } from "../report/sweep.js";
import { loadScenario } from "../scenario/load.js";
import { runWorldSpec } from "../scenario/run.js";
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

// Only act as a worker when the sweep started this thread (a test runner's own worker must not).
const port = parentPort;
if (port !== null && (workerData as { meshsimSweep?: boolean } | null)?.meshsimSweep === true) {
  port.on("message", (job: PointJob) => {
    port.postMessage(runPoint(job));
  });
}
