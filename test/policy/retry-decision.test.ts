import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { HttpRetryConfig, RetryBudgetSpec, RouteTimeouts } from "../../src/policy/config.js";
import { fixedRandom, type RandomSource } from "../../src/policy/random.js";
import {
  annotationAttemptTimeouts,
  errorToStatus,
  requestDeadlineUs,
  resolveAttempt,
  type ProxyErrorKind,
} from "../../src/policy/request-timeouts.js";
import { RetryBudget } from "../../src/policy/retry-budget.js";
import {
  decideAnnotationRetry,
  decideProfileRetry,
  type AnnotationAttemptOutcome,
  type ProfileAttemptOutcome,
  type ProfileRetryInput,
} from "../../src/policy/retry-decision.js";

const MS = 1_000;
const S = 1_000_000;
const KIB = 1024;
const SMALL_BODY = { bytes: 100 };

const fiveXX = (limit: number, extra: Partial<HttpRetryConfig> = {}): HttpRetryConfig => ({
  limit,
  statusRanges: [{ start: 500, end: 599 }],
  grpcCodes: [],
  ...extra,
});

// ---------------------------------------------------------------------------------------------
// ServiceProfile stack

describe("ServiceProfile retries", () => {
  const spec: RetryBudgetSpec = { retryRatio: 1.0, minRetriesPerSecond: 0, ttlUs: 10 * S };
  const input = (over: Partial<ProfileRetryInput>): ProfileRetryInput => ({
    isRetryable: true,
    budget: new RetryBudget(spec, 0),
    outcome: { kind: "response", isFailure: true },
    body: SMALL_BODY,
    nowUs: 0,
    ...over,
  });

  it("a success deposits and is final", () => {
    const budget = new RetryBudget(spec, 0);
    const d = decideProfileRetry(input({ budget, outcome: { kind: "response", isFailure: false } }));
    expect(d).toEqual({ retry: false, reason: "not-failure", delayUs: 0, deposited: true, retryable: false });
    expect(budget.sum()).toBe(budget.depositAmount);
  });

  it("a failure is retried at once when the budget can pay, and the withdrawal is booked", () => {
    const budget = new RetryBudget(spec, 0);
    budget.deposit(0);
    const d = decideProfileRetry(input({ budget }));
    expect(d).toEqual({ retry: true, reason: "retryable-failure", delayUs: 0, deposited: false, retryable: true });
    expect(budget.sum()).toBe(budget.depositAmount - budget.withdrawAmount);
  });

  it("an overdrawn budget returns the failure without depositing", () => {
    const budget = new RetryBudget(spec, 0);
    const d = decideProfileRetry(input({ budget }));
    expect(d).toEqual({ retry: false, reason: "budget-exhausted", delayUs: 0, deposited: false, retryable: true });
    expect(budget.sum()).toBe(0);
  });

  it.each<ProxyErrorKind>(["route-timeout", "fail-fast", "connect-error", "refused-stream", "reset"])(
    "an error (%s) is never retried and deposits",
    (error) => {
      const budget = new RetryBudget({ ...spec, minRetriesPerSecond: 100 }, 0);
      const d = decideProfileRetry(input({ budget, outcome: { kind: "error", error } }));
      expect(d).toMatchObject({ retry: false, reason: "error-not-retried", deposited: true });
    },
  );

  it("a route without isRetryable or without a valid budget has no retry layer: no deposit", () => {
    const budget = new RetryBudget(spec, 0);
    expect(decideProfileRetry(input({ budget, isRetryable: false }))).toMatchObject({
      retry: false,
      reason: "route-not-retryable",
      deposited: false,
    });
    expect(decideProfileRetry(input({ budget: undefined }))).toMatchObject({ retry: false, reason: "no-retry-budget" });
    expect(budget.sum()).toBe(0);
  });

  it("a body of known size over 64 KiB bypasses the retry layer: no retry, no deposit", () => {
    const budget = new RetryBudget({ ...spec, minRetriesPerSecond: 100 }, 0);
    const d = decideProfileRetry(input({ budget, body: { bytes: 64 * KIB + 1 } }));
    expect(d).toMatchObject({ retry: false, reason: "body-too-large", deposited: false });
    expect(budget.sum()).toBe(budget.reserve);
  });

  it("a streamed body that overflowed the buffer makes the failure final, with a deposit", () => {
    const d = decideProfileRetry(input({ body: { bytes: 64 * KIB + 1, streamed: true } }));
    expect(d).toMatchObject({ retry: false, reason: "body-capped", deposited: true });
    expect(decideProfileRetry(input({ body: { bytes: 64 * KIB } }))).toMatchObject({ reason: "budget-exhausted" });
  });

  it("there is no per-request cap: a request retries as long as the budget pays", () => {
    const budget = new RetryBudget({ retryRatio: 0.2, minRetriesPerSecond: 10, ttlUs: 10 * S }, 0);
    let retries = 0;
    while (decideProfileRetry(input({ budget })).retry) retries += 1;
    expect(retries).toBe(budget.reserve / budget.withdrawAmount); // vector 5: 500 / 5 = 100
  });

  it("over any run, retries stay within deposits plus one reserve per half ttl", () => {
    // Same bound as the budget's own property (see retry-budget.test.ts), seen through the decisions.
    const requestArb = fc.record({
      gapUs: fc.integer({ min: 0, max: 400 * MS }),
      failures: fc.array(fc.boolean(), { minLength: 1, maxLength: 6 }),
    });
    fc.assert(
      fc.property(
        fc.record({ retryRatio: fc.constantFrom(0, 0.2, 0.5, 1.5), minRetriesPerSecond: fc.integer({ min: 0, max: 3 }) }),
        fc.array(requestArb, { maxLength: 300 }),
        (ratio, requests) => {
          const budget = new RetryBudget({ ...ratio, ttlUs: 2 * S }, 0);
          const retryTimes: number[] = [];
          let deposits = 0;
          let t = 0;
          for (const req of requests) {
            t += req.gapUs;
            for (let i = 0; ; i += 1) {
              const isFailure = req.failures[i % req.failures.length] ?? false;
              const d = decideProfileRetry(input({ budget, outcome: { kind: "response", isFailure }, nowUs: t }));
              if (d.deposited) deposits += 1;
              if (!d.retry) break;
              retryTimes.push(t);
            }
          }
          const first = retryTimes[0];
          const last = retryTimes[retryTimes.length - 1];
          if (first === undefined || last === undefined) return;
          const reserves = Math.floor((last - first) / (5 * budget.windowUs)) + 1;
          expect(budget.withdrawAmount * retryTimes.length).toBeLessThanOrEqual(
            budget.depositAmount * deposits + reserves * budget.reserve,
          );
        },
      ),
      { numRuns: 200 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Annotation stack: single decisions

describe("annotation retries: one decision", () => {
  const decide = (attempt: number, outcome: AnnotationAttemptOutcome, retry: HttpRetryConfig | "none" = fiveXX(2)) =>
    decideAnnotationRetry({
      retry: retry === "none" ? undefined : retry,
      attempt,
      outcome,
      body: SMALL_BODY,
      rng: fixedRandom([0]),
    });

  it.each<[AnnotationAttemptOutcome, string]>([
    [{ kind: "response", status: 503 }, "retryable-status"],
    [{ kind: "response", status: 200 }, "not-retryable"],
    [{ kind: "response", status: 429 }, "not-retryable"],
    [{ kind: "error", error: "fail-fast" }, "retryable-error"],
    [{ kind: "error", error: "per-try-timeout" }, "retryable-error"],
    [{ kind: "error", error: "refused-stream" }, "retryable-error"],
    [{ kind: "error", error: "load-shed" }, "not-retryable"],
    [{ kind: "error", error: "request-timeout" }, "not-retryable"],
    [{ kind: "error", error: "response-timeout" }, "not-retryable"],
    [{ kind: "error", error: "idle-timeout" }, "not-retryable"],
    [{ kind: "error", error: "connect-error" }, "not-retryable"],
    [{ kind: "error", error: "reset" }, "not-retryable"],
  ])("outcome %j after attempt 1 of limit 2 is %s", (outcome, reason) => {
    expect(decide(1, outcome).reason).toBe(reason);
  });

  it("only listed statuses are retried: limit alone retries no status at all", () => {
    const limitOnly: HttpRetryConfig = { limit: 3, statusRanges: [], grpcCodes: [] };
    expect(decide(1, { kind: "response", status: 503 }, limitOnly)).toEqual({ retry: false, reason: "not-retryable" });
    expect(decide(1, { kind: "error", error: "fail-fast" }, limitOnly)).toMatchObject({ retry: true });
  });

  it("a gRPC status in the configured codes is retried whatever the HTTP status", () => {
    const grpc: HttpRetryConfig = { limit: 1, statusRanges: [], grpcCodes: [13] };
    expect(decide(1, { kind: "response", status: 200, grpcStatus: 13 }, grpc)).toMatchObject({
      retry: true,
      reason: "retryable-grpc-status",
    });
    expect(decide(1, { kind: "response", status: 200, grpcStatus: 0 }, grpc)).toMatchObject({ retry: false });
  });

  it("the limit counts retries: attempt limit+1 is the last", () => {
    expect(decide(2, { kind: "response", status: 500 }, fiveXX(2))).toMatchObject({ retry: true, nextAttempt: 3 });
    expect(decide(3, { kind: "response", status: 500 }, fiveXX(2))).toEqual({ retry: false, reason: "limit-exceeded" });
  });

  it("the retry that uses up the limit runs without the per-try timeout", () => {
    const retry = fiveXX(2, { perTryTimeoutUs: 100 * MS });
    expect(decide(1, { kind: "error", error: "per-try-timeout" }, retry)).toMatchObject({ nextAttemptHasPerTryTimeout: true });
    expect(decide(2, { kind: "error", error: "per-try-timeout" }, retry)).toMatchObject({ nextAttemptHasPerTryTimeout: false });
  });

  it("no retry annotations means no retry layer", () => {
    expect(decide(1, { kind: "response", status: 503 }, "none")).toEqual({ retry: false, reason: "no-retry-policy" });
  });

  it("bodies over 64 KiB are never retried", () => {
    const base = { retry: fiveXX(1), attempt: 1, outcome: { kind: "response", status: 503 } as const, rng: fixedRandom([0]) };
    expect(decideAnnotationRetry({ ...base, body: { bytes: 64 * KIB + 1 } }).reason).toBe("body-too-large");
    expect(decideAnnotationRetry({ ...base, body: { bytes: 64 * KIB + 1, streamed: true } }).reason).toBe("body-capped");
    expect(decideAnnotationRetry({ ...base, body: { bytes: 64 * KIB } }).retry).toBe(true);
  });

});

// ---------------------------------------------------------------------------------------------
// Annotation stack: whole requests, driven by a tiny loop (no kernel)

/** One scripted attempt: the response it would give and how long it would take. */
interface Scripted {
  status?: number;
  error?: ProxyErrorKind;
  afterUs: number;
}

interface RunResult {
  /** What the client gets: a status (from a response or a mapped error). */
  clientStatus: number;
  error?: ProxyErrorKind;
  attempts: number;
  endUs: number;
  lastReason: string;
}

function runAnnotationRequest(opts: {
  retry: HttpRetryConfig;
  timeouts: RouteTimeouts;
  script: readonly Scripted[];
  rng: RandomSource;
  /** Whether some backend's gate is open when attempt n is sent; false ⇒ LoadShed sheds it (503). */
  ready?: (attempt: number) => boolean;
}): RunResult {
  const deadlineUs = requestDeadlineUs(0, opts.timeouts.requestUs);
  let startUs = 0;
  let last: { outcome: AnnotationAttemptOutcome; atUs: number } | undefined;
  for (let attempt = 1; ; attempt += 1) {
    const step = opts.script[attempt - 1];
    if (step === undefined) throw new Error(`attempt ${attempt} was not expected`);
    const timers = annotationAttemptTimeouts(attempt, opts.retry, opts.timeouts, deadlineUs);
    const doneAtUs = startUs + step.afterUs;
    const res = resolveAttempt(
      step.error === undefined ? { startUs, headersAtUs: doneAtUs, bodyEndAtUs: doneAtUs } : { startUs },
      timers,
    );
    if (opts.ready?.(attempt) === false) {
      // LoadShed rejects it before distribution: no endpoint, so no endpoint timer either.
      last = { outcome: { kind: "error", error: "load-shed" }, atUs: startUs };
    } else if (res.kind === "headers-timeout" && (step.error === undefined || res.atUs < doneAtUs)) {
      last = { outcome: { kind: "error", error: res.error }, atUs: res.atUs };
    } else if (step.error !== undefined) {
      last = { outcome: { kind: "error", error: step.error }, atUs: doneAtUs };
    } else {
      last = { outcome: { kind: "response", status: step.status ?? 200 }, atUs: doneAtUs };
    }
    const d = decideAnnotationRetry({ retry: opts.retry, attempt, outcome: last.outcome, body: SMALL_BODY, rng: opts.rng });
    if (d.retry) {
      // LoadShed is always ready (reference §3.3 step 4): the retry is sent after its backoff.
      startUs = last.atUs + d.delayUs;
      continue;
    }
    const o = last.outcome;
    const base = { attempts: attempt, endUs: last.atUs, lastReason: d.reason };
    if (o.kind === "response") return { ...base, clientStatus: o.status };
    return { ...base, clientStatus: errorToStatus(o.error), error: o.error };
  }
}

describe("annotation retries: upstream proxy vectors", () => {
  const uArb = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });

  it("vector 14: limit 1, 5xx: 500 then 204 gives 204", () => {
    const r = runAnnotationRequest({
      retry: fiveXX(1),
      timeouts: { requestUs: 2 * S },
      script: [{ status: 500, afterUs: 0 }, { status: 204, afterUs: 0 }],
      rng: fixedRandom([0.5]),
    });
    expect(r).toMatchObject({ clientStatus: 204, attempts: 2 });
  });

  it("vector 15: limit 2, 5xx: 500, 500, 504 gives 504 after 3 attempts; the 4th is never sent", () => {
    const r = runAnnotationRequest({
      retry: fiveXX(2),
      timeouts: {},
      script: [500, 500, 504, 204].map((status) => ({ status, afterUs: 0 })),
      rng: fixedRandom([0.5]),
    });
    expect(r).toMatchObject({ clientStatus: 504, attempts: 3, lastReason: "limit-exceeded" });
    // Two backoffs: [25, 50) ms then [50, 100) ms with U = 0.5.
    expect(r.endUs).toBe(25 * MS * 1.5 + 50 * MS * 1.5);
  });

  it("vector 16: limit 1, per-try 500 ms, request 2 s: a slow first attempt is retried and 204 wins", () => {
    fc.assert(
      fc.property(uArb, (u) => {
        const r = runAnnotationRequest({
          retry: fiveXX(1, { perTryTimeoutUs: 500 * MS }),
          timeouts: { requestUs: 2 * S },
          script: [{ status: 200, afterUs: 1 * S }, { status: 204, afterUs: 0 }],
          rng: fixedRandom([u]),
        });
        expect(r).toMatchObject({ clientStatus: 204, attempts: 2 });
        expect(r.endUs).toBeGreaterThanOrEqual(500 * MS + 25 * MS);
        expect(r.endUs).toBeLessThan(500 * MS + 50 * MS);
      }),
    );
  });

  it("vector 17: limit 1, per-try T: the last attempt has no per-try timeout and succeeds slowly", () => {
    const perTryUs = 500 * MS;
    const r = runAnnotationRequest({
      retry: fiveXX(1, { perTryTimeoutUs: perTryUs }),
      timeouts: {},
      script: [{ status: 204, afterUs: 2 * perTryUs }, { status: 204, afterUs: 2 * perTryUs }],
      rng: fixedRandom([0]),
    });
    expect(r).toMatchObject({ clientStatus: 204, attempts: 2 });
    expect(r.endUs).toBe(perTryUs + 25 * MS + 2 * perTryUs);
  });

  it("vector 18: request 500 ms, per-try 100 ms, limit 2: [200 ms, 200 ms, 0 ms → 204] gives 204", () => {
    fc.assert(
      fc.property(uArb, uArb, (u1, u2) => {
        const r = runAnnotationRequest({
          retry: fiveXX(2, { perTryTimeoutUs: 100 * MS }),
          timeouts: { requestUs: 500 * MS },
          script: [{ status: 204, afterUs: 200 * MS }, { status: 204, afterUs: 200 * MS }, { status: 204, afterUs: 0 }],
          rng: fixedRandom([u1, u2]),
        });
        expect(r).toMatchObject({ clientStatus: 204, attempts: 3 });
      }),
    );
  });

  it("vector 18: request 500 ms, per-try 100 ms, limit 2: [200 ms, 200 ms, 500 ms → 204] hits the deadline (504)", () => {
    fc.assert(
      fc.property(uArb, uArb, (u1, u2) => {
        const r = runAnnotationRequest({
          retry: fiveXX(2, { perTryTimeoutUs: 100 * MS }),
          timeouts: { requestUs: 500 * MS },
          script: [{ status: 204, afterUs: 200 * MS }, { status: 204, afterUs: 200 * MS }, { status: 204, afterUs: 500 * MS }],
          rng: fixedRandom([u1, u2]),
        });
        expect(r).toMatchObject({ clientStatus: 504, error: "request-timeout", attempts: 3, endUs: 500 * MS });
      }),
    );
  });

  it("a retry whose backoff outlasts the request deadline fails at dispatch with the deadline error", () => {
    const r = runAnnotationRequest({
      retry: fiveXX(1),
      timeouts: { requestUs: 10 * MS },
      script: [{ status: 503, afterUs: 5 * MS }, { status: 204, afterUs: 0 }],
      rng: fixedRandom([0]),
    });
    expect(r).toMatchObject({ clientStatus: 504, error: "request-timeout", attempts: 2, endUs: 5 * MS + 25 * MS });
  });

  it("a retry sent while every backend's gate is shut is shed with 503, which is not retried", () => {
    // Reference §3.3 step 4 / §4.4: the retry is never abandoned for readiness; LoadShedError ⇒ 503,
    // and LoadShed is not a retryable error, so limit 3 is not reached.
    const r = runAnnotationRequest({
      retry: fiveXX(3),
      timeouts: {},
      script: [{ status: 503, afterUs: 0 }, { status: 502, afterUs: 0 }, { status: 204, afterUs: 0 }],
      rng: fixedRandom([0]),
      ready: (attempt) => attempt < 3,
    });
    expect(r).toMatchObject({ clientStatus: 503, error: "load-shed", attempts: 3, lastReason: "not-retryable" });
  });

  it("attempts per request never exceed limit + 1, and reach it exactly when the limit is what stops them", () => {
    const stepArb: fc.Arbitrary<Scripted> = fc.oneof(
      fc.record({ status: fc.constantFrom(200, 204, 429, 500, 502, 503), afterUs: fc.integer({ min: 0, max: 300 * MS }) }),
      fc.record({
        error: fc.constantFrom<ProxyErrorKind>("fail-fast", "load-shed", "refused-stream", "connect-error"),
        afterUs: fc.integer({ min: 0, max: 300 * MS }),
      }),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.option(fc.integer({ min: 1, max: 200 * MS }), { nil: undefined }),
        fc.array(stepArb, { minLength: 7, maxLength: 7 }),
        fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
        (limit, perTryTimeoutUs, script, readiness) => {
          const retry = fiveXX(limit, perTryTimeoutUs === undefined ? {} : { perTryTimeoutUs });
          const r = runAnnotationRequest({
            retry,
            timeouts: { requestUs: 1 * S },
            script,
            rng: fixedRandom([0.3, 0.9]),
            ready: (attempt) => readiness[attempt] ?? true,
          });
          expect(r.attempts).toBeLessThanOrEqual(limit + 1);
          if (r.lastReason === "limit-exceeded") expect(r.attempts).toBe(limit + 1);
        },
      ),
      { numRuns: 500 },
    );
  });
});
