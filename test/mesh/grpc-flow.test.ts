// gRPC through the whole request flow: which requests are gRPC, how their answers are classified
// (grpc-status in the headers, in the trailers, after a streamed body, or missing), what the
// retry layers of both stacks can see of them, and the `response_total` labels the metrics keep.
// Expected values from linkerd2-proxy @ release/v2.246.0 (`linkerd/app/core/src/classify.rs`,
// `logical/policy/route.rs`, `logical/policy/route/retry.rs`, `http/retry/src/peek_trailers.rs`,
// `app/outbound/src/http/retry.rs`) and the reference's §2.3 and §3.3; each app below fails every
// answer (rate 1), so the counts are exact up to the requests still running at the end.

import { describe, expect, it } from "vitest";
import { metric, runScenarioText, type ScenarioRun } from "../../src/index.js";
import { formatSummary } from "../../src/report/summary.js";

const GRPC_ROUTE = JSON.stringify({
  apiVersion: "gateway.networking.k8s.io/v1",
  kind: "GRPCRoute",
  metadata: { name: "grpc-api", namespace: "app", annotations: { "retry.linkerd.io/grpc": "unavailable", "retry.linkerd.io/limit": "2" } },
  spec: { parentRefs: [{ name: "grpc-api", kind: "Service", group: "core", port: 80 }], rules: [{ matches: [{ method: { service: "pkg.Svc" } }] }] },
});
const PROFILE = JSON.stringify({
  apiVersion: "linkerd.io/v1alpha2",
  kind: "ServiceProfile",
  metadata: { name: "sp-api.app.svc.cluster.local", namespace: "app" },
  spec: { routes: [{ name: "rpc", condition: { method: "POST", pathRegex: "/pkg\\.Svc/.*" }, isRetryable: true }] },
});
// A Service whose port is named grpc, in front of the `plain` pods.
const NAMED = JSON.stringify({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name: "named", namespace: "app" },
  spec: { selector: { app: "plain" }, ports: [{ name: "grpc", port: 80, targetPort: 80 }] },
});

const traffic = (name: string, service: string, path: string, protocol?: string): string =>
  `  - {name: ${name}, from: {namespace: app, deployment: client}, to: "http://${service}.app.svc.cluster.local${path}", arrivals: constant, rate: 10/s, requests: [{method: POST}]${protocol === undefined ? "" : `, protocol: ${protocol}`}}`;

const SCENARIO = `name: grpc-flow
seed: 5
duration: 20s
clusters:
  - name: c
    services:
      - {name: grpc-api, namespace: app, replicas: 2}
      - {name: sp-api, namespace: app}
      - {name: plain, namespace: app}
      - {name: client, namespace: app}
    objects: [${GRPC_ROUTE}, ${PROFILE}, ${NAMED}]
behavior:
  - select: {namespace: app}
    latency: {dist: constant, value: 2ms}
    routes:
      - {match: {path: /pkg.Svc/Headers}, errors: {grpcStatus: UNAVAILABLE, rate: 1}}
      - {match: {path: /pkg.Svc/Trailers}, errors: {grpcStatus: 14, rate: 1, grpcStatusIn: trailers}}
      - {match: {path: /pkg.Svc/Streamed}, errors: {grpcStatus: UNAVAILABLE, rate: 1, grpcStatusIn: streamed}}
      - {match: {path: /pkg.Svc/None}, errors: {grpcStatus: none, status: 500, rate: 1}}
traffic:
${[
  traffic("g-headers", "grpc-api", "/pkg.Svc/Headers", "grpc"),
  traffic("g-trailers", "grpc-api", "/pkg.Svc/Trailers", "grpc"),
  traffic("g-streamed", "grpc-api", "/pkg.Svc/Streamed", "grpc"),
  traffic("g-none", "grpc-api", "/pkg.Svc/None", "grpc"),
  traffic("g-plain-http", "grpc-api", "/pkg.Svc/Headers", "http"),
  traffic("sp-headers", "sp-api", "/pkg.Svc/Headers", "grpc"),
  traffic("sp-streamed", "sp-api", "/pkg.Svc/Streamed", "grpc"),
  traffic("p-none-grpc", "plain", "/pkg.Svc/None", "grpc"),
  traffic("p-none-http", "plain", "/pkg.Svc/None", "http"),
  traffic("p-unavailable-grpc", "plain", "/pkg.Svc/Headers", "grpc"),
  traffic("p-unavailable-http", "plain", "/pkg.Svc/Headers", "http"),
  traffic("n-auto", "named", "/pkg.Svc/None"),
  traffic("n-http", "named", "/pkg.Svc/None", "http"),
].join("\n")}
expect:
  - {name: every request ends once, invariant: requests-end-once}
`;

function run(text: string): ScenarioRun {
  const r = runScenarioText(text, "/tmp");
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join("\n"));
  return r.run;
}

