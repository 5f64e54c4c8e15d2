// Which configuration changes the world simulates while it runs, and which it cannot: a change the
// simulation would silently not act on is refused at load ("changing X is not simulated"), and one
// to a kind the simulation never acts on at all is listed with the other objects it does not
// simulate. The world (changes.ts) acts on every change this file lets through.

import { formatPath } from "../k8s/input-error.js";
import { type K8sObject, describeObject } from "../k8s/object.js";
import { WORKLOAD_KINDS } from "../k8s/views.js";
import { type ObjectWrite, sameJson } from "./object-edits.js";

/** What the world does with one write: acts on it, refuses it (why, and the object field it is about), or leaves its kind out. */
export type WriteSupport = { kind: "simulated" } | { kind: "refused"; message: string; field?: string } | { kind: "not-simulated" };

/** Kinds whose changes the world acts on, besides workloads. */
const CHANGEABLE: ReadonlySet<string> = new Set(["Namespace", "Service", "HTTPRoute", "GRPCRoute", "ServiceProfile", "TrafficSplit"]);
/** Kinds the world reads when the run starts and never again. */
const FIXED_AT_START: Readonly<Record<string, string>> = {
  Link: "changing a Link is not simulated: each link's service mirror, gateway and probes are set up when the run starts",
};

const FAILOVER_LABEL = "failover.linkerd.io/controlled-by";
const EXPORT_LABEL = "mirror.linkerd.io/exported";
/** Service spec fields proxies and mirrors resolve when the run starts. */
const SERVICE_FIXED_FIELDS = ["ports", "type", "clusterIP", "clusterIPs", "externalName"] as const;

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === "object" && v !== null && !Array.isArray(v);
const specOf = (o: K8sObject | undefined): Rec => (o !== undefined && isRec(o.raw["spec"]) ? o.raw["spec"] : {});

export function writeSupport(w: ObjectWrite): WriteSupport {
  const obj = (w.next ?? w.previous) as K8sObject;
  const fixed = FIXED_AT_START[obj.kind];
  if (fixed !== undefined) return { kind: "refused", message: fixed };
  if (WORKLOAD_KINDS.has(obj.kind)) return workloadSupport(w);
  if (!CHANGEABLE.has(obj.kind)) return { kind: "not-simulated" };
  if (obj.kind === "TrafficSplit") return splitSupport(w);
  if (obj.kind === "Service") return serviceSupport(w);
  if (obj.kind === "Namespace" && w.next === undefined) return refused(`deleting ${describeObject(obj)} is not simulated: its workloads and objects would go with it`);
  return { kind: "simulated" };
}

function refused(message: string, field?: string): WriteSupport {
  return field === undefined ? { kind: "refused", message } : { kind: "refused", message, field };
}

/** linkerd-failover reads the splits it manages when the run starts and owns their weights. */
function splitSupport(w: ObjectWrite): WriteSupport {
  const managed = [w.previous, w.next].some((o) => o?.metadata.labels[FAILOVER_LABEL] !== undefined);
  if (managed) {
    return refused(`changing a TrafficSplit linkerd-failover manages (label ${FAILOVER_LABEL}) is not simulated: the operator owns its weights from the start of the run`, formatPath(["metadata", "labels", FAILOVER_LABEL]));
  }
  return { kind: "simulated" };
}

/** Annotations, labels and the selector of a Service change; its ports, type and export do not. */
function serviceSupport(w: ObjectWrite): WriteSupport {
  const obj = (w.next ?? w.previous) as K8sObject;
  if (w.next === undefined) return refused(`deleting ${describeObject(obj)} is not simulated: clients, mirrors and traffic resolve Services when the run starts`);
  const exported = (o: K8sObject | undefined) => o?.metadata.labels[EXPORT_LABEL];
  if (exported(w.previous) !== exported(w.next)) {
    return refused(`changing ${EXPORT_LABEL} is not simulated: a Service is mirrored (or not) when the run starts`, formatPath(["metadata", "labels", EXPORT_LABEL]));
  }
  if (w.previous === undefined) return { kind: "simulated" };
  for (const field of SERVICE_FIXED_FIELDS) {
    if (!sameJson(specOf(w.previous)[field], specOf(w.next)[field])) {
      return refused(`changing a Service's spec.${field} is not simulated: clients and proxies resolve its ports when the run starts`, `spec.${field}`);
    }
  }
  return { kind: "simulated" };
}

/** A workload's template rolls out and its replicas scale; its selector is immutable; a bare Pod can only come and go. */
function workloadSupport(w: ObjectWrite): WriteSupport {
  const obj = (w.next ?? w.previous) as K8sObject;
  if (w.previous === undefined || w.next === undefined) return { kind: "simulated" };
  if (obj.kind === "Pod") {
    return refused(`changing a running Pod is not simulated (its spec is immutable, and the simulation reads its labels when it starts): delete it and apply the new one`);
  }
  if (!sameJson(specOf(w.previous)["selector"], specOf(w.next)["selector"])) {
    return refused(`${describeObject(obj)}: spec.selector is immutable, so the API server refuses this change (field is immutable)`, "spec.selector");
  }
  return { kind: "simulated" };
}
