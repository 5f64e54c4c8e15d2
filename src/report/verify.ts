// `meshsim verify`: a scenario run on many seeds, reduced per expectation to how many seeds it held
// on against how many it must (`seeds: {atLeast}`, default every seed), with the failing seeds and
// a command that reproduces the first. Pure: the CLI runs the seeds and prints what this returns.

import type { InputError } from "../k8s/input-error.js";
import type { ExpectSpec } from "../mesh/spec.js";

/** What one seed's run says about the scenario's expectations, in the scenario's order. */
export interface SeedOutcome {
  seed: number;
  /** Pass or fail of each expectation, in the order of the scenario's `expect:`. */
  expectations: readonly { pass: boolean }[];
  /** meshsim's own invariants broken in this run (a bug in meshsim). */
  invariantViolations: number;
}

/** One expectation across the seeds. */
export interface VerifiedExpectation {
  name: string;
  /** Seeds it held on. */
  held: number;
  /** Seeds run. */
  of: number;
  /** Seeds it must hold on: `seeds.atLeast` × `of`, rounded up. */
  required: number;
  pass: boolean;
  /** Seeds it failed on, ascending. */
  failingSeeds: number[];
}

/** One scenario file across the seeds; `errors` when it could not be loaded (nothing ran). */
export interface VerifiedScenario {
  /** The file as the user named it. */
  file: string;
  /** The seeds it ran on, ascending. */
  seeds: number[];
  expectations: VerifiedExpectation[];
  /** Seeds whose run broke one of meshsim's invariants (a bug in meshsim); absent ⇒ none. */
  invariantViolationSeeds?: number[];
  /** Input errors; present ⇒ nothing was simulated for this file. */
  errors?: InputError[];
}

/** The seeds `--seeds N --from S` means: S, S+1, …, S+N−1. */
export function seedRange(from: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => from + i);
}

/**
 * Seeds out of `of` an expectation asking for `atLeast` (a fraction in (0, 1]) must hold on:
 * the fraction rounded up, so 0.8 of 20 is 16 and 0.8 of 21 is 17 (never 0 when any seed ran).
 */
export function requiredSeeds(atLeast: number, of: number): number {
  // The tolerance keeps a product that binary floating point puts just above a whole number on it.
  return Math.min(of, Math.max(of === 0 ? 0 : 1, Math.ceil(atLeast * of - 1e-9)));
}

/** The scenario's expectations tallied over the seed outcomes (any order; they are sorted by seed). */
export function tallyScenario(file: string, expect: readonly Pick<ExpectSpec, "name" | "seeds">[], outcomes: readonly SeedOutcome[]): VerifiedScenario {
  const sorted = [...outcomes].sort((a, b) => a.seed - b.seed);
  const of = sorted.length;
  const expectations = expect.map((e, i): VerifiedExpectation => {
    const failingSeeds = sorted.filter((o) => o.expectations[i]?.pass !== true).map((o) => o.seed);
    const held = of - failingSeeds.length;
    const required = requiredSeeds(e.seeds?.atLeast ?? 1, of);
    return { name: e.name, held, of, required, pass: held >= required, failingSeeds };
  });
  const broken = sorted.filter((o) => o.invariantViolations > 0).map((o) => o.seed);
  return { file, seeds: sorted.map((o) => o.seed), expectations, ...(broken.length > 0 ? { invariantViolationSeeds: broken } : {}) };
}

/** Whether the scenario passed: it loaded, broke no invariant, and every expectation held on enough seeds. */
export function scenarioPasses(s: VerifiedScenario): boolean {
  return s.errors === undefined && s.invariantViolationSeeds === undefined && s.expectations.every((e) => e.pass);
}

/** The command that reproduces one seed's run. */
export function reproduceCommand(file: string, seed: number): string {
  return `meshsim run ${file} --seed ${seed}`;
}

/** Seeds as text, the first ten and a count of the rest: `3, 5, 8 … and 12 more`. */
function seedsText(seeds: readonly number[]): string {
  const shown = seeds.slice(0, 10).join(", ");
  return seeds.length > 10 ? `${shown} … and ${seeds.length - 10} more` : shown;
}

/**
 * The text report of one loaded scenario: a heading with the seeds, one line per expectation
 * (`PASS  12/20 seeds (needs 10)  name`), and under each one that failed on some seed those seeds
 * and the command that reproduces the first.
 */
export function formatVerifiedScenario(s: VerifiedScenario): string[] {
  const first = s.seeds[0];
  const last = s.seeds[s.seeds.length - 1];
  const range = first === undefined ? "no seeds" : first === last ? `seed ${first}` : `seeds ${first}..${last}`;
  const lines = [`${s.file} (${range})`];
  const width = Math.max(0, ...s.expectations.map((e) => `${e.held}/${e.of}`.length));
  for (const e of s.expectations) {
    const count = `${e.held}/${e.of}`.padStart(width);
    const needs = e.required === e.of ? "" : ` (needs ${e.required})`;
    lines.push(`  ${e.pass ? "PASS" : "FAIL"}  ${count} seeds${needs}  ${e.name}`);
    const firstFailing = e.failingSeeds[0];
    if (firstFailing !== undefined) {
      lines.push(`        failing seeds: ${seedsText(e.failingSeeds)}`);
      lines.push(`        reproduce: ${reproduceCommand(s.file, firstFailing)}`);
    }
  }
  if (s.invariantViolationSeeds !== undefined) {
    const seeds = s.invariantViolationSeeds;
    lines.push(`  ERROR meshsim's invariants broke on seeds ${seedsText(seeds)} (a bug in meshsim)`);
    lines.push(`        reproduce: ${reproduceCommand(s.file, seeds[0] as number)}`);
  }
  return lines;
}

/** The one JSON object `meshsim verify --json` prints. */
export function verifyJson(scenarios: readonly VerifiedScenario[]): { scenarios: readonly VerifiedScenario[]; pass: boolean } {
  return { scenarios, pass: scenarios.every(scenarioPasses) };
}
