// Whether each change can be made, found by replaying them in order on copies of the objects: an
// object that does not exist by then (with the nearest name that does), an edit the API server
// would refuse (a renamed object, a selector changed, a label value that is not a string, a
// rollout strategy it cannot read), and a change the simulation cannot act on while it runs
// ("changing a Service's spec.ports is not simulated"). Each error points at the change. Also
// every `behavior[].select.image`: some template of the pods it selects must run that image at
// some point of the run, or the entry would silently select nothing.

import { type InputError, parseFieldPath } from "../k8s/input-error.js";
import { describeObject, type K8sObject } from "../k8s/object.js";
import { metadataStringMaps, specStringMapProblems } from "../k8s/string-maps.js";
import { suggest } from "../k8s/suggest.js";
import { isWorkload } from "../k8s/views.js";
import { writeSupport } from "../mesh/change-support.js";
import { type ChangeProblem, describeRef, imagesOf, sameJson, templateOf } from "../mesh/object-edits.js";
import { strategyProblem } from "../mesh/rollout-strategy.js";
import type { ChangeSpec, ObjectRef, WorldSpec } from "../mesh/spec.js";
import { type ReplayStep, replayChanges } from "./change-replay.js";
import { makeError, positionAt, type YamlSource } from "./yaml-source.js";

export function validateChanges(spec: WorldSpec, src: YamlSource): InputError[] {
  const steps = replayChanges(spec);
  const errors: InputError[] = [];
  for (const step of steps) {
    if (step.problem !== undefined) {
      errors.push(problemError(step, step.problem, src));
      continue;
    }
    for (const w of step.writes) {
      const support = writeSupport(w);
      if (support.kind === "refused") errors.push(atChange(step.change, support.field, support.message));
      if (w.next !== undefined && step.change.action.kind !== "apply") errors.push(...editedValueErrors(step.change, w.next));
      if (w.next !== undefined && isWorkload(w.next) && (w.previous === undefined || !sameJson(templateOf(w.previous), templateOf(w.next)))) {
        const bad = strategyProblem(w.next);
        if (bad !== undefined) errors.push(atChange(step.change, bad[0], `${describeObject(w.next)}: ${bad[0]}: ${bad[1]}`));
      }
    }
  }
  return [...errors, ...behaviorImageErrors(spec, steps, src)];
}

/** The change's own key: `annotate`, `setImage`, ... */
function actionKey(c: ChangeSpec): string {
  return c.action.kind;
}

/** An error at the change, placed at the object field it is about when the change wrote that field. */
function atChange(c: ChangeSpec, objectField: string | undefined, message: string): InputError {
  const at = (objectField === undefined ? undefined : c.positionOf(parseFieldPath(objectField))) ?? c.source;
  return makeError(at, `${c.entry}.${actionKey(c)}`, message);
}

function problemError(step: ReplayStep, p: ChangeProblem, src: YamlSource): InputError {
  const c = step.change;
  const key = actionKey(c);
  if (p.missing === undefined) {
    const field = p.field ?? [];
    return makeError(positionAt(src, ["changes", step.index, key, ...field]), ["changes", step.index, key, ...field], p.message, p.expected === undefined ? {} : { expected: p.expected });
  }
  const nameField = c.action.kind === "rolloutRestart" || c.action.kind === "setImage" ? "deployment" : "name";
  const path = ["changes", step.index, key, nameField];
  return makeError(positionAt(src, path), path, p.message, nearest(p.missing, step.before, c.action.kind === "rolloutRestart" || c.action.kind === "setImage"));
}

/** The nearest existing name: of that kind in that namespace, else of that kind anywhere, else the nearest kind. */
function nearest(ref: ObjectRef, objects: readonly K8sObject[], workload: boolean): { expected?: string; suggestion?: string } {
  const kinds = workload ? ["Deployment", "StatefulSet", "DaemonSet"] : [ref.kind];
  const ofKind = objects.filter((o) => kinds.includes(o.kind));
  if (ofKind.length === 0) {
    const allKinds = [...new Set(objects.map((o) => o.kind))];
    const kind = suggest(ref.kind, allKinds);
    return kind === undefined ? { expected: `an object that exists at that instant` } : { suggestion: kind, expected: `a kind the cluster holds` };
  }
  const inNamespace = ofKind.filter((o) => o.metadata.namespace === ref.namespace).map((o) => o.metadata.name);
  const here = suggest(ref.name, inNamespace);
  if (here !== undefined) return { suggestion: here };
  const anywhere = suggest(describeRef(ref), ofKind.map((o) => describeObject(o)));
  const shown = ofKind.slice(0, 5).map(describeObject).join(", ");
  return { expected: `one of ${shown}${ofKind.length > 5 ? ", ..." : ""}`, ...(anywhere === undefined ? {} : { suggestion: anywhere }) };
}

/** Label and annotation values, selectors and template labels an edit left as something other than text. */
function editedValueErrors(c: ChangeSpec, o: K8sObject): InputError[] {
  const what = describeObject(o);
  const problems = [...metadataStringMaps(o.raw, what).problems, ...specStringMapProblems(o.raw, o.kind, what)];
  return problems.map((p) => makeError(c.positionOf(p.path) ?? c.source, `${c.entry}.${actionKey(c)}`, p.message, { expected: p.expected }));
}

/** A behaviour that selects an image no pod it selects ever runs would select nothing, silently. */
function behaviorImageErrors(spec: WorldSpec, steps: readonly ReplayStep[], src: YamlSource): InputError[] {
  const runs = new Map<string, Set<string>>();
  const note = (cluster: string, o: K8sObject) => {
    if (!isWorkload(o)) return;
    const key = `${cluster}/${o.metadata.namespace ?? "default"}/${o.metadata.name}`;
    const set = runs.get(key) ?? new Set<string>();
    for (const image of imagesOf(o)) set.add(image);
    runs.set(key, set);
  };
  for (const c of spec.clusters) for (const o of c.objects) note(c.name, o);
  for (const s of steps) for (const w of s.writes) if (w.next !== undefined) note(s.change.cluster, w.next);
  const errors: InputError[] = [];
  spec.behavior.forEach((b, j) => {
    const image = b.select.image;
    if (image === undefined) return;
    const images = new Set<string>();
    for (const [key, set] of runs) {
      const [cluster, namespace, name] = key.split("/");
      if ((b.select.cluster ?? cluster) !== cluster || (b.select.namespace ?? namespace) !== namespace || (b.select.deployment ?? name) !== name) continue;
      for (const i of set) images.add(i);
    }
    if (images.has(image)) return;
    const path = ["behavior", j, "select", "image"];
    const known = [...images].sort();
    errors.push(makeError(positionAt(src, path), path, `no pod this entry selects runs ${image}, at the start or after any change: the entry would apply to nothing`, {
      expected: known.length === 0 ? "an image a selected workload runs" : `one of ${known.slice(0, 5).join(", ")}${known.length > 5 ? ", ..." : ""}`,
      suggestion: suggest(image, known),
    }));
  });
  return errors;
}
