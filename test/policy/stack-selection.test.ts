import { describe, expect, it } from "vitest";
import { re2Engine } from "../../src/k8s/re2-engine.js";
import { type ServiceProfile, parseServiceProfile } from "../../src/policy/service-profile.js";
import { selectStack, stackConflictDiagnostics } from "../../src/policy/stack-selection.js";

function sp(spec: Record<string, unknown>, name = "web.prod.svc.cluster.local"): ServiceProfile {
  return parseServiceProfile({ kind: "ServiceProfile", metadata: { name, namespace: "prod" }, spec }, { regexEngine: re2Engine }).value;
}

const oneRoute = { routes: [{ name: "r", condition: { method: "GET" } }] };
const web = { name: "web", namespace: "prod" };

describe("selectStack", () => {
  it("no ServiceProfile ⇒ client-policy stack", () => {
    expect(selectStack(undefined)).toMatchObject({ stack: "policy", disabled: [] });
  });

  it("a profile with a route takes over and switches off HTTPRoutes, annotations and failure accrual", () => {
    const s = selectStack(sp(oneRoute));
    expect(s.stack).toBe("profile");
    expect(s.disabled).toEqual(["httproute-routing", "route-annotations", "service-annotations", "failure-accrual"]);
  });

  it("a profile with only a weighted dstOverride takes over too", () => {
    expect(selectStack(sp({ dstOverrides: [{ authority: "web-v2.prod.svc.cluster.local", weight: 1 }] }), 80).stack).toBe("profile");
  });

  it("a profile with no routes and no dstOverrides changes nothing, even with a retry budget", () => {
    const s = selectStack(sp({ retryBudget: { retryRatio: 0.5, minRetriesPerSecond: 1, ttl: "10s" } }));
    expect(s.stack).toBe("policy");
    expect(s.reason).toContain("no routes and no dstOverride targets");
  });

  it("a profile whose dstOverrides all weigh 0 has no targets ⇒ client-policy stack", () => {
    expect(selectStack(sp({ dstOverrides: [{ authority: "a.prod.svc.cluster.local", weight: 0 }] }), 80).stack).toBe("policy");
  });

  it("a profile whose only route was dropped (bad regex) does not take over", () => {
    expect(selectStack(sp({ routes: [{ name: "r", condition: { pathRegex: "(" } }] })).stack).toBe("policy");
  });

  it.each([
    ["is misnamed", sp(oneRoute, "web")],
    ["is rejected by the controller", sp({ ...oneRoute, retryBudget: { retryRatio: 0.2, minRetriesPerSecond: 1 } })],
  ])("a profile that %s does not take over", (_name, profile) => {
    expect(selectStack(profile).stack).toBe("policy");
  });
});

describe("stackConflictDiagnostics", () => {
  it("says which Service annotations, HTTPRoutes and failure accrual a ServiceProfile with routes silences", () => {
    const diags = stackConflictDiagnostics({
      service: { ...web, annotations: { "retry.linkerd.io/http": "5xx", "timeout.linkerd.io/request": "5s", "balancer.linkerd.io/failure-accrual": "consecutive", "other": "x" } },
      profile: sp(oneRoute),
      routes: [{ kind: "HTTPRoute", name: "web-route", namespace: "prod", annotations: { "retry.linkerd.io/limit": "2" } }],
    });
    expect(diags.map((d) => [d.code, d.object])).toEqual([
      ["profile-overrides-httproute", "HTTPRoute prod/web-route"],
      ["profile-overrides-service-annotations", "Service prod/web"],
      ["profile-disables-failure-accrual", "Service prod/web"],
    ]);
    expect(diags[0]?.message).toContain("retry.linkerd.io/limit");
    expect(diags[1]?.message).toContain("retry.linkerd.io/http, timeout.linkerd.io/request");
    expect(diags[1]?.message).toContain("ServiceProfile prod/web.prod.svc.cluster.local has routes");
  });

  it("explains that a route-less ServiceProfile leaves the annotations in effect", () => {
    const diags = stackConflictDiagnostics({ service: { ...web, annotations: { "retry.linkerd.io/http": "5xx" } }, profile: sp({}) });
    expect(diags.map((d) => [d.severity, d.code])).toEqual([["info", "profile-not-overriding"]]);
  });

  it("says nothing without a ServiceProfile", () => {
    expect(stackConflictDiagnostics({ service: { ...web, annotations: { "retry.linkerd.io/http": "5xx" } }, profile: undefined })).toEqual([]);
  });
});

describe("selectStack without a known port", () => {
  it("a dstOverride authority without a port still counts as a target", () => {
    expect(selectStack(sp({ dstOverrides: [{ authority: "web-v2.prod.svc.cluster.local", weight: 1 }] })).stack).toBe("profile");
  });
});
