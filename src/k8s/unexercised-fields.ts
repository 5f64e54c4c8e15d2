// Fields of simulated objects that the parsers accept but the simulated traffic never exercises:
// header and query-parameter matches when no simulated request carries headers or a query string,
// gRPC retry conditions when no simulated app answers with a grpc-status, route filters (none is
// applied), opaque ports, Service traffic policies that depend on nodes and zones (pods have none
// here), and proxy configuration annotations. What a scenario's traffic exercises comes in as
// `Exercised`; manifests checked on their own exercise nothing.

import type { NotSimulatedHit } from "./not-simulated.js";
import { type K8sObject, describeObject } from "./object.js";
import { WORKLOAD_KINDS } from "./views.js";

type Rec = Record<string, unknown>;
type FieldHit = Omit<NotSimulatedHit, "kind" | "inert"> & { field: string };

const isRec = (v: unknown): v is Rec => typeof v === "object" && v !== null && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const rec = (v: unknown): Rec => (isRec(v) ? v : {});
/** A non-empty list or mapping (the CRD's `opaquePorts` is a set of ports, written either way). */
const hasEntries = (v: unknown): boolean => list(v).length > 0 || Object.keys(rec(v)).length > 0;

const ROUTE_GROUPS: ReadonlySet<string> = new Set(["gateway.networking.k8s.io", "policy.linkerd.io"]);

const HEADERS = "no simulated request carries headers (give traffic `requests[].headers`, or a call `headers` or `forwardHeaders`), so these matches never match here: traffic that carries the header in the cluster takes another rule here, or gets 404 when no rule matches";
const QUERY = "no simulated request carries a query string (give traffic a `path` with `?...` or `requests[].query`), so these matches never match here: traffic that carries the parameter in the cluster takes another rule here, or gets 404 when no rule matches";
const HEADER_FILTER = "header filters are not applied: the headers this filter adds, sets or removes change nothing here, and no simulated app reads them";
const REDIRECT = "redirects are not simulated: Linkerd answers these requests itself with the redirect (302 unless statusCode says otherwise) and sends nothing to a backend; here they reach the backends";
const FILTER_CONSEQUENCES: Readonly<Record<string, string>> = { RequestHeaderModifier: HEADER_FILTER, ResponseHeaderModifier: HEADER_FILTER, RequestRedirect: REDIRECT };
const PARENT_CONSEQUENCES: Readonly<Record<string, string>> = {
  Server: "inbound routes are not simulated: authorization policies that target this route are not applied, so clients they do not allow are served here instead of refused with 403",
  Gateway: "ingress gateways are not simulated: this Gateway routes nothing here, so traffic enters only where the scenario's traffic entries send it",
};

const GRPC_RETRY = "no simulated app answers with a gRPC error status (give a behaviour `errors: {grpcStatus: ...}`), so these gRPC retry conditions never fire here: requests failing with these codes are retried in the cluster and not here";

/** What a scenario's simulated traffic exercises; each false leaves the matching fields reported. */
export interface Exercised {
  /** Some simulated request carries headers. */
  headers: boolean;
  /** Some simulated request carries a query string. */
  query: boolean;
  /** Some simulated app answers with a gRPC status. */
  grpcStatus: boolean;
}

/** Manifests checked on their own: no traffic, so nothing is exercised. */
export const NOTHING_EXERCISED: Exercised = { headers: false, query: false, grpcStatus: false };
const OPAQUE = "opaque ports are not simulated: Linkerd proxies these ports as plain TCP (no HTTP routing, per-request balancing, retries or timeouts), while meshsim simulates every request as HTTP";
const SKIP_PORTS = "traffic on these ports bypasses the proxy in the cluster (no mTLS, routing, retries or timeouts); here it still passes through the proxies";
const PROXY_RESOURCES = "proxy resources are not simulated: proxy latency comes from the scenario's mesh.proxyLatency, not from CPU or memory limits (a throttled or OOM-killed proxy adds latency or failures in the cluster)";
const DEFAULT_POLICY = "authorization is not simulated: with this default inbound policy the cluster refuses (HTTP 403) clients it does not allow, and here every client is served";
const PROXY_SETTING = "this proxy setting is not simulated: the simulated proxies behave the same with or without it";

/** What each proxy configuration annotation (after its `config[.alpha].linkerd.io/` prefix) would change. */
function configConsequence(key: string, value: string): string | undefined {
  const name = key.slice(key.indexOf("/") + 1);
  if (name === "opaque-ports") return OPAQUE;
  if (name === "skip-outbound-ports" || name === "skip-inbound-ports" || name === "skip-subnets") return SKIP_PORTS;
  if (/^proxy-(cpu|memory|ephemeral-storage)-(limit|request)$/.test(name)) return PROXY_RESOURCES;
  // The default (`all-unauthenticated`) allows everyone, as the simulation does.
  if (name === "default-inbound-policy") return value === "all-unauthenticated" ? undefined : DEFAULT_POLICY;
  return PROXY_SETTING;
}

const isConfigAnnotation = (key: string): boolean => key.startsWith("config.linkerd.io/") || key.startsWith("config.alpha.linkerd.io/");

/** Where a workload's pods take their annotations from: a Pod's own, else its pod template's. */
function podAnnotations(obj: K8sObject): Rec {
  if (obj.kind === "Pod") return rec(rec(obj.raw["metadata"])["annotations"]);
  return rec(rec(rec(rec(obj.raw["spec"])["template"])["metadata"])["annotations"]);
}

