// Duration parsers for the two syntaxes Linkerd 2.16 accepts, plus Rust's unsigned-integer parse.
// Mirrors `parse_duration` in policy-controller/k8s/index/src/outbound/index.rs @ version-2.16
// (annotations) and Go's `time.ParseDuration` (ServiceProfile `timeout`, `retryBudget.ttl`;
// HTTPRoute `timeouts.request` via K8sDuration). Differences: results are integer microseconds
// (sub-µs parts truncate toward zero); values above 2^53 µs (~285 years) lose precision.

export type DurationResult = { ok: true; us: number } | { ok: false; error: string };

export type UnsignedResult = { ok: true; value: bigint } | { ok: false; error: string };

export const U16_MAX = 65_535n;
export const U32_MAX = 4_294_967_295n;
export const U64_MAX = 18_446_744_073_709_551_615n;

/**
 * Rust's `str::parse::<uN>()`: an optional `+`, then ASCII digits, value ≤ `max`. No whitespace,
 * no `-` (not even `-0`). Leading zeros are fine.
 */
export function parseRustUnsigned(text: string, max: bigint): UnsignedResult {
  if (text === "") return { ok: false, error: "the value is empty" };
  const digits = text.startsWith("+") ? text.slice(1) : text;
  if (!/^[0-9]+$/.test(digits)) {
    const why = text.startsWith("-") ? "negative numbers are not allowed" : "it is not an unsigned integer";
    return { ok: false, error: `"${text}": ${why}` };
  }
  const value = BigInt(digits);
  if (value > max) return { ok: false, error: `"${text}" is larger than the maximum ${max}` };
  return { ok: true, value };
}

// Rust's `str::trim` strips Unicode White_Space, which differs from JS `trim` (U+0085 yes, U+FEFF no).
const RUST_WHITESPACE = "[\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]";
const RUST_TRIM = new RegExp(`^${RUST_WHITESPACE}+|${RUST_WHITESPACE}+$`, "g");

const LINKERD_UNIT_MS: Readonly<Record<string, bigint>> = {
  ms: 1n,
  s: 1_000n,
  m: 60_000n,
  h: 3_600_000n,
  d: 86_400_000n,
};

/**
 * Linkerd's annotation duration: trim; split after the last ASCII digit; the part before must be a
 * u64, the part after one of `ms s m h d`. A bare `0` is allowed. `5`, `1.5s`, `1m30s`, `us`, `-1s`
 * are errors. Quirk kept: Rust's integer parse accepts a leading `+`, so `+5s` is 5 s.
 */
export function parseLinkerdDuration(text: string): DurationResult {
  const s = text.replace(RUST_TRIM, "");
  let lastDigit = -1;
  for (let i = s.length - 1; i >= 0; i--) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      lastDigit = i;
      break;
    }
  }
  if (lastDigit < 0) {
    return { ok: false, error: `"${text}" contains no number (expected an integer followed by ms, s, m, h or d)` };
  }
  const magnitudeText = s.slice(0, lastDigit + 1);
  const unit = s.slice(lastDigit + 1);
  const magnitude = parseRustUnsigned(magnitudeText, U64_MAX);
  if (!magnitude.ok) return { ok: false, error: explainBadMagnitude(text, magnitudeText) };
  if (unit === "" && magnitude.value === 0n) return { ok: true, us: 0 };
  if (unit === "") {
    return { ok: false, error: `"${text}" has no unit (only 0 may be written bare; add ms, s, m, h or d)` };
  }
  const perUnitMs = LINKERD_UNIT_MS[unit];
  if (perUnitMs === undefined) {
    const hint = LINKERD_UNIT_MS[unit.toLowerCase()] !== undefined ? " (units are case-sensitive)" : "";
    return { ok: false, error: `"${text}" has unit "${unit}", which is not one of ms, s, m, h, d${hint}` };
  }
  const ms = magnitude.value * perUnitMs;
  if (ms > U64_MAX) return { ok: false, error: `"${text}" overflows when converted to milliseconds` };
  return { ok: true, us: Number(ms * 1000n) };
}

function explainBadMagnitude(text: string, magnitudeText: string): string {
  if (/^[+]?[0-9]*\.[0-9]*$/.test(magnitudeText)) {
    return `"${text}" has a fraction; Linkerd annotation durations are whole numbers (use ms)`;
  }
  if (magnitudeText.startsWith("-")) return `"${text}" is negative; durations cannot be negative`;
  if (/[0-9][^0-9]+[0-9]/.test(magnitudeText)) {
    return `"${text}" combines several units; Linkerd annotation durations take one integer and one unit (e.g. 90s)`;
  }
  if (/^[+]?[0-9]+$/.test(magnitudeText)) return `"${text}" is too large`;
  return `"${text}" is not an integer followed by a unit (ms, s, m, h or d)`;
}

