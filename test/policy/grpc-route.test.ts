import { describe, expect, it } from "vitest";
import { re2Engine } from "../../src/k8s/re2-engine.js";
import { grpcPath, parseGrpcRoute } from "../../src/policy/grpc-route.js";
import { effectiveBackends } from "../../src/policy/http-route.js";
import { type RouteRequest, findRoute } from "../../src/policy/route-match.js";

const parentRef = { group: "core", kind: "Service", name: "greeter", port: 50051 };
const parent = { namespace: "apps", name: "greeter", port: 50051 };

function grpcRoute(name: string, rules: unknown[], ts = "2024-08-01T10:00:00Z"): unknown {
  return {
    apiVersion: "gateway.networking.k8s.io/v1",
    kind: "GRPCRoute",
    metadata: { name, namespace: "apps", creationTimestamp: ts },
    spec: { parentRefs: [parentRef], rules },
  };
}
function call(service: string, method: string, headers: Record<string, string> = {}): RouteRequest {
  return { path: grpcPath(service, method), method: "POST", headers: { "content-type": "application/grpc", ...headers } };
}
const methodRule = (service?: string, method?: string, type = "Exact") => ({ matches: [{ method: { type, ...(service ? { service } : {}), ...(method ? { method } : {}) } }] });

describe("parsing a GRPCRoute", () => {
  it("turns a service/method match into a gRPC match on /service/method", () => {
    const { value, diagnostics } = parseGrpcRoute(grpcRoute("g", [{ ...methodRule("hello.Greeter", "SayHello"), backendRefs: [{ name: "greeter-v2", port: 50051 }] }]), re2Engine);
    expect(diagnostics).toEqual([]);
    expect(value.kind).toBe("GRPCRoute");
    expect(value.rules[0]?.matches).toEqual([{ kind: "grpc", service: "hello.Greeter", method: "SayHello", headers: [] }]);
    expect(value.rules[0]?.backendRefs[0]?.weight).toBe(1);
    expect(grpcPath("hello.Greeter", "SayHello")).toBe("/hello.Greeter/SayHello");
  });

  it("a match must name a service or a method", () => {
    const p = parseGrpcRoute(grpcRoute("g", [{ matches: [{ method: { type: "Exact" } }] }]), re2Engine);
    expect(p.value.accepted).toBe(false);
    expect(p.diagnostics.map((d) => d.code)).toEqual(["grpc-method-match-empty"]);
  });

  it("a RegularExpression method match is compared literally, with a warning", () => {
    const p = parseGrpcRoute(grpcRoute("g", [methodRule("hello\\..*", undefined, "RegularExpression")]), re2Engine);
    expect(p.diagnostics.map((d) => d.code)).toEqual(["grpc-method-regex-literal"]);
    expect(findRoute([p.value], call("hello.Greeter", "SayHello"))).toMatchObject({ matched: false, status: 404 });
    expect(findRoute([p.value], call("hello\\..*", "SayHello")).matched).toBe(true);
  });

  it("an unsupported filter drops the route", () => {
    const p = parseGrpcRoute(grpcRoute("g", [{ filters: [{ type: "RequestMirror" }] }]), re2Engine);
    expect(p.value.accepted).toBe(false);
  });
});

describe("matching gRPC calls", () => {
  it("a service+method rule beats a service-only rule, which still takes other methods", () => {
    const route = parseGrpcRoute(grpcRoute("g", [{ ...methodRule("hello.Greeter"), backendRefs: [{ name: "all", port: 1 }] }, { ...methodRule("hello.Greeter", "SayHello"), backendRefs: [{ name: "one", port: 1 }] }]), re2Engine).value;
    const pick = (r: RouteRequest) => {
      const sel = findRoute([route], r);
      return sel.matched ? sel.rule.backendRefs[0]?.name : "404";
    };
    expect(pick(call("hello.Greeter", "SayHello"))).toBe("one");
    expect(pick(call("hello.Greeter", "SayBye"))).toBe("all");
    expect(pick(call("hello.GreeterX", "SayHello"))).toBe("404");
  });

  it("a gRPC method match needs a POST", () => {
    const route = parseGrpcRoute(grpcRoute("g", [methodRule("hello.Greeter")]), re2Engine).value;
    expect(findRoute([route], { ...call("hello.Greeter", "SayHello"), method: "GET" }).matched).toBe(false);
  });

  it("more header matches win between equal method matches", () => {
    const withHeader = { matches: [{ method: { service: "hello.Greeter" }, headers: [{ name: "x-tier", value: "gold" }] }], backendRefs: [{ name: "gold", port: 1 }] };
    const route = parseGrpcRoute(grpcRoute("g", [{ ...methodRule("hello.Greeter"), backendRefs: [{ name: "plain", port: 1 }] }, withHeader]), re2Engine).value;
    const sel = findRoute([route], call("hello.Greeter", "SayHello", { "X-Tier": "gold" }));
    expect(sel.matched && sel.rule.backendRefs[0]?.name).toBe("gold");
  });

  it("a rule without matches takes every call", () => {
    const route = parseGrpcRoute(grpcRoute("g", [{ backendRefs: [{ name: "x", port: 1 }] }]), re2Engine).value;
    expect(route.rules[0]?.matches).toEqual([]);
    expect(findRoute([route], call("any.Service", "Any")).matched).toBe(true);
  });

  it("a longer service name match outranks the older route on a shorter one", () => {
    const older = parseGrpcRoute(grpcRoute("old", [methodRule(undefined, "Get")], "2024-01-01T00:00:00Z"), re2Engine).value;
    const newer = parseGrpcRoute(grpcRoute("new", [methodRule("a.B", "Get")], "2024-02-01T00:00:00Z"), re2Engine).value;
    const sel = findRoute([older, newer], call("a.B", "Get"));
    expect(sel.matched && sel.route.name).toBe("new");
  });

  it("backend weights follow the HTTP rules: default 1, zero dropped", () => {
    const route = parseGrpcRoute(grpcRoute("g", [{ backendRefs: [{ name: "a", port: 1, weight: 0 }, { name: "b", port: 1 }] }]), re2Engine).value;
    const d = effectiveBackends(route, route.rules[0]!, parent, () => true);
    expect(d.backends).toEqual([{ kind: "service", namespace: "apps", name: "b", port: 1, weight: 1 }]);
  });
});
