// Request and attempt timeouts on both routing stacks: which timer ends an attempt first, the
// error it becomes, and the HTTP status the client then sees. Mirrors
// `linkerd/proxy/http/src/stream_timeouts.rs`, `.../logical/policy/route/{extensions,retry}.rs`,
// the ServiceProfile route timeout in `.../http/logical/profile.rs` and the error mapping in
// `linkerd/app/outbound/src/http/server.rs` (linkerd2-proxy release/v2.246.0). Deliberate
// difference: timers are compared as numbers instead of being polled; the request body is taken
// to be fully flushed when the attempt starts.

import type { HttpRetryConfig, RouteTimeouts } from "./config.js";

/** Errors an attempt or a request can end with, named after the proxy error they stand for. */
export type ProxyErrorKind =
  | "fail-fast" // FailFastError: backend had no ready endpoint for the fail-fast timeout
  | "load-shed" // LoadShedError: route's inner service not ready (backend in fail-fast, queue full)
  | "no-route" // no route matched the request
  | "per-try-timeout" // ResponseTimeoutError::Headers (`retry.linkerd.io/timeout`)
  | "request-timeout" // StreamDeadlineError (`timeout.linkerd.io/request`, HTTPRoute timeouts.request)
  | "response-timeout" // ResponseStreamTimeoutError (`timeout.linkerd.io/response`)
  | "idle-timeout" // StreamIdleError (`timeout.linkerd.io/idle`)
  | "route-timeout" // ServiceProfile route `timeout`
  | "refused-stream" // HTTP/2 REFUSED_STREAM from the peer
  | "connect-error" // connection refused / connect timeout
  | "reset" // stream or connection reset
  | "other";

const TIMEOUT_ERRORS: ReadonlySet<ProxyErrorKind> = new Set<ProxyErrorKind>([
  "per-try-timeout",
  "request-timeout",
  "response-timeout",
  "idle-timeout",
  "route-timeout",
]);

/** Status the outbound proxy answers with when a request ends in `kind` before any response. */
export function errorToStatus(kind: ProxyErrorKind): number {
  if (kind === "fail-fast" || TIMEOUT_ERRORS.has(kind)) return 504;
  if (kind === "load-shed") return 503;
  if (kind === "no-route") return 404;
  return 502;
}

/**
 * Absolute request deadline, fixed once at route entry (SetExtensions on the policy stack, the
 * timeout layer outside the retry layer on the ServiceProfile stack), so it covers every retry and
 * every backoff. Absent timeout ⇒ no deadline; so is one past what integer microseconds count
 * (a Go duration of centuries), since no clock reaches it.
 */
export function requestDeadlineUs(routeEntryUs: number, timeoutUs: number | undefined): number | undefined {
  if (timeoutUs === undefined) return undefined;
  const deadlineUs = routeEntryUs + timeoutUs;
  return Number.isSafeInteger(deadlineUs) ? deadlineUs : undefined;
}

/**
 * Whether attempt `attempt` (1-based) carries the per-try timeout. The proxy drops it once no
 * retries remain (`attempt > limit` for attempts ≥ 2), so the final attempt may run past it:
 * with limit 1 only attempt 1 has it, with limit 2 attempts 1 and 2.
 */
export function attemptHasPerTryTimeout(attempt: number, limit: number): boolean {
  return attempt === 1 || attempt <= limit;
}

/** Timers armed for one attempt. `requestDeadlineUs` is absolute; the others are durations. */
export interface AttemptTimeouts {
  /** Which stack: the ServiceProfile timeout only bounds waiting for headers and is `route-timeout`. */
  stack: "profile" | "annotation";
  /** Absolute deadline of the whole request, µs; absent ⇒ none. */
  requestDeadlineUs?: number;
  /** Per-try headers timeout, µs from attempt start; absent ⇒ none (or dropped on the last attempt). */
  perTryTimeoutUs?: number;
  /** Attempt start → response body end, µs; only armed once headers arrive; absent ⇒ none. */
  responseTimeoutUs?: number;
  /** Max gap without body activity after headers, µs; absent ⇒ none. */
  idleTimeoutUs?: number;
}

