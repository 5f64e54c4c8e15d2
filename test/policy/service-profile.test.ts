import { describe, expect, it } from "vitest";
import { re2Engine } from "../../src/k8s/re2-engine.js";
import { DEFAULT_RETRY_BUDGET } from "../../src/policy/config.js";
import { requestMatches } from "../../src/policy/profile-routes.js";
import { parseServiceProfile, profileFqdn } from "../../src/policy/service-profile.js";

type Spec = Record<string, unknown>;

function profile(spec: Spec, name = "web.prod.svc.cluster.local", namespace = "prod"): unknown {
  return { apiVersion: "linkerd.io/v1alpha2", kind: "ServiceProfile", metadata: { name, namespace }, spec };
}

const retryableRoute = { name: "get-items", condition: { method: "GET", pathRegex: "/items" }, isRetryable: true };

function codes(spec: Spec): string[] {
  return parseServiceProfile(profile(spec), { regexEngine: re2Engine }).diagnostics.map((d) => d.code);
}

describe("retry budget (vector 7 and §1.1)", () => {
  it("an absent retryBudget gets the default budget 0.2 / 10 / 10s", () => {
    const { value } = parseServiceProfile(profile({ routes: [retryableRoute] }), { regexEngine: re2Engine });
    expect(value.retryBudget).toEqual({ retryRatio: 0.2, minRetriesPerSecond: 10, ttlUs: 10_000_000 });
    expect(value.retryBudget).toEqual(DEFAULT_RETRY_BUDGET);
    expect(value.routes[0]?.retriesEnabled).toBe(true);
  });

  it("a complete retryBudget is taken verbatim (ratio as f32)", () => {
    const { value, diagnostics } = parseServiceProfile(profile({ routes: [retryableRoute], retryBudget: { retryRatio: 0.3, minRetriesPerSecond: 5, ttl: "30s" } }), { regexEngine: re2Engine });
    expect(value.retryBudget).toEqual({ retryRatio: Math.fround(0.3), minRetriesPerSecond: 5, ttlUs: 30_000_000 });
    expect(diagnostics).toEqual([]);
  });

  it.each([
    ["vector 7: ttl 1000s", { retryRatio: 0.2, minRetriesPerSecond: 10, ttl: "1000s" }],
    ["vector 7: ratio 1000.5", { retryRatio: 1000.5, minRetriesPerSecond: 10, ttl: "10s" }],
    ["vector 7: ratio -1", { retryRatio: -1, minRetriesPerSecond: 10, ttl: "10s" }],
    ["vector 7: missing ttl at the proxy (the controller sends a 0s ttl as absent)", { retryRatio: 0.2, minRetriesPerSecond: 10, ttl: "0s" }],
    ["ttl 999ms", { retryRatio: 0.2, minRetriesPerSecond: 10, ttl: "999ms" }],
    ["minRetriesPerSecond above i32::MAX", { retryRatio: 0.2, minRetriesPerSecond: 2_147_483_648, ttl: "10s" }],
  ])("%s: the proxy discards the budget, so isRetryable routes get no retries", (_name, retryBudget) => {
    const { value, diagnostics } = parseServiceProfile(profile({ routes: [retryableRoute], retryBudget }), { regexEngine: re2Engine });
    expect(value.retryBudget).toBeUndefined();
    expect(value.routes[0]?.isRetryable).toBe(true);
    expect(value.routes[0]?.retriesEnabled).toBe(false);
    const diag = diagnostics.find((d) => d.code === "profile-retry-budget-invalid");
    expect(diag?.severity).toBe("error");
    expect(diag?.message).toContain('"get-items" get no retries');
    expect(value.rejected).toBe(false);
  });

  it.each([
    ["ttl 1s", "1s", 1_000_000],
    ["ttl 60s", "60s", 60_000_000],
    ["ttl 1m", "1m", 60_000_000],
  ])("the boundary %s is accepted", (_name, ttl, ttlUs) => {
    // The largest minRetriesPerSecond tower accepts is i32::MAX − 1 (see the fuzz regressions).
    const { value } = parseServiceProfile(profile({ retryBudget: { retryRatio: 1000, minRetriesPerSecond: 2_147_483_646, ttl } }), { regexEngine: re2Engine });
    expect(value.retryBudget).toEqual({ retryRatio: 1000, minRetriesPerSecond: 2_147_483_646, ttlUs });
  });

  it("a retryBudget without ttl makes the controller send no profile update at all", () => {
    const { value, diagnostics } = parseServiceProfile(profile({ routes: [retryableRoute], retryBudget: { retryRatio: 0.2, minRetriesPerSecond: 10 } }), { regexEngine: re2Engine });
    expect(value.rejected).toBe(true);
    expect(value.admissionRejected).toBe(true);
    const diag = diagnostics.find((d) => d.code === "profile-retry-budget-ttl-missing");
    expect(diag?.severity).toBe("error");
    expect(diag?.message).toContain("proxies keep the previous profile (or none)");
  });

  it("an unparseable ttl also stops profile updates", () => {
    const { value } = parseServiceProfile(profile({ retryBudget: { retryRatio: 0.2, minRetriesPerSecond: 10, ttl: "10 seconds" } }), { regexEngine: re2Engine });
    expect(value.rejected).toBe(true);
  });

  it("a missing retryRatio becomes 0 and a missing minRetriesPerSecond becomes 0, with warnings", () => {
    const { value, diagnostics } = parseServiceProfile(profile({ retryBudget: { ttl: "10s" } }), { regexEngine: re2Engine });
    expect(value.retryBudget).toEqual({ retryRatio: 0, minRetriesPerSecond: 0, ttlUs: 10_000_000 });
    const missing = diagnostics.filter((d) => d.code === "profile-retry-budget-field-missing");
    expect(missing.map((d) => d.field)).toEqual(["spec.retryBudget.retryRatio", "spec.retryBudget.minRetriesPerSecond"]);
    expect(missing.every((d) => d.severity === "warning")).toBe(true);
    expect(value.admissionRejected).toBe(true);
  });
});

