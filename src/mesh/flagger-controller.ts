// Flagger running against one cluster: one job per Canary, run when the run starts (as Flagger runs
// a new canary's job at once) and then every `analysis.interval`. Each run observes the cluster as
// Flagger's clients would — Deployments and the routing object from the API server, readiness from
// the Deployment's pods, the built-in metrics from the canary pods' inbound proxies over the metric's
// interval, as Linkerd's Prometheus queries read them — and makes `advanceCanary`'s writes through
// the API server (changes.ts `write`), so they reach the workload controllers, the SMI adaptor, the
// destination controller and the proxies with the delays any write has.

import type { K8sObject } from "../k8s/object.js";
import {
  type AnalysisCheck,
  advanceCanary,
  type CanaryConfig,
  type CanaryMetric,
  canaryNames,
  type CanaryObservation,
  type CanaryPhase,
  type CanaryStatus,
  FLAGGER_DEFAULTS,
  type FlaggerAction,
  INITIAL_STATUS,
} from "../policy/flagger.js";
import { parseTrafficSplit } from "../policy/traffic-split.js";
import { Priority } from "../sim/priority.js";
import type { ChangeApplier } from "./changes.js";
import type { Cluster } from "./cluster.js";
import type { DeploymentController } from "./deployment-controller.js";
import type { MeshMetrics } from "./metrics.js";
import { templateOf } from "./object-edits.js";
import type { MeshContext } from "./context.js";
import type { ChangeAction, ChangeSpec } from "./spec.js";
import type { Workloads } from "./workloads.js";

/** One run of a canary's job that did something, as the summary, `--json` and the report show it. */
export interface CanaryTick {
  atUs: number;
  phase: CanaryPhase;
  canaryWeight: number;
  primaryWeight: number;
  failedChecks: number;
  iterations: number;
  events: string[];
  analysis?: AnalysisCheck[];
}

/** A canary over the whole run. */
export interface CanaryRun {
  cluster: string;
  /** `namespace/name` of the Canary. */
  canary: string;
  target: string;
  intervalUs: number;
  threshold: number;
  maxWeight: number;
  stepWeight: number;
  ticks: CanaryTick[];
  /** When a new revision started an analysis (the last one). */
  progressingAtUs?: number;
  /** When the job last reached Succeeded after an analysis (promotion finished). */
  promotedAtUs?: number;
  /** When the job last reached Failed (rolled back). */
  rolledBackAtUs?: number;
  phase: CanaryPhase;
}

export interface FlaggerHost extends MeshContext {
  readonly metrics: MeshMetrics;
  readonly workloads: Workloads;
  readonly deploymentController: DeploymentController;
  readonly changes: ChangeApplier;
}

/** Ticks kept per canary: a job that keeps doing something every interval of a long run stays bounded. */
const MAX_TICKS = 2000;

export class FlaggerJob {
  private status: CanaryStatus = INITIAL_STATUS;
  readonly run: CanaryRun;
  private readonly names: ReturnType<typeof canaryNames>;

  constructor(
    private readonly cluster: Cluster,
    private readonly config: CanaryConfig,
    private readonly source: K8sObject,
    private readonly host: FlaggerHost,
  ) {
    this.names = canaryNames(config);
    this.run = {
      cluster: cluster.name,
      canary: `${config.namespace}/${config.name}`,
      target: config.target,
      intervalUs: config.intervalUs,
      threshold: config.threshold,
      maxWeight: config.maxWeight,
      stepWeight: config.stepWeight,
      ticks: [],
      phase: "",
    };
  }

  start(): void {
    this.host.sim.schedule(0, () => this.tick(), undefined, Priority.Control);
  }

