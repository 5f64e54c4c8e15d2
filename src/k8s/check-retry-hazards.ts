// `meshsim check` rules for retries that are valid Linkerd 2.16 configuration but do something
// people do not expect: retried writes, per-try timeouts that can never fire or whose attempts
// cannot all fit in the request timeout, `limit` read as an attempt count, annotation retries
// without a budget (and high limits multiplying load), and a retryRatio tower rounds.
// Annotation rules look only at Services and routes on the client-policy stack: where a
// ServiceProfile wins, those annotations are ignored (and the stack-selection checks say so).

import type { HttpRetryConfig, RouteTimeouts } from "../policy/config.js";
import { type Diagnostic, annotationField } from "../policy/diagnostics.js";
import { formatDurationUs, parseRustUnsigned, U16_MAX } from "../policy/duration.js";
import { mergeServiceDefaults } from "../policy/annotation-merge.js";
import type { OutboundRoute } from "../policy/http-route.js";
import type { RequestMatch } from "../policy/profile-routes.js";
import { RETRY_GRPC, RETRY_HTTP, RETRY_LIMIT, RETRY_TIMEOUT, parseRetryAnnotations, parseServiceRetryAnnotations } from "../policy/retry-annotations.js";
import { retryBudgetUnits } from "../policy/retry-budget.js";
import type { ServiceProfile } from "../policy/service-profile.js";
import { selectStack } from "../policy/stack-selection.js";
import { applyHttpRouteRuleTimeouts, parseTimeoutAnnotations, TIMEOUT_REQUEST } from "../policy/timeout-annotations.js";
import { type K8sObject, describeObject } from "./object.js";

/** What the rules need from the checked objects (the last definition of each). */
export interface RetryHazardInput {
  /** Services by `namespace/name`. */
  services: ReadonlyMap<string, { obj: K8sObject }>;
  /** HTTPRoutes and GRPCRoutes; `applies` false ⇒ Kubernetes or Linkerd never uses the route. */
  routes: readonly { obj: K8sObject; value: OutboundRoute; applies: boolean }[];
  profiles: readonly { obj: K8sObject; value: ServiceProfile }[];
  /** Services (`namespace/name`) a ServiceProfile (SMI-created ones included) switches to its stack. */
  profileStack: ReadonlySet<string>;
}

export interface RetryHazardOptions {
  /**
   * Also report the `info` notes every use of annotation retries earns (`retry-limit-read-as-attempts`,
   * `retry-no-budget-on-annotations`). Default false: only what is specific to this configuration.
   */
  notes?: boolean;
}

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === "object" && v !== null && !Array.isArray(v);
const key = (namespace: string, name: string): string => `${namespace}/${name}`;
/** Not idempotent (RFC 9110 §9.2.2): executing one twice may change state twice. */
const WRITE_METHODS = ["POST", "PATCH"] as const;

function annotationsOf(obj: K8sObject): Rec | undefined {
  const meta = obj.raw["metadata"];
  return isRec(meta) && isRec(meta["annotations"]) ? meta["annotations"] : undefined;
}

/** Every retry-hazard diagnostic for these objects, unsorted (the caller places and sorts them). */
export function retryHazardDiagnostics(input: RetryHazardInput, opts: RetryHazardOptions = {}): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const p of input.profiles) out.push(...profileHazards(p.obj, p.value));
  for (const { obj } of input.services.values()) {
    if (!input.profileStack.has(key(obj.metadata.namespace ?? "default", obj.metadata.name))) out.push(...serviceHazards(input, obj, opts));
  }
  for (const route of input.routes) {
    if (parentsInEffect(input, route).length > 0) out.push(...routeHazards(input, route, opts));
  }
  return out;
}

/** The existing parent Services a route serves, leaving out those a ServiceProfile takes over. */
function parentsInEffect(input: RetryHazardInput, route: RetryHazardInput["routes"][number]): K8sObject[] {
  if (!route.applies) return [];
  const out: K8sObject[] = [];
  for (const p of route.value.parentRefs) {
    const svc = input.services.get(key(p.namespace, p.name));
    if (p.isService && svc !== undefined && !input.profileStack.has(key(p.namespace, p.name)) && !out.includes(svc.obj)) out.push(svc.obj);
  }
  return out;
}

