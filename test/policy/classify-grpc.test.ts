// gRPC in the proxy's classifiers and retry layer: which requests are gRPC, what a GRPCRoute
// classifies, what the retry layer can see of a grpc-status, and gRPC's own code names.
// Expected values from linkerd2-proxy @ release/v2.246.0: `linkerd/app/core/src/classify.rs`
// (`is_grpc`, `Response::Grpc`, `Eos::GrpcOpen`), `logical/policy/route.rs` (the Grpc route's
// `Param<classify::Request>`), `linkerd/http/retry/src/peek_trailers.rs`; and gRPC's
// `doc/statuscodes.md` for the names.

import { describe, expect, it } from "vitest";
import {
  GRPC_CODE_NAMES,
  classifyPolicyRoute,
  grpcCodeFromName,
  grpcStatusSeenByRetry,
  isGrpcContentType,
} from "../../src/policy/classify.js";
import { classifyAnnotationOutcome } from "../../src/policy/retry-decision.js";

describe("which requests are gRPC", () => {
  it.each([
    ["application/grpc", true],
    ["application/grpc+proto", true],
    ["application/grpc-web", true],
    ["application/json", false],
    ["Application/grpc", false],
    [undefined, false],
  ])("content-type %s: %s (it must start with application/grpc)", (ct, grpc) => {
    expect(isGrpcContentType(ct)).toBe(grpc);
  });
});

describe("gRPC status names", () => {
  it("are gRPC's, in code order", () => {
    expect(GRPC_CODE_NAMES.length).toBe(17);
    expect(grpcCodeFromName("OK")).toBe(0);
    expect(grpcCodeFromName("UNKNOWN")).toBe(2);
    expect(grpcCodeFromName("DEADLINE_EXCEEDED")).toBe(4);
    expect(grpcCodeFromName("UNAVAILABLE")).toBe(14);
    expect(grpcCodeFromName("UNAUTHENTICATED")).toBe(16);
  });

  it("take numbers 0..16 and nothing else", () => {
    expect(grpcCodeFromName("14")).toBe(14);
    expect(grpcCodeFromName("17")).toBeUndefined();
    expect(grpcCodeFromName("unavailable")).toBeUndefined();
    expect(grpcCodeFromName("UNAVAILABLE ")).toBeUndefined();
  });
});

describe("the client-policy classifier", () => {
  it("on a GRPCRoute judges the grpc-status even of a request without the gRPC content-type", () => {
    expect(classifyPolicyRoute("grpc", { status: 200, isGrpc: false, grpcStatus: 14 }).failure).toBe(true);
    expect(classifyPolicyRoute("http", { status: 200, isGrpc: false, grpcStatus: 14 }).failure).toBe(false);
  });

  it("on a GRPCRoute ignores the HTTP status: a 503 without grpc-status is a success (GrpcOpen, no trailers ⇒ Ok(Unknown))", () => {
    expect(classifyPolicyRoute("grpc", { status: 503, isGrpc: false }).failure).toBe(false);
  });

  it("on an HTTPRoute judges gRPC requests by the default gRPC codes, others by 5xx", () => {
    expect(classifyPolicyRoute("http", { status: 200, isGrpc: true, grpcStatus: 14 }).failure).toBe(true);
    expect(classifyPolicyRoute("http", { status: 200, isGrpc: true, grpcStatus: 5 }).failure).toBe(false);
    expect(classifyPolicyRoute("http", { status: 503, isGrpc: false }).failure).toBe(true);
  });

  it("counts an error as a failure on both kinds", () => {
    expect(classifyPolicyRoute("grpc", { status: 504, isGrpc: true, error: "request-timeout" }).failure).toBe(true);
  });
});

describe("what the retry layer sees of a grpc-status", () => {
  it("a header (Trailers-Only) or trailers right behind the first message: the status", () => {
    expect(grpcStatusSeenByRetry(14, "headers")).toBe(14);
    expect(grpcStatusSeenByRetry(14, "trailers")).toBe(14);
    expect(grpcStatusSeenByRetry(14, undefined)).toBe(14);
  });

  it("trailers after a streamed body: nothing", () => {
    expect(grpcStatusSeenByRetry(14, "streamed")).toBeUndefined();
  });

  it("so retry.linkerd.io/grpc: unavailable retries the first and not the second", () => {
    const retry = { limit: 2, statusRanges: [], grpcCodes: [14] };
    expect(classifyAnnotationOutcome(retry, { kind: "response", status: 200, grpcStatus: 14 })).toBe("retryable-grpc-status");
    const seen = grpcStatusSeenByRetry(14, "streamed");
    expect(classifyAnnotationOutcome(retry, seen === undefined ? { kind: "response", status: 200 } : { kind: "response", status: 200, grpcStatus: seen })).toBeUndefined();
  });
});
