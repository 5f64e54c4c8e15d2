// Draws for the Kubernetes objects of a scenario: edits by path inside an object (Linkerd's
// annotations, TrafficSplit weights, replicas, ServiceProfile routes and budgets, HTTPRoute and
// GRPCRoute matches, timeouts and backends, ports, probes, selectors) and whole new objects.

import fc from "fast-check";
import type { Doc } from "./corpus.js";
import { idx, METHODS } from "./draw-sections.js";
import type { Seg } from "./mutations.js";
import { ANNOTATION_KEYS, ANNOTATION_VALUES, anyValue, DURATIONS, NUMBERS, NUMERIC_STRINGS, nameRef, REGEXES, STRINGS, URLS } from "./values.js";

/** Edits inside one Kubernetes object, by path relative to it. */
export const objectEdit: fc.Arbitrary<{ path: Seg[]; value: unknown }> = fc.oneof(
  fc.record({ path: fc.constantFrom(...ANNOTATION_KEYS).map((k): Seg[] => ["metadata", "annotations", k]), value: fc.constantFrom<unknown>(...ANNOTATION_VALUES, 5, null) }),
  fc.record({ path: fc.constantFrom(...ANNOTATION_KEYS).map((k): Seg[] => ["spec", "template", "metadata", "annotations", k]), value: fc.constantFrom(...ANNOTATION_VALUES) }),
  fc.record({ path: fc.constant<Seg[]>(["spec", "replicas"]), value: fc.oneof(fc.constantFrom(...NUMBERS), fc.constantFrom(...NUMERIC_STRINGS)) }),
  fc.record({ path: idx.map((n): Seg[] => ["spec", "backends", n, "weight"]), value: fc.oneof(fc.constantFrom(...NUMBERS), fc.constantFrom(...NUMERIC_STRINGS)) }),
  fc.record({ path: idx.map((n): Seg[] => ["spec", "backends", n, "service"]), value: fc.oneof(nameRef("service"), fc.constantFrom(...STRINGS)) }),
  fc.record({ path: fc.constant<Seg[]>(["spec", "service"]), value: fc.oneof(nameRef("service"), fc.constantFrom(...STRINGS)) }),
  fc.record({ path: idx.map((n): Seg[] => ["spec", "routes", n, "condition", "pathRegex"]), value: fc.constantFrom(...REGEXES) }),
  fc.record({ path: idx.map((n): Seg[] => ["spec", "routes", n, "condition", "method"]), value: fc.constantFrom(...METHODS) }),
  fc.record({
    path: idx.map((n): Seg[] => ["spec", "routes", n, "condition"]),
    value: fc.constantFrom<unknown>({ all: [{ method: "GET" }, { not: { pathRegex: "/x" } }] }, { any: [] }, { not: {} }, {}, { pathRegex: "/api", method: "GET", bogus: 1 }),
  }),
  fc.record({ path: idx.map((n): Seg[] => ["spec", "routes", n, "timeout"]), value: fc.constantFrom(...DURATIONS) }),
  fc.record({ path: idx.map((n): Seg[] => ["spec", "routes", n, "isRetryable"]), value: fc.constantFrom<unknown>(true, false, "true", 1, null) }),
  fc.record({
    path: idx.map((n): Seg[] => ["spec", "routes", n, "responseClasses"]),
    value: fc.array(
      fc.record({
        condition: fc.record({ status: fc.record({ min: fc.constantFrom(...NUMBERS), max: fc.constantFrom(...NUMBERS) }, { requiredKeys: [] }) }),
        isFailure: fc.constantFrom<unknown>(true, false, "no"),
      }),
      { maxLength: 2 },
    ),
  }),
  fc.record({
    path: fc.constant<Seg[]>(["spec", "retryBudget"]),
    value: fc.record(
      { retryRatio: fc.constantFrom(...NUMBERS), minRetriesPerSecond: fc.constantFrom(...NUMBERS), ttl: fc.constantFrom(...DURATIONS) },
      { requiredKeys: [] },
    ),
  }),
  fc.record({ path: fc.constantFrom<Seg[]>(["spec", "retryBudget", "retryRatio"], ["spec", "retryBudget", "minRetriesPerSecond"]), value: fc.constantFrom(...NUMBERS) }),
  fc.record({ path: fc.constant<Seg[]>(["spec", "retryBudget", "ttl"]), value: fc.constantFrom(...DURATIONS) }),
  fc.record({
    path: idx.map((n): Seg[] => ["spec", "dstOverrides", n]),
    value: fc.record({ authority: fc.oneof(nameRef("service"), fc.constantFrom(...URLS)), weight: fc.oneof(fc.constantFrom(...NUMBERS), fc.constantFrom(...NUMERIC_STRINGS)) }, { requiredKeys: [] }),
  }),
  fc.record({
    path: fc.tuple(idx, idx).map(([r, m]): Seg[] => ["spec", "rules", r, "matches", m, "path"]),
    value: fc.record({ type: fc.constantFrom("RegularExpression", "PathPrefix", "Exact", "Regex", ""), value: fc.constantFrom(...REGEXES) }, { requiredKeys: [] }),
  }),
  fc.record({
    path: fc.tuple(idx, idx, fc.constantFrom("headers", "queryParams")).map(([r, m, f]): Seg[] => ["spec", "rules", r, "matches", m, f]),
    value: fc.array(
      fc.record({ type: fc.constantFrom("RegularExpression", "Exact", "Prefix"), name: fc.constantFrom("x-canary", "", "X-Canary", "variant", ":path"), value: fc.constantFrom(...REGEXES) }, { requiredKeys: ["name"] }),
      { maxLength: 2 },
    ),
  }),
  fc.record({
    path: fc.tuple(idx, idx).map(([r, m]): Seg[] => ["spec", "rules", r, "matches", m, "method"]),
    value: fc.oneof(fc.constantFrom(...METHODS), fc.record({ service: fc.constantFrom("store.v1.Inventory", "", "*"), method: fc.constantFrom("Get", "", "*"), type: fc.constantFrom("Exact", "RegularExpression") }, { requiredKeys: [] })),
  }),
  fc.record({
    path: idx.map((n): Seg[] => ["spec", "rules", n, "timeouts"]),
    value: fc.record({ request: fc.constantFrom(...DURATIONS), backendRequest: fc.constantFrom(...DURATIONS) }, { requiredKeys: [] }),
  }),
  fc.record({
    path: fc.tuple(idx, idx, fc.constantFrom("weight", "port", "name", "kind", "group")).map(([r, b, f]): Seg[] => ["spec", "rules", r, "backendRefs", b, f]),
    value: fc.oneof(fc.constantFrom(...NUMBERS), nameRef("service"), fc.constantFrom(...STRINGS)),
  }),
  fc.record({
    path: fc.tuple(idx, fc.constantFrom("port", "name", "kind", "group", "sectionName")).map(([n, f]): Seg[] => ["spec", "parentRefs", n, f]),
    value: fc.oneof(fc.constantFrom(...NUMBERS), nameRef("service"), fc.constantFrom(...STRINGS)),
  }),
  fc.record({
    path: fc.tuple(idx, fc.constantFrom("port", "targetPort", "appProtocol", "name", "protocol")).map(([n, f]): Seg[] => ["spec", "ports", n, f]),
    value: fc.oneof(fc.constantFrom(...NUMBERS), fc.constantFrom<unknown>("grpc", "kubernetes.io/h2c", "http", "grpc-web", "UDP")),
  }),
  fc.record({
    path: fc.constant<Seg[]>(["spec", "template", "spec", "containers", 0, "readinessProbe"]),
    value: fc.record(
      {
        periodSeconds: fc.constantFrom(...NUMBERS),
        failureThreshold: fc.constantFrom(...NUMBERS),
        successThreshold: fc.constantFrom(...NUMBERS),
        timeoutSeconds: fc.constantFrom(...NUMBERS),
        initialDelaySeconds: fc.constantFrom(...NUMBERS),
        httpGet: fc.constantFrom<unknown>({ path: "/ready", port: 8080 }, { port: "http" }, {}, null),
      },
      { requiredKeys: [] },
    ),
  }),
  fc.record({ path: fc.constantFrom<Seg[]>(["spec", "selector"], ["spec", "template", "metadata", "labels"], ["spec", "selector", "matchLabels"]), value: fc.constantFrom<unknown>({}, null, { app: "other" }, { app: 5 }, "app=web", []) }),
  fc.record({ path: fc.constantFrom<Seg[]>(["metadata", "name"], ["metadata", "namespace"]), value: fc.oneof(fc.constantFrom(...STRINGS), nameRef("deployment")) }),
  fc.record({
    path: fc.constantFrom<Seg[]>(["kind"], ["apiVersion"]),
    value: fc.constantFrom<unknown>("Deployment", "Service", "ServiceProfile", "HTTPRoute", "GRPCRoute", "TrafficSplit", "Link", "Pod", "DaemonSet", "StatefulSet", "v1", "apps/v1", "linkerd.io/v1alpha1", "policy.linkerd.io/v1beta3", "", 5),
  }),
  fc.record({
    path: fc.constantFrom<Seg[]>(["metadata", "labels", "failover.linkerd.io/controlled-by"], ["metadata", "labels", "mirror.linkerd.io/exported"], ["metadata", "labels", "app"]),
    value: fc.constantFrom<unknown>("linkerd-failover", "true", "remote-discovery", "", 1),
  }),
  fc.record({ path: fc.constantFrom<Seg[]>(["status"], ["spec"], ["metadata"], ["spec", "template"]), value: anyValue }),
);

