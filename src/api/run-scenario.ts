// Run a scenario from a test or a script: load, simulate, evaluate the expectations, and hand the
// outcome back as data. Synchronous, with no console output, no exit codes and no wall clock;
// bad input comes back as `{ok: false, errors}`, never as a throw.

import { join, resolve } from "node:path";
import type { InputError } from "../k8s/input-error.js";
import type { SourceReader } from "../k8s/load.js";
import { jsonSummary } from "../report/summary.js";
import { findingsJson, type ScenarioFindings, scenarioFindings } from "../scenario/findings.js";
import { loadScenario } from "../scenario/load.js";
import { runWorldSpec, type ScenarioRun } from "../scenario/run.js";
import { diskReader, textReader } from "./file-reader.js";

export interface RunScenarioOptions {
  /** Replaces the scenario's `seed:`; absent ⇒ the scenario's own seed. */
  seed?: string;
  /** Values for the scenario's declared `params:`, as `--set name=value` gives them; absent ⇒ none. */
  set?: Record<string, string>;
  /**
   * Absolute directory the scenario's manifests may come from, links resolved. Absent ⇒ the
   * scenario's own directory tree (`runScenarioText`: its `baseDir`).
   */
  manifestsRoot?: string;
  /**
   * Refuse the scenario, as bad input naming `duration`, when its estimated kernel events exceed
   * this (a rough count from the rates, call fan-out, pods and timers). Absent ⇒ 2e9, about half an
   * hour of kernel time; a test or a fuzzer that must stay quick sets it lower.
   */
  maxEvents?: number;
}

/**
 * `meshsim run --json`'s object without `wallSeconds`: the library does not read the wall clock,
 * so everything here is a function of the scenario and the seed (two runs give equal summaries).
 */
export type ScenarioSummary = Record<string, unknown>;

export type ScenarioResult =
  | {
      ok: true;
      /** The `--json` summary, minus `wallSeconds`. */
      result: ScenarioSummary;
      /** Everything the run produced: the spec, metrics, edges, marks and evaluated expectations. */
      run: ScenarioRun;
      /** Accepted input the simulator does not act on (what `meshsim run` prints as warnings). */
      warnings: InputError[];
      /**
       * What `meshsim check` finds in the scenario (errors and warnings; `meshsim run --strict`
       * fails on any) and what is read but not simulated; also in `result`.
       */
      findings: ScenarioFindings;
    }
  | { ok: false; errors: InputError[] };

/** Load and run the scenario file at `file` (relative paths resolve against the working directory). */
export function runScenario(file: string, options: RunScenarioOptions = {}): ScenarioResult {
  return runWith(resolve(file), file, diskReader, options);
}

/**
 * Run a scenario given as YAML text. Manifest paths and globs in it resolve against `baseDir`, as
 * they would for a file in that directory; errors name the scenario `scenario.yaml`.
 */
export function runScenarioText(yaml: string, baseDir: string, options: RunScenarioOptions = {}): ScenarioResult {
  const path = join(resolve(baseDir), "scenario.yaml");
  return runWith(path, "scenario.yaml", textReader(path, yaml), options);
}

function runWith(path: string, shown: string, reader: SourceReader, options: RunScenarioOptions): ScenarioResult {
  const loaded = loadScenario(path, reader, {
    set: options.set ?? {},
    ...(options.seed === undefined ? {} : { seed: options.seed }),
    ...(options.manifestsRoot === undefined ? {} : { manifestsRoot: options.manifestsRoot }),
    ...(options.maxEvents === undefined ? {} : { maxEvents: options.maxEvents }),
    displayAs: shown,
  });
  if (!loaded.ok) return { ok: false, errors: loaded.errors };
  const findings = scenarioFindings(loaded.spec);
  const run = runWorldSpec(loaded.spec);
  const result = jsonSummary(run, undefined, findingsJson(findings));
  return { ok: true, result, run, warnings: loaded.warnings, findings };
}
