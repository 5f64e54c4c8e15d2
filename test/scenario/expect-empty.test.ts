// An expectation with nothing under it fails unless it says `allowEmpty: true`: a metric whose
// filter matches no request in its window would otherwise pass `equals: 0` on a typo, and a
// failover expectation on a TrafficSplit the operator never manages would pass `never: true`
// vacuously. Failover times are seconds, and text output says so.

import { describe, expect, it } from "vitest";
import { junitXml } from "../../src/api/junit.js";
import { metric } from "../../src/api/query.js";
import { runScenarioText } from "../../src/api/run-scenario.js";
import { jsonSummary, formatSummary } from "../../src/report/summary.js";
import { loadScenario } from "../../src/scenario/load.js";
import { smallScenario } from "../support/small-scenario.js";
import { memoryReader, positionOf } from "./memory-reader.js";

function run(yaml: string) {
  const r = runScenarioText(yaml, "/nowhere");
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join("\n"));
  return r.run;
}

function result(yaml: string, name: string) {
  const found = run(yaml).expectations.find((e) => e.name === name);
  if (found === undefined) throw new Error(`no expectation ${name}`);
  return found;
}

describe("metric expectations with nothing to measure", () => {
  it("a count over a route no request took fails, saying why, instead of reading 0", () => {
    const yaml = smallScenario({ expect: ["{name: no failures, metric: failed, where: {traffic: calls, route: GET /nope}, equals: 0}"] });
    expect(result(yaml, "no failures")).toEqual({
      name: "no failures",
      pass: false,
      measured: null,
      expected: "failed = 0",
      detail: "traffic=calls route=GET /nope [0s, 5s): nothing to measure: no request matched this filter in the window (allowEmpty: true accepts that)",
    });
  });

  it("the library's metric() answers the same nothing", () => {
    const r = run(smallScenario());
    expect(metric(r, "failed", { traffic: "calls", route: "GET /nope" })).toBeNull();
    expect(metric(r, "failed", { traffic: "calls" })).toBe(0);
  });

  it("allowEmpty: true accepts it", () => {
    const yaml = smallScenario({ expect: ["{name: no failures, metric: failed, where: {traffic: calls, route: GET /nope}, equals: 0, allowEmpty: true}"] });
    expect(result(yaml, "no failures")).toMatchObject({ pass: true, measured: null, detail: "traffic=calls route=GET /nope [0s, 5s): nothing to measure, which allowEmpty accepts" });
  });

  it("a rate over a window before any request ended fails too", () => {
    const yaml = smallScenario({ duration: "5s", expect: ["{name: early, metric: successRate, where: {traffic: calls}, window: [0s, 1ms], atLeast: 0.9}"] });
    expect(result(yaml, "early")).toMatchObject({ pass: false, measured: null });
  });

  it("a count that is genuinely zero over requests that did happen still passes", () => {
    const yaml = smallScenario({ expect: ["{name: nothing retried, metric: retries, where: {traffic: calls}, equals: 0}", "{name: no duplicates, metric: duplicates, where: {traffic: calls}, equals: 0}"] });
    expect(result(yaml, "nothing retried")).toMatchObject({ pass: true, measured: 0 });
    expect(result(yaml, "no duplicates")).toMatchObject({ pass: true, measured: 0 });
  });

  it("a count filtered by a server the client-side series do not carry matches nothing", () => {
    const yaml = smallScenario({ expect: ["{name: no retries there, metric: retries, where: {traffic: calls, server: c/app/api}, equals: 0}"] });
    expect(result(yaml, "no retries there")).toMatchObject({ pass: false, measured: null });
  });

  it("meshsim explain shows allowEmpty where it was given, and only there", () => {
    const yaml = smallScenario({ expect: ["{name: maybe, metric: failed, where: {traffic: calls, route: GET /nope}, equals: 0, allowEmpty: true}"] });
    const r = loadScenario("/s/scenario.yaml", memoryReader({ "/s/scenario.yaml": yaml }));
    expect(r.ok ? r.explain["expect"] : r.errors).toEqual([
      { name: "all succeed", metric: "successRate", where: { traffic: "calls" }, window: ["0s", "5s"], equals: 1, seeds: { atLeast: 1 } },
      { name: "maybe", metric: "failed", where: { traffic: "calls", route: "GET /nope" }, window: ["0s", "5s"], equals: 0, allowEmpty: true, seeds: { atLeast: 1 } },
    ]);
  });

  it("allowEmpty is refused where there is always something to count", () => {
    const yaml = smallScenario({ expect: ["{name: r, reached: retry.skipped, allowEmpty: true}"] });
    const r = loadScenario("/s/scenario.yaml", memoryReader({ "/s/scenario.yaml": yaml }));
    expect(r.ok ? [] : r.errors).toEqual([
      {
        file: "scenario.yaml",
        ...positionOf(yaml, "true}"),
        path: "expect[1].allowEmpty",
        message: "allowEmpty applies only to metric and failover expectations (a reached expectation always has something to count)",
      },
    ]);
  });
});

