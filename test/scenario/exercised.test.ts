// Header and query matches and `retry.linkerd.io/grpc` are "read but not exercised" only while the
// scenario gives them nothing to act on: no request with headers, none with a query string, no
// app answering a gRPC error status.

import { describe, expect, it } from "vitest";
import { parseManifests } from "../../src/k8s/load.js";
import { unexercisedFields } from "../../src/k8s/unexercised-fields.js";
import { exercisedBy, scenarioNotSimulatedHits } from "../../src/scenario/findings.js";
import { loadScenario } from "../../src/scenario/load.js";
import { memoryReader } from "./memory-reader.js";

const ROUTE = `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: default, annotations: {retry.linkerd.io/grpc: unavailable}}
spec:
  parentRefs: [{name: server, kind: Service, group: core, port: 80}]
  rules:
    - matches: [{headers: [{name: x-canary, value: "true"}]}, {queryParams: [{name: v, value: "2"}]}]
      backendRefs: [{name: server, port: 80}]
    - backendRefs: [{name: server, port: 80}]`;

const FIELDS = ["HTTPRoute matches[].headers", "HTTPRoute matches[].queryParams", "annotation retry.linkerd.io/grpc"];

function spec(behavior: string, request: string) {
  const text = `name: t
seed: 1
duration: 10s
clusters:
  - name: east
    services: [{name: client}, {name: server}]
    objects:
${ROUTE.split("\n").map((l, i) => (i === 0 ? `      - ${l}` : `        ${l}`)).join("\n")}
behavior:
  - {select: {deployment: server}${behavior}}
traffic:
  - {name: l, from: {namespace: default, deployment: client}, to: "http://server.default.svc.cluster.local/", rate: 1/s, requests: [${request}]}
`;
  const r = loadScenario("/s/t.yaml", memoryReader({ "/s/t.yaml": text }));
  if (!r.ok) throw new Error(JSON.stringify(r.errors, null, 1));
  return r.spec;
}

const reported = (s: ReturnType<typeof spec>): string[] => scenarioNotSimulatedHits(s).flatMap((h) => (h.field !== undefined && FIELDS.includes(h.field) ? [h.field] : [])).sort();

describe("what the scenario's traffic exercises", () => {
  it("nothing: plain requests, HTTP errors", () => {
    const s = spec("", "{}");
    expect(exercisedBy(s)).toEqual({ headers: false, query: false, grpcStatus: false });
    expect(reported(s)).toEqual([...FIELDS].sort());
  });

  it("headers on a request, a query string, a gRPC error status: each silences its own fields only", () => {
    expect(reported(spec("", "{headers: {x-canary: \"true\"}}"))).toEqual(["HTTPRoute matches[].queryParams", "annotation retry.linkerd.io/grpc"]);
    expect(reported(spec("", "{path: \"/?v=2\"}"))).toEqual(["HTTPRoute matches[].headers", "annotation retry.linkerd.io/grpc"]);
    expect(reported(spec("", "{query: {v: 2}}"))).toEqual(["HTTPRoute matches[].headers", "annotation retry.linkerd.io/grpc"]);
    expect(reported(spec(", errors: {grpcStatus: UNAVAILABLE, rate: 0.1}", "{}"))).toEqual(["HTTPRoute matches[].headers", "HTTPRoute matches[].queryParams"]);
  });

  it("a call that sets headers or carries a query string counts; a gRPC answer without status does not", () => {
    expect(exercisedBy(spec(', calls: [{to: "http://server.default.svc.cluster.local/x?v=2", headers: {x-a: b}}]', "{}"))).toEqual({ headers: true, query: true, grpcStatus: false });
    expect(exercisedBy(spec(", errors: {grpcStatus: none, rate: 1}", "{}")).grpcStatus).toBe(false);
  });

  it("manifests checked on their own exercise nothing", () => {
    const { objects } = parseManifests(ROUTE, "r.yaml");
    expect(unexercisedFields(objects).map((h) => h.field).sort()).toEqual([...FIELDS].sort());
    expect(unexercisedFields(objects, { headers: true, query: true, grpcStatus: true })).toEqual([]);
  });
});
