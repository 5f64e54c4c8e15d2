import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  applyHttpRouteRuleTimeouts,
  parseTimeoutAnnotations,
  type HttpRouteRuleContext,
  type TimeoutAnnotationContext,
} from "../../src/policy/timeout-annotations.js";

const S = 1_000_000;
const ROUTE: TimeoutAnnotationContext = { object: "HTTPRoute default/web", owner: "route" };
const SERVICE: TimeoutAnnotationContext = { object: "Service default/web", owner: "service" };
const POLICY_RULE: HttpRouteRuleContext = { object: "HTTPRoute default/web", group: "policy.linkerd.io", ruleIndex: 0 };
const GATEWAY_RULE: HttpRouteRuleContext = { object: "HTTPRoute default/gw", group: "gateway.networking.k8s.io", ruleIndex: 2 };

function ann(short: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(short)) out[`timeout.linkerd.io/${k}`] = v;
  return out;
}

describe("timeout.linkerd.io annotations", () => {
  it("reads request, response and idle in microseconds", () => {
    const parsed = parseTimeoutAnnotations(ann({ request: "5s", response: "300ms", idle: "1m" }), ROUTE);
    expect(parsed).toEqual({
      value: { requestUs: 5 * S, responseUs: 300_000, idleUs: 60 * S },
      diagnostics: [],
      rejected: false,
    });
  });

  it("has no default timeouts", () => {
    expect(parseTimeoutAnnotations(undefined, ROUTE).value).toEqual({});
    expect(parseTimeoutAnnotations(ann({ response: "2s" }), ROUTE).value).toEqual({ responseUs: 2 * S });
  });

  it("an invalid value on a route rejects the whole route", () => {
    const parsed = parseTimeoutAnnotations(ann({ request: "5s", idle: "1m30s" }), ROUTE);
    expect(parsed.rejected).toBe(true);
    expect(parsed.value).toEqual({});
    expect(parsed.diagnostics).toHaveLength(1);
    expect(parsed.diagnostics[0]).toMatchObject({
      severity: "error",
      code: "timeout-invalid",
      field: 'metadata.annotations["timeout.linkerd.io/idle"]',
    });
    expect(parsed.diagnostics[0]?.message).toContain("rejects the whole route");
  });

  it("an invalid value on a Service drops all of the Service's timeouts", () => {
    const parsed = parseTimeoutAnnotations(ann({ request: "5s", response: "10" }), SERVICE);
    expect(parsed.value).toEqual({});
    expect(parsed.diagnostics[0]?.message).toContain("drops all of this Service's timeout annotations");
  });

  it("keeps a zero timeout as a real zero and warns about it", () => {
    const parsed = parseTimeoutAnnotations(ann({ request: "0s" }), ROUTE);
    expect(parsed.value).toEqual({ requestUs: 0 });
    expect(parsed.diagnostics.map((d) => [d.severity, d.code])).toEqual([["warning", "timeout-zero"]]);
    expect(parsed.diagnostics[0]?.message).toContain("not inherited");
  });

  it("property: a valid request timeout always round-trips to n seconds", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), (n) => {
        expect(parseTimeoutAnnotations(ann({ request: `${n}s` }), ROUTE).value).toEqual({ requestUs: n * S });
      }),
    );
  });
});

describe("HTTPRoute spec.rules[].timeouts.request", () => {
  it("is the request timeout of a policy.linkerd.io HTTPRoute rule when the annotation is absent", () => {
    const parsed = applyHttpRouteRuleTimeouts({ responseUs: 2 * S }, { timeouts: { request: "1m30s" } }, POLICY_RULE);
    expect(parsed.value).toEqual({ responseUs: 2 * S, requestUs: 90 * S });
    expect(parsed.rejected).toBe(false);
  });

  it("loses to the timeout.linkerd.io/request annotation", () => {
    const parsed = applyHttpRouteRuleTimeouts({ requestUs: 5 * S }, { timeouts: { request: "30s" } }, POLICY_RULE);
    expect(parsed.value).toEqual({ requestUs: 5 * S });
    expect(parsed.diagnostics.map((d) => d.code)).toEqual(["httproute-timeout-overridden"]);
  });

  it("0 means no timeout (GEP-1742)", () => {
    expect(applyHttpRouteRuleTimeouts({}, { timeouts: { request: "0s" } }, POLICY_RULE).value).toEqual({});
  });

  it("is ignored on a gateway.networking.k8s.io HTTPRoute, with a warning saying so", () => {
    const parsed = applyHttpRouteRuleTimeouts({}, { timeouts: { request: "10s" } }, GATEWAY_RULE);
    expect(parsed.value).toEqual({});
    expect(parsed.diagnostics).toHaveLength(1);
    expect(parsed.diagnostics[0]).toMatchObject({
      severity: "warning",
      code: "httproute-timeouts-ignored",
      field: "spec.rules[2].timeouts",
    });
    expect(parsed.diagnostics[0]?.message).toContain("does not read");
  });

  it.each([
    ["5", "missing its unit"],
    ["-5s", "negative"],
    [10, "not a duration string"],
  ])("rejects the route when request is %j (%s)", (request, why) => {
    const parsed = applyHttpRouteRuleTimeouts({}, { timeouts: { request } }, POLICY_RULE);
    expect(parsed.rejected).toBe(true);
    expect(parsed.diagnostics[0]).toMatchObject({ severity: "error", field: "spec.rules[0].timeouts.request" });
    expect(parsed.diagnostics[0]?.message).toContain(why);
  });

  it("rejects the route when backendRequest exceeds request, and otherwise warns that backendRequest is unused", () => {
    const tooBig = applyHttpRouteRuleTimeouts({}, { timeouts: { request: "1s", backendRequest: "2s" } }, POLICY_RULE);
    expect(tooBig.rejected).toBe(true);
    const fine = applyHttpRouteRuleTimeouts({}, { timeouts: { request: "2s", backendRequest: "1s" } }, POLICY_RULE);
    expect(fine.value).toEqual({ requestUs: 2 * S });
    expect(fine.diagnostics.map((d) => d.code)).toEqual(["httproute-backend-request-ignored"]);
  });

  it("leaves the annotation timeouts alone when the rule has no timeouts", () => {
    for (const rule of [undefined, null, {}, { timeouts: null }, { matches: [] }, "junk"]) {
      expect(applyHttpRouteRuleTimeouts({ idleUs: 7 }, rule, POLICY_RULE)).toEqual({
        value: { idleUs: 7 },
        diagnostics: [],
        rejected: false,
      });
    }
  });
});
