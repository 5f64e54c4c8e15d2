// The `changes:` section loaded: each entry becomes a `ChangeSpec` for its cluster, with the
// objects an `apply` names (inline, keeping their positions in the scenario; or files, read as
// `manifests:` reads them, inside the same directory tree) and a map from the fields the change
// writes to where it wrote them, so a diagnostic about a changed field points at the change.
// Whether each change can be made is checked afterwards, by replaying them (changes-validate.ts).

import { applyManifestSet } from "../k8s/apply.js";
import { formatPath, type InputError } from "../k8s/input-error.js";
import { loadManifests, type ManifestScope, type SourceReader } from "../k8s/load.js";
import type { K8sObject, SourcePosition } from "../k8s/object.js";
import { describeObject } from "../k8s/object.js";
import { specStringMapProblems } from "../k8s/string-maps.js";
import { suggest } from "../k8s/suggest.js";
import { RESTARTED_AT, withDefaultNamespace } from "../mesh/object-edits.js";
import type { ChangeAction, ChangeSpec, ObjectRef } from "../mesh/spec.js";
import { inlineObject } from "./cluster-objects.js";
import type { ParsedChange, ParsedScenario } from "./schema.js";
import { type FieldPath, makeError, positionAt, type YamlSource } from "./yaml-source.js";

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === "object" && v !== null && !Array.isArray(v);

export interface LoadedChanges {
  changes: ChangeSpec[];
  errors: InputError[];
  warnings: InputError[];
}

/** Every change entry, in the order written; errors for a cluster that is missing, unknown, or an instant past the end. */
export function loadChanges(scenario: ParsedScenario, src: YamlSource, reader: SourceReader, baseDir: string, scope: ManifestScope): LoadedChanges {
  const out: LoadedChanges = { changes: [], errors: [], warnings: [] };
  const names = scenario.clusters.map((c) => c.name);
  scenario.changes.forEach((c, i) => {
    const at: FieldPath = ["changes", i];
    const cluster = c.cluster ?? (names.length === 1 ? names[0] : undefined);
    if (cluster === undefined) {
      out.errors.push(makeError(positionAt(src, at), at, `the scenario has ${names.length} clusters: say which one's API server takes this change`, { expected: `cluster: one of ${names.join(", ")}` }));
      return;
    }
    if (!names.includes(cluster)) {
      out.errors.push(makeError(positionAt(src, [...at, "cluster"]), [...at, "cluster"], `there is no cluster "${cluster}"`, { expected: `one of ${names.join(", ")}`, suggestion: suggest(cluster, names) }));
      return;
    }
    if (c.at >= scenario.duration) {
      out.errors.push(makeError(positionAt(src, [...at, "at"]), [...at, "at"], "this change comes when the run is over: it would never be applied", { expected: "an instant before the end of duration" }));
      return;
    }
    const inject = scenario.clusters.find((x) => x.name === cluster)?.inject === true;
    const action = actionOf(c, i, { src, reader, baseDir, scope, inject, errors: out.errors, warnings: out.warnings });
    if (action === undefined) return;
    out.changes.push({
      atUs: c.at,
      cluster,
      action,
      entry: `changes[${i}]`,
      source: positionAt(src, at),
      positionOf: (path) => fieldPosition(src, i, c, action, path),
    });
  });
  return out;
}

interface LoadContext {
  src: YamlSource;
  reader: SourceReader;
  baseDir: string;
  scope: ManifestScope;
  inject: boolean;
  errors: InputError[];
  warnings: InputError[];
}