describe("profile name", () => {
  it("a name that is not <svc>.<ns>.svc.<domain> never applies", () => {
    const { value, diagnostics } = parseServiceProfile(profile({}, "web", "prod"), { regexEngine: re2Engine });
    expect(value.service).toBeUndefined();
    expect(diagnostics.map((d) => d.code)).toEqual(["profile-name-not-fqdn"]);
  });

  it("the FQDN names the service and honours a custom cluster domain", () => {
    const { value, diagnostics } = parseServiceProfile(profile({}, "web.prod.svc.example.org"), { clusterDomain: "example.org", regexEngine: re2Engine });
    expect(value.service).toEqual({ name: "web", namespace: "prod" });
    expect(diagnostics).toEqual([]);
    expect(profileFqdn("web", "prod")).toBe("web.prod.svc.cluster.local");
  });

  it("a profile in the client's namespace is reported as client-side", () => {
    const { value, diagnostics } = parseServiceProfile(profile({}, "web.prod.svc.cluster.local", "shop"), { regexEngine: re2Engine });
    expect(value.service).toEqual({ name: "web", namespace: "prod" });
    expect(diagnostics.map((d) => [d.severity, d.code])).toEqual([["info", "profile-client-namespace"]]);
  });
});

describe("routes", () => {
  it("routes keep list order and route fields; isRetryable defaults to false; there is no default timeout", () => {
    const { value } = parseServiceProfile(profile({ routes: [{ name: "a", condition: { pathRegex: "/a" } }, { name: "b", condition: { method: "post" }, timeout: "1.5s" }] }), { regexEngine: re2Engine });
    expect(value.routes.map((r) => r.name)).toEqual(["a", "b"]);
    expect(value.routes[0]?.isRetryable).toBe(false);
    expect(value.routes[0]?.timeoutUs).toBeUndefined();
    expect(value.routes[1]?.timeoutUs).toBe(1_500_000);
    expect(value.routes[1]?.condition).toEqual({ kind: "method", method: "POST" });
  });

  it("a path regex is anchored by adding ^ and $ only where missing", () => {
    const { value } = parseServiceProfile(profile({ routes: [
      { name: "a", condition: { pathRegex: "/api/.*" } },
      { name: "b", condition: { pathRegex: "^/x" } },
      { name: "c", condition: { pathRegex: " /y$ " } },
    ] }), { regexEngine: re2Engine });
    expect(value.routes.map((r) => (r.condition.kind === "path" ? r.condition.pattern : ""))).toEqual(["^/api/.*$", "^/x$", "^/y$"]);
  });

  it("a top-level alternation gets a warning because the anchors bind only its ends", () => {
    expect(codes({ routes: [{ name: "a", condition: { pathRegex: "/a|/b" } }] })).toEqual(["profile-route-regex-alternation"]);
  });

  it("several fields in one condition are ANDed", () => {
    const { value } = parseServiceProfile(profile({ routes: [{ name: "a", condition: { method: "GET", pathRegex: "/a" } }] }), { regexEngine: re2Engine });
    const c = value.routes[0]?.condition;
    expect(c?.kind).toBe("all");
    expect(requestMatches(c!, { method: "GET", path: "/a" })).toBe(true);
    expect(requestMatches(c!, { method: "POST", path: "/a" })).toBe(false);
    expect(requestMatches(c!, { method: "GET", path: "/b" })).toBe(false);
  });

  it("a route whose only condition has a bad regex is dropped", () => {
    const { value, diagnostics } = parseServiceProfile(profile({ routes: [{ name: "bad", condition: { pathRegex: "(" } }, { name: "ok", condition: { pathRegex: "/ok" } }] }), { regexEngine: re2Engine });
    expect(value.routes.map((r) => r.name)).toEqual(["ok"]);
    expect(diagnostics.map((d) => d.code)).toEqual(["profile-route-regex-invalid", "profile-route-dropped"]);
    expect(value.rejected).toBe(false);
  });

  it("a bad regex ANDed with a method is skipped, so the route matches every request with that method", () => {
    const { value, diagnostics } = parseServiceProfile(profile({ routes: [{ name: "r", condition: { method: "GET", pathRegex: "(" } }] }), { regexEngine: re2Engine });
    const c = value.routes[0]?.condition;
    expect(requestMatches(c!, { method: "GET", path: "/anything" })).toBe(true);
    expect(diagnostics.map((d) => d.code)).toContain("profile-request-match-part-ignored");
  });

  it("a bad regex inside `all` leaves an empty all (matches everything), inside `any` an empty any (matches nothing)", () => {
    const { value } = parseServiceProfile(profile({ routes: [
      { name: "all", condition: { all: [{ pathRegex: "(" }] } },
      { name: "any", condition: { any: [{ pathRegex: "(" }] } },
    ] }), { regexEngine: re2Engine });
    const req = { method: "GET", path: "/x" };
    expect(requestMatches(value.routes[0]!.condition, req)).toBe(true);
    expect(requestMatches(value.routes[1]!.condition, req)).toBe(false);
  });

  it("a `not` nested in `all` inverts its condition", () => {
    const { value } = parseServiceProfile(profile({ routes: [{ name: "n", condition: { all: [{ not: { method: "GET" } }] } }] }), { regexEngine: re2Engine });
    expect(requestMatches(value.routes[0]!.condition, { method: "GET", path: "/" })).toBe(false);
    expect(requestMatches(value.routes[0]!.condition, { method: "PUT", path: "/" })).toBe(true);
  });

  it("a top-level `not` in a route condition cannot be applied (CRD schema types it as a list)", () => {
    const { value, diagnostics } = parseServiceProfile(profile({ routes: [{ name: "n", condition: { not: { method: "GET" } } }] }), { regexEngine: re2Engine });
    expect(value.admissionRejected).toBe(true);
    expect(diagnostics.map((d) => d.code)).toEqual(["profile-condition-not-unusable"]);
  });

  it("a condition with no field set stops profile updates", () => {
    const { value, diagnostics } = parseServiceProfile(profile({ routes: [{ name: "e", condition: {} }] }), { regexEngine: re2Engine });
    expect(value.rejected).toBe(true);
    expect(diagnostics.map((d) => d.code)).toContain("profile-request-match-empty");
  });

  it("a route without a condition stops profile updates", () => {
    const { value } = parseServiceProfile(profile({ routes: [{ name: "e" }] }), { regexEngine: re2Engine });
    expect(value.rejected).toBe(true);
    expect(value.admissionRejected).toBe(true);
  });

  it.each([
    ["an unparseable timeout", "fast", "profile-route-timeout-invalid"],
    ["a zero timeout", "0s", "profile-route-timeout-zero"],
    ["a negative timeout", "-1s", "profile-route-timeout-negative"],
  ])("%s leaves the route without a timeout", (_name, timeout, code) => {
    const { value, diagnostics } = parseServiceProfile(profile({ routes: [{ name: "t", condition: { method: "GET" }, timeout }] }), { regexEngine: re2Engine });
    expect(value.routes[0]?.timeoutUs).toBeUndefined();
    expect(diagnostics.map((d) => d.code)).toEqual([code]);
    expect(value.rejected).toBe(false);
  });

  it("an unknown field is reported", () => {
    expect(codes({ routes: [{ name: "a", condition: { method: "GET" }, retryable: true }] })).toEqual(["profile-unknown-field"]);
  });
});

