// What `meshsim check` finds in a loaded scenario, for `run` and the library as much as for
// `check`: every diagnostic of each cluster's objects, the mesh's identity diagnostics as the
// run starts (`linkerd check --proxy`), and everything read but not simulated — objects, fields,
// and scenario entries aimed at something the simulation models on its own (a fault on the
// multicluster gateway's Deployment). Beside the loader rather than in it: `explain` and every
// sweep point load scenarios too, and need none of this.

import { checkObjects } from "../k8s/check.js";
import type { ClusterDiagnostic } from "../k8s/diagnostic-groups.js";
import { type IgnoredKind, type NotSimulatedEntry, type NotSimulated, type NotSimulatedHit, findNotSimulated, summarizeNotSimulated } from "../k8s/not-simulated.js";
import type { Exercised } from "../k8s/unexercised-fields.js";
import { WORKLOAD_KINDS } from "../k8s/views.js";
import type { FaultAction, Selector, WorldSpec } from "../mesh/spec.js";
import { World } from "../mesh/world.js";
import { changeDiagnostics, changeNotSimulatedHits } from "./change-findings.js";

export interface FindingsOptions {
  /**
   * Which `info` notes to keep: `none` (errors and warnings only, what `run` reports), `some`
   * (the notes `meshsim check` gives unasked) or `all` (`meshsim check --notes`). Default `none`.
   */
  notes?: "none" | "some" | "all";
}

export interface ScenarioFindings {
  /** Each cluster's diagnostics (sorted by position), then the identity diagnostics. */
  diagnostics: ClusterDiagnostic[];
  notSimulated: NotSimulated;
}

/** Every diagnostic `meshsim check` reports for the scenario. */
export function scenarioDiagnostics(spec: WorldSpec, opts: FindingsOptions = {}): ClusterDiagnostic[] {
  const notes = opts.notes ?? "none";
  const objects = spec.clusters.flatMap((c) =>
    checkObjects(c.objects, { clusterDomain: c.domain, notes: notes === "all" }).map((d): ClusterDiagnostic => ({ ...d, cluster: c.name })),
  );
  // The certificates of the mesh as the scenario starts it.
  const identity = new World(spec).identity.diagnostics();
  const all = [...objects, ...identity, ...changeDiagnostics(spec, notes === "all")];
  return notes === "none" ? all.filter((d) => d.severity !== "info") : all;
}

/** Everything in the scenario the simulation leaves out; objects name their cluster when there are several. */
export function scenarioNotSimulatedHits(spec: WorldSpec): NotSimulatedHit[] {
  const several = spec.clusters.length > 1;
  const exercised = exercisedBy(spec);
  return [
    ...spec.clusters.flatMap((c) => findNotSimulated(c.objects, several ? { cluster: c.name, exercised } : { exercised })),
    ...gatewayFaults(spec),
    ...changeNotSimulatedHits(spec, exercised),
  ];
}

export function scenarioFindings(spec: WorldSpec, opts: FindingsOptions = {}): ScenarioFindings {
  return { diagnostics: scenarioDiagnostics(spec, opts), notSimulated: summarizeNotSimulated(scenarioNotSimulatedHits(spec)) };
}

/** The findings in `run --json` and the library's result. */
export interface FindingsJson {
  diagnostics: ClusterDiagnostic[];
  notSimulated: NotSimulatedEntry[];
  ignoredKinds: IgnoredKind[];
}

export function findingsJson(f: ScenarioFindings): FindingsJson {
  return { diagnostics: f.diagnostics, notSimulated: f.notSimulated.entries, ignoredKinds: f.notSimulated.ignored };
}

/**
 * What the scenario's traffic can exercise of route matches and gRPC retry conditions: headers
 * (a traffic request or a call that sets some), a query string (in a request path or a call URL),
 * and gRPC error statuses (a behaviour whose errors carry one).
 */
export function exercisedBy(spec: WorldSpec): Exercised {
  const calls = spec.behavior.flatMap((b) => [...b.calls, ...b.routes.flatMap((r) => r.calls ?? [])]);
  const errors = spec.behavior.flatMap((b) => [b.errors, ...b.routes.flatMap((r) => (r.errors === undefined ? [] : [r.errors]))]);
  const requests = spec.traffic.flatMap((t) => t.requests);
  return {
    headers: requests.some((r) => Object.keys(r.headers ?? {}).length > 0) || calls.some((c) => Object.keys(c.headers ?? {}).length > 0),
    query: requests.some((r) => r.path.includes("?")) || calls.some((c) => c.to.includes("?")),
    grpcStatus: errors.some((e) => typeof e.grpcStatus === "number"),
  };
}

// ---- faults aimed at the multicluster gateway ----

/** Namespace of `linkerd multicluster install`'s gateway (and service mirrors). */
const MULTICLUSTER_NAMESPACE = "linkerd-multicluster";
const GATEWAY_NAME = "linkerd-gateway";

type PodFault = Extract<FaultAction, { select: Selector }>;
const isPodFault = (a: FaultAction): a is PodFault => "select" in a;

/**
 * A pod fault whose selector names the multicluster gateway's workload, as `linkerd multicluster
 * install` writes it. The manifests' gateway Deployment runs here as an ordinary idle workload;
 * the gateway that mirrored traffic passes through is a pod the simulation adds on its own, so
 * the fault changes pods that carry no traffic and the gateway stays healthy.
 */
function gatewayFaults(spec: WorldSpec): NotSimulatedHit[] {
  const hits: NotSimulatedHit[] = [];
  spec.faults.forEach((f, i) => {
    const a = f.action;
    if (!isPodFault(a) || (a.select.namespace === undefined && a.select.deployment === undefined)) return;
    const targets = spec.clusters
      .filter((c) => a.select.cluster === undefined || a.select.cluster === c.name)
      .flatMap((c) => c.objects.filter((o) => WORKLOAD_KINDS.has(o.kind) && isGateway(o.metadata.namespace, o.metadata.name) && matches(a.select, o.metadata.namespace, o.metadata.name)));
    const first = targets[0];
    if (first === undefined) return;
    hits.push({
      field: `fault ${a.kind} on the multicluster gateway`,
      object: `faults[${i}] (${a.kind} ${first.kind} ${first.metadata.namespace ?? "default"}/${first.metadata.name})`,
      consequence:
        "the multicluster gateway is a pod meshsim models on its own, not this workload: the fault changes idle pods and the gateway that mirrored traffic passes through stays healthy; to slow or cut the gateway path use a latency or partition fault between the clusters, or clusterLoss",
    });
  });
  return hits;
}

function isGateway(namespace: string | undefined, name: string): boolean {
  return name === GATEWAY_NAME || (namespace === MULTICLUSTER_NAMESPACE && name.includes("gateway"));
}

function matches(select: Selector, namespace: string | undefined, name: string): boolean {
  return (select.namespace === undefined || select.namespace === (namespace ?? "default")) && (select.deployment === undefined || select.deployment === name);
}
