// Response classification on the ServiceProfile stack (is this response a failure?), and the
// conversion of a route's `responseClasses` into what the proxy keeps.
// Mirrors linkerd2-proxy `linkerd/app/core/src/classify.rs` and `linkerd/service-profiles/src/
// {proto.rs,http.rs}` (`convert_rsp_class`, `ResponseMatch::is_match`) @ release/v2.246.0, and the
// controller's `ValidateResponseMatch` (linkerd2 `pkg/profiles/profiles.go` @ version-2.16).
// Difference: the response is summarised as one HTTP status plus one grpc-status, header or trailer.

import {
  NO_UPDATE,
  type ProfileContext,
  type ResponseClass,
  type ResponseMatch,
  WEBHOOK_REFUSES,
  asRecord,
  report,
  warnUnknownKeys,
} from "./profile-routes.js";

/** gRPC codes the proxy counts as failures by default: UNKNOWN, DEADLINE_EXCEEDED, PERMISSION_DENIED, INTERNAL, UNAVAILABLE, DATA_LOSS. */
export const DEFAULT_GRPC_FAILURE_CODES: readonly number[] = [2, 4, 7, 13, 14, 15];

/** gRPC status codes by number, spelt as gRPC spells them (`grpc/doc/statuscodes.md`). */
export const GRPC_CODE_NAMES: readonly string[] = [
  "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
  "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
  "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
];

/** The content-type prefix that makes a request gRPC to the proxy's classifier (`classify.rs::is_grpc`). */
export const GRPC_CONTENT_TYPE = "application/grpc";

/** Whether a request with this content-type is gRPC: it starts with `application/grpc` (`+proto` and the like included). */
export function isGrpcContentType(contentType: string | undefined): boolean {
  return contentType !== undefined && contentType.startsWith(GRPC_CONTENT_TYPE);
}

/** A gRPC status code from its name as gRPC spells it (`UNAVAILABLE`) or its number; undefined if neither. */
export function grpcCodeFromName(name: string): number | undefined {
  if (/^[0-9]+$/.test(name)) {
    const n = Number(name);
    return n <= 16 ? n : undefined;
  }
  const i = GRPC_CODE_NAMES.indexOf(name);
  return i < 0 ? undefined : i;
}

/**
 * Where a response's grpc-status travelled, which decides whether the retry layer sees it:
 * `headers` — a Trailers-Only response (one HEADERS frame, the form gRPC uses for an error without
 * a message); `trailers` — the trailers right behind the first DATA frame; `streamed` — trailers
 * after a body of more frames, not there yet when the retry layer has read the first one.
 */
export type GrpcStatusPlace = "headers" | "trailers" | "streamed";

/**
 * The grpc-status the retry layer can judge. Both retry stacks read the response through
 * `PeekTrailersBody` (linkerd2-proxy `linkerd/http/retry/src/peek_trailers.rs` @ release/v2.246.0):
 * a grpc-status header, else trailers that are available at once after at most one DATA frame
 * (`now_or_never`). Trailers behind a longer stream are not seen: `retry.linkerd.io/grpc` cannot
 * match them, and a ServiceProfile route's classifier judges the attempt without them.
 */
export function grpcStatusSeenByRetry(grpcStatus: number | undefined, place: GrpcStatusPlace | undefined): number | undefined {
  return place === "streamed" ? undefined : grpcStatus;
}

/** What came back for one attempt. */
export interface ResponseOutcome {
  /** HTTP status (100..599); ignored when `error` is set. */
  status: number;
  /** `grpc-status` from the response headers or trailers; absent ⇒ the response carried none. */
  grpcStatus?: number;
  /** The request's content-type starts with `application/grpc`. */
  isGrpc: boolean;
  /** A transport error or timeout instead of a response, e.g. `"timeout"`; absent ⇒ a response arrived. */
  error?: string;
}

export interface Classification {
  failure: boolean;
  reason: string;
}

