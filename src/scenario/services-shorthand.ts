// The `services:` shorthand of a cluster, expanded into the real objects it stands for: a
// Namespace (unless a manifest already defines it), a Deployment labelled app=<name> with one
// container listening on `port`, and a Service selecting app=<name> on `port`. Injection is
// written where Linkerd reads it: the Namespace carries `linkerd.io/inject: enabled` when any
// shorthand service in it is meshed, and every pod template says enabled or disabled explicitly
// (a pod annotation wins over its namespace's), so services with different `meshed` may share one.
// Every generated field points back at the shorthand entry that produced it.

import type { K8sObject, SourcePosition } from "../k8s/object.js";
import type { ServiceShorthand } from "./schema.js";

/** The image written into generated pods; the simulator runs `behavior:` instead of images. */
export const SHORTHAND_IMAGE = "meshsim/app";
const INJECT = "linkerd.io/inject";

export interface ShorthandOptions {
  /** Namespaces already defined by the cluster's manifests or inline objects (not generated again). */
  namespacesDefined: ReadonlySet<string>;
  /** Where a field of shorthand entry `entry` was written (e.g. ["replicas"]); [] ⇒ the entry. */
  positionOf: (entry: number, field: ReadonlyArray<string | number>) => SourcePosition;
}

/** Namespaces first (in first-use order), then each service's Deployment and Service. */
export function expandServices(services: readonly ServiceShorthand[], opts: ShorthandOptions): K8sObject[] {
  const namespaces = new Map<string, { entry: number; meshed: boolean }>();
  services.forEach((s, entry) => {
    if (opts.namespacesDefined.has(s.namespace)) return;
    const seen = namespaces.get(s.namespace);
    namespaces.set(s.namespace, { entry: seen?.entry ?? entry, meshed: (seen?.meshed ?? false) || s.meshed });
  });
  const out: K8sObject[] = [];
  for (const [name, { entry, meshed }] of namespaces) {
    const annotations: Record<string, string> = meshed ? { [INJECT]: "enabled" } : {};
    const raw = { apiVersion: "v1", kind: "Namespace", metadata: { name, ...(meshed ? { annotations: { ...annotations } } : {}) } };
    out.push(generated(raw, { name, labels: {}, annotations }, (field) => opts.positionOf(entry, namespaceField(field))));
  }
  services.forEach((s, entry) => {
    const at = (field: ReadonlyArray<string | number>) => opts.positionOf(entry, shorthandField(field));
    out.push(generated(deploymentRaw(s), { name: s.name, namespace: s.namespace, labels: { app: s.name }, annotations: {} }, at));
    out.push(generated(serviceRaw(s), { name: s.name, namespace: s.namespace, labels: { app: s.name }, annotations: {} }, at));
  });
  return out;
}

function deploymentRaw(s: ServiceShorthand): Record<string, unknown> {
  const container: Record<string, unknown> = { name: "app", image: SHORTHAND_IMAGE, ports: [{ name: "http", containerPort: s.port }] };
  if (s.readinessProbe !== undefined) container["readinessProbe"] = structuredClone(s.readinessProbe);
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: s.name, namespace: s.namespace, labels: { app: s.name } },
    spec: {
      replicas: s.replicas,
      selector: { matchLabels: { app: s.name } },
      template: {
        metadata: { labels: { app: s.name }, annotations: { [INJECT]: s.meshed ? "enabled" : "disabled" } },
        spec: { containers: [container] },
      },
    },
  };
}

function serviceRaw(s: ServiceShorthand): Record<string, unknown> {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: s.name, namespace: s.namespace, labels: { app: s.name } },
    spec: { selector: { app: s.name }, ports: [{ name: "http", port: s.port, targetPort: s.port, protocol: "TCP" }] },
  };
}

function generated(
  raw: Record<string, unknown>,
  metadata: K8sObject["metadata"],
  positionOf: (path: ReadonlyArray<string | number>) => SourcePosition,
): K8sObject {
  return { apiVersion: raw["apiVersion"] as string, kind: raw["kind"] as string, metadata, raw, source: positionOf([]), positionOf };
}

function namespaceField(path: ReadonlyArray<string | number>): Array<string | number> {
  return path[0] === "metadata" && path[1] === "name" ? ["namespace"] : [];
}

/** Which shorthand key a field of a generated Deployment or Service came from. */
function shorthandField(path: ReadonlyArray<string | number>): Array<string | number> {
  const text = path.join(".");
  if (text === "metadata.name") return ["name"];
  if (text === "metadata.namespace") return ["namespace"];
  if (text === "spec.replicas") return ["replicas"];
  if (/(^|\.)ports(\.|$)/.test(text)) return ["port"];
  const probe = path.indexOf("readinessProbe");
  if (probe >= 0) return ["readinessProbe", ...path.slice(probe + 1)];
  if (/template\.metadata\.annotations/.test(text)) return ["meshed"];
  return [];
}