function annotationHits(object: string, annotations: Rec, keep: (key: string) => boolean): FieldHit[] {
  return Object.keys(annotations)
    .filter(keep)
    .flatMap((key) => {
      const consequence = configConsequence(key, String(annotations[key] ?? ""));
      return consequence === undefined ? [] : [{ field: `annotation ${key}`, object, consequence }];
    });
}

function routeHits(obj: K8sObject, object: string, exercised: Exercised): FieldHit[] {
  const group = obj.apiVersion.includes("/") ? obj.apiVersion.slice(0, obj.apiVersion.indexOf("/")) : "";
  if (!ROUTE_GROUPS.has(group)) return [];
  const spec = rec(obj.raw["spec"]);
  const fields = new Map<string, string>();
  for (const p of list(spec["parentRefs"])) {
    const kind = typeof rec(p)["kind"] === "string" ? (rec(p)["kind"] as string) : "Gateway";
    const consequence = PARENT_CONSEQUENCES[kind];
    if (consequence !== undefined) fields.set(`${obj.kind} parentRefs: ${kind}`, consequence);
  }
  for (const rule of list(spec["rules"])) {
    for (const m of list(rec(rule)["matches"])) {
      if (!exercised.headers && list(rec(m)["headers"]).length > 0) fields.set(`${obj.kind} matches[].headers`, HEADERS);
      if (!exercised.query && list(rec(m)["queryParams"]).length > 0) fields.set(`${obj.kind} matches[].queryParams`, QUERY);
    }
    const filters = [...list(rec(rule)["filters"]), ...list(rec(rule)["backendRefs"]).flatMap((b) => list(rec(b)["filters"]))];
    for (const f of filters) {
      const type = rec(f)["type"];
      // Other types make Linkerd refuse the route, which `meshsim check` reports as an error.
      const consequence = typeof type === "string" ? FILTER_CONSEQUENCES[type] : undefined;
      if (consequence !== undefined) fields.set(`${obj.kind} filters: ${type as string}`, consequence);
    }
  }
  return [...fields].map(([field, consequence]) => ({ field, object, consequence }));
}

const NODES = "nodes are not simulated: clients use every ready endpoint here, while in the cluster they use only endpoints on their own node, and fail when their node has none";
const ZONES = "zones are not simulated: clients use every ready endpoint here, while in the cluster topology-aware routing prefers endpoints in the client's own zone";
const AFFINITY = "client-IP affinity is not simulated: meshed clients' proxies balance every request themselves, here as in the cluster, but unmeshed clients would stick to one pod through kube-proxy, and here they spread their requests";
const EXTERNAL_POLICY = "traffic from outside the cluster is not simulated: node-local delivery of external traffic, and the uneven spread over pods it causes, do not arise here";
const EXTERNAL_NAME = "ExternalName Services are not simulated: nothing stands behind the outside name here, so requests to this Service find no endpoints";

function serviceHits(obj: K8sObject, object: string): FieldHit[] {
  const spec = rec(obj.raw["spec"]);
  const out: FieldHit[] = [];
  if (spec["sessionAffinity"] === "ClientIP") out.push({ field: "Service spec.sessionAffinity: ClientIP", object, consequence: AFFINITY });
  if (spec["externalTrafficPolicy"] === "Local") out.push({ field: "Service spec.externalTrafficPolicy: Local", object, consequence: EXTERNAL_POLICY });
  if (spec["internalTrafficPolicy"] === "Local") out.push({ field: "Service spec.internalTrafficPolicy: Local", object, consequence: NODES });
  if (spec["type"] === "ExternalName") out.push({ field: "Service spec.type: ExternalName", object, consequence: EXTERNAL_NAME });
  const annotations = obj.metadata.annotations;
  const topology = annotations["service.kubernetes.io/topology-mode"] ?? annotations["service.kubernetes.io/topology-aware-hints"];
  if (topology !== undefined && topology.toLowerCase() !== "disabled") out.push({ field: "Service topology-aware routing", object, consequence: ZONES });
  // Linkerd reads only the opaque-ports configuration annotation from a Service.
  out.push(...annotationHits(object, rec(rec(obj.raw["metadata"])["annotations"]), (k) => isConfigAnnotation(k) && k.endsWith("/opaque-ports")));
  return out;
}

/** Each field of these (already applied) objects that the simulated traffic does not exercise. */
export function unexercisedFields(objects: readonly K8sObject[], exercised: Exercised = NOTHING_EXERCISED): FieldHit[] {
  const out: FieldHit[] = [];
  for (const obj of objects) {
    const object = describeObject(obj);
    const annotations = rec(rec(obj.raw["metadata"])["annotations"]);
    if (!exercised.grpcStatus && (obj.kind === "Service" || obj.kind === "HTTPRoute" || obj.kind === "GRPCRoute") && annotations["retry.linkerd.io/grpc"] !== undefined) {
      out.push({ field: "annotation retry.linkerd.io/grpc", object, consequence: GRPC_RETRY });
    }
    if (obj.kind === "HTTPRoute" || obj.kind === "GRPCRoute") out.push(...routeHits(obj, object, exercised));
    else if (obj.kind === "Service") out.push(...serviceHits(obj, object));
    else if (obj.kind === "ServiceProfile" && hasEntries(rec(obj.raw["spec"])["opaquePorts"])) {
      out.push({ field: "ServiceProfile spec.opaquePorts", object, consequence: OPAQUE });
    } else if (obj.kind === "Namespace") out.push(...annotationHits(object, annotations, isConfigAnnotation));
    else if (WORKLOAD_KINDS.has(obj.kind)) out.push(...annotationHits(object, podAnnotations(obj), isConfigAnnotation));
  }
  return out;
}