describe("response classes", () => {
  it("a status range with only min or only max is silently dropped by the proxy", () => {
    const { value, diagnostics } = parseServiceProfile(profile({ routes: [{ name: "r", condition: { method: "GET" }, responseClasses: [
      { condition: { status: { min: 500 } }, isFailure: true },
      { condition: { status: { max: 404 } }, isFailure: true },
      { condition: { status: { min: 500, max: 599 } }, isFailure: true },
    ] }] }), { regexEngine: re2Engine });
    expect(value.routes[0]?.responseClasses).toEqual([{ condition: { kind: "status", min: 500, max: 599 }, isFailure: true }]);
    const partial = diagnostics.filter((d) => d.code === "profile-status-range-partial");
    expect(partial).toHaveLength(2);
    expect(partial[0]?.message).toContain("docs say");
    expect(value.rejected).toBe(false);
  });

  it.each([
    ["min 600", { min: 600, max: 600 }],
    ["max 99", { min: 100, max: 99 }],
    ["max below min", { min: 504, max: 500 }],
  ])("an out-of-range status (%s) stops profile updates", (_name, status) => {
    const { value, diagnostics } = parseServiceProfile(profile({ routes: [{ name: "r", condition: { method: "GET" }, responseClasses: [{ condition: { status }, isFailure: true }] }] }), { regexEngine: re2Engine });
    expect(value.rejected).toBe(true);
    expect(diagnostics.map((d) => d.code)).toContain("profile-status-range-invalid");
  });

  it("isFailure defaults to false and nested any/not convert", () => {
    const { value } = parseServiceProfile(profile({ routes: [{ name: "r", condition: { method: "GET" }, responseClasses: [
      { condition: { any: [{ status: { min: 429, max: 429 } }, { not: { status: { min: 100, max: 499 } } }] } },
    ] }] }), { regexEngine: re2Engine });
    expect(value.routes[0]?.responseClasses[0]).toEqual({
      condition: { kind: "any", matches: [{ kind: "status", min: 429, max: 429 }, { kind: "not", match: { kind: "status", min: 100, max: 499 } }] },
      isFailure: false,
    });
  });
});

