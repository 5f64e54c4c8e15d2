// The ServiceProfile retry budget: a literal port of tower's `Budget` (10-slot leaky window of
// integer units plus a constant reserve), including its expiry quirk.
// Mirrors `tower/src/retry/budget.rs @ tower-0.4.13`, as the proxy uses it in
// `linkerd/app/outbound/src/http/retry.rs`. Deliberate differences: time is a parameter (upstream
// reads the tokio clock); integer µs instead of nanosecond Durations, so the window is
// `floor(ttlUs / 10)` µs; isize saturation and overflow are modelled by clamping at ±2^53.

import type { RetryBudgetSpec } from "./config.js";

/** Number of slots the ttl is divided into (fixed upstream). */
export const RETRY_BUDGET_SLOTS = 10;

/** Stands in for isize::MAX / isize::MIN: JS integers are exact only up to 2^53. */
const UNITS_MAX = Number.MAX_SAFE_INTEGER;

/** The integer units a budget works in, derived once from its spec (`Budget::new`). */
export interface RetryBudgetUnits {
  /** Units one deposit adds: 0 when the ratio is 0, 1 for ratios ≤ 1, 1000 above. */
  depositAmount: number;
  /** Units one retry costs: trunc(1/ratio) or trunc(1000/ratio), computed in f32 like upstream. */
  withdrawAmount: number;
  /** Constant floor added to every balance: min/s × whole ttl seconds × withdrawAmount. */
  reserve: number;
  /** Length of one slot, µs: floor(ttlUs / 10). */
  windowUs: number;
}

/** Internal state, exposed read-only for traces and tests. */
export interface RetryBudgetSnapshot {
  slots: readonly number[];
  writer: number;
  genIndex: number;
  genTimeUs: number;
}

function clampUnits(n: number): number {
  return Math.max(-UNITS_MAX, Math.min(UNITS_MAX, n));
}

/** f32 → isize cast: truncation toward zero, saturating (Rust `as` on floats saturates). */
function f32ToUnits(x: number): number {
  return Math.min(UNITS_MAX, Math.trunc(x));
}

/**
 * Derive the integer units exactly as `Budget::new` does. The ratio is an f32 in Linkerd, and the
 * division is f32 too: `Math.fround(1 / Math.fround(r))` rounds the same way, because an f64
 * quotient of two f32 values rounded again to f32 equals the correctly rounded f32 quotient.
 * So 0.1 gives withdraw 10 (not 9), 0.3 gives 3 (an effective ratio of 33 %), 0.6 gives 1.
 */
export function retryBudgetUnits(spec: RetryBudgetSpec): RetryBudgetUnits {
  assertValidSpec(spec);
  const ratio = Math.fround(spec.retryRatio);
  let depositAmount: number;
  let withdrawAmount: number;
  if (ratio === 0) {
    depositAmount = 0;
    withdrawAmount = 1;
  } else if (ratio <= 1) {
    depositAmount = 1;
    withdrawAmount = f32ToUnits(Math.fround(1 / ratio));
  } else {
    depositAmount = 1000;
    withdrawAmount = f32ToUnits(Math.fround(1000 / ratio));
  }
  // `ttl.as_secs()` drops the sub-second part: a 1.9 s ttl counts as 1 s here.
  const ttlWholeSeconds = Math.floor(spec.ttlUs / 1_000_000);
  const reserve = clampUnits(spec.minRetriesPerSecond * ttlWholeSeconds * withdrawAmount);
  return { depositAmount, withdrawAmount, reserve, windowUs: Math.floor(spec.ttlUs / RETRY_BUDGET_SLOTS) };
}

