// What meshsim reads but does not simulate, said out loud. Real manifests carry Servers,
// autoscalers, Ingresses, Flagger Canaries and much more; a run that quietly drops them can pass
// in CI while the cluster would refuse every request. Each object of a kind the simulator does not
// act on is listed with what that means for the result, and so is each field the parsers accept
// but the simulated traffic never exercises (unexercised-fields.ts). Kinds with no bearing on
// traffic (ConfigMaps, RBAC, CRDs, ...) are only counted, on one line.

import { lastDefinitions } from "./apply.js";
import { type K8sObject, describeObject } from "./object.js";
import { type Exercised, unexercisedFields } from "./unexercised-fields.js";
import { isWorkload, WORKLOAD_KINDS } from "./views.js";

/** One object, or one field of it, whose effect in the cluster the result leaves out. */
export interface NotSimulatedHit {
  /** The object's kind, for an object the simulator does not act on at all. */
  kind?: string;
  /** What is not exercised, e.g. `HTTPRoute matches[].headers`, for a field of a simulated object. */
  field?: string;
  /** `[cluster] Kind namespace/name` (the cluster only in a scenario), or the scenario entry. */
  object: string;
  /** What the cluster does with it that the simulation does not. */
  consequence: string;
  /** Read and ignored with no bearing on traffic; counted on one line, never explained. */
  inert?: boolean;
}

/** Every object (or field) of one kind (or field), grouped. */
export interface NotSimulatedEntry {
  kind?: string;
  field?: string;
  count: number;
  /** Sorted. */
  objects: string[];
  consequence: string;
}

/** Kinds read and ignored that cannot change the simulated traffic. */
export interface IgnoredKind {
  kind: string;
  count: number;
  objects: string[];
}

export interface NotSimulated {
  /** Kinds first (by kind), then fields (by field). */
  entries: NotSimulatedEntry[];
  /** By kind. */
  ignored: IgnoredKind[];
}

export interface NotSimulatedOptions {
  /** The scenario cluster these objects belong to; prefixed to each object as `[name] `. */
  cluster?: string;
  /** What the scenario's traffic exercises (header and query matches, gRPC statuses); absent ⇒ nothing. */
  exercised?: Exercised;
}

/** Kinds whose objects the simulator builds its world from (workloads besides). */
const SIMULATED_KINDS: ReadonlySet<string> = new Set(["Namespace", "Service", "HTTPRoute", "GRPCRoute", "ServiceProfile", "TrafficSplit", "Link", "Canary"]);

const AUTHZ_REFUSED = "in the cluster, clients it does not allow are refused (HTTP 403, gRPC PERMISSION_DENIED) and here they are served";

