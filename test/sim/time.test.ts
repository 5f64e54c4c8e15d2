import { describe, expect, it } from "vitest";
import { durationUs, formatDurationUs, parseDurationUs } from "../../src/sim/time.js";

describe("human durations", () => {
  it.each([
    ["150us", 150],
    ["300ms", 300_000],
    ["1s", 1_000_000],
    ["1.5s", 1_500_000],
    ["1m30s", 90_000_000],
    ["2h", 7_200_000_000],
    ["1h2m3s4ms5us", 3_723_004_005],
    ["0", 0],
    [" 5s ", 5_000_000],
    [42, 42],
  ] as const)("%s is %d µs", (text, us) => {
    expect(durationUs(text)).toBe(us);
  });

  it.each([
    ["", /empty/],
    ["5", /no unit/],
    ["5 s", /expected <number><unit>/],
    ["5d", /unknown unit "d"/],
    ["-5s", /negative/],
    ["1.0000001ms", /whole number of microseconds/],
    ["abc", /expected <number><unit>/],
  ] as const)("%j is rejected with a precise reason", (text, reason) => {
    const r = parseDurationUs(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(reason);
  });

  it("rejects negative and fractional plain numbers", () => {
    expect(parseDurationUs(-1).ok).toBe(false);
    expect(parseDurationUs(1.5).ok).toBe(false);
  });

  it.each([
    [0, "0s"],
    [150, "150us"],
    [300_000, "300ms"],
    [90_000_000, "1m30s"],
    [3_723_004_005, "1h2m3s4005us"],
  ] as const)("formats %d µs as %s, which parses back", (us, text) => {
    expect(formatDurationUs(us)).toBe(text);
    expect(durationUs(text)).toBe(us);
  });
});
