// Configuration changes on a swarm case's timeline: what an operator or a pipeline does to the live
// objects while traffic flows — `kubectl apply` of an edited object, `annotate`, `label`, `patch`,
// `delete`, `rollout restart`, `set image`. Changes come in time order and never name an object an
// earlier change deleted, nor change what the simulation refuses to change while it runs (a
// Service's ports, a Link, a Pod).

import type { Chooser } from "./choose.js";
import type { Switches } from "./features.js";

type Obj = Record<string, unknown>;

interface Target {
  kind: string;
  name: string;
  namespace: string;
  object?: Obj;
}

const md = (o: Obj): Obj => (o["metadata"] ?? {}) as Obj;
const WORKLOADS = new Set(["Deployment", "StatefulSet"]);
const POLICY = new Set(["HTTPRoute", "GRPCRoute", "ServiceProfile", "TrafficSplit"]);

/** The objects a change may name in one cluster entry: inline objects and what the shorthand expands to. */
function targetsOf(cluster: Obj): Target[] {
  const out: Target[] = [];
  for (const o of (cluster["objects"] ?? []) as Obj[]) {
    if (o["kind"] === "Namespace") out.push({ kind: "Namespace", name: String(md(o)["name"]), namespace: "", object: o });
    else out.push({ kind: String(o["kind"]), name: String(md(o)["name"]), namespace: String(md(o)["namespace"] ?? "default"), object: o });
  }
  for (const s of (cluster["services"] ?? []) as Obj[]) {
    const ns = String(s["namespace"] ?? "default");
    out.push({ kind: "Deployment", name: String(s["name"]), namespace: ns }, { kind: "Service", name: String(s["name"]), namespace: ns });
  }
  return out;
}

const ref = (t: Target): Obj => ({ kind: t.kind, name: t.name, ...(t.kind === "Namespace" ? {} : { namespace: t.namespace }) });

/** An edited copy of a policy object or workload, for `kubectl apply`. */
function edited(c: Chooser, t: Target): Obj | undefined {
  if (t.object === undefined) return undefined;
  const o = structuredClone(t.object);
  const spec = (o["spec"] ?? {}) as Obj;
  if (WORKLOADS.has(t.kind)) spec["replicas"] = c.int(0, 4);
  else if (t.kind === "TrafficSplit") spec["backends"] = ((spec["backends"] ?? []) as Obj[]).map((b) => ({ ...b, weight: typeof b["weight"] === "string" ? `${c.int(0, 10) * 100}m` : c.int(0, 10) }));
  else if (t.kind === "ServiceProfile") for (const r of (spec["routes"] ?? []) as Obj[]) r["isRetryable"] = r["isRetryable"] !== true;
  else if (t.kind === "HTTPRoute" || t.kind === "GRPCRoute") md(o)["annotations"] = { ...((md(o)["annotations"] ?? {}) as Obj), "retry.linkerd.io/limit": String(c.int(0, 4)) };
  else return undefined;
  return o;
}

function annotate(c: Chooser, t: Target): Obj {
  if (t.kind === "Namespace") return { ...ref(t), set: { "linkerd.io/inject": c.pick(["enabled", "disabled"]) } };
  const existing = Object.keys((md(t.object ?? {})["annotations"] ?? {}) as Obj);
  if (existing.length > 0 && c.chance(0.3)) return { ...ref(t), remove: [c.pick(existing)] };
  return { ...ref(t), set: c.chance(0.5) ? { "retry.linkerd.io/limit": String(c.int(0, 3)) } : { "timeout.linkerd.io/request": `${c.int(100, 2000)}ms` } };
}

/** Labels with no meaning to the mesh (the export label is read once, when the run starts). */
function label(c: Chooser, t: Target): Obj {
  const existing = Object.keys((md(t.object ?? {})["labels"] ?? {}) as Obj).filter((k) => k === "app.kubernetes.io/version");
  if (existing.length > 0 && c.chance(0.5)) return { ...ref(t), remove: existing };
  return { ...ref(t), set: { "app.kubernetes.io/version": `1.${c.int(0, 9)}.0` } };
}

