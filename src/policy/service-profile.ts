// ServiceProfile (linkerd.io/v1alpha2) parsed into what the outbound proxy ends up holding: routes,
// retry budget and dstOverrides, with diagnostics naming the real consequence of each problem.
// Mirrors linkerd2 `controller/api/destination/profile_translator.go` + `pkg/profiles/profiles.go`
// (validation, also run by the linkerd-sp-validator webhook) and the linkerd-crds ServiceProfile
// schema @ version-2.16, then linkerd2-proxy `linkerd/service-profiles/src/proto.rs` @ v2.246.0.
// Differences: durations are integer µs (sub-µs parts truncate); regexes compile with the engine the
// caller passes (upstream: the proxy's Rust `regex`).

import { DEFAULT_RETRY_BUDGET, type RetryBudgetSpec } from "./config.js";
import { type Parsed, objectRef } from "./diagnostics.js";
import { parseGoDuration } from "./duration.js";
import type { RegexEngine } from "./regex-engine.js";
import { convertResponseClasses } from "./classify.js";
import {
  NO_UPDATE,
  type ProfileContext,
  type ProfileRoute,
  type Rec,
  WEBHOOK_REFUSES,
  asRecord,
  convertRequestMatch,
  report,
  warnUnknownKeys,
} from "./profile-routes.js";
import { type DstOverride, parseQuantityMilli, toWeightDecimillis } from "./traffic-split.js";

export type { DstOverride };

export const DEFAULT_CLUSTER_DOMAIN = "cluster.local";

export interface ServiceProfile {
  name: string;
  namespace: string;
  /** The Service the name designates (`<svc>.<ns>.svc.<clusterDomain>`); undefined ⇒ the profile never applies. */
  service: { name: string; namespace: string } | undefined;
  /** Routes the proxy keeps, in order (routes whose condition failed to convert are gone). */
  routes: ProfileRoute[];
  /** Retry budget after proxy validation; undefined ⇒ every `isRetryable` route gets no retries. */
  retryBudget: RetryBudgetSpec | undefined;
  /** Every dstOverride the controller sends, zero weights included. */
  dstOverrides: DstOverride[];
  /** The destination controller sends no profile update for this object: proxies keep the previous profile (or none). */
  rejected: boolean;
  /** `kubectl apply` fails (CRD schema or the linkerd-sp-validator webhook); the other fields say what would happen if it were stored anyway. */
  admissionRejected: boolean;
}

export interface ServiceProfileOptions {
  /** Cluster DNS domain. Default `cluster.local`. */
  clusterDomain?: string;
  /** Compiles route `pathRegex`es; required, there is no default engine. */
  regexEngine: RegexEngine;
}

/** The name a ServiceProfile must have to apply to a Service. */
export function profileFqdn(service: string, namespace: string, clusterDomain: string = DEFAULT_CLUSTER_DOMAIN): string {
  return `${service}.${namespace}.svc.${clusterDomain}`;
}

/** Parse a ServiceProfile object as the destination controller and the proxy would see it. */
export function parseServiceProfile(obj: unknown, options: ServiceProfileOptions): Parsed<ServiceProfile> {
  const rec = asRecord(obj) ?? {};
  const meta = asRecord(rec["metadata"]) ?? {};
  const name = typeof meta["name"] === "string" ? meta["name"] : "";
  const namespace = typeof meta["namespace"] === "string" ? meta["namespace"] : "";
  const ctx: ProfileContext = {
    object: objectRef("ServiceProfile", namespace, name), diagnostics: [], regexEngine: options.regexEngine, rejected: false, admissionRejected: false,
  };
  if (asRecord(obj) === undefined || (rec["kind"] !== undefined && rec["kind"] !== "ServiceProfile")) {
    report(ctx, "error", "profile-not-a-profile", "kind", "this is not a ServiceProfile object: it is ignored.", { admission: true, controller: true });
  }
  const service = parseProfileName(ctx, name, namespace, options.clusterDomain ?? DEFAULT_CLUSTER_DOMAIN);
  const spec = asRecord(rec["spec"]) ?? {};
  warnUnknownKeys(ctx, spec, ["routes", "retryBudget", "dstOverrides", "opaquePorts"], "spec");
  const routes = parseRoutes(ctx, spec["routes"]);
  const budget = parseRetryBudget(ctx, spec["retryBudget"], routes);
  for (const route of routes) route.retriesEnabled = route.isRetryable && budget !== undefined;
  const dstOverrides = parseDstOverrides(ctx, spec["dstOverrides"]);
  const value: ServiceProfile = {
    name, namespace, service, routes, retryBudget: budget, dstOverrides,
    rejected: ctx.rejected, admissionRejected: ctx.admissionRejected,
  };
  return { value, diagnostics: ctx.diagnostics };
}

