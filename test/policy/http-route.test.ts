import { describe, expect, it } from "vitest";
import { re2Engine } from "../../src/k8s/re2-engine.js";
import { type OutboundRoute, type ServiceParent, defaultRoute, effectiveBackends, parseHttpRoute, routesForParent } from "../../src/policy/http-route.js";
import { parseGrpcRoute } from "../../src/policy/grpc-route.js";
import { findRoute } from "../../src/policy/route-match.js";

const parent: ServiceParent = { namespace: "shop", name: "web", port: 8080 };
const serviceParentRef = { group: "core", kind: "Service", name: "web", port: 8080 };

function httpRoute(spec: Record<string, unknown>, meta: Record<string, unknown> = {}, apiVersion = "policy.linkerd.io/v1beta3"): unknown {
  return {
    apiVersion,
    kind: "HTTPRoute",
    metadata: { name: "web-route", namespace: "shop", creationTimestamp: "2024-08-01T10:00:00Z", ...meta },
    spec: { parentRefs: [serviceParentRef], ...spec },
    status: { parents: [] },
  };
}
const codes = (p: { diagnostics: { code: string }[] }) => p.diagnostics.map((d) => d.code);
const exists = () => true;

describe("parsing an HTTPRoute", () => {
  it("reads metadata, parentRefs, hostnames, matches, backendRefs, filters and raw timeouts", () => {
    const { value, diagnostics } = parseHttpRoute(
      httpRoute(
        {
          hostnames: ["web.example.com"],
          rules: [
            {
              matches: [{ path: { type: "Exact", value: "/checkout" }, headers: [{ name: "X-Canary", value: "1" }], queryParams: [{ name: "v", type: "RegularExpression", value: "[0-9]+" }], method: "POST" }],
              backendRefs: [{ name: "web-v2", port: 8080, weight: 3 }, { name: "web-v1", port: 8080 }],
              filters: [{ type: "RequestHeaderModifier", requestHeaderModifier: { set: [{ name: "x", value: "y" }] } }],
              timeouts: { request: "5s", backendRequest: "1s" },
            },
          ],
        },
        { annotations: { "retry.linkerd.io/http": "5xx", "timeout.linkerd.io/request": "10s" } },
      ),
      re2Engine,
    );
    expect(diagnostics).toEqual([]);
    expect(value).toMatchObject({
      kind: "HTTPRoute",
      group: "policy.linkerd.io",
      version: "v1beta3",
      name: "web-route",
      namespace: "shop",
      creationTimestamp: "2024-08-01T10:00:00Z",
      accepted: true,
      annotations: { "retry.linkerd.io/http": "5xx", "timeout.linkerd.io/request": "10s" },
      parentRefs: [{ group: "core", kind: "Service", namespace: "shop", name: "web", port: 8080, isService: true }],
      hostnames: ["web.example.com"],
    });
    const rule = value.rules[0];
    expect(rule?.matches[0]).toMatchObject({ kind: "http", path: { type: "Exact", value: "/checkout" }, headers: [{ name: "x-canary", type: "Exact", value: "1" }], queryParams: [{ name: "v", type: "RegularExpression", value: "[0-9]+" }], method: "POST" });
    expect(rule?.backendRefs).toEqual([
      { group: "", kind: "Service", namespace: "shop", name: "web-v2", port: 8080, weight: 3 },
      { group: "", kind: "Service", namespace: "shop", name: "web-v1", port: 8080, weight: 1 },
    ]);
    expect(rule?.filters.map((f) => f.type)).toEqual(["RequestHeaderModifier"]);
    expect(rule?.timeoutsRequestRaw).toBe("5s");
    expect(rule?.timeoutsBackendRequestRaw).toBe("1s");
  });

  it("a rule without matches gets one PathPrefix / match, and a path without type is a PathPrefix", () => {
    const { value } = parseHttpRoute(httpRoute({ rules: [{}, { matches: [{ path: { value: "/api" } }, { method: "GET" }] }] }), re2Engine);
    expect(value.rules[0]?.matches).toEqual([{ kind: "http", path: { type: "PathPrefix", value: "/" }, headers: [], queryParams: [] }]);
    expect(value.rules[1]?.matches.map((m) => m.kind === "http" && m.path)).toEqual([
      { type: "PathPrefix", value: "/api" },
      { type: "PathPrefix", value: "/" },
    ]);
  });

  it("a route without rules gets the Gateway API default rule: match everything, no backendRefs", () => {
    const { value } = parseHttpRoute(httpRoute({}), re2Engine);
    expect(value.rules).toHaveLength(1);
    expect(value.rules[0]?.backendRefs).toEqual([]);
    expect(value.rules[0]?.matches).toHaveLength(1);
  });

  it("a parentRef without kind is a Gateway, and Linkerd's outbound policy ignores it", () => {
    const { value, diagnostics } = parseHttpRoute(httpRoute({ parentRefs: [{ name: "web" }] }), re2Engine);
    expect(value.parentRefs[0]).toMatchObject({ group: "gateway.networking.k8s.io", kind: "Gateway", isService: false });
    expect(diagnostics[0]?.code).toBe("route-parent-not-service");
    expect(diagnostics[0]?.message).toContain("Linkerd's outbound policy only applies HTTPRoutes whose parentRef is a Service");
  });

  it("a Service parentRef may use the empty group and defaults its namespace to the route's", () => {
    const { value } = parseHttpRoute(httpRoute({ parentRefs: [{ group: "", kind: "Service", name: "web" }] }), re2Engine);
    expect(value.parentRefs[0]).toEqual({ group: "", kind: "Service", namespace: "shop", name: "web", isService: true });
  });

  it("a gateway.networking.k8s.io route's timeouts are ignored by 2.16", () => {
    const { value, diagnostics } = parseHttpRoute(httpRoute({ rules: [{ timeouts: { request: "5s" } }] }, {}, "gateway.networking.k8s.io/v1"), re2Engine);
    expect(value.rules[0]?.timeoutsRequestRaw).toBeUndefined();
    expect(codes({ diagnostics })).toEqual(["route-timeouts-ignored"]);
    expect(value.accepted).toBe(true);
  });

  it("an unquoted YAML timestamp loaded as a Date becomes the Kubernetes string form", () => {
    const date = { toISOString: () => "2024-08-01T10:00:00.000Z" };
    expect(parseHttpRoute(httpRoute({}, { creationTimestamp: date }), re2Engine).value.creationTimestamp).toBe("2024-08-01T10:00:00Z");
  });
});

