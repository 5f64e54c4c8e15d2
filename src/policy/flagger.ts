// Flagger's progressive delivery on Linkerd: a `flagger.app/v1beta1` Canary read as Flagger reads
// it, and one run of its per-canary job (`advanceCanary` in pkg/controller/scheduler.go, Flagger
// 1.x) as a pure function of the canary's status and what the job observes. Deliberate
// differences: the cluster is observed through `CanaryObservation` (Flagger reads the API server
// and Prometheus), and the job's writes come back as `FlaggerAction`s for the caller to make.
// Webhooks, alerts, custom MetricTemplates, traffic mirroring and autoscalers are not simulated:
// `parseCanary` lists each one it finds, and a job treats a webhook as answering yes.

import type { Diagnostic, Parsed } from "./diagnostics.js";
import { objectRef } from "./diagnostics.js";
import { parseGoDuration } from "./duration.js";

/** Flagger's defaults (pkg/apis/flagger/v1beta1/canary.go). */
export const FLAGGER_DEFAULTS = {
  /** `analysis.interval` absent or unparsable. */
  intervalUs: 60_000_000,
  /** An interval below this is raised to it. */
  minIntervalUs: 10_000_000,
  /** `analysis.threshold` absent or ≤ 0. */
  threshold: 1,
  /** A metric's `interval` absent: Prometheus `rate(...[1m])`. */
  metricIntervalUs: 60_000_000,
  /** `progressDeadlineSeconds` absent. */
  progressDeadlineUs: 600_000_000,
  /** Weights are percentages of 100. */
  totalWeight: 100,
  /** Labels Flagger looks for, in order, in the target's selector (`-selector-labels`). */
  selectorLabels: ["app", "name", "app.kubernetes.io/name"],
} as const;

export type CanaryPhase =
  | "" | "Initializing" | "Initialized" | "Waiting" | "Progressing" | "WaitingPromotion" | "Promoting" | "Finalising" | "Succeeded" | "Failed";

export type CanaryProvider = "linkerd" | "gatewayapi";
export type CanaryStrategy = "canary" | "blue-green" | "ab-testing";

/** A built-in metric check: `request-success-rate` (percent) or `request-duration` (p99, ms). */
export interface CanaryMetric {
  name: "request-success-rate" | "request-duration";
  intervalUs: number;
  min?: number;
  max?: number;
}

export interface CanaryConfig {
  name: string;
  namespace: string;
  /** `spec.targetRef.name`: a Deployment. */
  target: string;
  provider: CanaryProvider;
  /** `spec.service.name` (default the target's name): the apex Service; `-primary` and `-canary` are derived. */
  service: string;
  port: number;
  targetPort: number | string;
  portName: string;
  /** `spec.service.gatewayRefs` for the Gateway API provider: the HTTPRoute's parentRefs. */
  gatewayRefs: Array<Record<string, unknown>>;
  intervalUs: number;
  threshold: number;
  maxWeight: number;
  stepWeight: number;
  stepWeights: number[];
  stepWeightPromotion: number;
  iterations: number;
  strategy: CanaryStrategy;
  skipAnalysis: boolean;
  progressDeadlineUs: number;
  metrics: CanaryMetric[];
}

/** The status fields the job reads and writes (`status` of the Canary). */
export interface CanaryStatus {
  phase: CanaryPhase;
  canaryWeight: number;
  failedChecks: number;
  iterations: number;
  /** The target's pod template as last synced (`status.lastAppliedSpec`, a hash upstream). */
  lastAppliedSpec: string;
  /** When the current canary revision started waiting to be ready (for the progress deadline); absent ⇒ not waiting. */
  waitingSinceUs?: number;
}

export const INITIAL_STATUS: CanaryStatus = { phase: "", canaryWeight: 0, failedChecks: 0, iterations: 0, lastAppliedSpec: "" };

/** What the job sees when it runs. */
export interface CanaryObservation {
  nowUs: number;
  /** The target's pod template now (any stable serialisation). */
  targetSpec: string;
  primaryExists: boolean;
  /** Every replica of the primary updated and available (readiness threshold 100 %). */
  primaryReady: boolean;
  canaryReady: boolean;
  /** Weights on the routing object; absent ⇒ it does not exist yet. */
  routes?: { primary: number; canary: number };
  /** The metric's value over its interval ending now; undefined ⇒ "no values found". */
  measure(metric: CanaryMetric): number | undefined;
}

