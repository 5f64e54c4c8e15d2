// Consecutive-failures failure accrual (circuit breaker) of one endpoint: OPEN → SHUT (penalty) →
// PROBATION (one request) → OPEN or SHUT again with the next, doubled penalty. Mirrors
// `linkerd/app/outbound/src/http/breaker/consecutive_failures.rs` and the gate it drives
// (`linkerd/stack/src/gate.rs`) @ linkerd2-proxy release/v2.246.0. Deliberate differences: time and
// randomness are parameters, and the penalty sleep is an `arm-timer` action the caller schedules.

import { backoffDelayUs } from "./exp-backoff.js";
import type { BackoffConfig, FailureAccrualConfig } from "./config.js";
import type { RandomSource } from "./random.js";

export type FailureAccrualState =
  /** Gate open; `failures` consecutive failures seen so far. */
  | { kind: "open"; failures: number }
  /** Gate shut until `untilUs`; `penaltyIndex` counts penalties within this ejection episode. */
  | { kind: "shut"; penaltyIndex: number; penaltyUs: number; untilUs: number }
  /** Gate limited; `permits` is 1 until the probe request is admitted, then 0. */
  | { kind: "probation"; penaltyIndex: number; permits: number };

export type FailureAccrualAction =
  | { kind: "gate-shut" }
  | { kind: "gate-limited"; permits: 1 }
  | { kind: "gate-opened" }
  /** Call `onTimer` at `atUs` (end of the penalty). */
  | { kind: "arm-timer"; atUs: number };

export interface FailureAccrualStep {
  state: FailureAccrualState;
  actions: FailureAccrualAction[];
  reason: string;
}

export interface AdmitDecision {
  admitted: boolean;
  reason: "gate-open" | "probation-permit-taken" | "probation-permit-already-taken" | "gate-shut";
}

/** The breaker of one endpoint. Feed it the class of every response through that endpoint. */
export class FailureAccrual {
  private current: FailureAccrualState = { kind: "open", failures: 0 };
  private readonly backoff: BackoffConfig;

  constructor(
    private readonly config: FailureAccrualConfig,
    private readonly rng: RandomSource,
  ) {
    if (!(config.maxFailures >= 1)) throw new Error(`maxFailures must be >= 1, got ${config.maxFailures}`);
    this.backoff = { minUs: config.minPenaltyUs, maxUs: config.maxPenaltyUs, jitterRatio: config.jitterRatio };
  }

  get state(): FailureAccrualState {
    return this.current;
  }

  /** Whether P2C may consider this endpoint (it is in the ready set as far as the breaker goes). */
  isReady(): boolean {
    return this.permits() > 0;
  }

  /** Requests the gate admits now: unlimited when open, 0 when shut, the probe permit in probation. */
  permits(): number {
    switch (this.current.kind) {
      case "open":
        return Number.POSITIVE_INFINITY;
      case "shut":
        return 0;
      case "probation":
        return this.current.permits;
    }
  }

  /** A request is being dispatched to this endpoint; in probation it takes the single permit. */
  admit(): AdmitDecision {
    const s = this.current;
    if (s.kind === "open") return { admitted: true, reason: "gate-open" };
    if (s.kind === "shut") return { admitted: false, reason: "gate-shut" };
    if (s.permits <= 0) return { admitted: false, reason: "probation-permit-already-taken" };
    // The permit is forgotten, not returned: only the breaker decides when to admit more.
    this.current = { ...s, permits: s.permits - 1 };
    return { admitted: true, reason: "probation-permit-taken" };
  }

  /** The response class of a request through this endpoint: `failure` per the route's classifier. */
  onResponse(failure: boolean, nowUs: number): FailureAccrualStep {
    const s = this.current;
    switch (s.kind) {
      case "open": {
        if (!failure) return this.become({ kind: "open", failures: 0 }, [], "success-resets-failures");
        const failures = s.failures + 1;
        if (failures >= this.config.maxFailures) return this.shut(0, nowUs, "max-consecutive-failures");
        return this.become({ kind: "open", failures }, [], "failure-counted");
      }
      case "shut":
        // Stragglers from before the ejection carry no news about the endpoint's recovery.
        return this.become(s, [], "ignored-while-shut");
      case "probation":
        // Whatever response comes next decides, even one from a request sent before the ejection.
        if (!failure) return this.become({ kind: "open", failures: 0 }, [{ kind: "gate-opened" }], "probe-succeeded");
        return this.shut(s.penaltyIndex + 1, nowUs, "probe-failed");
    }
  }

  /** The penalty timer fired. Stale timers (not shut, or before the deadline) are ignored. */
  onTimer(nowUs: number): FailureAccrualStep {
    const s = this.current;
    if (s.kind !== "shut" || nowUs < s.untilUs) return this.become(s, [], "stale-timer-ignored");
    // One fresh permit per probation. Upstream adds a permit to a long-lived semaphore, but the
    // endpoint's gate takes it as soon as it is granted and forgets any stale one on the next
    // acquisition, so permits do not pile up across probations.
    const next: FailureAccrualState = { kind: "probation", penaltyIndex: s.penaltyIndex, permits: 1 };
    return this.become(next, [{ kind: "gate-limited", permits: 1 }], "penalty-elapsed");
  }

  private shut(penaltyIndex: number, nowUs: number, reason: string): FailureAccrualStep {
    // Each ejection episode starts a fresh backoff stream; a failed probe takes its next value.
    const penaltyUs = backoffDelayUs(this.backoff, penaltyIndex, this.rng);
    const untilUs = nowUs + penaltyUs;
    const next: FailureAccrualState = { kind: "shut", penaltyIndex, penaltyUs, untilUs };
    return this.become(next, [{ kind: "gate-shut" }, { kind: "arm-timer", atUs: untilUs }], reason);
  }

  private become(state: FailureAccrualState, actions: FailureAccrualAction[], reason: string): FailureAccrualStep {
    this.current = state;
    return { state, actions, reason };
  }
}