// ---- ServiceProfile ----

function profileHazards(obj: K8sObject, profile: ServiceProfile): Diagnostic[] {
  const out: Diagnostic[] = [];
  const ratio = ratioTruncated(obj, profile);
  if (ratio !== undefined) out.push(ratio);
  // A profile that never applies or does not win retries nothing.
  if (selectStack(profile).stack !== "profile") return out;
  const spec = isRec(obj.raw["spec"]) ? obj.raw["spec"] : {};
  const rawRoutes: unknown[] = Array.isArray(spec["routes"]) ? spec["routes"] : [];
  const used = new Set<number>();
  for (const route of profile.routes) {
    // Routes the proxy dropped leave gaps, so find each kept route's index in the input by name.
    const index = rawRoutes.findIndex((r, i) => !used.has(i) && isRec(r) && r["name"] === route.name && r["isRetryable"] === true);
    if (index >= 0) used.add(index);
    if (!route.retriesEnabled) continue;
    const methods = WRITE_METHODS.filter((m) => canMatchMethod(route.condition, m) !== "no");
    if (methods.length === 0) continue;
    const what = hasMethodCondition(route.condition)
      ? `can match ${methods.join(" and ")}`
      : `has no method condition, so it matches ${methods.join(" and ")} too`;
    out.push({ severity: "warning", code: "retry-non-idempotent", object: describeObject(obj), field: index >= 0 ? `spec.routes[${index}].isRetryable` : "spec.routes",
      message: `route "${route.name}" is isRetryable and its condition ${what}: Linkerd retries this route's failed responses (5xx, or what its responseClasses mark isFailure) whatever the method, as long as the retry budget allows, so a retried write executes twice if the first attempt's side effect happened. Split writes into a route without isRetryable.` });
  }
  return out;
}

type Tri = "yes" | "no" | "maybe";

/** Whether some request with `method` can match: path conditions are unknown, so they count as maybe. */
function canMatchMethod(m: RequestMatch, method: string): Tri {
  switch (m.kind) {
    case "method":
      return m.method === method ? "yes" : "no";
    case "path":
      return "maybe";
    case "not": {
      const inner = canMatchMethod(m.match, method);
      return inner === "yes" ? "no" : inner === "no" ? "yes" : "maybe";
    }
    case "all": {
      const parts = m.matches.map((c) => canMatchMethod(c, method));
      return parts.includes("no") ? "no" : parts.every((p) => p === "yes") ? "yes" : "maybe";
    }
    case "any": {
      const parts = m.matches.map((c) => canMatchMethod(c, method));
      return parts.includes("yes") ? "yes" : parts.every((p) => p === "no") ? "no" : "maybe";
    }
  }
}

function hasMethodCondition(m: RequestMatch): boolean {
  if (m.kind === "method") return true;
  if (m.kind === "not") return hasMethodCondition(m.match);
  if (m.kind === "all" || m.kind === "any") return m.matches.some(hasMethodCondition);
  return false;
}

/** tower's budget works in integer units, so the ratio in effect is deposit/withdraw (reference §1.2). */
function ratioTruncated(obj: K8sObject, profile: ServiceProfile): Diagnostic | undefined {
  const spec = isRec(obj.raw["spec"]) ? obj.raw["spec"] : {};
  const written = isRec(spec["retryBudget"]) ? spec["retryBudget"]["retryRatio"] : undefined;
  if (profile.retryBudget === undefined || typeof written !== "number" || written <= 0) return undefined;
  let units: { depositAmount: number; withdrawAmount: number };
  try {
    units = retryBudgetUnits(profile.retryBudget);
  } catch {
    return undefined; // Out of tower's range: the profile checks already report the budget as dropped.
  }
  const effective = units.depositAmount / units.withdrawAmount;
  if (Math.abs(effective - written) / written <= 0.01) return undefined;
  const pct = (x: number): string => `${Number((x * 100).toPrecision(4))} %`;
  const scale = units.depositAmount === 1 ? 1 : 1000;
  return { severity: "info", code: "retry-budget-ratio-truncated", object: describeObject(obj), field: "spec.retryBudget.retryRatio",
    message: `retryRatio ${written} behaves as ${units.depositAmount}/${units.withdrawAmount} (${pct(effective)}, not ${pct(written)}): the retry budget counts integer units, each request that is not retried deposits ${units.depositAmount} and each retry withdraws trunc(${scale}/${written}) = ${units.withdrawAmount}.` };
}

