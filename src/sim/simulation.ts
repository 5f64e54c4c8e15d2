// The kernel: a virtual clock, the pending-event heap and a loop — nothing about meshes. Like
// SimPy's core, it pops the smallest (atUs, priority, seq), advances the clock to it and runs its
// handler, which may schedule more events. Handlers are plain callbacks with one argument, so hot
// paths need not allocate closures.

import { type EventId, EventQueue, type Owner, type PoppedEvent } from "./event-queue.js";
import { Priority } from "./priority.js";
import { type Rng, RngRegistry } from "./rng.js";
import { Trace } from "./trace.js";

export interface RunLimits {
  /** Stop before the first event at or after this instant; the clock is then set to it. */
  untilUs: number;
  /** Stop after this many events have run (a guard against runaway models). */
  maxEvents: number;
  /**
   * Stop when this many events in a row run at one instant: the clock has stopped advancing (a
   * loop that takes no virtual time). Unlimited when absent.
   */
  maxEventsPerInstant?: number;
}

export type StopReason = "until" | "max-events" | "empty" | "stalled";

export interface RunResult {
  reason: StopReason;
  /** Events run by this call. */
  events: number;
  nowUs: number;
}

export interface SimulationOptions {
  /** The scenario seed every RNG stream forks from. Required: there is no random default. */
  seed: string | number;
  /** Where trace records go; the digest is kept either way. */
  trace?: Trace;
}

/** The id of an event that was never scheduled (its instant lies beyond the clock's range). */
export const NEVER: EventId = -1;

export class Simulation {
  private clockUs = 0;
  private eventsRun = 0;
  /** Events run in a row at the current instant. */
  private sameInstant = 0;
  private readonly queue = new EventQueue();
  private readonly popped: PoppedEvent = { atUs: 0, handler: () => undefined, arg: undefined, owner: undefined };
  readonly rngs: RngRegistry;
  readonly trace: Trace;

  constructor(options: SimulationOptions) {
    this.rngs = new RngRegistry(String(options.seed));
    this.trace = options.trace ?? new Trace();
  }

  /** Current virtual time, integer microseconds. */
  get nowUs(): number {
    return this.clockUs;
  }

  /** Events run since the simulation was created. */
  get events(): number {
    return this.eventsRun;
  }

  /** Live events waiting to run. */
  get pending(): number {
    return this.queue.liveSize;
  }

  /** A random stream forked by label from the seed (each label once per run). */
  rng(label: string): Rng {
    return this.rngs.fork(label);
  }

  /** Run `handler(arg)` after `delayUs` (a non-negative integer). Returns the id for `cancel`. */
  schedule<T>(delayUs: number, handler: (arg: T) => void, arg: T, priority: number = Priority.Default, owner?: Owner): EventId {
    return this.scheduleAt(this.clockUs + delayUs, handler, arg, priority, owner);
  }

  /**
   * Run `handler(arg)` at the absolute instant `atUs` (not in the past). An instant beyond the
   * clock's range (over 2^53 − 1 µs, about 285 years; Infinity included) can never come, so
   * nothing is scheduled and the id returned cancels nothing: valid input reaches that far (a
   * Go duration may be 292 years) and must not stop a run.
   */
  scheduleAt<T>(atUs: number, handler: (arg: T) => void, arg: T, priority: number = Priority.Default, owner?: Owner): EventId {
    if (atUs > Number.MAX_SAFE_INTEGER) return NEVER;
    if (!(atUs >= this.clockUs) || !Number.isSafeInteger(atUs)) {
      throw new Error(`cannot schedule at ${atUs}us: time is integer microseconds and never before now (${this.clockUs}us)`);
    }
    return this.queue.push(atUs, priority, handler as (arg: unknown) => void, arg, owner);
  }

  /** Cancel a pending event. Cancelling twice, or after it ran, is a no-op returning false. */
  cancel(id: EventId): boolean {
    return this.queue.cancel(id);
  }

  /** Record a trace event at the current instant. */
  emit(kind: string, fields?: Record<string, string | number | boolean | null>): void {
    this.trace.emit(this.clockUs, kind, fields);
  }

  /** Run events until `untilUs` is reached, `maxEvents` have run, or nothing is left. Both limits are required. */
  run(limits: RunLimits): RunResult {
    const { untilUs, maxEvents } = limits;
    if (!Number.isSafeInteger(untilUs) || untilUs < this.clockUs) {
      throw new Error(`run: untilUs must be an integer not before now (${this.clockUs}us), got ${untilUs}`);
    }
    if (!Number.isSafeInteger(maxEvents) || maxEvents < 0) {
      throw new Error(`run: maxEvents must be a non-negative integer, got ${maxEvents}`);
    }
    const perInstant = limits.maxEventsPerInstant ?? Number.POSITIVE_INFINITY;
    const queue = this.queue;
    const ev = this.popped;
    let ran = 0;
    for (;;) {
      if (ran >= maxEvents) return this.stop("max-events", ran);
      if (!queue.popBefore(untilUs, ev)) {
        this.clockUs = untilUs;
        return this.stop(queue.liveSize === 0 ? "empty" : "until", ran);
      }
      const atUs = ev.atUs;
      if (atUs < this.clockUs) throw new Error(`time went backwards: ${atUs}us < ${this.clockUs}us`);
      this.sameInstant = atUs === this.clockUs ? this.sameInstant + 1 : 1;
      this.clockUs = atUs;
      ran += 1;
      this.eventsRun += 1;
      const owner = ev.owner;
      if (owner !== undefined && !owner.alive) {
        this.trace.emit(atUs, "event.dropped", { owner: owner.label });
        continue;
      }
      ev.handler(ev.arg);
      if (this.sameInstant >= perInstant) return this.stop("stalled", ran);
    }
  }

  private stop(reason: StopReason, ran: number): RunResult {
    return { reason, events: ran, nowUs: this.clockUs };
  }
}
