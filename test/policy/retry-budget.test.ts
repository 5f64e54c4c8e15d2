import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { RetryBudgetSpec } from "../../src/policy/config.js";
import { RetryBudget, retryBudgetUnits } from "../../src/policy/retry-budget.js";

const S = 1_000_000;
const MS = 1_000;

function budget(ttlUs: number, minRetriesPerSecond: number, retryRatio: number, nowUs = 0): RetryBudget {
  return new RetryBudget({ ttlUs, minRetriesPerSecond, retryRatio }, nowUs);
}

describe("retry budget: upstream tower-0.4.13 vectors", () => {
  it("vector 1: an empty budget refuses a withdrawal", () => {
    expect(budget(1 * S, 0, 1.0).withdraw(0)).toBe(false);
  });

  it("vector 2: a deposit leaks away after 3 s with a 1 s ttl", () => {
    const b = budget(1 * S, 0, 1.0);
    b.deposit(0);
    expect(b.withdraw(3 * S)).toBe(false);
  });

  it("vector 3: the first deposit expires while the second combines with the third", () => {
    const b = budget(1 * S, 0, 0.5);
    let t = 0;
    b.deposit(t);
    b.deposit(t);
    t += 901 * MS;
    expect(b.withdraw(t)).toBe(true);
    t += 2001 * MS;
    b.deposit(t);
    t += 301 * MS;
    b.deposit(t);
    t += 801 * MS;
    b.deposit(t);
    expect(b.withdraw(t)).toBe(true);
  });

  it("vector 4: a reserve of 5 allows five withdrawals and refuses the sixth", () => {
    const b = budget(1 * S, 5, 1.0);
    const results = Array.from({ length: 6 }, () => b.withdraw(0));
    expect(results).toEqual([true, true, true, true, true, false]);
  });
});

describe("retry budget: derived vectors", () => {
  it("vector 5: the default budget holds 100 retries with no traffic, then refuses", () => {
    const b = budget(10 * S, 10, 0.2);
    expect([b.depositAmount, b.withdrawAmount, b.reserve]).toEqual([1, 5, 500]);
    const granted = Array.from({ length: 101 }, () => b.withdraw(0));
    expect(granted.filter((g) => g)).toHaveLength(100);
    expect(granted[100]).toBe(false);
  });

  // retryRatio → (deposit, withdraw): truncation of an f32 quotient, so 0.3 means 1/3 and 0.6 means 1/1.
  it.each([
    [0.0, 0, 1],
    [0.1, 1, 10],
    [0.2, 1, 5],
    [0.3, 1, 3],
    [0.6, 1, 1],
    [1.0, 1, 1],
    [2.0, 1000, 500],
    [1.5, 1000, 666],
  ])("vector 6: ratio %f gives deposit %i and withdraw %i", (retryRatio, deposit, withdraw) => {
    const units = retryBudgetUnits({ ttlUs: 10 * S, minRetriesPerSecond: 0, retryRatio });
    expect([units.depositAmount, units.withdrawAmount]).toEqual([deposit, withdraw]);
  });

  it("vector 6: the reserve counts whole ttl seconds only (ttl 1.9 s, min 3, ratio 0.25 → 3×1×4)", () => {
    const units = retryBudgetUnits({ ttlUs: 1_900 * MS, minRetriesPerSecond: 3, retryRatio: 0.25 });
    expect(units.reserve).toBe(3 * 1 * 4);
    expect(units.windowUs).toBe(190 * MS);
  });

  it("refuses a spec tower would panic on", () => {
    expect(() => budget(1000 * S, 0, 0.2)).toThrow(/invalid retry budget/);
    expect(() => budget(10 * S, 0, -1)).toThrow(/invalid retry budget/);
    expect(() => budget(10 * S, 0, 1000.5)).toThrow(/invalid retry budget/);
  });
});

/** Touch the budget every `gapUs` from `fromUs` and return the first time its balance is `target`. */
function firstTimeBalanceIs(b: RetryBudget, target: number, gaps: Iterable<number>, fromUs = 0): number | undefined {
  let t = fromUs;
  for (const gap of gaps) {
    t += gap;
    b.expire(t);
    if (b.sum() === target) return t;
  }
  return undefined;
}

function* every(gapUs: number, untilUs: number): Generator<number> {
  for (let t = gapUs; t <= untilUs; t += gapUs) yield gapUs;
}

