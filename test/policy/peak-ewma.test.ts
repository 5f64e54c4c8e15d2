import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { DEFAULT_PEAK_EWMA, PeakEwma } from "../../src/policy/peak-ewma.js";

const MS_NS = 1_000_000;
const MS_US = 1_000;
const S_US = 1_000_000;

describe("PeakEwma — tower vectors", () => {
  it("vector 20: the default estimate decays while idle (10 ms default, 1 s decay)", () => {
    const ewma = new PeakEwma({ defaultRttUs: 10 * MS_US, decayUs: 1 * S_US }, 0);
    expect(ewma.load(0)).toBe(10 * MS_NS);

    const at100 = ewma.load(100 * MS_US);
    expect(at100).toBeGreaterThan(9 * MS_NS);
    expect(at100).toBeLessThan(10 * MS_NS);

    const at200 = ewma.load(200 * MS_US);
    expect(at200).toBeGreaterThan(8 * MS_NS);
    expect(at200).toBeLessThan(9 * MS_NS);
  });

  it("vector 21: compound decay gives 400 ms exactly with one pending, then 200 ms exactly", () => {
    const ewma = new PeakEwma({ defaultRttUs: 20 * MS_US, decayUs: 1 * S_US }, 0);
    expect(ewma.load(0)).toBe(20 * MS_NS);

    const sentA = ewma.start(100 * MS_US);
    expect(ewma.load(100 * MS_US)).toBeGreaterThan(20 * MS_NS);

    const sentB = ewma.start(200 * MS_US);
    expect(ewma.load(200 * MS_US)).toBeGreaterThan(40 * MS_NS);

    // A took 200 ms, above the decayed estimate: the peak replaces it; B is still pending.
    expect(ewma.complete(sentA, 300 * MS_US).reason).toBe("peak-rtt");
    expect(ewma.load(300 * MS_US)).toBe(400 * MS_NS);

    // B also took 200 ms, equal to the estimate, so the weighted average stays at 200 ms.
    expect(ewma.complete(sentB, 400 * MS_US).reason).toBe("ewma");
    expect(ewma.load(400 * MS_US)).toBe(200 * MS_NS);

    expect(ewma.load(1_400 * MS_US)).toBeLessThan(100 * MS_NS);
    expect(ewma.load(11_400 * MS_US)).toBeLessThan(0.1 * MS_NS);
  });
});