  private tick(): void {
    if (!this.cluster.alive) return;
    const now = this.host.sim.nowUs;
    const step = advanceCanary(this.config, this.status, this.observe());
    for (const a of step.actions) this.act(a);
    const before = this.status;
    this.status = step.status;
    this.run.phase = step.status.phase;
    if (step.status.phase === "Progressing" && before.phase !== "Progressing") this.run.progressingAtUs = now;
    if (step.status.phase === "Succeeded" && before.phase !== "Succeeded") this.run.promotedAtUs = now;
    if (step.status.phase === "Failed" && before.phase !== "Failed") this.run.rolledBackAtUs = now;
    const routes = this.routes() ?? { primary: FLAGGER_DEFAULTS.totalWeight, canary: 0 };
    if ((step.events.length > 0 || step.analysis !== undefined) && this.run.ticks.length < MAX_TICKS) {
      this.run.ticks.push({
        atUs: now,
        phase: step.status.phase,
        canaryWeight: routes.canary,
        primaryWeight: routes.primary,
        failedChecks: step.status.failedChecks,
        iterations: step.status.iterations,
        events: step.events,
        ...(step.analysis === undefined ? {} : { analysis: step.analysis }),
      });
    }
    for (const e of step.events) this.host.emit("flagger.event", { canary: this.run.canary, message: e, reason: eventReason(e) });
    if (step.status.phase !== before.phase) this.host.emit("flagger.phase", { canary: this.run.canary, phase: step.status.phase, reason: step.status.phase.toLowerCase() });
    this.host.sim.schedule(this.config.intervalUs, () => this.tick(), undefined, Priority.Control);
  }

  // ---- what the job sees ---------------------------------------------------------------------------

  private observe(): CanaryObservation {
    const c = this.config;
    const target = this.object("Deployment", c.target);
    const routes = this.routes();
    return {
      nowUs: this.host.sim.nowUs,
      targetSpec: target === undefined ? "" : JSON.stringify(templateOf(target) ?? null),
      primaryExists: this.object("Deployment", this.names.primaryDeployment) !== undefined,
      primaryReady: this.deploymentReady(this.names.primaryDeployment),
      canaryReady: this.deploymentReady(c.target),
      ...(routes === undefined ? {} : { routes }),
      measure: (m) => this.measure(m),
    };
  }

  private object(kind: string, name: string): K8sObject | undefined {
    return this.cluster.apiObject({ kind, name, namespace: this.config.namespace });
  }

  /**
   * Flagger's readiness of a Deployment (canary/ready.go, threshold 100 %): the controller has seen
   * its replica count, no rollout is under way, and every replica runs the current template and
   * is ready. A Deployment of 0 replicas is ready, as its status says.
   */
  private deploymentReady(name: string): boolean {
    const o = this.object("Deployment", name);
    const d = this.cluster.deployments.get(`${this.config.namespace}/${name}`);
    if (o === undefined || d === undefined) return false;
    const spec = (o.raw["spec"] ?? {}) as Record<string, unknown>;
    const replicas = typeof spec["replicas"] === "number" ? spec["replicas"] : 1;
    if (replicas !== d.desiredReplicas || this.host.deploymentController.rollingOut(d)) return false;
    const live = d.pods.filter((p) => p.alive && !this.host.workloads.isTerminating(p));
    return live.length === replicas && live.every((p) => p.template === d.template && p.ready);
  }

  /** Weights on the TrafficSplit (or HTTPRoute) named after the apex; undefined ⇒ none yet. */
  private routes(): { primary: number; canary: number } | undefined {
    const { apex, primary, canary } = this.names;
    if (this.config.provider === "linkerd") {
      const o = this.object("TrafficSplit", apex);
      if (o === undefined) return undefined;
      const ts = parseTrafficSplit(o.raw).value;
      const weight = (svc: string): number => Math.round((ts.backends.find((b) => b.service === svc)?.weightMilli ?? 0) / 1000);
      return { primary: weight(primary), canary: weight(canary) };
    }
    const o = this.object("HTTPRoute", apex);
    if (o === undefined) return undefined;
    const refs = backendRefsOf(o.raw);
    const weight = (svc: string): number => {
      const r = refs.find((b) => b["name"] === svc);
      return typeof r?.["weight"] === "number" ? r["weight"] : 0;
    };
    return { primary: weight(primary), canary: weight(canary) };
  }

  /**
   * Linkerd's queries for Flagger, over `[now − interval, now)` of the canary pods' inbound metrics
   * (`response_total` and `response_latency_ms_bucket`, direction inbound, deployment the target):
   * success rate in percent, p99 in ms from Linkerd's buckets as `histogram_quantile` computes it.
   * No request in the window ⇒ no values.
   */
  private measure(m: CanaryMetric): number | undefined {
    const now = this.host.sim.nowUs;
    const from = Math.max(0, now - m.intervalUs);
    if (now <= from) return undefined;
    const stats = this.host.metrics.query({ server: `${this.cluster.name}/${this.config.namespace}/${this.config.target}` }, [from, now]);
    if (stats.serverRequests === 0) return undefined;
    return m.name === "request-success-rate" ? stats.serverSuccessRate * 100 : stats.serverLatencyUs.p99 / 1000;
  }