/** What each kind the simulator leaves out would do in the cluster. */
const CONSEQUENCES: Readonly<Record<string, string>> = {
  Server:
    "authorization is not simulated: every client reaches these ports here, while in the cluster a Server denies every client no AuthorizationPolicy or ServerAuthorization allows, so a default-deny Server would make these requests fail with 403; its proxyProtocol (opaque, TCP) would also turn off HTTP routing and retries on the port",
  ServerAuthorization: `authorization is not simulated: ${AUTHZ_REFUSED}`,
  AuthorizationPolicy: `authorization is not simulated: ${AUTHZ_REFUSED}`,
  MeshTLSAuthentication: "authentication is not simulated: identities it does not list are refused (HTTP 403) by the policies that use it in the cluster, and are served here",
  NetworkAuthentication: "authentication is not simulated: clients outside these networks are refused (HTTP 403) by the policies that use it in the cluster, and are served here",
  HTTPLocalRateLimitPolicy: "rate limiting is not simulated: requests over its limits, which Linkerd answers with 429, are served here, so the server carries more load and no client sees a 429",
  ExternalWorkload: "workloads outside Kubernetes are not simulated: they are never endpoints of the Services that select them, so those Services have fewer endpoints here (none, if these are all they select)",
  EgressNetwork: "egress is not simulated: traffic to destinations outside the cluster is not modelled, and this network's allow/deny policy and routes do not apply",
  Ingress: "ingress controllers are not simulated: traffic enters only where the scenario's traffic entries send it, without this Ingress's routing or the controller's own retries, timeouts and balancing",
  Gateway: "ingress gateways are not simulated: traffic enters only where the scenario's traffic entries send it, and routes attached to this Gateway route nothing here",
  HorizontalPodAutoscaler: "autoscaling is not simulated: the workload keeps its replica count (scale faults aside) however busy it gets, while in the cluster this HPA changes it with load, so capacity and latency under load differ",
  VerticalPodAutoscaler: "vertical autoscaling is not simulated: pods keep their resources and are never evicted to be resized",
  PodDisruptionBudget: "evictions are not simulated, so this budget never comes into play: no node is drained here, and killPods is an involuntary disruption a PodDisruptionBudget does not prevent",
  NetworkPolicy: "network policies are not simulated: every pod reaches every other here, while in the cluster connections this policy blocks fail (time out)",
  Job: "batch jobs are not simulated: these pods neither run nor send traffic here; model their load as a traffic entry",
  CronJob: "scheduled jobs are not simulated: their pods neither run nor send traffic here; model their load as a traffic entry",
  ReplicaSet: "only Deployments, StatefulSets, DaemonSets and Pods run here: this ReplicaSet's pods do not, so Services that select them get no endpoints from them",
  ReplicationController: "only Deployments, StatefulSets, DaemonSets and Pods run here: these pods do not, so Services that select them get no endpoints from them",
  PersistentVolume: "storage is not simulated: volume binding, attach and mount delays and disk latency are not part of pod start-up or service time here",
  PersistentVolumeClaim: "storage is not simulated: volume binding, attach and mount delays and disk latency are not part of pod start-up or service time here",
  MetricTemplate: "custom canary metrics are not evaluated: a Canary metric that uses this template counts as passing every analysis here, so no promotion or rollback depends on it",
  Rollout: "Argo Rollouts are not simulated: this Rollout's pods do not run here (Services that select them get no endpoints from them), and no canary steps or analysis happen",
  AnalysisTemplate: "rollout analysis is not simulated: this query is never evaluated, so no promotion or rollback depends on it here",
  ClusterAnalysisTemplate: "rollout analysis is not simulated: this query is never evaluated, so no promotion or rollback depends on it here",
  Certificate: "cert-manager is not simulated: the mesh's certificates follow the scenario's mesh.identity settings and identity faults, not this object's duration and renewal",
  Issuer: "cert-manager is not simulated: the mesh's certificates follow the scenario's mesh.identity settings and identity faults, not this issuer",
  ClusterIssuer: "cert-manager is not simulated: the mesh's certificates follow the scenario's mesh.identity settings and identity faults, not this issuer",
  Endpoints:
    "hand-written endpoints are not simulated: each Service's endpoints are the ready pods its selector picks, so a Service without a selector has no endpoints here and requests to it fail fast",
  EndpointSlice:
    "hand-written endpoints are not simulated: each Service's endpoints are the ready pods its selector picks, so a Service without a selector has no endpoints here and requests to it fail fast",
};

const UNKNOWN_KIND = "meshsim does not know this kind: whatever a controller or webhook does with it in the cluster is not part of this result";

/** Kinds that configure nothing the simulated traffic passes through. */
const INERT_KINDS: ReadonlySet<string> = new Set([
  "ConfigMap", "Secret", "ServiceAccount", "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding",
  "CustomResourceDefinition", "StorageClass", "PriorityClass", "IngressClass", "GatewayClass", "RuntimeClass",
  "ResourceQuota", "LimitRange", "Event", "ControllerRevision", "Lease", "MutatingWebhookConfiguration",
  "ValidatingWebhookConfiguration", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding", "APIService",
  "Node", "ComponentStatus", "CSIDriver", "CSINode", "VolumeAttachment", "FlowSchema", "PriorityLevelConfiguration",
  "CertificateSigningRequest", "ServiceMonitor", "PodMonitor", "PrometheusRule", "AlertProvider", "HTTPRouteGroup",
  "TrafficTarget", "ReferenceGrant",
]);

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === "object" && v !== null && !Array.isArray(v);

/** Owned by a controller the simulator runs (a Deployment's ReplicaSet, its Pods): state derived from it. */
function ownedBySimulated(obj: K8sObject): boolean {
  const meta = obj.raw["metadata"];
  const owners = isRec(meta) && Array.isArray(meta["ownerReferences"]) ? meta["ownerReferences"] : [];
  return owners.some((o) => isRec(o) && typeof o["kind"] === "string" && (WORKLOAD_KINDS.has(o["kind"]) || o["kind"] === "ReplicaSet"));
}

/** Services (`ns/name`) whose endpoints the simulator computes from a selector. */
function selectorServices(objects: readonly K8sObject[]): Set<string> {
  const out = new Set<string>();
  for (const o of objects) {
    const spec = o.raw["spec"];
    if (o.kind === "Service" && isRec(spec) && isRec(spec["selector"]) && Object.keys(spec["selector"]).length > 0) {
      out.add(`${o.metadata.namespace ?? "default"}/${o.metadata.name}`);
    }
  }
  return out;
}

/** Endpoints (or an EndpointSlice) that mirror a selector Service's pods: recomputed, so inert. */
function derivedEndpoints(obj: K8sObject, selected: ReadonlySet<string>): boolean {
  const service = obj.kind === "EndpointSlice" ? obj.metadata.labels["kubernetes.io/service-name"] : obj.metadata.name;
  return service !== undefined && selected.has(`${obj.metadata.namespace ?? "default"}/${service}`);
}