export type FlaggerAction =
  /** Create `<svc>-canary` and `<svc>-primary` if missing (kubeRouter.Initialize). */
  | { kind: "ensure-services" }
  /** Create `<target>-primary` as a copy of the target, if missing. */
  | { kind: "create-primary" }
  /** Point the apex Service at the primary's pods (kubeRouter.Reconcile). */
  | { kind: "route-apex-to-primary" }
  /** Create the TrafficSplit (or HTTPRoute) at 100/0 if missing (meshRouter.Reconcile). */
  | { kind: "ensure-routes" }
  | { kind: "scale-target-to-zero" }
  /** ScaleFromZero: the target gets the primary's replica count. */
  | { kind: "scale-target-up" }
  | { kind: "set-routes"; primary: number; canary: number }
  /** Copy the target's pod template (and replicas) to the primary, labels rewritten. */
  | { kind: "promote" };

/** One check of one analysis, against its thresholds. */
export interface AnalysisCheck {
  metric: CanaryMetric["name"];
  /** The measured value; null ⇒ no values found (the canary got no traffic). */
  value: number | null;
  min?: number;
  max?: number;
  ok: boolean;
}

export interface CanaryStep {
  status: CanaryStatus;
  actions: FlaggerAction[];
  /** Kubernetes Events the job records, as Flagger words them. */
  events: string[];
  /** The analysis this run made, if it made one. */
  analysis?: AnalysisCheck[];
}

// ---- reading the Canary ------------------------------------------------------------------------

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === "object" && v !== null && !Array.isArray(v);
const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);

/** Fields Flagger acts on that the simulation leaves out, with what that means here. */
const NOT_SIMULATED: Array<[path: string, consequence: string]> = [
  ["analysis.webhooks", "webhooks are not called: every pre-rollout, rollout, confirm and post-rollout hook counts as answering yes, and load-test hooks send no traffic"],
  ["analysis.alerts", "alerts are not sent"],
  ["analysis.mirror", "traffic mirroring is not simulated: the mirror step routes nothing to the canary"],
  ["autoscalerRef", "the autoscaler is not simulated: replicas stay as the Deployments say"],
  ["analysis.sessionAffinity", "session affinity is not simulated"],
];

/**
 * Read a Canary as Flagger's job reads it. Returns undefined when the object cannot drive a rollout
 * (no target, no port, a target that is not a Deployment), with an error saying why.
 */
