// The swarm driver, synchronous and free of I/O so the CLI and the tests share it: run a seed
// (generate, run, verdict), shrink a failing one to a small scenario that fails the same way, and
// tally many seeds into a summary with the failures by kind and the features the cases covered.

import { type GenerateOptions, generateCase } from "./generate.js";
import { type CaseOptions, type FailureKind, failureSignature, runCase, scenarioYaml, type Verdict } from "./run-case.js";
import { type ShrinkOptions, type ShrinkResult, shrinkScenario } from "./shrink.js";

export interface SwarmOptions extends CaseOptions {
  generate?: GenerateOptions;
}

export interface SeedOutcome {
  seed: number;
  verdict: Verdict;
  features: string[];
}

export function runSeed(seed: number, options: SwarmOptions): SeedOutcome {
  const c = generateCase(seed, options.generate);
  return { seed, verdict: runCase(c.scenario, options), features: c.features };
}

/** Shrink a failing seed's scenario to one that still fails with the same signature. */
export function shrinkSeed(seed: number, options: SwarmOptions, shrink: ShrinkOptions = {}): ShrinkResult & { signature: string } {
  const c = generateCase(seed, options.generate);
  const signature = failureSignature(runCase(c.scenario, options));
  if (signature === undefined) throw new Error(`seed ${seed} does not fail; there is nothing to shrink`);
  const result = shrinkScenario(c.scenario, (s) => failureSignature(runCase(s, options)) === signature, shrink);
  return { ...result, signature };
}

export const FAILURE_KINDS: readonly FailureKind[] = ["generator", "exception", "invariant", "hang"];

export interface SwarmFailure {
  seed: number;
  kind: FailureKind;
  message: string;
  signature: string;
}

export interface SwarmSummary {
  from: number;
  seeds: number;
  ok: number;
  failures: SwarmFailure[];
  byKind: Record<FailureKind, number>;
  /** Seeds whose scenario had each feature. */
  features: Record<string, number>;
  /** Seeds whose run reached each trace kind (coverage marks), over the runs that finished. */
  marks: Record<string, number>;
  /** Kernel events over every finished run. */
  events: number;
}

function sortedCounts(counts: Map<string, number>): Record<string, number> {
  return Object.fromEntries([...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export function summarize(from: number, outcomes: readonly SeedOutcome[]): SwarmSummary {
  const features = new Map<string, number>();
  const marks = new Map<string, number>();
  const byKind = { generator: 0, exception: 0, invariant: 0, hang: 0 };
  const failures: SwarmFailure[] = [];
  let events = 0;
  for (const o of outcomes) {
    for (const f of o.features) features.set(f, (features.get(f) ?? 0) + 1);
    const v = o.verdict;
    events += v.events ?? 0;
    if (v.kind === "ok") {
      for (const m of v.marks) marks.set(m, (marks.get(m) ?? 0) + 1);
      continue;
    }
    byKind[v.kind] += 1;
    failures.push({ seed: o.seed, kind: v.kind, message: v.message, signature: failureSignature(v) as string });
  }
  return { from, seeds: outcomes.length, ok: outcomes.length - failures.length, failures, byKind, features: sortedCounts(features), marks: sortedCounts(marks), events };
}

/** The first failing seed of each distinct signature: the ones worth shrinking. */
export function distinctFailures(summary: SwarmSummary): SwarmFailure[] {
  const seen = new Set<string>();
  return summary.failures.filter((f) => !seen.has(f.signature) && seen.add(f.signature) !== undefined);
}

/** The summary as text lines. */
export function formatSwarmSummary(s: SwarmSummary): string[] {
  const lines = [`swarm: ${s.seeds} seed(s) from ${s.from}: ${s.ok} ok, ${s.failures.length} failed`];
  const kinds = FAILURE_KINDS.filter((k) => s.byKind[k] > 0).map((k) => `${k} ${s.byKind[k]}`);
  if (kinds.length > 0) lines.push(`failures by kind: ${kinds.join(", ")}${s.byKind.generator > 0 ? " (generator: a generated scenario did not load, a bug in the swarm generator)" : ""}`);
  for (const f of s.failures.slice(0, 20)) lines.push(`  seed ${f.seed}: ${f.kind}: ${f.message}`);
  if (s.failures.length > 20) lines.push(`  ... and ${s.failures.length - 20} more`);
  lines.push(`features covered (seeds with each):`);
  const cells = Object.entries(s.features).map(([k, n]) => `${k} ${n}`);
  const width = Math.max(0, ...cells.map((c) => c.length)) + 2;
  for (let i = 0; i < cells.length; i += 3) lines.push("  " + cells.slice(i, i + 3).map((c) => c.padEnd(width)).join("").trimEnd());
  lines.push(`trace kinds reached: ${Object.keys(s.marks).length}; kernel events: ${s.events}`);
  return lines;
}

/** The reduced scenario as a file `meshsim run` accepts, headed by what failed and how to get it again. */
export function reproducerYaml(seed: number, failure: { kind: string; message: string }, scenario: Record<string, unknown>, reproduce: string): string {
  const header = [
    `# Shrunk by meshsim swarm from seed ${seed}.`,
    `# ${failure.kind}: ${failure.message.replace(/\n/g, " ")}`,
    `# ${reproduce}`,
  ];
  return `${header.join("\n")}\n${scenarioYaml(scenario)}`;
}
