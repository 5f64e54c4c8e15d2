import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_GRPC_FAILURE_CODES,
  type ResponseOutcome,
  classifyDefault,
  classifyPolicyRoute,
  classifyResponse,
  classifyWithProfileClasses,
  isDefaultFailure,
  isPolicyRouteFailure,
  isProfileClassFailure,
  isResponseFailure,
} from "../../src/policy/classify.js";
import type { ResponseClass } from "../../src/policy/profile-routes.js";

const http = (status: number): ResponseOutcome => ({ status, isGrpc: false });
const grpc = (grpcStatus?: number, status = 200): ResponseOutcome =>
  grpcStatus === undefined ? { status, isGrpc: true } : { status, isGrpc: true, grpcStatus };
const cls = (min: number, max: number, isFailure: boolean): ResponseClass => ({ condition: { kind: "status", min, max }, isFailure });

describe("default classifier", () => {
  it.each([
    [200, false],
    [404, false],
    [499, false],
    [500, true],
    [503, true],
    [599, true],
  ])("plain HTTP %i: failure = %s (failure iff 500..599)", (status, failure) => {
    expect(classifyDefault(http(status)).failure).toBe(failure);
  });

  it("the default gRPC failure codes are UNKNOWN, DEADLINE_EXCEEDED, PERMISSION_DENIED, INTERNAL, UNAVAILABLE, DATA_LOSS", () => {
    expect(DEFAULT_GRPC_FAILURE_CODES).toEqual([2, 4, 7, 13, 14, 15]);
  });

  it.each([
    [0, false],
    [1, false],
    [2, true],
    [4, true],
    [5, false],
    [7, true],
    [13, true],
    [14, true],
    [15, true],
    [16, false],
  ])("gRPC grpc-status %i: failure = %s", (code, failure) => {
    expect(classifyDefault(grpc(code)).failure).toBe(failure);
  });

  it("a grpc-status the proxy does not know reads as UNKNOWN, a failure", () => {
    expect(classifyDefault(grpc(99)).failure).toBe(true);
  });

  it("a gRPC response without grpc-status is labelled UNKNOWN but counted as a success", () => {
    const c = classifyDefault(grpc(undefined));
    expect(c.failure).toBe(false);
    expect(c.reason).toContain("UNKNOWN");
  });

  it("for gRPC requests only grpc-status counts: HTTP 503 with grpc-status 0 is a success", () => {
    expect(classifyDefault(grpc(0, 503)).failure).toBe(false);
  });

  it("for plain HTTP requests grpc-status is ignored", () => {
    expect(classifyDefault({ status: 200, isGrpc: false, grpcStatus: 14 }).failure).toBe(false);
  });

  it("transport errors and timeouts are failures", () => {
    expect(classifyDefault({ status: 200, isGrpc: false, error: "timeout" }).failure).toBe(true);
    expect(classifyDefault({ status: 200, isGrpc: true, grpcStatus: 0, error: "connection reset" }).failure).toBe(true);
  });
});

describe("profile classifier", () => {
  it("the first response class whose condition matches decides", () => {
    const classes = [cls(500, 504, false), cls(500, 599, true)];
    expect(classifyWithProfileClasses(classes, http(503)).failure).toBe(false);
    expect(classifyWithProfileClasses(classes, http(505)).failure).toBe(true);
    expect(classifyWithProfileClasses(classes, http(503)).reason).toContain("#0");
  });

  it("a class can make a 4xx a failure", () => {
    expect(classifyWithProfileClasses([cls(429, 429, true)], http(429)).failure).toBe(true);
  });

  it("when no class matches: grpc-status decides by the default codes, else 5xx is a failure", () => {
    const classes = [cls(429, 429, true)];
    expect(classifyWithProfileClasses(classes, http(503)).failure).toBe(true);
    expect(classifyWithProfileClasses(classes, http(404)).failure).toBe(false);
    expect(classifyWithProfileClasses(classes, { status: 200, isGrpc: false, grpcStatus: 14 }).failure).toBe(true);
    expect(classifyWithProfileClasses(classes, { status: 503, isGrpc: false, grpcStatus: 0 }).failure).toBe(false);
  });

  it("a class matching the HTTP 200 of a gRPC response hides its grpc-status", () => {
    expect(classifyWithProfileClasses([cls(200, 299, false)], grpc(14)).failure).toBe(false);
  });

  it("all, any and not combine status ranges", () => {
    const notClientError: ResponseClass = {
      condition: { kind: "all", matches: [{ kind: "status", min: 400, max: 599 }, { kind: "not", match: { kind: "any", matches: [{ kind: "status", min: 404, max: 404 }] } }] },
      isFailure: true,
    };
    expect(classifyWithProfileClasses([notClientError], http(404)).failure).toBe(false);
    expect(classifyWithProfileClasses([notClientError], http(403)).failure).toBe(true);
  });

  it("errors are failures whatever the classes say", () => {
    expect(classifyWithProfileClasses([cls(100, 599, false)], { status: 200, isGrpc: false, error: "timeout" }).failure).toBe(true);
  });

  it("a route without response classes uses the default classifier", () => {
    expect(classifyResponse([], grpc(undefined)).failure).toBe(false);
    expect(classifyResponse([], http(500)).failure).toBe(true);
    expect(classifyResponse([cls(500, 500, false)], http(500)).failure).toBe(false);
  });
});

