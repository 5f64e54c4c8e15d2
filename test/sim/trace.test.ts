import { describe, expect, it } from "vitest";
import { checkDeterminism } from "../../src/sim/determinism.js";
import { formatShort, serialiseRecord, Trace } from "../../src/sim/trace.js";

describe("the trace", () => {
  it("serialises t and kind first, then fields in emitted order", () => {
    expect(serialiseRecord(1500, "retry.skipped", { reason: "budget-exhausted", route: "GET /verify" })).toBe(
      '{"t":1500,"kind":"retry.skipped","reason":"budget-exhausted","route":"GET /verify"}',
    );
  });

  it("formats records for humans", () => {
    const line = serialiseRecord(12_000_150, "attempt.timed-out", { route: "GET /verify", attempt: 2 });
    expect(formatShort(line)).toBe('12.000150s attempt.timed-out route="GET /verify" attempt=2');
  });

  it("digests every record, order-sensitively", () => {
    const digestOf = (records: Array<[number, string]>) => {
      const t = new Trace();
      for (const [at, kind] of records) t.emit(at, kind);
      return t.digest();
    };
    const a = digestOf([[1, "x"], [2, "y"]]);
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(digestOf([[1, "x"], [2, "y"]])).toBe(a);
    expect(digestOf([[2, "y"], [1, "x"]])).not.toBe(a);
    expect(digestOf([[1, "x"]])).not.toBe(a);
  });

  it("hands every line to the sink with its index", () => {
    const lines: string[] = [];
    const t = new Trace((line, i) => lines.push(`${i}:${line}`));
    t.emit(0, "a");
    t.emit(5, "b", { n: 1 });
    expect(lines).toEqual(['0:{"t":0,"kind":"a"}', '1:{"t":5,"kind":"b","n":1}']);
  });
});

describe("the determinism self-check", () => {
  it("passes a deterministic model", () => {
    const report = checkDeterminism((trace) => {
      for (let i = 0; i < 100; i++) trace.emit(i, "tick", { i });
    });
    expect(report).toMatchObject({ identical: true, records: 100 });
  });

  it("names the first record where two runs part", () => {
    let runs = 0;
    const report = checkDeterminism((trace) => {
      runs += 1;
      for (let i = 0; i < 100; i++) trace.emit(i, "tick", { leak: i === 40 ? runs : 0 });
    });
    expect(report).toEqual({
      identical: false,
      index: 40,
      first: '{"t":40,"kind":"tick","leak":1}',
      second: '{"t":40,"kind":"tick","leak":2}',
      firstRecoveredByRerun: false,
    });
  });

  it("notices a run that emits fewer records", () => {
    let runs = 0;
    const report = checkDeterminism((trace) => {
      runs += 1;
      const n = runs === 2 ? 3 : 5;
      for (let i = 0; i < n; i++) trace.emit(i, "tick");
    });
    expect(report).toMatchObject({ identical: false, index: 3, second: undefined });
  });
});

describe("values folded into the digest", () => {
  it("change the digest without a record, and differ by one microsecond", () => {
    const base = new Trace();
    const a = new Trace();
    const b = new Trace();
    a.absorbValues(1_000_000, 7, 200);
    b.absorbValues(1_000_001, 7, 200);
    expect(a.records).toBe(0);
    expect(a.digest()).not.toBe(base.digest());
    expect(a.digest()).not.toBe(b.digest());
  });

  it("tell apart instants that differ only above 2^32 µs, and values in another order", () => {
    const a = new Trace();
    const b = new Trace();
    const c = new Trace();
    a.absorbValues(5, 1, 2);
    b.absorbValues(5 + 2 ** 32, 1, 2);
    c.absorbValues(1, 5, 2);
    expect(new Set([a.digest(), b.digest(), c.digest()]).size).toBe(3);
  });
});
