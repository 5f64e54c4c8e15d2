// Parser for the `retry.linkerd.io/*` annotations on HTTPRoutes, GRPCRoutes and Services.
// Mirrors `parse_http_retry` (policy-controller/k8s/index/src/outbound/index/http.rs) and
// `parse_grpc_retry` (.../index/grpc.rs) @ linkerd2 version-2.16, and the Service indexing in
// .../outbound/index.rs. Difference: every invalid value is reported, not only the first one.

import type { HttpRetryConfig, StatusRange } from "./config.js";
import { annotationField, type Diagnostic } from "./diagnostics.js";
import { formatDurationUs, parseLinkerdDuration, parseRustUnsigned, U16_MAX, U32_MAX } from "./duration.js";
import { readAnnotation, type AnnotationMap } from "./annotation-merge.js";

export const RETRY_HTTP = "retry.linkerd.io/http";
export const RETRY_GRPC = "retry.linkerd.io/grpc";
export const RETRY_LIMIT = "retry.linkerd.io/limit";
export const RETRY_TIMEOUT = "retry.linkerd.io/timeout";

/** gRPC status codes `retry.linkerd.io/grpc` may name (matched ASCII case-insensitively). */
export const GRPC_RETRY_CODES: Readonly<Record<string, number>> = {
  cancelled: 1,
  "deadline-exceeded": 4,
  "resource-exhausted": 8,
  internal: 13,
  unavailable: 14,
};

export interface RetryAnnotationContext {
  /** The annotated object, as `objectRef` formats it. */
  object: string;
  /** A route's bad annotations drop the whole route; a Service's drop only this retry group. */
  owner: "route" | "service";
  /** Which status list applies: `/http` for HTTP routes, `/grpc` for GRPC routes. */
  protocol: "http" | "grpc";
}

export interface RetryAnnotations {
  /** The retry policy Linkerd ends up with; undefined ⇒ no retries from these annotations. */
  value: HttpRetryConfig | undefined;
  diagnostics: Diagnostic[];
  /**
   * True when the group failed to parse. For a route this means Linkerd does not (re)index the
   * route at all; for a Service only this retry group is dropped.
   */
  rejected: boolean;
}

type ListResult<T> = { ok: true; items: T[] } | { ok: false; error: string };

const asciiLower = (s: string): string => s.replace(/[A-Z]/g, (c) => c.toLowerCase());

/** `retry.linkerd.io/http`: comma-split, no trimming; `5xx`, `gateway-error`, `NNN`, `A-B`. */
export function parseHttpStatusList(text: string): ListResult<StatusRange> {
  const items: StatusRange[] = [];
  for (const element of text.split(",")) {
    const range = parseStatusCondition(element);
    if (range === undefined) return { ok: false, error: explainBadStatus(element) };
    items.push(range);
  }
  return { ok: true, items };
}

function parseStatusCondition(element: string): StatusRange | undefined {
  const word = asciiLower(element);
  if (word === "5xx") return { start: 500, end: 599 };
  if (word === "gateway-error") return { start: 502, end: 504 };
  const single = toStatusCode(element);
  if (single !== undefined) return { start: single, end: single };
  const dash = element.indexOf("-");
  if (dash < 0) return undefined;
  const start = toStatusCode(element.slice(0, dash));
  const end = toStatusCode(element.slice(dash + 1));
  if (start === undefined || end === undefined || start > end) return undefined;
  return { start, end };
}

/** Upstream `to_code`: a u32 (leading `+` allowed) in 100..=599. */
function toStatusCode(text: string): number | undefined {
  const parsed = parseRustUnsigned(text, U32_MAX);
  if (!parsed.ok || parsed.value < 100n || parsed.value >= 600n) return undefined;
  return Number(parsed.value);
}

function explainBadStatus(element: string): string {
  const shown = JSON.stringify(element);
  if (element === "") return `it has an empty element (a stray comma)`;
  if (/\s/.test(element)) return `element ${shown} contains whitespace (the list is split on commas and not trimmed)`;
  if (/^[0-9]xx$/i.test(element)) return `element ${shown} is not a keyword (only 5xx and gateway-error exist)`;
  const range = /^([0-9]+)-([0-9]+)$/.exec(element);
  if (range !== null && Number(range[1]) > Number(range[2]) && toStatusCode(range[1] ?? "") !== undefined) {
    return `range ${shown} is reversed (start must be ≤ end)`;
  }
  if (/^[0-9+-]+$/.test(element)) return `element ${shown} is outside 100..599`;
  return `element ${shown} is not 5xx, gateway-error, a status code or a status range`;
}

