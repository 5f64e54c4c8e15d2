// Every Kubernetes object of each cluster, in the order the cluster entry lists them: the files
// its `manifests:` patterns match (paths relative to the scenario file), then its inline
// `objects:`, then what its `services:` shorthand expands to. Inline objects keep positions in
// the scenario file itself, so a diagnostic about one points at the scenario's own lines.

import { formatPath, type InputError } from "../k8s/input-error.js";
import { CLUSTER_SCOPED_KINDS, loadManifests, type SourceReader } from "../k8s/load.js";
import type { K8sObject } from "../k8s/object.js";
import type { ParsedScenario } from "./schema.js";
import { expandServices } from "./services-shorthand.js";
import { positionAt, type YamlSource } from "./yaml-source.js";

/** The directory part of a path (`/a/b/c.yaml` ⇒ `/a/b`, `c.yaml` ⇒ `.`). */
export function directoryOf(file: string): string {
  const i = Math.max(file.lastIndexOf("/"), file.lastIndexOf("\\"));
  if (i < 0) return ".";
  return i === 0 ? file.slice(0, 1) : file.slice(0, i);
}

export function loadClusterObjects(
  scenario: ParsedScenario,
  src: YamlSource,
  reader: SourceReader,
  baseDir: string,
): { objects: K8sObject[][]; errors: InputError[] } {
  const errors: InputError[] = [];
  const objects = scenario.clusters.map((cluster, ci) => {
    const origin = (j: number) => {
      const path = ["clusters", ci, "manifests", j];
      return { ...positionAt(src, path), path: formatPath(path) };
    };
    const loaded = loadManifests(cluster.manifests, baseDir, reader, origin);
    errors.push(...loaded.errors);
    const inline = cluster.objects.map((raw, oi) => inlineObject(raw, src, ["clusters", ci, "objects", oi]));
    const own = [...loaded.objects, ...inline];
    const namespacesDefined = new Set(own.filter((o) => o.kind === "Namespace").map((o) => o.metadata.name));
    const shorthand = expandServices(cluster.services, {
      namespacesDefined,
      positionOf: (entry, field) => positionAt(src, ["clusters", ci, "services", entry, ...field]),
    });
    return [...own, ...shorthand];
  });
  return { objects, errors };
}

/** An inline object (already checked to have apiVersion, kind and metadata.name) as a K8sObject. */
export function inlineObject(raw: Record<string, unknown>, src: YamlSource, at: ReadonlyArray<string | number>): K8sObject {
  const meta = raw["metadata"] as Record<string, unknown>;
  const kind = raw["kind"] as string;
  const metadata: K8sObject["metadata"] = { name: meta["name"] as string, labels: stringMap(meta["labels"]), annotations: stringMap(meta["annotations"]) };
  if (!CLUSTER_SCOPED_KINDS.has(kind)) metadata.namespace = typeof meta["namespace"] === "string" ? meta["namespace"] : "default";
  if (typeof meta["creationTimestamp"] === "string") metadata.creationTimestamp = meta["creationTimestamp"];
  const positionOf = (path: ReadonlyArray<string | number>) => positionAt(src, [...at, ...path]);
  return { apiVersion: raw["apiVersion"] as string, kind, metadata, raw, source: positionOf([]), positionOf };
}

/** Labels and annotations as Kubernetes decodes them: strings kept, `null` read as "". */
function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof v !== "object" || v === null || Array.isArray(v)) return out;
  for (const [k, val] of Object.entries(v)) {
    if (typeof val === "string") out[k] = val;
    else if (val === null) out[k] = "";
  }
  return out;
}
