// Typed views of the Kubernetes objects the simulator builds its world from: Namespace, Deployment,
// Service. Lenient about everything the simulator ignores (status, managedFields, unknown fields)
// and strict where it reads: a wrong type there is an InputError at the field's position, and the
// Kubernetes default is used so the rest can still be checked. Also whether a workload is meshed.

import { type InputError, type PathSegment, formatPath } from "./input-error.js";
import { type K8sObject, describeObject } from "./object.js";

export const INJECT_ANNOTATION = "linkerd.io/inject";
/** Kinds whose pods the simulator runs; each carries a pod template (a Pod is its own template). */
export const WORKLOAD_KINDS: ReadonlySet<string> = new Set(["Deployment", "StatefulSet", "DaemonSet", "Pod"]);

/**
 * Whether the simulator runs this object's pods. A Pod with `ownerReferences` (as `kubectl get
 * all -o yaml` dumps them beside their ReplicaSet, StatefulSet or DaemonSet) is its controller's
 * pod, already run from the controller's template: it is not a workload of its own.
 */
export function isWorkload(obj: K8sObject): boolean {
  if (!WORKLOAD_KINDS.has(obj.kind)) return false;
  if (obj.kind !== "Pod") return true;
  const meta = obj.raw["metadata"];
  const owners = isRec(meta) ? meta["ownerReferences"] : undefined;
  return !(Array.isArray(owners) && owners.length > 0);
}
/** The container `linkerd inject --manual` adds; never the application container. */
const PROXY_CONTAINER = "linkerd-proxy";
const SECOND_US = 1_000_000;

export interface ViewResult<T> {
  value: T;
  /** Wrong types in fields the simulator reads; each one's default was used instead. */
  errors: InputError[];
}

export interface NamespaceView {
  name: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** `linkerd.io/inject` on the Namespace; absent ⇒ not set. */
  inject?: string;
}

export interface ContainerPortView {
  /** Absent ⇒ unnamed. */
  name?: string;
  containerPort: number;
  /** Default `TCP`. */
  protocol: string;
}

/** A readiness probe after Kubernetes' defaulting (a 0 or absent field takes the default). */
export interface ReadinessProbeView {
  /** Which handler the probe uses; only `httpGet` carries details. */
  handler: "httpGet" | "tcpSocket" | "grpc" | "exec" | "none";
  /** `initialDelaySeconds`; default 0. */
  initialDelayUs: number;
  /** `periodSeconds`; default 10 s. */
  periodUs: number;
  /** `timeoutSeconds`; default 1 s. */
  timeoutUs: number;
  /** Consecutive successes to become ready; default 1. */
  successThreshold: number;
  /** Consecutive failures to become unready; default 3. */
  failureThreshold: number;
  /** `httpGet` with a named port resolved against the container's ports; `path` default `/`. */
  httpGet?: { path: string; port: number };
}

/** A workload: a Deployment, StatefulSet, DaemonSet or bare Pod, and its pod template. */
export interface DeploymentView {
  /** `Deployment`, `StatefulSet`, `DaemonSet` or `Pod`. */
  kind: string;
  name: string;
  namespace: string;
  /**
   * Pods to run: `spec.replicas` (default 1) for a Deployment or StatefulSet, 1 for a Pod; a
   * DaemonSet's is undefined (one pod per node: the cluster decides).
   */
  replicas: number | undefined;
  /** `spec.selector.matchLabels`; absent ⇒ empty. */
  selector: Record<string, string>;
  templateLabels: Record<string, string>;
  templateAnnotations: Record<string, string>;
  /** `linkerd.io/inject` on the pod template; absent ⇒ not set (the namespace decides). */
  inject?: string;
  /** The pod template already has a `linkerd-proxy` container (`linkerd inject --manual` output). */
  proxyInjected: boolean;
  /** Default `default`. */
  serviceAccountName: string;
  /** The first application container's name; "" when the template has none. */
  containerName: string;
  ports: ContainerPortView[];
  /** Absent ⇒ no readiness probe: the pod is ready as soon as it runs. */
  readinessProbe?: ReadinessProbeView;
}

export interface ServicePortView {
  /** Absent ⇒ unnamed (allowed when the Service has one port). */
  name?: string;
  port: number;
  /** Container port number, or a container port name resolved per pod; default `port`. */
  targetPort: number | string;
  /** Default `TCP`. */
  protocol: string;
}

