// Worker threads that judge fuzz cases, each case under a wall-clock watchdog and each worker
// under a heap limit: a case that runs past the watchdog is a hang, one that exhausts the heap is
// out of memory, and either way its worker is replaced. The watchdog lives here, in the harness,
// never in the simulation.

import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import type { OracleLimits, Outcome } from "./oracle.js";
import type { WorkerReply, WorkerRequest } from "./worker.js";

export interface PoolOptions {
  workers: number;
  /** A case still running after this long is ended and counted a hang. */
  watchdogMs: number;
  /** Each worker's old-generation heap, in MiB; a case that needs more is counted out of memory. */
  memoryMb: number;
  limits: OracleLimits;
}

interface Job {
  id: number;
  request: WorkerRequest;
  resolve: (o: Outcome) => void;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  job?: Job;
  timer?: NodeJS.Timeout;
  started?: number;
}

/** A worker on worker.ts; tsx is registered by hand since `--import tsx` does not reach a worker's entry on Node 20. */
function startWorker(opts: PoolOptions): Worker {
  const here = import.meta.url;
  const entry = new URL("./worker.ts", here).href;
  const api = pathToFileURL(createRequire(here).resolve("tsx/esm/api").replace(/\.cjs$/, ".mjs")).href;
  const boot = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(boot, {
    eval: true,
    workerData: { meshsimFuzz: true, limits: opts.limits },
    resourceLimits: { maxOldGenerationSizeMb: opts.memoryMb },
  });
}

export class CasePool {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 0;
  private closed = false;

  constructor(private readonly opts: PoolOptions) {
    for (let i = 0; i < opts.workers; i++) this.slots.push(this.spawn());
  }

  /** Judge one case's YAML. */
  run(yaml: string): Promise<Outcome> {
    return this.submit({ id: this.nextId++, yaml });
  }

  /** Busy-wait in a worker for `ms` (the watchdog's own test). */
  spin(ms: number): Promise<Outcome> {
    return this.submit({ id: this.nextId++, spinMs: ms });
  }

  /** Jobs waiting for a worker. */
  get waiting(): number {
    return this.queue.length;
  }

  /** Whether a worker is free for a job right now. */
  get idle(): boolean {
    return this.queue.length === 0 && this.slots.some((s) => s.job === undefined);
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private submit(request: WorkerRequest): Promise<Outcome> {
    return new Promise((resolve) => {
      this.queue.push({ id: request.id, request, resolve });
      this.dispatch();
    });
  }

  private spawn(): Slot {
    const slot: Slot = { worker: startWorker(this.opts), ready: false };
    slot.worker.on("message", (m: WorkerReply) => {
      if ("ready" in m) {
        slot.ready = true;
        this.dispatch();
        return;
      }
      if (slot.job?.id !== m.id) return;
      this.finish(slot, m.outcome);
    });
    slot.worker.on("error", (e: Error & { code?: string }) => {
      const oom = e.code === "ERR_WORKER_OUT_OF_MEMORY";
      this.replace(slot, { kind: oom ? "oom" : "crash", detail: oom ? "the worker ran out of memory" : `the worker died: ${e.stack ?? e.message}`, ms: this.elapsed(slot) });
    });
    slot.worker.on("exit", () => {
      if (!this.closed && this.slots.includes(slot)) this.replace(slot, { kind: "crash", detail: "the worker exited", ms: this.elapsed(slot) });
    });
    return slot;
  }

  private elapsed(slot: Slot): number {
    return slot.started === undefined ? 0 : Date.now() - slot.started;
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (!slot.ready || slot.job !== undefined) continue;
      const job = this.queue.shift();
      if (job === undefined) return;
      slot.job = job;
      slot.started = Date.now();
      slot.timer = setTimeout(() => {
        this.replace(slot, { kind: "hang", detail: `still running after ${this.opts.watchdogMs} ms wall clock`, ms: this.opts.watchdogMs });
      }, this.opts.watchdogMs);
      slot.worker.postMessage(job.request);
    }
  }

  private finish(slot: Slot, outcome: Outcome): void {
    const job = slot.job;
    clearTimeout(slot.timer);
    delete slot.job;
    delete slot.timer;
    job?.resolve(outcome);
    this.dispatch();
  }

  /** End a worker that hung, died or ran out of memory, settle its job, and start a fresh one. */
  private replace(slot: Slot, outcome: Outcome): void {
    const i = this.slots.indexOf(slot);
    if (i < 0) return;
    clearTimeout(slot.timer);
    const job = slot.job;
    delete slot.job;
    this.slots.splice(i, 1);
    void slot.worker.terminate();
    if (!this.closed) this.slots.push(this.spawn());
    job?.resolve(outcome);
  }
}
