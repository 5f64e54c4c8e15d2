// What `meshsim check` finds in a loaded scenario, as `run` and the library report it: each
// cluster's diagnostics named by cluster, notes only when asked, and what is not simulated,
// including a fault aimed at the multicluster gateway's own Deployment.

import { describe, expect, it } from "vitest";
import { loadScenario } from "../../src/scenario/load.js";
import { findingsJson, scenarioDiagnostics, scenarioFindings } from "../../src/scenario/findings.js";
import type { WorldSpec } from "../../src/mesh/spec.js";
import { memoryReader } from "./memory-reader.js";

const FILE = "/s/scenario.yaml";

function load(text: string): WorldSpec {
  const r = loadScenario(FILE, memoryReader({ [FILE]: text }), { displayAs: "scenario.yaml" });
  if (!r.ok) throw new Error(JSON.stringify(r.errors, null, 1));
  return r.spec;
}

const GATEWAY = `{apiVersion: apps/v1, kind: Deployment, metadata: {name: linkerd-gateway, namespace: linkerd-multicluster}, spec: {selector: {matchLabels: {app: linkerd-gateway}}, template: {metadata: {labels: {app: linkerd-gateway}}}}}`;

const twoClusters = (fault: string): string => `name: gw
seed: 1
duration: 10s
clusters:
  - name: east
    services:
      - {name: client, namespace: app}
  - name: west
    services:
      - {name: api, namespace: app}
    objects:
      - ${GATEWAY}
links:
  - {from: east, to: west}
faults:
  - {at: 1s, until: 2s, ${fault}}
`;

describe("scenarioFindings: faults aimed at the multicluster gateway", () => {
  it("a degrade selecting the gateway Deployment is listed: the simulated gateway is a pod of its own", () => {
    const f = scenarioFindings(load(twoClusters("degrade: {select: {cluster: west, namespace: linkerd-multicluster, deployment: linkerd-gateway}, latencyFactor: 4}")));
    expect(f.notSimulated.entries.map((e) => [e.field, e.count, e.objects])).toEqual([
      ["fault degrade on the multicluster gateway", 1, ["faults[0] (degrade Deployment linkerd-multicluster/linkerd-gateway)"]],
    ]);
    expect(f.notSimulated.entries[0]?.consequence).toMatch(/^the multicluster gateway is a pod meshsim models on its own, not this workload: .* use a latency or partition fault between the clusters, or clusterLoss$/);
  });

  it("any pod fault naming it by namespace alone counts too", () => {
    const f = scenarioFindings(load(twoClusters("killPods: {select: {namespace: linkerd-multicluster}}")));
    expect(f.notSimulated.entries.map((e) => e.field)).toEqual(["fault killPods on the multicluster gateway"]);
  });

  it("a fault on an application workload, or on every workload, is not listed", () => {
    expect(scenarioFindings(load(twoClusters("degrade: {select: {deployment: api}, errorRate: 0.5}"))).notSimulated.entries).toEqual([]);
    expect(scenarioFindings(load(twoClusters("degrade: {select: {}, errorRate: 0.5}"))).notSimulated.entries).toEqual([]);
  });
});

describe("scenarioDiagnostics", () => {
  const noted = `name: n
seed: 1
duration: 10s
clusters:
  - name: c
    services:
      - {name: api, namespace: app}
    objects:
      - {apiVersion: linkerd.io/v1alpha2, kind: ServiceProfile, metadata: {name: api.app.svc.cluster.local, namespace: app}, spec: {retryBudget: {retryRatio: 0.3, minRetriesPerSecond: 10, ttl: 10s}, routes: [{name: all, condition: {method: POST, pathRegex: /.*}, isRetryable: true}]}}
`;

  it("names each diagnostic's cluster and keeps only errors and warnings by default", () => {
    const diags = scenarioDiagnostics(load(noted));
    expect(diags.map((d) => [d.severity, d.code, d.cluster])).toEqual([["warning", "retry-non-idempotent", "c"]]);
  });

  it("keeps the notes `check` gives unasked with `some`, and every note with `all`", () => {
    const some = scenarioDiagnostics(load(noted), { notes: "some" }).map((d) => d.code);
    expect(some).toContain("retry-budget-ratio-truncated");
    expect(scenarioDiagnostics(load(noted), { notes: "all" }).length).toBeGreaterThanOrEqual(some.length);
  });

  it("findingsJson: diagnostics, notSimulated entries and inert kinds, as `run --json` prints them", () => {
    const f = scenarioFindings(load(noted.replace("    objects:\n", "    objects:\n      - {apiVersion: v1, kind: ConfigMap, metadata: {name: cfg, namespace: app}}\n")));
    const json = findingsJson(f);
    expect(Object.keys(json)).toEqual(["diagnostics", "notSimulated", "ignoredKinds"]);
    expect(json.notSimulated).toEqual([]);
    expect(json.ignoredKinds).toEqual([{ kind: "ConfigMap", count: 1, objects: ["ConfigMap app/cfg"] }]);
  });
});
