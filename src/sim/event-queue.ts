// The pending-event set: a binary heap under the total order (atUs, priority, seq). The heap keeps
// each entry's two sort keys in its own typed arrays, in heap order, so sifting compares numbers
// that lie side by side instead of looking each one up through a comparator (fastpriorityqueue
// with a comparator over slot-indexed arrays ran 1.2–1.5× slower: docs/performance.md). The rest
// of an event (handler, argument, owner) lives in arrays indexed by a slot number the heap
// carries. Cancellation is lazy — a flag the loop skips — because most timeouts are cancelled and
// removing from the middle of a heap costs O(n); when cancelled entries outnumber live ones the
// heap is rebuilt without them, so memory tracks live work.

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
  private gen = new Uint32Array(1024);
  private cancelled = new Uint8Array(1024);
  private handlers: Array<Handler | undefined> = [];
  private args: unknown[] = [];
  private owners: Array<Owner | undefined> = [];
  private readonly free: number[] = [];
  private used = 0;
  private cancelledCount = 0;
  private seq = 0;
  /** The heap, in heap order: entry i's time, its (priority, seq) rank, and its slot. */
  private heapAt = new Float64Array(1024);
  private heapOrder = new Float64Array(1024);
  private heapSlot = new Int32Array(1024);
  private size = 0;

  /** Live events only. */
  get liveSize(): number {
    return this.size - this.cancelledCount;
  }

  push(atUs: number, priority: number, handler: Handler, arg: unknown, owner: Owner | undefined): EventId {
    const slot = this.free.length > 0 ? (this.free.pop() as number) : this.grow();
    this.atUs[slot] = atUs;
    this.cancelled[slot] = 0;
    this.handlers[slot] = handler;
    this.args[slot] = arg;
    this.owners[slot] = owner;
    this.siftUp(atUs, priority * PRIORITY_SCALE + this.seq++, slot);
    return slot + (this.gen[slot] as number) * SLOTS;
  }

  /** Cancel a pending event; false if it already ran or was cancelled. O(1) amortised. */
  cancel(id: EventId): boolean {
    if (!(id >= 0)) return false;
    const slot = id % SLOTS;
    if (slot >= this.used || this.gen[slot] !== (id - slot) / SLOTS || this.cancelled[slot] === 1 || this.handlers[slot] === undefined) {
      // Ran already (its slot was released, or reused under a new generation) or cancelled before.
      return false;
    }
    this.cancelled[slot] = 1;
    this.cancelledCount += 1;
    // Let go of what the event would have run at once: a cancelled timeout's closure holds its
    // whole request (flow, attempts, callbacks), and its heap entry may wait seconds of simulated
    // time to be popped. Kept, that is every finished request of the last timeout's length alive.
    this.handlers[slot] = undefined;
    this.args[slot] = undefined;
    this.owners[slot] = undefined;
    if (this.cancelledCount > COMPACT_MIN_CANCELLED && this.cancelledCount * 2 > this.size) this.compact();
    return true;
  }

  /**
   * If the next live event is due before `untilUs`, remove it, hand its time, handler, argument and
   * owner to `into`, and return true; otherwise leave it and return false. Cancelled entries met
   * on the way are discarded.
   */
  popBefore(untilUs: number, into: PoppedEvent): boolean {
    for (;;) {
      if (this.size === 0) return false;
      const slot = this.heapSlot[0] as number;
      if (this.cancelled[slot] === 1) {
        this.removeTop();
        this.release(slot);
        this.cancelledCount -= 1;
        continue;
      }
      const atUs = this.heapAt[0] as number;
      if (atUs >= untilUs) return false;
      this.removeTop();
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
      this.heapAt = copyInto(new Float64Array(n), this.heapAt);
      this.heapOrder = copyInto(new Float64Array(n), this.heapOrder);
      this.heapSlot = copyInto(new Int32Array(n), this.heapSlot);
      this.gen = copyInto(new Uint32Array(n), this.gen);
      this.cancelled = copyInto(new Uint8Array(n), this.cancelled);
    }
    return this.used++;
  }

  /** Insert (atUs, order, slot): move parents down until its place is found. */
  private siftUp(atUs: number, order: number, slot: number): void {
    const at = this.heapAt;
    const ord = this.heapOrder;
    const sl = this.heapSlot;
    let i = this.size++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pAt = at[p] as number;
      if (pAt < atUs || (pAt === atUs && (ord[p] as number) < order)) break;
      at[i] = pAt;
      ord[i] = ord[p] as number;
      sl[i] = sl[p] as number;
      i = p;
    }
    at[i] = atUs;
    ord[i] = order;
    sl[i] = slot;
  }

  /** Remove the top entry: the last one sinks from the root to its place. */
  private removeTop(): void {
    const n = --this.size;
    if (n === 0) return;
    const at = this.heapAt;
    const ord = this.heapOrder;
    const sl = this.heapSlot;
    this.sinkFrom(0, at[n] as number, ord[n] as number, sl[n] as number, n);
  }

  /** Place (atUs, order, slot) at or below position i of a heap of n entries. */
  private sinkFrom(start: number, atUs: number, order: number, slot: number, n: number): void {
    const at = this.heapAt;
    const ord = this.heapOrder;
    const sl = this.heapSlot;
    let i = start;
    const half = n >> 1;
    while (i < half) {
      let c = 2 * i + 1;
      let cAt = at[c] as number;
      let cOrd = ord[c] as number;
      const r = c + 1;
      if (r < n) {
        const rAt = at[r] as number;
        const rOrd = ord[r] as number;
        if (rAt < cAt || (rAt === cAt && rOrd < cOrd)) {
          c = r;
          cAt = rAt;
          cOrd = rOrd;
        }
      }
      if (atUs < cAt || (atUs === cAt && order < cOrd)) break;
      at[i] = cAt;
      ord[i] = cOrd;
      sl[i] = sl[c] as number;
      i = c;
    }
    at[i] = atUs;
    ord[i] = order;
    sl[i] = slot;
  }

  /** Drop every cancelled entry and rebuild the heap bottom-up (Floyd), O(n). */
  private compact(): void {
    const at = this.heapAt;
    const ord = this.heapOrder;
    const sl = this.heapSlot;
    let n = 0;
    for (let i = 0; i < this.size; i += 1) {
      const slot = sl[i] as number;
      if (this.cancelled[slot] === 1) {
        this.release(slot);
        continue;
      }
      at[n] = at[i] as number;
      ord[n] = ord[i] as number;
      sl[n] = slot;
      n += 1;
    }
    this.size = n;
    for (let i = (n >> 1) - 1; i >= 0; i -= 1) this.sinkFrom(i, at[i] as number, ord[i] as number, sl[i] as number, n);
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

function copyInto<T extends Float64Array | Uint32Array | Int32Array | Uint8Array>(to: T, from: T): T {
  to.set(from);
  return to;
}
