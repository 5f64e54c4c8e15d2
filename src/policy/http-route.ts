// HTTPRoute objects (policy.linkerd.io v1beta1..3, gateway.networking.k8s.io v1/v1beta1) parsed
// into the rules the outbound proxy routes by, and the backend distribution of a rule. Also holds
// the parts GRPCRoute shares (parentRefs, backendRefs, filters, header matches, default route).
// Mirrors `policy-controller/k8s/index/src/outbound/index/http.rs` (`convert_route`,
// `convert_backend`) and `policy-controller/grpc/src/outbound.rs` (`to_service`, default route)
// @ linkerd2 version-2.16. Differences: annotations and `timeouts` are returned raw (the mesh layer
// parses them); a rule whose backendRefs all weigh 0 fails its requests with 500 (our choice);
// regexes compile with the engine the caller passes (upstream: Rust `regex`).

import { type Diagnostic, type Parsed, type Severity, objectRef } from "./diagnostics.js";
import { NEVER_MATCHES, type RegexEngine, type RegexMatcher } from "./regex-engine.js";
import type { HeaderMatch, HttpRequestMatch, MatchableRoute, PathMatchType, QueryParamMatch, RequestMatch, ValueMatch } from "./route-match.js";
import { sortRoutes } from "./route-match.js";

export type Rec = Record<string, unknown>;

/** The Service (and port) a client dials; the only kind of parent outbound policy knows. */
export interface ServiceParent {
  namespace: string;
  name: string;
  /** Service port the client dials. */
  port: number;
}

export interface ParentRef {
  /** Defaults to `gateway.networking.k8s.io` (Gateway API), so a Service parent must say `core` or "". */
  group: string;
  /** Defaults to `Gateway`. */
  kind: string;
  /** Defaults to the route's namespace. */
  namespace: string;
  name: string;
  /** Service port; absent ⇒ the route attaches to every port of the Service. */
  port?: number;
  /** kind Service in the core group: the only parents Linkerd's outbound policy uses. */
  isService: boolean;
}

export interface BackendRef {
  /** Defaults to "" (core). */
  group: string;
  /** Defaults to `Service`. */
  kind: string;
  /** Defaults to the route's namespace. */
  namespace: string;
  name: string;
  /** Required for Services; absent ⇒ the backend answers 500. */
  port?: number;
  /** Relative weight; default 1; 0 ⇒ the proxy drops the backend. */
  weight: number;
}

/** A rule filter, kept raw; `type` is e.g. `RequestHeaderModifier` or `RequestRedirect`. */
export interface RouteFilter {
  type: string;
  raw: unknown;
}

export interface RouteRule {
  /** HTTPRoute: never empty after parsing (PathPrefix `/` filled in). Empty ⇒ matches every request. */
  matches: RequestMatch[];
  /** Empty ⇒ FirstAvailable to the parent Service itself. */
  backendRefs: BackendRef[];
  filters: RouteFilter[];
  /** policy.linkerd.io `timeouts.request`, raw (e.g. "5s"); absent ⇒ not set. */
  timeoutsRequestRaw?: string;
  /** policy.linkerd.io `timeouts.backendRequest`, raw; absent ⇒ not set. */
  timeoutsBackendRequestRaw?: string;
}

export interface OutboundRoute extends MatchableRoute {
  kind: "HTTPRoute" | "GRPCRoute";
  group: string;
  version: string;
  name: string;
  namespace: string;
  creationTimestamp?: string;
  /** Raw `metadata.annotations` (retry.linkerd.io/*, timeout.linkerd.io/*, ...). */
  annotations: Record<string, string>;
  parentRefs: ParentRef[];
  hostnames: string[];
  rules: RouteRule[];
  /** false ⇒ Kubernetes or Linkerd never applies this route; `rejectedReason` says why. */
  accepted: boolean;
  rejectedReason?: string;
  /** true for the default route Linkerd synthesizes for a Service without routes. */
  synthetic: boolean;
}

// ---- defensive readers for YAML-shaped objects ----