function parseProfileName(ctx: ProfileContext, name: string, namespace: string, clusterDomain: string): ServiceProfile["service"] {
  const suffix = `.svc.${clusterDomain}`;
  const parts = name.endsWith(suffix) ? name.slice(0, -suffix.length).split(".") : [];
  const [svc, svcNamespace] = parts;
  if (parts.length !== 2 || svc === undefined || svcNamespace === undefined || svc === "" || svcNamespace === "") {
    report(ctx, "warning", "profile-name-not-fqdn", "metadata.name",
      `"${name}" is not of the form <service>.<namespace>${suffix}: the destination controller looks profiles up only by that name, so this ServiceProfile never applies to any traffic.`);
    return undefined;
  }
  if (svcNamespace !== namespace) {
    report(ctx, "info", "profile-client-namespace", "metadata.namespace",
      `this profile for ${svc}.${svcNamespace} lives in namespace "${namespace}": it applies only to clients running in "${namespace}", and for them it replaces the profile in "${svcNamespace}".`);
  }
  return { name: svc, namespace: svcNamespace };
}

function parseRoutes(ctx: ProfileContext, raw: unknown): ProfileRoute[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    report(ctx, "error", "profile-routes-not-list", "spec.routes", "`routes` must be a list: the API server rejects the object; the simulator treats it as having no routes.", { admission: true });
    return [];
  }
  const routes: ProfileRoute[] = [];
  raw.forEach((r: unknown, i) => {
    const route = parseRoute(ctx, r, `spec.routes[${i}]`);
    if (route !== undefined) routes.push(route);
  });
  return routes;
}

function parseRoute(ctx: ProfileContext, raw: unknown, field: string): ProfileRoute | undefined {
  const rec = asRecord(raw);
  if (rec === undefined) {
    report(ctx, "error", "profile-route-not-object", field, `a route must be an object: ${NO_UPDATE}.`, { admission: true, controller: true });
    return undefined;
  }
  warnUnknownKeys(ctx, rec, ["name", "condition", "responseClasses", "isRetryable", "timeout"], field);
  const name = typeof rec["name"] === "string" ? rec["name"] : "";
  if (name === "") {
    report(ctx, "warning", "profile-route-name-missing", `${field}.name`, `the route has no name: ${WEBHOOK_REFUSES} (if stored anyway, it works with an empty \`route\` metrics label).`, { admission: true });
  }
  if (asRecord(rec["condition"]) === undefined) {
    report(ctx, "error", "profile-route-condition-missing", `${field}.condition`, `the route has no condition object: ${WEBHOOK_REFUSES}; if stored anyway, ${NO_UPDATE}.`, { admission: true, controller: true });
    return undefined;
  }
  checkTopLevelNot(ctx, asRecord(rec["condition"]) ?? {}, `${field}.condition`);
  const condition = convertRequestMatch(ctx, rec["condition"], `${field}.condition`);
  const responseClasses = convertResponseClasses(ctx, rec["responseClasses"], `${field}.responseClasses`);
  const isRetryable = rec["isRetryable"] === true;
  const timeoutUs = parseRouteTimeout(ctx, rec["timeout"], `${field}.timeout`);
  if (condition === undefined) {
    report(ctx, "error", "profile-route-dropped", `${field}.condition`, `the proxy cannot convert the condition of route "${name}", so it drops the route: its requests fall through to later routes or the default route.`);
    return undefined;
  }
  const route: ProfileRoute = { name, condition, responseClasses, isRetryable, retriesEnabled: false };
  if (timeoutUs !== undefined) route.timeoutUs = timeoutUs;
  return route;
}

