// The latency recorder counts values straight into the HDR layout's slots and hands them to
// hdr-histogram-js in bulk: the histogram must end up exactly as if every value had been recorded
// one by one, for any values.

import fc from "fast-check";
import type { Histogram } from "hdr-histogram-js";
import { describe, expect, it } from "vitest";
import { hdrCountsIndex, hdrValueAt, LatencyCounts, newLatencyHistogram, ResponseTally } from "../../src/mesh/metrics-series.js";

interface Equivalents {
  lowestEquivalentValue(v: number): number;
  highestEquivalentValue(v: number): number;
}
const eq = (h: Histogram): Equivalents => h as unknown as Equivalents;
const libIndex = (h: Histogram, v: number): number => (h as unknown as { countsArrayIndex(v: number): number }).countsArrayIndex(v);

describe("HDR slots counted in bulk", () => {
  it("put every value in the slot hdr-histogram-js would, and each slot's lowest value back in it", () => {
    const h = newLatencyHistogram();
    const edges = [0, 1, 1023, 1024, 2047, 2048, 2049, 4095, 4096, 1e6, 2 ** 30, 2 ** 31 - 1];
    for (const v of edges) expect(hdrCountsIndex(v), String(v)).toBe(libIndex(h, v));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (v) => {
        const i = hdrCountsIndex(v);
        expect(i).toBe(libIndex(h, v));
        expect(hdrCountsIndex(hdrValueAt(i))).toBe(i);
        expect(hdrValueAt(i)).toBeLessThanOrEqual(v);
      }),
    );
  });

  it("give the histogram recording each value would: counts, percentiles, mean, extremes' slots", () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.integer({ min: 0, max: 5_000 }), fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.constant(2 ** 33), fc.double({ min: 0, max: 1e7, noNaN: true })), { minLength: 1, maxLength: 300 }),
        (values) => {
          const direct = newLatencyHistogram();
          const bulk = new LatencyCounts();
          for (const v of values) {
            direct.recordValue(v);
            bulk.record(v);
          }
          const h = bulk.histogram;
          expect(h.totalCount).toBe(direct.totalCount);
          // The raw extremes the histogram keeps are each slot's lowest value, not the value
          // itself; their equivalence classes (what it reports) are the same.
          expect(eq(h).lowestEquivalentValue(h.minNonZeroValue)).toBe(eq(direct).lowestEquivalentValue(direct.minNonZeroValue));
          expect(eq(h).highestEquivalentValue(h.maxValue)).toBe(eq(direct).highestEquivalentValue(direct.maxValue));
          expect(h.mean).toBe(direct.mean);
          for (const p of [0, 1, 25, 50, 90, 99, 99.9, 100]) expect(h.getValueAtPercentile(p), `p${p}`).toBe(direct.getValueAtPercentile(p));
        },
      ),
    );
  });

  it("counts a slot past its 16-bit limit exactly, read before, at and after the limit", () => {
    const bulk = new LatencyCounts();
    const direct = newLatencyHistogram();
    const n = 3 * 65_536 + 7;
    for (let k = 1; k <= n; k += 1) {
      bulk.record(1500);
      direct.recordValue(1500);
      if (k % 2 === 1) bulk.record(900); // a second slot, odd times
      if (k % 2 === 1) direct.recordValue(900);
      if (k === 65_535 || k === 65_536 || k === 65_537) expect(bulk.histogram.totalCount).toBe(direct.totalCount);
    }
    expect(bulk.histogram.totalCount).toBe(n + Math.ceil(n / 2));
    for (const p of [10, 33.3, 34, 50, 100]) expect(bulk.histogram.getValueAtPercentile(p), `p${p}`).toBe(direct.getValueAtPercentile(p));
  });

  it("keeps recording after the histogram was read", () => {
    const bulk = new LatencyCounts();
    bulk.record(10);
    expect(bulk.histogram.totalCount).toBe(1);
    bulk.record(20);
    bulk.record(20);
    expect(bulk.histogram.totalCount).toBe(3);
    expect(bulk.histogram.getValueAtPercentile(100)).toBe(20);
  });
});

describe("response tallies", () => {
  it("count each key as a map would, in first-seen order", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 6 }), { maxLength: 200 }), (keys) => {
        const tally = new ResponseTally();
        const expected = new Map<number, number>();
        for (const k of keys) {
          tally.add(k);
          expected.set(k, (expected.get(k) ?? 0) + 1);
        }
        expect([...tally.entries()]).toEqual([...expected]);
      }),
    );
  });
});
