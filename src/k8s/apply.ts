// What `kubectl apply` and `linkerd inject` do to a set of objects before anything reads them, in
// one place for `check` and `run`: a namespaced object without `metadata.namespace` lands in the
// namespace the command was given (`-n`, else `default`), written into the object itself so every
// parser sees it; `linkerd inject` stamps `linkerd.io/inject: enabled` on each workload's pod
// template; and a later definition of the same object replaces an earlier one.

import type { InputError } from "./input-error.js";
import { type K8sObject, describeObject } from "./object.js";
import { INJECT_ANNOTATION, WORKLOAD_KINDS } from "./views.js";

type Rec = Record<string, unknown>;

const isRec = (v: unknown): v is Rec => typeof v === "object" && v !== null && !Array.isArray(v);

/** How one set of manifests was applied. */
export interface ApplyOptions {
  /** `kubectl apply -n NAME`: namespace for namespaced objects that name none. Absent ⇒ `default`. */
  namespace?: string;
  /** The files were piped through `linkerd inject` first. Absent ⇒ false. */
  inject?: boolean;
}

/** The object with its namespace set in both `metadata` and `raw.metadata`. */
export function inNamespace(obj: K8sObject, namespace: string): K8sObject {
  const meta = isRec(obj.raw["metadata"]) ? obj.raw["metadata"] : {};
  return { ...obj, metadata: { ...obj.metadata, namespace }, raw: { ...obj.raw, metadata: { ...meta, namespace } } };
}

/** Whether `metadata.namespace` was written in the object (rather than defaulted). */
export function namespaceWritten(obj: K8sObject): boolean {
  const meta = obj.raw["metadata"];
  return isRec(meta) && typeof meta["namespace"] === "string" && meta["namespace"] !== "";
}

/**
 * Apply one manifest set's `-n` and `inject`. An object naming another namespace than `-n` is the
 * error kubectl gives ("the namespace from the provided object does not match").
 */
export function applyManifestSet(objects: readonly K8sObject[], opts: ApplyOptions): { objects: K8sObject[]; errors: InputError[] } {
  const errors: InputError[] = [];
  const out: K8sObject[] = [];
  for (let obj of objects) {
    if (obj.metadata.namespace !== undefined) {
      const target = opts.namespace ?? "default";
      if (!namespaceWritten(obj)) obj = inNamespace(obj, target);
      else if (opts.namespace !== undefined && obj.metadata.namespace !== opts.namespace) {
        const at = obj.positionOf(["metadata", "namespace"]);
        errors.push({
          file: at.file, line: at.line, col: at.col, path: "metadata.namespace",
          message: `${describeObject(obj)} names namespace "${obj.metadata.namespace}", but its manifest set is applied with namespace "${opts.namespace}"; kubectl refuses this ("the namespace from the provided object does not match")`,
          expected: `no metadata.namespace, or "${opts.namespace}"`,
        });
        continue;
      }
    }
    out.push(opts.inject === true ? injected(obj) : obj);
  }
  return { objects: out, errors };
}

/**
 * `linkerd inject`: the pod template gets `linkerd.io/inject: enabled`, unless it says `disabled`,
 * which the CLI honours (it skips such workloads). Objects that are not workloads pass unchanged.
 */
export function injected(obj: K8sObject): K8sObject {
  if (!WORKLOAD_KINDS.has(obj.kind)) return obj;
  const path = obj.kind === "Pod" ? ["metadata"] : ["spec", "template", "metadata"];
  const raw = structuredClone(obj.raw);
  let node: Rec = raw;
  for (const key of path) {
    if (!isRec(node[key])) node[key] = {};
    node = node[key] as Rec;
  }
  if (!isRec(node["annotations"])) node["annotations"] = {};
  const annotations = node["annotations"] as Rec;
  if (annotations[INJECT_ANNOTATION] === "disabled") return obj;
  annotations[INJECT_ANNOTATION] = "enabled";
  const metadata = obj.kind === "Pod" ? { ...obj.metadata, annotations: { ...obj.metadata.annotations, [INJECT_ANNOTATION]: "enabled" } } : obj.metadata;
  return { ...obj, metadata, raw };
}

/** `group|Kind namespace/name`: what identifies an object to the API server. */
export function objectIdentity(obj: K8sObject): string {
  const group = obj.apiVersion.includes("/") ? obj.apiVersion.slice(0, obj.apiVersion.indexOf("/")) : "";
  return `${group}|${describeObject(obj)}`;
}

/**
 * The objects a cluster holds after every file was applied in order: each object's last
 * definition, at the place of its first (a second `kubectl apply` replaces the object).
 */
export function lastDefinitions(objects: readonly K8sObject[]): K8sObject[] {
  const last = new Map<string, K8sObject>();
  for (const o of objects) last.set(objectIdentity(o), o);
  const out: K8sObject[] = [];
  const placed = new Set<string>();
  for (const o of objects) {
    const id = objectIdentity(o);
    if (placed.has(id)) continue;
    placed.add(id);
    out.push(last.get(id) as K8sObject);
  }
  return out;
}
