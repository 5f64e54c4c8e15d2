import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  sampleWeighted,
  selectFirstAvailable,
  selectRandomAvailable,
  type DistributeBackend,
} from "../../src/policy/distribute.js";
import { fixedRandom, type RandomSource } from "../../src/policy/random.js";

interface Backend extends DistributeBackend {
  name: string;
}
const be = (name: string, weight: number, ready = true): Backend => ({ name, weight, ready });

/** A small seeded generator (mulberry32) for long-run frequency checks. */
function seeded(seed: number): RandomSource {
  let a = seed >>> 0;
  return {
    next(): number {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}

function pickedName(decision: ReturnType<typeof selectRandomAvailable<Backend>>): string | undefined {
  return decision.kind === "picked" ? decision.backend.name : undefined;
}

describe("selectRandomAvailable — TrafficSplit vectors (proxy side)", () => {
  it("vector 29: a weight-0 dstOverride is dropped, so every request goes to a", () => {
    const backends = [be("a", 10_000), be("b", 0)];
    for (const u of [0, 0.3, 0.5, 0.9999]) {
      expect(pickedName(selectRandomAvailable(backends, fixedRandom([u])))).toBe("a");
    }
  });

  it("vector 30: decimillis 5000/15000 split 25%/75% at the cumulative boundary", () => {
    const backends = [be("a", 5_000), be("b", 15_000)];
    // A uniform point u·20000 falls in a for u < 0.25, in b from 0.25 on.
    expect(pickedName(selectRandomAvailable(backends, fixedRandom([0])))).toBe("a");
    expect(pickedName(selectRandomAvailable(backends, fixedRandom([0.2499])))).toBe("a");
    expect(pickedName(selectRandomAvailable(backends, fixedRandom([0.25])))).toBe("b");
    expect(pickedName(selectRandomAvailable(backends, fixedRandom([0.9999])))).toBe("b");
  });
});

describe("selectRandomAvailable — availability skip", () => {
  it("a ready first draw is picked with reason sampled-ready and one draw", () => {
    let draws = 0;
    const rng: RandomSource = { next: () => (draws++, 0.1) };
    const decision = selectRandomAvailable([be("a", 1), be("b", 1)], rng);
    expect(decision).toMatchObject({ kind: "picked", index: 0, reason: "sampled-ready", skipped: [] });
    expect(draws).toBe(1);
  });

  it("an unready draw is zeroed for this request and the rest are resampled by weight", () => {
    // Draw 1: u = 0.1 of total 4 ⇒ a (weight 1, unready). Draw 2 among b, c (2 + 1 = 3):
    // u = 0.7 ⇒ 2.1 ≥ 2 ⇒ c.
    const backends = [be("a", 1, false), be("b", 2), be("c", 1)];
    const decision = selectRandomAvailable(backends, fixedRandom([0.1, 0.7]));
    expect(decision).toMatchObject({ kind: "picked", index: 2, reason: "resampled-past-unready", skipped: [0] });
  });

  it("when every backend is unready it tries each once and returns all-backends-unavailable", () => {
    let draws = 0;
    const rng: RandomSource = { next: () => (draws++, 0.5) };
    const backends = [be("a", 3, false), be("b", 0, false), be("c", 2, false)];
    const decision = selectRandomAvailable(backends, rng);
    expect(decision.kind).toBe("none");
    expect(decision.reason).toBe("all-backends-unavailable");
    expect([...decision.skipped].sort()).toEqual([0, 2]);
    expect(draws).toBe(2);
  });

  it("the zeroing is per request: the next request may pick the backend again once it is ready", () => {
    const backends = [be("a", 1, false), be("b", 1)];
    expect(pickedName(selectRandomAvailable(backends, fixedRandom([0.1, 0.1])))).toBe("b");
    backends[0] = be("a", 1, true);
    expect(pickedName(selectRandomAvailable(backends, fixedRandom([0.1])))).toBe("a");
  });

  it("reports no-weighted-backends when all weights are zero and no-backends for an empty list", () => {
    expect(selectRandomAvailable([be("a", 0), be("b", 0)], fixedRandom([0.5]))).toEqual({
      kind: "none",
      reason: "no-weighted-backends",
      skipped: [],
    });
    expect(selectRandomAvailable([], fixedRandom([0.5]))).toMatchObject({ kind: "none", reason: "no-backends" });
  });

  it("treats negative or non-finite weights as dropped", () => {
    const backends = [be("neg", -5), be("nan", Number.NaN), be("ok", 1)];
    expect(pickedName(selectRandomAvailable(backends, fixedRandom([0.01])))).toBe("ok");
  });
});

describe("selectFirstAvailable", () => {
  it("picks the first ready backend in order", () => {
    const decision = selectFirstAvailable([be("a", 1, false), be("b", 1), be("c", 1)]);
    expect(decision).toMatchObject({ kind: "picked", index: 1, reason: "first-ready" });
  });

  it("returns all-backends-unavailable when none is ready", () => {
    expect(selectFirstAvailable([be("a", 1, false)])).toMatchObject({ kind: "none", reason: "all-backends-unavailable" });
    expect(selectFirstAvailable([])).toMatchObject({ kind: "none", reason: "no-backends" });
  });
});

describe("sampleWeighted", () => {
  it("maps a uniform point to the first bucket whose cumulative weight exceeds it", () => {
    // cumulative: 2, 2, 5
    expect(sampleWeighted([2, 0, 3], fixedRandom([0.39]))).toBe(0); // 1.95
    expect(sampleWeighted([2, 0, 3], fixedRandom([0.4]))).toBe(2); // 2.0
    expect(sampleWeighted([0, 0], fixedRandom([0.4]))).toBeUndefined();
  });
});

describe("selectRandomAvailable — properties", () => {
  const backendsArb = fc.array(
    fc.record({ weight: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 20 })), ready: fc.boolean() }),
    { minLength: 1, maxLength: 6 },
  );

  it("long-run frequencies approach weight / ready weight, and weight-0 or unready backends are never picked", () => {
    const samples = 20_000;
    fc.assert(
      fc.property(backendsArb, fc.integer(), (specs, seed) => {
        const backends = specs.map((s, i) => be(`b${i}`, s.weight, s.ready));
        const readyWeight = specs.reduce((sum, s) => sum + (s.ready ? s.weight : 0), 0);
        const rng = seeded(seed);
        const counts = specs.map(() => 0);
        // Plain checks in the hot loop (expect() per sample is slow); assert once afterwards.
        let badPicks = 0;
        for (let i = 0; i < samples; i += 1) {
          const decision = selectRandomAvailable(backends, rng);
          if (decision.kind !== "picked") continue;
          if (!(decision.backend.weight > 0 && decision.backend.ready)) badPicks += 1;
          counts[decision.index] = (counts[decision.index] as number) + 1;
        }
        expect(badPicks).toBe(0);
        const picked = counts.reduce((a, b) => a + b, 0);
        expect(picked).toBe(readyWeight === 0 ? 0 : samples);
        if (readyWeight === 0) return;
        specs.forEach((s, i) => {
          const p = s.ready ? s.weight / readyWeight : 0;
          // Each count is Binomial(samples, p): allow six standard deviations (plus one for p ≈ 0|1).
          const tolerance = 6 * Math.sqrt(samples * p * (1 - p)) + 1;
          expect(Math.abs((counts[i] as number) - samples * p)).toBeLessThanOrEqual(tolerance);
        });
      }),
      { numRuns: 40 },
    );
  });
});
