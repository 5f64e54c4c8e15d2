// The trace: one record per domain event, serialised as one JSON line with a fixed key order
// (`t`, `kind`, then the event's fields in the order its emitter writes them). A rolling 64-bit
// digest covers every record whether or not the lines are kept, so two runs can be compared by
// digest alone and a determinism check can name the first record where they part.

import { formatInstantUs } from "./time.js";

export type TraceValue = string | number | boolean | null;
export type TraceFields = Record<string, TraceValue>;

/** Receives each serialised line; a file writer, an array, or a comparator. */
export type TraceSink = (line: string, index: number) => void;

export class Trace {
  private h1 = 0x811c9dc5;
  private h2 = 0x01000193 ^ 0x5bd1e995;
  private count = 0;

  constructor(private readonly sink: TraceSink | undefined = undefined) {}

  /** Number of records so far. */
  get records(): number {
    return this.count;
  }

  emit(atUs: number, kind: string, fields?: TraceFields): void {
    const line = serialiseRecord(atUs, kind, fields);
    this.absorb(line);
    if (this.sink !== undefined) this.sink(line, this.count);
    this.count += 1;
  }

  /**
   * Fold numbers into the digest without writing a record: what every run produces in bulk (each
   * request's completion instant and outcome) still tells two runs apart by digest alone.
   */
  absorbValues(a: number, b: number, c: number): void {
    this.mix(a);
    this.mix(b);
    this.mix(c);
  }

  /** Both 32-bit halves of a value up to 2^53, so instants past 2^32 µs count whole. */
  private mix(v: number): void {
    const lo = v >>> 0;
    const hi = Math.floor(v / 4294967296) >>> 0;
    this.h1 = Math.imul(Math.imul(this.h1 ^ lo, 0x01000193) ^ hi, 0x01000193) >>> 0;
    const b = Math.imul(this.h2 ^ lo, 0x5bd1e995) ^ (this.h2 >>> 15);
    this.h2 = (Math.imul(b ^ hi, 0x5bd1e995) ^ (b >>> 15)) >>> 0;
  }

  /** 16 hex digits over every record so far. */
  digest(): string {
    return hex32(this.h1) + hex32(this.h2);
  }

  private absorb(line: string): void {
    // Two independent 32-bit FNV-1a style lanes over UTF-16 code units, plus the line break, so
    // ["ab","c"] and ["a","bc"] differ.
    let a = this.h1;
    let b = this.h2;
    for (let i = 0; i < line.length; i++) {
      const c = line.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x5bd1e995) ^ (b >>> 15);
    }
    this.h1 = Math.imul(a ^ 0x0a, 0x01000193) >>> 0;
    this.h2 = (Math.imul(b ^ 0x0a, 0x5bd1e995) ^ (b >>> 13)) >>> 0;
  }
}

function hex32(n: number): string {
  return (n >>> 0).toString(16).padStart(8, "0");
}

/** `{"t":<µs>,"kind":"<kind>",...fields}` — keys in this order, always. */
export function serialiseRecord(atUs: number, kind: string, fields?: TraceFields): string {
  let out = `{"t":${atUs},"kind":${JSON.stringify(kind)}`;
  if (fields !== undefined) {
    for (const key of Object.keys(fields)) {
      out += `,${JSON.stringify(key)}:${JSON.stringify(fields[key])}`;
    }
  }
  return out + "}";
}

/** The human form (`--trace-format short`): `12.000150s attempt.timed-out route=GET /verify`. */
export function formatShort(line: string): string {
  const rec = JSON.parse(line) as Record<string, TraceValue>;
  const { t, kind, ...rest } = rec;
  const tail = Object.entries(rest)
    .map(([k, v]) => `${k}=${typeof v === "string" && !/\s/.test(v) ? v : JSON.stringify(v)}`)
    .join(" ");
  return `${formatInstantUs(Number(t))} ${String(kind)}${tail === "" ? "" : " " + tail}`;
}