describe("validation", () => {
  it.each([
    ["an Exact path without a leading slash", { path: { type: "Exact", value: "foo" } }, "route-path-not-absolute"],
    ["a PathPrefix without a leading slash", { path: { type: "PathPrefix", value: "api" } }, "route-path-not-absolute"],
    ["a path regex that does not compile", { path: { type: "RegularExpression", value: "/foo(" } }, "route-regex-invalid"],
    ["a header regex that does not compile", { headers: [{ name: "x", type: "RegularExpression", value: "[" }] }, "route-regex-invalid"],
    ["an unknown path match type", { path: { type: "Glob", value: "/x" } }, "route-path-type-invalid"],
  ])("%s rejects the route", (_label, match, code) => {
    const p = parseHttpRoute(httpRoute({ rules: [{ matches: [match] }] }), re2Engine);
    expect(p.value.accepted).toBe(false);
    expect(codes(p)).toEqual([code]);
    expect(p.diagnostics[0]?.severity).toBe("error");
  });

  it("a regular-expression path that compiles is accepted", () => {
    expect(parseHttpRoute(httpRoute({ rules: [{ matches: [{ path: { type: "RegularExpression", value: "/foo/\\d+" } }] }] }), re2Engine).value.accepted).toBe(true);
  });

  it("an unsupported filter makes the controller drop the whole route", () => {
    const p = parseHttpRoute(httpRoute({ rules: [{ filters: [{ type: "URLRewrite" }] }] }, {}, "gateway.networking.k8s.io/v1"), re2Engine);
    expect(p.value.accepted).toBe(false);
    expect(codes(p)).toEqual(["route-filter-unsupported"]);
  });

  it("a route of an unknown group or the wrong kind is not applied", () => {
    expect(parseHttpRoute(httpRoute({}, {}, "example.com/v1"), re2Engine).value.accepted).toBe(false);
    expect(parseHttpRoute({ ...(httpRoute({}) as object), kind: "GRPCRoute" }, re2Engine).value.accepted).toBe(false);
  });

  it("weight 0 is noted, and all-zero weights warn about the failing rule", () => {
    const p = parseHttpRoute(httpRoute({ rules: [{ backendRefs: [{ name: "a", port: 80, weight: 0 }, { name: "b", port: 80, weight: 0 }] }] }), re2Engine);
    expect(codes(p)).toEqual(["route-backend-weight-zero", "route-backend-weight-zero", "route-backend-all-weights-zero"]);
    expect(p.value.accepted).toBe(true);
  });
});

