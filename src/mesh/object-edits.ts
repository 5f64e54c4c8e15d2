// What one configuration change writes, as the API server would compute it from the object it holds
// at that instant: `kubectl apply` (create or replace), `kubectl annotate|label --overwrite` (with
// kubectl's `key-` for removal), a JSON merge patch (RFC 7386: null deletes, arrays are replaced
// whole), `kubectl delete`, `kubectl rollout restart` (the pod template gets
// `kubectl.kubernetes.io/restartedAt`, a new revision) and `kubectl set image` (a new revision).
// Pure: the loader replays the changes on a copy of the objects to validate them, and the world
// applies them to its clusters' API stores when their instant comes.

import { objectIdentity } from "../k8s/apply.js";
import { CLUSTER_SCOPED_KINDS } from "../k8s/load.js";
import { type K8sObject, describeObject } from "../k8s/object.js";
import { metadataStringMaps } from "../k8s/string-maps.js";
import { formatDurationUs } from "../sim/time.js";
import type { ChangeAction, ChangeSpec, ObjectRef } from "./spec.js";

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === "object" && v !== null && !Array.isArray(v);

/** One object written: created (no `previous`), replaced, or deleted (no `next`). */
export interface ObjectWrite {
  previous?: K8sObject;
  next?: K8sObject;
}

/** Why a change cannot be made; `field` is the change's own field the problem is about (absent ⇒ the entry). */
export interface ChangeProblem {
  message: string;
  field?: ReadonlyArray<string | number>;
  expected?: string;
  /** The object named does not exist (the loader suggests a near name). */
  missing?: ObjectRef;
}

/** The template annotation `kubectl rollout restart` writes; its new value makes a new revision. */
export const RESTARTED_AT = "kubectl.kubernetes.io/restartedAt";
/** The container `linkerd inject` adds; never the application's. */
const PROXY_CONTAINER = "linkerd-proxy";

/** `namespace` as kubectl defaults it: `default` for a namespaced kind, none for a cluster-scoped one. */
export function withDefaultNamespace(ref: ObjectRef): ObjectRef {
  if (CLUSTER_SCOPED_KINDS.has(ref.kind)) return { kind: ref.kind, name: ref.name };
  return { kind: ref.kind, name: ref.name, namespace: ref.namespace ?? "default" };
}

export function refOf(o: K8sObject): ObjectRef {
  return o.metadata.namespace === undefined ? { kind: o.kind, name: o.metadata.name } : { kind: o.kind, name: o.metadata.name, namespace: o.metadata.namespace };
}

export function describeRef(ref: ObjectRef): string {
  return ref.namespace === undefined ? `${ref.kind} ${ref.name}` : `${ref.kind} ${ref.namespace}/${ref.name}`;
}

/** Whether `o` is the object `ref` names (kind, name and namespace; the API group is not compared). */
export function isObject(o: K8sObject, ref: ObjectRef): boolean {
  return o.kind === ref.kind && o.metadata.name === ref.name && (o.metadata.namespace ?? undefined) === (withDefaultNamespace(ref).namespace ?? undefined);
}