export interface ServiceView {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** `spec.selector`; undefined ⇒ no selector (Endpoints are managed by hand or by the service mirror). */
  selector?: Record<string, string>;
  ports: ServicePortView[];
  /** Default `ClusterIP`. */
  type: string;
  /** `spec.clusterIP: None`. */
  headless: boolean;
}

type Rec = Record<string, unknown>;

function isRec(v: unknown): v is Rec {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Reads fields of one object, collecting type errors with positions. */
class FieldReader {
  readonly errors: InputError[] = [];
  constructor(private readonly obj: K8sObject) {}

  error(path: readonly PathSegment[], message: string, expected: string): void {
    const at = this.obj.positionOf(path);
    this.errors.push({ file: at.file, line: at.line, col: at.col, path: formatPath(path), message: `${describeObject(this.obj)}: ${message}`, expected });
  }

  /** A mapping, or undefined when absent/null; another type is an error. */
  rec(parent: Rec, key: string, path: readonly PathSegment[]): Rec | undefined {
    const v = parent[key];
    if (v === undefined || v === null) return undefined;
    if (isRec(v)) return v;
    this.error([...path, key], `${key} is ${describeValue(v)}, not a mapping`, "a mapping");
    return undefined;
  }

  list(parent: Rec, key: string, path: readonly PathSegment[]): unknown[] {
    const v = parent[key];
    if (v === undefined || v === null) return [];
    if (Array.isArray(v)) return v;
    this.error([...path, key], `${key} is ${describeValue(v)}, not a list`, "a list");
    return [];
  }

  str(parent: Rec, key: string, path: readonly PathSegment[]): string | undefined {
    const v = parent[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v === "string") return v;
    this.error([...path, key], `${key} is ${describeValue(v)}, not a string`, `a string (quote it: "${String(v)}")`);
    return undefined;
  }

  /** An integer in [min, max]; absent/null ⇒ undefined. */
  int(parent: Rec, key: string, path: readonly PathSegment[], min: number, max: number): number | undefined {
    const v = parent[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v === "number" && Number.isInteger(v) && v >= min && v <= max) return v;
    this.error([...path, key], `${key} is ${describeValue(v)}`, `an integer in ${min}..${max}`);
    return undefined;
  }

  /** A string-to-string map such as labels or matchLabels; non-string values are errors and left out. */
  stringMap(parent: Rec, key: string, path: readonly PathSegment[]): Record<string, string> | undefined {
    const rec = this.rec(parent, key, path);
    if (rec === undefined) return undefined;
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(rec)) {
      if (typeof v === "string") out[k] = v;
      else if (v === null) out[k] = "";
      else this.error([...path, key, k], `the value of ${k} is ${describeValue(v)}, not a string`, `a string (quote it: "${String(v)}")`);
    }
    return out;
  }
}

function describeValue(v: unknown): string {
  if (Array.isArray(v)) return "a list";
  if (isRec(v)) return "a mapping";
  return `the ${typeof v} ${JSON.stringify(v)}`;
}

function rawMeta(obj: K8sObject): Rec {
  return isRec(obj.raw["metadata"]) ? obj.raw["metadata"] : {};
}

/** A Namespace: its inject annotation decides for workloads that do not say. */
export function namespaceView(obj: K8sObject): ViewResult<NamespaceView> {
  const r = new FieldReader(obj);
  const meta = rawMeta(obj);
  const annotations = r.stringMap(meta, "annotations", ["metadata"]) ?? {};
  const value: NamespaceView = { name: obj.metadata.name, labels: r.stringMap(meta, "labels", ["metadata"]) ?? {}, annotations };
  const inject = annotations[INJECT_ANNOTATION];
  if (inject !== undefined) value.inject = inject;
  return { value, errors: r.errors };
}

/**
 * A workload as the simulator runs it (apps/v1 and core/v1 defaults filled in). A Deployment,
 * StatefulSet or DaemonSet carries its pod template under `spec.template`; a bare Pod is its own.
 */
