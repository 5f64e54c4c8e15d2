import { describe, expect, it } from "vitest";
import {
  annotationAttemptTimeouts,
  attemptHasPerTryTimeout,
  errorToStatus,
  profileAttemptTimeouts,
  requestDeadlineUs,
  resolveAttempt,
  wholeResponseTimer,
  type AttemptTimeouts,
  type ProxyErrorKind,
} from "../../src/policy/request-timeouts.js";

const MS = 1_000;

describe("error to HTTP status (outbound server mapping)", () => {
  it.each<[ProxyErrorKind, number]>([
    ["fail-fast", 504],
    ["load-shed", 503],
    ["no-route", 404],
    ["per-try-timeout", 504],
    ["request-timeout", 504],
    ["response-timeout", 504],
    ["idle-timeout", 504],
    ["route-timeout", 504],
    ["refused-stream", 502],
    ["connect-error", 502],
    ["reset", 502],
    ["other", 502],
  ])("%s becomes %i", (kind, status) => {
    expect(errorToStatus(kind)).toBe(status);
  });
});

describe("request deadline and per-try timeout placement", () => {
  it("fixes the deadline at route entry and has none without a timeout", () => {
    expect(requestDeadlineUs(7 * MS, 500 * MS)).toBe(507 * MS);
    expect(requestDeadlineUs(7 * MS, undefined)).toBeUndefined();
  });

  it.each([
    [1, 1, true],
    [1, 2, false],
    [2, 1, true],
    [2, 2, true],
    [2, 3, false],
    [3, 3, true],
    [3, 4, false],
  ])("with limit %i, attempt %i has the per-try timeout: %s", (limit, attempt, has) => {
    expect(attemptHasPerTryTimeout(attempt, limit)).toBe(has);
  });

  it("arms the per-try timer only on attempts that have it, and the route timers on all", () => {
    const retry = { limit: 1, statusRanges: [], grpcCodes: [], perTryTimeoutUs: 100 * MS };
    const timeouts = { responseUs: 2_000 * MS, idleUs: 300 * MS };
    expect(annotationAttemptTimeouts(1, retry, timeouts, 900 * MS)).toEqual({
      stack: "annotation",
      requestDeadlineUs: 900 * MS,
      perTryTimeoutUs: 100 * MS,
      responseTimeoutUs: 2_000 * MS,
      idleTimeoutUs: 300 * MS,
    });
    expect(annotationAttemptTimeouts(2, retry, timeouts, undefined)).toEqual({
      stack: "annotation",
      responseTimeoutUs: 2_000 * MS,
      idleTimeoutUs: 300 * MS,
    });
  });
});

describe("which timer ends an attempt", () => {
  const annotation = (t: Omit<AttemptTimeouts, "stack">): AttemptTimeouts => ({ stack: "annotation", ...t });

  it("a per-try timeout earlier than the request deadline fails the attempt with a retryable error", () => {
    const r = resolveAttempt(
      { startUs: 100 * MS, headersAtUs: 400 * MS },
      annotation({ perTryTimeoutUs: 100 * MS, requestDeadlineUs: 500 * MS }),
    );
    expect(r).toMatchObject({ kind: "headers-timeout", error: "per-try-timeout", atUs: 200 * MS });
  });

  it("when the per-try timer and the deadline coincide the deadline wins", () => {
    const r = resolveAttempt(
      { startUs: 400 * MS },
      annotation({ perTryTimeoutUs: 100 * MS, requestDeadlineUs: 500 * MS }),
    );
    expect(r).toMatchObject({ kind: "headers-timeout", error: "request-timeout", atUs: 500 * MS });
  });

  it("headers arriving in the same microsecond as a timer win", () => {
    const r = resolveAttempt(
      { startUs: 0, headersAtUs: 100 * MS, bodyEndAtUs: 100 * MS },
      annotation({ perTryTimeoutUs: 100 * MS }),
    );
    expect(r).toEqual({ kind: "response", headersAtUs: 100 * MS, bodyEndAtUs: 100 * MS, reason: "completed" });
  });

  it("an attempt dispatched after the request deadline fails as soon as it starts, even if it would answer at once", () => {
    for (const headersAtUs of [601 * MS, 600 * MS]) {
      const r = resolveAttempt(
        { startUs: 600 * MS, headersAtUs },
        annotation({ requestDeadlineUs: 500 * MS }),
      );
      expect(r).toMatchObject({ kind: "headers-timeout", error: "request-timeout", atUs: 600 * MS });
    }
  });

  it("the ServiceProfile route timeout ends the request with route-timeout and ignores the body", () => {
    const timers = profileAttemptTimeouts(requestDeadlineUs(0, 300 * MS));
    expect(resolveAttempt({ startUs: 50 * MS, headersAtUs: 400 * MS }, timers)).toMatchObject({
      kind: "headers-timeout",
      error: "route-timeout",
      atUs: 300 * MS,
    });
    expect(resolveAttempt({ startUs: 50 * MS, headersAtUs: 200 * MS, bodyEndAtUs: 900 * MS }, timers)).toMatchObject({
      kind: "response",
      bodyEndAtUs: 900 * MS,
    });
  });

  it("the response and idle timeouts only start once headers arrive", () => {
    const timers = annotation({ responseTimeoutUs: 100 * MS, idleTimeoutUs: 50 * MS });
    expect(resolveAttempt({ startUs: 0 }, timers)).toEqual({ kind: "no-response", reason: "no-headers-and-no-timer" });
  });

  it("a response timeout measured from the attempt start cuts a slow body", () => {
    const r = resolveAttempt(
      { startUs: 0, headersAtUs: 30 * MS, bodyEndAtUs: 300 * MS },
      annotation({ responseTimeoutUs: 100 * MS }),
    );
    expect(r).toMatchObject({ kind: "body-timeout", headersAtUs: 30 * MS, error: "response-timeout", atUs: 100 * MS });
  });

  it("a response timeout already past when headers arrive fires at the headers", () => {
    const r = resolveAttempt(
      { startUs: 0, headersAtUs: 150 * MS, bodyEndAtUs: 160 * MS },
      annotation({ responseTimeoutUs: 100 * MS }),
    );
    expect(r).toMatchObject({ kind: "body-timeout", error: "response-timeout", atUs: 150 * MS });
  });

  it("the request deadline replaces a response timeout that would end later", () => {
    const r = resolveAttempt(
      { startUs: 0, headersAtUs: 10 * MS, bodyEndAtUs: 900 * MS },
      annotation({ responseTimeoutUs: 500 * MS, requestDeadlineUs: 500 * MS }),
    );
    expect(r).toMatchObject({ kind: "body-timeout", error: "request-timeout", atUs: 500 * MS });
  });

  it("an idle gap after headers longer than the idle timeout ends the stream", () => {
    const r = resolveAttempt(
      { startUs: 0, headersAtUs: 10 * MS, bodyEndAtUs: 200 * MS },
      annotation({ idleTimeoutUs: 50 * MS }),
    );
    expect(r).toMatchObject({ kind: "body-timeout", error: "idle-timeout", atUs: 60 * MS });
  });

  it("a body that ends in time completes", () => {
    const r = resolveAttempt(
      { startUs: 0, headersAtUs: 10 * MS, bodyEndAtUs: 50 * MS },
      annotation({ idleTimeoutUs: 40 * MS, responseTimeoutUs: 50 * MS, requestDeadlineUs: 60 * MS }),
    );
    expect(r).toEqual({ kind: "response", headersAtUs: 10 * MS, bodyEndAtUs: 50 * MS, reason: "completed" });
  });
});