/** Timers for attempt `attempt` of an annotation/HTTPRoute request. */
export function annotationAttemptTimeouts(
  attempt: number,
  retry: HttpRetryConfig | undefined,
  timeouts: RouteTimeouts,
  deadlineUs: number | undefined,
): AttemptTimeouts {
  const out: AttemptTimeouts = { stack: "annotation" };
  if (deadlineUs !== undefined) out.requestDeadlineUs = deadlineUs;
  if (retry?.perTryTimeoutUs !== undefined && attemptHasPerTryTimeout(attempt, retry.limit)) {
    out.perTryTimeoutUs = retry.perTryTimeoutUs;
  }
  if (timeouts.responseUs !== undefined) out.responseTimeoutUs = timeouts.responseUs;
  if (timeouts.idleUs !== undefined) out.idleTimeoutUs = timeouts.idleUs;
  return out;
}

/** Timers for any attempt of a ServiceProfile request: only the route deadline. */
export function profileAttemptTimeouts(routeDeadlineUs: number | undefined): AttemptTimeouts {
  if (routeDeadlineUs === undefined) return { stack: "profile" };
  return { stack: "profile", requestDeadlineUs: routeDeadlineUs };
}

/** What would happen to an attempt if no timer fired. Absent times mean "never". */
export interface AttemptTimeline {
  /** Dispatch time, µs (request body taken as flushed at once). */
  startUs: number;
  /** Response headers arrive, µs; absent ⇒ never. */
  headersAtUs?: number;
  /** Response body ends, µs (≥ headersAtUs; body arrives in one piece); absent ⇒ never. */
  bodyEndAtUs?: number;
}

export type AttemptResolution =
  | { kind: "headers-timeout"; error: ProxyErrorKind; atUs: number; reason: string }
  | { kind: "response"; headersAtUs: number; bodyEndAtUs: number | undefined; reason: "completed" }
  | { kind: "body-timeout"; headersAtUs: number; error: ProxyErrorKind; atUs: number; reason: string }
  | { kind: "no-response"; reason: "no-headers-and-no-timer" };

interface Timer {
  atUs: number;
  error: ProxyErrorKind;
  reason: string;
}

/** Before headers only the per-try timer and the request deadline run (ResponseFuture). */
function headersTimer(line: AttemptTimeline, t: AttemptTimeouts): Timer | undefined {
  const deadlineError: ProxyErrorKind = t.stack === "profile" ? "route-timeout" : "request-timeout";
  let timer: Timer | undefined =
    t.requestDeadlineUs === undefined
      ? undefined
      : { atUs: t.requestDeadlineUs, error: deadlineError, reason: "request deadline reached before response headers" };
  if (t.stack === "annotation" && t.perTryTimeoutUs !== undefined) {
    const perTryAtUs = line.startUs + t.perTryTimeoutUs;
    // The per-try timer replaces the deadline only when strictly earlier.
    if (timer === undefined || perTryAtUs < timer.atUs) {
      timer = { atUs: perTryAtUs, error: "per-try-timeout", reason: "per-try timeout before response headers" };
    }
  }
  return timer;
}

/** After headers: the earlier of response-end and the request deadline, then idle (ResponseBody). */
function bodyTimers(line: AttemptTimeline, headersAtUs: number, t: AttemptTimeouts): Timer[] {
  const timers: Timer[] = [];
  const eosAtUs = t.responseTimeoutUs === undefined ? undefined : line.startUs + t.responseTimeoutUs;
  const limitAtUs = t.requestDeadlineUs;
  if (eosAtUs !== undefined && (limitAtUs === undefined || eosAtUs < limitAtUs)) {
    timers.push({ atUs: eosAtUs, error: "response-timeout", reason: "response timeout before body end" });
  } else if (limitAtUs !== undefined) {
    timers.push({ atUs: limitAtUs, error: "request-timeout", reason: "request deadline reached before body end" });
  }
  if (t.idleTimeoutUs !== undefined) {
    timers.push({ atUs: headersAtUs + t.idleTimeoutUs, error: "idle-timeout", reason: "stream idle after headers" });
  }
  return timers;
}

