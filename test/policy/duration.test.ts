import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  formatDurationUs,
  parseGoDuration,
  parseLinkerdDuration,
  parseRustUnsigned,
  U16_MAX,
  U64_MAX,
} from "../../src/policy/duration.js";

const MS = 1_000;
const S = 1_000 * MS;
const MIN = 60 * S;
const H = 60 * MIN;
const D = 24 * H;

function us(text: string, parse: typeof parseLinkerdDuration): number {
  const r = parse(text);
  if (!r.ok) throw new Error(`expected ${JSON.stringify(text)} to parse, got: ${r.error}`);
  return r.us;
}

function errorOf(text: string, parse: typeof parseLinkerdDuration): string {
  const r = parse(text);
  if (r.ok) throw new Error(`expected ${JSON.stringify(text)} to be rejected, got ${r.us}us`);
  return r.error;
}

describe("parseLinkerdDuration (annotation syntax)", () => {
  it.each([
    ["300ms", 300 * MS],
    ["5s", 5 * S],
    ["1m", 1 * MIN],
    ["2h", 2 * H],
    ["1d", 1 * D],
    ["0", 0],
    [" 2s ", 2 * S],
  ])("vector 12: %j parses to %d us", (text, expected) => {
    expect(us(text, parseLinkerdDuration)).toBe(expected);
  });

  it.each(["5", "1.5s", "1m30s"])("vector 12: %j is an error", (text) => {
    expect(parseLinkerdDuration(text).ok).toBe(false);
  });

  it.each([
    ["5", "no unit"],
    ["1.5s", "fraction"],
    ["1m30s", "several units"],
    ["-1s", "negative"],
    ["us", "no number"],
    ["5S", "case-sensitive"],
    ["5us", "not one of ms, s, m, h, d"],
  ])("the error for %j says why (%s)", (text, why) => {
    expect(errorOf(text, parseLinkerdDuration)).toContain(why);
  });

  it("accepts zero with a unit and a bare zero with leading zeros", () => {
    expect(us("0ms", parseLinkerdDuration)).toBe(0);
    expect(us("00", parseLinkerdDuration)).toBe(0);
  });

  it("keeps Rust's quirk of accepting a leading plus sign", () => {
    expect(us("+5s", parseLinkerdDuration)).toBe(5 * S);
  });

  it("rejects an empty value, inner spaces and a negative zero", () => {
    for (const text of ["", "   ", "5 s", "-0"]) expect(parseLinkerdDuration(text).ok).toBe(false);
  });

  it("rejects values whose milliseconds overflow u64", () => {
    expect(parseLinkerdDuration(`${U64_MAX + 1n}ms`).ok).toBe(false);
    expect(parseLinkerdDuration(`${U64_MAX / 1000n + 1n}s`).ok).toBe(false);
    expect(parseLinkerdDuration(`${U64_MAX / 1000n}s`).ok).toBe(true);
  });

  it("trims tabs and newlines like Rust's str::trim", () => {
    expect(us("\t10s\n", parseLinkerdDuration)).toBe(10 * S);
  });

  it("property: `${n}ms` is n × 1000 us for every n", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Math.floor(Number.MAX_SAFE_INTEGER / 1000) }), (n) => {
        expect(us(`${n}ms`, parseLinkerdDuration)).toBe(n * 1000);
      }),
    );
  });

  it("property: surrounding whitespace never changes the result", () => {
    const unit = fc.constantFrom("ms", "s", "m", "h", "d");
    const pad = fc.constantFrom("", " ", "  ", "\t", "\n");
    fc.assert(
      fc.property(fc.nat(100_000), unit, pad, pad, (n, u, left, right) => {
        expect(parseLinkerdDuration(`${left}${n}${u}${right}`)).toEqual(parseLinkerdDuration(`${n}${u}`));
      }),
    );
  });

  it("property: a number without a unit is rejected unless it is zero", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000_000 }), (n) => {
        expect(parseLinkerdDuration(String(n)).ok).toBe(false);
      }),
    );
  });
});

