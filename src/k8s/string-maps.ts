// The string-to-string maps of an object as the API server decodes them: labels, annotations, a
// pod template's labels and annotations, label selectors. Each is map[string]string, so a value
// written as an unquoted YAML number or boolean (`retry.linkerd.io/limit: 3`, `version: 2`,
// `linkerd.io/inject: yes` under YAML 1.1) makes the server refuse the whole object ("cannot
// unmarshal number into Go struct field ObjectMeta.metadata.annotations of type string").
// Dropping such a value would run the simulation on configuration the cluster never accepted (the
// retry limit silently back at its default, a selector matching pods it would not), so each one
// is a problem for the loader to report at the value. `null` (a key with nothing after it)
// decodes as "", as it does there.

import type { PathSegment } from "./input-error.js";

/** One value the API server would refuse, where it was written and what would be accepted. */
export interface StringMapProblem {
  /** Field path inside the object, e.g. `["metadata", "annotations", "retry.linkerd.io/limit"]`. */
  path: PathSegment[];
  message: string;
  expected: string;
  /** The value as written. */
  value: unknown;
}

export interface ObjectStringMaps {
  /** `metadata.labels`, string values only. */
  labels: Record<string, string>;
  /** `metadata.annotations`, string values only. */
  annotations: Record<string, string>;
  /** Empty when the API server would accept both maps. */
  problems: StringMapProblem[];
}

type Rec = Record<string, unknown>;

function isRec(v: unknown): v is Rec {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Kinds whose `spec.template` is a pod template and whose `spec.selector` is a LabelSelector. */
const TEMPLATED_KINDS: ReadonlySet<string> = new Set(["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"]);

/** A string map of `kind` other than its own metadata: where it lives and the Go type that holds it. */
function otherMaps(kind: string): Array<{ path: string[]; goType: string; noun: string }> {
  if (kind === "Service") return [{ path: ["spec", "selector"], goType: "ServiceSpec", noun: "selector value" }];
  if (!TEMPLATED_KINDS.has(kind)) return [];
  return [
    { path: ["spec", "selector", "matchLabels"], goType: "LabelSelector", noun: "matchLabels value" },
    { path: ["spec", "template", "metadata", "labels"], goType: "ObjectMeta", noun: "pod template label" },
    { path: ["spec", "template", "metadata", "annotations"], goType: "ObjectMeta", noun: "pod template annotation" },
  ];
}

/** The JSON type name Go's decoder reports for a value it cannot put in a string. */
function jsonType(v: unknown): string {
  if (Array.isArray(v)) return "array";
  if (isRec(v)) return "object";
  if (typeof v === "boolean") return "bool";
  return typeof v;
}

function yamlValue(v: unknown): string {
  if (Array.isArray(v)) return "a list";
  if (isRec(v)) return "a mapping";
  return `the YAML ${typeof v} ${JSON.stringify(v)}`;
}

function at(root: Rec, path: readonly string[]): unknown {
  let v: unknown = root;
  for (const k of path) v = isRec(v) ? v[k] : undefined;
  return v;
}

/** Reads string maps out of one object, collecting the values the API server would refuse. */
class MapReader {
  readonly problems: StringMapProblem[] = [];
  constructor(
    private readonly raw: Rec,
    private readonly what: string,
  ) {}

  read(path: string[], goType: string, noun: string): Record<string, string> {
    const out: Record<string, string> = {};
    const v = at(this.raw, path);
    const field = path.join(".");
    if (v === undefined || v === null) return out;
    if (!isRec(v)) {
      this.problems.push({
        path,
        message: `${this.what}: ${field} is ${yamlValue(v)}, not a mapping: the API server refuses the object (cannot unmarshal ${jsonType(v)} into Go struct field ${goType}.${field} of type map[string]string)`,
        expected: "a mapping of names to string values",
        value: v,
      });
      return out;
    }
    for (const [k, val] of Object.entries(v)) {
      if (typeof val === "string") out[k] = val;
      else if (val === null) out[k] = "";
      else {
        this.problems.push({
          path: [...path, k],
          message: `${this.what}: the ${noun} ${k} is ${yamlValue(val)}, not a string: the API server refuses the object (cannot unmarshal ${jsonType(val)} into Go struct field ${goType}.${field} of type string)`,
          expected: Array.isArray(val) || isRec(val) ? "a string" : `a string: quote it, "${String(val)}"`,
          value: val,
        });
      }
    }
    return out;
  }
}

/**
 * `metadata.labels` and `metadata.annotations` of `raw` (an object as parsed), and every value in
 * them the API server would refuse. `what` names the object in messages (`HTTPRoute shop/web`).
 */
export function metadataStringMaps(raw: Rec, what: string): ObjectStringMaps {
  const r = new MapReader(raw, what);
  const labels = r.read(["metadata", "labels"], "ObjectMeta", "label");
  const annotations = r.read(["metadata", "annotations"], "ObjectMeta", "annotation");
  return { labels, annotations, problems: r.problems };
}

/**
 * The refused values in the string maps below `spec`: a workload's selector and pod template
 * labels and annotations, a Service's selector. The manifest parser leaves these to the views that
 * read them (so `meshsim check` reports them with the rest); a scenario refuses them at load.
 */
export function specStringMapProblems(raw: Rec, kind: string, what: string): StringMapProblem[] {
  const r = new MapReader(raw, what);
  const maps = otherMaps(kind).map((m) => r.read(m.path, m.goType, m.noun));
  if (r.problems.length === 0 && SELECTOR_CHECKED_KINDS.has(kind)) {
    const [selector = {}, labels = {}] = maps;
    const mismatch = selectorMismatch(selector, labels, what);
    if (mismatch !== undefined) r.problems.push(mismatch);
  }
  return r.problems;
}

/** Kinds whose selector the API server requires to select their own pod template (a Job's is generated). */
const SELECTOR_CHECKED_KINDS: ReadonlySet<string> = new Set(["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"]);

/**
 * A workload whose `matchLabels` its own pod template does not carry: the API server refuses it
 * ("`selector` does not match template `labels`"), so its pods would never exist. An absent or
 * empty `matchLabels` is left alone (meshsim reads such a workload by its template).
 */
function selectorMismatch(selector: Record<string, string>, labels: Record<string, string>, what: string): StringMapProblem | undefined {
  const missing = Object.keys(selector).find((k) => labels[k] !== selector[k]);
  if (missing === undefined) return undefined;
  const want = `${missing}: ${JSON.stringify(selector[missing])}`;
  const got = labels[missing] === undefined ? "has no label " + missing : `has ${missing}: ${JSON.stringify(labels[missing])}`;
  return {
    path: ["spec", "template", "metadata", "labels"],
    message: `${what}: spec.selector.matchLabels asks for ${want} but the pod template ${got}: the API server refuses the object (\`selector\` does not match template \`labels\`)`,
    expected: `pod template labels that include every matchLabels entry (${want})`,
    value: labels,
  };
}