/** linkerd-failover owns its TrafficSplits' weights from the start: a change may not touch them. */
function failoverManaged(t: Target): boolean {
  const labels = (md(t.object ?? {})["labels"] ?? {}) as Obj;
  return t.kind === "TrafficSplit" && labels["failover.linkerd.io/controlled-by"] !== undefined;
}

type Maker = (c: Chooser, targets: Target[]) => { action: Obj; deletes?: Target } | undefined;

const MAKERS: Record<string, Maker> = {
  apply: (c, ts) => {
    const editable = ts.filter((x) => x.object !== undefined && (WORKLOADS.has(x.kind) || POLICY.has(x.kind)));
    if (editable.length === 0) return undefined;
    const o = edited(c, c.pick(editable));
    return o === undefined ? undefined : { action: { apply: [o] } };
  },
  annotate: (c, ts) => ({ action: { annotate: annotate(c, c.pick(ts.filter((x) => x.kind !== "StatefulSet"))) } }),
  label: (c, ts) => {
    const services = ts.filter((x) => x.kind === "Service");
    return services.length === 0 ? undefined : { action: { label: label(c, c.pick(services)) } };
  },
  patch: (c, ts) => {
    const workloads = ts.filter((x) => WORKLOADS.has(x.kind));
    return workloads.length === 0 ? undefined : { action: { patch: { ...ref(c.pick(workloads)), merge: { spec: { replicas: c.int(0, 4) } } } } };
  },
  delete: (c, ts) => {
    const policy = ts.filter((x) => POLICY.has(x.kind));
    if (policy.length === 0) return undefined;
    const t = c.pick(policy);
    return { action: { delete: ref(t) }, deletes: t };
  },
  rolloutRestart: (c, ts) => {
    const workloads = ts.filter((x) => WORKLOADS.has(x.kind));
    if (workloads.length === 0) return undefined;
    const t = c.pick(workloads);
    return { action: { rolloutRestart: { deployment: t.name, namespace: t.namespace } } };
  },
  setImage: (c, ts) => {
    const workloads = ts.filter((x) => WORKLOADS.has(x.kind));
    if (workloads.length === 0) return undefined;
    const t = c.pick(workloads);
    return { action: { setImage: { deployment: t.name, namespace: t.namespace, image: `registry.example.com/shop/${t.name}:1.${c.int(1, 9)}.0` } } };
  },
};

/** Changes over the run, in time order; each cluster's objects as the scenario's `clusters:` entries hold them. */
export function changeEntries(c: Chooser, on: Switches, clusters: readonly Obj[], durationMs: number): Obj[] {
  if (!on.has("changes")) return [];
  const alive = new Map(clusters.map((k) => [String(k["name"]), targetsOf(k).filter((t) => !failoverManaged(t))]));
  const kinds = c.subset(Object.keys(MAKERS), 0.5);
  if (kinds.length === 0) kinds.push(c.pick(Object.keys(MAKERS)));
  const instants = Array.from({ length: c.int(1, 5) }, () => c.int(0, Math.max(0, durationMs - 1))).sort((a, b) => a - b);
  const out: Obj[] = [];
  for (const atMs of instants) {
    const cluster = c.pick(clusters);
    const name = String(cluster["name"]);
    const targets = alive.get(name) ?? [];
    if (targets.length === 0) continue;
    const made = MAKERS[c.pick(kinds)]?.(c, targets);
    if (made === undefined) continue;
    if (made.deletes !== undefined) alive.set(name, targets.filter((t) => t !== made.deletes));
    out.push({ at: `${atMs}ms`, ...(clusters.length > 1 || c.chance(0.3) ? { cluster: name } : {}), ...made.action });
  }
  return out;
}
