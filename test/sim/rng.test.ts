import { describe, expect, it } from "vitest";
import { forkRng, RngRegistry, Xoshiro128 } from "../../src/sim/rng.js";

const draw = (seed: string | number, label: string, n = 5): number[] => {
  const r = forkRng(seed, label);
  return Array.from({ length: n }, () => r.next());
};

describe("random streams forked by label", () => {
  it("give the same numbers for the same seed and label", () => {
    expect(draw(7, "workload/checkout")).toEqual(draw(7, "workload/checkout"));
  });

  it("do not depend on which other streams exist or were created first", () => {
    const a = new RngRegistry("7");
    const checkoutFirst = a.fork("workload/checkout");
    const first = [checkoutFirst.next(), checkoutFirst.next()];
    const b = new RngRegistry("7");
    const auth = b.fork("workload/auth");
    auth.next();
    const checkoutSecond = b.fork("workload/checkout");
    expect([checkoutSecond.next(), checkoutSecond.next()]).toEqual(first);
  });

  it("differ across labels and across seeds", () => {
    expect(draw(7, "a")).not.toEqual(draw(7, "b"));
    expect(draw(7, "a")).not.toEqual(draw(8, "a"));
  });

  it("treat a numeric seed as its decimal string", () => {
    expect(draw(42, "x")).toEqual(draw("42", "x"));
  });

  it("refuse to fork the same label twice in one run", () => {
    const reg = new RngRegistry("1");
    reg.fork("net/a->b");
    expect(() => reg.fork("net/a->b")).toThrow(/already forked/);
    expect(reg.labels()).toEqual(["net/a->b"]);
  });

  it("produce uniforms on [0, 1) with the right mean and variance", () => {
    const r = forkRng(3, "u");
    const n = 200_000;
    let sum = 0;
    let sq = 0;
    let outside = 0;
    for (let i = 0; i < n; i++) {
      const u = r.next();
      if (!(u >= 0 && u < 1)) outside += 1;
      sum += u;
      sq += u * u;
    }
    expect(outside).toBe(0);
    const mean = sum / n;
    const variance = sq / n - mean * mean;
    // sd of the sample mean is sqrt(1/12/n) ≈ 6.5e-4; allow 5 sd.
    expect(Math.abs(mean - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / n));
    expect(Math.abs(variance - 1 / 12)).toBeLessThan(0.002);
  });

  it("are xoshiro128**: the reference sequence from state (1, 2, 3, 4)", () => {
    // By the algorithm's definition: out = rotl(s1·5, 7)·9, then the xor-shift update. From
    // (1, 2, 3, 4): rotl(10, 7)·9 = 11520; the state becomes (7, 0, 1026, 12288), so 0; then
    // (12295, 1029, 1026, 25165824), so rotl(5145, 7)·9 = 5927040.
    const g = new Xoshiro128(1, 2, 3, 4);
    expect([g.nextUint32(), g.nextUint32(), g.nextUint32()]).toEqual([11520, 0, 5927040]);
  });

  it("never start from the all-zero state, the generator's fixed point", () => {
    const g = new Xoshiro128(0, 0, 0, 0);
    const outs = Array.from({ length: 8 }, () => g.nextUint32());
    expect(outs.some((x) => x !== 0)).toBe(true);
  });

  it("build a double from 27 + 26 bits of two outputs, so it lies in [0, 1)", () => {
    const top = new Xoshiro128(1, 2, 3, 4);
    // Two outputs 11520 and 0: (11520 >>> 5)·2^26 / 2^53.
    expect(top.nextDouble()).toBe(((11520 >>> 5) * 2 ** 26) / 2 ** 53);
  });
});
