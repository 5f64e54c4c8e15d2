// The pending-event set: a binary heap (fastpriorityqueue) of slot numbers under the total order
// (atUs, priority, seq). Event data lives in parallel typed arrays indexed by slot, so the heap
// compares two numbers in compact memory instead of chasing object pointers (about 3× faster at
// 10 000 pending events). Cancellation is lazy — a flag the loop skips — because most timeouts
// are cancelled and removing from the middle of a heap costs O(n); when cancelled entries
// outnumber live ones the heap is rebuilt without them, so memory tracks live work.

import FastPriorityQueue from "fastpriorityqueue";

/** Something whose death makes its pending events moot (a pod, a cluster). */
export interface Owner {
  readonly alive: boolean;
  /** Stable label for the trace, e.g. `pod/us-east-1/payments/auth-0`. */
  readonly label: string;
}

/**
 * Identifies one scheduled event for `cancel`: slot + generation × SLOTS, so a handle kept after
 * its event ran can never cancel the slot's next occupant.
 */
export type EventId = number;

export type Handler = (arg: unknown) => void;

const SLOTS = 2 ** 24; // concurrent pending events at most
const GENERATIONS = 2 ** 29; // SLOTS × GENERATIONS < 2^53
const PRIORITY_SCALE = 2 ** 40; // order = priority × 2^40 + seq: exact while seq < 2^40 and priority < 2^12
const COMPACT_MIN_CANCELLED = 1024;

export class EventQueue {
  private atUs = new Float64Array(1024);
  private order = new Float64Array(1024);
  private gen = new Uint32Array(1024);
  private cancelled = new Uint8Array(1024);
  private handlers: Array<Handler | undefined> = [];
  private args: unknown[] = [];
  private owners: Array<Owner | undefined> = [];
  private readonly free: number[] = [];
  private used = 0;
  private cancelledCount = 0;
  private seq = 0;
  private readonly heap: FastPriorityQueue<number>;

  constructor() {
    // Reads the arrays through `this` on every call because `grow` replaces them.
    this.heap = new FastPriorityQueue<number>((a, b) => {
      const times = this.atUs;
      const x = times[a] as number;
      const y = times[b] as number;
      if (x !== y) return x < y;
      const ord = this.order;
      return (ord[a] as number) < (ord[b] as number);
    });
  }

  /** Live events only. */
  get liveSize(): number {
    return this.heap.size - this.cancelledCount;
  }

  push(atUs: number, priority: number, handler: Handler, arg: unknown, owner: Owner | undefined): EventId {
    const slot = this.free.length > 0 ? (this.free.pop() as number) : this.grow();
    this.atUs[slot] = atUs;
    this.order[slot] = priority * PRIORITY_SCALE + this.seq++;
    this.cancelled[slot] = 0;
    this.handlers[slot] = handler;
    this.args[slot] = arg;
    this.owners[slot] = owner;
    this.heap.add(slot);
    return slot + (this.gen[slot] as number) * SLOTS;
  }

  /** Cancel a pending event; false if it already ran or was cancelled. O(1) amortised. */
  cancel(id: EventId): boolean {
    const slot = id % SLOTS;
    if (slot >= this.used || this.gen[slot] !== (id - slot) / SLOTS || this.cancelled[slot] === 1 || this.handlers[slot] === undefined) {
      return false;
    }
    this.cancelled[slot] = 1;
    this.cancelledCount += 1;
    if (this.cancelledCount > COMPACT_MIN_CANCELLED && this.cancelledCount * 2 > this.heap.size) this.compact();
    return true;
  }

  /**
   * If the next live event is due before `untilUs`, remove it, hand its time, handler, argument and
   * owner to `into`, and return true; otherwise leave it and return false. Cancelled entries met
   * on the way are discarded.
   */
  popBefore(untilUs: number, into: PoppedEvent): boolean {
    const heap = this.heap;
    for (;;) {
      const slot = heap.peek();
      if (slot === undefined) return false;
      if (this.cancelled[slot] === 1) {
        heap.poll();
        this.release(slot);
        this.cancelledCount -= 1;
        continue;
      }
      const atUs = this.atUs[slot] as number;
      if (atUs >= untilUs) return false;
      heap.poll();
      into.atUs = atUs;
      into.handler = this.handlers[slot] as Handler;
      into.arg = this.args[slot];
      into.owner = this.owners[slot];
      this.release(slot);
      return true;
    }
  }

  private release(slot: number): void {
    this.handlers[slot] = undefined;
    this.args[slot] = undefined;
    this.owners[slot] = undefined;
    this.gen[slot] = ((this.gen[slot] as number) + 1) % GENERATIONS;
    this.free.push(slot);
  }

  private grow(): number {
    if (this.used === this.atUs.length) {
      if (this.used >= SLOTS) throw new Error(`more than ${SLOTS} pending events`);
      const n = this.used * 2;
      this.atUs = copyInto(new Float64Array(n), this.atUs);
      this.order = copyInto(new Float64Array(n), this.order);
      this.gen = copyInto(new Uint32Array(n), this.gen);
      this.cancelled = copyInto(new Uint8Array(n), this.cancelled);
    }
    return this.used++;
  }

  private compact(): void {
    const live: number[] = [];
    this.heap.forEach((slot) => {
      if (this.cancelled[slot] === 1) this.release(slot);
      else live.push(slot);
    });
    this.heap.heapify(live);
    this.cancelledCount = 0;
  }
}

/** Scratch record `pop` fills, reused by the loop so popping allocates nothing. */
export interface PoppedEvent {
  atUs: number;
  handler: Handler;
  arg: unknown;
  owner: Owner | undefined;
}

function copyInto<T extends Float64Array | Uint32Array | Uint8Array>(to: T, from: T): T {
  to.set(from);
  return to;
}
