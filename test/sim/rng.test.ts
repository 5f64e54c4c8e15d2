import { describe, expect, it } from "vitest";
import { forkRng, RngRegistry } from "../../src/sim/rng.js";

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
});