function actionOf(c: ParsedChange, i: number, ctx: LoadContext): ChangeAction | undefined {
  const ref = (t: { kind: string; name: string; namespace?: string | undefined }): ObjectRef => withDefaultNamespace({ kind: t.kind, name: t.name, ...(t.namespace === undefined ? {} : { namespace: t.namespace }) });
  const workload = (t: { deployment: string; namespace?: string | undefined }): ObjectRef => ({ kind: "Deployment", name: t.deployment, namespace: t.namespace ?? "default" });
  if (c.apply !== undefined) return { kind: "apply", objects: applyObjects(c.apply, ["changes", i, "apply"], ctx) };
  for (const kind of ["annotate", "label"] as const) {
    const e = c[kind];
    if (e === undefined) continue;
    const set: Record<string, string> = {};
    const remove = [...e.remove];
    for (const [k, v] of Object.entries(e.set)) {
      if (k.endsWith("-")) remove.push(k.slice(0, -1));
      else set[k] = String(v);
    }
    return { kind, target: ref(e), set, remove };
  }
  if (c.patch !== undefined) return { kind: "patch", target: ref(c.patch), merge: c.patch.merge };
  if (c.delete !== undefined) return { kind: "delete", target: ref(c.delete) };
  if (c.rolloutRestart !== undefined) return { kind: "rolloutRestart", target: workload(c.rolloutRestart) };
  if (c.setImage !== undefined) {
    const s = c.setImage;
    return { kind: "setImage", target: workload(s), image: s.image, ...(s.container === undefined ? {} : { container: s.container }) };
  }
  return undefined;
}

/** An `apply` list: inline objects where they were written, files as a manifest set reads them, in the order listed. */
function applyObjects(items: NonNullable<ParsedChange["apply"]>, at: FieldPath, ctx: LoadContext): K8sObject[] {
  return items.flatMap((item, j) => {
    if (typeof item !== "string" && !("files" in item)) {
      const obj = inlineObject(item as Rec, ctx.src, [...at, j], ctx.errors);
      return applyManifestSet([obj], { inject: ctx.inject }).objects;
    }
    const set = typeof item === "string" ? { files: [item], inject: false } : (item as { files: string[]; namespace?: string; inject: boolean });
    const origin = (k: number) => {
      const path = typeof item === "string" ? [...at, j] : [...at, j, "files", k];
      return { ...positionAt(ctx.src, path), path: formatPath(path) };
    };
    const files = loadManifests(set.files, ctx.baseDir, ctx.reader, origin, ctx.scope);
    ctx.errors.push(...files.errors, ...files.objects.flatMap(specMapErrors));
    ctx.warnings.push(...files.warnings);
    const applied = applyManifestSet(files.objects, { inject: set.inject || ctx.inject, ...(set.namespace === undefined ? {} : { namespace: set.namespace }) });
    ctx.errors.push(...applied.errors);
    return applied.objects;
  });
}

/** A selector or template label the API server would refuse, in a file an `apply` reads. */
function specMapErrors(o: K8sObject): InputError[] {
  return specStringMapProblems(o.raw, o.kind, describeObject(o)).map((p) => {
    const pos = o.positionOf(p.path);
    return { file: pos.file, line: pos.line, col: pos.col, path: formatPath(p.path), message: p.message, expected: p.expected };
  });
}

/** Where change `i` wrote the object field at `path`; undefined for a field it leaves alone. */
function fieldPosition(src: YamlSource, i: number, c: ParsedChange, action: ChangeAction, path: ReadonlyArray<string | number>): SourcePosition | undefined {
  const at = (...rest: Array<string | number>) => positionAt(src, ["changes", i, ...rest]);
  const [p0, p1, p2] = path;
  switch (action.kind) {
    case "annotate":
    case "label": {
      const map = action.kind === "annotate" ? "annotations" : "labels";
      if (p0 !== "metadata" || p1 !== map) return undefined;
      if (p2 === undefined) return at(action.kind);
      const written = c[action.kind];
      const key = String(p2);
      if (written?.set[key] !== undefined) return at(action.kind, "set", key);
      if (written?.set[`${key}-`] !== undefined) return at(action.kind, "set", `${key}-`);
      const r = written?.remove.indexOf(key) ?? -1;
      return r >= 0 ? at(action.kind, "remove", r) : undefined;
    }
    case "patch": {
      const prefix: Array<string | number> = [];
      let node: unknown = action.merge;
      for (const part of path) {
        if (!isRec(node) || !(String(part) in node)) break;
        prefix.push(part);
        node = node[String(part)];
      }
      return prefix.length === 0 ? undefined : at("patch", "merge", ...prefix);
    }
    case "setImage":
      return p0 === "spec" && p1 === "template" && p2 === "spec" && path[3] === "containers" ? at("setImage", "image") : undefined;
    case "rolloutRestart":
      return path[4] === RESTARTED_AT ? at("rolloutRestart") : undefined;
    default:
      return undefined;
  }
}
