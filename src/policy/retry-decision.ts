// Whether a finished attempt is retried, on each of Linkerd's two routing stacks.
// ServiceProfile stack mirrors `linkerd/app/outbound/src/http/retry.rs` (budget, no cap, no
// backoff); the annotation/HTTPRoute stack mirrors `linkerd/http/retry/src/lib.rs`
// (`send_req_with_retries`) and `.../logical/policy/route/retry.rs` (`is_retryable`), at
// linkerd2-proxy release/v2.246.0. Deliberate difference: the retry loop is unrolled into one
// decision per finished attempt. There is no readiness check after the backoff to port: upstream
// checks that the inner service is ready at once, but on the route stack that service is
// `LoadShed`, which always answers ready, so a granted retry is always sent — and shed with 503 by
// LoadShed when every backend's gate is shut.

import type { BackoffConfig, HttpRetryConfig } from "./config.js";
import { ANNOTATION_RETRY_BACKOFF, MAX_BUFFERED_BYTES } from "./config.js";
import { backoffDelayUs } from "./exp-backoff.js";
import type { RandomSource } from "./random.js";
import { attemptHasPerTryTimeout, type ProxyErrorKind } from "./request-timeouts.js";
import type { RetryBudget } from "./retry-budget.js";

/** The request body as the retry layer sees it. */
export interface RequestBodyInfo {
  /** Body size, bytes. */
  bytes: number;
  /**
   * true ⇒ length unknown up front (no content-length), so an oversize body is only discovered
   * while buffering and the attempt still runs under the retry layer. Absent ⇒ false: a known
   * size over 64 KiB bypasses the retry layer entirely.
   */
  streamed?: boolean;
}

type BodyVerdict = "replayable" | "too-large" | "capped";

function bodyVerdict(body: RequestBodyInfo): BodyVerdict {
  if (body.bytes <= MAX_BUFFERED_BYTES) return "replayable";
  return body.streamed === true ? "capped" : "too-large";
}

// ---------------------------------------------------------------------------------------------
// ServiceProfile stack

/** A finished ServiceProfile attempt: a classified response, or an error (never retried here). */
export type ProfileAttemptOutcome =
  | { kind: "response"; isFailure: boolean }
  | { kind: "error"; error: ProxyErrorKind };

export interface ProfileRetryInput {
  /** The matched SP route's `isRetryable`. */
  isRetryable: boolean;
  /** The destination profile's budget; undefined when Linkerd rejected or never got one. */
  budget: RetryBudget | undefined;
  /** How the attempt ended; the response's failure class comes from the route's classifier. */
  outcome: ProfileAttemptOutcome;
  /** The request body, which decides whether the request can be replayed at all. */
  body: RequestBodyInfo;
  /** When the attempt finished, µs; the budget's deposit/withdraw happen at this time. */
  nowUs: number;
}

export type ProfileRetryReason =
  | "route-not-retryable" // no retry layer: no deposit, no retry
  | "no-retry-budget" // isRetryable but the budget was invalid/missing: silently no retries
  | "body-too-large" // known size > 64 KiB: sent without the retry layer, so no deposit either
  | "not-failure" // response classified success: deposit
  | "error-not-retried" // transport error or timeout: deposit, never retried on this stack
  | "body-capped" // failure, but the streamed body overflowed the buffer: deposit
  | "budget-exhausted" // retryable failure, withdraw refused: failure returned, no deposit
  | "retryable-failure"; // retryable failure, withdraw succeeded: retry at once

export interface ProfileRetryDecision {
  retry: boolean;
  reason: ProfileRetryReason;
  /** Always 0: ServiceProfile retries have no backoff. */
  delayUs: number;
  /** Whether this decision deposited into the budget. */
  deposited: boolean;
  /** Counted in `route_retryable_total` (withdraw attempted); `budget-exhausted` adds skipped="no_budget". */
  retryable: boolean;
}

function profileFinal(reason: ProfileRetryReason, deposited: boolean, retryable = false): ProfileRetryDecision {
  return { retry: false, reason, delayUs: 0, deposited, retryable };
}

/**
 * Decide after each ServiceProfile attempt. There is no per-request cap: a request keeps
 * retrying as long as the budget allows. Exactly one deposit per request that ends without
 * being retried, none for a request refused by the budget.
 */