export function parseCanary(raw: unknown, defaultProvider: CanaryProvider = "linkerd"): Parsed<CanaryConfig | undefined> {
  const rec = isRec(raw) ? raw : {};
  const meta = isRec(rec["metadata"]) ? rec["metadata"] : {};
  const name = typeof meta["name"] === "string" ? meta["name"] : "";
  const namespace = typeof meta["namespace"] === "string" ? meta["namespace"] : "default";
  const object = objectRef("Canary", namespace, name);
  const diagnostics: Diagnostic[] = [];
  const problem = (field: string, message: string, severity: Diagnostic["severity"] = "error"): void => {
    diagnostics.push({ severity, code: severity === "error" ? "canary-invalid" : "canary-not-simulated", object, field, message });
  };
  const spec = isRec(rec["spec"]) ? rec["spec"] : {};
  const targetRef = isRec(spec["targetRef"]) ? spec["targetRef"] : {};
  const target = typeof targetRef["name"] === "string" ? targetRef["name"] : "";
  if (target === "") problem("spec.targetRef.name", "a Canary needs a target: Flagger cannot initialise it");
  else if (targetRef["kind"] !== "Deployment") problem("spec.targetRef.kind", `Flagger targets of kind ${JSON.stringify(targetRef["kind"] ?? null)} are not simulated (only Deployment): this Canary does nothing here`);
  const service = isRec(spec["service"]) ? spec["service"] : {};
  const port = num(service["port"]);
  if (port === undefined || !Number.isInteger(port) || port < 1 || port > 65535) problem("spec.service.port", "expected the apex Service's port, an integer in 1..65535: the Canary CRD requires it");
  const providerText = typeof spec["provider"] === "string" ? spec["provider"] : defaultProvider;
  const provider: CanaryProvider | undefined = providerText === "linkerd" || providerText === "smi:v1alpha1" || providerText === "smi:v1alpha2" ? "linkerd" : providerText.startsWith("gatewayapi") ? "gatewayapi" : undefined;
  if (provider === undefined) problem("spec.provider", `provider "${providerText}" is not one Linkerd serves: use linkerd (an SMI TrafficSplit) or gatewayapi (an HTTPRoute with the Service as parent)`);
  const gatewayRefs = Array.isArray(service["gatewayRefs"]) ? service["gatewayRefs"].filter(isRec) : [];
  if (provider === "gatewayapi" && gatewayRefs.length === 0) problem("spec.service.gatewayRefs", "the gatewayapi provider needs gatewayRefs (for Linkerd, the apex Service itself: {group: core, kind: Service, name: <service>, port: <port>})");
  const analysis = isRec(spec["analysis"]) ? spec["analysis"] : undefined;
  const a: Rec = analysis ?? {};
  const intervalUs = analysisInterval(a["interval"]);
  const threshold = (num(a["threshold"]) ?? 0) > 0 ? Math.trunc(num(a["threshold"]) as number) : FLAGGER_DEFAULTS.threshold;
  const stepWeights = Array.isArray(a["stepWeights"]) ? a["stepWeights"].filter((w): w is number => typeof w === "number" && Number.isFinite(w)).map(Math.trunc) : [];
  const iterations = Math.max(0, Math.trunc(num(a["iterations"]) ?? 0));
  const hasMatch = Array.isArray(a["match"]) && a["match"].length > 0;
  const strategy: CanaryStrategy = hasMatch && iterations > 0 ? "ab-testing" : iterations > 0 ? "blue-green" : "canary";
  if (strategy === "ab-testing" && provider === "linkerd") {
    problem("spec.analysis.match", "an SMI TrafficSplit cannot match headers or cookies: during the iterations Flagger routes all traffic to the canary (weights 0/100), not only the matched requests", "warning");
  }
  const progressDeadline = num(spec["progressDeadlineSeconds"]);
  const metrics: CanaryMetric[] = [];
  const rawMetrics = Array.isArray(a["metrics"]) ? a["metrics"] : [];
  rawMetrics.forEach((m, i) => {
    if (!isRec(m)) return;
    const field = `spec.analysis.metrics[${i}]`;
    const mName = typeof m["name"] === "string" ? m["name"] : "";
    if (isRec(m["templateRef"])) {
      problem(`${field}.templateRef`, `custom metric "${mName}" (a MetricTemplate query) is not evaluated: it counts as passing every analysis`, "warning");
      return;
    }
    if (mName !== "request-success-rate" && mName !== "request-duration") {
      problem(`${field}.name`, `"${mName}" is not a built-in metric and has no templateRef: Flagger skips it`, "warning");
      return;
    }
    const range = isRec(m["thresholdRange"]) ? m["thresholdRange"] : {};
    const metricInterval = typeof m["interval"] === "string" ? parseGoDuration(m["interval"]) : undefined;
    const check: CanaryMetric = { name: mName, intervalUs: metricInterval?.ok === true && metricInterval.us > 0 ? metricInterval.us : FLAGGER_DEFAULTS.metricIntervalUs };
    const min = num(range["min"]);
    const max = num(range["max"]);
    if (min !== undefined) check.min = min;
    if (max !== undefined) check.max = max;
    metrics.push(check);
  });
  for (const [path, consequence] of NOT_SIMULATED) {
    const [head, tail] = path.split(".") as [string, string | undefined];
    const present = tail === undefined ? spec[head] !== undefined : isRec(spec[head]) && (spec[head] as Rec)[tail] !== undefined && (spec[head] as Rec)[tail] !== false;
    if (present) problem(`spec.${path}`, consequence, "warning");
  }
  if (diagnostics.some((d) => d.severity === "error") || port === undefined || provider === undefined) return { value: undefined, diagnostics };
  const value: CanaryConfig = {
    name,
    namespace,
    target,
    provider,
    service: typeof service["name"] === "string" && service["name"] !== "" ? service["name"] : target,
    port,
    targetPort: typeof service["targetPort"] === "number" || typeof service["targetPort"] === "string" ? service["targetPort"] : port,
    portName: typeof service["portName"] === "string" ? service["portName"] : "http",
    gatewayRefs,
    intervalUs,
    threshold,
    maxWeight: Math.trunc(num(a["maxWeight"]) ?? 0),
    stepWeight: Math.trunc(num(a["stepWeight"]) ?? 0),
    stepWeights,
    stepWeightPromotion: Math.trunc(num(a["stepWeightPromotion"]) ?? 0),
    iterations,
    strategy,
    skipAnalysis: analysis === undefined || spec["skipAnalysis"] === true,
    progressDeadlineUs: progressDeadline !== undefined && progressDeadline > 0 ? progressDeadline * 1_000_000 : FLAGGER_DEFAULTS.progressDeadlineUs,
    metrics,
  };
  return { value, diagnostics };
}