export function asRecord(v: unknown): Rec | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Rec) : undefined;
}
export function asString(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}
export function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
function asInteger(v: unknown): number | undefined {
  return typeof v === "number" && Number.isInteger(v) ? v : undefined;
}
/** YAML loaders may turn an unquoted timestamp into a Date; accept both without touching `Date`. */
function asTimestamp(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  const iso = (v as { toISOString?: unknown } | null)?.toISOString;
  return typeof iso === "function" ? String(iso.call(v)).replace(/\.000Z$/, "Z") : undefined;
}

/** Collects diagnostics for one route object and records whether it is rejected. */
export interface RouteContext {
  route: OutboundRoute;
  diagnostics: Diagnostic[];
  /** Compiles RegularExpression matches (Linkerd: Rust `regex`). */
  regexEngine: RegexEngine;
  note(severity: Severity, field: string, code: string, message: string): void;
  /** An error that keeps the whole route from ever applying. */
  reject(field: string, code: string, message: string): void;
}

/** Read apiVersion, kind and metadata; `versions` lists the served versions per group. */
export function startRoute(obj: unknown, kind: OutboundRoute["kind"], versions: Readonly<Record<string, readonly string[]>>, regexEngine: RegexEngine): RouteContext {
  const top = asRecord(obj) ?? {};
  const meta = asRecord(top["metadata"]) ?? {};
  const [group = "", version = ""] = (asString(top["apiVersion"]) ?? "").split("/");
  const name = asString(meta["name"]) ?? "<unnamed>";
  const namespace = asString(meta["namespace"]) ?? "default";
  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(asRecord(meta["annotations"]) ?? {})) if (typeof v === "string") annotations[k] = v;
  const route: OutboundRoute = { kind, group, version, name, namespace, annotations, parentRefs: [], hostnames: [], rules: [], accepted: true, synthetic: false };
  const ts = asTimestamp(meta["creationTimestamp"]);
  if (ts !== undefined) route.creationTimestamp = ts;
  const diagnostics: Diagnostic[] = [];
  const object = objectRef(kind, namespace, name);
  const ctx: RouteContext = {
    route,
    diagnostics,
    regexEngine,
    note: (severity, field, code, message) => diagnostics.push({ severity, code, object, field, message }),
    reject: (field, code, message) => {
      diagnostics.push({ severity: "error", code, object, field, message });
      route.accepted = false;
      route.rejectedReason ??= message;
    },
  };
  if (top["kind"] !== kind) ctx.reject("kind", "route-kind-mismatch", `expected kind ${kind}, got ${String(top["kind"])}: not parsed as a ${kind}`);
  const served = versions[group];
  if (served === undefined) {
    ctx.reject("apiVersion", "route-group-unsupported", `${kind} group "${group}" is not one Linkerd 2.16 watches (${Object.keys(versions).join(", ")}): the route has no effect`);
  } else if (!served.includes(version)) {
    ctx.note("warning", "apiVersion", "route-version-unknown", `${group}/${version} is not a served ${kind} version (${served.join(", ")}): the API server would refuse the object`);
  }
  if (meta["name"] === undefined) ctx.reject("metadata.name", "route-name-missing", "the route has no name: the API server refuses it");
  if (meta["namespace"] === undefined) ctx.note("info", "metadata.namespace", "route-namespace-defaulted", `no namespace given: assumed "default"`);
  readParentsAndHosts(ctx, asRecord(top["spec"]) ?? {});
  return ctx;
}

