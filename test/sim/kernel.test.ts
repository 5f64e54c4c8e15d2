import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Priority } from "../../src/sim/priority.js";
import { Simulation } from "../../src/sim/simulation.js";

const UNTIL_FOREVER = Number.MAX_SAFE_INTEGER;

describe("the event loop", () => {
  it("runs events in time order and advances the clock to each", () => {
    const sim = new Simulation({ seed: 1 });
    const seen: Array<[string, number]> = [];
    const note = (name: string) => seen.push([name, sim.nowUs]);
    sim.schedule(30, note, "c");
    sim.schedule(10, note, "a");
    sim.schedule(20, note, "b");
    sim.run({ untilUs: UNTIL_FOREVER, maxEvents: 100 });
    expect(seen).toEqual([["a", 10], ["b", 20], ["c", 30]]);
  });

  it("fires equal-time events by priority, then in scheduling order", () => {
    const sim = new Simulation({ seed: 1 });
    const seen: string[] = [];
    const note = (name: string) => seen.push(name);
    sim.schedule(5, note, "arrival-1", Priority.Arrival);
    sim.schedule(5, note, "timeout", Priority.Timeout);
    sim.schedule(5, note, "arrival-2", Priority.Arrival);
    sim.schedule(5, note, "completion", Priority.Completion);
    sim.schedule(5, note, "fault", Priority.World);
    sim.schedule(5, note, "sample", Priority.Sample);
    sim.schedule(5, note, "config", Priority.Control);
    sim.run({ untilUs: UNTIL_FOREVER, maxEvents: 100 });
    expect(seen).toEqual(["fault", "config", "completion", "timeout", "arrival-1", "arrival-2", "sample"]);
  });

  it("lets a response that lands on its timeout's microsecond win", () => {
    const sim = new Simulation({ seed: 1 });
    let outcome = "";
    const timeout = sim.schedule(100, () => (outcome ||= "timed-out"), undefined, Priority.Timeout);
    sim.schedule(100, () => {
      outcome ||= "response";
      sim.cancel(timeout);
    }, undefined, Priority.Completion);
    sim.run({ untilUs: UNTIL_FOREVER, maxEvents: 10 });
    expect(outcome).toBe("response");
  });

  it("never fires a cancelled event, and cancelling twice or after firing is a no-op", () => {
    const sim = new Simulation({ seed: 1 });
    let fired = 0;
    const id = sim.schedule(10, () => (fired += 1), undefined);
    const ran = sim.schedule(5, () => undefined, undefined);
    expect(sim.cancel(id)).toBe(true);
    expect(sim.cancel(id)).toBe(false);
    sim.run({ untilUs: UNTIL_FOREVER, maxEvents: 10 });
    expect(fired).toBe(0);
    expect(sim.cancel(ran)).toBe(false);
  });

  it("does not let a stale id cancel the event that reused its slot", () => {
    const sim = new Simulation({ seed: 1 });
    const first = sim.schedule(1, () => undefined, undefined);
    sim.run({ untilUs: 2, maxEvents: 10 });
    let fired = false;
    sim.schedule(1, () => (fired = true), undefined); // reuses the freed slot
    expect(sim.cancel(first)).toBe(false);
    sim.run({ untilUs: UNTIL_FOREVER, maxEvents: 10 });
    expect(fired).toBe(true);
  });

  it("stops after maxEvents and resumes where it left off", () => {
    const sim = new Simulation({ seed: 1 });
    let n = 0;
    const tick = (): void => {
      n += 1;
      sim.schedule(1, tick, undefined);
    };
    sim.schedule(0, tick, undefined);
    const r = sim.run({ untilUs: UNTIL_FOREVER, maxEvents: 50 });
    expect(r).toEqual({ reason: "max-events", events: 50, nowUs: 49 });
    expect(n).toBe(50);
    expect(sim.run({ untilUs: UNTIL_FOREVER, maxEvents: 10 }).events).toBe(10);
    expect(sim.events).toBe(60);
  });

  it("stops a loop that takes no virtual time once maxEventsPerInstant events ran at one instant", () => {
    const sim = new Simulation({ seed: 1 });
    let n = 0;
    // Five events at distinct instants, then a handler that reschedules itself at +0 forever.
    for (const t of [1, 2, 3, 4, 5]) sim.scheduleAt(t, () => undefined, undefined);
    const spin = (): void => {
      n += 1;
      sim.schedule(0, spin, undefined);
    };
    sim.scheduleAt(6, spin, undefined);
    const r = sim.run({ untilUs: UNTIL_FOREVER, maxEvents: 1_000_000, maxEventsPerInstant: 100 });
    expect(r).toEqual({ reason: "stalled", events: 5 + 100, nowUs: 6 });
    expect(n).toBe(100);
    // Events at one instant that do end are not a stall: 99 at t = 7 and the clock moves on.
    const calm = new Simulation({ seed: 1 });
    for (let i = 0; i < 99; i++) calm.scheduleAt(7, () => undefined, undefined);
    calm.scheduleAt(8, () => undefined, undefined);
    expect(calm.run({ untilUs: UNTIL_FOREVER, maxEvents: 1_000, maxEventsPerInstant: 100 })).toEqual({ reason: "empty", events: 100, nowUs: UNTIL_FOREVER });
  });

  it("stops before the first event at untilUs and sets the clock there", () => {
    const sim = new Simulation({ seed: 1 });
    const seen: number[] = [];
    for (const t of [10, 20, 30]) sim.scheduleAt(t, (x: number) => seen.push(x), t);
    expect(sim.run({ untilUs: 20, maxEvents: 100 })).toEqual({ reason: "until", events: 1, nowUs: 20 });
    expect(seen).toEqual([10]);
    expect(sim.run({ untilUs: 100, maxEvents: 100 })).toEqual({ reason: "empty", events: 2, nowUs: 100 });
    expect(seen).toEqual([10, 20, 30]);
  });

  it("requires both limits to be valid", () => {
    const sim = new Simulation({ seed: 1 });
    expect(() => sim.run({ untilUs: -1, maxEvents: 1 })).toThrow(/untilUs/);
    expect(() => sim.run({ untilUs: 1, maxEvents: 1.5 })).toThrow(/maxEvents/);
  });

  it("refuses to schedule in the past or at a fractional time", () => {
    const sim = new Simulation({ seed: 1 });
    sim.run({ untilUs: 100, maxEvents: 1 });
    expect(() => sim.scheduleAt(99, () => undefined, undefined)).toThrow(/never before now/);
    expect(() => sim.schedule(-1, () => undefined, undefined)).toThrow(/never before now/);
    expect(() => sim.schedule(0.5, () => undefined, undefined)).toThrow(/integer microseconds/);
  });

  it("treats an instant beyond the clock's range as one that never comes", () => {
    const sim = new Simulation({ seed: 1 });
    let ran = 0;
    const never = [sim.scheduleAt(2 ** 53, () => (ran += 1), undefined), sim.schedule(Number.POSITIVE_INFINITY, () => (ran += 1), undefined), sim.schedule(2 ** 60, () => (ran += 1), undefined)];
    expect(sim.pending).toBe(0);
    for (const id of never) expect(sim.cancel(id)).toBe(false);
    expect(sim.run({ untilUs: Number.MAX_SAFE_INTEGER, maxEvents: 10 }).reason).toBe("empty");
    expect(ran).toBe(0);
    // NaN is a bug in the caller, not a far instant.
    expect(() => sim.schedule(Number.NaN, () => undefined, undefined)).toThrow(/integer microseconds/);
  });

  it("drops events whose owner died, and traces the drop", () => {
    const sim = new Simulation({ seed: 1 });
    const pod = { alive: true, label: "pod/a" };
    let fired = 0;
    sim.schedule(10, () => (fired += 1), undefined, Priority.Default, pod);
    sim.schedule(5, () => (pod.alive = false), undefined, Priority.World);
    sim.run({ untilUs: UNTIL_FOREVER, maxEvents: 10 });
    expect(fired).toBe(0);
    expect(sim.trace.records).toBe(1);
  });

  it("keeps memory proportional to live events when most are cancelled", () => {
    const sim = new Simulation({ seed: 1 });
    for (let i = 0; i < 100_000; i++) {
      const id = sim.schedule(1_000_000 + i, () => undefined, undefined, Priority.Timeout);
      sim.cancel(id);
    }
    expect(sim.pending).toBe(0);
    expect(sim.run({ untilUs: UNTIL_FOREVER, maxEvents: 10 }).events).toBe(0);
  });

  it("fires exactly the uncancelled events, in (time, priority, seq) order, for any schedule", () => {
    const op = fc.record({ delay: fc.integer({ min: 0, max: 50 }), priority: fc.constantFrom(0, 10, 20, 30, 40), cancel: fc.boolean() });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const sim = new Simulation({ seed: 1 });
        const fired: number[] = [];
        ops.forEach((o, i) => {
          const id = sim.schedule(o.delay, (k: number) => fired.push(k), i, o.priority);
          if (o.cancel) sim.cancel(id);
        });
        sim.run({ untilUs: UNTIL_FOREVER, maxEvents: 1000 });
        const expected = ops
          .map((o, i) => ({ ...o, i }))
          .filter((o) => !o.cancel)
          .sort((a, b) => a.delay - b.delay || a.priority - b.priority || a.i - b.i)
          .map((o) => o.i);
        expect(fired).toEqual(expected);
      }),
    );
  });
});
