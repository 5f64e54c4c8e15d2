import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  parseHttpStatusList,
  parseRetryAnnotations,
  parseServiceRetryAnnotations,
  type RetryAnnotationContext,
} from "../../src/policy/retry-annotations.js";
import type { HttpRetryConfig } from "../../src/policy/config.js";

const HTTP_ROUTE: RetryAnnotationContext = { object: "HTTPRoute default/web", owner: "route", protocol: "http" };
const GRPC_ROUTE: RetryAnnotationContext = { object: "GRPCRoute default/rpc", owner: "route", protocol: "grpc" };
const SERVICE = "Service default/web";

/** Short annotation keys as the reference's vectors write them. */
function ann(short: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(short)) out[`retry.linkerd.io/${k}`] = v;
  return out;
}

function httpRetry(short: Record<string, unknown>, ctx = HTTP_ROUTE): HttpRetryConfig | undefined {
  return parseRetryAnnotations(ann(short), ctx).value;
}

describe("retry.linkerd.io annotations on an HTTPRoute", () => {
  it("vector 8: `http: 5xx` gives limit 1, statuses 500-599 and no per-try timeout", () => {
    expect(httpRetry({ http: "5xx" })).toEqual({ limit: 1, statusRanges: [{ start: 500, end: 599 }], grpcCodes: [] });
  });

  it.each([
    ["gateway-error,429", [{ start: 502, end: 504 }, { start: 429, end: 429 }]],
    ["500-504", [{ start: 500, end: 504 }]],
    ["5XX", [{ start: 500, end: 599 }]],
  ])("vector 9: `http: %s` is accepted as %j", (text, ranges) => {
    expect(httpRetry({ http: text })?.statusRanges).toEqual(ranges);
  });

  it.each(["504-500", "600", "500, 503"])("vector 9: `http: %s` is an error that rejects the group", (text) => {
    const parsed = parseRetryAnnotations(ann({ http: text }), HTTP_ROUTE);
    expect(parsed.value).toBeUndefined();
    expect(parsed.rejected).toBe(true);
    expect(parsed.diagnostics.map((d) => [d.severity, d.code])).toContainEqual(["error", "retry-http-invalid"]);
  });

  it("vector 10: `limit: 3` alone gives limit 3 and no retryable status", () => {
    expect(httpRetry({ limit: "3" })).toEqual({ limit: 3, statusRanges: [], grpcCodes: [] });
  });

  it("vector 10: `limit: 0` alone gives no retry config", () => {
    const parsed = parseRetryAnnotations(ann({ limit: "0" }), HTTP_ROUTE);
    expect(parsed.value).toBeUndefined();
    expect(parsed.rejected).toBe(false);
  });

  it("vector 10: `limit: 0` with `http: 5xx` gives the default limit 1", () => {
    expect(httpRetry({ limit: "0", http: "5xx" })).toEqual({
      limit: 1,
      statusRanges: [{ start: 500, end: 599 }],
      grpcCodes: [],
    });
  });

  it("vector 10: `limit: -1` is an error", () => {
    const parsed = parseRetryAnnotations(ann({ limit: "-1", http: "5xx" }), HTTP_ROUTE);
    expect(parsed.value).toBeUndefined();
    expect(parsed.rejected).toBe(true);
    expect(parsed.diagnostics[0]?.code).toBe("retry-limit-invalid");
  });

  it("vector 10: `timeout: 0s` alone gives no retry config", () => {
    expect(httpRetry({ timeout: "0s" })).toBeUndefined();
  });

  it("reads the per-try timeout in microseconds and drops a zero one", () => {
    expect(httpRetry({ http: "503", timeout: "500ms" })?.perTryTimeoutUs).toBe(500_000);
    expect(httpRetry({ http: "503", timeout: "0" })).not.toHaveProperty("perTryTimeoutUs");
  });

  it("accepts limits up to u16 max, a leading plus, and nothing else", () => {
    expect(httpRetry({ limit: "65535" })?.limit).toBe(65535);
    expect(httpRetry({ limit: "+2" })?.limit).toBe(2);
    for (const bad of ["65536", " 3", "3 ", "two", "1.0", ""]) {
      expect(parseRetryAnnotations(ann({ limit: bad }), HTTP_ROUTE).rejected).toBe(true);
    }
  });

  it("an invalid per-try timeout rejects the group even when the status list is fine", () => {
    const parsed = parseRetryAnnotations(ann({ http: "5xx", timeout: "1.5s" }), HTTP_ROUTE);
    expect(parsed.value).toBeUndefined();
    expect(parsed.diagnostics[0]?.code).toBe("retry-timeout-invalid");
  });

  it("a route error message says the whole route is not (re)indexed", () => {
    const [d] = parseRetryAnnotations(ann({ http: "500, 503" }), HTTP_ROUTE).diagnostics;
    expect(d?.object).toBe("HTTPRoute default/web");
    expect(d?.field).toBe('metadata.annotations["retry.linkerd.io/http"]');
    expect(d?.message).toContain("`retry.linkerd.io/http: 500, 503`");
    expect(d?.message).toContain("whitespace");
    expect(d?.message).toContain("rejects the whole route");
  });

  it.each([
    ["4xx", "not a keyword"],
    ["504-500", "reversed"],
    ["600", "outside 100..599"],
    ["500,", "empty element"],
    ["teapot", "not 5xx, gateway-error"],
  ])("the message for `http: %s` explains %s", (text, why) => {
    expect(parseRetryAnnotations(ann({ http: text }), HTTP_ROUTE).diagnostics[0]?.message).toContain(why);
  });

  it("matches keywords case-insensitively and codes as u32 with an optional plus", () => {
    expect(httpRetry({ http: "GATEWAY-ERROR,+500,0429" })?.statusRanges).toEqual([
      { start: 502, end: 504 },
      { start: 500, end: 500 },
      { start: 429, end: 429 },
    ]);
  });

  it("rejects ranges with a bound out of range or a trailing dash", () => {
    for (const bad of ["99-200", "500-600", "500-", "-500", "500-504-", "500--504"]) {
      expect(parseHttpStatusList(bad).ok).toBe(false);
    }
  });

  it("warns that only limit/timeout retries nothing but fail-fast and per-try timeouts", () => {
    const parsed = parseRetryAnnotations(ann({ limit: "2", timeout: "1s" }), HTTP_ROUTE);
    const warning = parsed.diagnostics.find((d) => d.code === "retry-nothing-retryable");
    expect(warning?.severity).toBe("warning");
    expect(warning?.message).toContain("no HTTP status is retryable; only fail-fast and per-try timeouts");
  });

  it("explains that limit 0 does not disable retries", () => {
    const parsed = parseRetryAnnotations(ann({ limit: "0", http: "5xx" }), HTTP_ROUTE);
    expect(parsed.diagnostics.map((d) => [d.severity, d.code])).toContainEqual(["info", "retry-limit-zero"]);
  });

  it("ignores retry.linkerd.io/grpc on an HTTPRoute, with a warning", () => {
    const parsed = parseRetryAnnotations(ann({ grpc: "not-a-code", http: "503" }), HTTP_ROUTE);
    expect(parsed.value).toEqual({ limit: 1, statusRanges: [{ start: 503, end: 503 }], grpcCodes: [] });
    expect(parsed.diagnostics.map((d) => d.code)).toEqual(["retry-annotation-ignored"]);
  });

  it("treats a non-string annotation value as absent and reports it", () => {
    const parsed = parseRetryAnnotations(ann({ limit: 3, http: "5xx" }), HTTP_ROUTE);
    expect(parsed.value?.limit).toBe(1);
    expect(parsed.diagnostics.map((d) => d.code)).toContain("annotation-not-string");
  });

  it("gives no retry config and no diagnostics without annotations", () => {
    expect(parseRetryAnnotations(undefined, HTTP_ROUTE)).toEqual({ value: undefined, diagnostics: [], rejected: false });
    expect(parseRetryAnnotations({ "other.io/x": "1" }, HTTP_ROUTE).value).toBeUndefined();
  });
});

