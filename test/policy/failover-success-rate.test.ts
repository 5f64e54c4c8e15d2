import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  DEFAULT_SUCCESS_RATE_FAILOVER,
  SuccessRateFailover,
  splitWeights,
} from "../../src/policy/failover-success-rate.js";

const S = 1_000_000;

/**
 * Closed loop: each interval the primary receives `ratePerInterval × primaryWeight / total`
 * requests (the share the weights send it), all failing while `failing(i)` holds; then tick.
 */
function run(
  ctl: SuccessRateFailover,
  intervals: number,
  failing: (i: number) => boolean,
  ratePerInterval = 400,
): Array<{ primaryWeight: number; reason: string }> {
  const out: Array<{ primaryWeight: number; reason: string }> = [];
  const total = ctl.config.totalWeight;
  for (let i = 1; i <= intervals; i += 1) {
    const current = ctl.weights()[0]?.weight ?? 0;
    const n = Math.round((ratePerInterval * current) / total);
    const obsAt = i * ctl.config.intervalUs - ctl.config.intervalUs / 2;
    if (n > 0) ctl.observeCounts(failing(i) ? 0 : n, failing(i) ? n : 0, obsAt);
    const d = ctl.tick(i * ctl.config.intervalUs);
    out.push({ primaryWeight: d.primaryWeight, reason: d.reason });
  }
  return out;
}

describe("SuccessRateFailover (guide's behaviour, not real linkerd-failover)", () => {
  it("documents its defaults", () => {
    expect(DEFAULT_SUCCESS_RATE_FAILOVER).toEqual({
      windowUs: 10 * S,
      threshold: 0.9,
      stepFraction: 0.25,
      intervalUs: 1 * S,
      minSamples: 20,
      totalWeight: 1000,
    });
  });

  it("starts with all weight on the primary", () => {
    const ctl = new SuccessRateFailover("auth", ["auth-west"]);
    expect(ctl.weights()).toEqual([
      { service: "auth", weight: 1000 },
      { service: "auth-west", weight: 0 },
    ]);
  });

  it("ramps down one step per interval, reaching zero after total/step intervals", () => {
    const ctl = new SuccessRateFailover("auth", ["auth-west"]);
    const step = 0.25 * 1000;
    const trace = run(ctl, 6, () => true);
    const expected = [1, 2, 3, 4, 5, 6].map((k) => Math.max(0, 1000 - step * k));
    expect(trace.map((t) => t.primaryWeight)).toEqual(expected);
    expect(trace.slice(0, 4).every((t) => t.reason === "success-rate-below-threshold")).toBe(true);
    expect(trace[4]?.reason).toBe("fully-failed-over");
  });

  it("ramps back one step per interval once the primary recovers", () => {
    // A window of one interval makes each tick judge only the last interval's traffic.
    const ctl = new SuccessRateFailover("auth", ["auth-west"], { windowUs: 1 * S });
    const trace = run(ctl, 9, (i) => i <= 4);
    expect(trace.map((t) => t.primaryWeight)).toEqual([750, 500, 250, 0, 250, 500, 750, 1000, 1000]);
    expect(trace.map((t) => t.reason)).toEqual([
      "success-rate-below-threshold",
      "success-rate-below-threshold",
      "success-rate-below-threshold",
      "success-rate-below-threshold",
      // Drained: no traffic reaches the primary, so there is no evidence either way.
      "no-evidence-ramp-back",
      "success-rate-recovered",
      "success-rate-recovered",
      "success-rate-recovered",
      "healthy",
    ]);
  });

  it("a still-failing primary is re-probed with one step of traffic and drained again", () => {
    const ctl = new SuccessRateFailover("auth", ["auth-west"], { windowUs: 1 * S });
    const trace = run(ctl, 7, () => true);
    expect(trace.map((t) => t.primaryWeight)).toEqual([750, 500, 250, 0, 250, 0, 250]);
  });

  it("does not act on fewer than minSamples outcomes", () => {
    const few = new SuccessRateFailover("p", ["s"], { minSamples: 20 });
    few.observeCounts(0, 19, 0.5 * S);
    expect(few.tick(1 * S)).toMatchObject({ primaryWeight: 1000, reason: "insufficient-samples", samples: 19 });
    const enough = new SuccessRateFailover("p", ["s"], { minSamples: 20 });
    enough.observeCounts(0, 20, 0.5 * S);
    expect(enough.tick(1 * S)).toMatchObject({ primaryWeight: 750, reason: "success-rate-below-threshold" });
  });

  it("a success rate exactly at the threshold counts as healthy", () => {
    const ctl = new SuccessRateFailover("p", ["s"], { threshold: 0.9 });
    ctl.observeCounts(90, 10, 0.5 * S);
    expect(ctl.tick(1 * S)).toMatchObject({ primaryWeight: 1000, reason: "healthy", successRate: 0.9 });
  });

  it("outcomes leave the sliding window after windowUs", () => {
    const ctl = new SuccessRateFailover("p", ["s"]);
    ctl.observeCounts(3, 7, 0.5 * S);
    expect(ctl.windowCounts(9.4 * S)).toEqual({ success: 3, failure: 7 });
    expect(ctl.windowCounts(10.5 * S)).toEqual({ success: 0, failure: 0 });
  });

  it("with no standby the primary keeps all the weight", () => {
    const ctl = new SuccessRateFailover("p", []);
    ctl.observeCounts(0, 100, 0.5 * S);
    expect(ctl.tick(1 * S)).toMatchObject({ primaryWeight: 1000, reason: "no-standby", changed: false });
  });

  it("standbys share the drained weight equally, the remainder going to the first", () => {
    expect(splitWeights("p", ["a", "b", "c"], 0, 1000).map((w) => w.weight)).toEqual([0, 334, 333, 333]);
    expect(splitWeights("p", ["a", "b"], 250, 1000).map((w) => w.weight)).toEqual([250, 375, 375]);
  });

  it("rejects a nonsensical configuration", () => {
    expect(() => new SuccessRateFailover("p", ["s"], { stepFraction: 0 })).toThrow(/stepFraction/);
    expect(() => new SuccessRateFailover("p", ["s"], { threshold: 1.5 })).toThrow(/threshold/);
  });

  it("weights are never negative, always sum to the total, and move at most one step per tick", () => {
    const op = fc.record({
      success: fc.integer({ min: 0, max: 60 }),
      failure: fc.integer({ min: 0, max: 60 }),
      gapUs: fc.integer({ min: 0, max: 3 * S }),
      tick: fc.boolean(),
    });
    fc.assert(
      fc.property(
        fc.array(op, { maxLength: 60 }),
        fc.integer({ min: 1, max: 4 }),
        fc.constantFrom(0.1, 0.25, 0.3, 1),
        (ops, standbyCount, stepFraction) => {
          const standbys = ["a", "b", "c", "d"].slice(0, standbyCount);
          const ctl = new SuccessRateFailover("p", standbys, { stepFraction });
          const step = Math.round(stepFraction * 1000);
          let now = 0;
          let prev = 1000;
          for (const o of ops) {
            now += o.gapUs;
            ctl.observeCounts(o.success, o.failure, now);
            if (!o.tick) continue;
            const d = ctl.tick(now);
            expect(d.weights.reduce((sum, w) => sum + w.weight, 0)).toBe(1000);
            for (const w of d.weights) expect(w.weight).toBeGreaterThanOrEqual(0);
            expect(Math.abs(d.primaryWeight - prev)).toBeLessThanOrEqual(step);
            expect(d.changed).toBe(d.primaryWeight !== prev);
            prev = d.primaryWeight;
          }
        },
      ),
    );
  });
});