/** `retry.linkerd.io/grpc`: comma-split, no trimming; names from GRPC_RETRY_CODES. */
export function parseGrpcCodeList(text: string): ListResult<number> {
  const items: number[] = [];
  for (const element of text.split(",")) {
    const name = asciiLower(element);
    const code = Object.hasOwn(GRPC_RETRY_CODES, name) ? GRPC_RETRY_CODES[name] : undefined;
    if (code === undefined) {
      const known = Object.keys(GRPC_RETRY_CODES).join(", ");
      const why = /\s/.test(element) ? " (the list is split on commas and not trimmed)" : "";
      return { ok: false, error: `element ${JSON.stringify(element)} is not one of ${known}${why}` };
    }
    items.push(code);
  }
  return { ok: true, items };
}

/** What a failed retry group costs, in plain words. */
function rejectionConsequence(ctx: RetryAnnotationContext, key: string): string {
  if (ctx.owner === "route") {
    return (
      "Linkerd rejects the whole route: its admission webhook refuses it, and if stored anyway the " +
      "policy controller skips it, so a previously accepted version stays in effect and a new route never applies"
    );
  }
  if (key === RETRY_LIMIT || key === RETRY_TIMEOUT) {
    return (
      "Linkerd logs an error and drops this Service's HTTP and gRPC retry annotations (both groups read " +
      "limit and timeout), so its default route and routes without their own retry annotations are not retried"
    );
  }
  const proto = ctx.protocol === "http" ? "HTTP" : "gRPC";
  return (
    `Linkerd logs an error and drops this Service's ${proto} retry annotations, so its default route ` +
    `and ${proto} routes without their own retry annotations are not retried`
  );
}

/**
 * Parse one retry group: `limit`, `timeout` and the status list for `ctx.protocol`. Returns
 * undefined when no retry config results (`{limit: "0"}` alone, `{timeout: "0s"}` alone, nothing).
 */
export function parseRetryAnnotations(annotations: AnnotationMap, ctx: RetryAnnotationContext): RetryAnnotations {
  const diagnostics: Diagnostic[] = [];
  const listKey = ctx.protocol === "http" ? RETRY_HTTP : RETRY_GRPC;
  let failed = false;
  const fail = (key: string, code: string, text: string, why: string): void => {
    failed = true;
    diagnostics.push({
      severity: "error",
      code,
      object: ctx.object,
      field: annotationField(key),
      message: `\`${key}: ${text}\` is invalid: ${why}. ${rejectionConsequence(ctx, key)}.`,
    });
  };
  noteIgnoredList(annotations, ctx, diagnostics);

  const limitText = readAnnotation(annotations, RETRY_LIMIT, ctx.object, diagnostics);
  let limit: number | undefined;
  if (limitText !== undefined) {
    const parsed = parseRustUnsigned(limitText, U16_MAX);
    if (!parsed.ok) fail(RETRY_LIMIT, "retry-limit-invalid", limitText, `${parsed.error} (expected 0..65535)`);
    else if (parsed.value === 0n) noteZeroLimit(ctx, diagnostics);
    else limit = Number(parsed.value);
  }

  const timeoutText = readAnnotation(annotations, RETRY_TIMEOUT, ctx.object, diagnostics);
  let perTryTimeoutUs: number | undefined;
  if (timeoutText !== undefined) {
    const parsed = parseLinkerdDuration(timeoutText);
    if (!parsed.ok) fail(RETRY_TIMEOUT, "retry-timeout-invalid", timeoutText, parsed.error);
    else if (parsed.us > 0) perTryTimeoutUs = parsed.us;
  }

  const listText = readAnnotation(annotations, listKey, ctx.object, diagnostics);
  let statusRanges: StatusRange[] = [];
  let grpcCodes: number[] = [];
  if (listText !== undefined && ctx.protocol === "http") {
    const list = parseHttpStatusList(listText);
    if (list.ok) statusRanges = list.items;
    else fail(listKey, "retry-http-invalid", listText, list.error);
  } else if (listText !== undefined) {
    const list = parseGrpcCodeList(listText);
    if (list.ok) grpcCodes = list.items;
    else fail(listKey, "retry-grpc-invalid", listText, list.error);
  }

  if (failed) return { value: undefined, diagnostics, rejected: true };
  if (limit === undefined && perTryTimeoutUs === undefined && listText === undefined) {
    return { value: undefined, diagnostics, rejected: false };
  }
  const value: HttpRetryConfig = {
    limit: limit ?? 1,
    statusRanges,
    grpcCodes,
    ...(perTryTimeoutUs !== undefined ? { perTryTimeoutUs } : {}),
  };
  if (listText === undefined) noteNothingRetryable(ctx, value, diagnostics);
  return { value, diagnostics, rejected: false };
}