/** `GetAnalysisInterval`: absent or unparsable ⇒ 60 s; below 10 s ⇒ 10 s. */
function analysisInterval(v: unknown): number {
  if (typeof v !== "string" || v === "") return FLAGGER_DEFAULTS.intervalUs;
  const d = parseGoDuration(v);
  if (!d.ok) return FLAGGER_DEFAULTS.intervalUs;
  return Math.max(d.us, FLAGGER_DEFAULTS.minIntervalUs);
}

/** `-primary`/`-canary` names (GetServiceNames), and the primary Deployment's. */
export function canaryNames(c: CanaryConfig): { apex: string; primary: string; canary: string; primaryDeployment: string } {
  return { apex: c.service, primary: `${c.service}-primary`, canary: `${c.service}-canary`, primaryDeployment: `${c.target}-primary` };
}

// ---- the weights -------------------------------------------------------------------------------

/** `maxWeight`: the last of stepWeights (at most 100), else maxWeight, else 100. */
export function maxWeight(c: CanaryConfig): number {
  if (c.stepWeights.length > 0) return Math.min(FLAGGER_DEFAULTS.totalWeight, c.stepWeights[c.stepWeights.length - 1] as number);
  if (c.maxWeight > 0) return c.maxWeight;
  return FLAGGER_DEFAULTS.totalWeight;
}

/** `nextStepWeight`: the increment from `canaryWeight` (stepWeight wins over stepWeights). */
export function nextStepWeight(c: CanaryConfig, canaryWeight: number): number {
  if (c.stepWeight > 0 || c.stepWeights.length === 0) return c.stepWeight;
  const maxStep = FLAGGER_DEFAULTS.totalWeight - canaryWeight;
  if (maxStep === 0) return 1;
  if (canaryWeight === 0) return Math.min(maxStep, c.stepWeights[0] as number);
  for (let i = 0; i < c.stepWeights.length - 1; i++) {
    if (c.stepWeights[i] === canaryWeight) return Math.min(maxStep, (c.stepWeights[i + 1] as number) - canaryWeight);
  }
  return maxStep;
}

// ---- one run of the job ------------------------------------------------------------------------

const ADVANCING: ReadonlySet<CanaryPhase> = new Set(["Progressing", "Waiting", "WaitingPromotion", "Promoting", "Finalising"]);
const IN_ANALYSIS: ReadonlySet<CanaryPhase> = new Set(["Progressing", "WaitingPromotion", "Promoting", "Finalising"]);