// ---- Service and route annotations ----

function serviceHazards(input: RetryHazardInput, obj: K8sObject, opts: RetryHazardOptions): Diagnostic[] {
  const ref = describeObject(obj);
  const annotations = annotationsOf(obj);
  const groups = parseServiceRetryAnnotations(annotations, ref);
  const retry = groups.http.value ?? groups.grpc.value;
  const timeouts = parseTimeoutAnnotations(annotations, { object: ref, owner: "service" }).value;
  const out = opts.notes === true ? retryNotes(ref, annotations, retry) : [];
  const high = highLimit(ref, retry);
  if (high !== undefined) out.push(high);
  const perTry = perTryVsRequest(retry, timeouts, "the Service's");
  if (perTry !== undefined) out.push({ severity: "warning", code: "retry-timeout-exceeds-request-timeout", object: ref, field: annotationField(RETRY_TIMEOUT), message: perTry });
  const attempts = attemptsVsRequest(retry, timeouts, "the Service's");
  if (attempts !== undefined) out.push({ severity: "warning", code: "retry-attempts-exceed-request-timeout", object: ref, field: annotationField(RETRY_TIMEOUT), message: attempts });
  const routed = input.routes.some((r) => parentsInEffect(input, r).includes(obj));
  const perTryUs = groups.http.value?.perTryTimeoutUs;
  if (!routed && perTryUs !== undefined) {
    out.push({ severity: "warning", code: "retry-non-idempotent", object: ref, field: annotationField(RETRY_TIMEOUT),
      message: `no route attaches to this Service, so its default route matches every method, POST and PATCH included, and has ${perTryConsequence(perTryUs, "")}` });
  }
  return out;
}

function routeHazards(input: RetryHazardInput, route: RetryHazardInput["routes"][number], opts: RetryHazardOptions): Diagnostic[] {
  const { obj, value } = route;
  const ref = describeObject(obj);
  const annotations = annotationsOf(obj);
  const protocol = value.kind === "GRPCRoute" ? "grpc" : "http";
  const own = parseRetryAnnotations(annotations, { object: ref, owner: "route", protocol }).value;
  const out = opts.notes === true ? retryNotes(ref, annotations, own) : [];
  // The route's annotations apply to every rule alike, so one diagnostic covers them all.
  const high = highLimit(ref, own);
  if (high !== undefined) out.push(high);
  const ownTimeouts = parseTimeoutAnnotations(annotations, { object: ref, owner: "route" }).value;
  const spec = isRec(obj.raw["spec"]) ? obj.raw["spec"] : {};
  const rawRules: unknown[] = Array.isArray(spec["rules"]) ? spec["rules"] : [];
  for (const parent of parentsInEffect(input, route)) {
    const svcAnnotations = annotationsOf(parent);
    const svcRef = describeObject(parent);
    const groups = parseServiceRetryAnnotations(svcAnnotations, svcRef);
    const service = { retry: protocol === "grpc" ? groups.grpc.value : groups.http.value, timeouts: parseTimeoutAnnotations(svcAnnotations, { object: svcRef, owner: "service" }).value };
    value.rules.forEach((rule, i) => {
      const timeouts = applyHttpRouteRuleTimeouts(ownTimeouts, rawRules[i], { object: ref, group: value.group, ruleIndex: i }).value;
      const merged = mergeServiceDefaults({ retry: own, timeouts }, service);
      const field = `spec.rules[${i}]`;
      // When both come from the Service, the Service's own diagnostic already says it.
      if (merged.retrySource === "route" || merged.timeoutsSource === "route") {
        const perTry = perTryVsRequest(merged.retry, merged.timeouts, `rule ${i}'s`);
        if (perTry !== undefined) out.push({ severity: "warning", code: "retry-timeout-exceeds-request-timeout", object: ref, field, message: perTry });
        const attempts = attemptsVsRequest(merged.retry, merged.timeouts, `rule ${i}'s`);
        if (attempts !== undefined) out.push({ severity: "warning", code: "retry-attempts-exceed-request-timeout", object: ref, field, message: attempts });
      }
      const perTryUs = merged.retry?.perTryTimeoutUs;
      const methods = value.kind === "HTTPRoute" ? writeMethodsOf(rule.matches) : undefined;
      if (perTryUs === undefined || methods === undefined) return;
      out.push({ severity: "warning", code: "retry-non-idempotent", object: ref, field,
        message: `rule ${i} matches ${methods} and has ${perTryConsequence(perTryUs, merged.retrySource === "service" ? `, inherited from ${svcRef}` : "")}` });
    });
  }
  return out;
}

