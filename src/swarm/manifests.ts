// The Kubernetes objects of a swarm case's workloads, written inline as `kubectl apply` would take
// them: Namespaces, Deployments or StatefulSets (meshed by a Namespace annotation, the pod template,
// the cluster's `inject: true`, or `linkerd inject --manual` output), Services (exported to linked
// clusters by label), and the clients. Services in the `services:` shorthand are written there.

import type { ClientPlan, ClusterPlan, ServicePlan } from "./topology.js";

type Obj = Record<string, unknown>;

const INJECT = "linkerd.io/inject";

function proxyContainer(): Obj {
  return {
    name: "linkerd-proxy",
    image: "cr.l5d.io/linkerd/proxy:edge-24.8.2",
    ports: [{ name: "linkerd-proxy", containerPort: 4143 }, { name: "linkerd-admin", containerPort: 4191 }],
  };
}

interface WorkloadShape {
  kind: string;
  name: string;
  namespace: string;
  replicas: number;
  meshed: boolean;
  port?: number;
  probePeriodS?: number;
}

function workload(w: WorkloadShape, inject: ClusterPlan["inject"]): Obj {
  const container: Obj = { name: w.name, image: `registry.example.com/shop/${w.name}:1.0.0` };
  if (w.port !== undefined) container["ports"] = [{ name: "http", containerPort: w.port }];
  if (w.probePeriodS !== undefined && w.port !== undefined) {
    container["readinessProbe"] = { httpGet: { path: "/ready", port: w.port }, periodSeconds: w.probePeriodS, timeoutSeconds: 1, failureThreshold: w.probePeriodS > 2 ? 1 : 2 };
  }
  const annotations: Obj = {};
  if (!w.meshed && inject !== "manual") annotations[INJECT] = "disabled";
  if (w.meshed && inject === "template") annotations[INJECT] = "enabled";
  const containers = w.meshed && inject === "manual" ? [proxyContainer(), container] : [container];
  const template: Obj = { metadata: { labels: { app: w.name }, ...(Object.keys(annotations).length > 0 ? { annotations } : {}) }, spec: { containers } };
  const spec: Obj = { replicas: w.replicas, selector: { matchLabels: { app: w.name } }, template };
  if (w.kind === "StatefulSet") spec["serviceName"] = w.name;
  return { apiVersion: "apps/v1", kind: w.kind, metadata: { name: w.name, namespace: w.namespace, labels: { app: w.name } }, spec };
}

function service(s: ServicePlan): Obj {
  const port: Obj = { name: s.grpc ? "grpc" : "http", port: s.port, targetPort: s.port };
  const labels: Obj = { app: s.name };
  if (s.exported !== undefined) labels["mirror.linkerd.io/exported"] = s.exported;
  return { apiVersion: "v1", kind: "Service", metadata: { name: s.name, namespace: s.namespace, labels }, spec: { selector: { app: s.name }, ports: [port] } };
}

/** Namespaces this cluster's objects use, in first-use order. */
function namespacesOf(cluster: ClusterPlan): string[] {
  const names = cluster.services.map((s) => s.namespace);
  if (cluster.client !== undefined) names.push(cluster.client.namespace);
  return [...new Set(names)];
}

function clientWorkload(c: ClientPlan, inject: ClusterPlan["inject"]): Obj {
  return workload({ kind: "Deployment", name: c.deployment, namespace: c.namespace, replicas: c.replicas, meshed: c.meshed }, inject);
}

/** The cluster's entry of `clusters:` without its policy objects: objects, shorthand services, `inject`. */
export function clusterWorkloads(cluster: ClusterPlan): { objects: Obj[]; services: Obj[]; inject: boolean } {
  const objects: Obj[] = namespacesOf(cluster).map((ns) => ({
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: ns, ...(cluster.inject === "namespace" ? { annotations: { [INJECT]: "enabled" } } : {}) },
  }));
  const shorthand: Obj[] = [];
  for (const s of cluster.services) {
    if (s.shorthand) {
      const entry: Obj = { name: s.name, namespace: s.namespace, replicas: s.replicas, meshed: s.meshed, port: s.port };
      if (s.probePeriodS !== undefined) entry["readinessProbe"] = { httpGet: { path: "/ready", port: s.port }, periodSeconds: s.probePeriodS };
      shorthand.push(entry);
      continue;
    }
    const shape: WorkloadShape = { kind: s.kind, name: s.name, namespace: s.namespace, replicas: s.replicas, meshed: s.meshed, port: s.port };
    if (s.probePeriodS !== undefined) shape.probePeriodS = s.probePeriodS;
    objects.push(workload(shape, cluster.inject), service(s));
  }
  if (cluster.client !== undefined) objects.push(clientWorkload(cluster.client, cluster.inject));
  return { objects, services: shorthand, inject: cluster.inject === "cluster" };
}