/** One run of the canary's job: what it writes, what it says, and the status it leaves. */
export function advanceCanary(c: CanaryConfig, status: CanaryStatus, obs: CanaryObservation): CanaryStep {
  const actions: FlaggerAction[] = [{ kind: "ensure-services" }];
  const events: string[] = [];
  const id = `${c.name}.${c.namespace}`;
  const step = (s: CanaryStatus, analysis?: AnalysisCheck[]): CanaryStep => ({ status: s, actions, events, ...(analysis === undefined ? {} : { analysis }) });
  let s = { ...status };
  const initializing = s.phase === "" || s.phase === "Initializing";
  // Initialize: the primary is created, and while initialising the job waits for it to be ready.
  if (!obs.primaryExists) actions.push({ kind: "create-primary" });
  if (initializing && !c.skipAnalysis && !(obs.primaryExists && obs.primaryReady)) {
    events.push(`${c.target}-primary.${c.namespace} not ready: waiting for rollout to finish`);
    return step(s);
  }
  actions.push({ kind: "route-apex-to-primary" });
  if (initializing) actions.push({ kind: "scale-target-to-zero" });
  actions.push({ kind: "ensure-routes" });
  const routes = obs.routes ?? { primary: FLAGGER_DEFAULTS.totalWeight, canary: 0 };
  if (initializing) {
    s = { ...s, phase: "Initialized", lastAppliedSpec: obs.targetSpec };
    events.push(`Initialization done! ${id}`);
  }
  // shouldAdvance: a phase in progress, or a new revision of the target.
  const changed = obs.targetSpec !== s.lastAppliedSpec;
  if (!ADVANCING.has(s.phase) && !changed) return step(s);
  if (!c.skipAnalysis && !obs.primaryReady) {
    events.push(`${c.target}-primary.${c.namespace} not ready: waiting for rollout to finish`);
    return step(s);
  }
  // checkCanaryStatus: a new revision starts the analysis by scaling the target up.
  if (!IN_ANALYSIS.has(s.phase)) {
    actions.push({ kind: "scale-target-up" });
    events.push(`New revision detected! Scaling up ${c.target}.${c.namespace}`);
    return step({ phase: "Progressing", canaryWeight: 0, failedChecks: 0, iterations: 0, lastAppliedSpec: obs.targetSpec, waitingSinceUs: obs.nowUs });
  }
  // hasCanaryRevisionChanged: a newer revision mid-analysis restarts it.
  if ((s.phase === "Progressing" || s.phase === "WaitingPromotion") && changed) {
    actions.push({ kind: "set-routes", primary: FLAGGER_DEFAULTS.totalWeight, canary: 0 });
    events.push(`New revision detected! Restarting analysis for ${c.target}.${c.namespace}`);
    return step({ phase: "Progressing", canaryWeight: 0, failedChecks: 0, iterations: 0, lastAppliedSpec: obs.targetSpec, waitingSinceUs: obs.nowUs });
  }
  // IsCanaryReady: not ready waits, until the progress deadline makes it a rollback.
  if (!obs.canaryReady) {
    const since = s.waitingSinceUs ?? obs.nowUs;
    if (obs.nowUs - since >= c.progressDeadlineUs) {
      events.push(`Rolling back ${id} progress deadline exceeded ${c.target}.${c.namespace} not ready`);
      return rollback(c, s, actions, events);
    }
    events.push(`${c.target}.${c.namespace} not ready: waiting for rollout to finish`);
    return step({ ...s, waitingSinceUs: since });
  }
  const { waitingSinceUs: _ready, ...settled } = s;
  s = settled;
  if (c.skipAnalysis) {
    actions.push({ kind: "set-routes", primary: FLAGGER_DEFAULTS.totalWeight, canary: 0 }, { kind: "promote" }, { kind: "scale-target-to-zero" });
    events.push(`Promotion completed! Canary analysis was skipped for ${c.target}.${c.namespace}`);
    return step({ ...s, phase: "Succeeded" });
  }
  if (s.phase === "Promoting") {
    if (c.stepWeightPromotion === 0) {
      actions.push({ kind: "set-routes", primary: FLAGGER_DEFAULTS.totalWeight, canary: 0 });
      events.push("Routing all traffic to primary");
      return step({ ...s, phase: "Finalising" });
    }
    if (routes.canary > 0) {
      const primary = Math.min(FLAGGER_DEFAULTS.totalWeight, routes.primary + c.stepWeightPromotion);
      const canary = Math.max(0, routes.canary - c.stepWeightPromotion);
      actions.push({ kind: "set-routes", primary, canary });
      events.push(`Advance ${id} primary weight ${primary}`);
      return step(primary === FLAGGER_DEFAULTS.totalWeight ? { ...s, phase: "Finalising" } : { ...s, canaryWeight: canary });
    }
    return step(s);
  }
  if (s.phase === "Finalising") {
    actions.push({ kind: "scale-target-to-zero" });
    events.push(`Promotion completed! Scaling down ${c.target}.${c.namespace}`);
    return step({ ...s, phase: "Succeeded" });
  }
  if ((s.phase === "Progressing" || s.phase === "WaitingPromotion") && s.failedChecks >= c.threshold) {
    events.push(`Rolling back ${id} failed checks threshold reached ${s.failedChecks}`);
    return rollback(c, s, actions, events);
  }
  let analysis: AnalysisCheck[] | undefined;
  if (routes.canary === 0 && s.iterations === 0) {
    events.push(`Starting canary analysis for ${c.target}.${c.namespace}`);
  } else {
    analysis = runAnalysis(c, obs);
    const failed = analysis.find((x) => !x.ok);
    if (failed !== undefined) {
      events.push(haltMessage(c, failed));
      return step({ ...s, failedChecks: s.failedChecks + 1 }, analysis);
    }
  }
  const next = strategyStep(c, s, routes, actions, events);
  return step(next, analysis);
}