/** Which writes a rule's matches admit, in words; undefined ⇒ none (every match names a safe method). */
function writeMethodsOf(matches: OutboundRoute["rules"][number]["matches"]): string | undefined {
  const methods = matches.map((m) => (m.kind === "http" ? m.method : "POST"));
  if (methods.length === 0 || methods.includes(undefined)) return "any method (POST and PATCH included)";
  const writes = WRITE_METHODS.filter((w) => methods.includes(w));
  return writes.length === 0 ? undefined : writes.join(" and ");
}

/** "a per-try timeout of … (…): what happens to a write", completing a sentence about the rule. */
function perTryConsequence(perTryUs: number, origin: string): string {
  const t = formatDurationUs(perTryUs);
  return `a per-try timeout of ${t} (${RETRY_TIMEOUT}${origin}): an attempt without response headers after ${t} is abandoned and the request sent again, whatever the method, but the server may still complete the abandoned attempt, so a write can execute twice.`;
}

/** Per-try ≥ request timeout: the per-try timer starts at the flush, after the deadline's start. */
function perTryVsRequest(retry: HttpRetryConfig | undefined, timeouts: RouteTimeouts, whose: string): string | undefined {
  const perTryUs = retry?.perTryTimeoutUs;
  const requestUs = timeouts.requestUs;
  if (perTryUs === undefined || requestUs === undefined || requestUs === 0 || perTryUs < requestUs) return undefined;
  return `${whose} per-try timeout ${formatDurationUs(perTryUs)} (${RETRY_TIMEOUT}) is not shorter than its request timeout ${formatDurationUs(requestUs)} (${TIMEOUT_REQUEST} or timeouts.request): the request deadline covers every attempt and expires first, ending the request with 504, so the per-try timeout never fires and never causes a retry.`;
}

/** From this limit on, a budget-less retry config multiplies a failing backend's load by 4 or more. */
const HIGH_LIMIT = 3;

/** limit ≥ 3 on annotation retries: nothing caps the retries, so total failure multiplies load (reference §3.2). */
function highLimit(ref: string, retry: HttpRetryConfig | undefined): Diagnostic | undefined {
  if (retry === undefined || retry.limit < HIGH_LIMIT) return undefined;
  const attempts = retry.limit + 1;
  return { severity: "warning", code: "retry-high-limit", object: ref, field: annotationField(RETRY_LIMIT),
    message: `${RETRY_LIMIT} ${retry.limit} with no retry budget (annotation retries have none): under total failure every request makes limit+1 = ${attempts} attempts, so a backend failing for everyone receives ${attempts}× its load, multiplied again at every layer that also retries (${attempts * attempts}× behind two such layers). Use a lower limit, or a ServiceProfile route whose retry budget caps retries at a fraction of requests (default 20 %).` };
}

/** Linkerd's fixed backoff for annotation retries (reference §3.2): 25ms doubling, capped at 250ms. */
const BACKOFF_MIN_US = 25_000;
const BACKOFF_MAX_US = 250_000;

/** The shortest wait before retry `i + 1` (0-based `i`): the lower end of its jittered step. */
function minBackoffUs(i: number): number {
  return i >= 4 ? BACKOFF_MAX_US : Math.min(BACKOFF_MIN_US * 2 ** i, BACKOFF_MAX_US);
}