const GO_UNIT_NS: Readonly<Record<string, bigint>> = {
  ns: 1n,
  us: 1_000n,
  "\u00b5s": 1_000n,
  "\u03bcs": 1_000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

const TWO_POW_63 = 1n << 63n;

/**
 * Go's `time.ParseDuration`: `[-+]?` then one or more `<decimal><unit>` (decimal may have a fraction,
 * `.5` and `5.` are fine), units `ns us µs μs ms s m h`; a lone `0` needs no unit; `""` is an error.
 * Negative results are returned as negative (callers validate). Range is Go's int64 nanoseconds.
 */
export function parseGoDuration(text: string): DurationResult {
  const invalid = (why: string): DurationResult => ({ ok: false, error: `invalid duration "${text}": ${why}` });
  let s = text;
  let negative = false;
  if (s.startsWith("-") || s.startsWith("+")) {
    negative = s.startsWith("-");
    s = s.slice(1);
  }
  if (s === "0") return { ok: true, us: 0 };
  if (s === "") return invalid("it is empty");
  let totalNs = 0n;
  while (s !== "") {
    const term = readGoTerm(s);
    if (typeof term === "string") return invalid(term);
    s = term.rest;
    totalNs += term.ns;
    if (totalNs > TWO_POW_63) return invalid("it overflows Go's int64 nanoseconds");
  }
  if (!negative && totalNs > TWO_POW_63 - 1n) return invalid("it overflows Go's int64 nanoseconds");
  const signedNs = negative ? -totalNs : totalNs;
  // BigInt division truncates toward zero, which is the documented sub-microsecond rounding.
  return { ok: true, us: Number(signedNs / 1000n) };
}

/** One `<decimal><unit>` term of a Go duration; a string is the error. */
function readGoTerm(s: string): { ns: bigint; rest: string } | string {
  const m = /^([0-9]*)(?:\.([0-9]*))?/.exec(s);
  const intDigits = m?.[1] ?? "";
  const fracDigits = m?.[2];
  if (intDigits === "" && (fracDigits === undefined || fracDigits === "")) return "expected a number";
  let rest = s.slice(m?.[0].length ?? 0);
  const unitMatch = /^[^0-9.]*/.exec(rest);
  const unit = unitMatch?.[0] ?? "";
  if (unit === "") return "a number is missing its unit (ns, us, ms, s, m or h)";
  rest = rest.slice(unit.length);
  const perUnitNs = GO_UNIT_NS[unit];
  if (perUnitNs === undefined) return `unknown unit "${unit}"`;
  const whole = intDigits === "" ? 0n : BigInt(intDigits);
  if (whole > TWO_POW_63) return "it overflows Go's int64 nanoseconds";
  let ns = whole * perUnitNs;
  if (ns > TWO_POW_63) return "it overflows Go's int64 nanoseconds";
  const { value: frac, scale } = goLeadingFraction(fracDigits ?? "");
  if (frac > 0n) {
    // Go computes the fractional part in float64: uint64(float64(f) * (float64(unit) / scale)).
    ns += BigInt(Math.trunc(Number(frac) * (Number(perUnitNs) / scale)));
    if (ns > TWO_POW_63) return "it overflows Go's int64 nanoseconds";
  }
  return { ns, rest };
}

/** Go's `leadingFraction`: digits accumulate until the next one would overflow, then are skipped. */
function goLeadingFraction(digits: string): { value: bigint; scale: number } {
  let value = 0n;
  let scale = 1;
  for (const c of digits) {
    if (value > (TWO_POW_63 - 1n) / 10n) break;
    const next = value * 10n + BigInt(c);
    if (next > TWO_POW_63) break;
    value = next;
    scale *= 10;
  }
  return { value, scale };
}

/** Compact human form for messages: the largest unit that divides exactly (`1m`, `250ms`, `7us`). */
export function formatDurationUs(us: number): string {
  if (us === 0) return "0s";
  const units: Array<[string, number]> = [["h", 3_600_000_000], ["m", 60_000_000], ["s", 1_000_000], ["ms", 1_000]];
  for (const [name, size] of units) {
    if (us % size === 0) return `${us / size}${name}`;
  }
  return `${us}us`;
}