function rollback(c: CanaryConfig, s: CanaryStatus, actions: FlaggerAction[], events: string[]): CanaryStep {
  actions.push({ kind: "set-routes", primary: FLAGGER_DEFAULTS.totalWeight, canary: 0 }, { kind: "scale-target-to-zero" });
  events.push(`Canary failed! Scaling down ${c.name}.${c.namespace}`);
  return { status: { phase: "Failed", canaryWeight: 0, failedChecks: s.failedChecks, iterations: s.iterations, lastAppliedSpec: s.lastAppliedSpec }, actions, events };
}

/** The built-in checks, in order; the first failure halts the analysis (later ones are not run). */
function runAnalysis(c: CanaryConfig, obs: CanaryObservation): AnalysisCheck[] {
  const out: AnalysisCheck[] = [];
  for (const m of c.metrics) {
    const raw = obs.measure(m);
    // request-duration is a time.Duration of whole milliseconds (int64 of the query's value).
    const value = raw === undefined ? null : m.name === "request-duration" ? Math.trunc(raw) : raw;
    const ok = value !== null && !(m.min !== undefined && value < m.min) && !(m.max !== undefined && value > m.max);
    out.push({ metric: m.name, value, ...(m.min === undefined ? {} : { min: m.min }), ...(m.max === undefined ? {} : { max: m.max }), ok });
    if (!ok) break;
  }
  return out;
}

function haltMessage(c: CanaryConfig, check: AnalysisCheck): string {
  const id = `${c.name}.${c.namespace}`;
  if (check.value === null) return `Halt advancement no values found for linkerd metric ${check.metric} probably ${c.target}.${c.namespace} is not receiving traffic`;
  if (check.metric === "request-success-rate") {
    return check.min !== undefined && check.value < check.min
      ? `Halt ${id} advancement success rate ${check.value.toFixed(2)}% < ${check.min}%`
      : `Halt ${id} advancement success rate ${check.value.toFixed(2)}% > ${String(check.max)}%`;
  }
  return check.max !== undefined && check.value > check.max
    ? `Halt ${id} advancement request duration ${check.value}ms > ${check.max}ms`
    : `Halt ${id} advancement request duration ${check.value}ms < ${String(check.min)}ms`;
}

/** After a passing analysis: the strategy's next move (runCanary, runBlueGreen, runAB). */
function strategyStep(c: CanaryConfig, s: CanaryStatus, routes: { primary: number; canary: number }, actions: FlaggerAction[], events: string[]): CanaryStatus {
  const id = `${c.name}.${c.namespace}`;
  const total = FLAGGER_DEFAULTS.totalWeight;
  const promote = (): CanaryStatus => {
    actions.push({ kind: "promote" });
    events.push(`Copying ${c.target}.${c.namespace} template spec to ${c.target}-primary.${c.namespace}`);
    return { ...s, phase: "Promoting" };
  };
  if (c.strategy === "ab-testing") {
    if (c.iterations > s.iterations) {
      actions.push({ kind: "set-routes", primary: 0, canary: total });
      events.push(`Advance ${id} canary iteration ${s.iterations + 1}/${c.iterations}`);
      return { ...s, iterations: s.iterations + 1 };
    }
    return c.iterations === s.iterations ? promote() : s;
  }
  if (c.strategy === "blue-green") {
    if (c.iterations > s.iterations) {
      events.push(`Advance ${id} canary iteration ${s.iterations + 1}/${c.iterations}`);
      return { ...s, iterations: s.iterations + 1 };
    }
    if (c.iterations === s.iterations) {
      actions.push({ kind: "set-routes", primary: 0, canary: total });
      events.push("Routing all traffic to canary");
      return { ...s, iterations: s.iterations + 1 };
    }
    return promote();
  }
  const step = nextStepWeight(c, routes.canary);
  if (step <= 0) return s;
  if (routes.canary < maxWeight(c)) {
    const canary = Math.min(total, routes.canary + step);
    const primary = Math.max(0, routes.primary - step);
    actions.push({ kind: "set-routes", primary, canary });
    events.push(`Advance ${id} canary weight ${canary}`);
    return { ...s, canaryWeight: canary };
  }
  return promote();
}