/** The proxy's code for a grpc-status value: integers it does not know become UNKNOWN (tonic `Code::from_i32`). */
function grpcCode(status: number): number {
  return Number.isInteger(status) && status >= 0 && status <= 16 ? status : 2;
}

function grpcName(status: number): string {
  return `${status} (${GRPC_CODE_NAMES[grpcCode(status)] ?? "UNKNOWN"})`;
}

function isGrpcFailure(status: number): boolean {
  return DEFAULT_GRPC_FAILURE_CODES.includes(grpcCode(status));
}

function classifyGrpc(status: number, why: string): Classification {
  const failure = isGrpcFailure(status);
  const verdict = failure ? "is a default gRPC failure code" : "is not a default gRPC failure code";
  return { failure, reason: `${why}grpc-status ${grpcName(status)} ${verdict}` };
}

/**
 * Classify with a route's response classes; a route without any uses the default classifier.
 * This is `classify::Request::from(response_classes)` followed by the response.
 */
export function classifyResponse(responseClasses: readonly ResponseClass[], outcome: ResponseOutcome): Classification {
  return responseClasses.length === 0 ? classifyDefault(outcome) : classifyWithProfileClasses(responseClasses, outcome);
}

/** `classifyResponse(...).failure` without the explanation: what the data path asks per response. */
export function isResponseFailure(responseClasses: readonly ResponseClass[], outcome: ResponseOutcome): boolean {
  return responseClasses.length === 0 ? isDefaultFailure(outcome) : isProfileClassFailure(responseClasses, outcome);
}

/** `classifyWithProfileClasses(...).failure`, by the same rules. */
export function isProfileClassFailure(classes: readonly ResponseClass[], outcome: ResponseOutcome): boolean {
  if (outcome.error !== undefined) return true;
  for (let i = 0; i < classes.length; i += 1) {
    const cls = classes[i] as ResponseClass;
    if (responseMatches(cls.condition, outcome.status)) return cls.isFailure;
  }
  if (outcome.grpcStatus !== undefined) return isGrpcFailure(outcome.grpcStatus);
  return outcome.status >= 500 && outcome.status <= 599;
}

/**
 * The profile classifier: the first class whose condition matches the HTTP status decides; if none
 * matches, a grpc-status (header, or a trailer that overrides at end of stream) is judged by the
 * default gRPC codes, else 5xx is a failure. The request's content-type plays no part here.
 */
export function classifyWithProfileClasses(classes: readonly ResponseClass[], outcome: ResponseOutcome): Classification {
  if (outcome.error !== undefined) return { failure: true, reason: `error "${outcome.error}" is always a failure` };
  for (const [i, cls] of classes.entries()) {
    if (responseMatches(cls.condition, outcome.status)) {
      const kind = cls.isFailure ? "failure" : "success";
      return { failure: cls.isFailure, reason: `response class #${i} (${describeMatch(cls.condition)}) matched HTTP ${outcome.status}: ${kind}` };
    }
  }
  if (outcome.grpcStatus !== undefined) return classifyGrpc(outcome.grpcStatus, "no response class matched; ");
  const failure = outcome.status >= 500 && outcome.status <= 599;
  return { failure, reason: `no response class matched and there is no grpc-status: HTTP ${outcome.status} is ${failure ? "" : "not "}5xx` };
}

/**
 * The default classifier. gRPC requests: only grpc-status counts (the HTTP status is ignored).
 * Quirk kept: with no grpc-status at all the proxy records UNKNOWN but classifies it a success
 * (`Class::Grpc(Ok(Code::Unknown))`, asserted by upstream test `grpc_response_trailer_missing`).
 * Other requests: failure iff 500..599 (a grpc-status is ignored).
 */