/** Tower panics on these; Linkerd validates first (`convert_retry_budget`) and drops the budget. */
function assertValidSpec(spec: RetryBudgetSpec): void {
  const ok =
    spec.ttlUs >= 1_000_000 &&
    spec.ttlUs <= 60_000_000 &&
    spec.retryRatio >= 0 &&
    spec.retryRatio <= 1000 &&
    Number.isInteger(spec.minRetriesPerSecond) &&
    spec.minRetriesPerSecond >= 0 &&
    spec.minRetriesPerSecond < 2 ** 31 - 1;
  if (!ok) {
    throw new Error(
      `invalid retry budget ${JSON.stringify(spec)}: tower requires 1s ≤ ttl ≤ 60s, ` +
        `0 ≤ ratio ≤ 1000 and 0 ≤ minRetriesPerSecond < i32::MAX`,
    );
  }
}

/**
 * One budget, shared by every retryable route of a destination profile in one client proxy.
 * Each `deposit`/`withdraw` first calls `expire(nowUs)`, exactly as upstream.
 */
export class RetryBudget {
  readonly depositAmount: number;
  readonly withdrawAmount: number;
  readonly reserve: number;
  readonly windowUs: number;
  private readonly slots: number[] = new Array<number>(RETRY_BUDGET_SLOTS).fill(0);
  private writer = 0;
  private genIndex = 0;
  private genTimeUs: number;

  constructor(spec: RetryBudgetSpec, nowUs: number) {
    const units = retryBudgetUnits(spec);
    this.depositAmount = units.depositAmount;
    this.withdrawAmount = units.withdrawAmount;
    this.reserve = units.reserve;
    this.windowUs = units.windowUs;
    this.genTimeUs = nowUs;
  }

  /** Record one request that ended without being retried. */
  deposit(nowUs: number): void {
    this.expire(nowUs);
    this.writer = clampUnits(this.writer + this.depositAmount);
  }

  /** Try to pay for one retry; false means overdrawn (the failure is returned as-is). */
  withdraw(nowUs: number): boolean {
    this.expire(nowUs);
    if (this.sum() < this.withdrawAmount) return false;
    // The writer may go negative: that is how a withdrawal is remembered until it ages out.
    this.writer = clampUnits(this.writer - this.withdrawAmount);
    return true;
  }

  /** Balance right now without expiring anything: writer + slots + reserve (saturating). */
  sum(): number {
    const windowed = this.slots.reduce((acc, slot) => clampUnits(acc + slot), 0);
    return clampUnits(clampUnits(this.writer + windowed) + this.reserve);
  }

  /**
   * Roll the window forward. Public because it is the part of every deposit/withdraw that
   * depends only on time, so a caller can model traffic that touches the budget.
   *
   * Kept on purpose (tower-0.4.13): the time base resets to `now` rather than advancing by
   * whole windows, and the zeroing loop runs while `diff > window`, so an expiry landing between
   * one and two windows after the last one clears one extra slot and moves the index by 2. Under
   * steady traffic a unit therefore disappears after about 6 windows, not 10.
   */
  expire(nowUs: number): void {
    const diffUs = Math.max(0, nowUs - this.genTimeUs);
    if (diffUs < this.windowUs) return;
    this.slots[this.genIndex] = this.writer;
    this.writer = 0;
    // Upstream loops once per extra window (`while diff > window { diff -= window }`), i.e.
    // ceil(diff/window) − 1 times; count them directly so a long idle gap costs no loop.
    const extraWindows = Math.ceil(diffUs / this.windowUs) - 1;
    const toZero = Math.min(extraWindows, RETRY_BUDGET_SLOTS);
    for (let k = 1; k <= toZero; k += 1) {
      // When ≥ 10 windows passed this wraps onto the slot just committed: everything is erased.
      this.slots[(this.genIndex + k) % RETRY_BUDGET_SLOTS] = 0;
    }
    this.genIndex = (this.genIndex + 1 + extraWindows) % RETRY_BUDGET_SLOTS;
    this.genTimeUs = nowUs;
  }

  snapshot(): RetryBudgetSnapshot {
    return { slots: [...this.slots], writer: this.writer, genIndex: this.genIndex, genTimeUs: this.genTimeUs };
  }
}
