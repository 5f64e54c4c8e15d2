// A G/G/c FIFO station on the kernel: the model the kernel is validated and benchmarked with
// (M/M/1, M/M/c, M/D/1 against closed forms). Two kernel events per customer — arrival and
// departure — and no per-customer allocation beyond the event itself.

import { type Distribution, sampleUs } from "./distributions.js";
import { Priority } from "./priority.js";
import type { Rng } from "./rng.js";
import { Simulation } from "./simulation.js";

export interface StationOptions {
  seed: string | number;
  interarrival: Distribution;
  service: Distribution;
  /** Parallel servers (c). */
  servers: number;
  /** Customers to generate. */
  customers: number;
  /** Leading customers excluded from the sojourn statistics (start-up transient). Default 0. */
  warmupCustomers?: number;
  /** Keep every sojourn for percentiles. Default true. */
  keepSojourns?: boolean;
  /** Emit a trace record per departure (for determinism checks). Default false. */
  traceDepartures?: boolean;
  /** Hand in a simulation (e.g. one with a trace sink); default a fresh one. */
  simulation?: Simulation;
}

export interface StationResult {
  events: number;
  /** Virtual time at the last departure. */
  endUs: number;
  /** Sojourn (arrival → departure) of every counted customer, in departure order. */
  sojournsUs: Float64Array;
  counted: number;
  meanSojournUs: number;
  /** Time-average number in system over [first counted arrival, end]. */
  meanInSystem: number;
  /** Counted customers / observation time, per µs. */
  throughputPerUs: number;
  digest: string;
}

export function runStation(o: StationOptions): StationResult {
  const sim = o.simulation ?? new Simulation({ seed: o.seed });
  const arrivalsRng: Rng = sim.rng("station/arrivals");
  const serviceRng: Rng = sim.rng("station/service");
  const warmup = o.warmupCustomers ?? 0;
  const keep = o.keepSojourns ?? true;
  const sojourns = new Float64Array(keep ? Math.max(0, o.customers - warmup) : 0);
  const waiting: number[] = []; // arrival instants of queued customers, FIFO via a moving head
  let head = 0;
  let busy = 0;
  let arrived = 0;
  let departed = 0;
  let counted = 0;
  let sumSojournUs = 0;
  let inSystem = 0;
  let areaUs = 0; // ∫ N(t) dt since observation start
  let lastChangeUs = 0;
  let observeFromUs = -1;

  const change = (delta: number): void => {
    if (observeFromUs >= 0) areaUs += inSystem * (sim.nowUs - lastChangeUs);
    lastChangeUs = sim.nowUs;
    inSystem += delta;
  };
  const startService = (arrivedAtUs: number): void => {
    sim.schedule(sampleUs(o.service, serviceRng), depart, arrivedAtUs, Priority.Completion);
  };
  const depart = (arrivedAtUs: number): void => {
    change(-1);
    departed += 1;
    if (departed > warmup) {
      const s = sim.nowUs - arrivedAtUs;
      if (keep) sojourns[counted] = s;
      sumSojournUs += s;
      counted += 1;
    }
    if (o.traceDepartures === true) sim.emit("customer.departed", { arrivedAt: arrivedAtUs });
    if (head < waiting.length) {
      startService(waiting[head] as number);
      head += 1;
      if (head > 4096 && head * 2 > waiting.length) {
        waiting.splice(0, head);
        head = 0;
      }
    } else {
      busy -= 1;
    }
  };
  const arrive = (): void => {
    arrived += 1;
    if (arrived === warmup + 1) {
      observeFromUs = sim.nowUs;
      lastChangeUs = sim.nowUs;
    }
    change(+1);
    if (busy < o.servers) {
      busy += 1;
      startService(sim.nowUs);
    } else {
      waiting.push(sim.nowUs);
    }
    if (arrived < o.customers) sim.schedule(sampleUs(o.interarrival, arrivalsRng), arrive, undefined, Priority.Arrival);
  };

  sim.schedule(sampleUs(o.interarrival, arrivalsRng), arrive, undefined, Priority.Arrival);
  const run = sim.run({ untilUs: Number.MAX_SAFE_INTEGER, maxEvents: 4 * o.customers + 16 });
  if (run.reason !== "empty") throw new Error(`station run stopped early: ${run.reason}`);
  const endUs = lastChangeUs;
  const spanUs = Math.max(1, endUs - observeFromUs);
  return {
    events: sim.events,
    endUs,
    sojournsUs: sojourns.subarray(0, keep ? counted : 0),
    counted,
    meanSojournUs: counted === 0 ? 0 : sumSojournUs / counted,
    meanInSystem: areaUs / spanUs,
    throughputPerUs: counted / spanUs,
    digest: sim.trace.digest(),
  };
}

/** The p-quantile (0..1) of samples by the nearest-rank rule (sorts a copy). */
export function quantile(samples: Float64Array, p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = Float64Array.from(samples).sort();
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(p * sorted.length)));
  return sorted[rank - 1] as number;
}
