// How a workload rolls out a new pod template, read from its object as the controllers read it:
// a Deployment's `spec.strategy` (RollingUpdate with maxSurge and maxUnavailable, 25 % each by
// default, or Recreate), a StatefulSet's or DaemonSet's `spec.updateStrategy` (RollingUpdate with
// maxUnavailable 1 and no surge by default, or OnDelete); and how long a deleted pod may take to
// go, `terminationGracePeriodSeconds` (default 30 s). Values the API server would refuse are a
// problem the loader reports (`strategyProblem`).

import type { K8sObject } from "../k8s/object.js";

export interface RolloutStrategy {
  kind: "RollingUpdate" | "Recreate" | "OnDelete";
  /** Pods above the replica count while rolling (resolved from a percentage, rounded up). */
  maxSurge: number;
  /** Pods below the replica count that may be unavailable (resolved, rounded down). */
  maxUnavailable: number;
}

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === "object" && v !== null && !Array.isArray(v);
const SECOND_US = 1_000_000;
const DEFAULT_GRACE_S = 30;

function strategyField(o: K8sObject): Rec {
  const spec = isRec(o.raw["spec"]) ? o.raw["spec"] : {};
  const s = o.kind === "Deployment" ? spec["strategy"] : spec["updateStrategy"];
  return isRec(s) ? s : {};
}

/** `intstr` scaled as the controllers scale it: a percentage of `replicas`, or a count. Undefined: not a valid value. */
function scaled(v: unknown, replicas: number, roundUp: boolean): number | undefined {
  if (typeof v === "number") return Number.isInteger(v) && v >= 0 ? v : undefined;
  const m = typeof v === "string" ? /^(\d+)%$/.exec(v) : null;
  if (m === null) return undefined;
  const exact = (replicas * Number(m[1])) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

export function rolloutStrategy(o: K8sObject, replicas: number): RolloutStrategy {
  const s = strategyField(o);
  const deployment = o.kind === "Deployment";
  const type = typeof s["type"] === "string" ? s["type"] : "RollingUpdate";
  if (type === "Recreate") return { kind: "Recreate", maxSurge: 0, maxUnavailable: replicas };
  if (type === "OnDelete") return { kind: "OnDelete", maxSurge: 0, maxUnavailable: 0 };
  const rolling = isRec(s["rollingUpdate"]) ? s["rollingUpdate"] : {};
  const maxSurge = scaled(rolling["maxSurge"] ?? (deployment ? "25%" : 0), replicas, true) ?? 0;
  const maxUnavailable = scaled(rolling["maxUnavailable"] ?? (deployment ? "25%" : 1), replicas, false) ?? 1;
  // Both 0 would never make progress: the controllers let one pod be unavailable.
  return { kind: "RollingUpdate", maxSurge, maxUnavailable: maxSurge === 0 && maxUnavailable === 0 ? 1 : maxUnavailable };
}

/** What the API server would refuse in the object's strategy, as `[field path, message]`; undefined when none. */
export function strategyProblem(o: K8sObject): [string, string] | undefined {
  const s = strategyField(o);
  const field = o.kind === "Deployment" ? "spec.strategy" : "spec.updateStrategy";
  const types = o.kind === "Deployment" ? ["RollingUpdate", "Recreate"] : ["RollingUpdate", "OnDelete"];
  if (s["type"] !== undefined && !types.includes(String(s["type"]))) return [`${field}.type`, `"${String(s["type"])}" is not a strategy type; the API server accepts ${types.join(" or ")}`];
  const rolling = isRec(s["rollingUpdate"]) ? s["rollingUpdate"] : {};
  for (const key of ["maxSurge", "maxUnavailable"]) {
    const v = rolling[key];
    if (v !== undefined && scaled(v, 100, true) === undefined) return [`${field}.rollingUpdate.${key}`, `${JSON.stringify(v)} is neither a whole number nor a percentage such as "25%"`];
  }
  return undefined;
}

/** `terminationGracePeriodSeconds` of the pod template (a Pod's own spec); 30 s when absent or not a whole number. */
export function terminationGraceUs(o: K8sObject | undefined): number {
  const spec = o !== undefined && isRec(o.raw["spec"]) ? o.raw["spec"] : {};
  const pod = o?.kind === "Pod" ? spec : isRec(spec["template"]) && isRec(spec["template"]["spec"]) ? spec["template"]["spec"] : {};
  const v = pod["terminationGracePeriodSeconds"];
  return (typeof v === "number" && Number.isInteger(v) && v >= 0 ? v : DEFAULT_GRACE_S) * SECOND_US;
}