describe("effective backends", () => {
  const ruleOf = (backendRefs: unknown[]) => {
    const route = parseHttpRoute(httpRoute({ rules: [{ backendRefs }] }), re2Engine).value;
    return { route, rule: route.rules[0]! };
  };

  it("a rule with no backendRefs goes first-available to the parent Service", () => {
    const { route, rule } = ruleOf([]);
    const d = effectiveBackends(route, rule, parent, exists);
    expect(d.kind).toBe("first-available");
    expect(d.backends).toEqual([{ kind: "service", namespace: "shop", name: "web", port: 8080, weight: 1 }]);
  });

  it("weight-0 backends are dropped and the rest keep their weights (default 1)", () => {
    const { route, rule } = ruleOf([{ name: "a", port: 80, weight: 0 }, { name: "b", port: 80 }, { name: "c", port: 81, weight: 4 }]);
    const d = effectiveBackends(route, rule, parent, exists);
    expect(d.kind).toBe("random-available");
    expect(d.backends).toEqual([
      { kind: "service", namespace: "shop", name: "b", port: 80, weight: 1 },
      { kind: "service", namespace: "shop", name: "c", port: 81, weight: 4 },
    ]);
  });

  it("all-zero weights leave no valid distribution: requests fail with 500", () => {
    const { route, rule } = ruleOf([{ name: "a", port: 80, weight: 0 }]);
    const d = effectiveBackends(route, rule, parent, exists);
    expect(d.kind).toBe("no-backend");
    expect(d.backends).toEqual([{ kind: "failure", weight: 1, status: 500, message: "all backendRefs have weight 0" }]);
  });

  it("a backendRef to a missing Service becomes a 500 'Service not found <name>' backend", () => {
    const { route, rule } = ruleOf([{ name: "ghost", port: 80, weight: 2 }, { name: "real", port: 80 }]);
    const d = effectiveBackends(route, rule, parent, (_ns, name) => name !== "ghost");
    expect(d.backends[0]).toEqual({ kind: "failure", weight: 2, status: 500, message: "Service not found ghost" });
    expect(d.backends[1]).toMatchObject({ kind: "service", name: "real" });
    expect(d.diagnostics.map((x) => x.code)).toEqual(["route-backend-service-not-found"]);
  });

  it("an unsupported backend kind or a missing port becomes a 500 backend with Linkerd's message", () => {
    const { route, rule } = ruleOf([{ group: "example.com", kind: "Bucket", name: "b" }, { name: "noport" }]);
    const d = effectiveBackends(route, rule, parent, exists);
    expect(d.backends).toEqual([
      { kind: "failure", weight: 1, status: 500, message: "unsupported backend type example.com Bucket" },
      { kind: "failure", weight: 1, status: 500, message: "missing port for backend Service noport" },
    ]);
  });
});

describe("routes for a parent Service", () => {
  const http = (name: string, spec: Record<string, unknown>) => parseHttpRoute(httpRoute(spec, { name }), re2Engine).value;

  it("a Service with no routes gets the synthesized default route: match all, backend the Service", () => {
    const pr = routesForParent([], parent);
    expect(pr.routes).toEqual([defaultRoute(parent)]);
    const sel = findRoute(pr.routes, { path: "/any/thing", method: "DELETE", headers: {} });
    expect(sel.matched).toBe(true);
    if (!sel.matched) return;
    expect(effectiveBackends(sel.route, sel.rule, parent, exists).backends).toEqual([{ kind: "service", namespace: "shop", name: "web", port: 8080, weight: 1 }]);
  });

  it("when routes exist, a request none of them matches gets 404 rather than the default route", () => {
    const pr = routesForParent([http("api", { rules: [{ matches: [{ path: { value: "/api" } }] }] })], parent);
    expect(findRoute(pr.routes, { path: "/web", method: "GET", headers: {} })).toMatchObject({ matched: false, status: 404 });
  });

  it("a parentRef on another port, another Service or a Gateway does not attach", () => {
    const routes: OutboundRoute[] = [
      http("other-port", { parentRefs: [{ ...serviceParentRef, port: 9090 }] }),
      http("other-svc", { parentRefs: [{ ...serviceParentRef, name: "api" }] }),
      http("gateway", { parentRefs: [{ name: "web" }] }),
      http("all-ports", { parentRefs: [{ group: "core", kind: "Service", name: "web" }] }),
    ];
    expect(routesForParent(routes, parent).routes.map((r) => r.name)).toEqual(["all-ports"]);
  });

  it("GRPCRoutes on the Service take over and its HTTPRoutes are ignored", () => {
    const grpc = parseGrpcRoute({ apiVersion: "gateway.networking.k8s.io/v1", kind: "GRPCRoute", metadata: { name: "g", namespace: "shop" }, spec: { parentRefs: [serviceParentRef] } }, re2Engine).value;
    const pr = routesForParent([http("h", {}), grpc], parent);
    expect(pr.protocol).toBe("grpc");
    expect(pr.routes.map((r) => r.name)).toEqual(["g"]);
    expect(pr.reason).toContain("1 HTTPRoute(s) are ignored");
  });

  it("a rejected route never attaches", () => {
    const bad = http("bad", { rules: [{ matches: [{ path: { type: "Exact", value: "nope" } }] }] });
    expect(routesForParent([bad], parent).routes[0]?.synthetic).toBe(true);
  });
});