/**
 * How many attempts fit in `requestUs` when each waits out `perTryUs` and each retry waits its
 * shortest backoff: the largest k ≤ `attempts` with k·perTry + Σ_{i<k−1} minBackoff(i) ≤ request;
 * and the time all `attempts` would need.
 */
function attemptsWithinUs(perTryUs: number, requestUs: number, attempts: number): { fit: number; neededUs: number } {
  let neededUs = perTryUs;
  let fit = neededUs <= requestUs ? 1 : 0;
  for (let k = 2; k <= attempts; k++) {
    neededUs += minBackoffUs(k - 2) + perTryUs;
    if (neededUs <= requestUs) fit = k;
  }
  return { fit, neededUs };
}

/** limit+1 per-try windows plus backoff overrun the request deadline (only where per-try < request). */
function attemptsVsRequest(retry: HttpRetryConfig | undefined, timeouts: RouteTimeouts, whose: string): string | undefined {
  const perTryUs = retry?.perTryTimeoutUs;
  const requestUs = timeouts.requestUs;
  // Per-try ≥ request is retry-timeout-exceeds-request-timeout's case, and 0 means no deadline.
  if (retry === undefined || perTryUs === undefined || requestUs === undefined || requestUs === 0 || perTryUs >= requestUs) return undefined;
  const attempts = retry.limit + 1;
  const { fit, neededUs } = attemptsWithinUs(perTryUs, requestUs, attempts);
  if (fit >= attempts) return undefined;
  const backoffUs = neededUs - attempts * perTryUs;
  return `${whose} ${attempts} attempts (limit ${retry.limit} + 1) at a per-try timeout of ${formatDurationUs(perTryUs)} (${RETRY_TIMEOUT}) need ${attempts} × ${formatDurationUs(perTryUs)} + at least ${formatDurationUs(backoffUs)} of backoff = ${formatDurationUs(neededUs)}, more than its request timeout ${formatDurationUs(requestUs)} (${TIMEOUT_REQUEST} or timeouts.request), which is fixed when the request enters the route and enforced when each attempt reaches an endpoint: when attempts keep timing out, at most ${fit} of the ${attempts} fit, so the last attempts can never all run and the request fails with 504 once the ${formatDurationUs(requestUs)} deadline has passed (an attempt in flight is cut at the deadline; a retry that wakes from its backoff after it fails at once).`;
}

/** How `limit` counts and what no budget means; both hold for any annotation retry config. */
function retryNotes(ref: string, annotations: Rec | undefined, retry: HttpRetryConfig | undefined): Diagnostic[] {
  if (retry === undefined || annotations === undefined) return [];
  const out: Diagnostic[] = [];
  const attempts = retry.limit + 1;
  const limitText = annotations[RETRY_LIMIT];
  const parsed = typeof limitText === "string" ? parseRustUnsigned(limitText, U16_MAX) : undefined;
  // A limit of 0 has its own note (`retry-limit-zero`); an invalid one drops the group (no `retry`).
  if (parsed?.ok === true && parsed.value > 0n) {
    out.push({ severity: "info", code: "retry-limit-read-as-attempts", object: ref, field: annotationField(RETRY_LIMIT),
      message: `${RETRY_LIMIT}: "${retry.limit}" counts retries, not attempts: a request makes up to ${attempts} attempts (the first and ${retry.limit} ${retry.limit === 1 ? "retry" : "retries"}). Without the annotation the limit is 1 (2 attempts).` });
  }
  const first = [RETRY_HTTP, RETRY_GRPC, RETRY_LIMIT, RETRY_TIMEOUT].find((k) => Object.hasOwn(annotations, k)) ?? RETRY_LIMIT;
  out.push({ severity: "info", code: "retry-no-budget-on-annotations", object: ref, field: annotationField(first),
    message: `retries from ${RETRY_HTTP.replace("/http", "/*")} annotations have no retry budget (only ServiceProfile routes have one): when every attempt fails retryably, every request makes limit+1 = ${attempts} attempts, so the backends see ${attempts}× the offered load just when they are failing.` });
  return out;
}