export function deploymentView(obj: K8sObject): ViewResult<DeploymentView> {
  const r = new FieldReader(obj);
  const isPod = obj.kind === "Pod";
  const spec = r.rec(obj.raw, "spec", []) ?? {};
  const selector = isPod ? {} : (r.rec(spec, "selector", ["spec"]) ?? {});
  const templatePath: PathSegment[] = isPod ? [] : ["spec", "template"];
  const template = isPod ? obj.raw : (r.rec(spec, "template", ["spec"]) ?? {});
  const tMeta = r.rec(template, "metadata", templatePath) ?? {};
  const podSpec = r.rec(template, "spec", templatePath) ?? {};
  const metaPath: PathSegment[] = [...templatePath, "metadata"];
  const podPath: PathSegment[] = [...templatePath, "spec"];
  const templateAnnotations = r.stringMap(tMeta, "annotations", metaPath) ?? {};
  const value: DeploymentView = {
    kind: obj.kind,
    name: obj.metadata.name,
    namespace: obj.metadata.namespace ?? "default",
    replicas: isPod ? 1 : obj.kind === "DaemonSet" ? undefined : (r.int(spec, "replicas", ["spec"], 0, 2_147_483_647) ?? 1),
    selector: r.stringMap(selector, "matchLabels", ["spec", "selector"]) ?? {},
    templateLabels: r.stringMap(tMeta, "labels", metaPath) ?? {},
    templateAnnotations,
    proxyInjected: false,
    serviceAccountName: r.str(podSpec, "serviceAccountName", podPath) || "default",
    containerName: "",
    ports: [],
  };
  const inject = templateAnnotations[INJECT_ANNOTATION];
  if (inject !== undefined) value.inject = inject;
  readAppContainer(r, podSpec, podPath, value);
  return { value, errors: r.errors };
}

function readAppContainer(r: FieldReader, podSpec: Rec, base: PathSegment[], value: DeploymentView): void {
  const containers = r.list(podSpec, "containers", base);
  value.proxyInjected = containers.some((c) => isRec(c) && c["name"] === PROXY_CONTAINER);
  const index = containers.findIndex((c) => !(isRec(c) && c["name"] === PROXY_CONTAINER));
  const container = containers[index];
  if (container === undefined) return;
  const path: PathSegment[] = [...base, "containers", index];
  if (!isRec(container)) {
    r.error(path, "a container is not a mapping", "a mapping with name, image, ports, ...");
    return;
  }
  value.containerName = r.str(container, "name", path) ?? "";
  r.list(container, "ports", path).forEach((raw, i) => {
    const portPath: PathSegment[] = [...path, "ports", i];
    if (!isRec(raw)) return r.error(portPath, "a container port is not a mapping", "a mapping with containerPort");
    const containerPort = r.int(raw, "containerPort", portPath, 1, 65_535);
    if (containerPort === undefined) return;
    const port: ContainerPortView = { containerPort, protocol: r.str(raw, "protocol", portPath) ?? "TCP" };
    const name = r.str(raw, "name", portPath);
    if (name !== undefined) port.name = name;
    value.ports.push(port);
  });
  const probe = r.rec(container, "readinessProbe", path);
  if (probe !== undefined) value.readinessProbe = readProbe(r, probe, [...path, "readinessProbe"], value.ports);
}

/** Kubernetes' probe defaulting: a field that is absent or 0 takes its default. */
function readProbe(r: FieldReader, probe: Rec, path: PathSegment[], ports: readonly ContainerPortView[]): ReadinessProbeView {
  const seconds = (key: string, dflt: number): number => (r.int(probe, key, path, 0, 2_147_483_647) || dflt) * SECOND_US;
  const count = (key: string, dflt: number): number => r.int(probe, key, path, 0, 2_147_483_647) || dflt;
  const view: ReadinessProbeView = {
    handler: "none",
    initialDelayUs: seconds("initialDelaySeconds", 0),
    periodUs: seconds("periodSeconds", 10),
    timeoutUs: seconds("timeoutSeconds", 1),
    successThreshold: count("successThreshold", 1),
    failureThreshold: count("failureThreshold", 3),
  };
  for (const handler of ["httpGet", "tcpSocket", "grpc", "exec"] as const) {
    if (probe[handler] !== undefined && probe[handler] !== null) {
      view.handler = handler;
      break;
    }
  }
  const httpGet = r.rec(probe, "httpGet", path);
  if (httpGet === undefined) return view;
  const port = resolveProbePort(r, httpGet, [...path, "httpGet"], ports);
  if (port !== undefined) view.httpGet = { path: r.str(httpGet, "path", [...path, "httpGet"]) || "/", port };
  return view;
}