describe("gRPC answers through the outbound flow", () => {
  const r = run(SCENARIO);
  const m = (name: Parameters<typeof metric>[1], traffic: string): number | null => metric(r, name, { traffic });

  it("the run holds its invariants", () => {
    expect(r.world.invariantViolations).toEqual([]);
  });

  // limit 2 ⇒ three attempts for an answer that always fails. Attempts of the one or two requests
  // still running at 20 s are counted and their requests are not: ≤ 4 extra attempts over ≈ 200.
  it("a grpc-status in the headers (Trailers-Only) is retried by retry.linkerd.io/grpc: three attempts", () => {
    expect(m("amplification", "g-headers")).toBeGreaterThanOrEqual(3);
    expect(m("amplification", "g-headers")).toBeLessThanOrEqual(3.02);
    expect(m("successRate", "g-headers")).toBe(0);
  });

  it("in the trailers right behind the message, the retry layer peeks it and retries the same", () => {
    expect(m("amplification", "g-trailers")).toBeGreaterThanOrEqual(3);
    expect(m("amplification", "g-trailers")).toBeLessThanOrEqual(3.02);
  });

  it("after a streamed body the retry layer never sees it: one attempt, still a failure in the metrics", () => {
    expect(m("retries", "g-streamed")).toBe(0);
    expect(m("amplification", "g-streamed")).toBe(1);
    expect(m("successRate", "g-streamed")).toBe(0);
  });

  it("a gRPC answer without any grpc-status is a success, whatever its HTTP status (Ok(Unknown))", () => {
    expect(m("successRate", "g-none")).toBe(1);
    expect(m("retries", "g-none")).toBe(0);
  });

  it("a GRPCRoute classifies and retries by grpc-status even without the gRPC content-type", () => {
    expect(m("successRate", "g-plain-http")).toBe(0);
    expect(m("amplification", "g-plain-http")).toBeGreaterThanOrEqual(3);
  });

  it("a ServiceProfile route retries a failure it sees in the headers, within its budget", () => {
    expect(m("retries", "sp-headers")).toBeGreaterThan(0);
    expect(r.world.marks.get("retry.granted/retryable-failure") ?? 0).toBeGreaterThan(0);
  });

  it("a ServiceProfile retry judges without streamed trailers: gRPC with no status yet is a success, so never retried", () => {
    expect(m("retries", "sp-streamed")).toBe(0);
    expect(m("successRate", "sp-streamed")).toBe(0);
  });

  it("on the default route, gRPC requests are judged by grpc-status and plain ones by HTTP status", () => {
    expect(m("successRate", "p-none-grpc")).toBe(1);
    expect(m("successRate", "p-none-http")).toBe(0);
    expect(m("successRate", "p-unavailable-grpc")).toBe(0);
    expect(m("successRate", "p-unavailable-http")).toBe(1);
  });

  it("auto makes requests to a port named grpc gRPC; protocol: http overrides it", () => {
    expect(m("successRate", "n-auto")).toBe(1);
    expect(m("successRate", "n-http")).toBe(0);
  });

  it("the inbound side classifies as the default classifier does", () => {
    // plain serves p-*, n-*: each class from its request's content-type; the shares are the
    // traffic's (6 entries at 10/s, 3 of them successes as the cases above say).
    const s = metric(r, "successRate", { server: "c/app/plain" });
    expect(s).toBeGreaterThan(0.45);
    expect(s).toBeLessThan(0.55);
  });

  it("the summary shows response_total by grpc_status for routes that answered gRPC, and --json on every route", () => {
    const text = formatSummary(r, r.world.workloads, { wallSeconds: 0, reproduce: "" });
    const block = text.split("\n\n").find((b) => b.startsWith("response_total by classification, status_code, grpc_status"));
    expect(block).toMatch(/^grpc-api\s+grpc-api\s+failure\s+200\s+14 \(UNAVAILABLE\)\s+\d+$/m);
    expect(block).toMatch(/^grpc-api\s+grpc-api\s+success\s+500\s+-\s+\d+$/m);
    const result = runScenarioText(SCENARIO, "/tmp");
    if (!result.ok) throw new Error("did not run");
    const routes = result.result["routes"] as Array<{ service: string; responses: Array<{ classification: string; status_code: number; grpc_status: number | null }> }>;
    const sp = routes.find((x) => x.service === "sp-api");
    expect(sp?.responses.map((x) => [x.classification, x.status_code, x.grpc_status])).toEqual([["failure", 200, 14]]);
  });

  it("metrics keep the response_total labels: classification, status and grpc_status", () => {
    const w: [number, number] = [r.spec.warmupUs, r.spec.durationUs];
    const headers = r.world.metrics.query({ traffic: "g-headers" }, w);
    expect(headers.responses.map((x) => [x.classification, x.status, x.grpcStatus])).toEqual([["failure", 200, 14]]);
    expect(headers.attemptResponses.map((x) => [x.classification, x.status, x.grpcStatus])).toEqual([["failure", 200, 14]]);
    const none = r.world.metrics.query({ traffic: "g-none" }, w);
    expect(none.responses.map((x) => [x.classification, x.status, x.grpcStatus])).toEqual([["success", 500, undefined]]);
    const http = r.world.metrics.query({ traffic: "p-unavailable-http" }, w);
    // The answer carried grpc-status 14; the label keeps it, the class comes from the HTTP status.
    expect(http.responses.map((x) => [x.classification, x.status, x.grpcStatus])).toEqual([["success", 200, 14]]);
  });
});

