// Parser for the `timeout.linkerd.io/{request,response,idle}` annotations, and how an HTTPRoute
// rule's `timeouts.request` field combines with them.
// Mirrors `parse_timeouts` (policy-controller/k8s/index/src/outbound/index.rs), `convert_linkerd_rule`
// (.../outbound/index/http.rs) and the HTTPRoute admission check (policy-controller/src/admission.rs)
// @ linkerd2 version-2.16. Difference: every invalid value is reported, not only the first one.

import type { RouteTimeouts } from "./config.js";
import { annotationField, type Diagnostic } from "./diagnostics.js";
import { formatDurationUs, parseGoDuration, parseLinkerdDuration } from "./duration.js";
import { readAnnotation, type AnnotationMap } from "./annotation-merge.js";

export const TIMEOUT_REQUEST = "timeout.linkerd.io/request";
export const TIMEOUT_RESPONSE = "timeout.linkerd.io/response";
export const TIMEOUT_IDLE = "timeout.linkerd.io/idle";

const FIELDS: ReadonlyArray<readonly [string, keyof RouteTimeouts]> = [
  [TIMEOUT_REQUEST, "requestUs"],
  [TIMEOUT_RESPONSE, "responseUs"],
  [TIMEOUT_IDLE, "idleUs"],
];

export interface TimeoutAnnotationContext {
  /** The annotated object, as `objectRef` formats it. */
  object: string;
  /** A route's bad annotations drop the whole route; a Service's drop only its timeouts. */
  owner: "route" | "service";
}

export interface TimeoutAnnotations {
  /** The timeouts Linkerd ends up with; every field absent ⇒ no timeouts from this object. */
  value: RouteTimeouts;
  diagnostics: Diagnostic[];
  /** True when the group failed to parse; for a route, Linkerd does not (re)index the route at all. */
  rejected: boolean;
}

function rejectionConsequence(owner: "route" | "service"): string {
  if (owner === "route") {
    return (
      "Linkerd rejects the whole route: its admission webhook refuses it, and if stored anyway the " +
      "policy controller skips it, so a previously accepted version stays in effect and a new route never applies"
    );
  }
  return (
    "Linkerd logs an error and drops all of this Service's timeout annotations, so its default route " +
    "and routes without their own timeout annotations get no timeouts"
  );
}

/** Parse the timeout group. Unlike `retry.linkerd.io/timeout`, a zero here is kept (see `timeout-zero`). */
export function parseTimeoutAnnotations(annotations: AnnotationMap, ctx: TimeoutAnnotationContext): TimeoutAnnotations {
  const diagnostics: Diagnostic[] = [];
  const value: RouteTimeouts = {};
  let rejected = false;
  for (const [key, slot] of FIELDS) {
    const text = readAnnotation(annotations, key, ctx.object, diagnostics);
    if (text === undefined) continue;
    const parsed = parseLinkerdDuration(text);
    if (!parsed.ok) {
      rejected = true;
      diagnostics.push({
        severity: "error",
        code: "timeout-invalid",
        object: ctx.object,
        field: annotationField(key),
        message: `\`${key}: ${text}\` is invalid: ${parsed.error}. ${rejectionConsequence(ctx.owner)}.`,
      });
      continue;
    }
    if (parsed.us === 0) diagnostics.push(zeroTimeoutNote(key, ctx));
    value[slot] = parsed.us;
  }
  return rejected ? { value: {}, diagnostics, rejected } : { value, diagnostics, rejected };
}

// The 2.16 controller filters 0 out of the retry timeout but not out of these: it forwards a zero
// duration, so 0 here is a real (instant) timeout, and it also blocks inheriting Service timeouts.
function zeroTimeoutNote(key: string, ctx: TimeoutAnnotationContext): Diagnostic {
  const inherit =
    ctx.owner === "route"
      ? " It also counts as this route setting its own timeouts, so the Service's timeouts are not inherited."
      : "";
  return {
    severity: "warning",
    code: "timeout-zero",
    object: ctx.object,
    field: annotationField(key),
    message:
      `\`${key}\` is 0: Linkerd 2.16 does not read 0 as "no timeout" here (unlike retry.linkerd.io/timeout and ` +
      "HTTPRoute timeouts.request); it sends a zero timeout to the proxy, which the simulator applies as an " +
      `immediate expiry (504). Remove the annotation for no timeout.${inherit}`,
  };
}

