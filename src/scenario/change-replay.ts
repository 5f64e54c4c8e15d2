// The scenario's changes replayed on copies of each cluster's objects, in the order the world
// applies them (time order; one instant's changes in the order written): the objects before and
// after each change and what it wrote. The loader validates the changes with it and `meshsim
// check` runs the policy parsers over each state it leads to.

import { lastDefinitions, objectIdentity } from "../k8s/apply.js";
import type { K8sObject } from "../k8s/object.js";
import { type ChangeProblem, changeWrites, isObject, type ObjectWrite } from "../mesh/object-edits.js";
import type { ChangeSpec, WorldSpec } from "../mesh/spec.js";

export interface ReplayStep {
  change: ChangeSpec;
  /** Its place in `spec.changes` (as written). */
  index: number;
  /** The cluster's objects before and after it (the same when it could not be made). */
  before: readonly K8sObject[];
  after: readonly K8sObject[];
  writes: readonly ObjectWrite[];
  problem?: ChangeProblem;
}

export function replayChanges(spec: WorldSpec): ReplayStep[] {
  const state = new Map(spec.clusters.map((c) => [c.name, lastDefinitions(c.objects)]));
  const ordered = (spec.changes ?? []).map((change, index) => ({ change, index })).sort((a, b) => a.change.atUs - b.change.atUs);
  return ordered.map(({ change, index }) => {
    const before = state.get(change.cluster) ?? [];
    const { writes, problem } = changeWrites((ref) => before.find((o) => isObject(o, ref)), change);
    const after = problem === undefined ? applyWrites(before, writes) : before;
    state.set(change.cluster, after);
    return { change, index, before, after, writes, ...(problem === undefined ? {} : { problem }) };
  });
}

/** The objects with each write made: a replacement keeps its place, a new object goes last. */
function applyWrites(objects: readonly K8sObject[], writes: readonly ObjectWrite[]): K8sObject[] {
  let out = [...objects];
  for (const w of writes) {
    const id = objectIdentity((w.next ?? w.previous) as K8sObject);
    const i = out.findIndex((o) => objectIdentity(o) === id);
    if (w.next === undefined) out = out.filter((_, j) => j !== i);
    else if (i >= 0) out[i] = w.next;
    else out.push(w.next);
  }
  return out;
}
