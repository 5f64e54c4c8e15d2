import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { hasAnyTimeout, mergeServiceDefaults, readAnnotation } from "../../src/policy/annotation-merge.js";
import { parseRetryAnnotations } from "../../src/policy/retry-annotations.js";
import { parseTimeoutAnnotations } from "../../src/policy/timeout-annotations.js";
import type { Diagnostic } from "../../src/policy/diagnostics.js";
import type { HttpRetryConfig, RouteTimeouts } from "../../src/policy/config.js";

const S = 1_000_000;
const SERVICE = "Service default/web";
const ROUTE = "HTTPRoute default/web";

function parseGroups(annotations: Record<string, string>, object: string, owner: "route" | "service") {
  return {
    retry: parseRetryAnnotations(annotations, { object, owner, protocol: "http" }).value,
    timeouts: parseTimeoutAnnotations(annotations, { object, owner }).value,
  };
}

describe("merging a route rule with its Service's annotations", () => {
  it("vector 13: Service {http 5xx, response 10s} + route {request 5s} → Service retry, route timeouts only", () => {
    const service = parseGroups(
      { "retry.linkerd.io/http": "5xx", "timeout.linkerd.io/response": "10s" },
      SERVICE,
      "service",
    );
    const route = parseGroups({ "timeout.linkerd.io/request": "5s" }, ROUTE, "route");
    const merged = mergeServiceDefaults(route, service);
    expect(merged.retry).toEqual({ limit: 1, statusRanges: [{ start: 500, end: 599 }], grpcCodes: [] });
    expect(merged.timeouts).toEqual({ requestUs: 5 * S });
    expect(merged.timeouts.responseUs).toBeUndefined();
    expect(merged.retrySource).toBe("service");
    expect(merged.timeoutsSource).toBe("route");
    expect(merged.reason).toContain("never field-merged");
  });

  it("a route retry replaces the Service retry wholesale, dropping the Service's limit and per-try timeout", () => {
    const service = parseGroups(
      { "retry.linkerd.io/http": "5xx", "retry.linkerd.io/limit": "3", "retry.linkerd.io/timeout": "200ms" },
      SERVICE,
      "service",
    );
    const route = parseGroups({ "retry.linkerd.io/http": "429" }, ROUTE, "route");
    expect(mergeServiceDefaults(route, service).retry).toEqual({
      limit: 1,
      statusRanges: [{ start: 429, end: 429 }],
      grpcCodes: [],
    });
  });

  it("a rule with no annotations of its own takes both groups from the Service", () => {
    const service = parseGroups({ "retry.linkerd.io/limit": "2", "timeout.linkerd.io/idle": "30s" }, SERVICE, "service");
    const merged = mergeServiceDefaults({ retry: undefined, timeouts: {} }, service);
    expect(merged).toMatchObject({
      retry: { limit: 2, statusRanges: [], grpcCodes: [] },
      timeouts: { idleUs: 30 * S },
      retrySource: "service",
      timeoutsSource: "service",
    });
  });

  it("reports none when neither side configures anything", () => {
    const merged = mergeServiceDefaults({ retry: undefined, timeouts: {} }, { retry: undefined, timeouts: {} });
    expect(merged).toMatchObject({ retry: undefined, timeouts: {}, retrySource: "none", timeoutsSource: "none" });
  });

  it("a zero timeout on the route still counts as the route setting its own timeouts", () => {
    expect(hasAnyTimeout({ requestUs: 0 })).toBe(true);
    expect(hasAnyTimeout({})).toBe(false);
    const merged = mergeServiceDefaults({ retry: undefined, timeouts: { requestUs: 0 } }, { retry: undefined, timeouts: { responseUs: S } });
    expect(merged.timeouts).toEqual({ requestUs: 0 });
  });

  it("property: each group is exactly one side's, never a mix", () => {
    const duration = fc.option(fc.nat(100 * S), { nil: undefined });
    const timeouts = fc.record({ requestUs: duration, responseUs: duration, idleUs: duration }).map((t) => {
      const out: RouteTimeouts = {};
      if (t.requestUs !== undefined) out.requestUs = t.requestUs;
      if (t.responseUs !== undefined) out.responseUs = t.responseUs;
      if (t.idleUs !== undefined) out.idleUs = t.idleUs;
      return out;
    });
    const retry = fc.option(
      fc.record({ limit: fc.integer({ min: 1, max: 5 }), statusRanges: fc.constant([]), grpcCodes: fc.constant([14]) }),
      { nil: undefined },
    ) as fc.Arbitrary<HttpRetryConfig | undefined>;
    fc.assert(
      fc.property(retry, timeouts, retry, timeouts, (rRetry, rTimeouts, sRetry, sTimeouts) => {
        const merged = mergeServiceDefaults({ retry: rRetry, timeouts: rTimeouts }, { retry: sRetry, timeouts: sTimeouts });
        expect(merged.retry).toBe(rRetry !== undefined ? rRetry : sRetry);
        expect(merged.timeouts).toEqual(Object.keys(rTimeouts).length > 0 ? rTimeouts : sTimeouts);
      }),
    );
  });
});

describe("readAnnotation", () => {
  it("returns strings, reads null as empty and reports non-strings", () => {
    const diagnostics: Diagnostic[] = [];
    const annotations = { a: "x", b: null, c: 3, d: true };
    expect(readAnnotation(annotations, "a", SERVICE, diagnostics)).toBe("x");
    expect(readAnnotation(annotations, "b", SERVICE, diagnostics)).toBe("");
    expect(readAnnotation(annotations, "c", SERVICE, diagnostics)).toBeUndefined();
    expect(readAnnotation(annotations, "d", SERVICE, diagnostics)).toBeUndefined();
    expect(readAnnotation(annotations, "missing", SERVICE, diagnostics)).toBeUndefined();
    expect(readAnnotation(undefined, "a", SERVICE, diagnostics)).toBeUndefined();
    expect(readAnnotation(annotations, "toString", SERVICE, diagnostics)).toBeUndefined();
    expect(diagnostics.map((d) => [d.code, d.field])).toEqual([
      ["annotation-not-string", 'metadata.annotations["c"]'],
      ["annotation-not-string", 'metadata.annotations["d"]'],
    ]);
    expect(diagnostics[0]?.message).toContain('Quote it ("3")');
  });
});