describe("dstOverrides", () => {
  it("weights become decimillis (Quantity milli-value × 10) and zero weights are kept for the proxy to drop", () => {
    const { value, diagnostics } = parseServiceProfile(profile({ dstOverrides: [
      { authority: "a.prod.svc.cluster.local", weight: 1 },
      { authority: "b.prod.svc.cluster.local", weight: "500m" },
      { authority: "c.prod.svc.cluster.local", weight: 0 },
    ] }), { regexEngine: re2Engine });
    expect(value.dstOverrides).toEqual([
      { authority: "a.prod.svc.cluster.local", weightDecimillis: 1 * 1000 * 10 },
      { authority: "b.prod.svc.cluster.local", weightDecimillis: 500 * 10 },
      { authority: "c.prod.svc.cluster.local", weightDecimillis: 0 },
    ]);
    expect(diagnostics.map((d) => d.code)).toEqual(["profile-dst-override-weight-zero"]);
  });

  it("an unparseable weight stops profile updates", () => {
    const { value } = parseServiceProfile(profile({ dstOverrides: [{ authority: "a.prod.svc.cluster.local", weight: "half" }] }), { regexEngine: re2Engine });
    expect(value.rejected).toBe(true);
    expect(value.dstOverrides).toEqual([]);
  });
});
