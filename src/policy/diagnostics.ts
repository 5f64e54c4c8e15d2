// Diagnostics returned by every parser: what is wrong, in which object and field, and what real
// Linkerd will actually do about it. `meshsim check` prints these; the simulator acts on the
// parsed value, which is already what Linkerd would end up with.

export type Severity = "error" | "warning" | "info";

export interface Diagnostic {
  severity: Severity;
  /** Stable kebab-case identifier, e.g. `retry-http-invalid`. */
  code: string;
  /** The Kubernetes object, as `Kind namespace/name`. */
  object: string;
  /** Field path inside the object, e.g. `metadata.annotations["retry.linkerd.io/http"]`. */
  field: string;
  /** What is wrong and the real consequence ("Linkerd rejects the whole annotation set, ..."). */
  message: string;
}

/** The value Linkerd ends up with, plus everything worth telling the user about how it got there. */
export interface Parsed<T> {
  value: T;
  diagnostics: Diagnostic[];
}

/** Format a Kubernetes object reference the way diagnostics name it. */
export function objectRef(kind: string, namespace: string | undefined, name: string): string {
  return namespace === undefined || namespace === "" ? `${kind} ${name}` : `${kind} ${namespace}/${name}`;
}

/** Field path for an annotation key. */
export function annotationField(key: string): string {
  return `metadata.annotations["${key}"]`;
}
