// What every simulated component shares: the kernel, the trace with its coverage marks, and
// random streams by label. Components hold this instead of reaching for globals.

import type { Simulation } from "../sim/simulation.js";
import type { Rng } from "../sim/rng.js";
import type { TraceFields } from "../sim/trace.js";

export interface MeshContext {
  readonly sim: Simulation;
  /** Trace a decision; a `reason` field also counts toward the `kind/reason` coverage mark. */
  emit(kind: string, fields: TraceFields): void;
  rng(label: string): Rng;
  /**
   * An online invariant broke (a bug in meshsim, not in the input): the run reports it and exits 3.
   * Absent ⇒ nothing collects violations (a unit test's fake world).
   */
  violated?(message: string): void;
}
