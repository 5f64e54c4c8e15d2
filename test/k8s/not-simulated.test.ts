// Nothing is ignored silently: every object of a kind meshsim does not simulate, and every field it
// parses but the simulated traffic never exercises, is listed with what that means for the result;
// kinds with no bearing on traffic are only counted.

import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseManifests } from "../../src/k8s/load.js";
import { type NotSimulated, findNotSimulated, formatNotSimulated, summarizeNotSimulated } from "../../src/k8s/not-simulated.js";
import type { K8sObject } from "../../src/k8s/object.js";

const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), "..", "fixtures", "real-shapes", "unsupported-kinds", "manifests");

function load(text: string, file = "t.yaml"): K8sObject[] {
  const { objects, errors } = parseManifests(text, file);
  expect(errors).toEqual([]);
  return objects;
}
const summarize = (objects: readonly K8sObject[]): NotSimulated => summarizeNotSimulated(findNotSimulated(objects));
const docs = (...parts: string[]): string => parts.join("\n---\n");
const entry = (ns: NotSimulated, label: string) => ns.entries.find((e) => (e.kind ?? e.field) === label);

const fixture = readdirSync(FIXTURE).sort().flatMap((f) => load(readFileSync(join(FIXTURE, f), "utf8"), f));

describe("kinds meshsim does not simulate (real shapes: Linkerd 2.16 authorization, HPA, Ingress, Flagger, Job)", () => {
  const ns = summarize(fixture);

  it("lists each kind once with its count and objects, kinds by name, then fields", () => {
    expect(ns.entries.map((e) => [e.kind ?? e.field, e.count, e.objects])).toEqual([
      ["AuthorizationPolicy", 1, ["AuthorizationPolicy emojivoto/web-http-authn"]],
      ["HorizontalPodAutoscaler", 1, ["HorizontalPodAutoscaler emojivoto/web"]],
      ["Ingress", 1, ["Ingress emojivoto/web-ingress"]],
      ["Job", 1, ["Job emojivoto/seed-votes"]],
      ["MeshTLSAuthentication", 1, ["MeshTLSAuthentication emojivoto/web-clients"]],
      ["Server", 1, ["Server emojivoto/web-http"]],
      ["annotation config.linkerd.io/proxy-cpu-limit", 1, ["Deployment emojivoto/web"]],
    ]);
  });

  it.each([
    ["Server", /^authorization is not simulated: .*a default-deny Server would make these requests fail with 403/],
    ["AuthorizationPolicy", /^authorization is not simulated: in the cluster, clients it does not allow are refused \(HTTP 403/],
    ["MeshTLSAuthentication", /^authentication is not simulated: identities it does not list are refused \(HTTP 403\)/],
    ["HorizontalPodAutoscaler", /^autoscaling is not simulated: the workload keeps its replica count/],
    ["Ingress", /^ingress controllers are not simulated: traffic enters only where the scenario's traffic entries send it/],
    ["Job", /^batch jobs are not simulated: these pods neither run nor send traffic here/],
    ["annotation config.linkerd.io/proxy-cpu-limit", /^proxy resources are not simulated: proxy latency comes from the scenario's mesh\.proxyLatency/],
  ])("%s: says what the cluster does that the simulation does not", (label, consequence) => {
    expect(entry(ns, label)?.consequence).toMatch(consequence);
  });

  it("counts inert kinds on their own, without a consequence", () => {
    expect(ns.ignored).toEqual([
      { kind: "ConfigMap", count: 1, objects: ["ConfigMap emojivoto/web-config"] },
      { kind: "ServiceAccount", count: 2, objects: ["ServiceAccount emojivoto/voting", "ServiceAccount emojivoto/web"] },
    ]);
  });

  it("says nothing about the kinds it simulates", () => {
    const simulated = load(docs(
      "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}",
      "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: a}\nspec: {selector: {matchLabels: {app: d}}, template: {metadata: {labels: {app: d}}}}",
      "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: s, namespace: a}",
      "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: ds, namespace: a}",
      "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: a}",
      "apiVersion: v1\nkind: Service\nmetadata: {name: d, namespace: a}\nspec: {selector: {app: d}, ports: [{port: 80}]}",
      "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r, namespace: a}\nspec: {parentRefs: [{name: d, kind: Service, group: core}]}",
      "apiVersion: policy.linkerd.io/v1beta3\nkind: HTTPRoute\nmetadata: {name: r, namespace: a}\nspec: {parentRefs: [{name: d, kind: Service, group: core}]}",
      "apiVersion: gateway.networking.k8s.io/v1\nkind: GRPCRoute\nmetadata: {name: g, namespace: a}\nspec: {parentRefs: [{name: d, kind: Service, group: core}]}",
      "apiVersion: linkerd.io/v1alpha2\nkind: ServiceProfile\nmetadata: {name: d.a.svc.cluster.local, namespace: a}\nspec: {routes: []}",
      "apiVersion: split.smi-spec.io/v1alpha2\nkind: TrafficSplit\nmetadata: {name: t, namespace: a}\nspec: {service: d, backends: [{service: d, weight: 1}]}",
      "apiVersion: multicluster.linkerd.io/v1alpha2\nkind: Link\nmetadata: {name: west, namespace: linkerd-multicluster}\nspec: {targetClusterName: west}",
    ));
    expect(summarize(simulated)).toEqual({ entries: [], ignored: [] });
    expect(formatNotSimulated(summarize(simulated))).toEqual([]);
  });

  it("gives a kind it does not know a generic consequence", () => {
    const ns2 = summarize(load("apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, namespace: a}"));
    expect(ns2.entries).toEqual([
      { kind: "Widget", count: 1, objects: ["Widget a/w"], consequence: "meshsim does not know this kind: whatever a controller or webhook does with it in the cluster is not part of this result" },
    ]);
  });

  it.each([
    ["NetworkPolicy", "networking.k8s.io/v1", /^network policies are not simulated: every pod reaches every other here/],
    ["PodDisruptionBudget", "policy/v1", /^evictions are not simulated/],
    ["CronJob", "batch/v1", /^scheduled jobs are not simulated/],
    ["PersistentVolumeClaim", "v1", /^storage is not simulated/],
    ["MetricTemplate", "flagger.app/v1beta1", /^custom canary metrics are not evaluated: a Canary metric that uses this template counts as passing/],
    ["Rollout", "argoproj.io/v1alpha1", /^Argo Rollouts are not simulated: this Rollout's pods do not run here/],
    ["ServerAuthorization", "policy.linkerd.io/v1beta1", /^authorization is not simulated/],
    ["NetworkAuthentication", "policy.linkerd.io/v1alpha1", /^authentication is not simulated: clients outside these networks/],
    ["HTTPLocalRateLimitPolicy", "policy.linkerd.io/v1alpha1", /^rate limiting is not simulated: requests over its limits, which Linkerd answers with 429/],
    ["ExternalWorkload", "workload.linkerd.io/v1beta1", /^workloads outside Kubernetes are not simulated/],
    ["EgressNetwork", "policy.linkerd.io/v1alpha1", /^egress is not simulated/],
    ["Gateway", "gateway.networking.k8s.io/v1", /^ingress gateways are not simulated/],
  ])("%s has its own consequence", (kind, apiVersion, consequence) => {
    const ns2 = summarize(load(`apiVersion: ${apiVersion}\nkind: ${kind}\nmetadata: {name: x, namespace: a}`));
    expect(ns2.entries).toHaveLength(1);
    expect(ns2.entries[0]?.consequence).toMatch(consequence);
  });

  it("treats a Deployment's ReplicaSet and a selector Service's Endpoints as derived state, but not hand-written ones", () => {
    const objects = load(docs(
      "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: a}\nspec: {selector: {app: web}, ports: [{port: 80}]}",
      "apiVersion: v1\nkind: Service\nmetadata: {name: db, namespace: a}\nspec: {ports: [{port: 5432}]}",
      "apiVersion: v1\nkind: Endpoints\nmetadata: {name: web, namespace: a}",
      "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: web-abcde, namespace: a, labels: {kubernetes.io/service-name: web}}",
      "apiVersion: v1\nkind: Endpoints\nmetadata: {name: db, namespace: a}\nsubsets: [{addresses: [{ip: 10.0.0.9}]}]",
      "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: web-7d9f, namespace: a, ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web}]}",
      "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: legacy, namespace: a}",
    ));
    const ns2 = summarize(objects);
    expect(ns2.ignored).toEqual([
      { kind: "EndpointSlice", count: 1, objects: ["EndpointSlice a/web-abcde"] },
      { kind: "Endpoints", count: 1, objects: ["Endpoints a/web"] },
      { kind: "ReplicaSet", count: 1, objects: ["ReplicaSet a/web-7d9f"] },
    ]);
    expect(ns2.entries.map((e) => [e.kind, e.objects])).toEqual([["Endpoints", ["Endpoints a/db"]], ["ReplicaSet", ["ReplicaSet a/legacy"]]]);
    expect(entry(ns2, "Endpoints")?.consequence).toMatch(/a Service without a selector has no endpoints here/);
  });

  it("counts an object defined twice once, as the cluster holds it once", () => {
    const hpa = "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: web, namespace: a}";
    expect(entry(summarize(load(docs(hpa, hpa))), "HorizontalPodAutoscaler")?.count).toBe(1);
  });

  it("names the cluster of each object in a scenario with several", () => {
    const hits = findNotSimulated(load("apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: web, namespace: a}"), { cluster: "east" });
    expect(hits.map((h) => h.object)).toEqual(["[east] HorizontalPodAutoscaler a/web"]);
  });
});

describe("fields parsed but never exercised", () => {
  const route = (spec: string, kind = "HTTPRoute", apiVersion = "gateway.networking.k8s.io/v1"): string =>
    `apiVersion: ${apiVersion}\nkind: ${kind}\nmetadata: {name: r, namespace: a}\nspec:\n${spec}`;
  const fields = (text: string): Array<[string | undefined, string[]]> => summarize(load(text)).entries.map((e) => [e.field, e.objects]);

  it("header and query-parameter matches, when no simulated request carries headers or a query string", () => {
    const ns = summarize(load(route("  parentRefs: [{name: web, kind: Service, group: core}]\n  rules:\n    - matches: [{path: {type: PathPrefix, value: /}, headers: [{name: x-canary, value: \"true\"}], queryParams: [{name: debug, value: \"1\"}]}]\n")));
    expect(ns.entries.map((e) => e.field)).toEqual(["HTTPRoute matches[].headers", "HTTPRoute matches[].queryParams"]);
    expect(entry(ns, "HTTPRoute matches[].headers")?.consequence).toMatch(/^no simulated request carries headers \(give traffic `requests\[\]\.headers`.*\), so these matches never match here/);
    expect(entry(ns, "HTTPRoute matches[].queryParams")?.consequence).toMatch(/^no simulated request carries a query string/);
    expect(fields(route("  parentRefs: [{name: web, kind: Service, group: core}]\n  rules: [{matches: [{headers: [{name: x-user, value: a}]}]}]\n", "GRPCRoute"))).toEqual([["GRPCRoute matches[].headers", ["GRPCRoute a/r"]]]);
  });

  it("filters Linkerd applies are listed by type, on rules and on backendRefs", () => {
    const ns = summarize(load(route("  parentRefs: [{name: web, kind: Service, group: core}]\n  rules:\n    - filters: [{type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: x, value: y}]}}]\n      backendRefs: [{name: web, port: 80, filters: [{type: ResponseHeaderModifier, responseHeaderModifier: {remove: [x]}}]}]\n    - filters: [{type: RequestRedirect, requestRedirect: {hostname: example.com}}]\n")));
    expect(ns.entries.map((e) => e.field)).toEqual(["HTTPRoute filters: RequestHeaderModifier", "HTTPRoute filters: RequestRedirect", "HTTPRoute filters: ResponseHeaderModifier"]);
    expect(entry(ns, "HTTPRoute filters: RequestRedirect")?.consequence).toMatch(/^redirects are not simulated: Linkerd answers these requests itself with the redirect/);
    expect(entry(ns, "HTTPRoute filters: RequestHeaderModifier")?.consequence).toMatch(/^header filters are not applied/);
  });

  it("a filter type Linkerd refuses is left to `meshsim check`, which reports the rejected route", () => {
    expect(fields(route("  parentRefs: [{name: web, kind: Service, group: core}]\n  rules: [{filters: [{type: URLRewrite}]}]\n"))).toEqual([]);
  });

  it("parentRefs to a Server (inbound policy) or a Gateway (ingress)", () => {
    expect(fields(route("  parentRefs: [{name: web-http, kind: Server, group: policy.linkerd.io}]\n", "HTTPRoute", "policy.linkerd.io/v1beta3"))).toEqual([["HTTPRoute parentRefs: Server", ["HTTPRoute a/r"]]]);
    // A parentRef without kind is a Gateway, as the Gateway API defaults it.
    expect(fields(route("  parentRefs: [{name: public}]\n"))).toEqual([["HTTPRoute parentRefs: Gateway", ["HTTPRoute a/r"]]]);
  });

  it("retry.linkerd.io/grpc, when no simulated app answers with a gRPC error status", () => {
    const svc = "apiVersion: v1\nkind: Service\nmetadata: {name: voting, namespace: a, annotations: {retry.linkerd.io/grpc: unavailable}}\nspec: {selector: {app: voting}, ports: [{port: 8080}]}";
    const ns = summarize(load(svc));
    expect(ns.entries.map((e) => [e.field, e.objects])).toEqual([["annotation retry.linkerd.io/grpc", ["Service a/voting"]]]);
    expect(ns.entries[0]?.consequence).toMatch(/^no simulated app answers with a gRPC error status \(give a behaviour `errors: \{grpcStatus: \.\.\.\}`\), so these gRPC retry conditions never fire here/);
  });

  it("ServiceProfile opaquePorts", () => {
    const sp = "apiVersion: linkerd.io/v1alpha2\nkind: ServiceProfile\nmetadata: {name: db.a.svc.cluster.local, namespace: a}\nspec: {opaquePorts: {\"5432\": {}}}";
    expect(fields(sp)).toEqual([["ServiceProfile spec.opaquePorts", ["ServiceProfile a/db.a.svc.cluster.local"]]]);
  });

  it("Service traffic policies that depend on nodes, zones, client IPs or outside names; their defaults say nothing", () => {
    const svc = (name: string, spec: string, annotations = "{}") => `apiVersion: v1\nkind: Service\nmetadata: {name: ${name}, namespace: a, annotations: ${annotations}}\nspec: {${spec}}`;
    const text = docs(
      svc("sticky", "sessionAffinity: ClientIP, selector: {app: x}"),
      svc("lb", "type: LoadBalancer, externalTrafficPolicy: Local, selector: {app: x}"),
      svc("local", "internalTrafficPolicy: Local, selector: {app: x}"),
      svc("ext", "type: ExternalName, externalName: db.example.com"),
      svc("zonal", "selector: {app: x}", "{service.kubernetes.io/topology-mode: Auto}"),
      svc("plain", "sessionAffinity: None, externalTrafficPolicy: Cluster, internalTrafficPolicy: Cluster, selector: {app: x}", "{service.kubernetes.io/topology-mode: Disabled}"),
    );
    const ns = summarize(load(text));
    expect(ns.entries.map((e) => [e.field, e.objects])).toEqual([
      ["Service spec.externalTrafficPolicy: Local", ["Service a/lb"]],
      ["Service spec.internalTrafficPolicy: Local", ["Service a/local"]],
      ["Service spec.sessionAffinity: ClientIP", ["Service a/sticky"]],
      ["Service spec.type: ExternalName", ["Service a/ext"]],
      ["Service topology-aware routing", ["Service a/zonal"]],
    ]);
    expect(entry(ns, "Service spec.internalTrafficPolicy: Local")?.consequence).toMatch(/^nodes are not simulated/);
  });

  it("config.linkerd.io annotations where Linkerd reads them: pod templates, Pods, Namespaces, and opaque-ports on Services", () => {
    const text = docs(
      "apiVersion: v1\nkind: Namespace\nmetadata: {name: a, annotations: {config.linkerd.io/default-inbound-policy: deny}}",
      "apiVersion: v1\nkind: Namespace\nmetadata: {name: b, annotations: {config.linkerd.io/default-inbound-policy: all-unauthenticated}}",
      "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: a, annotations: {config.linkerd.io/proxy-log-level: debug}}\nspec: {template: {metadata: {annotations: {config.linkerd.io/skip-outbound-ports: \"3306\", config.alpha.linkerd.io/proxy-wait-before-exit-seconds: \"5\"}}}}",
      "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: a, annotations: {config.linkerd.io/opaque-ports: \"5432\"}}",
      "apiVersion: v1\nkind: Service\nmetadata: {name: db, namespace: a, annotations: {config.linkerd.io/opaque-ports: \"5432\", config.linkerd.io/proxy-log-level: debug}}\nspec: {selector: {app: db}, ports: [{port: 5432}]}",
    );
    const ns = summarize(load(text));
    expect(ns.entries.map((e) => [e.field, e.objects])).toEqual([
      ["annotation config.alpha.linkerd.io/proxy-wait-before-exit-seconds", ["Deployment a/web"]],
      ["annotation config.linkerd.io/default-inbound-policy", ["Namespace a"]],
      ["annotation config.linkerd.io/opaque-ports", ["Pod a/p", "Service a/db"]],
      ["annotation config.linkerd.io/skip-outbound-ports", ["Deployment a/web"]],
    ]);
    expect(entry(ns, "annotation config.linkerd.io/default-inbound-policy")?.consequence).toMatch(/^authorization is not simulated: with this default inbound policy the cluster refuses \(HTTP 403\)/);
    expect(entry(ns, "annotation config.linkerd.io/opaque-ports")?.consequence).toMatch(/^opaque ports are not simulated: Linkerd proxies these ports as plain TCP/);
    expect(entry(ns, "annotation config.linkerd.io/skip-outbound-ports")?.consequence).toMatch(/bypasses the proxy/);
    expect(entry(ns, "annotation config.alpha.linkerd.io/proxy-wait-before-exit-seconds")?.consequence).toBe("this proxy setting is not simulated: the simulated proxies behave the same with or without it");
  });
});

describe("formatNotSimulated", () => {
  const hpa = (name: string) => `apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: ${name}, namespace: a}`;
  const objects = load(docs(hpa("d"), hpa("c"), hpa("b"), hpa("a"), "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-a, namespace: a}", "apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: a}", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-b, namespace: a}"));
  const consequence = entry(summarize(objects), "HorizontalPodAutoscaler")?.consequence ?? "";

  it("one line per kind with its count and first three objects (sorted, without the repeated kind), then the inert kinds on one line", () => {
    expect(formatNotSimulated(summarize(objects))).toEqual([
      "not simulated (what these do in the cluster is not part of this result):",
      `  HorizontalPodAutoscaler ×4 (a/a, a/b, a/c, and 1 more): ${consequence}`,
      "also read and ignored, no effect on the simulated traffic: ConfigMap ×2, Secret ×1",
    ]);
  });

  it("verbose names every object", () => {
    expect(formatNotSimulated(summarize(objects), { verbose: true })[1]).toBe(`  HorizontalPodAutoscaler ×4 (a/a, a/b, a/c, a/d): ${consequence}`);
  });

  it("keeps the cluster of each object, and only the inert line when nothing else is left out", () => {
    const ns = summarizeNotSimulated(findNotSimulated(load(hpa("web")), { cluster: "east" }));
    expect(formatNotSimulated(ns)[1]).toBe(`  HorizontalPodAutoscaler ×1 ([east] a/web): ${consequence}`);
    expect(formatNotSimulated(summarize(load("apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: web, namespace: a}")))).toEqual([
      "also read and ignored, no effect on the simulated traffic: ServiceAccount ×1",
    ]);
  });
});
