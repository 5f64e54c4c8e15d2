// Which targets a client speaks gRPC to when the scenario leaves it to meshsim (`protocol: auto`),
// and the headers a client sends: the gRPC content-type, headers a call forwards or sets, and the
// path and query route matching sees. The rule is meshsim's (see src/mesh/grpc-target.ts); the
// content-type prefix is Linkerd's (`classify.rs::is_grpc`).

import { describe, expect, it } from "vitest";
import { GrpcTargets, grpcTarget } from "../../src/mesh/grpc-target.js";
import { callHeaders, clientHeaders, type HttpRequest, splitQuery } from "../../src/mesh/http.js";
import { parseManifests } from "../../src/k8s/load.js";
import type { K8sObject } from "../../src/k8s/object.js";

const objects = (text: string): { ofKind(kind: string): readonly K8sObject[] } => {
  const { objects: all, errors } = parseManifests(text, "t.yaml");
  expect(errors).toEqual([]);
  return { ofKind: (kind) => all.filter((o) => o.kind === kind) };
};
const service = (port: string): string => `apiVersion: v1\nkind: Service\nmetadata: {name: api, namespace: app}\nspec:\n  selector: {app: api}\n  ports: [${port}]\n`;
const ref = { namespace: "app", name: "api", port: 80 };

describe("auto: is the target gRPC?", () => {
  it.each([
    ["{name: grpc, port: 80}", true],
    ["{name: grpc-web, port: 80}", true],
    ["{name: grpcish, port: 80}", false],
    ["{name: http, port: 80, appProtocol: grpc}", true],
    ["{name: http, port: 80, appProtocol: GRPC}", true],
    ["{name: http, port: 80, appProtocol: kubernetes.io/h2c}", false],
    ["{name: http, port: 80}", false],
    ["{name: grpc, port: 8080}", false],
  ])("port %s: %s", (port, grpc) => {
    expect(grpcTarget(objects(service(port)), ref).grpc).toBe(grpc);
  });

  it("a GRPCRoute attached to the Service makes it gRPC, even beside an HTTPRoute (GRPCRoutes win in 2.16)", () => {
    const grpcRoute = "---\napiVersion: gateway.networking.k8s.io/v1\nkind: GRPCRoute\nmetadata: {name: r, namespace: app}\nspec:\n  parentRefs: [{name: api, kind: Service, group: core, port: 80}]\n";
    const httpRoute = "---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: h, namespace: app}\nspec:\n  parentRefs: [{name: api, kind: Service, group: core, port: 80}]\n";
    expect(grpcTarget(objects(service("{name: http, port: 80}") + grpcRoute + httpRoute), ref)).toEqual({ grpc: true, reason: "a GRPCRoute is attached to the Service" });
    expect(grpcTarget(objects(service("{name: http, port: 80}") + httpRoute), ref).grpc).toBe(false);
    // Attached to another port: not this one.
    expect(grpcTarget(objects(service("{name: http, port: 80}") + grpcRoute.replace("port: 80", "port: 9090")), ref).grpc).toBe(false);
  });

  it("an explicit protocol wins over the target", () => {
    const t = new GrpcTargets();
    const named = objects(service("{name: grpc, port: 80}"));
    expect(t.isGrpc("http", "c", named, ref)).toBe(false);
    expect(t.isGrpc("grpc", "c", objects(service("{name: http, port: 80}")), ref)).toBe(true);
    expect(t.isGrpc("auto", "c", named, ref)).toBe(true);
    expect(t.isGrpc(undefined, "c", named, undefined)).toBe(false);
  });
});

const parent = (headers?: Record<string, string>): HttpRequest => ({
  method: "GET",
  path: "/",
  authority: "web:80",
  bodyBytes: 0,
  ...(headers === undefined ? {} : { headers }),
  origin: { id: 1, traffic: "t" },
});

describe("the headers a client sends", () => {
  it("gRPC adds the content-type unless one is set", () => {
    expect(clientHeaders(undefined, false)).toBeUndefined();
    expect(clientHeaders(undefined, true)).toEqual({ "content-type": "application/grpc" });
    expect(clientHeaders({ "content-type": "application/grpc+proto" }, true)).toEqual({ "content-type": "application/grpc+proto" });
    expect(clientHeaders({ "x-a": "1" }, false)).toEqual({ "x-a": "1" });
  });

  it("a call forwards what it names (never the content-type), then sets its own", () => {
    const from = parent({ "x-canary": "true", "x-user": "alice", "content-type": "application/grpc" });
    const call = { to: "http://b/", method: "GET", required: true };
    expect(callHeaders(call, from, false)).toBeUndefined();
    expect(callHeaders({ ...call, forwardHeaders: true }, from, false)).toEqual({ "x-canary": "true", "x-user": "alice" });
    expect(callHeaders({ ...call, forwardHeaders: ["x-canary"] }, from, false)).toEqual({ "x-canary": "true" });
    expect(callHeaders({ ...call, forwardHeaders: true, headers: { "x-canary": "false" } }, from, true)).toEqual({ "x-canary": "false", "x-user": "alice", "content-type": "application/grpc" });
    expect(callHeaders({ ...call, forwardHeaders: true }, parent(), false)).toBeUndefined();
  });
});

describe("path and query as route matching sees them", () => {
  it("splits at ?, decodes form-style, keeps the first of repeated names", () => {
    expect(splitQuery("/cart")).toEqual({ path: "/cart", query: {} });
    expect(splitQuery("/cart?variant=canary&x=1")).toEqual({ path: "/cart", query: { variant: "canary", x: "1" } });
    expect(splitQuery("/s?q=a+b%20c&flag&q=second")).toEqual({ path: "/s", query: { q: "a b c", flag: "" } });
    expect(splitQuery("/s?bad=%E0%A4%A")).toEqual({ path: "/s", query: { bad: "%E0%A4%A" } });
  });
});
