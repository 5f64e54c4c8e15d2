// Run a loaded scenario: build the world, play it to the end, evaluate the expectations. Pure:
// no files, no console, no wall clock — the CLI and the library API wrap it.

import type { WorldSpec } from "../mesh/spec.js";
import { type RequestObserver, World, type WorldResult } from "../mesh/world.js";
import type { Trace } from "../sim/trace.js";
import { evaluateExpectations, type ExpectationResult, failoverManagedSplits } from "./expect.js";

export interface ScenarioRun {
  spec: WorldSpec;
  world: WorldResult;
  expectations: ExpectationResult[];
  /** Every expectation met and no invariant violated. */
  pass: boolean;
}

export interface RunWorldOptions {
  /** Receives every trace record; the digest is kept either way. */
  trace?: Trace;
  /** Called with the simulated fraction done, between slices of the run. */
  onProgress?: (fraction: number) => void;
  /** Hears every request a client starts and ends (tests compare runs request by request). */
  requests?: RequestObserver;
}

export function runWorldSpec(spec: WorldSpec, options: RunWorldOptions = {}): ScenarioRun {
  const world = new World(spec, options.trace, options.requests).run(options.onProgress);
  const expectations = evaluateExpectations(spec.expect, {
    metrics: world.metrics,
    marks: world.marks,
    invariantViolations: world.invariantViolations,
    splitUpdates: world.splitUpdates,
    managedSplits: failoverManagedSplits(spec),
    canaries: world.canaries,
  });
  const pass = expectations.every((e) => e.pass) && world.invariantViolations.length === 0;
  return { spec, world, expectations, pass };
}
