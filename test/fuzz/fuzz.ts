// The fuzz loop shared by `npm run fuzz` and the test suite's slice: fast-check draws cases from
// one seed (case i is fast-check's run i, so `--seed S --path i` replays it), the pool judges them
// in parallel, and each outcome is tallied. A failure is shrunk by replaying its path under the
// property "fails the same way", so the counterexample shows the same cause in the fewest
// mutations.

import fc from "fast-check";
import { corpus, type Doc, shortened } from "./corpus.js";
import { fuzzCase } from "./draw.js";
import { type FuzzCase, renderCase } from "./mutations.js";
import { FAILURES, failureSignature, type Outcome, type OutcomeKind } from "./oracle.js";
import type { CasePool } from "./pool.js";

/** The scenarios cases start from, shortened to `maxDurationUs` of simulated time. */
export function fuzzBases(maxDurationUs: number): Doc[] {
  return corpus().map((e) => shortened(e.doc, maxDurationUs));
}

export interface CaseRecord {
  index: number;
  fuzzCase: FuzzCase;
  yaml: string;
  outcome: Outcome;
}

export interface FuzzTally {
  cases: number;
  byKind: Record<OutcomeKind, number>;
  /** Failures in case order. */
  failures: CaseRecord[];
  /** Completed cases slower than the slow threshold, slowest first. */
  slow: Array<{ index: number; ms: number; kind: OutcomeKind }>;
}

export interface FuzzOptions {
  seed: number;
  numRuns: number;
  pool: CasePool;
  workers: number;
  bases: readonly Doc[];
  /** A case taking longer than this is listed as slow (it is not a failure unless the watchdog ended it). */
  slowMs: number;
  /** Called after every judged case, in completion order. */
  onCase?: (r: CaseRecord, tally: FuzzTally) => void;
}

const emptyKinds = (): Record<OutcomeKind, number> => ({ "input-error": 0, guarded: 0, run: 0, crash: 0, "bad-diagnostic": 0, invariant: 0, runaway: 0, hang: 0, oom: 0 });

export async function fuzz(opts: FuzzOptions): Promise<FuzzTally> {
  const tally: FuzzTally = { cases: 0, byKind: emptyKinds(), failures: [], slow: [] };
  const inFlight = new Set<Promise<void>>();
  let index = 0;
  const judge = async (c: FuzzCase): Promise<boolean> => {
    const i = index++;
    while (inFlight.size >= opts.workers) await Promise.race(inFlight);
    const yaml = renderCase(c, opts.bases);
    const p = opts.pool.run(yaml).then((outcome) => {
      inFlight.delete(p);
      tally.cases += 1;
      tally.byKind[outcome.kind] += 1;
      const record = { index: i, fuzzCase: c, yaml, outcome };
      if (FAILURES.has(outcome.kind)) tally.failures.push(record);
      if (outcome.ms > opts.slowMs) tally.slow.push({ index: i, ms: outcome.ms, kind: outcome.kind });
      opts.onCase?.(record, tally);
    });
    inFlight.add(p);
    return true;
  };
  await fc.check(fc.asyncProperty(fuzzCase(opts.bases.length), judge), { seed: opts.seed, numRuns: opts.numRuns });
  await Promise.all(inFlight);
  tally.failures.sort((a, b) => a.index - b.index);
  tally.slow.sort((a, b) => b.ms - a.ms);
  return tally;
}

export interface Shrunk {
  /** fast-check's path of the shrunk case (`--seed S --path P` replays it). */
  path: string;
  yaml: string;
  outcome: Outcome;
  fuzzCase: FuzzCase;
}

/**
 * Replay case `index` of `seed` and shrink it while it keeps failing with the same signature.
 * Undefined when the replay no longer fails that way (a hang that was only a busy machine).
 */
export async function shrinkFailure(opts: { seed: number; index: number; pool: CasePool; bases: readonly Doc[]; timeLimitMs: number }): Promise<Shrunk | undefined> {
  let signature: string | undefined;
  let last: Shrunk | undefined;
  const details = await fc.check(
    fc.asyncProperty(fuzzCase(opts.bases.length), async (c) => {
      const yaml = renderCase(c, opts.bases);
      const outcome = await opts.pool.run(yaml);
      if (!FAILURES.has(outcome.kind)) return true;
      const sig = failureSignature(outcome);
      signature ??= sig;
      if (sig !== signature) return true;
      last = { path: "", yaml, outcome, fuzzCase: c };
      return false;
    }),
    { seed: opts.seed, path: String(opts.index), numRuns: 1, interruptAfterTimeLimit: opts.timeLimitMs },
  );
  if (last === undefined) return undefined;
  return { ...(last as Shrunk), path: details.counterexamplePath ?? String(opts.index) };
}

/** Case `path` of `seed` (a run index, or a shrink path such as `12:0:3`), as fast-check replays it. */
export async function replayCase(seed: number, path: string, bases: readonly Doc[]): Promise<{ fuzzCase: FuzzCase; yaml: string }> {
  let found: FuzzCase | undefined;
  // The property fails on every case, so fast-check stops at the replayed one without shrinking further.
  await fc.check(
    fc.asyncProperty(fuzzCase(bases.length), async (c) => {
      found = c;
      return false;
    }),
    { seed, path, endOnFailure: true },
  );
  if (found === undefined) throw new Error(`no case at path ${path}`);
  return { fuzzCase: found, yaml: renderCase(found, bases) };
}

/** The command that replays case `path` of `seed` under the given limits. */
export function replayCommand(seed: number, path: string, durationCapS: number, maxEvents: number): string {
  return `npm run fuzz -- --seed ${seed} --path ${path} --duration-cap ${durationCapS} --max-events ${maxEvents}`;
}

/** The YAML file a failing case is written as: what failed and how to replay it, then the scenario. */
export function reproducerFile(replay: string, outcome: Outcome, yaml: string, c?: FuzzCase): string {
  const header = [
    `# meshsim fuzz: ${failureSignature(outcome)}`,
    `# replay: ${replay}`,
    ...(c === undefined ? [] : [`# mutations of corpus scenario ${c.base}: ${JSON.stringify({ mutations: c.mutations, text: c.text })}`]),
    ...outcome.detail.split("\n").map((l) => `#   ${l}`),
  ];
  return `${header.join("\n")}\n${yaml.endsWith("\n") ? yaml : `${yaml}\n`}`;
}
