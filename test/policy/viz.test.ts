import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  LATENCY_BUCKET_BOUNDS_MS,
  LATENCY_BUCKET_COUNT,
  cumulativeLatencyBuckets,
  formatRps,
  formatSuccessRate,
  histogramQuantile,
  latencyBucketIndex,
  latencyQuantileMs,
  requestsPerSecond,
  successRate,
  type PromBucket,
} from "../../src/policy/viz.js";

const MS = 1_000;

describe("viz — success rate and RPS", () => {
  it("success rate is success over all classified responses", () => {
    expect(successRate(95, 5)).toBe(0.95);
    expect(successRate(0, 3)).toBe(0);
  });

  it("no requests means no success rate, printed as a dash", () => {
    expect(successRate(0, 0)).toBeUndefined();
    expect(formatSuccessRate(undefined)).toBe("-");
  });

  it("success rate prints with two decimals", () => {
    expect(formatSuccessRate(0.95)).toBe("95.00%");
    expect(formatSuccessRate(2 / 3)).toBe("66.67%");
    expect(formatSuccessRate(1)).toBe("100.00%");
  });

  it("RPS is the window's requests divided by its length in seconds", () => {
    expect(requestsPerSecond(90, 60_000_000)).toBe(1.5);
    expect(formatRps(1.5)).toBe("1.5rps");
    expect(formatRps(requestsPerSecond(1, 60_000_000))).toBe("0.0rps");
  });

  it("RPS over an empty window is a programming error", () => {
    expect(() => requestsPerSecond(1, 0)).toThrow(/window/);
  });
});

describe("viz — latency buckets", () => {
  it("has Linkerd's 25 finite bounds plus +Inf", () => {
    expect(LATENCY_BUCKET_BOUNDS_MS).toEqual([
      1, 2, 3, 4, 5, 10, 20, 30, 40, 50, 100, 200, 300, 400, 500, 1000, 2000, 3000, 4000, 5000, 10000, 20000, 30000,
      40000, 50000,
    ]);
    expect(LATENCY_BUCKET_COUNT).toBe(26);
  });

  it.each([
    [0, 1],
    [999, 1],
    [1_999, 1], // truncated to 1 ms
    [2_000, 2],
    [10_500, 10], // truncated to 10 ms, and 10 ≤ le=10
    [11_000, 20],
    [50_000 * MS, 50_000],
    [50_001 * MS, Infinity],
  ])("%d µs lands in le=%s", (us, le) => {
    expect(LATENCY_BUCKET_BOUNDS_MS[latencyBucketIndex(us)] ?? Infinity).toBe(le);
  });

  it("cumulative buckets end at +Inf with the total count", () => {
    const per = new Array<number>(LATENCY_BUCKET_COUNT).fill(0);
    per[0] = 2;
    per[6] = 3;
    per[25] = 1;
    const cum = cumulativeLatencyBuckets(per);
    expect(cum).toHaveLength(26);
    expect(cum[0]).toEqual({ le: 1, count: 2 });
    expect(cum[5]).toEqual({ le: 10, count: 2 });
    expect(cum[6]).toEqual({ le: 20, count: 5 });
    expect(cum[25]).toEqual({ le: Infinity, count: 6 });
  });
});

