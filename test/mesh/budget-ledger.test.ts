// The retry-budget checker (src/mesh/budget-ledger.ts) must never flag the real budget, under any
// traffic pattern, and must flag a proxy that retries past what the budget allows.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { RetryBudget } from "../../src/policy/retry-budget.js";
import { BudgetLedger } from "../../src/mesh/budget-ledger.js";
import { World } from "../../src/mesh/world.js";
import { specFromText } from "../support/spec-from-text.js";

const S = 1_000_000;

const specArb = fc.record({
  ttlUs: fc.integer({ min: 1 * S, max: 60 * S }),
  retryRatio: fc.oneof(fc.constantFrom(0, 0.1, 0.2, 0.3, 1, 2, 1000), fc.double({ min: 0, max: 1000, noNaN: true })),
  minRetriesPerSecond: fc.integer({ min: 0, max: 20 }),
});

/** Gaps chosen around the slot length, where the roll arithmetic has its edges. */
const stepArb = fc.record({
  gapSlots: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 3, noNaN: true }), fc.integer({ min: 0, max: 15 })),
  op: fc.constantFrom("deposit", "withdraw", "withdraw", "deposit-many"),
});

describe("the retry-budget ledger", () => {
  it("holds what its horizons cover, not the whole run, when deposits come and retries never do", () => {
    const budget = new RetryBudget({ ttlUs: 10 * S, retryRatio: 0.2, minRetriesPerSecond: 10 }, 0);
    const ledger = new BudgetLedger(budget);
    // One deposit per ms for an hour: 3.6 M of them. The deposit horizon is 11 windows (a window
    // is ttl/10 = 1 s: 11 s, 11 000 deposits); pruning in bulk may keep up to twice that, plus one
    // batch of 1 024 pushes.
    for (let t = 0; t < 3600 * S; t += 1000) ledger.deposited(t);
    const horizonDeposits = (11 * budget.windowUs) / 1000;
    expect(ledger.held.deposits).toBeLessThanOrEqual(2 * horizonDeposits + 1024);
    expect(ledger.held.deposits).toBeGreaterThanOrEqual(horizonDeposits - 1);
  });

  it("never flags the real budget, whatever the spacing of deposits and withdrawals", () => {
    fc.assert(
      fc.property(specArb, fc.array(stepArb, { minLength: 1, maxLength: 400 }), (spec, steps) => {
        const budget = new RetryBudget(spec, 0);
        const ledger = new BudgetLedger(budget);
        let t = 0;
        for (const step of steps) {
          t += Math.floor(step.gapSlots * budget.windowUs);
          const deposits = step.op === "deposit" ? 1 : step.op === "deposit-many" ? 7 : 0;
          for (let k = 0; k < deposits; k++) {
            budget.deposit(t);
            ledger.deposited(t);
          }
          if (step.op === "withdraw" && budget.withdraw(t)) expect(ledger.retried(t)).toBeUndefined();
        }
      }),
      { numRuns: 400 },
    );
  });

  it("flags a proxy that retries without the budget's consent", () => {
    // 20 % ratio, no reserve: withdraw costs 5 units, a deposit earns 1. Ten deposits then three
    // retries in the same instant spend 15 > 10 units.
    const budget = new RetryBudget({ ttlUs: 10 * S, retryRatio: 0.2, minRetriesPerSecond: 0 }, 0);
    const ledger = new BudgetLedger(budget);
    for (let k = 0; k < 10; k++) ledger.deposited(0);
    expect(ledger.retried(0)).toBeUndefined();
    expect(ledger.retried(0)).toBeUndefined();
    expect(ledger.retried(0)).toMatch(/retry budget overspent at 0us: 3 retries × 5 units/);
  });

  it("forgets deposits older than eleven slots", () => {
    // ttl 10 s ⇒ slot 1 s. One deposit at t = 0 pays for one retry (ratio 1) until 11 s.
    const budget = new RetryBudget({ ttlUs: 10 * S, retryRatio: 1, minRetriesPerSecond: 0 }, 0);
    const early = new BudgetLedger(budget);
    early.deposited(0);
    expect(early.retried(11 * S - 1)).toBeUndefined();
    const late = new BudgetLedger(budget);
    late.deposited(0);
    expect(late.retried(11 * S)).toMatch(/overspent/);
  });
});

describe("a run's retry budgets", () => {
  it("stay within their bound in a retry storm (no invariant violation)", () => {
    // Every answer is a retryable 500: only the budget (20 %, 10/s reserve) limits the retries.
    const text = `name: storm
seed: 7
duration: 30s
clusters:
  - name: c
    services:
      - {name: api, namespace: app}
      - {name: client, namespace: app}
    objects:
      - apiVersion: linkerd.io/v1alpha2
        kind: ServiceProfile
        metadata: {name: api.app.svc.cluster.local, namespace: app}
        spec:
          routes: [{name: all, condition: {method: GET, pathRegex: /.*}, isRetryable: true}]
          retryBudget: {retryRatio: 0.2, minRetriesPerSecond: 10, ttl: 10s}
behavior:
  - select: {deployment: api}
    errors: {rate: 1, status: 500}
traffic:
  - {name: calls, from: {namespace: app, deployment: client}, to: "http://api.app.svc.cluster.local/", rate: 100/s}
`;
    const world = new World(specFromText(text, "storm.yaml"));
    const result = world.run();
    expect(result.invariantViolations).toEqual([]);
    expect(result.marks.get("retry.skipped/budget-exhausted") ?? 0).toBeGreaterThan(0);
    expect(result.marks.get("retry.granted") ?? 0).toBeGreaterThan(0);
  });
});