function noteIgnoredList(annotations: AnnotationMap, ctx: RetryAnnotationContext, diagnostics: Diagnostic[]): void {
  if (ctx.owner !== "route") return;
  const otherKey = ctx.protocol === "http" ? RETRY_GRPC : RETRY_HTTP;
  if (annotations === undefined || annotations === null || !Object.hasOwn(annotations, otherKey)) return;
  const kind = ctx.protocol === "http" ? "an HTTPRoute" : "a GRPCRoute";
  diagnostics.push({
    severity: "warning",
    code: "retry-annotation-ignored",
    object: ctx.object,
    field: annotationField(otherKey),
    message: `${otherKey} is not read on ${kind}; Linkerd ignores it (use ${ctx.protocol === "http" ? RETRY_HTTP : RETRY_GRPC}).`,
  });
}

function noteZeroLimit(ctx: RetryAnnotationContext, diagnostics: Diagnostic[]): void {
  diagnostics.push({
    severity: "info",
    code: "retry-limit-zero",
    object: ctx.object,
    field: annotationField(RETRY_LIMIT),
    message:
      `\`${RETRY_LIMIT}: 0\` does not disable retries: Linkerd treats 0 as unset, which means the ` +
      "default of 1 retry whenever another retry annotation is present.",
  });
}

function noteNothingRetryable(ctx: RetryAnnotationContext, value: HttpRetryConfig, diagnostics: Diagnostic[]): void {
  const listKey = ctx.protocol === "http" ? RETRY_HTTP : RETRY_GRPC;
  const what = ctx.protocol === "http" ? "HTTP status" : "gRPC status";
  const perTry = value.perTryTimeoutUs !== undefined ? ` (per-try ${formatDurationUs(value.perTryTimeoutUs)})` : "";
  diagnostics.push({
    severity: "warning",
    code: "retry-nothing-retryable",
    object: ctx.object,
    field: annotationField(listKey),
    message:
      `Retries are enabled (limit ${value.limit}) without \`${listKey}\`: no ${what} is retryable; ` +
      `only fail-fast and per-try timeouts${perTry} are retried (and HTTP/2 REFUSED_STREAM).`,
  });
}

export interface ServiceRetryAnnotations {
  /** Retry for the Service's HTTP routes and default route (`limit`, `timeout`, `/http`). */
  http: RetryAnnotations;
  /** Retry for the Service's GRPC routes (`limit`, `timeout`, `/grpc`). */
  grpc: RetryAnnotations;
  /** Both groups' diagnostics, each reported once. */
  diagnostics: Diagnostic[];
}

/** A Service's two retry groups, parsed independently as Linkerd does. */
export function parseServiceRetryAnnotations(annotations: AnnotationMap, object: string): ServiceRetryAnnotations {
  const http = parseRetryAnnotations(annotations, { object, owner: "service", protocol: "http" });
  const grpc = parseRetryAnnotations(annotations, { object, owner: "service", protocol: "grpc" });
  const seen = new Set<string>();
  const diagnostics: Diagnostic[] = [];
  for (const d of [...http.diagnostics, ...grpc.diagnostics]) {
    const key = `${d.code}|${d.field}|${d.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      diagnostics.push(d);
    }
  }
  return { http, grpc, diagnostics };
}
