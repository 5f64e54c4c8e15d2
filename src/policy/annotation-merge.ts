// How a route rule's retry and timeouts combine with its parent Service's annotations, plus the
// defensive annotation reader the annotation parsers share.
// Mirrors the per-rule merge in policy-controller/grpc/src/outbound/http.rs
// (`convert_outbound_route`) @ linkerd2 version-2.16: each group is replaced wholesale, never
// field-merged (upstream test outbound_api_linkerd.rs).

import type { HttpRetryConfig, RouteTimeouts } from "./config.js";
import { annotationField, type Diagnostic } from "./diagnostics.js";

/** An object's `metadata.annotations` as read from YAML; values are meant to be strings. */
export type AnnotationMap = Readonly<Record<string, unknown>> | undefined;

/**
 * Read one annotation. A non-string value (an unquoted YAML number or boolean) becomes an error
 * diagnostic and counts as absent; `null` (an empty YAML value) reads as `""`, as Kubernetes
 * decodes it.
 */
export function readAnnotation(
  annotations: AnnotationMap,
  key: string,
  object: string,
  diagnostics: Diagnostic[],
): string | undefined {
  if (annotations === undefined || annotations === null || typeof annotations !== "object") return undefined;
  if (!Object.hasOwn(annotations, key)) return undefined;
  const value = annotations[key];
  if (typeof value === "string") return value;
  if (value === null) return "";
  if (value === undefined) return undefined;
  diagnostics.push({
    severity: "error",
    code: "annotation-not-string",
    object,
    field: annotationField(key),
    message:
      `${key} is the YAML ${typeof value} ${JSON.stringify(value)}, not a string: Kubernetes refuses ` +
      `objects whose annotation values are not strings, so this object would not be applied. ` +
      `Quote it ("${String(value)}"); the simulator ignores this annotation.`,
  });
  return undefined;
}

/** Retry and timeouts of one rule, before or after the Service merge. */
export interface RuleRetryTimeouts {
  /** Retry policy; absent ⇒ no retries. */
  retry: HttpRetryConfig | undefined;
  /** Timeouts; every field absent ⇒ the rule declares no timeouts of its own. */
  timeouts: RouteTimeouts;
}

export type MergeSource = "route" | "service" | "none";

export interface MergedRule extends RuleRetryTimeouts {
  retrySource: MergeSource;
  timeoutsSource: MergeSource;
  reason: string;
}

/** Linkerd's `timeouts == Default::default()`: true iff no timeout field is set (a set 0 counts as set). */
export function hasAnyTimeout(timeouts: RouteTimeouts): boolean {
  return timeouts.requestUs !== undefined || timeouts.responseUs !== undefined || timeouts.idleUs !== undefined;
}

/**
 * Per rule: timeouts come from the route if it sets any timeout at all, else from the Service;
 * retry comes from the route if it has one, else from the Service. Never mixes fields of the two.
 * The Service's synthesized default route is this merge with an empty route.
 */
export function mergeServiceDefaults(route: RuleRetryTimeouts, service: RuleRetryTimeouts): MergedRule {
  const routeHasTimeouts = hasAnyTimeout(route.timeouts);
  const timeoutsSource: MergeSource = routeHasTimeouts ? "route" : hasAnyTimeout(service.timeouts) ? "service" : "none";
  const timeouts = routeHasTimeouts ? route.timeouts : service.timeouts;
  const retrySource: MergeSource =
    route.retry !== undefined ? "route" : service.retry !== undefined ? "service" : "none";
  const retry = route.retry ?? service.retry;
  const reason =
    `timeouts from ${timeoutsSource === "route" ? "the route (it sets at least one timeout)" : describe(timeoutsSource)}; ` +
    `retry from ${retrySource === "route" ? "the route" : describe(retrySource)}` +
    "; each group is taken whole from one side, never field-merged";
  return { retry, timeouts: { ...timeouts }, retrySource, timeoutsSource, reason };
}

function describe(source: MergeSource): string {
  return source === "service" ? "the Service (the route sets none)" : "neither (none configured)";
}