describe("the timer that ends an attempt whose response arrives whole", () => {
  it("is the per-try timeout when it comes before the request deadline", () => {
    const t = annotationAttemptTimeouts(1, { limit: 2, statusRanges: [], grpcCodes: [], perTryTimeoutUs: 100_000 }, {}, 500_000);
    expect(wholeResponseTimer(t, 0)).toEqual({ atUs: 100_000, error: "per-try-timeout" });
  });
  it("is the request deadline (never retried) once it is closer than the per-try timeout", () => {
    const t = annotationAttemptTimeouts(2, { limit: 2, statusRanges: [], grpcCodes: [], perTryTimeoutUs: 100_000 }, {}, 450_000);
    expect(wholeResponseTimer(t, 400_000)).toEqual({ atUs: 450_000, error: "request-timeout" });
  });
  it("keeps the deadline on a tie with the per-try timer", () => {
    const t = annotationAttemptTimeouts(1, { limit: 1, statusRanges: [], grpcCodes: [], perTryTimeoutUs: 100_000 }, {}, 100_000);
    expect(wholeResponseTimer(t, 0)).toEqual({ atUs: 100_000, error: "request-timeout" });
  });
  it("keeps the per-try timer on a tie with the response timer, and takes the response timer when it is earlier", () => {
    const perTry = { limit: 2, statusRanges: [], grpcCodes: [], perTryTimeoutUs: 100_000 };
    expect(wholeResponseTimer(annotationAttemptTimeouts(1, perTry, { responseUs: 100_000 }, undefined), 0)).toEqual({ atUs: 100_000, error: "per-try-timeout" });
    expect(wholeResponseTimer(annotationAttemptTimeouts(1, perTry, { responseUs: 99_999 }, 500_000), 0)).toEqual({ atUs: 99_999, error: "response-timeout" });
  });
  it("counts the response timeout from dispatch", () => {
    const t = annotationAttemptTimeouts(1, undefined, { responseUs: 1_000_000 }, undefined);
    expect(wholeResponseTimer(t, 2_000_000)).toEqual({ atUs: 3_000_000, error: "response-timeout" });
  });
  it("drops the per-try timeout on the last attempt, leaving only the deadline (vector 17)", () => {
    const t = annotationAttemptTimeouts(2, { limit: 1, statusRanges: [], grpcCodes: [], perTryTimeoutUs: 100_000 }, {}, undefined);
    expect(wholeResponseTimer(t, 0)).toBeUndefined();
  });
  it("is the ServiceProfile route timeout on the profile stack", () => {
    expect(wholeResponseTimer(profileAttemptTimeouts(600_000), 0)).toEqual({ atUs: 600_000, error: "route-timeout" });
  });
});