describe("retry.linkerd.io annotations on a GRPCRoute", () => {
  it("vector 11: `grpc: unavailable,cancelled` gives codes 14 and 1", () => {
    expect(httpRetry({ grpc: "unavailable,cancelled" }, GRPC_ROUTE)).toEqual({
      limit: 1,
      statusRanges: [],
      grpcCodes: [14, 1],
    });
  });

  it("vector 11: `grpc: unknown` is an error", () => {
    const parsed = parseRetryAnnotations(ann({ grpc: "unknown" }), GRPC_ROUTE);
    expect(parsed.value).toBeUndefined();
    expect(parsed.rejected).toBe(true);
    expect(parsed.diagnostics[0]?.code).toBe("retry-grpc-invalid");
  });

  it("maps every name case-insensitively and does not trim", () => {
    expect(httpRetry({ grpc: "CANCELLED,Deadline-Exceeded,internal,resource-exhausted,unavailable" }, GRPC_ROUTE)?.grpcCodes)
      .toEqual([1, 4, 13, 8, 14]);
    expect(parseRetryAnnotations(ann({ grpc: "internal, unavailable" }), GRPC_ROUTE).rejected).toBe(true);
    expect(parseRetryAnnotations(ann({ grpc: "constructor" }), GRPC_ROUTE).rejected).toBe(true);
  });

  it("reads neither /http nor the HTTP status list on a GRPCRoute", () => {
    const parsed = parseRetryAnnotations(ann({ http: "5xx", limit: "2" }), GRPC_ROUTE);
    expect(parsed.value).toEqual({ limit: 2, statusRanges: [], grpcCodes: [] });
    expect(parsed.diagnostics.map((d) => d.code)).toEqual(["retry-annotation-ignored", "retry-nothing-retryable"]);
    expect(parsed.diagnostics[1]?.message).toContain("no gRPC status is retryable");
  });
});

