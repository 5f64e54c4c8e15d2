// Where a request's timers live and what a retry does when the backend is shut, in one client
// proxy (fake control plane and servers, see fake-mesh.ts). Expected values come from the
// reference's §3.3 (retry loop, backoff 25–250 ms with jitter 1.0), §3.4 (timeouts are enforced by
// the endpoint stack, below the queue and P2C), §2.4 (the ServiceProfile route timeout wraps the
// retry loop) and §4.4 (fail-fast 3 s after the first request waits, 504; LoadShed 503).

import { describe, expect, it } from "vitest";
import { type Answer, FakeMesh, MS, pod, S } from "./fake-mesh.js";

function service(annotations: Record<string, string>): string {
  const lines = Object.entries(annotations).map(([k, v]) => `    ${k}: "${v}"`);
  return `apiVersion: v1
kind: Service
metadata:
  name: api
  namespace: app
  annotations:
${lines.length === 0 ? "    {}" : lines.join("\n")}
spec: {selector: {app: api}, ports: [{port: 80}]}
`;
}

const API = { host: "api.app.svc.cluster.local" };

describe("client-policy stack: timers start when P2C dispatches the attempt", () => {
  const perTry = service({ "retry.linkerd.io/http": "5xx", "retry.linkerd.io/limit": "1", "retry.linkerd.io/timeout": "100ms" });

  it("a request that waits 500 ms for an endpoint still has its whole 100 ms per-try timeout", () => {
    const mesh = new FakeMesh(perTry);
    const client = mesh.proxy();
    mesh.serve = () => ({ afterUs: 50 * MS, res: { status: 200 } });
    const answers: Answer[] = [];
    mesh.send(client, API, 0, answers);
    mesh.sim.scheduleAt(500 * MS, () => mesh.setEndpoints("api", [pod("api")]), undefined);
    mesh.run(2 * S);
    // Dispatched at 500 ms, answered 50 ms later, inside the per-try window [500, 600) ms.
    expect(answers).toEqual([{ atUs: 550 * MS, status: 200 }]);
    expect(mesh.count("timeouts")).toBe(0);
    expect(mesh.arrivals).toHaveLength(1);
  });

  it("the per-try timeout fires 100 ms after dispatch, not after the request entered the queue", () => {
    const mesh = new FakeMesh(perTry);
    const client = mesh.proxy();
    mesh.serve = () => ({ afterUs: 150 * MS, res: { status: 200 } });
    mesh.send(client, API, 0, []);
    mesh.sim.scheduleAt(500 * MS, () => mesh.setEndpoints("api", [pod("api")]), undefined);
    mesh.run(2 * S);
    const perTryFailures = mesh.events.filter((e) => e.kind === "attempt.failed" && e.fields["reason"] === "per-try-timeout");
    expect(perTryFailures.map((e) => e.atUs)).toEqual([600 * MS]);
  });

  it("a queued request ends by fail-fast at 3 s, not by its 1 s request deadline", () => {
    const mesh = new FakeMesh(service({ "timeout.linkerd.io/request": "1s" }));
    const client = mesh.proxy();
    const answers: Answer[] = [];
    mesh.send(client, API, 0, answers);
    mesh.run(10 * S);
    expect(answers).toEqual([{ atUs: 3 * S, status: 504, error: "fail-fast" }]);
    expect(mesh.count("timeouts")).toBe(0);
  });

  it("a retry dispatched after the deadline is sent and counted, then fails at once with 504 before reaching the server", () => {
    // 30 ms deadline; the server fails in 5 ms; retry 1 waits U·25 + 25 ms ∈ [25, 50) ms, so it is
    // dispatched at 5 + [25, 50) = [30, 55) ms, at or after the deadline: it expires at dispatch.
    const mesh = new FakeMesh(service({ "retry.linkerd.io/http": "5xx", "retry.linkerd.io/limit": "3", "timeout.linkerd.io/request": "30ms" }));
    mesh.setEndpoints("api", [pod("api")]);
    const client = mesh.proxy();
    mesh.serve = () => ({ afterUs: 5 * MS, res: { status: 500 } });
    const answers: Answer[] = [];
    mesh.send(client, API, 0, answers);
    mesh.run(1 * S);
    expect(answers).toHaveLength(1);
    const [answer] = answers as [Answer];
    expect(answer).toMatchObject({ status: 504, error: "request-timeout" });
    expect(answer.atUs).toBeGreaterThanOrEqual(30 * MS);
    expect(answer.atUs).toBeLessThan(55 * MS);
    expect(mesh.arrivals).toHaveLength(1);
    expect(mesh.count("retries")).toBe(1);
    expect(mesh.marks("attempt.expired", "dispatched-after-deadline")).toBe(1);
  });

  it("an attempt in flight at the deadline ends with 504 then, and is not retried", () => {
    const mesh = new FakeMesh(service({ "retry.linkerd.io/http": "5xx", "retry.linkerd.io/limit": "3", "timeout.linkerd.io/request": "30ms" }));
    mesh.setEndpoints("api", [pod("api")]);
    const client = mesh.proxy();
    mesh.serve = () => ({ afterUs: 100 * MS, res: { status: 200 } });
    const answers: Answer[] = [];
    mesh.send(client, API, 0, answers);
    mesh.run(1 * S);
    expect(answers).toEqual([{ atUs: 30 * MS, status: 504, error: "request-timeout" }]);
    expect(mesh.count("retries")).toBe(0);
  });
});

describe("client-policy stack: a retry while the backend gate is shut", () => {
  it("is sent after its backoff, counted, and shed with 503 (not retried again)", () => {
    // Fail-fast at 3 s (504, retryable) ⇒ backoff [25, 50) ms ⇒ the retry meets the shut gate:
    // LoadShed 503, not retryable, though the limit allows two more.
    const mesh = new FakeMesh(service({ "retry.linkerd.io/http": "5xx", "retry.linkerd.io/limit": "3", "timeout.linkerd.io/request": "1s" }));
    const client = mesh.proxy();
    const answers: Answer[] = [];
    mesh.send(client, API, 0, answers);
    mesh.run(10 * S);
    expect(answers).toHaveLength(1);
    const [answer] = answers as [Answer];
    expect(answer).toMatchObject({ status: 503, error: "load-shed" });
    expect(answer.atUs).toBeGreaterThanOrEqual(3 * S + 25 * MS);
    expect(answer.atUs).toBeLessThan(3 * S + 50 * MS);
    expect(mesh.count("retries")).toBe(1);
    expect(mesh.count("failFast")).toBe(1);
    expect(mesh.count("loadShed")).toBe(1);
    expect(mesh.marks("retry.skipped")).toBe(0);
    expect(mesh.arrivals).toHaveLength(0);
  });
});

describe("ServiceProfile stack: the route timeout wraps the retry loop", () => {
  const manifests = `${service({})}---
apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: api.app.svc.cluster.local, namespace: app}
spec:
  routes:
    - {name: all, condition: {pathRegex: "/.*"}, timeout: 1s, isRetryable: true}
  retryBudget: {retryRatio: 0.2, minRetriesPerSecond: 10, ttl: 10s}
`;

  it("ends a request still waiting in the backend queue at the timeout, before fail-fast", () => {
    const mesh = new FakeMesh(manifests);
    const client = mesh.proxy();
    const answers: Answer[] = [];
    mesh.send(client, API, 0, answers);
    mesh.run(10 * S);
    expect(answers).toEqual([{ atUs: 1 * S, status: 504, error: "route-timeout" }]);
    expect(mesh.count("failFast")).toBe(0);
  });
});