  // ---- what the job writes ---------------------------------------------------------------------------

  private act(a: FlaggerAction): void {
    const c = this.config;
    const { apex, primary, canary, primaryDeployment } = this.names;
    const target = this.object("Deployment", c.target);
    const label = target === undefined ? undefined : selectorLabel(target);
    switch (a.kind) {
      case "ensure-services":
        if (label === undefined) return;
        if (this.object("Service", canary) === undefined) this.apply(this.service(canary, { [label.key]: label.value }));
        if (this.object("Service", primary) === undefined) this.apply(this.service(primary, { [label.key]: `${label.value}-primary` }));
        return;
      case "create-primary":
        if (target !== undefined && label !== undefined) this.apply(this.primaryFrom(target, undefined, label));
        return;
      case "route-apex-to-primary": {
        if (label === undefined) return;
        const selector = { [label.key]: `${label.value}-primary` };
        const existing = this.object("Service", apex);
        const spec = (existing?.raw["spec"] ?? {}) as Record<string, unknown>;
        if (existing === undefined) this.apply(this.service(apex, selector));
        else if (JSON.stringify(spec["selector"]) !== JSON.stringify(selector)) this.apply(this.withRaw(existing, { ...existing.raw, spec: { ...spec, selector } }));
        return;
      }
      case "ensure-routes":
        if (this.routes() === undefined) this.apply(this.routing(FLAGGER_DEFAULTS.totalWeight, 0));
        return;
      case "scale-target-to-zero":
        this.write({ kind: "patch", target: { kind: "Deployment", name: c.target, namespace: c.namespace }, merge: { spec: { replicas: 0 } } });
        return;
      case "scale-target-up": {
        const p = this.object("Deployment", primaryDeployment);
        const own = replicasOf(target);
        const replicas = own > 0 ? own : Math.max(1, replicasOf(p));
        this.write({ kind: "patch", target: { kind: "Deployment", name: c.target, namespace: c.namespace }, merge: { spec: { replicas } } });
        return;
      }
      case "set-routes":
        this.apply(this.routing(a.primary, a.canary));
        return;
      case "promote": {
        const p = this.object("Deployment", primaryDeployment);
        if (target !== undefined && p !== undefined && label !== undefined) this.apply(this.primaryFrom(target, p, label));
        return;
      }
    }
  }

  private apply(o: K8sObject): void {
    this.write({ kind: "apply", objects: [o] });
  }

  private write(action: ChangeAction): void {
    const change: ChangeSpec = {
      atUs: this.host.sim.nowUs,
      cluster: this.cluster.name,
      action,
      entry: `Canary ${this.run.canary}`,
      source: this.source.source,
      positionOf: () => this.source.source,
    };
    const problem = this.host.changes.write(this.cluster, change);
    if (problem !== undefined) this.host.emit("flagger.write-failed", { canary: this.run.canary, message: problem, reason: action.kind });
  }

  /** An object Flagger owns, positioned at the Canary (diagnostics about it point there). */
  private made(raw: Record<string, unknown>): K8sObject {
    const meta = raw["metadata"] as { name: string; namespace: string; labels?: Record<string, string>; annotations?: Record<string, string> };
    return {
      apiVersion: String(raw["apiVersion"]),
      kind: String(raw["kind"]),
      metadata: { name: meta.name, namespace: meta.namespace, labels: meta.labels ?? {}, annotations: meta.annotations ?? {} },
      raw,
      source: this.source.source,
      positionOf: () => this.source.source,
    };
  }

  private withRaw(o: K8sObject, raw: Record<string, unknown>): K8sObject {
    return { ...o, raw };
  }