export function decideProfileRetry(input: ProfileRetryInput): ProfileRetryDecision {
  if (!input.isRetryable) return profileFinal("route-not-retryable", false);
  const budget = input.budget;
  if (budget === undefined) return profileFinal("no-retry-budget", false);
  const body = bodyVerdict(input.body);
  if (body === "too-large") return profileFinal("body-too-large", false);

  const nonRetryable: ProfileRetryReason | undefined =
    input.outcome.kind === "error"
      ? "error-not-retried"
      : !input.outcome.isFailure
        ? "not-failure"
        : body === "capped"
          ? "body-capped"
          : undefined;
  if (nonRetryable !== undefined) {
    budget.deposit(input.nowUs);
    return profileFinal(nonRetryable, true);
  }
  if (!budget.withdraw(input.nowUs)) return profileFinal("budget-exhausted", false, true);
  return { retry: true, reason: "retryable-failure", delayUs: 0, deposited: false, retryable: true };
}

// ---------------------------------------------------------------------------------------------
// Annotation / HTTPRoute / GRPCRoute stack

/** A finished annotation-stack attempt: a response (with gRPC status if any), or an error. */
export type AnnotationAttemptOutcome =
  | { kind: "response"; status: number; grpcStatus?: number }
  | { kind: "error"; error: ProxyErrorKind };

export interface AnnotationRetryInput {
  /** The rule's retry config; undefined ⇒ no retry annotations ⇒ no retry layer. */
  retry: HttpRetryConfig | undefined;
  /** The attempt that just finished, 1-based. */
  attempt: number;
  /** How the attempt ended: a response, or the error it became (see request-timeouts.ts). */
  outcome: AnnotationAttemptOutcome;
  /** The request body, which decides whether the request can be replayed at all. */
  body: RequestBodyInfo;
  /** Draws the backoff jitter; one draw per granted retry. */
  rng: RandomSource;
  /** Backoff; absent ⇒ the fixed 25–250 ms, jitter 1.0 the 2.16 controller always sends. */
  backoff?: BackoffConfig;
}

export type AnnotationRetryDecision =
  | {
      retry: true;
      reason: "retryable-status" | "retryable-grpc-status" | "retryable-error";
      /** Backoff before the next attempt, µs. */
      delayUs: number;
      nextAttempt: number;
      /** False once no retries remain: the last attempt runs without the per-try timeout. */
      nextAttemptHasPerTryTimeout: boolean;
    }
  | {
      retry: false;
      reason: "no-retry-policy" | "body-too-large" | "not-retryable" | "body-capped" | "limit-exceeded";
    };

/** Errors worth another attempt: fail-fast may land on a healthy backend; load-shed may not. */
const RETRYABLE_ERRORS: ReadonlySet<ProxyErrorKind> = new Set<ProxyErrorKind>([
  "fail-fast",
  "per-try-timeout",
  "refused-stream",
]);

type Retryable = "retryable-status" | "retryable-grpc-status" | "retryable-error";

/** `RetryPolicy::is_retryable`: gRPC codes first, then HTTP status ranges. */
export function classifyAnnotationOutcome(
  retry: HttpRetryConfig,
  outcome: AnnotationAttemptOutcome,
): Retryable | undefined {
  if (outcome.kind === "error") return RETRYABLE_ERRORS.has(outcome.error) ? "retryable-error" : undefined;
  if (outcome.grpcStatus !== undefined && retry.grpcCodes.includes(outcome.grpcStatus)) return "retryable-grpc-status";
  const inRange = retry.statusRanges.some((r) => outcome.status >= r.start && outcome.status <= r.end);
  return inRange ? "retryable-status" : undefined;
}

/**
 * Decide after attempt `attempt`. `limit` counts retries, so attempts ≤ limit + 1. A granted retry
 * is sent when its backoff ends, whatever the backends' readiness (see the header). The request
 * deadline is not consulted: it is enforced inside each attempt (see request-timeouts.ts), so an
 * attempt dispatched after it fails at once with `request-timeout`.
 */
export function decideAnnotationRetry(input: AnnotationRetryInput): AnnotationRetryDecision {
  const retry = input.retry;
  if (retry === undefined) return { retry: false, reason: "no-retry-policy" };
  const body = bodyVerdict(input.body);
  if (body === "too-large") return { retry: false, reason: "body-too-large" };
  const retryable = classifyAnnotationOutcome(retry, input.outcome);
  if (retryable === undefined) return { retry: false, reason: "not-retryable" };
  if (body === "capped") return { retry: false, reason: "body-capped" };
  if (input.attempt > retry.limit) return { retry: false, reason: "limit-exceeded" };
  // One backoff stream per request: the wait before retry n is step n−1 = attempt − 1.
  const delayUs = backoffDelayUs(input.backoff ?? ANNOTATION_RETRY_BACKOFF, input.attempt - 1, input.rng);
  const nextAttempt = input.attempt + 1;
  return {
    retry: true,
    reason: retryable,
    delayUs,
    nextAttempt,
    nextAttemptHasPerTryTimeout: attemptHasPerTryTimeout(nextAttempt, retry.limit),
  };
}
