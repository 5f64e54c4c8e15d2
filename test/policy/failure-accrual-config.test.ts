import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { parseFailureAccrualConfig, parseRustF32 } from "../../src/policy/failure-accrual-config.js";

const SVC = "Service default/web";
const S = 1_000_000;

function accrual(mode: string | undefined, settings: Record<string, unknown> = {}): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (mode !== undefined) out["balancer.linkerd.io/failure-accrual"] = mode;
  for (const [k, v] of Object.entries(settings)) out[`balancer.linkerd.io/failure-accrual-consecutive-${k}`] = v;
  return out;
}

describe("balancer.linkerd.io/failure-accrual annotations", () => {
  it("vector 24: `consecutive` alone gives max failures 7, penalties 1s..60s, jitter 0.5", () => {
    expect(parseFailureAccrualConfig(accrual("consecutive"), SVC)).toEqual({
      value: { maxFailures: 7, minPenaltyUs: 1 * S, maxPenaltyUs: 60 * S, jitterRatio: 0.5 },
      diagnostics: [],
    });
  });

  it.each([
    ["min > max", { "min-penalty": "10s", "max-penalty": "5s" }, "failure-accrual-min-exceeds-max"],
    ["max 0", { "min-penalty": "0", "max-penalty": "0s" }, "failure-accrual-max-penalty-zero"],
    ["jitter 101", { "jitter-ratio": "101" }, "failure-accrual-jitter-invalid"],
  ])("vector 24: %s is an error and leaves no failure accrual", (_name, settings, code) => {
    const parsed = parseFailureAccrualConfig(accrual("consecutive", settings), SVC);
    expect(parsed.value).toBeUndefined();
    expect(parsed.diagnostics.map((d) => [d.severity, d.code])).toEqual([["error", code]]);
    expect(parsed.diagnostics[0]?.message).toContain("turns failure accrual off");
  });

  it("reads every setting when given", () => {
    const parsed = parseFailureAccrualConfig(
      accrual("consecutive", { "max-failures": "3", "min-penalty": "250ms", "max-penalty": "2m", "jitter-ratio": "0" }),
      SVC,
    );
    expect(parsed.value).toEqual({ maxFailures: 3, minPenaltyUs: 250_000, maxPenaltyUs: 120 * S, jitterRatio: 0 });
  });

  it("has no breaker without the mode annotation, and warns about orphaned settings", () => {
    expect(parseFailureAccrualConfig(undefined, SVC)).toEqual({ value: undefined, diagnostics: [] });
    const orphan = parseFailureAccrualConfig(accrual(undefined, { "max-failures": "3" }), SVC);
    expect(orphan.value).toBeUndefined();
    expect(orphan.diagnostics.map((d) => [d.severity, d.code])).toEqual([["warning", "failure-accrual-without-mode"]]);
  });

  it.each(["Consecutive", "consecutive ", "success-rate", ""])("rejects the mode %j", (mode) => {
    const parsed = parseFailureAccrualConfig(accrual(mode), SVC);
    expect(parsed.value).toBeUndefined();
    expect(parsed.diagnostics[0]?.code).toBe("failure-accrual-mode-invalid");
  });

  it.each([
    ["max-failures", "-1"],
    ["max-failures", "4294967296"],
    ["max-failures", "7.0"],
    ["min-penalty", "1.5s"],
    ["max-penalty", "60"],
    ["jitter-ratio", "half"],
    ["jitter-ratio", " 0.5"],
    ["jitter-ratio", "NaN"],
    ["jitter-ratio", "inf"],
    ["jitter-ratio", "-0.1"],
  ])("an invalid %s of %j leaves no failure accrual", (key, text) => {
    const parsed = parseFailureAccrualConfig(accrual("consecutive", { [key]: text }), SVC);
    expect(parsed.value).toBeUndefined();
    expect(parsed.diagnostics.some((d) => d.severity === "error")).toBe(true);
  });

  it("accepts the jitter bounds 0 and 100 and Rust float forms", () => {
    for (const [text, value] of [["100", 100], ["1e2", 100], [".5", 0.5], ["+0.25", 0.25], ["2.", 2]] as const) {
      const parsed = parseFailureAccrualConfig(accrual("consecutive", { "jitter-ratio": text }), SVC);
      expect(parsed.value?.jitterRatio).toBe(value);
    }
  });

  it("stores the jitter ratio rounded to f32, as the controller does", () => {
    const parsed = parseFailureAccrualConfig(accrual("consecutive", { "jitter-ratio": "0.1" }), SVC);
    expect(parsed.value?.jitterRatio).toBe(Math.fround(0.1));
  });

  it("accepts max failures 0 but warns that the breaker never trips", () => {
    const parsed = parseFailureAccrualConfig(accrual("consecutive", { "max-failures": "0" }), SVC);
    expect(parsed.value?.maxFailures).toBe(0);
    expect(parsed.diagnostics.map((d) => d.code)).toEqual(["failure-accrual-never-trips"]);
  });

  it("property: any ordered pair of penalties in whole seconds is accepted as given", () => {
    fc.assert(
      fc.property(fc.nat(3600), fc.integer({ min: 1, max: 3600 }), (a, b) => {
        const [min, max] = [Math.min(a, b), Math.max(a, b)];
        const parsed = parseFailureAccrualConfig(
          accrual("consecutive", { "min-penalty": `${min}s`, "max-penalty": `${max}s` }),
          SVC,
        );
        expect(parsed.value).toMatchObject({ minPenaltyUs: min * S, maxPenaltyUs: max * S });
      }),
    );
  });
});

describe("parseRustF32", () => {
  it("follows Rust's float grammar", () => {
    expect(parseRustF32("infinity")).toBe(Number.POSITIVE_INFINITY);
    expect(parseRustF32("-INF")).toBe(Number.NEGATIVE_INFINITY);
    expect(parseRustF32("nan")).toBeNaN();
    for (const bad of ["", ".", "e5", "1e", "0x1", "1_0", " 1"]) expect(parseRustF32(bad)).toBeUndefined();
  });
});