export function classifyDefault(outcome: ResponseOutcome): Classification {
  const failure = isDefaultFailure(outcome);
  if (outcome.error !== undefined) return { failure: true, reason: `error "${outcome.error}" is always a failure` };
  if (outcome.isGrpc) {
    if (outcome.grpcStatus !== undefined) return classifyGrpc(outcome.grpcStatus, "gRPC request: ");
    return { failure: false, reason: "gRPC request without grpc-status: the proxy labels it UNKNOWN but counts it as a success" };
  }
  return { failure, reason: `HTTP ${outcome.status} is ${failure ? "" : "not "}in 500..599` };
}

/** `classifyDefault(outcome).failure` without the explanation: what the data path asks per response. */
export function isDefaultFailure(outcome: ResponseOutcome): boolean {
  if (outcome.error !== undefined) return true;
  if (outcome.isGrpc) return outcome.grpcStatus !== undefined && isGrpcFailure(outcome.grpcStatus);
  return outcome.status >= 500 && outcome.status <= 599;
}

/**
 * The classifier of a client-policy route (linkerd2-proxy `logical/policy/route.rs`, `Param<classify::Request>`
 * @ release/v2.246.0): an HTTPRoute rule (and the default route) classifies gRPC requests by the
 * default gRPC codes and others by 5xx, as the default classifier does; a GRPCRoute rule
 * classifies every response as gRPC, whatever the request's content-type.
 */
export function classifyPolicyRoute(routeKind: "http" | "grpc", outcome: ResponseOutcome): Classification {
  return classifyDefault(routeKind === "grpc" ? { ...outcome, isGrpc: true } : outcome);
}

/** `classifyPolicyRoute(...).failure` without the explanation. */
export function isPolicyRouteFailure(routeKind: "http" | "grpc", outcome: ResponseOutcome): boolean {
  if (routeKind === "http" || outcome.isGrpc) return isDefaultFailure(outcome);
  return outcome.error !== undefined || (outcome.grpcStatus !== undefined && isGrpcFailure(outcome.grpcStatus));
}

/** Whether a converted response condition matches an HTTP status. */
export function responseMatches(match: ResponseMatch, status: number): boolean {
  switch (match.kind) {
    case "status":
      return match.min <= status && status <= match.max;
    case "not":
      return !responseMatches(match.match, status);
    case "all":
      return match.matches.every((m) => responseMatches(m, status));
    case "any":
      return match.matches.some((m) => responseMatches(m, status));
  }
}

function describeMatch(match: ResponseMatch): string {
  switch (match.kind) {
    case "status":
      return match.min === match.max ? `status ${match.min}` : `status ${match.min}-${match.max}`;
    case "not":
      return `not ${describeMatch(match.match)}`;
    case "all":
    case "any":
      return `${match.kind}(${match.matches.map(describeMatch).join(", ")})`;
  }
}

// === Conversion of `responseClasses` ===

/** The classes the proxy keeps, in order; a class whose condition cannot be converted is dropped. */
export function convertResponseClasses(ctx: ProfileContext, raw: unknown, field: string): ResponseClass[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    report(ctx, "error", "profile-response-classes-invalid", field, `responseClasses must be a list: the API server rejects the object, and Linkerd could not decode it (${NO_UPDATE}).`, { admission: true, controller: true });
    return [];
  }
  const classes: ResponseClass[] = [];
  raw.forEach((item: unknown, i) => {
    const f = `${field}[${i}]`;
    const rec = asRecord(item) ?? {};
    warnUnknownKeys(ctx, rec, ["condition", "isFailure"], f);
    if (asRecord(rec["condition"]) === undefined) {
      report(ctx, "error", "profile-response-class-condition-missing", `${f}.condition`, `the response class has no condition: ${WEBHOOK_REFUSES}; if stored anyway, ${NO_UPDATE}.`, { admission: true, controller: true });
      return;
    }
    const condition = convertResponseMatch(ctx, rec["condition"], `${f}.condition`);
    if (condition === undefined) {
      report(ctx, "warning", "profile-response-class-dropped", f, "the proxy drops this response class: the responses it was meant to catch fall through to later classes, then to the default rule (grpc-status codes, else 5xx is a failure).");
      return;
    }
    classes.push({ condition, isFailure: rec["isFailure"] === true });
  });
  return classes;
}