describe("PeakEwma — behaviour", () => {
  it("defaults to a 30 ms rtt and a 10 s decay, as Linkerd's balancer config", () => {
    expect(DEFAULT_PEAK_EWMA).toEqual({ defaultRttUs: 30_000, decayUs: 10_000_000 });
    const ewma = new PeakEwma(DEFAULT_PEAK_EWMA, 5 * S_US);
    expect(ewma.load(5 * S_US)).toBe(30 * MS_NS);
  });

  it("a faster response is averaged in with weight 1 − e^(−elapsed/decay)", () => {
    const ewma = new PeakEwma({ defaultRttUs: 100 * MS_US, decayUs: 1 * S_US }, 0);
    const sent = ewma.start(200 * MS_US);
    const result = ewma.complete(sent, 250 * MS_US);
    // elapsed = 250 ms since the estimate was set at 0; rtt = 50 ms.
    const w = Math.exp(-0.25);
    expect(result.reason).toBe("ewma");
    expect(result.rttEstimateNs).toBeCloseTo(100 * MS_NS * w + 50 * MS_NS * (1 - w), 3);
  });

  it("a slower response replaces the estimate regardless of elapsed time", () => {
    const ewma = new PeakEwma({ defaultRttUs: 10 * MS_US, decayUs: 1 * S_US }, 0);
    const sent = ewma.start(5 * S_US);
    expect(ewma.complete(sent, 5 * S_US + 700 * MS_US)).toEqual({ rttEstimateNs: 700 * MS_NS, reason: "peak-rtt" });
  });

  it("reading the load decays the estimate, which changes how the next sample is weighted", () => {
    const config = { defaultRttUs: 100 * MS_US, decayUs: 1 * S_US };
    const read = new PeakEwma(config, 0);
    const unread = new PeakEwma(config, 0);
    const sentRead = read.start(950 * MS_US);
    const sentUnread = unread.start(950 * MS_US);
    read.load(500 * MS_US);
    const withRead = read.complete(sentRead, 1 * S_US);
    const withoutRead = unread.complete(sentUnread, 1 * S_US);

    // Without the read: one step over 1 s. With it: 100 ms decays toward 0 over 0.5 s, then the
    // 50 ms sample is averaged in over the remaining 0.5 s.
    const w1 = Math.exp(-1);
    const wHalf = Math.exp(-0.5);
    expect(withoutRead.reason).toBe("ewma");
    expect(withoutRead.rttEstimateNs).toBeCloseTo(100 * MS_NS * w1 + 50 * MS_NS * (1 - w1), 3);
    expect(withRead.reason).toBe("ewma");
    expect(withRead.rttEstimateNs).toBeCloseTo(100 * MS_NS * wHalf * wHalf + 50 * MS_NS * (1 - wHalf), 3);
    expect(withRead.rttEstimateNs).not.toBeCloseTo(withoutRead.rttEstimateNs, 0);
  });

  it("load multiplies the estimate by pending + 1", () => {
    const ewma = new PeakEwma({ defaultRttUs: 10 * MS_US, decayUs: 1 * S_US }, 0);
    ewma.start(0);
    ewma.start(0);
    ewma.start(0);
    expect(ewma.pending).toBe(3);
    expect(ewma.load(0)).toBe(4 * 10 * MS_NS);
  });

  it("completing more requests than were started is a programming error", () => {
    const ewma = new PeakEwma(DEFAULT_PEAK_EWMA, 0);
    expect(() => ewma.complete(0, 1)).toThrow(/without a matching start/);
  });

  it("a non-positive decay is rejected", () => {
    expect(() => new PeakEwma({ defaultRttUs: 1, decayUs: 0 }, 0)).toThrow(/decayUs/);
  });
});

describe("PeakEwma — properties", () => {
  type Op = { kind: "start" } | { kind: "complete"; pick: number } | { kind: "load" };
  const opArb: fc.Arbitrary<{ op: Op; advanceUs: number }> = fc.record({
    op: fc.oneof(
      fc.constant<Op>({ kind: "start" }),
      fc.nat().map<Op>((pick) => ({ kind: "complete", pick })),
      fc.constant<Op>({ kind: "load" }),
    ),
    advanceUs: fc.integer({ min: 0, max: 5 * S_US }),
  });

  it("load is non-negative and at most max(default, largest rtt seen) × (pending + 1)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 * S_US }),
        fc.integer({ min: 1, max: 30 * S_US }),
        fc.array(opArb, { maxLength: 60 }),
        (defaultRttUs, decayUs, ops) => {
          const ewma = new PeakEwma({ defaultRttUs, decayUs }, 0);
          let nowUs = 0;
          let maxRttUs = defaultRttUs;
          const inFlight: number[] = [];
          for (const { op, advanceUs } of ops) {
            nowUs += advanceUs;
            if (op.kind === "start") inFlight.push(ewma.start(nowUs));
            if (op.kind === "complete" && inFlight.length > 0) {
              const [sent] = inFlight.splice(op.pick % inFlight.length, 1);
              maxRttUs = Math.max(maxRttUs, nowUs - (sent as number));
              ewma.complete(sent as number, nowUs);
            }
            const load = ewma.load(nowUs);
            expect(load).toBeGreaterThanOrEqual(0);
            // A relative epsilon absorbs float rounding in est·w + rtt·(1−w).
            expect(load).toBeLessThanOrEqual(maxRttUs * 1_000 * (inFlight.length + 1) * (1 + 1e-12));
          }
        },
      ),
    );
  });
});
