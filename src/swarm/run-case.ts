// One swarm case through the same calls `meshsim run` makes: load the scenario (as YAML text, so
// the loader sees exactly what a file would give it), check it, build the world, play it under an
// event budget, evaluate and summarise. The verdict: ok; `generator` when the scenario does not
// load (the generator wrote an invalid scenario: a bug in the swarm, not in meshsim); `exception`
// when anything throws; `invariant` when the run's online invariants broke; `hang` when the run
// needs more events than the budget allows (a livelock, or a storm far beyond the case's load).

import { join } from "node:path";
import { stringify } from "yaml";
import { textReader } from "../api/file-reader.js";
import { formatInputError } from "../k8s/input-error.js";
import { World } from "../mesh/world.js";
import { jsonSummary } from "../report/summary.js";
import { estimateEvents } from "../scenario/estimate.js";
import { evaluateExpectations, failoverManagedSplits } from "../scenario/expect.js";
import { findingsJson, scenarioFindings } from "../scenario/findings.js";
import { type LoadResult, loadScenario } from "../scenario/load.js";
import type { ScenarioRun } from "../scenario/run.js";

export type FailureKind = "generator" | "exception" | "invariant" | "hang";

export type Verdict =
  | { kind: "ok"; events: number; requests: number; eventBudget: number; digest: string; marks: string[] }
  | { kind: FailureKind; message: string; events?: number; eventBudget?: number };

export interface CaseOptions {
  /** Directory the scenario is taken to live in (it reads no files: its manifests are inline). */
  baseDir: string;
  /**
   * Kernel events a run may take before it counts as a hang (and a quarter of it in any twentieth
   * of the run's simulated time). Default: 20 per event the loader's estimate (`estimateEvents`)
   * expects, and at least 500,000. Generated runs take 0.3 of the estimate typically and rarely
   * more than 3 times it.
   */
  eventBudget?: number;
}

const DEFAULT_BUDGET_FACTOR = 20;
const DEFAULT_BUDGET_FLOOR = 500_000;

/** A scenario as YAML text, as `--out` writes it and `meshsim run` reads it. */
export function scenarioYaml(scenario: Record<string, unknown>): string {
  return stringify(scenario, { lineWidth: 0, aliasDuplicateObjects: false });
}

function describeThrow(stage: string, e: unknown): Verdict {
  const message = e instanceof Error ? e.message : String(e);
  return { kind: "exception", message: `${stage}: ${message}` };
}

/** Slices of simulated time the budget is checked over, and the share of it one slice may use. */
const SLICES = 20;
const SLICE_SHARE = 4;

/**
 * Play the world to `durationUs` in slices of simulated time (which cannot change the outcome: a
 * slice stops before the next event's instant). A run that uses up its budget, or a quarter of it
 * within one twentieth of its time, has stalled: a livelock at one instant is caught after a
 * quarter of the budget rather than all of it.
 */
function playWithinBudget(world: World, durationUs: number, budget: number): Verdict | undefined {
  const sliceCap = Math.max(1, Math.floor(budget / SLICE_SHARE));
  let used = 0;
  for (let i = 1; i <= SLICES; i++) {
    const played = world.sim.run({ untilUs: Math.round((durationUs * i) / SLICES), maxEvents: Math.min(sliceCap, budget - used) });
    used += played.events;
    if (played.reason === "max-events") {
      const message = `the run stalled: ${used} events by ${played.nowUs}us of ${durationUs}us, over its budget of ${budget} events (or a quarter of it in a twentieth of the run)`;
      return { kind: "hang", message, events: used, eventBudget: budget };
    }
  }
  return undefined;
}

/** Load a scenario given as plain data exactly as a file with its YAML would load. */
export function loadCase(scenario: Record<string, unknown>, baseDir: string): LoadResult {
  const path = join(baseDir, "swarm.yaml");
  return loadScenario(path, textReader(path, scenarioYaml(scenario)), { displayAs: "swarm.yaml" });
}

export function runCase(scenario: Record<string, unknown>, options: CaseOptions): Verdict {
  let loaded: LoadResult;
  try {
    loaded = loadCase(scenario, options.baseDir);
  } catch (e) {
    return describeThrow("load", e);
  }
  if (!loaded.ok) return { kind: "generator", message: loaded.errors.slice(0, 3).map(formatInputError).join("; ") };
  const spec = loaded.spec;
  let budget = 0;
  try {
    budget = options.eventBudget ?? Math.max(DEFAULT_BUDGET_FLOOR, Math.ceil(DEFAULT_BUDGET_FACTOR * estimateEvents(spec).events));
    scenarioFindings(spec);
  } catch (e) {
    return describeThrow("check", e);
  }
  let world: World;
  try {
    world = new World(spec);
  } catch (e) {
    return describeThrow("build", e);
  }
  let run: ScenarioRun;
  try {
    const stalled = playWithinBudget(world, spec.durationUs, budget);
    if (stalled !== undefined) return stalled;
    const result = world.run();
    const expectations = evaluateExpectations(spec.expect, {
      metrics: result.metrics,
      marks: result.marks,
      invariantViolations: result.invariantViolations,
      splitUpdates: result.splitUpdates,
      managedSplits: failoverManagedSplits(spec),
      canaries: result.canaries,
    });
    run = { spec, world: result, expectations, pass: result.invariantViolations.length === 0 };
  } catch (e) {
    return describeThrow("run", e);
  }
  try {
    jsonSummary(run, 0, findingsJson(scenarioFindings(spec)));
  } catch (e) {
    return describeThrow("summary", e);
  }
  const violations = run.world.invariantViolations;
  if (violations.length > 0) {
    const more = violations.length > 1 ? ` (and ${violations.length - 1} more)` : "";
    return { kind: "invariant", message: `${violations[0] as string}${more}`, events: run.world.events, eventBudget: budget };
  }
  const marks = [...run.world.marks.keys()].filter((k) => !k.includes("/")).sort();
  return { kind: "ok", events: run.world.events, requests: run.world.requests, eventBudget: budget, digest: run.world.digest, marks };
}

/**
 * What "fails the same way" means while shrinking: the failure kind and its message with numbers
 * and names of pods, services and clusters blurred, so a smaller scenario that breaks the same
 * check on a different pod still counts.
 */
export function failureSignature(v: Verdict): string | undefined {
  if (v.kind === "ok") return undefined;
  if (v.kind === "hang") return "hang";
  const blurred = v.message
    .replace(/\b(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS) \S+/g, "<request>")
    .replace(/"[^"]*"/g, '"…"')
    .replace(/[\w.-]+(\/[\w.#-]+)+/g, "<ref>")
    .replace(/\d+(\.\d+)?/g, "N")
    .replace(/\(and N more\)/, "");
  return `${v.kind}: ${blurred.trim()}`;
}