function readParentsAndHosts(ctx: RouteContext, spec: Rec): void {
  const parents = asArray(spec["parentRefs"]);
  if (parents.length === 0) ctx.note("warning", "spec.parentRefs", "route-no-parent", "the route has no parentRefs: it attaches to nothing, so no request ever uses it");
  parents.forEach((raw, i) => {
    const p = asRecord(raw) ?? {};
    const group = asString(p["group"]) ?? "gateway.networking.k8s.io";
    const kind = asString(p["kind"]) ?? "Gateway";
    const ref: ParentRef = { group, kind, namespace: asString(p["namespace"]) ?? ctx.route.namespace, name: asString(p["name"]) ?? "", isService: kind === "Service" && (group === "" || group === "core") };
    const port = asInteger(p["port"]);
    if (port !== undefined) ref.port = port;
    if (!ref.isService) {
      ctx.note("warning", `spec.parentRefs[${i}]`, "route-parent-not-service", `parentRef ${group === "" ? "core" : group}/${kind} ${ref.name} is not a Service: Linkerd's outbound policy only applies HTTPRoutes whose parentRef is a Service, so meshed clients ignore this parentRef`);
    }
    ctx.route.parentRefs.push(ref);
  });
  for (const h of asArray(spec["hostnames"])) if (typeof h === "string") ctx.route.hostnames.push(h);
}

/**
 * Compile a RegularExpression match. Linkerd parses it with Rust `regex` in the policy-validator
 * webhook (which also guards gateway.networking.k8s.io routes) and again when indexing, where a
 * failure drops the whole route; a pattern that does not compile rejects the route here too.
 */
export function compileRegex(ctx: RouteContext, pattern: string, field: string): RegexMatcher {
  const compiled = ctx.regexEngine.compile(pattern);
  if (compiled.ok) return compiled.matcher;
  if (compiled.problem === "unsupported") {
    ctx.reject(field, "route-regex-unsupported", `regular expression "${pattern}" is valid for Linkerd (Rust \`regex\`), but meshsim's ${ctx.regexEngine.dialect} engine cannot run it faithfully: ${compiled.reason}. meshsim leaves this route out, which Linkerd would not`);
  } else {
    ctx.reject(field, "route-regex-invalid", `regular expression "${pattern}" does not compile: ${compiled.reason}. Linkerd's policy-validator webhook refuses the object, so \`kubectl apply\` fails; if it is stored anyway, the policy controller cannot convert the route and ignores it, so it never applies`);
  }
  return NEVER_MATCHES;
}

/** An Exact or RegularExpression value match of a header or query parameter. */
function parseValueMatch(ctx: RouteContext, rec: Rec, field: string): ValueMatch {
  const value = asString(rec["value"]) ?? "";
  if (rec["type"] !== "RegularExpression") return { type: "Exact", value };
  return { type: "RegularExpression", value, matcher: compileRegex(ctx, value, `${field}.value`) };
}

export function parseHeaderMatches(ctx: RouteContext, raw: unknown, field: string): HeaderMatch[] {
  return asArray(raw).map((item, i) => {
    const rec = asRecord(item) ?? {};
    const name = (asString(rec["name"]) ?? "").toLowerCase();
    if (name === "") ctx.reject(`${field}[${i}].name`, "route-header-name-missing", "a header match has no name: the API server refuses the object");
    return { name, ...parseValueMatch(ctx, rec, `${field}[${i}]`) };
  });
}

function parseBackendRefs(ctx: RouteContext, raw: unknown, field: string): BackendRef[] {
  const refs = asArray(raw).map((item, i) => {
    const rec = asRecord(item) ?? {};
    const f = `${field}[${i}]`;
    const ref: BackendRef = {
      group: asString(rec["group"]) ?? "",
      kind: asString(rec["kind"]) ?? "Service",
      namespace: asString(rec["namespace"]) ?? ctx.route.namespace,
      name: asString(rec["name"]) ?? "",
      weight: rec["weight"] === undefined ? 1 : (asInteger(rec["weight"]) ?? -1),
    };
    const port = asInteger(rec["port"]);
    if (port !== undefined && port > 0) ref.port = port;
    if (ref.weight < 0 || ref.weight > 1_000_000) {
      ctx.reject(`${f}.weight`, "route-backend-weight-invalid", `weight ${String(rec["weight"])} is not an integer in 0..1000000: the API server refuses the object`);
      ref.weight = 1;
    } else if (ref.weight === 0) {
      ctx.note("info", `${f}.weight`, "route-backend-weight-zero", `backendRef ${ref.name} has weight 0: the proxy drops it and sends it no traffic`);
    }
    if (!isServiceKind(ref)) {
      ctx.note("warning", f, "route-backend-kind-unsupported", `backendRef ${ref.name} is ${ref.group || "core"}/${ref.kind}, not a Service: its share of requests fails with HTTP 500 "${unsupportedMessage(ref)}"`);
    } else if (ref.port === undefined) {
      ctx.note("warning", `${f}.port`, "route-backend-port-missing", `backendRef Service ${ref.name} has no port: its share of requests fails with HTTP 500 "missing port for backend Service ${ref.name}"`);
    }
    return ref;
  });
  if (refs.length > 0 && refs.every((r) => r.weight === 0)) {
    ctx.note("warning", field, "route-backend-all-weights-zero", "every backendRef of this rule has weight 0: Linkerd has no valid distribution; the simulator fails matching requests with HTTP 500 (Gateway API's rule for a rule without usable backends)");
  }
  return refs;
}

