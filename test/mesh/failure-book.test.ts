// Why requests failed (failure-book.ts): each failed request counted once where it ended, by its
// final status, the cause of that answer and the retry layer's verdict, and the summary's table
// and "why not retried" lines built from them.

import { describe, expect, it } from "vitest";
import { metric } from "../../src/api/query.js";
import { runScenarioText } from "../../src/api/run-scenario.js";
import { failureCause } from "../../src/mesh/failure-book.js";
import { formatSummary } from "../../src/report/summary.js";

/** Constant arrivals at 10/s for 10 s to three Services: every request to each fails, differently. */
const SCENARIO = `name: failures
seed: 2
duration: 10s
clusters:
  - name: c
    services:
      - {name: client, namespace: app}
      - {name: plain, namespace: app, meshed: false}
    objects:
      - apiVersion: apps/v1
        kind: Deployment
        metadata: {name: api, namespace: app}
        spec:
          replicas: 1
          selector: {matchLabels: {app: api}}
          template:
            metadata: {labels: {app: api}, annotations: {linkerd.io/inject: enabled}}
            spec: {containers: [{name: api, image: example/api:1}]}
      - apiVersion: v1
        kind: Service
        metadata: {name: limited, namespace: app, annotations: {retry.linkerd.io/http: 5xx, retry.linkerd.io/limit: "2"}}
        spec: {selector: {app: api}, ports: [{port: 80}]}
      - apiVersion: v1
        kind: Service
        metadata: {name: ghost, namespace: app}
        spec: {selector: {app: nobody}, ports: [{port: 80}]}
behavior:
  - select: {deployment: api}
    latency: {dist: constant, value: 1ms}
    errors: {rate: 1, status: 503}
traffic:
  - {name: limited, from: {namespace: app, deployment: client}, to: "http://limited.app.svc.cluster.local/", arrivals: constant, rate: 10/s}
  - {name: unmeshed, from: {namespace: app, deployment: plain}, to: "http://ghost.app.svc.cluster.local/", arrivals: constant, rate: 10/s}
`;

describe("the failure table", () => {
  const r = runScenarioText(SCENARIO, "/nowhere");
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join("\\n"));
  const rows = r.run.world.failures;

  it("counts each failed request once, by status, cause and why it was not retried", () => {
    // Constant 10/s from 0.1 s: 99 requests leave before 10 s. limited: three attempts (limit 2),
    // all answered 503 by the app, then the limit; with two backoffs (25–50 ms, 50–100 ms) the one
    // sent at 9.9 s may end after 10 s, so 98 or 99 end in the window, each counted once. ghost: no
    // endpoint, refused by kube-proxy for the unmeshed client 20 µs later, never retried: 99.
    const requests = metric(r.run, "requests", { traffic: "limited" }, ["0s", "10s"]) as number;
    expect([98, 99]).toContain(requests);
    expect(rows.map((f) => [f.traffic, f.service, f.status, f.cause, f.retry, f.count])).toEqual([
      ["unmeshed", "ghost", 502, "no-endpoints", "unmeshed", 99],
      ["limited", "limited", 503, "app-error", "limit-exceeded", requests],
    ]);
    expect(metric(r.run, "retries", { traffic: "limited" }, ["0s", "10s"])).toBeGreaterThanOrEqual(2 * 98);
  });

  it("prints the table and the verdicts in words in the summary, and every row in --json", () => {
    const text = formatSummary(r.run, r.run.world.workloads, { wallSeconds: 0, reproduce: "" });
    expect(text).toMatch(/^CLIENT +SERVICE +ROUTE +STATUS +CAUSE +NOT_RETRIED +COUNT +FIRST +LAST$/m);
    expect(text).toMatch(/^c\/app\/client +limited +\[DEFAULT\] +503 +app-error +limit-exceeded +9[89] +0\.2s +(9\.9|10\.0)s$/m);
    expect(text).toMatch(/^ {2}c\/app\/plain → ghost \[unmeshed\]: 99 because the client has no Linkerd proxy: kube-proxy never retries$/m);
    expect(r.result["failures"]).toHaveLength(2);
  });
});

describe("failureCause", () => {
  it("names the proxy's own errors, the app's statuses and the flow's reasons", () => {
    expect(failureCause({ status: 500 }, "not-retryable")).toBe("app-error");
    expect(failureCause({ status: 504, error: "fail-fast" }, "x")).toBe("fail-fast");
    expect(failureCause({ status: 502, error: "reset" }, "x")).toBe("connection-reset");
    expect(failureCause({ status: 502, error: "other" }, "unknown-service")).toBe("unknown-service");
    expect(failureCause({ status: 500, from: "proxy-backend" }, "x")).toBe("injected-failure");
  });
});
