// Every Kubernetes object of each cluster, in the order the cluster entry lists them: the files
// its `manifests:` entries match (paths relative to the scenario file), then its inline
// `objects:`, then what its `services:` shorthand expands to. Each manifest set is applied as
// kubectl would apply it (`-n`, `linkerd inject`); inline objects keep positions in the scenario
// file itself, so a diagnostic about one points at the scenario's own lines.

import { isScalar } from "yaml";
import { formatPath, type InputError } from "../k8s/input-error.js";
import { applyManifestSet, type ApplyOptions } from "../k8s/apply.js";
import { CLUSTER_SCOPED_KINDS, loadManifests, type ManifestScope, type SourceReader } from "../k8s/load.js";
import { metadataStringMaps, specStringMapProblems, type StringMapProblem } from "../k8s/string-maps.js";
import { describeObject, type K8sObject } from "../k8s/object.js";
import type { ParsedScenario } from "./schema.js";
import { expandServices } from "./services-shorthand.js";
import { makeError, nodeAt, positionAt, type YamlSource } from "./yaml-source.js";

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
  scope: ManifestScope = {},
): { objects: K8sObject[][]; errors: InputError[]; warnings: InputError[] } {
  const errors: InputError[] = [];
  const warnings: InputError[] = [];
  const objects = scenario.clusters.map((cluster, ci) => {
    const loaded = manifestSets(cluster.manifests, ["clusters", ci, "manifests"]).flatMap((set) => {
      const origin = (k: number) => {
        const path = set.path(k);
        return { ...positionAt(src, path), path: formatPath(path) };
      };
      const files = loadManifests(set.patterns, baseDir, reader, origin, scope);
      errors.push(...files.errors);
      errors.push(...files.objects.flatMap(specMapErrors));
      warnings.push(...files.warnings);
      const applied = applyManifestSet(files.objects, { ...set.options, inject: set.options.inject === true || cluster.inject });
      errors.push(...applied.errors);
      return applied.objects;
    });
    const inline = applyManifestSet(
      cluster.objects.map((raw, oi) => inlineObject(raw, src, ["clusters", ci, "objects", oi], errors)),
      { inject: cluster.inject },
    ).objects;
    const own = [...loaded, ...inline];
    const namespacesDefined = new Set(own.filter((o) => o.kind === "Namespace").map((o) => o.metadata.name));
    const shorthand = expandServices(cluster.services, {
      namespacesDefined,
      positionOf: (entry, field) => positionAt(src, ["clusters", ci, "services", entry, ...field]),
    });
    return [...own, ...shorthand];
  });
  return { objects, errors, warnings };
}

type ManifestEntry = ParsedScenario["clusters"][number]["manifests"][number];

/** One `kubectl apply`: its patterns, where each was written, and its `-n`/inject. */
interface ManifestSet {
  patterns: string[];
  path: (k: number) => Array<string | number>;
  options: ApplyOptions;
}

/**
 * Consecutive plain entries form one set (a file matched by two of them loads once); each
 * `{files, namespace, inject}` entry is a set of its own.
 */
function manifestSets(entries: readonly ManifestEntry[], at: ReadonlyArray<string | number>): ManifestSet[] {
  const sets: ManifestSet[] = [];
  let plain: { first: number; patterns: string[] } | undefined;
  entries.forEach((entry, j) => {
    if (typeof entry === "string") {
      if (plain === undefined) {
        const run = { first: j, patterns: [] as string[] };
        plain = run;
        sets.push({ patterns: run.patterns, path: (k) => [...at, run.first + k], options: {} });
      }
      plain.patterns.push(entry);
      return;
    }
    plain = undefined;
    const options: ApplyOptions = { inject: entry.inject };
    if (entry.namespace !== undefined) options.namespace = entry.namespace;
    sets.push({ patterns: entry.files, path: (k) => [...at, j, "files", k], options });
  });
  return sets;
}

/**
 * A manifest object's selector and pod-template values the API server would refuse: the run would
 * otherwise go ahead without them (a template's `linkerd.io/inject: true` silently unmeshed).
 */
function specMapErrors(o: K8sObject): InputError[] {
  return specStringMapProblems(o.raw, o.kind, describeObject(o)).map((p) => {
    const at = o.positionOf(p.path);
    return { file: at.file, line: at.line, col: at.col, path: formatPath(p.path), message: p.message, expected: p.expected };
  });
}

/**
 * An inline object (already checked to have apiVersion, kind and metadata.name) as a K8sObject.
 * A label or annotation value the API server would refuse (a number, perhaps substituted from a
 * number param) is reported into `errors` at the value, and the object keeps only its strings.
 */
export function inlineObject(raw: Record<string, unknown>, src: YamlSource, at: ReadonlyArray<string | number>, errors: InputError[] = []): K8sObject {
  const meta = raw["metadata"] as Record<string, unknown>;
  const kind = raw["kind"] as string;
  const namespace = typeof meta["namespace"] === "string" ? meta["namespace"] : undefined;
  const what = `${kind} ${namespace === undefined ? "" : `${namespace}/`}${meta["name"] as string}`;
  const maps = metadataStringMaps(raw, what);
  for (const p of [...maps.problems, ...specStringMapProblems(raw, kind, what)]) errors.push(inlineProblem(src, [...at, ...p.path], p));
  const metadata: K8sObject["metadata"] = { name: meta["name"] as string, labels: maps.labels, annotations: maps.annotations };
  if (!CLUSTER_SCOPED_KINDS.has(kind)) metadata.namespace = namespace ?? "default";
  if (typeof meta["creationTimestamp"] === "string") metadata.creationTimestamp = meta["creationTimestamp"];
  const positionOf = (path: ReadonlyArray<string | number>) => positionAt(src, [...at, ...path]);
  return { apiVersion: raw["apiVersion"] as string, kind, metadata, raw, source: positionOf([]), positionOf };
}

/**
 * A refused value, said in the scenario's terms: when the value was a `${param}` reference, the
 * param's type is what to change (quoting the reference does not help: a whole reference takes
 * the param's type).
 */
function inlineProblem(src: YamlSource, path: Array<string | number>, p: StringMapProblem): InputError {
  const node = nodeAt(src, path);
  const written = node.depth === path.length && isScalar(node.node) ? node.node.source : undefined;
  const ref = typeof written === "string" ? /^\s*\$\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\s*$/.exec(written) : null;
  if (ref === null) return makeError(positionAt(src, path), path, p.message, { expected: p.expected });
  const name = ref[1] as string;
  return makeError(positionAt(src, path), path, `${p.message}; the value comes from \${${name}}, which is not declared as a string`, {
    expected: `the param declared as a string: params: {${name}: ${JSON.stringify(String(p.value))}}`,
  });
}
