// !!! NOT REAL LINKERD BEHAVIOUR !!! A success-rate-driven, gradual failover controller: the one
// the user guide describes ("when its success rate collapses, the operator gradually shifts weight
// to the standby ... and shifts back when the primary recovers"). Real linkerd-failover watches only
// Endpoints readiness and flips weights 0/1 at once (see `failover.ts`, reference §6.2, Discrepancy
// e). Mirrors no upstream file; it exists so scenarios can compare both (`failover.mode:
// success-rate-ramp`). Time is a parameter; the caller calls `tick` every `intervalUs`.

/** Tuning of the guide-style controller. Every field has a default (`DEFAULT_SUCCESS_RATE_FAILOVER`). */
export interface SuccessRateFailoverConfig {
  /** Sliding window over which the primary's success rate is measured, µs. Default 10 s. Counted in
   *  slots of `windowUs / 10`, so an outcome leaves the window up to one slot early. */
  windowUs: number;
  /** Success rate (0..1) below which weight moves off the primary; at or above it weight moves
   *  back. Default 0.9. */
  threshold: number;
  /** Fraction of `totalWeight` moved per tick (rounded to a whole weight, at least 1). Default 0.25,
   *  so a full failover or fail-back takes 4 ticks. */
  stepFraction: number;
  /** Time between ticks, µs. Default 1 s. The controller does not schedule itself. */
  intervalUs: number;
  /** Primary outcomes needed in the window before its success rate is trusted. Default 20. */
  minSamples: number;
  /** Common weight scale; the weights always sum to this. Default 1000. */
  totalWeight: number;
}

export const DEFAULT_SUCCESS_RATE_FAILOVER: Readonly<SuccessRateFailoverConfig> = {
  windowUs: 10_000_000,
  threshold: 0.9,
  stepFraction: 0.25,
  intervalUs: 1_000_000,
  minSamples: 20,
  totalWeight: 1000,
};

export interface WeightedBackend {
  service: string;
  weight: number;
}

export interface RampDecision {
  /** Primary first, then standbys in the order given; sums to `totalWeight`. */
  weights: WeightedBackend[];
  primaryWeight: number;
  /** True iff this tick moved weight. */
  changed: boolean;
  /** Primary success rate over the window; undefined with no samples. */
  successRate: number | undefined;
  samples: number;
  /** `success-rate-below-threshold`, `success-rate-recovered`, `no-evidence-ramp-back`,
   *  `fully-failed-over`, `healthy`, `insufficient-samples` or `no-standby`. */
  reason: string;
}

interface Slot {
  index: number;
  success: number;
  failure: number;
}

const SLOTS_PER_WINDOW = 10;

/** The guide's controller for one TrafficSplit. Holds only counts and the current primary weight. */
export class SuccessRateFailover {
  readonly config: Readonly<SuccessRateFailoverConfig>;
  private primaryWeight: number;
  private readonly slots: Slot[] = [];
  private readonly slotUs: number;
  private readonly stepWeight: number;

  constructor(
    readonly primary: string,
    readonly standbys: readonly string[],
    config: Partial<SuccessRateFailoverConfig> = {},
  ) {
    const c = { ...DEFAULT_SUCCESS_RATE_FAILOVER, ...config };
    assertConfig(c);
    this.config = c;
    this.primaryWeight = c.totalWeight;
    this.slotUs = Math.max(1, Math.floor(c.windowUs / SLOTS_PER_WINDOW));
    this.stepWeight = Math.max(1, Math.round(c.stepFraction * c.totalWeight));
  }

  /** Record one response from the primary (`ok` = classified success). */
  observe(ok: boolean, nowUs: number): void {
    this.observeCounts(ok ? 1 : 0, ok ? 0 : 1, nowUs);
  }

  /** Record a batch of primary outcomes that happened at `nowUs`. */
  observeCounts(success: number, failure: number, nowUs: number): void {
    const index = Math.floor(nowUs / this.slotUs);
    // Slots stay sorted by index; outcomes normally arrive in time order, so search from the end.
    let at = this.slots.length;
    while (at > 0 && (this.slots[at - 1]?.index ?? -Infinity) > index) at -= 1;
    const prev = this.slots[at - 1];
    if (prev !== undefined && prev.index === index) {
      prev.success += success;
      prev.failure += failure;
    } else {
      this.slots.splice(at, 0, { index, success, failure });
    }
    this.prune(nowUs);
  }

