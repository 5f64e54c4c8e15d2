// Online invariant: a ServiceProfile retry budget never pays for more retries than its deposits
// and reserve allow. A checker apart from the budget (TigerBeetle style): it sees only what the
// proxy did — each deposit and each retry it sent, with their instants — and the budget's units,
// never its slots, so a retry sent without a successful withdrawal, or a budget that forgets
// withdrawals too early, shows up here.
//
// The bound, from how the budget's window rolls (src/policy/retry-budget.ts, tower 0.4.13): each
// roll happens at a call at least one slot length `w` after the previous one and moves the index by
// ceil(gap / w) slots; a unit is erased once the index has moved 11 slots past where it was
// written. Since ceil(x) ≥ x, a remembered deposit is less than 11·w old; since ceil(x) < 2x for
// x ≥ 1, a withdrawal is remembered for more than 4.5·w. A withdrawal succeeds only while
// reserve + deposits − earlier withdrawals (all as remembered) covers its cost, so at every retry
//
//     withdrawUnits × retries in [t − 4.5w, t]  ≤  reserve + depositUnits × deposits in (t − 11w, t].

import type { RetryBudget } from "../policy/retry-budget.js";

/**
 * Instants in ascending order within `horizonUs` of the latest (amortised O(1) per push). Pushes
 * prune too, not only counts: a budget that deposits on every request and almost never retries
 * would otherwise keep every deposit of the run.
 */
class Instants {
  private readonly atUs: number[] = [];
  private head = 0;

  constructor(private readonly horizonUs: number) {}

  push(atUs: number): void {
    this.atUs.push(atUs);
    if (this.atUs.length % 1024 === 0) this.dropBefore(atUs - this.horizonUs);
  }

  /** How many instants lie within the horizon of `nowUs`, i.e. at or after `nowUs − horizonUs`. */
  countAt(nowUs: number): number {
    this.dropBefore(nowUs - this.horizonUs);
    return this.atUs.length - this.head;
  }

  /** Held at most (for its test): the live ones plus what waits to be cut off in bulk. */
  get held(): number {
    return this.atUs.length;
  }

  private dropBefore(fromUs: number): void {
    while (this.head < this.atUs.length && (this.atUs[this.head] as number) < fromUs) this.head += 1;
    if (this.head > 1024 && this.head * 2 > this.atUs.length) {
      this.atUs.splice(0, this.head);
      this.head = 0;
    }
  }
}

export class BudgetLedger {
  private readonly deposits: Instants;
  private readonly retries: Instants;
  private readonly depositHorizonUs: number;
  private readonly retryHorizonUs: number;

  constructor(private readonly budget: RetryBudget) {
    // Deposits strictly younger than 11 windows; retries at most 4.5 windows old (integer µs).
    this.depositHorizonUs = 11 * budget.windowUs - 1;
    this.retryHorizonUs = Math.floor(4.5 * budget.windowUs);
    this.deposits = new Instants(this.depositHorizonUs);
    this.retries = new Instants(this.retryHorizonUs);
  }

  /** Instants the ledger holds (deposits, retries): bounded by the horizons, not the run's length. */
  get held(): { deposits: number; retries: number } {
    return { deposits: this.deposits.held, retries: this.retries.held };
  }

  deposited(nowUs: number): void {
    this.deposits.push(nowUs);
  }

  /** A retry was sent at `nowUs`; returns what broke, or undefined when the bound holds. */
  retried(nowUs: number): string | undefined {
    this.retries.push(nowUs);
    const retries = this.retries.countAt(nowUs);
    const deposits = this.deposits.countAt(nowUs);
    const b = this.budget;
    const spent = b.withdrawAmount * retries;
    const allowed = b.reserve + b.depositAmount * deposits;
    if (spent <= allowed) return undefined;
    return (
      `retry budget overspent at ${nowUs}us: ${retries} retries × ${b.withdrawAmount} units in the last ` +
      `${this.retryHorizonUs}us exceed reserve ${b.reserve} + ${deposits} deposits × ${b.depositAmount} units`
    );
  }
}
