// Shapes of the configuration a proxy receives, shared by the parsers (which produce them) and
// the proxy-side policy (which consumes them). All durations are integer microseconds; absent
// means "not configured", never zero.

/** An inclusive HTTP status range, as the policy controller sends it (`{start, end}`). */
export interface StatusRange {
  start: number;
  end: number;
}

/** Retry configuration on the client-policy stack (route/Service annotations, Linkerd 2.16). */
export interface HttpRetryConfig {
  /** Maximum number of retries (extra attempts); total attempts = limit + 1. Default 1. */
  limit: number;
  /** Retryable HTTP statuses. Empty ⇒ no status is retryable (only retryable errors). */
  statusRanges: StatusRange[];
  /** Retryable gRPC status codes (numeric, e.g. 14 = UNAVAILABLE). */
  grpcCodes: number[];
  /** Per-attempt response-headers timeout (`retry.linkerd.io/timeout`); absent ⇒ none. */
  perTryTimeoutUs?: number;
}

/** Timeouts on the client-policy stack (`timeout.linkerd.io/*`, HTTPRoute `timeouts.request`). */
export interface RouteTimeouts {
  /** Whole-request deadline from route entry, covering retries and backoff; absent ⇒ none. */
  requestUs?: number;
  /** Per attempt: request flushed → response body end; absent ⇒ none. */
  responseUs?: number;
  /** Per attempt: max idle time on the stream; absent ⇒ none. */
  idleUs?: number;
}

/** ServiceProfile `spec.retryBudget` after Linkerd's validation. */
export interface RetryBudgetSpec {
  /** Ratio of retries to original requests (f32 in Linkerd). */
  retryRatio: number;
  /** Retries per second always allowed (reserve = this × whole ttl seconds). */
  minRetriesPerSecond: number;
  /** Window over which deposits and withdrawals count. */
  ttlUs: number;
}

/** Consecutive-failures failure accrual (`balancer.linkerd.io/failure-accrual*`). */
export interface FailureAccrualConfig {
  /** Consecutive failures that shut the endpoint. Default 7. */
  maxFailures: number;
  /** First penalty. Default 1 s. */
  minPenaltyUs: number;
  /** Penalty cap. Default 60 s. */
  maxPenaltyUs: number;
  /** Jitter ratio, 0..100. Default 0.5. */
  jitterRatio: number;
}

/** Exponential backoff parameters (linkerd `exp-backoff`). */
export interface BackoffConfig {
  minUs: number;
  maxUs: number;
  /** 0 ⇒ no jitter; 1.0 ⇒ up to one extra base. */
  jitterRatio: number;
}

/** The fixed backoff the 2.16 policy controller sends for annotation retries. */
export const ANNOTATION_RETRY_BACKOFF: BackoffConfig = { minUs: 25_000, maxUs: 250_000, jitterRatio: 1.0 };

/**
 * Reconnect backoff of a proxy's connection to an endpoint: 100 ms doubling to 500 ms, jitter 0.1
 * (`DEFAULT_OUTBOUND_CONNECT_BACKOFF` and `DEFAULT_INBOUND_CONNECT_BACKOFF` in linkerd2-proxy
 * `linkerd/app/src/env.rs` @ release/v2.246.0; the 2.16 chart does not override them). One stream
 * serves consecutive failures and a successful connect drops it (`linkerd/reconnect/src/lib.rs`).
 */
export const CONNECT_BACKOFF: BackoffConfig = { minUs: 100_000, maxUs: 500_000, jitterRatio: 0.1 };

/** Request bodies larger than this are never retried (both stacks). */
export const MAX_BUFFERED_BYTES = 64 * 1024;

/** Default ServiceProfile retry budget (`defaultRetryBudget` in the destination controller). */
export const DEFAULT_RETRY_BUDGET: RetryBudgetSpec = { retryRatio: 0.2, minRetriesPerSecond: 10, ttlUs: 10_000_000 };