/** One cluster: auth fails over to auth-standby when it scales to 0 at 10 s. */
function failoverScenario(labels: string, expectations: string[]): string {
  return `name: fo
seed: 1
duration: 20s
clusters:
  - name: c
    services:
      - {name: client, namespace: pay}
      - {name: auth, namespace: pay}
      - {name: auth-standby, namespace: pay}
    objects:
      - apiVersion: split.smi-spec.io/v1alpha2
        kind: TrafficSplit
        metadata:
          name: auth
          namespace: pay
          labels: ${labels}
          annotations: {failover.linkerd.io/primary-service: auth}
        spec:
          service: auth
          backends: [{service: auth, weight: 1}, {service: auth-standby, weight: 0}]
mesh:
  controlPlane:
    endpointsDelay: {dist: constant, value: 500ms}
    watchDelay: {dist: constant, value: 200ms}
  failover:
    reconcileDelay: {dist: constant, value: 50ms}
traffic:
  - {name: calls, from: {namespace: pay, deployment: client}, to: "http://auth.pay.svc.cluster.local/", rate: 10/s}
faults:
  - {at: 10s, scale: {select: {deployment: auth}, replicas: 0}}
expect:
${expectations.map((e) => `  - ${e}`).join("\n")}
`;
}

const MANAGED = "{failover.linkerd.io/controlled-by: linkerd-failover}";

describe("failover expectations", () => {
  it("measure seconds, and text output shows the unit", () => {
    const r = run(failoverScenario(MANAGED, ["{name: fails over, failover: {trafficSplit: pay/auth, cluster: c, after: 10s, within: 1s}}"]));
    const [e] = r.expectations;
    // The scale-down's Endpoints are written 500 ms later, the operator's watch delivers them
    // 200 ms after that and its patch lands 50 ms later: 0.75 s.
    expect(e).toEqual({ name: "fails over", pass: true, measured: 0.75, unit: "s", expected: "failover ≤ 1 s", detail: "TrafficSplit pay/auth in c, from 10 s" });
    const text = formatSummary(r, r.world.workloads, { wallSeconds: 0, reproduce: "x" });
    expect(text).toContain("  PASS  fails over\n        measured 0.75 s, expected failover ≤ 1 s  (TrafficSplit pay/auth in c, from 10 s)");
    expect((jsonSummary(r, 0)["expectations"] as unknown[])[0]).toEqual({ name: "fails over", pass: true, measured: 0.75, unit: "s", expected: "failover ≤ 1 s", detail: "TrafficSplit pay/auth in c, from 10 s" });
  });

  it("one that never came says the primary kept its weight, and JUnit carries the unit", () => {
    const r = run(failoverScenario(MANAGED, ["{name: late, failover: {trafficSplit: pay/auth, cluster: c, after: 12s, within: 2s}}"]));
    expect(r.expectations[0]).toMatchObject({ pass: false, measured: null, expected: "failover ≤ 2 s", detail: "TrafficSplit pay/auth in c, from 12 s: the primary kept its weight" });
    expect(junitXml([{ file: "fo.yaml", outcome: { ok: true, run: r } }])).toContain('<failure message="measured n/a, expected failover ≤ 2 s">TrafficSplit pay/auth in c, from 12 s: the primary kept its weight</failure>');
  });

  it("on a TrafficSplit the operator does not manage, never: true fails: it would hold vacuously", () => {
    const r = run(failoverScenario("{}", ["{name: keeps, failover: {trafficSplit: pay/auth, cluster: c, after: 5s, never: true}}"]));
    expect(r.expectations[0]).toEqual({
      name: "keeps",
      pass: false,
      measured: null,
      unit: "s",
      expected: "the primary keeps its weight",
      detail: "TrafficSplit pay/auth in c, from 5 s: nothing to measure: the failover operator does not manage it (it needs the label failover.linkerd.io/controlled-by: linkerd-failover)",
    });
  });

  it("allowEmpty: true accepts a TrafficSplit the operator does not manage", () => {
    const r = run(failoverScenario("{}", ["{name: keeps, failover: {trafficSplit: pay/auth, cluster: c, after: 5s, never: true}, allowEmpty: true}"]));
    expect(r.expectations[0]).toMatchObject({ pass: true, measured: null });
  });
});
