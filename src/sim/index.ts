// The kernel's public surface.
export { Simulation, type RunLimits, type RunResult, type StopReason, type SimulationOptions } from "./simulation.js";
export { Priority } from "./priority.js";
export type { EventId, Owner } from "./event-queue.js";
export { forkRng, RngRegistry, type Rng } from "./rng.js";
export { Trace, serialiseRecord, formatShort, type TraceSink, type TraceFields, type TraceValue } from "./trace.js";
export { checkDeterminism, type DeterminismReport } from "./determinism.js";
export * from "./time.js";
export * from "./distributions.js";
export { parseDistribution, type SpecResult } from "./distribution-spec.js";
