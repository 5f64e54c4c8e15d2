// Runs independent jobs (sweep grid points, swarm seeds) on worker threads. Each job is a pure
// function of its message, and results are stored by the job's index, so the output is the same
// for any worker count; with one worker (or one job) everything runs in this thread.

import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import type { RunsProgress } from "./progress.js";
import { type JobKind, type JobOf, type ResultOf, runWorkerJob } from "./sweep-worker.js";

export async function runOnWorkers<K extends JobKind>(kind: K, jobs: readonly JobOf<K>[], workers: number, onDone?: RunsProgress): Promise<ResultOf<K>[]> {
  const results = new Array<ResultOf<K>>(jobs.length);
  try {
    if (workers <= 1 || jobs.length <= 1) {
      for (const [k, job] of jobs.entries()) {
        results[k] = runWorkerJob(kind, job);
        onDone?.tick();
        // Let the host's event loop breathe between runs: a caller embedding meshsim (a test
        // runner, a server) must not go unanswered for the whole batch.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      return results;
    }
    // Hand out the last jobs first: sweeps usually grow in load, so the longest runs start
    // early and the short ones fill the gaps at the end. Results are stored by index either way.
    let next = 0;
    const order = jobs.map((_, k) => jobs.length - 1 - k);
    const lane = (worker: Worker): Promise<void> =>
      new Promise<void>((done, fail) => {
        let busy = false;
        const give = (): void => {
          if (next >= jobs.length) {
            done();
            return;
          }
          const k = order[next++] as number;
          busy = true;
          worker.once("message", (r: ResultOf<K>) => {
            busy = false;
            results[k] = r;
            onDone?.tick();
            give();
          });
          worker.postMessage({ kind, job: jobs[k] });
        };
        worker.once("error", fail);
        worker.once("exit", (code) => {
          if (busy) fail(new Error(`worker exited with code ${code} mid-run`));
        });
        give();
      });
    const pool = Array.from({ length: Math.min(workers, jobs.length) }, startWorker);
    try {
      await Promise.all(pool.map(lane));
    } finally {
      await Promise.all(pool.map((w) => w.terminate()));
    }
    return results;
  } finally {
    onDone?.stop();
  }
}

/** A worker on the compiled entry; under tsx or vitest (sources are .ts) it registers tsx first. */
function startWorker(): Worker {
  const here = import.meta.url;
  const workerData = { meshsimSweep: true };
  if (!here.endsWith(".ts")) return new Worker(new URL("./sweep-worker.js", here), { workerData });
  // `execArgv: ["--import", "tsx"]` does not reach a worker's entry module on Node 20, so register by hand.
  const entry = new URL("./sweep-worker.ts", here).href;
  // The ESM build of tsx's API: its CommonJS twin resolves its loader from the wrong directory.
  const api = pathToFileURL(createRequire(here).resolve("tsx/esm/api").replace(/\.cjs$/, ".mjs")).href;
  const boot = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(boot, { eval: true, workerData });
}
