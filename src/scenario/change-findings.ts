// What `meshsim check` (and `run`) finds in the states the scenario's changes lead to: the same
// policy parsers and cross-object checks the objects the run starts with get, run on the objects
// after each change, reporting what the change brought in (a diagnostic already there before it
// is not repeated) — placed at the change where it wrote the field, and saying which change it
// comes from. Objects a change writes of a kind the simulation does not act on, and fields of
// changed objects the traffic never exercises, join the "not simulated" list.

import { checkObjects } from "../k8s/check.js";
import type { ClusterDiagnostic } from "../k8s/diagnostic-groups.js";
import type { K8sObject } from "../k8s/object.js";
import { findNotSimulated, type NotSimulatedHit } from "../k8s/not-simulated.js";
import type { Exercised } from "../k8s/unexercised-fields.js";
import type { WorldSpec } from "../mesh/spec.js";
import { formatDurationUs } from "../sim/time.js";
import { replayChanges } from "./change-replay.js";

const identity = (d: ClusterDiagnostic): string => [d.severity, d.code, d.object, d.field, d.message].join("\u0000");

/** Diagnostics each change brings in, said as coming from it. */
export function changeDiagnostics(spec: WorldSpec, notes: boolean): ClusterDiagnostic[] {
  const seen = new Map<readonly K8sObject[], Set<string>>();
  const check = (objects: readonly K8sObject[], domain: string): ClusterDiagnostic[] => checkObjects(objects, { clusterDomain: domain, notes });
  const out: ClusterDiagnostic[] = [];
  for (const step of replayChanges(spec)) {
    if (step.problem !== undefined || step.writes.length === 0) continue;
    const domain = spec.clusters.find((c) => c.name === step.change.cluster)?.domain ?? "cluster.local";
    const before = seen.get(step.before) ?? new Set(check(step.before, domain).map(identity));
    const after = check(step.after, domain);
    seen.set(step.after, new Set(after.map(identity)));
    const from = `from ${step.change.entry} at ${formatDurationUs(step.change.atUs)} on`;
    for (const d of after) {
      if (before.has(identity(d))) continue;
      out.push({ ...d, cluster: step.change.cluster, message: `${from}: ${d.message}` });
    }
  }
  return out;
}

/** Objects the changes write that the simulation leaves out, and fields of changed objects nothing exercises. */
export function changeNotSimulatedHits(spec: WorldSpec, exercised: Exercised): NotSimulatedHit[] {
  const several = spec.clusters.length > 1;
  const hits: NotSimulatedHit[] = [];
  for (const step of replayChanges(spec)) {
    if (step.problem !== undefined) continue;
    const opts = several ? { cluster: step.change.cluster, exercised } : { exercised };
    for (const w of step.writes) {
      if (w.next === undefined) continue;
      const before = new Set((w.previous === undefined ? [] : findNotSimulated([w.previous], opts)).map((h) => h.kind ?? h.field));
      for (const h of findNotSimulated([w.next], opts)) {
        if (before.has(h.kind ?? h.field)) continue;
        hits.push({ ...h, object: `${h.object} (${step.change.entry}, at ${formatDurationUs(step.change.atUs)})` });
      }
    }
  }
  return hits;
}