// The 2.15/2.16 linkerd-crds schema declares a route condition's top-level `not` as a list while the
// Go type wants one object (the response-class twin was fixed by linkerd2#11510); so neither spelling
// can be applied. Nested `not`s (under `all`/`any`) are not schema-checked and work.
function checkTopLevelNot(ctx: ProfileContext, condition: Rec, field: string): void {
  if (!("not" in condition) || condition["not"] === null) return;
  report(ctx, "error", "profile-condition-not-unusable", `${field}.not`,
    "the ServiceProfile CRD schema types a route condition's top-level `not` as a list, but Linkerd decodes it as one condition: the API server refuses an object here and the webhook refuses a list, so `kubectl apply` fails either way. Put it inside `all:` instead (`all: [{not: {...}}]`).",
    { admission: true });
}

function parseRouteTimeout(ctx: ProfileContext, raw: unknown, field: string): number | undefined {
  if (raw === undefined || raw === null || raw === "") return undefined;
  if (typeof raw !== "string") {
    report(ctx, "error", "profile-route-timeout-invalid", field, `timeout must be a string such as "500ms": the API server rejects the object; the simulator uses no timeout.`, { admission: true });
    return undefined;
  }
  const parsed = parseGoDuration(raw);
  if (!parsed.ok) {
    report(ctx, "error", "profile-route-timeout-invalid", field, `${parsed.error}: ${WEBHOOK_REFUSES}; if stored anyway, the controller logs an error and the route gets no timeout.`, { admission: true });
    return undefined;
  }
  if (parsed.us < 0) {
    report(ctx, "warning", "profile-route-timeout-negative", field, `timeout "${raw}" is negative: the proxy ignores it, so the route has no timeout.`);
    return undefined;
  }
  if (parsed.us === 0) {
    report(ctx, "info", "profile-route-timeout-zero", field, `timeout "${raw}" is zero, which the controller sends as "no timeout".`);
    return undefined;
  }
  return parsed.us;
}

const I32_MAX = 2_147_483_647;
const U32_MAX = 4_294_967_295;
const TTL_MIN_US = 1_000_000;
const TTL_MAX_US = 60_000_000;

function parseRetryBudget(ctx: ProfileContext, raw: unknown, routes: readonly ProfileRoute[]): RetryBudgetSpec | undefined {
  if (raw === undefined || raw === null) return { ...DEFAULT_RETRY_BUDGET };
  const field = "spec.retryBudget";
  const rec = asRecord(raw) ?? {};
  warnUnknownKeys(ctx, rec, ["retryRatio", "minRetriesPerSecond", "ttl"], field);
  const ratio = readBudgetNumber(ctx, rec, "retryRatio",
    "a retryBudget without retryRatio gets ratio 0 (there is no per-field default): successful requests earn no retry credit, so only the minRetriesPerSecond reserve allows retries");
  const minRps = readBudgetNumber(ctx, rec, "minRetriesPerSecond",
    "a retryBudget without minRetriesPerSecond gets 0 (there is no per-field default): there is no reserve, so retries are possible only after successful requests have deposited credit");
  const ttlUs = readBudgetTtl(ctx, rec["ttl"]);
  if (ratio === undefined || minRps === undefined || ttlUs === undefined) return undefined;
  const retryRatio = Math.fround(ratio);
  const problems: string[] = [];
  if (!(retryRatio >= 0 && retryRatio <= 1000)) problems.push(`retryRatio ${ratio} is outside 0..1000`);
  if (!Number.isInteger(minRps) || minRps < 0 || minRps > U32_MAX) {
    report(ctx, "error", "profile-retry-budget-invalid", `${field}.minRetriesPerSecond`, `minRetriesPerSecond ${minRps} is not an unsigned 32-bit integer: Linkerd cannot decode the object, so ${NO_UPDATE}.`, { admission: true, controller: true });
    return undefined;
  }
  if (minRps > I32_MAX) problems.push(`minRetriesPerSecond ${minRps} exceeds ${I32_MAX}`);
  if (minRps === I32_MAX) {
    // The proxy's check lets i32::MAX itself through (`<=`), but tower's `Budget::new` asserts below it.
    report(ctx, "error", "profile-retry-budget-invalid", `${field}.minRetriesPerSecond`,
      `minRetriesPerSecond ${I32_MAX} passes the proxy's own check but tower's Budget::new asserts it is below ${I32_MAX}: the proxy panics building the budget. meshsim runs the profile without a budget, so its retryable routes get no retries.`);
    return undefined;
  }
  if (ttlUs < TTL_MIN_US || ttlUs > TTL_MAX_US) problems.push(`ttl ${String(rec["ttl"])} is outside 1s..60s`);
  if (ratio < 0) report(ctx, "error", "profile-retry-ratio-negative", `${field}.retryRatio`, `retryRatio is negative: ${WEBHOOK_REFUSES}.`, { admission: true });
  if (problems.length === 0) return { retryRatio, minRetriesPerSecond: minRps, ttlUs };
  const retryable = routes.filter((r) => r.isRetryable).map((r) => `"${r.name}"`);
  const victims = retryable.length === 0 ? "no route is isRetryable, so nothing changes today" : `so the isRetryable route(s) ${retryable.join(", ")} get no retries at all`;
  report(ctx, "error", "profile-retry-budget-invalid", field, `${problems.join("; ")}: the proxy discards the whole retry budget, ${victims}.`);
  return undefined;
}

