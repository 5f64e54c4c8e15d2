// The library's front door: run scenarios from your own tests and ask typed questions of the run.
// `meshsim run` is a thin shell over the same calls; see README, "Use it from your own tests".

export { runScenario, runScenarioText, type RunScenarioOptions, type ScenarioResult, type ScenarioSummary } from "./api/run-scenario.js";
export { expectation, metric, timeline, type Instant } from "./api/query.js";
export { junitXml, type JunitSuite } from "./api/junit.js";
export type { ScenarioRun } from "./scenario/run.js";
export type { ExpectationResult } from "./scenario/expect.js";
export type { Metric, MetricFilter, WorldSpec } from "./mesh/spec.js";
export type { TimelinePoint, WindowStats } from "./mesh/metrics.js";
export { formatInputError, type InputError } from "./k8s/input-error.js";
export type { ScenarioFindings } from "./scenario/findings.js";
export type { ClusterDiagnostic } from "./k8s/diagnostic-groups.js";
export type { IgnoredKind, NotSimulated, NotSimulatedEntry } from "./k8s/not-simulated.js";
export { LINKERD_VERSION } from "./policy/linkerd-version.js";
