// PeakEWMA load of one endpoint: a peak-sensitive, exponentially decaying RTT estimate times the
// number of outstanding requests plus one. Mirrors `tower/src/load/peak_ewma.rs @ tower-0.4.13`
// (used by linkerd2-proxy's balancer). Deliberate differences: time is a parameter (upstream reads
// the clock), and pending requests are counted instead of tracked by handle reference counts.
// The estimate is kept in nanoseconds as a float, exactly as upstream, so `load()` is in ns too.

/** Parameters of a PeakEWMA estimator. */
export interface PeakEwmaConfig {
  /** RTT assumed before any response is observed, in µs. Default 30,000 (30 ms). Required. */
  defaultRttUs: number;
  /** Decay period of the estimate, in µs; must be > 0. Default 10,000,000 (10 s). Required. */
  decayUs: number;
}

/** Linkerd's balancer defaults (`default_balancer_config` and the profile path's `DEFAULT_EWMA`). */
export const DEFAULT_PEAK_EWMA: PeakEwmaConfig = { defaultRttUs: 30_000, decayUs: 10_000_000 };

const NS_PER_US = 1_000;

/** What one RTT sample did to the estimate. */
export interface RttSampleResult {
  /** The estimate after the sample, in ns. */
  rttEstimateNs: number;
  /** `peak-rtt`: the sample exceeded the estimate and replaced it; `ewma`: it was averaged in. */
  reason: "peak-rtt" | "ewma";
}

/** The load tracker of one endpoint. Create it when the endpoint is added to the balancer. */
export class PeakEwma {
  private rttNs: number;
  private updateAtUs: number;
  private pendingCount = 0;
  private readonly decayNs: number;

  constructor(config: PeakEwmaConfig, nowUs: number) {
    if (!(config.decayUs > 0)) throw new Error(`PeakEWMA decayUs must be > 0, got ${config.decayUs}`);
    if (!(config.defaultRttUs > 0)) throw new Error(`PeakEWMA defaultRttUs must be > 0, got ${config.defaultRttUs}`);
    this.rttNs = config.defaultRttUs * NS_PER_US;
    this.updateAtUs = nowUs;
    this.decayNs = config.decayUs * NS_PER_US;
  }

  /** Requests sent through this endpoint whose completion has not been recorded yet. */
  get pending(): number {
    return this.pendingCount;
  }

  /** The current RTT estimate in ns, as of the last update (reading it does not decay it). */
  get rttEstimateNs(): number {
    return this.rttNs;
  }

  /**
   * The balancer's cost of this endpoint: decayed estimate (ns) × (pending + 1).
   * Mutates on purpose, as upstream does: every call decays the estimate to `nowUs`, so a load
   * reading moves the estimate's `updateAt` forward and changes how the next sample is weighted.
   */
  load(nowUs: number): number {
    this.sample(0, nowUs);
    return this.rttNs * (this.pendingCount + 1);
  }

  /** A request is dispatched to this endpoint; returns its send time, to pass to `complete`. */
  start(nowUs: number): number {
    this.pendingCount += 1;
    return nowUs;
  }

  /**
   * The request sent at `sentAtUs` completed at `nowUs`. For HTTP that is the first response body
   * DATA frame, or the response headers if the body is empty, or the error (`PendingUntilFirstData`).
   */
  complete(sentAtUs: number, nowUs: number): RttSampleResult {
    if (this.pendingCount <= 0) throw new Error("PeakEWMA complete() without a matching start()");
    this.pendingCount -= 1;
    const rttNs = Math.max(0, nowUs - sentAtUs) * NS_PER_US;
    const reason = this.sample(rttNs, nowUs);
    return { rttEstimateNs: this.rttNs, reason };
  }

  /** Fold one RTT sample (0 for a read) into the estimate at `nowUs`; returns which rule applied. */
  private sample(rttNs: number, nowUs: number): RttSampleResult["reason"] {
    let reason: RttSampleResult["reason"];
    if (this.rttNs < rttNs) {
      // Peak rule: a slower response replaces the estimate at once, so one slow endpoint is
      // avoided immediately instead of after the average catches up.
      this.rttNs = rttNs;
      reason = "peak-rtt";
    } else {
      const elapsedNs = Math.max(0, nowUs - this.updateAtUs) * NS_PER_US;
      const decay = Math.exp(-elapsedNs / this.decayNs);
      this.rttNs = this.rttNs * decay + rttNs * (1 - decay);
      reason = "ewma";
    }
    this.updateAtUs = Math.max(this.updateAtUs, nowUs);
    return reason;
  }
}