export interface HttpRouteRuleContext {
  /** The HTTPRoute, as `objectRef` formats it. */
  object: string;
  /** `policy.linkerd.io` or `gateway.networking.k8s.io`; only the former's field is read in 2.16. */
  group: string;
  /** Index into `spec.rules`, for the field path. */
  ruleIndex: number;
}

type FieldDuration = { present: false } | { present: true; us: number } | { present: true; error: string };

function readRuleDuration(timeouts: Record<string, unknown>, key: string): FieldDuration {
  if (!Object.hasOwn(timeouts, key) || timeouts[key] === undefined || timeouts[key] === null) return { present: false };
  const raw = timeouts[key];
  if (typeof raw !== "string") return { present: true, error: `${JSON.stringify(raw)} is not a duration string` };
  const parsed = parseGoDuration(raw);
  if (!parsed.ok) return { present: true, error: parsed.error };
  if (parsed.us < 0) return { present: true, error: `"${raw}" is negative` };
  return { present: true, us: parsed.us };
}

/**
 * Combine a rule's annotation timeouts with `spec.rules[i].timeouts.request` of a policy.linkerd.io
 * HTTPRoute: the annotation wins; otherwise the field is the request timeout, `0` meaning none
 * (GEP-1742). gateway.networking.k8s.io HTTPRoutes' field is not read by 2.16.
 */
export function applyHttpRouteRuleTimeouts(
  annotationTimeouts: RouteTimeouts,
  rule: unknown,
  ctx: HttpRouteRuleContext,
): TimeoutAnnotations {
  const base = `spec.rules[${ctx.ruleIndex}].timeouts`;
  const timeouts = isRecord(rule) && isRecord(rule["timeouts"]) ? rule["timeouts"] : undefined;
  if (timeouts === undefined) return { value: { ...annotationTimeouts }, diagnostics: [], rejected: false };
  const note = (severity: Diagnostic["severity"], code: string, field: string, message: string): Diagnostic => ({
    severity, code, object: ctx.object, field, message,
  });
  if (ctx.group !== "policy.linkerd.io") {
    const message =
      `Linkerd 2.16 does not read ${base} on ${ctx.group} HTTPRoutes: this rule gets no timeout from it. ` +
      `Use the ${TIMEOUT_REQUEST} annotation or a policy.linkerd.io HTTPRoute.`;
    const ignored = note("warning", "httproute-timeouts-ignored", base, message);
    return { value: { ...annotationTimeouts }, diagnostics: [ignored], rejected: false };
  }
  const request = readRuleDuration(timeouts, "request");
  const backend = readRuleDuration(timeouts, "backendRequest");
  const diagnostics: Diagnostic[] = [];
  const refuse = (field: string, why: string): void => {
    diagnostics.push(note("error", "httproute-timeout-invalid", field, `${field}: ${why}. ${rejectionConsequence("route")}.`));
  };
  if (request.present && "error" in request) refuse(`${base}.request`, request.error);
  if (backend.present && "error" in backend) refuse(`${base}.backendRequest`, backend.error);
  if (request.present && "us" in request && backend.present && "us" in backend && backend.us > request.us) {
    refuse(`${base}.backendRequest`, `${formatDurationUs(backend.us)} is greater than request ${formatDurationUs(request.us)}`);
  }
  if (diagnostics.length > 0) return { value: {}, diagnostics, rejected: true };
  if (backend.present) {
    diagnostics.push(note("warning", "httproute-backend-request-ignored", `${base}.backendRequest`,
      "Linkerd 2.16 does not apply backendRequest on the outbound side: no per-backend timeout results."));
  }
  if (!request.present || !("us" in request)) return { value: { ...annotationTimeouts }, diagnostics, rejected: false };
  if (annotationTimeouts.requestUs !== undefined) {
    diagnostics.push(note("info", "httproute-timeout-overridden", `${base}.request`,
      `${TIMEOUT_REQUEST} is set, and the annotation wins over ${base}.request.`));
    return { value: { ...annotationTimeouts }, diagnostics, rejected: false };
  }
  const value: RouteTimeouts = { ...annotationTimeouts };
  if (request.us > 0) value.requestUs = request.us;
  return { value, diagnostics, rejected: false };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