const HTTP_ROUTE = (name: string, rules: unknown[]): string =>
  JSON.stringify({
    apiVersion: "gateway.networking.k8s.io/v1",
    kind: "HTTPRoute",
    metadata: { name, namespace: "app" },
    spec: { parentRefs: [{ name, kind: "Service", group: "core", port: 80 }], rules },
  });
const API_ROUTE = HTTP_ROUTE("api", [
  { matches: [{ headers: [{ name: "x-canary", value: "true" }] }, { queryParams: [{ name: "variant", value: "canary" }] }], backendRefs: [{ name: "canary", port: 80 }] },
  { backendRefs: [{ name: "api", port: 80 }] },
]);
const BACKEND_ROUTE = HTTP_ROUTE("backend", [
  { matches: [{ headers: [{ name: "x-canary", value: "true" }] }], backendRefs: [{ name: "backend-canary", port: 80 }] },
  { backendRefs: [{ name: "backend", port: 80 }] },
]);

const to = (name: string, service: string, request: string): string =>
  `  - {name: ${name}, from: {namespace: app, deployment: client}, to: "http://${service}.app.svc.cluster.local/", arrivals: constant, rate: 10/s, requests: [${request}]}`;

const HEADERS = `name: header-routing
seed: 5
duration: 20s
clusters:
  - name: c
    services:
${["api", "canary", "front", "front2", "front3", "backend", "backend-canary", "client"].map((n) => `      - {name: ${n}, namespace: app}`).join("\n")}
    objects: [${API_ROUTE}, ${BACKEND_ROUTE}]
behavior:
  - select: {deployment: front}
    calls: [{to: "http://backend.app.svc.cluster.local/items", forwardHeaders: true}]
  - select: {deployment: front2}
    calls: [{to: "http://backend.app.svc.cluster.local/items"}]
  - select: {deployment: front3}
    calls: [{to: "http://backend.app.svc.cluster.local/items", headers: {x-canary: true}}]
traffic:
${[
  to("tagged", "api", '{headers: {X-Canary: "true"}}'),
  to("untagged", "api", "{}"),
  to("other-value", "api", '{headers: {x-canary: "false"}}'),
  to("query-path", "api", "{path: /cart?variant=canary}"),
  to("query-map", "api", "{path: /cart, query: {variant: canary}}"),
  to("query-other", "api", "{path: /cart?variant=stable&x=1}"),
  to("forwarded", "front", '{headers: {x-canary: "true"}}'),
  to("not-forwarded", "front2", '{headers: {x-canary: "true"}}'),
  to("set-by-call", "front3", "{}"),
].join("\n")}
expect:
  - {name: every request ends once, invariant: requests-end-once}
`;

describe("headers and query strings through route matching and calls", () => {
  const r = run(HEADERS);
  // Arrivals at a server per request of the traffic: 1 when every request lands there, 0 when none
  // does (arrivals count when they arrive, requests when they end: the last one or two of ≈ 200 may
  // have arrived and not ended).
  const share = (traffic: string, server: string): number | null => metric(r, "amplification", { traffic, server: `c/app/${server}` });
  const all = (traffic: string, server: string): void => {
    expect(share(traffic, server)).toBeGreaterThanOrEqual(1);
    expect(share(traffic, server)).toBeLessThanOrEqual(1.01);
  };

  it("a request carrying the header takes the header rule, whatever the name's case", () => {
    all("tagged", "canary");
    expect(share("tagged", "api")).toBe(0);
  });

  it("without the header, or with another value, the catch-all rule", () => {
    expect(share("untagged", "canary")).toBe(0);
    all("untagged", "api");
    expect(share("other-value", "canary")).toBe(0);
  });

  it("a query parameter, in the path or as query:, takes the query rule; another value does not", () => {
    all("query-path", "canary");
    all("query-map", "canary");
    expect(share("query-other", "canary")).toBe(0);
  });

  it("a call forwards the header when it says so, and sets its own", () => {
    all("forwarded", "backend-canary");
    expect(share("not-forwarded", "backend-canary")).toBe(0);
    all("not-forwarded", "backend");
    all("set-by-call", "backend-canary");
  });

  it("the run holds its invariants", () => {
    expect(r.world.invariantViolations).toEqual([]);
  });
});