/**
 * Decide how an attempt ends. A response arriving in the same µs as a timer wins, because the
 * proxy polls the inner future before its timers; but a timer already due when the attempt is
 * dispatched fires at once (an attempt sent after the request deadline fails immediately). The
 * ServiceProfile timeout stops at headers; body timers exist only on the policy stack.
 */
export function resolveAttempt(line: AttemptTimeline, timeouts: AttemptTimeouts): AttemptResolution {
  const before = headersTimer(line, timeouts);
  const beforeAtUs = before === undefined ? undefined : Math.max(before.atUs, line.startUs);
  // A timer already due at dispatch wins even over an instant response: the first poll of the
  // dispatched request cannot have its headers yet.
  const dueAtDispatch = before !== undefined && before.atUs <= line.startUs;
  if (
    line.headersAtUs === undefined ||
    dueAtDispatch ||
    (beforeAtUs !== undefined && beforeAtUs < line.headersAtUs)
  ) {
    if (before === undefined || beforeAtUs === undefined) {
      return { kind: "no-response", reason: "no-headers-and-no-timer" };
    }
    return { kind: "headers-timeout", error: before.error, atUs: beforeAtUs, reason: before.reason };
  }
  const headersAtUs = line.headersAtUs;
  if (timeouts.stack === "annotation") {
    let first: Timer | undefined;
    for (const timer of bodyTimers(line, headersAtUs, timeouts)) {
      const atUs = Math.max(timer.atUs, headersAtUs);
      // Strict `<` keeps the first-listed timer on ties: the deadline is polled before idle.
      if (first === undefined || atUs < first.atUs) first = { ...timer, atUs };
    }
    if (first !== undefined && (line.bodyEndAtUs === undefined || first.atUs < line.bodyEndAtUs)) {
      return { kind: "body-timeout", headersAtUs, error: first.error, atUs: first.atUs, reason: first.reason };
    }
  }
  return { kind: "response", headersAtUs, bodyEndAtUs: line.bodyEndAtUs, reason: "completed" };
}

/**
 * The timer that ends an attempt whose response arrives whole (headers and body at one instant),
 * as the simulator models responses: the earliest of the request deadline, the per-try timeout and
 * the response timeout, all counted from dispatch (the request body is flushed at once, so the
 * response-end timer starts then, per reference §3.4). Ties keep the deadline over the per-try
 * timer and the per-try timer over the response timer — the order the proxy's layers poll them.
 * A response landing in the same µs as the timer wins (the simulator orders completions first).
 */
export function wholeResponseTimer(t: AttemptTimeouts, startUs: number): { atUs: number; error: ProxyErrorKind } | undefined {
  let timer: { atUs: number; error: ProxyErrorKind } | undefined =
    t.requestDeadlineUs === undefined
      ? undefined
      : { atUs: Math.max(startUs, t.requestDeadlineUs), error: t.stack === "profile" ? "route-timeout" : "request-timeout" };
  if (t.stack === "annotation") {
    const perTry = t.perTryTimeoutUs;
    if (perTry !== undefined && (timer === undefined || startUs + perTry < timer.atUs)) timer = { atUs: startUs + perTry, error: "per-try-timeout" };
    const response = t.responseTimeoutUs;
    if (response !== undefined && (timer === undefined || startUs + response < timer.atUs)) timer = { atUs: startUs + response, error: "response-timeout" };
  }
  // A timer past what integer microseconds count (a Go duration of centuries) never fires.
  return timer !== undefined && Number.isSafeInteger(timer.atUs) ? timer : undefined;
}