function isServiceKind(ref: BackendRef): boolean {
  return ref.kind === "Service" && (ref.group === "" || ref.group === "core");
}
function unsupportedMessage(ref: BackendRef): string {
  return `unsupported backend type ${ref.group || "core"} ${ref.kind}`;
}

/** Filters Linkerd 2.16 turns into proxy filters; any other type makes the controller drop the route. */
export const SUPPORTED_HTTP_FILTERS: readonly string[] = ["RequestHeaderModifier", "ResponseHeaderModifier", "RequestRedirect"];

function parseFilters(ctx: RouteContext, raw: unknown, field: string, supported: readonly string[]): RouteFilter[] {
  return asArray(raw).map((item, i) => {
    const type = asString(asRecord(item)?.["type"]) ?? "";
    if (!supported.includes(type)) {
      ctx.reject(`${field}[${i}].type`, "route-filter-unsupported", `filter type "${type}" is not supported by Linkerd 2.16 (${supported.join(", ")}): the policy controller refuses the whole ${ctx.route.kind}, so none of its rules apply`);
    }
    return { type, raw: item };
  });
}

/** backendRefs and filters of one rule; the caller fills in `matches`. */
export function parseRuleCommon(ctx: RouteContext, raw: unknown, field: string, filterTypes: readonly string[]): RouteRule {
  const rec = asRecord(raw) ?? {};
  return {
    matches: [],
    backendRefs: parseBackendRefs(ctx, rec["backendRefs"], `${field}.backendRefs`),
    filters: parseFilters(ctx, rec["filters"], `${field}.filters`, filterTypes),
  };
}

// ---- HTTP matches ----

const PATH_TYPES: readonly string[] = ["Exact", "PathPrefix", "RegularExpression"];

function parsePath(ctx: RouteContext, raw: unknown, field: string): HttpRequestMatch["path"] {
  const rec = asRecord(raw);
  // Gateway API defaults an absent path, type or value to PathPrefix `/`.
  const type = asString(rec?.["type"]) ?? "PathPrefix";
  const value = asString(rec?.["value"]) ?? "/";
  if (!PATH_TYPES.includes(type)) {
    ctx.reject(`${field}.type`, "route-path-type-invalid", `path match type "${type}" is not Exact, PathPrefix or RegularExpression: the API server refuses the object`);
    return { type: "PathPrefix", value };
  }
  if (type === "RegularExpression") return { type, value, matcher: compileRegex(ctx, value, `${field}.value`) };
  if (!value.startsWith("/")) {
    ctx.reject(`${field}.value`, "route-path-not-absolute", `${type} path "${value}" does not start with "/": the API server refuses the object, so the route does not exist`);
  }
  return { type: type as Exclude<PathMatchType, "RegularExpression">, value };
}

function parseQueryParams(ctx: RouteContext, raw: unknown, field: string): QueryParamMatch[] {
  return asArray(raw).map((item, i) => {
    const rec = asRecord(item) ?? {};
    const name = asString(rec["name"]) ?? "";
    if (name === "") ctx.reject(`${field}[${i}].name`, "route-query-name-missing", "a query param match has no name: the API server refuses the object");
    return { name, ...parseValueMatch(ctx, rec, `${field}[${i}]`) };
  });
}