describe("viz — histogram_quantile (hand-computed)", () => {
  // Cumulative: 10 obs ≤ 1, 30 ≤ 2, 50 ≤ 5, 60 total.
  const h: PromBucket[] = [
    { le: 1, count: 10 },
    { le: 2, count: 30 },
    { le: 5, count: 50 },
    { le: Infinity, count: 60 },
  ];

  it.each([
    // q, rank = q·60, bucket, interpolation
    [0, 0], // rank 0 in [0,1]: 0 + 1·0/10
    [0.1, 0.6], // rank 6 in [0,1]: 0 + 1·6/10
    [0.25, 1.25], // rank 15 in (1,2]: 1 + 1·(15−10)/20
    [0.5, 2], // rank 30 in (1,2]: 1 + 1·20/20
    [0.75, 4.25], // rank 45 in (2,5]: 2 + 3·(45−30)/20
    [0.9, 5], // rank 54 is in +Inf: highest finite bound
    [1, 5],
  ])("q=%s ⇒ %s", (q, expected) => {
    expect(histogramQuantile(q, h)).toBeCloseTo(expected, 12);
  });

  it("q below 0 is −Inf and above 1 is +Inf", () => {
    expect(histogramQuantile(-0.1, h)).toBe(-Infinity);
    expect(histogramQuantile(1.01, h)).toBe(Infinity);
  });

  it("no observations, a missing +Inf bucket, too few buckets or q=NaN give NaN", () => {
    expect(histogramQuantile(0.5, h.map((b) => ({ ...b, count: 0 })))).toBeNaN();
    expect(histogramQuantile(0.5, [])).toBeNaN();
    expect(histogramQuantile(0.5, h.slice(0, 3))).toBeNaN();
    expect(histogramQuantile(0.5, [{ le: Infinity, count: 4 }])).toBeNaN();
    expect(histogramQuantile(NaN, h)).toBeNaN();
  });

  it("a first bucket with a bound ≤ 0 returns that bound", () => {
    expect(histogramQuantile(0.2, [{ le: -1, count: 5 }, { le: Infinity, count: 10 }])).toBe(-1);
  });

  it("unsorted input is sorted, duplicate bounds are merged and dips are flattened", () => {
    const shuffled = [h[2], h[0], h[3], h[1]] as PromBucket[];
    expect(histogramQuantile(0.75, shuffled)).toBeCloseTo(4.25, 12);
    // Two series with le=1 (5 each) merge to 10: rank 5 ⇒ 0 + 1·5/10.
    const dup = [{ le: 1, count: 5 }, { le: 1, count: 5 }, { le: Infinity, count: 10 }];
    expect(histogramQuantile(0.5, dup)).toBeCloseTo(0.5, 12);
    // le=2 dips to 8, flattened to 10: rank 10 is reached at le=1 ⇒ 1.
    const dip = [{ le: 1, count: 10 }, { le: 2, count: 8 }, { le: Infinity, count: 20 }];
    expect(histogramQuantile(0.5, dip)).toBeCloseTo(1, 12);
  });

  it("q=0 with an empty first bucket is NaN (0/0), as in Prometheus", () => {
    expect(histogramQuantile(0, [{ le: 1, count: 0 }, { le: 2, count: 4 }, { le: Infinity, count: 4 }])).toBeNaN();
  });

  it("does not modify its input", () => {
    const input = [{ le: 2, count: 8 }, { le: 1, count: 10 }, { le: Infinity, count: 20 }];
    const copy = structuredClone(input);
    histogramQuantile(0.5, input);
    expect(input).toEqual(copy);
  });

  it("100 requests at 15 ms give p50 15 ms and p99 19.9 ms (interpolated in the 10–20 bucket)", () => {
    const per = new Array<number>(LATENCY_BUCKET_COUNT).fill(0);
    per[latencyBucketIndex(15 * MS)] = 100;
    expect(latencyQuantileMs(0.5, per)).toBeCloseTo(10 + 10 * (50 / 100), 12);
    expect(latencyQuantileMs(0.99, per)).toBeCloseTo(10 + 10 * (99 / 100), 12);
  });

  it("a quantile always lies between 0 and the highest finite bound", () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat(50), { minLength: LATENCY_BUCKET_COUNT, maxLength: LATENCY_BUCKET_COUNT }),
        fc.double({ min: 0.001, max: 1, noNaN: true }),
        (per, q) => {
          const v = latencyQuantileMs(q, per);
          if (per.every((c) => c === 0)) return expect(v).toBeNaN();
          expect(v).toBeGreaterThanOrEqual(0);
          expect(v).toBeLessThanOrEqual(50_000);
        },
      ),
    );
  });

  it("quantiles never decrease as q grows", () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat(50), { minLength: LATENCY_BUCKET_COUNT, maxLength: LATENCY_BUCKET_COUNT }),
        fc.double({ min: 0.001, max: 1, noNaN: true }),
        fc.double({ min: 0.001, max: 1, noNaN: true }),
        (per, a, b) => {
          if (per.every((c) => c === 0)) return;
          const [lo, hi] = a <= b ? [a, b] : [b, a];
          expect(latencyQuantileMs(lo, per)).toBeLessThanOrEqual(latencyQuantileMs(hi, per) + 1e-9);
        },
      ),
    );
  });
});