  private service(name: string, selector: Record<string, string>): K8sObject {
    const c = this.config;
    return this.made({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name, namespace: c.namespace, labels: { app: name } },
      spec: { type: "ClusterIP", selector, ports: [{ name: c.portName, port: c.port, targetPort: c.targetPort, protocol: "TCP" }] },
    });
  }

  /** `<target>-primary`: the target's pod template (and replicas), its selector label's value suffixed `-primary`. */
  private primaryFrom(target: K8sObject, previous: K8sObject | undefined, label: { key: string; value: string }): K8sObject {
    const t = structuredClone(target.raw) as Record<string, unknown>;
    const spec = (t["spec"] ?? {}) as Record<string, unknown>;
    const template = (spec["template"] ?? {}) as Record<string, unknown>;
    const tmeta = (template["metadata"] ?? {}) as Record<string, unknown>;
    const primaryValue = `${label.value}-primary`;
    const prevSpec = (previous?.raw["spec"] ?? {}) as Record<string, unknown>;
    // Creation and promotion both copy the target's replicas (promotion keeps the primary's if the target has none).
    const own = replicasOf(target);
    const replicas = previous === undefined || own > 0 ? own : replicasOf(previous);
    return this.made({
      apiVersion: target.apiVersion,
      kind: "Deployment",
      metadata: { name: this.names.primaryDeployment, namespace: this.config.namespace, labels: { ...target.metadata.labels, [label.key]: primaryValue } },
      spec: {
        ...prevSpec,
        ...spec,
        replicas,
        selector: { matchLabels: { [label.key]: primaryValue } },
        template: { ...template, metadata: { ...tmeta, labels: { ...((tmeta["labels"] ?? {}) as Record<string, string>), [label.key]: primaryValue } } },
      },
    });
  }

  private routing(primaryWeight: number, canaryWeight: number): K8sObject {
    const c = this.config;
    const { apex, primary, canary } = this.names;
    if (c.provider === "linkerd") {
      // Flagger's SMI router writes v1alpha1, weights as Kubernetes quantities.
      return this.made({
        apiVersion: "split.smi-spec.io/v1alpha1",
        kind: "TrafficSplit",
        metadata: { name: apex, namespace: c.namespace },
        spec: { service: apex, backends: [{ service: canary, weight: String(canaryWeight) }, { service: primary, weight: String(primaryWeight) }] },
      });
    }
    return this.made({
      apiVersion: "gateway.networking.k8s.io/v1beta1",
      kind: "HTTPRoute",
      metadata: { name: apex, namespace: c.namespace },
      spec: {
        parentRefs: c.gatewayRefs,
        rules: [{ backendRefs: [{ name: primary, port: c.port, weight: primaryWeight }, { name: canary, port: c.port, weight: canaryWeight }] }],
      },
    });
  }
}

function replicasOf(o: K8sObject | undefined): number {
  const spec = (o?.raw["spec"] ?? {}) as Record<string, unknown>;
  return typeof spec["replicas"] === "number" ? spec["replicas"] : 1;
}

/** The first of Flagger's selector labels the target's selector has (getSelectorLabel). */
export function selectorLabel(target: K8sObject): { key: string; value: string } | undefined {
  const spec = (target.raw["spec"] ?? {}) as Record<string, unknown>;
  const selector = (spec["selector"] ?? {}) as Record<string, unknown>;
  const match = (selector["matchLabels"] ?? {}) as Record<string, unknown>;
  for (const key of FLAGGER_DEFAULTS.selectorLabels) {
    const v = match[key];
    if (typeof v === "string") return { key, value: v };
  }
  return undefined;
}

function backendRefsOf(raw: Record<string, unknown>): Array<Record<string, unknown>> {
  const spec = (raw["spec"] ?? {}) as Record<string, unknown>;
  const rules = Array.isArray(spec["rules"]) ? spec["rules"] : [];
  const first = (rules[0] ?? {}) as Record<string, unknown>;
  return Array.isArray(first["backendRefs"]) ? (first["backendRefs"] as Array<Record<string, unknown>>) : [];
}

/** `Halt … advancement …` ⇒ `halt`, `Advance … canary weight 20` ⇒ `advance`: a trace reason per kind of event. */
function eventReason(e: string): string {
  if (e.startsWith("Halt") && e.includes("no values found")) return "no-values";
  if (e.includes("not ready: waiting")) return "waiting";
  if (e.startsWith("New revision")) return "new-revision";
  if (e.startsWith("Rolling back")) return "rolling-back";
  if (e.startsWith("Promotion completed")) return "promotion-completed";
  const word = e.split(" ")[0] ?? "";
  return word.replace(/[^A-Za-z]/g, "").toLowerCase();
}