function parseHttpMatch(ctx: RouteContext, raw: unknown, field: string): HttpRequestMatch {
  const rec = asRecord(raw) ?? {};
  const match: HttpRequestMatch = {
    kind: "http",
    path: parsePath(ctx, rec["path"], `${field}.path`),
    headers: parseHeaderMatches(ctx, rec["headers"], `${field}.headers`),
    queryParams: parseQueryParams(ctx, rec["queryParams"], `${field}.queryParams`),
  };
  const method = asString(rec["method"]);
  if (method !== undefined) match.method = method;
  return match;
}

function readTimeouts(ctx: RouteContext, raw: unknown, field: string, rule: RouteRule): void {
  const timeouts = asRecord(raw);
  if (timeouts === undefined) return;
  if (ctx.route.group !== "policy.linkerd.io") {
    ctx.note("info", field, "route-timeouts-ignored", "Linkerd 2.16 does not read `timeouts` on gateway.networking.k8s.io HTTPRoutes: use the timeout.linkerd.io annotations or a policy.linkerd.io HTTPRoute");
    return;
  }
  const request = asString(timeouts["request"]);
  const backendRequest = asString(timeouts["backendRequest"]);
  if (request !== undefined) rule.timeoutsRequestRaw = request;
  if (backendRequest !== undefined) rule.timeoutsBackendRequestRaw = backendRequest;
}

const HTTP_VERSIONS: Readonly<Record<string, readonly string[]>> = {
  "policy.linkerd.io": ["v1beta1", "v1beta2", "v1beta3"],
  "gateway.networking.k8s.io": ["v1", "v1beta1"],
};

/**
 * Parse an HTTPRoute into what Linkerd 2.16's outbound policy makes of it. `accepted: false` when
 * Kubernetes or Linkerd would never apply it (the diagnostics say why). `regexEngine` compiles
 * RegularExpression matches.
 */
export function parseHttpRoute(obj: unknown, regexEngine: RegexEngine): Parsed<OutboundRoute> {
  const ctx = startRoute(obj, "HTTPRoute", HTTP_VERSIONS, regexEngine);
  const rawRules = asArray(asRecord(asRecord(obj)?.["spec"])?.["rules"]);
  // Gateway API defaults `rules` to a single rule: PathPrefix `/`, no backendRefs.
  ctx.route.rules = (rawRules.length === 0 ? [{}] : rawRules).map((raw, i) => {
    const field = `spec.rules[${i}]`;
    const rule = parseRuleCommon(ctx, raw, field, SUPPORTED_HTTP_FILTERS);
    const matches = asArray(asRecord(raw)?.["matches"]);
    rule.matches =
      matches.length === 0
        ? [{ kind: "http", path: { type: "PathPrefix", value: "/" }, headers: [], queryParams: [] }]
        : matches.map((m, j) => parseHttpMatch(ctx, m, `${field}.matches[${j}]`));
    readTimeouts(ctx, asRecord(raw)?.["timeouts"], `${field}.timeouts`, rule);
    return rule;
  });
  return { value: ctx.route, diagnostics: ctx.diagnostics };
}

// ---- default route, parent selection and backends ----

/** The route Linkerd synthesizes for a Service with no routes: match everything, send to the Service. */
export function defaultRoute(parent: ServiceParent, kind: OutboundRoute["kind"] = "HTTPRoute"): OutboundRoute {
  return {
    kind,
    group: "core",
    version: "",
    name: "default",
    namespace: parent.namespace,
    annotations: {},
    parentRefs: [{ group: "core", kind: "Service", namespace: parent.namespace, name: parent.name, port: parent.port, isService: true }],
    hostnames: [],
    rules: [{ matches: [], backendRefs: [], filters: [] }],
    accepted: true,
    synthetic: true,
  };
}

export interface ParentRoutes {
  protocol: "http" | "grpc";
  /** In controller order; the synthesized default route when nothing attaches. */
  routes: OutboundRoute[];
  reason: string;
}