function resolveProbePort(r: FieldReader, httpGet: Rec, path: PathSegment[], ports: readonly ContainerPortView[]): number | undefined {
  const raw = httpGet["port"];
  if (typeof raw === "string") {
    const named = ports.find((p) => p.name === raw);
    if (named !== undefined) return named.containerPort;
    const names = ports.flatMap((p) => (p.name === undefined ? [] : [p.name]));
    r.error([...path, "port"], `httpGet port "${raw}" names no port of the container`, names.length > 0 ? `one of ${names.join(", ")} or a port number` : "a port number");
    return undefined;
  }
  if (raw === undefined || raw === null) {
    r.error([...path, "port"], "httpGet has no port", "a port number or a container port name");
    return undefined;
  }
  return r.int(httpGet, "port", path, 1, 65_535);
}

/** A Service as the simulator routes to it. */
export function serviceView(obj: K8sObject): ViewResult<ServiceView> {
  const r = new FieldReader(obj);
  const meta = rawMeta(obj);
  const spec = r.rec(obj.raw, "spec", []) ?? {};
  const value: ServiceView = {
    name: obj.metadata.name,
    namespace: obj.metadata.namespace ?? "default",
    labels: r.stringMap(meta, "labels", ["metadata"]) ?? {},
    annotations: r.stringMap(meta, "annotations", ["metadata"]) ?? {},
    ports: [],
    type: r.str(spec, "type", ["spec"]) ?? "ClusterIP",
    headless: r.str(spec, "clusterIP", ["spec"]) === "None",
  };
  const selector = r.stringMap(spec, "selector", ["spec"]);
  if (selector !== undefined) value.selector = selector;
  r.list(spec, "ports", ["spec"]).forEach((raw, i) => {
    const path: PathSegment[] = ["spec", "ports", i];
    if (!isRec(raw)) return r.error(path, "a Service port is not a mapping", "a mapping with port");
    const port = r.int(raw, "port", path, 1, 65_535);
    if (port === undefined) {
      if (raw["port"] === undefined || raw["port"] === null) r.error([...path, "port"], "a Service port has no port number", "an integer in 1..65535");
      return;
    }
    const targetPort = readTargetPort(r, raw, path) ?? port;
    const view: ServicePortView = { port, targetPort, protocol: r.str(raw, "protocol", path) ?? "TCP" };
    const name = r.str(raw, "name", path);
    if (name !== undefined) view.name = name;
    value.ports.push(view);
  });
  return { value, errors: r.errors };
}

/** int-or-string: a string is a container port name, and Kubernetes requires a letter in names. */
function readTargetPort(r: FieldReader, raw: Rec, path: PathSegment[]): number | string | undefined {
  const v = raw["targetPort"];
  if (typeof v !== "string") return r.int(raw, "targetPort", path, 1, 65_535);
  if (/^[0-9]+$/.test(v)) {
    r.error([...path, "targetPort"], `targetPort is the string "${v}": Kubernetes reads a string as a port name, and a name needs a letter`, `an integer (unquoted) or a container port name`);
    return undefined;
  }
  return v;
}

/** Whether the proxy injector would mesh the Deployment's pods, and why. */
export interface MeshedDecision {
  meshed: boolean;
  reason: string;
}

/** Values of `linkerd.io/inject` that make the injector add a proxy (`ingress` is ingress mode). */
const INJECTING = new Set(["enabled", "ingress"]);

/**
 * A pod template that already carries the proxy container was injected by hand and is meshed.
 * Otherwise the injector reads `linkerd.io/inject` from the pod template if it is set there (any
 * value, `disabled` included, overrides the namespace), otherwise from the namespace.
 */
export function meshedDecision(deployment: DeploymentView, namespace: NamespaceView | undefined): MeshedDecision {
  const where = INJECT_ANNOTATION;
  if (deployment.proxyInjected) return { meshed: true, reason: `the pod template already has a ${PROXY_CONTAINER} container (\`linkerd inject --manual\` output)` };
  if (deployment.inject !== undefined && deployment.inject !== "") {
    const meshed = INJECTING.has(deployment.inject);
    return { meshed, reason: `the pod template has ${where}: ${deployment.inject}` };
  }
  const nsValue = namespace?.inject;
  if (nsValue !== undefined && nsValue !== "") {
    const meshed = INJECTING.has(nsValue);
    return { meshed, reason: `the pod template does not set ${where}; namespace ${deployment.namespace} has ${where}: ${nsValue}` };
  }
  return { meshed: false, reason: `neither the pod template nor namespace ${deployment.namespace} sets ${where}` };
}

/** `linkerd.io/inject: enabled` on the pod template, else on the namespace; `disabled` on the template wins. */
export function isMeshed(deployment: DeploymentView, namespace: NamespaceView | undefined): boolean {
  return meshedDecision(deployment, namespace).meshed;
}
