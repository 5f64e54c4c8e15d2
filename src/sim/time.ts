// Virtual time is an integer number of microseconds. Scenario files speak in human durations
// (`150us`, `300ms`, `1m30s`); this file turns them into microseconds and back, and says exactly
// what is wrong with a bad one.

export const US_PER_MS = 1_000;
export const US_PER_S = 1_000_000;
export const US_PER_MIN = 60 * US_PER_S;
export const US_PER_H = 60 * US_PER_MIN;

const UNIT_US: Readonly<Record<string, number>> = {
  us: 1,
  µs: 1,
  ms: US_PER_MS,
  s: US_PER_S,
  m: US_PER_MIN,
  h: US_PER_H,
};

export type DurationResult = { ok: true; us: number } | { ok: false; error: string };

const PART = /(\d+(?:\.\d+)?)(us|µs|ms|s|m|h)/y;

/**
 * Parse a human duration into integer microseconds: one or more `<number><unit>` parts with units
 * `us`, `ms`, `s`, `m`, `h` (`150us`, `300ms`, `1.5s`, `1m30s`, `2h`), or a bare `0`. A plain number
 * is taken as microseconds. Fractions must land on a whole microsecond.
 */
export function parseDurationUs(input: string | number): DurationResult {
  if (typeof input === "number") {
    if (Number.isSafeInteger(input) && input >= 0) return { ok: true, us: input };
    return { ok: false, error: `expected a whole, non-negative number of microseconds, got ${input}` };
  }
  const text = input.trim();
  if (text === "") return { ok: false, error: "expected a duration such as 300ms or 1m30s, got an empty string" };
  if (text === "0") return { ok: true, us: 0 };
  if (/^\d+(\.\d+)?$/.test(text)) {
    return { ok: false, error: `"${text}" has no unit; write e.g. ${text}ms or ${text}s (units: us, ms, s, m, h)` };
  }
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < text.length) {
    const at = PART.lastIndex;
    const m = PART.exec(text);
    if (m === null) return { ok: false, error: describeBadPart(text, at) };
    const value = Number(m[1]) * (UNIT_US[m[2] as string] as number);
    total += value;
  }
  const rounded = Math.round(total);
  if (Math.abs(rounded - total) > 1e-6) {
    return { ok: false, error: `"${text}" is not a whole number of microseconds` };
  }
  if (!Number.isSafeInteger(rounded)) return { ok: false, error: `"${text}" is too long a duration` };
  return { ok: true, us: rounded };
}

function describeBadPart(text: string, at: number): string {
  const rest = text.slice(at);
  if (rest.startsWith("-")) return `"${text}": durations cannot be negative`;
  const unit = /^\d+(?:\.\d+)?([a-zA-Zµ]*)/.exec(rest);
  if (unit !== null && unit[1] !== undefined && unit[1] !== "") {
    return `"${text}": unknown unit "${unit[1]}" (units: us, ms, s, m, h)`;
  }
  return `"${text}": expected <number><unit> at "${rest}" (e.g. 300ms, 1m30s; units: us, ms, s, m, h)`;
}

/** Parse a duration or throw; for code and tests whose input is a literal, not user input. */
export function durationUs(input: string | number): number {
  const r = parseDurationUs(input);
  if (!r.ok) throw new Error(r.error);
  return r.us;
}

/** Format microseconds the shortest exact way: `1m30s`, `300ms`, `150us`, `0s`. */
export function formatDurationUs(us: number): string {
  if (us === 0) return "0s";
  if (us < 0) return `-${formatDurationUs(-us)}`;
  let rest = us;
  let out = "";
  for (const [unit, size] of [["h", US_PER_H], ["m", US_PER_MIN], ["s", US_PER_S]] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  if (rest === 0) return out;
  if (rest % US_PER_MS === 0) return `${out}${rest / US_PER_MS}ms`;
  return `${out}${rest}us`;
}

/** Seconds with six decimals, as the trace and reports print instants. */
export function formatInstantUs(us: number): string {
  return `${(us / US_PER_S).toFixed(6)}s`;
}