function convertResponseMatch(ctx: ProfileContext, raw: unknown, field: string): ResponseMatch | undefined {
  const rec = asRecord(raw);
  if (rec === undefined) {
    report(ctx, "error", "profile-response-match-invalid", field, `a response condition must be an object: ${NO_UPDATE}.`, { admission: true, controller: true });
    return undefined;
  }
  warnUnknownKeys(ctx, rec, ["all", "any", "status", "not"], field);
  const parts: (ResponseMatch | undefined)[] = [];
  for (const key of ["all", "any"] as const) {
    const list = rec[key];
    if (list === undefined || list === null) continue;
    const items: unknown[] = Array.isArray(list) ? list : [];
    if (!Array.isArray(list)) report(ctx, "error", "profile-response-match-invalid", `${field}.${key}`, `\`${key}\` must be a list: the API server rejects the object.`, { admission: true });
    const kept = items.map((m, i) => convertResponseMatch(ctx, m, `${field}.${key}[${i}]`)).filter((m) => m !== undefined);
    // Unlike request conditions, an `all`/`any` left empty is itself unconvertible.
    parts.push(kept.length === 0 ? undefined : { kind: key, matches: kept });
  }
  if (rec["status"] !== undefined && rec["status"] !== null) parts.push(convertStatusRange(ctx, rec["status"], `${field}.status`));
  if (rec["not"] !== undefined && rec["not"] !== null) {
    const inner = convertResponseMatch(ctx, rec["not"], `${field}.not`);
    parts.push(inner === undefined ? undefined : { kind: "not", match: inner });
  }
  if (parts.length === 0) {
    report(ctx, "error", "profile-response-match-empty", field, `the condition sets none of all, any, status, not: ${WEBHOOK_REFUSES}; if stored anyway, ${NO_UPDATE}.`, { admission: true, controller: true });
    return undefined;
  }
  if (parts.length === 1) return parts[0];
  const kept = parts.filter((p) => p !== undefined);
  return kept.length === 0 ? undefined : { kind: "all", matches: kept };
}

function convertStatusRange(ctx: ProfileContext, raw: unknown, field: string): ResponseMatch | undefined {
  const rec = asRecord(raw) ?? {};
  warnUnknownKeys(ctx, rec, ["min", "max"], field);
  const min = rec["min"] ?? 0;
  const max = rec["max"] ?? 0;
  if (!isUint(min) || !isUint(max)) {
    report(ctx, "error", "profile-status-range-invalid", field, `status min/max must be non-negative integers: Linkerd cannot decode the object, so ${NO_UPDATE}.`, { admission: true, controller: true });
    return undefined;
  }
  const outside = (v: number): boolean => v !== 0 && (v < 100 || v > 599);
  if (outside(min) || outside(max) || (min !== 0 && max !== 0 && max < min)) {
    const why = outside(min) || outside(max) ? "min and max must be within 100..599" : `max ${max} is smaller than min ${min}`;
    report(ctx, "error", "profile-status-range-invalid", field, `${why}: ${WEBHOOK_REFUSES}; if stored anyway, ${NO_UPDATE}.`, { admission: true, controller: true });
    return undefined;
  }
  if (min === 0 || max === 0) {
    const given = min !== 0 ? `only min ${min}` : max !== 0 ? `only max ${max}` : "neither min nor max";
    report(ctx, "warning", "profile-status-range-partial", field,
      `the status range sets ${given}. Linkerd's docs say a lone bound matches that one code, but the controller sends the missing bound as 0 and the proxy cannot build a status range from 0, so it silently drops this condition. Set both min and max.`);
    return undefined;
  }
  return { kind: "status", min, max };
}

function isUint(v: unknown): v is number {
  return typeof v === "number" && Number.isInteger(v) && v >= 0;
}