describe("parseGoDuration (Go time.ParseDuration)", () => {
  // Go's own table (src/time/time_test.go, parseDurationTests), expressed in microseconds.
  it.each([
    ["0", 0],
    ["5s", 5 * S],
    ["30s", 30 * S],
    ["1478s", 1478 * S],
    ["-5s", -5 * S],
    ["+5s", 5 * S],
    ["-0", 0],
    ["+0", 0],
    ["5.0s", 5 * S],
    ["5.6s", 5 * S + 600 * MS],
    ["5.s", 5 * S],
    [".5s", 500 * MS],
    ["1.0s", 1 * S],
    ["1.00s", 1 * S],
    ["1.004s", 1 * S + 4 * MS],
    ["1.0040s", 1 * S + 4 * MS],
    ["100.00100s", 100 * S + 1 * MS],
    ["11us", 11],
    ["12\u00b5s", 12],
    ["12\u03bcs", 12],
    ["13ms", 13 * MS],
    ["14s", 14 * S],
    ["15m", 15 * MIN],
    ["16h", 16 * H],
    ["3h30m", 3 * H + 30 * MIN],
    ["10.5s4m", 4 * MIN + 10 * S + 500 * MS],
    ["-2m3.4s", -(2 * MIN + 3 * S + 400 * MS)],
    ["1h2m3s4ms5us6ns", 1 * H + 2 * MIN + 3 * S + 4 * MS + 5],
    ["39h9m14.425s", 39 * H + 9 * MIN + 14 * S + 425 * MS],
    ["52763797000ns", 52_763_797],
    ["0.3333333333333333333h", 20 * MIN],
    ["0.100000000000000000000h", 6 * MIN],
    ["0.830103483285477580700h", 49 * MIN + 48 * S + 372_539],
  ])("%j parses to %d us", (text, expected) => {
    expect(us(text, parseGoDuration)).toBe(expected);
  });

  it("truncates sub-microsecond parts toward zero", () => {
    expect(us("10ns", parseGoDuration)).toBe(0);
    expect(us("1500ns", parseGoDuration)).toBe(1);
    expect(us("-1500ns", parseGoDuration)).toBe(-1);
    expect(us("9007199254740993ns", parseGoDuration)).toBe(Math.trunc(9007199254740993 / 1000));
  });

  it("accepts the int64 extremes Go accepts", () => {
    expect(us("9223372036854775807ns", parseGoDuration)).toBe(Number(9223372036854775807n / 1000n));
    expect(us("-9223372036854775808ns", parseGoDuration)).toBe(Number(-9223372036854775808n / 1000n));
    expect(us("-2562047h47m16.854775808s", parseGoDuration)).toBe(Number(-9223372036854775808n / 1000n));
  });

  it.each([
    "",
    "3",
    "-",
    "s",
    ".",
    "-.",
    ".s",
    "+.s",
    "1d",
    "5 s",
    "9223372036854775810ns",
    "9223372036854775808ns",
    "-9223372036854775809ns",
    "9223372036854776us",
    "3000000h",
    "9223372036854775.808us",
    "9223372036854ms775us808ns",
  ])("%j is an error", (text) => {
    expect(parseGoDuration(text).ok).toBe(false);
  });

  it("says an empty string is an invalid duration and a bare number misses its unit", () => {
    expect(errorOf("", parseGoDuration)).toContain("invalid duration");
    expect(errorOf("10", parseGoDuration)).toContain("missing its unit");
    expect(errorOf("1d", parseGoDuration)).toContain('unknown unit "d"');
  });

  it("property: `${n}ms` is n × 1000 us, as in the annotation syntax", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 9_000_000_000_000 }), (n) => {
        expect(us(`${n}ms`, parseGoDuration)).toBe(n * 1000);
      }),
    );
  });

  it("property: a compound duration is the sum of its terms", () => {
    fc.assert(
      fc.property(fc.nat(1000), fc.nat(59), fc.nat(59), fc.nat(999), (h, m, s, ms) => {
        const expected = h * H + m * MIN + s * S + ms * MS;
        expect(us(`${h}h${m}m${s}s${ms}ms`, parseGoDuration)).toBe(expected);
      }),
    );
  });
});

describe("parseRustUnsigned", () => {
  it("accepts a leading plus and leading zeros, and rejects signs, spaces and overflow", () => {
    expect(parseRustUnsigned("+7", U16_MAX)).toEqual({ ok: true, value: 7n });
    expect(parseRustUnsigned("007", U16_MAX)).toEqual({ ok: true, value: 7n });
    expect(parseRustUnsigned("65535", U16_MAX)).toEqual({ ok: true, value: 65535n });
    for (const text of ["", "+", "-1", "-0", " 1", "1 ", "65536", "1e3", "0x10"]) {
      expect(parseRustUnsigned(text, U16_MAX).ok).toBe(false);
    }
  });
});

describe("formatDurationUs", () => {
  it("uses the largest unit that divides exactly", () => {
    expect(formatDurationUs(0)).toBe("0s");
    expect(formatDurationUs(60 * S)).toBe("1m");
    expect(formatDurationUs(250 * MS)).toBe("250ms");
    expect(formatDurationUs(1500 * MS)).toBe("1500ms");
    expect(formatDurationUs(7)).toBe("7us");
  });
});
