import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ANNOTATION_RETRY_BACKOFF, type BackoffConfig } from "../../src/policy/config.js";
import { BackoffStream, backoffBaseUs, backoffDelayUs } from "../../src/policy/exp-backoff.js";
import { fixedRandom, type RandomSource } from "../../src/policy/random.js";

const MS = 1_000;
const S = 1_000_000;

function countingRandom(value: number): RandomSource & { draws: number } {
  const rng = {
    draws: 0,
    next(): number {
      rng.draws += 1;
      return value;
    },
  };
  return rng;
}

describe("exponential backoff: annotation retries (25 ms..250 ms, jitter 1.0)", () => {
  // Vector 19: before retry k, base = min(25·2^(k−1), 250) ms and delay = base + min(U·base, 250 − base).
  const ranges: Array<[number, number, number, boolean]> = [
    [1, 25 * MS, 50 * MS, false],
    [2, 50 * MS, 100 * MS, false],
    [3, 100 * MS, 200 * MS, false],
    [4, 200 * MS, 250 * MS, true],
    [5, 250 * MS, 250 * MS, true],
    [9, 250 * MS, 250 * MS, true],
  ];

  it.each(ranges)("vector 19: the delay before retry %i lies in [%i, %i] µs", (k, lowUs, highUs, highIncluded) => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (u) => {
        const delayUs = backoffDelayUs(ANNOTATION_RETRY_BACKOFF, k - 1, fixedRandom([u]));
        expect(delayUs).toBeGreaterThanOrEqual(lowUs);
        if (highIncluded) expect(delayUs).toBeLessThanOrEqual(highUs);
        else expect(delayUs).toBeLessThan(highUs);
      }),
    );
  });

  it.each([0, 0.25, 0.5, 0.999])("vector 19: with U = %f each delay is base + min(U·base, 250 ms − base)", (u) => {
    for (let k = 1; k <= 6; k += 1) {
      const baseUs = Math.min(25 * MS * 2 ** (k - 1), 250 * MS);
      const expectedUs = baseUs + Math.min(Math.trunc(u * baseUs), 250 * MS - baseUs);
      expect(backoffDelayUs(ANNOTATION_RETRY_BACKOFF, k - 1, fixedRandom([u]))).toBe(expectedUs);
    }
  });
});

describe("exponential backoff: general behaviour", () => {
  it("draws no random number when jitter is 0", () => {
    const rng = countingRandom(0.7);
    const config: BackoffConfig = { minUs: 1 * S, maxUs: 60 * S, jitterRatio: 0 };
    expect([0, 1, 2, 6].map((i) => backoffDelayUs(config, i, rng))).toEqual([1 * S, 2 * S, 4 * S, 60 * S]);
    expect(rng.draws).toBe(0);
  });

  it("still draws a random number once the base has reached the cap", () => {
    const rng = countingRandom(0.7);
    expect(backoffDelayUs(ANNOTATION_RETRY_BACKOFF, 10, rng)).toBe(250 * MS);
    expect(rng.draws).toBe(1);
  });

  it("stops doubling at the u32 saturation point instead of overflowing", () => {
    const config: BackoffConfig = { minUs: 0, maxUs: 1 * S, jitterRatio: 0 };
    expect(backoffBaseUs(config, 1_000)).toBe(0);
    expect(backoffBaseUs({ ...config, minUs: 1 }, 1_000)).toBe(1 * S);
  });

  it("truncates the whole-second part of the jitter to whole seconds (upstream Duration arithmetic)", () => {
    const accrual: BackoffConfig = { minUs: 1 * S, maxUs: 60 * S, jitterRatio: 0.5 };
    // Base 1 s: floor(1 × U × 0.5) = 0 whole seconds and no sub-second part ⇒ exactly 1 s.
    expect(backoffDelayUs(accrual, 0, fixedRandom([0.99]))).toBe(1 * S);
    // Base 4 s, U = 0.9: floor(4 × 0.45) = 1 s of jitter (not 1.8 s).
    expect(backoffDelayUs(accrual, 2, fixedRandom([0.9]))).toBe(4 * S + Math.floor(4 * 0.45) * S);
    // Base 1.5 s, jitter 1, U = 0.5: floor(1 × 0.5) s + 0.5 s × 0.5 = 0.25 s (not 0.75 s).
    const mixed: BackoffConfig = { minUs: 1_500 * MS, maxUs: 60 * S, jitterRatio: 1 };
    expect(backoffDelayUs(mixed, 0, fixedRandom([0.5]))).toBe(1_500 * MS + 250 * MS);
  });

  it("never goes below the base nor above min(base·(1 + jitter), max)", () => {
    const configArb = fc
      .record({
        minUs: fc.integer({ min: 0, max: 120 * S }),
        spanUs: fc.integer({ min: 1, max: 120 * S }),
        jitterRatio: fc.double({ min: 0, max: 100, noNaN: true }),
      })
      .map(({ minUs, spanUs, jitterRatio }) => ({ minUs, maxUs: minUs + spanUs, jitterRatio }));
    fc.assert(
      fc.property(
        configArb,
        fc.integer({ min: 0, max: 64 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (config, index, u) => {
          const baseUs = Math.min(config.minUs * 2 ** Math.min(index, 32), config.maxUs);
          const delayUs = backoffDelayUs(config, index, fixedRandom([u]));
          expect(Number.isInteger(delayUs)).toBe(true);
          expect(delayUs).toBeGreaterThanOrEqual(baseUs);
          expect(delayUs).toBeLessThanOrEqual(Math.min(baseUs * (1 + config.jitterRatio), config.maxUs));
        },
      ),
    );
  });

  it("a stream hands out successive steps, one random draw each", () => {
    const rng = countingRandom(0);
    const stream = new BackoffStream(ANNOTATION_RETRY_BACKOFF, rng);
    const delays = Array.from({ length: 6 }, () => stream.next());
    expect(delays).toEqual([25, 50, 100, 200, 250, 250].map((ms) => ms * MS));
    expect(stream.count).toBe(6);
    expect(rng.draws).toBe(6);
  });
});
