// The small value languages: rates, durations without units, distributions and their printed form.

import { describe, expect, it } from "vitest";
import { formatDistribution, formatRate, parseRate, parseScenarioDistribution, parseScenarioDuration } from "../../src/scenario/values.js";
import type { DistributionSpec } from "../../src/sim/distributions.js";

describe("rates", () => {
  it.each<[unknown, number]>([
    ["1500/s", 1500],
    ["90/m", 1.5],
    ["7200/h", 2],
    ["0.5/s", 0.5],
    [250, 250],
  ])("%s is %d per second", (text, rps) => {
    expect(parseRate(text)).toEqual({ ok: true, value: rps });
  });

  it.each(["1500", "1500/d", "fast", "-5/s"])("%s is refused", (text) => {
    expect(parseRate(text).ok).toBe(false);
  });

  it.each([1500, 1.5, 1 / 60, 2 / 3600])("formats %d per second so it parses back", (rps) => {
    const back = parseRate(formatRate(rps));
    expect(back.ok && back.value).toBeCloseTo(rps, 12);
  });
});

describe("scenario durations", () => {
  it("refuses bare numbers other than 0, which have no unit", () => {
    expect(parseScenarioDuration(0)).toEqual({ ok: true, value: 0 });
    expect(parseScenarioDuration(5)).toMatchObject({ ok: false, error: "5 has no unit; write e.g. 5ms or 5s" });
    expect(parseScenarioDuration("1m30s")).toEqual({ ok: true, value: 90_000_000 });
  });
});

describe("distributions", () => {
  it("reads a bare duration as a constant", () => {
    expect(parseScenarioDistribution("5ms")).toEqual({ ok: true, value: { dist: "constant", valueUs: 5000 } });
  });

  it("refuses a unitless number inside a mapping, at its key", () => {
    expect(parseScenarioDistribution({ dist: "exponential", mean: 4 })).toMatchObject({ ok: false, path: ["mean"] });
  });

  it.each<Record<string, unknown>>([
    { dist: "constant", value: "150us" },
    { dist: "uniform", min: "50ms", max: "300ms" },
    { dist: "exponential", mean: "4ms" },
    { dist: "normal", mean: "31ms", stddev: "2ms" },
    { dist: "lognormal", median: "4ms", p99: "25ms" },
    { dist: "lognormal", mu: 8.3, sigma: 0.8 },
    { dist: "erlang", k: 3, mean: "6ms" },
    { dist: "empirical", percentiles: { 0: "1ms", 50: "4ms", 100: "50ms" } },
  ])("prints %o back in the form it was written", (written) => {
    const r = parseScenarioDistribution(written);
    if (!r.ok) throw new Error(r.error);
    expect(formatDistribution(r.value)).toEqual(written);
    const again = parseScenarioDistribution(formatDistribution(r.value));
    expect(again.ok && (again.value as DistributionSpec)).toEqual(r.value);
  });
});