describe("properties", () => {
  const outcome = fc.record({
    status: fc.integer({ min: 100, max: 599 }),
    isGrpc: fc.boolean(),
    grpcStatus: fc.option(fc.integer({ min: 0, max: 20 }), { nil: undefined }),
  }).map((o): ResponseOutcome => (o.grpcStatus === undefined ? { status: o.status, isGrpc: o.isGrpc } : o as ResponseOutcome));
  const classes = fc.array(
    fc.tuple(fc.integer({ min: 100, max: 599 }), fc.integer({ min: 0, max: 100 }), fc.boolean()).map(([min, span, f]) => cls(min, Math.min(599, min + span), f)),
    { maxLength: 4 },
  );

  it("classification is total: every status 100..599 gets a verdict and a reason", () => {
    fc.assert(
      fc.property(classes, outcome, (cs, o) => {
        const c = classifyResponse(cs, o);
        expect(typeof c.failure).toBe("boolean");
        expect(c.reason.length).toBeGreaterThan(0);
      }),
    );
  });

  it("the data path's verdicts (no explanation) are the classifiers' verdicts, errors and odd gRPC codes included", () => {
    const anyOutcome = fc.tuple(outcome, fc.option(fc.constantFrom("timeout", "reset", "connect-error"), { nil: undefined }), fc.integer({ min: -3, max: 40 }))
      .map(([o, error, odd]): ResponseOutcome => {
        const withOdd: ResponseOutcome = o.grpcStatus !== undefined && odd > 20 ? { ...o, grpcStatus: odd / 7 } : o;
        return error === undefined ? withOdd : { ...withOdd, error };
      });
    const nested = fc.constantFrom<ResponseClass["condition"]>(
      { kind: "not", match: { kind: "status", min: 500, max: 503 } },
      { kind: "any", matches: [{ kind: "status", min: 200, max: 204 }, { kind: "status", min: 504, max: 504 }] },
      { kind: "all", matches: [] },
    ).map((condition): ResponseClass => ({ condition, isFailure: true }));
    fc.assert(
      fc.property(fc.array(fc.oneof(classes.map((c) => c[0]).filter((c) => c !== undefined), nested), { maxLength: 4 }), anyOutcome, fc.constantFrom<"http" | "grpc">("http", "grpc"), (cs, o, kind) => {
        expect(isDefaultFailure(o)).toBe(classifyDefault(o).failure);
        expect(isResponseFailure(cs, o)).toBe(classifyResponse(cs, o).failure);
        expect(isProfileClassFailure(cs, o)).toBe(classifyWithProfileClasses(cs, o).failure);
        expect(isPolicyRouteFailure(kind, o)).toBe(classifyPolicyRoute(kind, o).failure);
      }),
      { numRuns: 2000 },
    );
  });

  it("without classes or gRPC, failure is exactly 500..599", () => {
    fc.assert(
      fc.property(fc.integer({ min: 100, max: 599 }), (status) => {
        expect(classifyResponse([], http(status)).failure).toBe(status >= 500);
      }),
    );
  });
});