/** Whether two parsed values are equal as JSON, whatever their keys' order. */
export function sameJson(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (isRec(v)) return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(",")}}`;
  return v === undefined ? "null" : JSON.stringify(v);
}

/** RFC 7386 JSON merge patch: objects merge key by key, `null` removes a key, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isRec(patch)) return structuredClone(patch);
  const out: Rec = isRec(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** A short description of the change for the trace and the summary: `patch TrafficSplit shop/web-split`. */
export function describeChange(a: ChangeAction): string {
  if (a.kind === "apply") return `apply ${a.objects.map(describeObject).join(", ")}`;
  const workload = `${a.target.namespace ?? "default"}/${a.target.name}`;
  if (a.kind === "setImage") return `set image ${workload} ${a.container === undefined ? "" : `${a.container}=`}${a.image}`;
  if (a.kind === "rolloutRestart") return `rollout restart ${workload}`;
  return `${a.kind} ${describeRef(withDefaultNamespace(a.target))}`;
}

/**
 * The writes `change` makes against the objects `find` returns (the API server's state now), or
 * why it cannot be made. Workload targets of `rolloutRestart` and `setImage` are looked up by name
 * among Deployments, StatefulSets and DaemonSets (`find` with each kind).
 */
export function changeWrites(find: (ref: ObjectRef) => K8sObject | undefined, change: ChangeSpec): { writes: ObjectWrite[]; problem?: ChangeProblem } {
  const a = change.action;
  if (a.kind === "apply") {
    // Two API groups may share a kind (HTTPRoute): an applied object replaces only its own group's.
    return { writes: a.objects.map((o) => ({ ...optional("previous", [find(refOf(o))].find((p) => p !== undefined && objectIdentity(p) === objectIdentity(o))), next: o })) };
  }
  const target = a.kind === "rolloutRestart" || a.kind === "setImage" ? findWorkload(find, a.target) : find(withDefaultNamespace(a.target));
  if (target === undefined) return { writes: [], problem: { message: `there is no ${describeRef(withDefaultNamespace(a.target))} at ${formatDurationUs(change.atUs)}`, missing: withDefaultNamespace(a.target) } };
  if (a.kind === "delete") return { writes: [{ previous: target }] };
  const raw = editedRaw(target, a, change);
  if (typeof raw === "string") return { writes: [], problem: { message: raw, ...(a.kind === "setImage" ? { field: ["container"] } : {}) } };
  const renamed = identityChange(target, raw);
  if (renamed !== undefined) return { writes: [], problem: { message: renamed, field: ["merge"] } };
  return { writes: [{ previous: target, next: rebuilt(target, raw, change) }] };
}

function optional<K extends string, V>(key: K, v: V | undefined): { [P in K]?: V } {
  return (v === undefined ? {} : { [key]: v }) as { [P in K]?: V };
}

const WORKLOADS = ["Deployment", "StatefulSet", "DaemonSet"] as const;

function findWorkload(find: (ref: ObjectRef) => K8sObject | undefined, target: ObjectRef): K8sObject | undefined {
  for (const kind of WORKLOADS) {
    const o = find(withDefaultNamespace({ ...target, kind }));
    if (o !== undefined) return o;
  }
  return undefined;
}

/** The object's raw form after the edit, or why the edit cannot be made. */
function editedRaw(target: K8sObject, a: Exclude<ChangeAction, { kind: "apply" | "delete" }>, change: ChangeSpec): Rec | string {
  const raw = structuredClone(target.raw);
  switch (a.kind) {
    case "patch":
      return mergePatch(raw, a.merge) as Rec;
    case "annotate":
    case "label": {
      const map = mapAt(raw, ["metadata", a.kind === "annotate" ? "annotations" : "labels"]);
      for (const k of a.remove) delete map[k];
      for (const [k, v] of Object.entries(a.set)) map[k] = v;
      return raw;
    }
    case "rolloutRestart":
      mapAt(raw, ["spec", "template", "metadata", "annotations"])[RESTARTED_AT] = `${formatDurationUs(change.atUs)} after the start (${change.entry})`;
      return raw;
    case "setImage":
      return setImage(raw, a.container, a.image);
  }
}

/** `kubectl set image`: the named container (or the only application container) runs `image`. */
function setImage(raw: Rec, container: string | undefined, image: string): Rec | string {
  const spec = mapAt(raw, ["spec", "template", "spec"]);
  const containers = (Array.isArray(spec["containers"]) ? spec["containers"] : []).filter(isRec);
  const names = containers.map((c) => String(c["name"] ?? ""));
  const apps = names.filter((n) => n !== PROXY_CONTAINER);
  const name = container ?? (apps.length === 1 ? apps[0] : undefined);
  if (name === undefined) return `the pod template has ${apps.length === 0 ? "no application container" : `containers ${apps.join(", ")}`}: name the one to change with container:`;
  const c = containers.find((x) => x["name"] === name);
  if (c === undefined) return `the pod template has no container "${name}" (it has ${names.join(", ") || "none"})`;
  c["image"] = image;
  return raw;
}

/** The mapping at `path`, created where absent. */
function mapAt(raw: Rec, path: readonly string[]): Rec {
  let node = raw;
  for (const key of path) {
    if (!isRec(node[key])) node[key] = {};
    node = node[key] as Rec;
  }
  return node;
}

/** A patch may not rename an object or change its kind: that is a different object. */
function identityChange(before: K8sObject, raw: Rec): string | undefined {
  const meta = isRec(raw["metadata"]) ? raw["metadata"] : {};
  if (raw["kind"] !== before.kind) return `a patch cannot change kind (${before.kind} to ${String(raw["kind"])}): apply the new object and delete the old one`;
  if (raw["apiVersion"] !== before.apiVersion) return `a patch cannot change apiVersion (${before.apiVersion} to ${String(raw["apiVersion"])})`;
  if (meta["name"] !== before.metadata.name) return `a patch cannot rename ${describeObject(before)}: apply the new object and delete the old one`;
  if (before.metadata.namespace !== undefined && meta["namespace"] !== undefined && meta["namespace"] !== before.metadata.namespace) {
    return `a patch cannot move ${describeObject(before)} to another namespace`;
  }
  return undefined;
}

/** The edited object: positions of the fields the change wrote point at the change, the rest where they were. */
function rebuilt(before: K8sObject, raw: Rec, change: ChangeSpec): K8sObject {
  const maps = metadataStringMaps(raw, describeObject(before));
  const metadata: K8sObject["metadata"] = { ...before.metadata, labels: maps.labels, annotations: maps.annotations };
  const meta = isRec(raw["metadata"]) ? raw["metadata"] : {};
  if (before.metadata.namespace !== undefined && meta["namespace"] === undefined) raw["metadata"] = { ...meta, namespace: before.metadata.namespace };
  return {
    ...before,
    metadata,
    raw,
    source: change.source,
    positionOf: (path) => change.positionOf(path) ?? before.positionOf(path),
  };
}

/** The images a workload's pods run (a Pod's own containers, else its template's), the proxy's aside. */
export function imagesOf(o: K8sObject): string[] {
  const spec = isRec(o.raw["spec"]) ? o.raw["spec"] : {};
  const template = isRec(spec["template"]) && isRec(spec["template"]["spec"]) ? spec["template"]["spec"] : o.kind === "Pod" ? spec : {};
  const containers = Array.isArray(template["containers"]) ? template["containers"].filter(isRec) : [];
  return containers.filter((c) => c["name"] !== PROXY_CONTAINER && typeof c["image"] === "string").map((c) => c["image"] as string);
}

/** The pod template as written (a Pod is its own), to tell a new revision from a replica change. */
export function templateOf(o: K8sObject): unknown {
  const spec = isRec(o.raw["spec"]) ? o.raw["spec"] : {};
  return o.kind === "Pod" ? spec : spec["template"];
}