/** A whole Kubernetes object of a kind Linkerd reads, with odd values in it. */
export const kubeObject: fc.Arbitrary<Doc> = fc.oneof(
  fc.record({
    apiVersion: fc.constant("linkerd.io/v1alpha2"),
    kind: fc.constant("ServiceProfile"),
    metadata: fc.record({ name: fc.constantFrom("web.shop.svc.cluster.local", "auth.payments.svc.cluster.local", "x", ""), namespace: nameRef("namespace") }),
    spec: fc.record({
      routes: fc.array(fc.record({ name: fc.constantFrom("r", "", "GET /"), condition: fc.record({ method: fc.constantFrom(...METHODS), pathRegex: fc.constantFrom(...REGEXES) }), isRetryable: fc.boolean(), timeout: fc.constantFrom(...DURATIONS) }, { requiredKeys: ["condition"] }), { maxLength: 3 }),
      retryBudget: fc.record({ retryRatio: fc.constantFrom(...NUMBERS), minRetriesPerSecond: fc.constantFrom(...NUMBERS), ttl: fc.constantFrom(...DURATIONS) }),
    }, { requiredKeys: [] }),
  }),
  fc.record({
    apiVersion: fc.constantFrom("gateway.networking.k8s.io/v1", "policy.linkerd.io/v1beta3", "gateway.networking.k8s.io/v1beta1"),
    kind: fc.constantFrom("HTTPRoute", "GRPCRoute"),
    metadata: fc.record({ name: fc.constantFrom("fuzz-route", ""), namespace: nameRef("namespace"), annotations: fc.dictionary(fc.constantFrom(...ANNOTATION_KEYS), fc.constantFrom(...ANNOTATION_VALUES), { maxKeys: 3 }) }),
    spec: fc.record({
      parentRefs: fc.array(fc.record({ name: nameRef("service"), kind: fc.constantFrom("Service", "Gateway"), group: fc.constantFrom("core", ""), port: fc.constantFrom(...NUMBERS) }, { requiredKeys: ["name"] }), { maxLength: 2 }),
      rules: fc.array(fc.record({
        matches: fc.array(fc.record({ path: fc.record({ type: fc.constantFrom("RegularExpression", "PathPrefix", "Exact"), value: fc.constantFrom(...REGEXES) }) }), { maxLength: 2 }),
        backendRefs: fc.array(fc.record({ name: nameRef("service"), port: fc.constantFrom(...NUMBERS), weight: fc.constantFrom(...NUMBERS) }, { requiredKeys: ["name"] }), { maxLength: 2 }),
        timeouts: fc.record({ request: fc.constantFrom(...DURATIONS), backendRequest: fc.constantFrom(...DURATIONS) }, { requiredKeys: [] }),
      }, { requiredKeys: [] }), { maxLength: 2 }),
    }, { requiredKeys: [] }),
  }),
  fc.record({
    apiVersion: fc.constant("split.smi-spec.io/v1alpha2"),
    kind: fc.constant("TrafficSplit"),
    metadata: fc.record({
      name: fc.constantFrom("fuzz-split", "auth"),
      namespace: nameRef("namespace"),
      labels: fc.constantFrom<unknown>({}, { "failover.linkerd.io/controlled-by": "linkerd-failover" }),
      annotations: fc.constantFrom<unknown>({}, { "failover.linkerd.io/primary-service": "auth" }),
    }),
    spec: fc.record({
      service: nameRef("service"),
      backends: fc.array(fc.record({ service: nameRef("service"), weight: fc.oneof(fc.constantFrom(...NUMBERS), fc.constantFrom(...NUMERIC_STRINGS)) }), { maxLength: 3 }),
    }),
  }),
  fc.record({
    apiVersion: fc.constant("apps/v1"),
    kind: fc.constantFrom("Deployment", "StatefulSet", "DaemonSet"),
    metadata: fc.record({ name: fc.constantFrom("fuzz", "web", "a".repeat(64)), namespace: nameRef("namespace") }),
    spec: fc.record({
      replicas: fc.constantFrom(...NUMBERS),
      selector: fc.constant({ matchLabels: { app: "fuzz" } }),
      template: fc.record({
        metadata: fc.constant({ labels: { app: "fuzz" }, annotations: { "linkerd.io/inject": "enabled" } }),
        spec: fc.constant({ containers: [{ name: "c", image: "i" }] }),
      }),
    }, { requiredKeys: [] }),
  }),
  fc.record({
    apiVersion: fc.constant("v1"),
    kind: fc.constantFrom("Service", "Namespace", "Pod", "ConfigMap", "Endpoints"),
    metadata: fc.record({ name: fc.constantFrom("fuzz", "web", "auth"), namespace: nameRef("namespace") }, { requiredKeys: ["name"] }),
    spec: fc.constantFrom<unknown>({ selector: { app: "fuzz" }, ports: [{ port: 80 }] }, { ports: [{ port: 0 }] }, {}, { containers: [] }),
  }, { requiredKeys: ["apiVersion", "kind", "metadata"] }),
  fc.record({
    apiVersion: fc.constant("multicluster.linkerd.io/v1alpha1"),
    kind: fc.constant("Link"),
    metadata: fc.record({ name: nameRef("cluster"), namespace: fc.constant("linkerd-multicluster") }),
    spec: fc.record({ targetClusterName: nameRef("cluster"), probeSpec: fc.record({ period: fc.constantFrom(...DURATIONS), path: fc.constant("/ready"), port: fc.constantFrom(...NUMBERS) }, { requiredKeys: [] }) }, { requiredKeys: [] }),
  }),
) as fc.Arbitrary<Doc>;