  /** Primary success/failure counts inside the window ending at `nowUs`. */
  windowCounts(nowUs: number): { success: number; failure: number } {
    this.prune(nowUs);
    let success = 0;
    let failure = 0;
    for (const s of this.slots) {
      success += s.success;
      failure += s.failure;
    }
    return { success, failure };
  }

  /** Current weights without deciding anything. */
  weights(): WeightedBackend[] {
    return splitWeights(this.primary, this.standbys, this.primaryWeight, this.config.totalWeight);
  }

  /** Decide this interval's move: at most one step toward or away from the primary. */
  tick(nowUs: number): RampDecision {
    const { success, failure } = this.windowCounts(nowUs);
    const samples = success + failure;
    const successRate = samples === 0 ? undefined : success / samples;
    const { next, reason } = this.nextPrimaryWeight(samples, successRate);
    const changed = next !== this.primaryWeight;
    this.primaryWeight = next;
    return { weights: this.weights(), primaryWeight: next, changed, successRate, samples, reason };
  }

  private nextPrimaryWeight(samples: number, successRate: number | undefined): { next: number; reason: string } {
    const total = this.config.totalWeight;
    const up = Math.min(total, this.primaryWeight + this.stepWeight);
    const down = Math.max(0, this.primaryWeight - this.stepWeight);
    if (this.standbys.length === 0) return { next: total, reason: "no-standby" };
    if (successRate === undefined || samples < this.config.minSamples) {
      // A drained primary gets no traffic, so its success rate can never recover on its own:
      // without evidence of failure, step back toward it so it is observed again.
      if (this.primaryWeight < total) return { next: up, reason: "no-evidence-ramp-back" };
      return { next: total, reason: "insufficient-samples" };
    }
    if (successRate < this.config.threshold) {
      if (this.primaryWeight > 0) return { next: down, reason: "success-rate-below-threshold" };
      return { next: 0, reason: "fully-failed-over" };
    }
    if (this.primaryWeight < total) return { next: up, reason: "success-rate-recovered" };
    return { next: total, reason: "healthy" };
  }

  private prune(nowUs: number): void {
    const oldestKept = Math.floor(nowUs / this.slotUs) - SLOTS_PER_WINDOW + 1;
    while (this.slots.length > 0 && (this.slots[0]?.index ?? oldestKept) < oldestKept) this.slots.shift();
  }
}

/** Primary gets `primaryWeight`; the rest is shared equally by the standbys, remainder to the first. */
export function splitWeights(
  primary: string,
  standbys: readonly string[],
  primaryWeight: number,
  totalWeight: number,
): WeightedBackend[] {
  if (standbys.length === 0) return [{ service: primary, weight: totalWeight }];
  const rest = totalWeight - primaryWeight;
  const each = Math.floor(rest / standbys.length);
  const remainder = rest - each * standbys.length;
  return [
    { service: primary, weight: primaryWeight },
    ...standbys.map((service, i) => ({ service, weight: each + (i < remainder ? 1 : 0) })),
  ];
}

function assertConfig(c: SuccessRateFailoverConfig): void {
  const bad = (msg: string): never => {
    throw new Error(`success-rate failover config: ${msg}`);
  };
  if (!(c.windowUs > 0)) bad(`windowUs must be > 0 (got ${c.windowUs})`);
  if (!(c.intervalUs > 0)) bad(`intervalUs must be > 0 (got ${c.intervalUs})`);
  if (!(c.threshold >= 0 && c.threshold <= 1)) bad(`threshold must be within 0..1 (got ${c.threshold})`);
  if (!(c.stepFraction > 0 && c.stepFraction <= 1)) bad(`stepFraction must be within (0, 1] (got ${c.stepFraction})`);
  if (!(Number.isInteger(c.totalWeight) && c.totalWeight > 0)) bad(`totalWeight must be a positive integer`);
  if (!(Number.isInteger(c.minSamples) && c.minSamples >= 1)) bad(`minSamples must be an integer ≥ 1`);
}
