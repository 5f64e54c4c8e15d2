import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { drawDistinctPair, pickP2c, pickP2cIndex, type P2cEndpoint } from "../../src/policy/p2c.js";
import { fixedRandom, type RandomSource } from "../../src/policy/random.js";

interface Ep extends P2cEndpoint {
  name: string;
  loads: number;
}

const ep = (name: string, loads: number, ready = true): Ep => ({
  name,
  loads,
  ready,
  load: () => loads,
});

const noRandom: RandomSource = {
  next(): number {
    throw new Error("rng must not be drawn");
  },
};

describe("pickP2c", () => {
  it("returns none with reason no-ready-endpoints when nothing is ready", () => {
    expect(pickP2c([], noRandom, 0)).toEqual({ kind: "none", reason: "no-ready-endpoints" });
    expect(pickP2c([ep("a", 1, false), ep("b", 1, false)], noRandom, 0)).toEqual({
      kind: "none",
      reason: "no-ready-endpoints",
    });
  });

  it("returns the only ready endpoint without drawing or reading loads", () => {
    const only = ep("b", 5);
    only.load = () => {
      throw new Error("load must not be read");
    };
    const decision = pickP2c([ep("a", 1, false), only, ep("c", 0, false)], noRandom, 0);
    expect(decision).toMatchObject({ kind: "picked", index: 1, reason: "single-ready-endpoint" });
    expect(decision.kind === "picked" && decision.endpoint.name).toBe("b");
  });

  // n = 2: a = floor(u1·2); b = floor(u2·1) = 0, shifted to 1 when it is ≥ a.
  it.each([
    { u1: 0.25, a: 0, b: 1 },
    { u1: 0.75, a: 1, b: 0 },
  ])("vector 22: equal loads keep the first draw (a = $a, b = $b)", ({ u1, a, b }) => {
    const decision = pickP2c([ep("x", 7), ep("y", 7)], fixedRandom([u1, 0.5]), 0);
    expect(decision).toMatchObject({
      kind: "picked",
      index: a,
      reason: "equal-load-keeps-first-draw",
      pair: { aIndex: a, bIndex: b, aLoad: 7, bLoad: 7 },
    });
  });

  it("picks the lower load whichever draw it came from", () => {
    const eps = [ep("x", 1), ep("y", 9)];
    expect(pickP2c(eps, fixedRandom([0.25, 0.5]), 0)).toMatchObject({ index: 0, reason: "lower-load" });
    expect(pickP2c(eps, fixedRandom([0.75, 0.5]), 0)).toMatchObject({ index: 0, reason: "lower-load" });
  });

  it("draws among ready endpoints only and reports indices into the caller's array", () => {
    // Ready set = [1, 3, 4]; u1 = 0.5 ⇒ a = floor(1.5) = 1 → endpoint 3; u2 = 0.9 ⇒ b = floor(1.8) = 1,
    // shifted to 2 → endpoint 4.
    const eps = [ep("a", 0, false), ep("b", 5), ep("c", 0, false), ep("d", 3), ep("e", 4)];
    expect(pickP2c(eps, fixedRandom([0.5, 0.9]), 0)).toMatchObject({
      index: 3,
      reason: "lower-load",
      pair: { aIndex: 3, bIndex: 4, aLoad: 3, bLoad: 4 },
    });
  });

  it("reads the first draw's load before the second's, at the given time", () => {
    const reads: string[] = [];
    const tracked = (name: string): P2cEndpoint => ({
      ready: true,
      load: (nowUs: number) => {
        reads.push(`${name}@${nowUs}`);
        return 1;
      },
    });
    pickP2c([tracked("p"), tracked("q"), tracked("r")], fixedRandom([0.9, 0.1]), 42);
    // a = floor(2.7) = 2 (r); b = floor(0.2) = 0 (p), below a so unshifted.
    expect(reads).toEqual(["r@42", "p@42"]);
  });
});

describe("drawDistinctPair", () => {
  it("shifts the second draw past the first so the pair is distinct", () => {
    // n = 4: a = floor(0.5·4) = 2; b = floor(0.7·3) = 2 ≥ a ⇒ 3.
    expect(drawDistinctPair(fixedRandom([0.5, 0.7]), 4)).toEqual([2, 3]);
    // b = floor(0.4·3) = 1 < a ⇒ stays 1.
    expect(drawDistinctPair(fixedRandom([0.5, 0.4]), 4)).toEqual([2, 1]);
  });

  it("reaches every ordered pair of distinct indices", () => {
    const n = 4;
    const seen = new Set<string>();
    for (let i = 0; i < n; i += 1) {
      for (let j = 0; j < n - 1; j += 1) {
        const u1 = (i + 0.5) / n;
        const u2 = (j + 0.5) / (n - 1);
        seen.add(drawDistinctPair(fixedRandom([u1, u2]), n).join(","));
      }
    }
    expect(seen.size).toBe(n * (n - 1));
  });

  it("rejects fewer than two candidates", () => {
    expect(() => drawDistinctPair(fixedRandom([0.1]), 1)).toThrow(/n >= 2/);
  });
});

describe("pickP2c — properties", () => {
  const endpointsArb = fc.array(
    fc.record({ ready: fc.boolean(), loads: fc.integer({ min: 0, max: 20 }) }),
    { maxLength: 12 },
  );
  const drawsArb = fc.tuple(
    fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
    fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
  );

  it("never returns an unready endpoint, nor the strictly more loaded of its pair", () => {
    fc.assert(
      fc.property(endpointsArb, drawsArb, (specs, draws) => {
        const eps = specs.map((s, i) => ep(`e${i}`, s.loads, s.ready));
        const decision = pickP2c(eps, fixedRandom(draws), 0);
        const readyCount = eps.filter((e) => e.ready).length;
        if (readyCount === 0) {
          expect(decision.kind).toBe("none");
          return;
        }
        if (decision.kind !== "picked") throw new Error("expected a pick");
        expect(decision.endpoint.ready).toBe(true);
        expect(eps[decision.index]).toBe(decision.endpoint);
        if (readyCount === 1) return;
        if (!("pair" in decision)) throw new Error("two or more ready endpoints must be compared");
        const { aIndex, bIndex } = decision.pair;
        expect(aIndex).not.toBe(bIndex);
        expect(eps[aIndex]?.ready && eps[bIndex]?.ready).toBe(true);
        const other = decision.index === aIndex ? bIndex : aIndex;
        expect(decision.endpoint.loads).toBeLessThanOrEqual((eps[other] as Ep).loads);
      }),
    );
  });

  it("pickP2cIndex picks what pickP2c picks, with the same draws and load reads", () => {
    fc.assert(
      fc.property(endpointsArb, drawsArb, (specs, draws) => {
        const reads: string[][] = [[], []];
        const make = (log: string[]): Ep[] => specs.map((s, i) => ({ ...ep(`e${i}`, s.loads, s.ready), load: () => (log.push(`e${i}`), s.loads) }));
        const counted = (): RandomSource & { n: number } => {
          const inner = fixedRandom(draws);
          const src = { n: 0, next: () => ((src.n += 1), inner.next()) };
          return src;
        };
        const r1 = counted();
        const r2 = counted();
        const decision = pickP2c(make(reads[0] as string[]), r1, 0);
        const index = pickP2cIndex(make(reads[1] as string[]), r2, 0);
        expect(index).toBe(decision.kind === "none" ? -1 : decision.index);
        expect(r2.n).toBe(r1.n);
        expect(reads[1]).toEqual(reads[0]);
      }),
    );
  });
});
