// Runs independent jobs (sweep grid points, swarm seeds) on worker threads. Each job is a pure
// function of its message, and results are stored by the job's index, so the output is the same
// for any worker count; with one worker (or one job) everything runs in this thread.
//
// With K workers this thread is one of them and K − 1 threads are started: a thread costs its
// start-up (loading every module, about 0.4 s here) and this thread would otherwise only wait.
// Each started thread is kept two jobs ahead, so it never idles while this thread is busy with a
// job of its own and cannot hand it the next one.

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
    const take = (): number | undefined => (next < jobs.length ? (order[next++] as number) : undefined);
    const lane = (worker: Worker): Promise<void> =>
      new Promise<void>((done, fail) => {
        // Jobs posted to this worker and not answered yet, in the order it will answer them.
        const posted: number[] = [];
        const give = (): void => {
          const k = take();
          if (k === undefined) return;
          posted.push(k);
          worker.postMessage({ kind, job: jobs[k] });
        };
        worker.on("message", (r: ResultOf<K>) => {
          results[posted.shift() as number] = r;
          onDone?.tick();
          give();
          if (posted.length === 0) done();
        });
        worker.once("error", fail);
        worker.once("exit", (code) => {
          if (posted.length > 0) fail(new Error(`worker exited with code ${code} mid-run`));
        });
        give();
        give();
        if (posted.length === 0) done();
      });
    // This thread takes the first (longest) job: it can start at once, the threads cannot.
    const first = take();
    const own = async (): Promise<void> => {
      for (let k = first; k !== undefined; k = take()) {
        results[k] = runWorkerJob(kind, jobs[k] as JobOf<K>);
        onDone?.tick();
        // Let the workers' answers in, so each gets its next job.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    };
    const pool = Array.from({ length: Math.min(workers, jobs.length) - 1 }, startWorker);
    try {
      await Promise.all([...pool.map(lane), own()]);
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