describe("retry.linkerd.io annotations on a Service", () => {
  it("parses the HTTP and gRPC groups independently", () => {
    const parsed = parseServiceRetryAnnotations(ann({ http: "500, 503", grpc: "unavailable", limit: "2" }), SERVICE);
    expect(parsed.http.value).toBeUndefined();
    expect(parsed.http.rejected).toBe(true);
    expect(parsed.grpc.value).toEqual({ limit: 2, statusRanges: [], grpcCodes: [14] });
  });

  it("a Service error message says retries become none, not that a route is dropped", () => {
    const parsed = parseServiceRetryAnnotations(ann({ http: "4xx" }), SERVICE);
    const error = parsed.diagnostics.find((d) => d.severity === "error");
    expect(error?.message).toContain("drops this Service's HTTP retry annotations");
    expect(error?.message).toContain("not retried");
    expect(error?.message).not.toContain("route is");
  });

  it("a bad limit drops both groups and is reported once", () => {
    const parsed = parseServiceRetryAnnotations(ann({ http: "5xx", grpc: "internal", limit: "many" }), SERVICE);
    expect(parsed.http.value).toBeUndefined();
    expect(parsed.grpc.value).toBeUndefined();
    expect(parsed.diagnostics.filter((d) => d.code === "retry-limit-invalid")).toHaveLength(1);
    expect(parsed.diagnostics[0]?.message).toContain("HTTP and gRPC retry annotations");
  });
});

describe("status list properties", () => {
  const element = fc.oneof(
    fc.constantFrom("5xx", "5XX", "gateway-error", "4xx", "", "abc"),
    fc.integer({ min: 0, max: 1000 }).map(String),
    fc.tuple(fc.integer({ min: 0, max: 700 }), fc.integer({ min: 0, max: 700 })).map(([a, b]) => `${a}-${b}`),
  );
  const list = fc.array(element, { minLength: 1, maxLength: 5 }).map((xs) => xs.join(","));

  it("property: any status list containing a space is rejected", () => {
    const withSpace = fc.tuple(list, fc.nat(40), fc.constantFrom(" ", "  ")).map(([text, at, space]) => {
      const i = at % (text.length + 1);
      return text.slice(0, i) + space + text.slice(i);
    });
    fc.assert(
      fc.property(withSpace, (text) => {
        expect(parseHttpStatusList(text).ok).toBe(false);
      }),
    );
  });

  it("property: every accepted range has 100 <= start <= end <= 599", () => {
    fc.assert(
      fc.property(fc.oneof(list, fc.string()), (text) => {
        const parsed = parseHttpStatusList(text);
        if (!parsed.ok) return;
        for (const r of parsed.items) {
          expect(r.start).toBeGreaterThanOrEqual(100);
          expect(r.start).toBeLessThanOrEqual(r.end);
          expect(r.end).toBeLessThanOrEqual(599);
        }
      }),
    );
  });

  it("property: a list of valid codes and ranges yields one range per element, in order", () => {
    const code = fc.integer({ min: 100, max: 599 });
    const valid = fc.oneof(
      code.map((c) => ({ text: String(c), start: c, end: c })),
      fc.tuple(code, code).map(([a, b]) => ({ text: `${Math.min(a, b)}-${Math.max(a, b)}`, start: Math.min(a, b), end: Math.max(a, b) })),
    );
    fc.assert(
      fc.property(fc.array(valid, { minLength: 1, maxLength: 6 }), (items) => {
        const parsed = parseHttpStatusList(items.map((i) => i.text).join(","));
        expect(parsed).toEqual({ ok: true, items: items.map(({ start, end }) => ({ start, end })) });
      }),
    );
  });
});