describe("retry budget: expiry", () => {
  const ttlUs = 10 * S;
  const windowUs = ttlUs / 10;

  it("a deposit lasts 11 windows when expiries land exactly on whole windows", () => {
    const b = budget(ttlUs, 0, 1.0);
    b.deposit(0);
    // Traffic every 100 ms: each expiry sees exactly one window, so the index moves by 1.
    expect(firstTimeBalanceIs(b, 0, every(100 * MS, 20 * S))).toBe(11 * windowUs);
  });

  it("a deposit disappears after 6 expiries when expiries land just past each window", () => {
    const gapUs = 3 * MS; // does not divide the 1 s window
    const b = budget(ttlUs, 0, 1.0);
    b.deposit(0);
    // Each expiry sees diff = ceil(window/gap)·gap > window, so the index moves by 2 each time.
    const expiryEveryUs = Math.ceil(windowUs / gapUs) * gapUs;
    expect(firstTimeBalanceIs(b, 0, every(gapUs, 20 * S))).toBe(6 * expiryEveryUs);
  });

  it("under dense traffic the reserve refills after about 0.6 ttl, not after the ttl", () => {
    const b = budget(ttlUs, 1, 0); // deposit 0, withdraw 1, reserve 1 × 10 × 1 = 10
    const atStart = Array.from({ length: 11 }, () => b.withdraw(0));
    expect(atStart.filter((g) => g)).toHaveLength(10);
    const gapUs = 3 * MS;
    let t = 0;
    while (!b.withdraw(t)) t += gapUs; // the refused withdrawals are the traffic
    expect(t).toBe(6 * Math.ceil(windowUs / gapUs) * gapUs);
  });

  it("a deposit survives more than 5 windows and less than 11 windows plus gaps under any dense traffic", () => {
    // Derivation: an expiry seeing diff moves the index by ceil(diff/window); a unit is erased once
    // the index has moved 11 past its slot. With every gap < window each move is 1 or 2, so it
    // takes 6 to 11 expiries, each diff in [window, window + maxGap).
    const maxGapUs = 200 * MS;
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: maxGapUs }), { minLength: 2_000, maxLength: 2_000 }), (gaps) => {
        const b = budget(ttlUs, 0, 1.0);
        b.deposit(0);
        const goneAtUs = firstTimeBalanceIs(b, 0, gaps);
        expect(goneAtUs).toBeDefined();
        expect(goneAtUs).toBeGreaterThan(6 * windowUs);
        expect(goneAtUs).toBeLessThan(11 * (windowUs + maxGapUs));
      }),
      { numRuns: 200 },
    );
  });
});

type Op = { gapUs: number; kind: "deposit" | "withdraw" };

const specArb: fc.Arbitrary<RetryBudgetSpec> = fc.record({
  ttlUs: fc.constantFrom(1 * S, 2 * S, 10 * S),
  minRetriesPerSecond: fc.integer({ min: 0, max: 3 }),
  retryRatio: fc.constantFrom(0, 0.1, 0.2, 0.3, 0.5, 1.0, 1.5),
});

function runOps(spec: RetryBudgetSpec, ops: readonly Op[]): { b: RetryBudget; deposits: number[]; withdrawals: number[] } {
  const b = new RetryBudget(spec, 0);
  const deposits: number[] = [];
  const withdrawals: number[] = [];
  let t = 0;
  for (const op of ops) {
    t += op.gapUs;
    if (op.kind === "deposit") {
      b.deposit(t);
      deposits.push(t);
    } else if (b.withdraw(t)) {
      withdrawals.push(t);
    }
  }
  return { b, deposits, withdrawals };
}

const countIn = (times: readonly number[], fromUs: number, toUs: number): number =>
  times.filter((t) => t >= fromUs && t <= toUs).length;

describe("retry budget: what it can pay for", () => {
  // Sound bound, derived from the expiry rule (window w = ttl/10):
  //  * a successful withdrawal leaves writer + slots + reserve ≥ 0, and writer + slots is the sum
  //    of the units still on the books (a time-suffix of past operations);
  //  * a unit stays on the books for more than 5w (the index must move 11 past its slot and moves
  //    by at most ceil(diff/w) ≤ 2·diff/w per expiry) and for less than 11w (≥ 11w of diffs always
  //    moves it 11);
  // so any 10w window of successful withdrawals is covered by at most two withdrawals' books:
  //    W · withdrawals(a, a+10w] ≤ D · deposits(a−11w, a+10w] + 2 · reserve.
  // The 2× reserve is real: the quirk refills the reserve after ≈0.6 ttl (test above).
  const opArb = (windowUs: number): fc.Arbitrary<Op> =>
    fc.record({
      gapUs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 2 * windowUs })),
      kind: fc.constantFrom<Op["kind"]>("deposit", "deposit", "withdraw"),
    });

  it("withdrawals in any ttl window never exceed that window's deposits plus two reserves", () => {
    fc.assert(
      fc.property(
        specArb.chain((spec) => fc.tuple(fc.constant(spec), fc.array(opArb(spec.ttlUs / 10), { maxLength: 400 }))),
        ([spec, ops]) => {
          const { b, deposits, withdrawals } = runOps(spec, ops);
          const w = b.windowUs;
          for (const t of withdrawals) {
            const spent = b.withdrawAmount * countIn(withdrawals, t, t + 10 * w - 1);
            const earned = b.depositAmount * countIn(deposits, t - 11 * w, t + 10 * w - 1);
            expect(spent).toBeLessThanOrEqual(earned + 2 * b.reserve);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("over a whole run, withdrawals never exceed deposits plus one reserve per half ttl", () => {
    // Chaining the same argument: each withdrawal not on the books of a later one is more than 5w
    // older, so a run spanning T µs of withdrawals uses at most floor(T / 5w) + 1 reserves.
    fc.assert(
      fc.property(
        specArb.chain((spec) => fc.tuple(fc.constant(spec), fc.array(opArb(spec.ttlUs / 10), { maxLength: 400 }))),
        ([spec, ops]) => {
          const { b, deposits, withdrawals } = runOps(spec, ops);
          const first = withdrawals[0];
          const last = withdrawals[withdrawals.length - 1];
          if (first === undefined || last === undefined) return;
          const reserves = Math.floor((last - first) / (5 * b.windowUs)) + 1;
          expect(b.withdrawAmount * withdrawals.length).toBeLessThanOrEqual(
            b.depositAmount * deposits.length + reserves * b.reserve,
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});
