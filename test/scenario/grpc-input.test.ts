// The scenario side of gRPC and headers: gRPC errors by name or number, request headers and query
// strings, call headers and protocols — validated, normalised, explained, and loaded back the same.

import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { loadScenario } from "../../src/scenario/load.js";
import { memoryReader } from "./memory-reader.js";

const FILE = "/s/scenario.yaml";

const scenario = (behavior: string, traffic: string): string => `name: t
seed: 1
duration: 10s
clusters:
  - name: east
    services: [{name: client}, {name: server}]
behavior:
${behavior}
traffic:
${traffic}
`;

const BEHAVIOR = `  - select: {deployment: server}
    errors: {grpcStatus: UNAVAILABLE, rate: 0.2}
    routes:
      - {match: {path: /a}, errors: {grpcStatus: 4, rate: 0.1, grpcStatusIn: streamed}}
      - {match: {path: /b}, errors: {grpcStatus: none, status: 500, rate: 1}}
      - {match: {path: /c}, errors: {rate: 0.1}}
    calls:
      - {to: "http://server.default.svc.cluster.local/x?debug=1", forwardHeaders: [X-Canary], headers: {X-Team: a, x-retry: 3}}
      - {to: "http://server.default.svc.cluster.local/y", protocol: grpc}`;
const TRAFFIC = `  - name: load
    from: {namespace: default, deployment: client}
    to: http://server.default.svc.cluster.local/
    rate: 10/s
    requests:
      - {path: /cart, query: {variant: canary, q: a b}, headers: {X-Canary: true}}
      - {path: "/cart?x=1", query: {y: 2}}
  - name: rpc
    from: {namespace: default, deployment: client}
    to: http://server.default.svc.cluster.local/pkg.Svc/Get
    protocol: grpc
    rate: 10/s`;

function load(text: string) {
  return loadScenario(FILE, memoryReader({ [FILE]: text }));
}

describe("gRPC errors, headers and query strings in a scenario", () => {
  const r = load(scenario(BEHAVIOR, TRAFFIC));
  if (!r.ok) throw new Error(JSON.stringify(r.errors, null, 1));
  const b = r.spec.behavior[0];

  it("reads gRPC statuses by name or number; their HTTP status is 200 unless given", () => {
    expect(b?.errors).toEqual({ rate: 0.2, status: 200, grpcStatus: 14, grpcStatusIn: "headers" });
    expect(b?.routes.map((x) => x.errors)).toEqual([
      { rate: 0.1, status: 200, grpcStatus: 4, grpcStatusIn: "streamed" },
      { rate: 1, status: 500, grpcStatus: "none", grpcStatusIn: "headers" },
      { rate: 0.1, status: 500 },
    ]);
  });

  it("lower-cases header names, sends values as text, appends query: to the path URL-encoded", () => {
    const load = r.spec.traffic[0];
    expect(load?.requests).toEqual([
      { method: "GET", path: "/cart?variant=canary&q=a%20b", weight: 1, bodyBytes: 0, headers: { "x-canary": "true" } },
      { method: "GET", path: "/cart?x=1&y=2", weight: 1, bodyBytes: 0 },
    ]);
    expect(load?.protocol).toBeUndefined();
  });

  it("gRPC traffic defaults to POST", () => {
    const rpc = r.spec.traffic[1];
    expect(rpc?.protocol).toBe("grpc");
    expect(rpc?.requests).toEqual([{ method: "POST", path: "/pkg.Svc/Get", weight: 1, bodyBytes: 0 }]);
  });

  it("keeps what a call sets, forwards and speaks", () => {
    expect(b?.calls).toEqual([
      { to: "http://server.default.svc.cluster.local/x?debug=1", method: "GET", required: true, headers: { "x-team": "a", "x-retry": "3" }, forwardHeaders: ["x-canary"] },
      { to: "http://server.default.svc.cluster.local/y", method: "GET", required: true, protocol: "grpc" },
    ]);
  });

  it("explains gRPC statuses by name and every default, and the explanation loads back into the same world", () => {
    const explained = r.explain as { behavior: Array<Record<string, unknown>>; traffic: Array<Record<string, unknown>> };
    expect(explained.behavior[0]?.["errors"]).toEqual({ rate: 0.2, status: 200, grpcStatus: "UNAVAILABLE", grpcStatusIn: "headers" });
    expect((explained.behavior[0]?.["calls"] as unknown[])[1]).toEqual({ to: "http://server.default.svc.cluster.local/y", method: "GET", required: true, protocol: "grpc", headers: {}, forwardHeaders: false, async: false, probability: 1 });
    expect(explained.traffic[1]?.["protocol"]).toBe("grpc");
    expect(explained.traffic[0]?.["protocol"]).toBe("auto");
    const again = load(stringify({ ...r.explain, clusters: [{ name: "east", services: [{ name: "client" }, { name: "server" }] }] }));
    if (!again.ok) throw new Error(JSON.stringify(again.errors, null, 1));
    expect(again.spec.behavior).toEqual(r.spec.behavior);
    expect(again.spec.traffic).toEqual(r.spec.traffic);
  });
});

describe("bad gRPC and header input", () => {
  const errorOf = (behavior: string, traffic = TRAFFIC): string => {
    const r = load(scenario(behavior, traffic));
    if (r.ok) throw new Error("loaded");
    return r.errors.map((e) => `${e.path}: ${e.message}`).join("\n");
  };

  it("a gRPC status that is not gRPC's name or a code 0..16", () => {
    expect(errorOf("  - {select: {deployment: server}, errors: {grpcStatus: unavailable, rate: 0.1}}")).toMatch(/^behavior\[0\]\.errors\.grpcStatus: expected a gRPC status name \(OK, CANCELLED, /);
    expect(errorOf("  - {select: {deployment: server}, errors: {grpcStatus: 17, rate: 0.1}}")).toMatch(/^behavior\[0\]\.errors\.grpcStatus: /);
  });

  it("where the status travels is one of three", () => {
    expect(errorOf("  - {select: {deployment: server}, errors: {grpcStatus: 14, rate: 0.1, grpcStatusIn: body}}")).toMatch(/^behavior\[0\]\.errors\.grpcStatusIn: /);
  });

  it("a header name with a space, and a protocol that is not auto, http or grpc", () => {
    const bad = TRAFFIC.replace("headers: {X-Canary: true}", '{"x canary": "1"}'.replace(/^/, "headers: "));
    expect(errorOf(BEHAVIOR, bad)).toMatch(/traffic\[0\]\.requests\[0\]\.headers/);
    expect(errorOf(BEHAVIOR, TRAFFIC.replace("protocol: grpc", "protocol: h2"))).toMatch(/^traffic\[1\]\.protocol: /);
  });
});
