// The determinism self-check: run the same thing twice and compare the traces record by record.
// The first run keeps one 32-bit hash per record and, up to a cap, the lines themselves; the
// second stops at the first record whose hash differs, so the report shows both sides. Past the
// cap, the first side is recovered by a third run (which, if the model leaks state, may itself
// differ — the report says so).

import { Trace } from "./trace.js";

export type DeterminismReport =
  | { identical: true; records: number; digest: string }
  | { identical: false; index: number; first: string | undefined; second: string | undefined; firstRecoveredByRerun: boolean };

/** Lines of the first run kept verbatim (beyond this, only hashes). */
const KEPT_LINES = 1_000_000;

class Diverged extends Error {
  constructor(readonly index: number, readonly line: string | undefined) {
    super(`trace diverged at record ${index}`);
  }
}

function lineHash(line: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < line.length; i++) h = Math.imul(h ^ line.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** `execute` must build a fresh model from scratch and run it, emitting into the given trace. */
export function checkDeterminism(execute: (trace: Trace) => void): DeterminismReport {
  const hashes: number[] = [];
  const kept: string[] = [];
  const first = new Trace((line) => {
    hashes.push(lineHash(line));
    if (kept.length < KEPT_LINES) kept.push(line);
  });
  execute(first);

  let diverged: Diverged | undefined;
  const second = new Trace((line, index) => {
    if (index >= hashes.length || hashes[index] !== lineHash(line)) throw new Diverged(index, line);
  });
  try {
    execute(second);
  } catch (e) {
    if (!(e instanceof Diverged)) throw e;
    diverged = e;
  }
  if (diverged === undefined && second.records !== first.records) diverged = new Diverged(second.records, undefined);
  if (diverged === undefined) return { identical: true, records: first.records, digest: first.digest() };

  const at = diverged.index;
  let firstLine = kept[at];
  const rerun = firstLine === undefined && at < hashes.length;
  if (rerun) {
    execute(new Trace((line, index) => {
      if (index === at) firstLine = line;
    }));
  }
  return { identical: false, index: at, first: firstLine, second: diverged.line, firstRecoveredByRerun: rerun };
}
