// A held list must behave as an insertion-ordered Set under any sequence of additions, removals
// and take-alls, and must never keep a pointer to an item it no longer holds (that is its reason
// to exist: a dead structure pointing at young requests kept them alive through collections).

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HeldList, type Holdable } from "../../src/mesh/held-list.js";

interface Item extends Holdable {
  id: number;
}

type Op = { kind: "add"; id: number } | { kind: "delete"; id: number } | { kind: "take" };

const ops = fc.array(
  fc.oneof(
    { weight: 5, arbitrary: fc.record({ kind: fc.constant("add" as const), id: fc.integer({ min: 0, max: 60 }) }) },
    { weight: 5, arbitrary: fc.record({ kind: fc.constant("delete" as const), id: fc.integer({ min: 0, max: 60 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("take" as const) }) },
  ),
  { maxLength: 400 },
);

const slotsOf = (l: HeldList<Item>): Array<Item | undefined> => (l as unknown as { slots: Array<Item | undefined> }).slots;

describe("HeldList", () => {
  it("holds what an insertion-ordered Set holds, in its order, and points at nothing else", () => {
    fc.assert(
      fc.property(ops, (sequence: Op[]) => {
        const items = Array.from({ length: 61 }, (_, id): Item => ({ id, heldAt: -1 }));
        const list = new HeldList<Item>();
        const ref = new Set<Item>();
        for (const op of sequence) {
          if (op.kind === "add") {
            list.add(items[op.id] as Item);
            ref.add(items[op.id] as Item);
          } else if (op.kind === "delete") {
            expect(list.delete(items[op.id] as Item)).toBe(ref.delete(items[op.id] as Item));
          } else {
            expect(list.takeAll()).toEqual([...ref]);
            ref.clear();
          }
          expect(list.size).toBe(ref.size);
          expect(list.items()).toEqual([...ref]);
          for (const item of items) expect(item.heldAt >= 0).toBe(ref.has(item));
          for (const s of slotsOf(list)) if (s !== undefined) expect(ref.has(s)).toBe(true);
        }
      }),
    );
  });

  it("reuses its slots: steady additions and removals never grow the array past the most held at once", () => {
    const list = new HeldList<Item>();
    const live: Item[] = [];
    for (let i = 0; i < 10_000; i += 1) {
      const item: Item = { id: i, heldAt: -1 };
      list.add(item);
      live.push(item);
      if (live.length > 3) list.delete(live.splice(i % 3, 1)[0] as Item);
    }
    expect(list.size).toBe(3);
    expect(slotsOf(list).length).toBeLessThanOrEqual(17);
  });

  it("counts the held items that satisfy a predicate", () => {
    const list = new HeldList<Item>();
    const items = Array.from({ length: 10 }, (_, id): Item => ({ id, heldAt: -1 }));
    for (const it of items) list.add(it);
    list.delete(items[2] as Item);
    list.delete(items[4] as Item);
    expect(list.countWhere((x) => x.id % 2 === 0)).toBe(3);
  });
});