function readBudgetNumber(ctx: ProfileContext, rec: Rec, key: string, missing: string): number | undefined {
  const v = rec[key];
  if (v === undefined || v === null) {
    report(ctx, "warning", "profile-retry-budget-field-missing", `spec.retryBudget.${key}`, `${missing}. The CRD requires the field, so \`kubectl apply\` fails.`, { admission: true });
    return 0;
  }
  if (typeof v !== "number" || Number.isNaN(v)) {
    report(ctx, "error", "profile-retry-budget-invalid", `spec.retryBudget.${key}`, `${key} must be a number: Linkerd cannot decode the object, so ${NO_UPDATE}.`, { admission: true, controller: true });
    return undefined;
  }
  return v;
}

function readBudgetTtl(ctx: ProfileContext, raw: unknown): number | undefined {
  const field = "spec.retryBudget.ttl";
  if (raw === undefined || raw === null || raw === "") {
    report(ctx, "error", "profile-retry-budget-ttl-missing", field, `a retryBudget without ttl cannot be parsed (Go's time.ParseDuration("") fails): ${NO_UPDATE}. The CRD and the webhook also refuse it at apply time.`, { admission: true, controller: true });
    return undefined;
  }
  const parsed = typeof raw === "string" ? parseGoDuration(raw) : { ok: false as const, error: `ttl must be a string such as "10s", not ${JSON.stringify(raw)}` };
  if (!parsed.ok) {
    report(ctx, "error", "profile-retry-budget-ttl-invalid", field, `${parsed.error}: ${NO_UPDATE}. The webhook also refuses it at apply time.`, { admission: true, controller: true });
    return undefined;
  }
  return parsed.us;
}

function parseDstOverrides(ctx: ProfileContext, raw: unknown): DstOverride[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    report(ctx, "error", "profile-dst-overrides-not-list", "spec.dstOverrides", "`dstOverrides` must be a list: the API server rejects the object; the simulator treats it as empty.", { admission: true });
    return [];
  }
  const list: unknown[] = raw;
  const out: DstOverride[] = [];
  list.forEach((item: unknown, i) => {
    const field = `spec.dstOverrides[${i}]`;
    const rec = asRecord(item) ?? {};
    warnUnknownKeys(ctx, rec, ["authority", "weight"], field);
    const authority = typeof rec["authority"] === "string" ? rec["authority"] : "";
    const weight = rec["weight"] ?? 0;
    const milli = parseQuantityMilli(weight);
    if (!milli.ok) {
      report(ctx, "error", "profile-dst-override-weight-invalid", `${field}.weight`, `${milli.error}: the API server rejects the object (and Linkerd could not decode it), so ${NO_UPDATE}.`, { admission: true, controller: true });
      return;
    }
    const weightDecimillis = toWeightDecimillis(milli.milli);
    if (weightDecimillis === 0) {
      report(ctx, "info", "profile-dst-override-weight-zero", `${field}.weight`, `weight ${JSON.stringify(weight)} is 0 after conversion: the proxy drops this dstOverride.`);
    } else if (milli.milli < 0 || milli.milli * 10 > U32_MAX) {
      report(ctx, "warning", "profile-dst-override-weight-wraps", `${field}.weight`, `weight ${JSON.stringify(weight)} does not fit Linkerd's unsigned 32-bit decimillis: Go wraps it to ${weightDecimillis}, which is what the proxy uses.`);
    }
    out.push({ authority, weightDecimillis });
  });
  return out;
}
