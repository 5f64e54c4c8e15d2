// Manifests in the shapes operators have them (test/fixtures/real-shapes/): files with no
// namespace, StatefulSets, DaemonSets, bare Pods, `linkerd inject --manual` output, profiles in
// the client's namespace, a Namespace defined twice. Each scenario's `expect:` block states the
// correct outcome, derived in its comments; the tests here add what a block cannot say.

import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { applyManifestSet, injected, lastDefinitions } from "../src/k8s/apply.js";
import { parseManifests } from "../src/k8s/load.js";
import type { K8sObject } from "../src/k8s/object.js";
import { deploymentView, meshedDecision } from "../src/k8s/views.js";
import { runWorldSpec, type ScenarioRun } from "../src/scenario/run.js";
import { loadSpec } from "./scenario-suite.js";

const CASES = ["smi-split-no-namespace", "failover-chart", "statefulset", "daemonset", "manual-inject", "client-namespace-profile", "namespace-override", "kubectl-get-all"];

const runs = new Map<string, ScenarioRun>();
function run(name: string): ScenarioRun {
  let r = runs.get(name);
  if (r === undefined) {
    r = runWorldSpec(loadSpec(join("test/fixtures/real-shapes", name, "scenario.yaml")));
    runs.set(name, r);
  }
  return r;
}

describe("real manifest shapes", () => {
  it.each(CASES)("%s meets every expectation", (name) => {
    const r = run(name);
    const failed = r.expectations.filter((e) => !e.pass).map((e) => `${e.name}: measured ${e.measured}, expected ${e.expected}`);
    expect(failed).toEqual([]);
    expect(r.world.invariantViolations).toEqual([]);
  });

  it("a namespace-less TrafficSplit lands in default beside its Services", () => {
    const split = run("smi-split-no-namespace").spec.clusters[0]?.objects.find((o) => o.kind === "TrafficSplit");
    expect(split?.metadata.namespace).toBe("default");
    expect((split?.raw["metadata"] as Record<string, unknown>)["namespace"]).toBe("default");
  });

  it("a bare Pod is a client workload of one pod, named as written", () => {
    expect(run("smi-split-no-namespace").world.workloads.get("test/default/slow-cooker")).toEqual({ meshed: 1, running: 1 });
  });

  it("the failover operator patches nothing while the primary is ready", () => {
    const updates = run("failover-chart").world.splitUpdates;
    expect(updates.every((u) => u.atUs >= 60_000_000)).toBe(true);
    expect(updates[0]?.weights).toEqual([
      { service: "podinfo-west", weight: 0 },
      { service: "podinfo-central", weight: 1 },
      { service: "podinfo-east", weight: 1 },
    ]);
  });

  it("StatefulSets run their replicas", () => {
    const w = run("statefulset").world.workloads;
    expect(w.get("demo/emojivoto/web")).toEqual({ meshed: 2, running: 2 });
    expect(w.get("demo/emojivoto/emoji")).toEqual({ meshed: 1, running: 1 });
  });

  it("a DaemonSet runs one pod per node", () => {
    expect(run("daemonset").world.workloads.get("ops/monitoring/node-agent")).toEqual({ meshed: 3, running: 3 });
  });

  it("a pod template carrying linkerd-proxy is meshed without any inject annotation, and its calls are mTLS", () => {
    const r = run("manual-inject");
    expect(r.world.workloads.get("books/booksapp/books")).toEqual({ meshed: 1, running: 1 });
    expect(r.world.edges.map((e) => [e.client, e.server, e.secured])).toEqual([["books/booksapp/webapp", "books/booksapp/books", "√"]]);
  });

  it("Pods owned by a Deployment's ReplicaSet are its pods, not workloads of their own", () => {
    const w = run("kubectl-get-all").world.workloads;
    expect([...w.keys()].sort()).toEqual(["dump/podinfo/curl", "dump/podinfo/podinfo"]);
    expect(w.get("dump/podinfo/podinfo")).toEqual({ meshed: 2, running: 2 });
  });

  it("a later Namespace definition replaces the earlier one, so its inject annotation meshes the pods", () => {
    const r = run("namespace-override");
    expect(r.world.workloads.get("store/shop/storefront")).toEqual({ meshed: 1, running: 1 });
    expect(r.world.edges.map((e) => e.secured)).toEqual(["√"]);
  });
});

function objects(yaml: string): K8sObject[] {
  const parsed = parseManifests(yaml, "m.yaml");
  expect(parsed.errors).toEqual([]);
  return parsed.objects;
}

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: w}]}
`;

describe("applying a manifest set", () => {
  it("writes `-n` into objects that name no namespace, in metadata and raw alike", () => {
    const [o] = applyManifestSet(objects(DEPLOYMENT), { namespace: "shop" }).objects;
    expect(o?.metadata.namespace).toBe("shop");
    expect((o?.raw["metadata"] as Record<string, unknown>)["namespace"]).toBe("shop");
  });

  it("defaults to `default` without `-n`, and leaves cluster-scoped kinds alone", () => {
    const applied = applyManifestSet(objects(`${DEPLOYMENT}---\napiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n`), {}).objects;
    expect(applied.map((o) => o.metadata.namespace)).toEqual(["default", undefined]);
  });

  it("refuses an object whose namespace differs from `-n`, as kubectl does", () => {
    const r = applyManifestSet(objects("apiVersion: v1\nkind: Service\nmetadata: {name: a, namespace: other}\n"), { namespace: "shop" });
    expect(r.objects).toEqual([]);
    expect(r.errors).toMatchObject([{ file: "m.yaml", line: 3, path: "metadata.namespace" }]);
    expect(r.errors[0]?.message).toContain("the namespace from the provided object does not match");
  });

  it("`linkerd inject` enables injection on pod templates and bare Pods", () => {
    const [d, p] = applyManifestSet(objects(`${DEPLOYMENT}---\napiVersion: v1\nkind: Pod\nmetadata: {name: curl}\nspec: {containers: [{name: c, image: c}]}\n`), { inject: true }).objects;
    expect(deploymentView(d as K8sObject).value.inject).toBe("enabled");
    expect(meshedDecision(deploymentView(p as K8sObject).value, undefined).meshed).toBe(true);
  });

  it("`linkerd inject` skips a template that says disabled, as the CLI does", () => {
    const [d] = objects(DEPLOYMENT.replace("metadata: {labels: {app: web}}", "metadata: {labels: {app: web}, annotations: {linkerd.io/inject: disabled}}"));
    expect(deploymentView(injected(d as K8sObject)).value.inject).toBe("disabled");
  });

  it("keeps each object's last definition at its first place", () => {
    const all = objects("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: b}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: a, labels: {second: 'yes'}}\n");
    const last = lastDefinitions(all);
    expect(last.map((o) => [o.metadata.name, o.metadata.labels["second"]])).toEqual([["a", "yes"], ["b", undefined]]);
  });
});