/** The routes a client dialing `parent` uses: GRPCRoutes win over HTTPRoutes, as in 2.16's `to_service`. */
export function routesForParent(routes: readonly OutboundRoute[], parent: ServiceParent): ParentRoutes {
  const attached = routes.filter(
    (r) => r.accepted && r.parentRefs.some((p) => p.isService && p.namespace === parent.namespace && p.name === parent.name && (p.port === undefined || p.port === parent.port)),
  );
  const grpc = attached.filter((r) => r.kind === "GRPCRoute");
  const http = attached.filter((r) => r.kind === "HTTPRoute");
  if (grpc.length > 0) {
    const ignored = http.length > 0 ? `; ${http.length} HTTPRoute(s) are ignored while GRPCRoutes exist` : "";
    return { protocol: "grpc", routes: sortRoutes(grpc), reason: `${grpc.length} GRPCRoute(s) attached${ignored}` };
  }
  if (http.length > 0) return { protocol: "http", routes: sortRoutes(http), reason: `${http.length} HTTPRoute(s) attached` };
  return { protocol: "http", routes: [defaultRoute(parent)], reason: "no routes attached: synthesized default route to the Service" };
}

export type EffectiveBackend =
  | { kind: "service"; namespace: string; name: string; port: number; weight: number }
  | { kind: "failure"; weight: number; status: 500; message: string };

export interface BackendDistribution {
  /** first-available: the parent Service (no backendRefs); random-available: weighted backendRefs;
   *  no-backend: every backendRef weighs 0, so the single failure backend answers 500. */
  kind: "first-available" | "random-available" | "no-backend";
  backends: EffectiveBackend[];
  reason: string;
  diagnostics: Diagnostic[];
}

/** Does a Service `namespace/name` exist in the cluster? */
export type ServiceExists = (namespace: string, name: string) => boolean;

/** The backends a rule's requests are spread over, as the proxy receives them. */
export function effectiveBackends(route: OutboundRoute, rule: RouteRule, parent: ServiceParent, serviceExists: ServiceExists): BackendDistribution {
  const diagnostics: Diagnostic[] = [];
  if (rule.backendRefs.length === 0) {
    const backends: EffectiveBackend[] = [{ kind: "service", namespace: parent.namespace, name: parent.name, port: parent.port, weight: 1 }];
    return { kind: "first-available", backends, reason: "rule has no backendRefs: requests go to the parent Service", diagnostics };
  }
  const backends: EffectiveBackend[] = [];
  for (const ref of rule.backendRefs) {
    if (ref.weight === 0) continue;
    if (!isServiceKind(ref)) backends.push({ kind: "failure", weight: ref.weight, status: 500, message: unsupportedMessage(ref) });
    else if (ref.port === undefined) backends.push({ kind: "failure", weight: ref.weight, status: 500, message: `missing port for backend Service ${ref.name}` });
    else if (!serviceExists(ref.namespace, ref.name)) {
      backends.push({ kind: "failure", weight: ref.weight, status: 500, message: `Service not found ${ref.name}` });
      diagnostics.push({
        severity: "warning",
        code: "route-backend-service-not-found",
        object: objectRef(route.kind, route.namespace, route.name),
        field: "spec.rules[].backendRefs",
        message: `backendRef Service ${ref.namespace}/${ref.name} does not exist: its share of requests fails with HTTP 500 "Service not found ${ref.name}"`,
      });
    } else backends.push({ kind: "service", namespace: ref.namespace, name: ref.name, port: ref.port, weight: ref.weight });
  }
  if (backends.length === 0) {
    const message = "all backendRefs have weight 0";
    return { kind: "no-backend", backends: [{ kind: "failure", weight: 1, status: 500, message }], reason: `${message}: no valid distribution, requests fail with 500`, diagnostics };
  }
  const failing = backends.filter((b) => b.kind === "failure").length;
  return { kind: "random-available", backends, reason: `${backends.length} weighted backend(s), ${failing} of them failing with 500`, diagnostics };
}
