// A Kubernetes object as it entered meshsim: the plain parsed YAML (kept whole, so real objects
// may carry status, managedFields and anything else) plus where it came from, so diagnostics can
// point at file:line:col.

/** Where something was written. `line` and `col` are 1-based. */
export interface SourcePosition {
  file: string;
  line: number;
  col: number;
}

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    /** Absent for cluster-scoped objects; namespaced objects default to "default" when loaded. */
    namespace?: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
    /** RFC 3339 as written, if any (HTTPRoute precedence uses it). */
    creationTimestamp?: string;
  };
  /** The object exactly as parsed (including metadata, spec, status, ...). */
  raw: Record<string, unknown>;
  /** Where the object starts. */
  source: SourcePosition;
  /** Position of a field path inside the object (e.g. ["spec", "routes", 0, "timeout"]), best effort. */
  positionOf(path: ReadonlyArray<string | number>): SourcePosition;
}

/** `Kind namespace/name`, the way diagnostics name objects. */
export function describeObject(o: K8sObject): string {
  return o.metadata.namespace === undefined ? `${o.kind} ${o.metadata.name}` : `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`;
}
