// The things a proxy, connection or container holds right now (flows, exchanges, work items), in
// the order they arrived. A `Set` did this, but V8 rebuilds a small Set's hash table every few
// additions once deletions have filled it: each rebuild allocated a new table, and when the
// Set's old table had already been promoted, that dead table kept every request it listed alive
// through the next young collections, which promoted them in turn — a chain that cost a long run
// 15 % of its time in the young collector (docs/performance.md, section 10).
//
// Here an item keeps its index (`heldAt`) in one array; removal clears its slot at once, so no
// dead structure points at anything, and the array is compacted in place when half of it is
// holes. Iteration order is arrival order, as a Set's.

/** Something a `HeldList` can hold: it carries its index there (−1 when not held). */
export interface Holdable {
  heldAt: number;
}

export class HeldList<T extends Holdable> {
  /** Slots `[0, end)` are in use (some empty); the array only grows, so steady use allocates nothing. */
  private readonly slots: Array<T | undefined> = [];
  private end = 0;
  private count = 0;

  get size(): number {
    return this.count;
  }

  add(item: T): void {
    if (item.heldAt >= 0) return;
    item.heldAt = this.end;
    if (this.end < this.slots.length) this.slots[this.end] = item;
    else this.slots.push(item);
    this.end += 1;
    this.count += 1;
  }

  /** Whether `item` was held (and is no longer). */
  delete(item: T): boolean {
    const i = item.heldAt;
    if (i < 0 || i >= this.end || this.slots[i] !== item) return false;
    this.slots[i] = undefined;
    item.heldAt = -1;
    this.count -= 1;
    if (this.count === 0) this.end = 0;
    else if (i === this.end - 1) {
      while (this.slots[this.end - 1] === undefined) this.end -= 1;
    } else if (this.count * 2 < this.end && this.end > 16) this.compact();
    return true;
  }

  /** Every held item, in arrival order; the list is left empty. */
  takeAll(): T[] {
    const out = this.items();
    for (const item of out) item.heldAt = -1;
    this.slots.fill(undefined, 0, this.end);
    this.end = 0;
    this.count = 0;
    return out;
  }

  /** A copy of the held items, in arrival order. */
  items(): T[] {
    const out: T[] = [];
    for (let i = 0; i < this.end; i += 1) {
      const item = this.slots[i];
      if (item !== undefined) out.push(item);
    }
    return out;
  }

  /** How many held items satisfy `pred`. */
  countWhere(pred: (item: T) => boolean): number {
    let n = 0;
    for (let i = 0; i < this.end; i += 1) {
      const item = this.slots[i];
      if (item !== undefined && pred(item)) n += 1;
    }
    return n;
  }

  private compact(): void {
    const s = this.slots;
    let w = 0;
    for (let r = 0; r < this.end; r += 1) {
      const item = s[r];
      if (item === undefined) continue;
      item.heldAt = w;
      s[w] = item;
      w += 1;
    }
    s.fill(undefined, w, this.end);
    this.end = w;
  }
}