/** Each object the simulation leaves out, or whose fields it does not exercise. */
export function findNotSimulated(objects: readonly K8sObject[], opts: NotSimulatedOptions = {}): NotSimulatedHit[] {
  const current = lastDefinitions(objects);
  const selected = selectorServices(current);
  const prefix = opts.cluster === undefined ? "" : `[${opts.cluster}] `;
  const hits: NotSimulatedHit[] = [];
  for (const obj of current) {
    const object = `${prefix}${describeObject(obj)}`;
    if (isWorkload(obj) || SIMULATED_KINDS.has(obj.kind)) continue;
    const derived = ((obj.kind === "ReplicaSet" || obj.kind === "Pod") && ownedBySimulated(obj)) || ((obj.kind === "Endpoints" || obj.kind === "EndpointSlice") && derivedEndpoints(obj, selected));
    if (INERT_KINDS.has(obj.kind) || derived) hits.push({ kind: obj.kind, object, consequence: "", inert: true });
    else hits.push({ kind: obj.kind, object, consequence: CONSEQUENCES[obj.kind] ?? UNKNOWN_KIND });
  }
  for (const hit of unexercisedFields(current, opts.exercised)) hits.push({ ...hit, object: `${prefix}${hit.object}` });
  return hits;
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Group hits by kind or field: counts, sorted objects, one consequence each. */
export function summarizeNotSimulated(hits: readonly NotSimulatedHit[]): NotSimulated {
  const entries = new Map<string, NotSimulatedEntry>();
  const ignored = new Map<string, IgnoredKind>();
  for (const h of hits) {
    if (h.inert === true && h.kind !== undefined) {
      const e = ignored.get(h.kind) ?? { kind: h.kind, count: 0, objects: [] };
      e.count += 1;
      e.objects.push(h.object);
      ignored.set(h.kind, e);
      continue;
    }
    const id = h.kind !== undefined ? `kind\u0000${h.kind}` : `field\u0000${h.field ?? ""}`;
    const e = entries.get(id) ?? { ...(h.kind !== undefined ? { kind: h.kind } : { field: h.field ?? "" }), count: 0, objects: [], consequence: h.consequence };
    e.count += 1;
    e.objects.push(h.object);
    entries.set(id, e);
  }
  const sorted = [...entries.values()].sort((a, b) => {
    if ((a.kind === undefined) !== (b.kind === undefined)) return a.kind === undefined ? 1 : -1;
    return cmp(a.kind ?? a.field ?? "", b.kind ?? b.field ?? "");
  });
  for (const e of sorted) e.objects.sort(cmp);
  const quiet = [...ignored.values()].sort((a, b) => cmp(a.kind, b.kind));
  for (const e of quiet) e.objects.sort(cmp);
  return { entries: sorted, ignored: quiet };
}

export interface NotSimulatedFormatOptions {
  /** Name every object instead of the first three. Default false. */
  verbose?: boolean;
}

/** A kind entry names objects without their (repeated) kind: `[east] Server a/b` ⇒ `[east] a/b`. */
function shortName(object: string, kind: string | undefined): string {
  if (kind === undefined) return object;
  const m = /^(\[[^\]]*\] )?(.*)$/.exec(object);
  const cluster = m?.[1] ?? "";
  const rest = m?.[2] ?? object;
  return rest.startsWith(`${kind} `) ? `${cluster}${rest.slice(kind.length + 1)}` : object;
}

/** The "not simulated" block and the one "also read and ignored" line; no lines when there is nothing to say. */
export function formatNotSimulated(ns: NotSimulated, opts: NotSimulatedFormatOptions = {}): string[] {
  const out: string[] = [];
  if (ns.entries.length > 0) {
    out.push("not simulated (what these do in the cluster is not part of this result):");
    for (const e of ns.entries) {
      const names = e.objects.map((o) => shortName(o, e.kind));
      const shown = opts.verbose === true ? names : names.slice(0, 3);
      const more = names.length > shown.length ? `, and ${names.length - shown.length} more` : "";
      out.push(`  ${e.kind ?? e.field} ×${e.count} (${shown.join(", ")}${more}): ${e.consequence}`);
    }
  }
  if (ns.ignored.length > 0) {
    out.push(`also read and ignored, no effect on the simulated traffic: ${ns.ignored.map((k) => `${k.kind} ×${k.count}`).join(", ")}`);
  }
  return out;
}

/** Whether there is anything to print or report. */
export function isEmpty(ns: NotSimulated): boolean {
  return ns.entries.length === 0 && ns.ignored.length === 0;
}
