// Multicluster service mirroring: the Link CR, which remote Services are exported and how, the
// mirror Service's name/labels/annotations and the gateway-mode mirror Endpoints.
// Mirrors linkerd2 `pkg/multicluster/link.go` (NewLink), `pkg/k8s/labels.go` and
// `multicluster/service-mirror/cluster_watcher.go` (isExported, isRemoteDiscovery,
// getMirrorService*, createGatewayEndpoints, updateReadiness) @ version-2.16. Deliberate
// differences: gateway DNS resolution is done by the caller; objects are returned, not written.

import { type Diagnostic, type Parsed, objectRef } from "./diagnostics.js";
import { parseGoDuration } from "./duration.js";
import { isEndpointsReady } from "./failover.js";

export const EXPORTED_LABEL = "mirror.linkerd.io/exported";
export const MIRRORED_SERVICE_LABEL = "mirror.linkerd.io/mirrored-service";
export const CLUSTER_NAME_LABEL = "mirror.linkerd.io/cluster-name";
export const REMOTE_DISCOVERY_LABEL = "multicluster.linkerd.io/remote-discovery";
export const REMOTE_SERVICE_LABEL = "multicluster.linkerd.io/remote-service";
export const REMOTE_RESOURCE_VERSION_ANNOTATION = "mirror.linkerd.io/remote-resource-version";
export const REMOTE_SVC_FQ_NAME_ANNOTATION = "mirror.linkerd.io/remote-svc-fq-name";
export const REMOTE_GATEWAY_IDENTITY_ANNOTATION = "mirror.linkerd.io/remote-gateway-identity";
/** Remote labels starting with this are not copied to the mirror. */
const SVC_MIRROR_PREFIX = "mirror.linkerd.io";
/** Topology hints are not multicluster-aware, so they are not copied. */
const DROPPED_ANNOTATIONS = ["service.kubernetes.io/topology-aware-hints", "service.kubernetes.io/topology-mode"];

/** `gateway`: traffic via the remote gateway; `remote-discovery`: pod-to-pod (flat network). */
export type ExportMode = "gateway" | "remote-discovery" | "not-exported";

/** A Kubernetes LabelSelector. */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
}

/** A parsed Link (`multicluster.linkerd.io/v1alpha1`). */
export interface Link {
  name: string;
  namespace: string;
  targetClusterName: string;
  targetClusterDomain: string;
  targetClusterLinkerdNamespace: string;
  clusterCredentialsSecret: string;
  /** `gatewayAddress` split on commas (hostnames or IPs, resolved by the caller); empty ⇒ no gateway. */
  gatewayAddresses: string[];
  /** Port every mirror Endpoints port is rewritten to. CLI default 4143. */
  gatewayPort: number;
  gatewayIdentity: string;
  /** Probe of the remote gateway (see `gateway-probe.ts`). */
  probeSpec: {
    /** HTTP path; CLI default `/ready`; empty ⇒ no probe worker, gateway always considered alive. */
    path: string;
    /** Probe port on `probe-gateway-<cluster>`; CLI default 4191 (the gateway proxy's admin port). */
    port: number;
    /** Base period between probes, µs (a Go duration string in the Link); CLI default 3 s. */
    periodUs: number;
  };
  /** Gateway-mode export selector; absent or empty ⇒ matches nothing. */
  selector?: LabelSelector;
  /** Remote-discovery export selector; absent or empty ⇒ matches nothing. */
  remoteDiscoverySelector?: LabelSelector;
}

/** What `linkerd multicluster link` writes when not told otherwise. */
export const LINK_DEFAULTS = {
  namespace: "linkerd-multicluster",
  targetClusterDomain: "cluster.local",
  targetClusterLinkerdNamespace: "linkerd",
  gatewayPort: 4143,
  probePort: 4191,
  probePath: "/ready",
  probePeriodUs: 3_000_000,
  selector: { matchLabels: { [EXPORTED_LABEL]: "true" } } as LabelSelector,
  remoteDiscoverySelector: { matchLabels: { [EXPORTED_LABEL]: "remote-discovery" } } as LabelSelector,
} as const;

/** Mirror Service name: `<remoteSvcName>-<targetClusterName>`, same namespace. */
export function mirrorServiceName(remoteName: string, targetClusterName: string): string {
  return `${remoteName}-${targetClusterName}`;
}

/** Local Service the probe worker calls: `probe-gateway-<cluster>`. */
export function probeGatewayServiceName(targetClusterName: string): string {
  return `probe-gateway-${targetClusterName}`;
}

/** Export mode from the `mirror.linkerd.io/exported` value under the default selectors. */
export function exportModeForLabelValue(value: string | undefined): ExportMode {
  if (value === "true") return "gateway";
  if (value === "remote-discovery") return "remote-discovery";
  return "not-exported";
}

/**
 * Does a Link selector match these labels? Unlike Kubernetes, an absent or empty selector matches
 * nothing (so an unset field never exports every Service); an invalid one matches nothing too.
 */
export function selectorMatches(selector: LabelSelector | undefined, labels: Readonly<Record<string, string>>): boolean {
  if (selector === undefined) return false;
  const ml = Object.entries(selector.matchLabels ?? {});
  const me = selector.matchExpressions ?? [];
  if (ml.length + me.length === 0) return false;
  if (!ml.every(([k, v]) => labels[k] === v)) return false;
  return me.every((e) => {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    const values = e.values ?? [];
    switch (e.operator) {
      case "In":
        return values.length > 0 && has && values.includes(labels[e.key] ?? "");
      case "NotIn":
        return values.length > 0 && (!has || !values.includes(labels[e.key] ?? ""));
      case "Exists":
        return values.length === 0 && has;
      case "DoesNotExist":
        return values.length === 0 && !has;
      default:
        return false;
    }
  });
}

/** How a remote Service is mirrored under a Link; remote discovery wins if both selectors match. */
export function exportModeFor(
  labels: Readonly<Record<string, string>>,
  link: Pick<Link, "selector" | "remoteDiscoverySelector">,
): { mode: ExportMode; reason: string } {
  if (selectorMatches(link.remoteDiscoverySelector, labels)) {
    return { mode: "remote-discovery", reason: "matches-remote-discovery-selector" };
  }
  if (selectorMatches(link.selector, labels)) return { mode: "gateway", reason: "matches-selector" };
  return { mode: "not-exported", reason: "matches-no-selector" };
}

/** The remote Service as the service mirror reads it. */
export interface RemoteService {
  name: string;
  namespace: string;
  labels?: Readonly<Record<string, string>>;
  annotations?: Readonly<Record<string, string>>;
  resourceVersion?: string;
  ports?: ReadonlyArray<{ name?: string; protocol?: string; port: number }>;
}

export interface MirrorServiceMeta {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** Name, labels and annotations of the local mirror Service. */
export function mirrorServiceMeta(
  remote: RemoteService,
  link: Pick<Link, "targetClusterName" | "targetClusterDomain">,
  mode: Exclude<ExportMode, "not-exported">,
): MirrorServiceMeta {
  const labels: Record<string, string> = { [MIRRORED_SERVICE_LABEL]: "true" };
  for (const [k, v] of Object.entries(remote.labels ?? {})) {
    if (!k.startsWith(SVC_MIRROR_PREFIX)) labels[k] = v;
  }
  labels[CLUSTER_NAME_LABEL] = link.targetClusterName;
  if (mode === "remote-discovery") {
    labels[REMOTE_DISCOVERY_LABEL] = link.targetClusterName;
    labels[REMOTE_SERVICE_LABEL] = remote.name;
  }
  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(remote.annotations ?? {})) {
    if (!DROPPED_ANNOTATIONS.includes(k)) annotations[k] = v;
  }
  annotations[REMOTE_SVC_FQ_NAME_ANNOTATION] = `${remote.name}.${remote.namespace}.svc.${link.targetClusterDomain}`;
  annotations[REMOTE_RESOURCE_VERSION_ANNOTATION] = remote.resourceVersion ?? "";
  return { name: mirrorServiceName(remote.name, link.targetClusterName), namespace: remote.namespace, labels, annotations };
}

export interface EndpointSubset {
  addresses: Array<{ ip: string }>;
  notReadyAddresses: Array<{ ip: string }>;
  ports: Array<{ name?: string; protocol?: string; port: number }>;
}

export interface MirrorEndpoints {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  subsets: EndpointSubset[];
  /** `ready`, `remote-service-empty`, `gateway-not-alive` or `gateway-unresolved`. */
  reason: string;
}

export interface MirrorEndpointsInput {
  remote: RemoteService;
  /** The remote Service's Endpoints object (raw); ready iff some subset has `addresses`. */
  remoteEndpoints: unknown;
  /** Resolved gateway IPs; empty ⇒ resolution failed. */
  gatewayIps: readonly string[];
  /** The cluster watcher's liveness (starts true; see `gateway-probe.ts`). */
  gatewayAlive: boolean;
  link: Pick<Link, "targetClusterName" | "targetClusterDomain" | "gatewayPort" | "gatewayIdentity">;
}

/**
 * The local Endpoints of a gateway-mode mirror: gateway IPs on `gatewayPort` while the remote has a
 * ready address and the gateway is alive. Remote-discovery mirrors have no Endpoints at all, so
 * callers must not create one (linkerd-failover then sees them as never ready).
 */
export function mirrorEndpoints(input: MirrorEndpointsInput): MirrorEndpoints {
  const { remote, link } = input;
  const name = mirrorServiceName(remote.name, link.targetClusterName);
  const annotations: Record<string, string> = {
    [REMOTE_SVC_FQ_NAME_ANNOTATION]: `${remote.name}.${remote.namespace}.svc.${link.targetClusterDomain}`,
  };
  if (link.gatewayIdentity !== "") annotations[REMOTE_GATEWAY_IDENTITY_ANNOTATION] = link.gatewayIdentity;
  const base = {
    name,
    namespace: remote.namespace,
    labels: { [MIRRORED_SERVICE_LABEL]: "true", [CLUSTER_NAME_LABEL]: link.targetClusterName },
    annotations,
  };
  if (!isEndpointsReady(input.remoteEndpoints)) return { ...base, subsets: [], reason: "remote-service-empty" };
  const ports = (remote.ports ?? []).map((p) => ({ ...portMeta(p), port: link.gatewayPort }));
  const ips = input.gatewayIps.map((ip) => ({ ip }));
  if (ips.length === 0) {
    return { ...base, subsets: [{ addresses: [], notReadyAddresses: [], ports }], reason: "gateway-unresolved" };
  }
  if (!input.gatewayAlive) {
    return { ...base, subsets: [{ addresses: [], notReadyAddresses: ips, ports }], reason: "gateway-not-alive" };
  }
  return { ...base, subsets: [{ addresses: ips, notReadyAddresses: [], ports }], reason: "ready" };
}

function portMeta(p: { name?: string; protocol?: string }): { name?: string; protocol?: string } {
  const out: { name?: string; protocol?: string } = {};
  if (p.name !== undefined) out.name = p.name;
  if (p.protocol !== undefined) out.protocol = p.protocol;
  return out;
}

/** A Link as `linkerd multicluster link --cluster-name <name>` would write it. */
export function linkFromCli(opts: {
  targetClusterName: string;
  gatewayAddresses: readonly string[];
  /** Trust domain of the target cluster, for the gateway identity. Default `cluster.local`. */
  trustDomain?: string;
}): Link {
  const trustDomain = opts.trustDomain ?? "cluster.local";
  return {
    name: opts.targetClusterName,
    namespace: LINK_DEFAULTS.namespace,
    targetClusterName: opts.targetClusterName,
    targetClusterDomain: LINK_DEFAULTS.targetClusterDomain,
    targetClusterLinkerdNamespace: LINK_DEFAULTS.targetClusterLinkerdNamespace,
    clusterCredentialsSecret: `cluster-credentials-${opts.targetClusterName}`,
    gatewayAddresses: [...opts.gatewayAddresses],
    gatewayPort: LINK_DEFAULTS.gatewayPort,
    gatewayIdentity: `linkerd-gateway.linkerd-multicluster.serviceaccount.identity.linkerd.${trustDomain}`,
    probeSpec: { path: LINK_DEFAULTS.probePath, port: LINK_DEFAULTS.probePort, periodUs: LINK_DEFAULTS.probePeriodUs },
    selector: { matchLabels: { ...LINK_DEFAULTS.selector.matchLabels } },
    remoteDiscoverySelector: { matchLabels: { ...LINK_DEFAULTS.remoteDiscoverySelector.matchLabels } },
  };
}

// --- Link CR parsing -----------------------------------------------------------------------------

const LINK_STRING_FIELDS = [
  "targetClusterName",
  "targetClusterDomain",
  "targetClusterLinkerdNamespace",
  "clusterCredentialsSecret",
  "gatewayAddress",
  "gatewayPort",
  "gatewayIdentity",
] as const;

/**
 * Parse a Link object. Every spec string field and `probeSpec.{path,port,period}` is required, as
 * in `NewLink`: when one is missing or malformed the service mirror cannot load the Link and mirrors
 * nothing from that cluster, so the value is `undefined`.
 */
export function parseLink(obj: unknown): Parsed<Link | undefined> {
  const meta = record(record(obj)?.["metadata"]);
  const name = str(meta?.["name"]) ?? "";
  const namespace = str(meta?.["namespace"]) ?? "";
  const ref = objectRef("Link", namespace, name);
  const diags: Diagnostic[] = [];
  const fail = (code: string, field: string, message: string): void => {
    diags.push({ severity: "error", code, object: ref, field, message });
  };
  const spec = record(record(obj)?.["spec"]);
  if (spec === undefined) {
    fail("link-field-missing", "spec", `${lost(name)}: the Link has no spec.`);
    return { value: undefined, diagnostics: diags };
  }
  const fields = new Map<string, string>();
  const take = (o: Record<string, unknown> | undefined, key: string, path: string): void => {
    const v = o?.[key];
    if (v === undefined) fail("link-field-missing", path, `${lost(name)}: ${path} is missing.`);
    else if (typeof v !== "string") {
      fail("link-field-not-string", path, `${lost(name)}: ${path} must be a string (write it quoted, e.g. "${String(v)}").`);
    } else fields.set(path, v);
  };
  for (const f of LINK_STRING_FIELDS) take(spec, f, `spec.${f}`);
  const probe = record(spec["probeSpec"]);
  for (const f of ["path", "port", "period"]) take(probe, f, `spec.probeSpec.${f}`);
  const gatewayPort = port(fields.get("spec.gatewayPort"), "spec.gatewayPort", name, fail);
  const probePort = port(fields.get("spec.probeSpec.port"), "spec.probeSpec.port", name, fail);
  const periodStr = fields.get("spec.probeSpec.period");
  const period = periodStr === undefined ? undefined : parseGoDuration(periodStr);
  const periodUs = period?.ok === true ? period.us : undefined;
  if (period !== undefined && !period.ok) {
    fail("link-probe-period-invalid", "spec.probeSpec.period",
      `${lost(name)}: probe period "${periodStr}" is not a Go duration such as "3s" (${period.error}).`);
  } else if (periodUs !== undefined && periodUs <= 0 && fields.get("spec.probeSpec.path") !== "") {
    // The probe worker's jittered ticker panics on a non-positive period, crash-looping the mirror.
    fail("link-probe-period-invalid", "spec.probeSpec.period",
      `${lost(name)}: probe period "${periodStr}" is not positive, which crashes the service mirror's probe ticker.`);
  }
  const selector = parseSelector(spec["selector"], "spec.selector", ref, diags);
  const rdSelector = parseSelector(spec["remoteDiscoverySelector"], "spec.remoteDiscoverySelector", ref, diags);
  if (diags.some((d) => d.severity === "error")) return { value: undefined, diagnostics: diags };
  const get = (k: string): string => fields.get(k) ?? "";
  const link: Link = {
    name,
    namespace,
    targetClusterName: get("spec.targetClusterName"),
    targetClusterDomain: get("spec.targetClusterDomain"),
    targetClusterLinkerdNamespace: get("spec.targetClusterLinkerdNamespace"),
    clusterCredentialsSecret: get("spec.clusterCredentialsSecret"),
    gatewayAddresses: get("spec.gatewayAddress").split(",").map((a) => a.trim()).filter((a) => a !== ""),
    gatewayPort: gatewayPort ?? 0,
    gatewayIdentity: get("spec.gatewayIdentity"),
    probeSpec: { path: get("spec.probeSpec.path"), port: probePort ?? 0, periodUs: periodUs ?? 0 },
  };
  if (selector !== undefined) link.selector = selector;
  if (rdSelector !== undefined) link.remoteDiscoverySelector = rdSelector;
  diags.push(...linkNotes(link, ref));
  return { value: link, diagnostics: diags };
}

function lost(name: string): string {
  return `the service mirror cannot load Link "${name}" and mirrors nothing from its cluster`;
}

function port(
  s: string | undefined,
  field: string,
  name: string,
  fail: (code: string, field: string, message: string) => void,
): number | undefined {
  if (s === undefined) return undefined;
  const n = /^[0-9]+$/.test(s) ? Number(s) : NaN;
  if (!(n <= 0xffffffff)) {
    fail("link-port-invalid", field, `${lost(name)}: ${field} "${s}" is not an unsigned decimal integer.`);
    return undefined;
  }
  return n;
}

function parseSelector(v: unknown, field: string, ref: string, diags: Diagnostic[]): LabelSelector | undefined {
  const sel = record(v);
  const ml = record(sel?.["matchLabels"]) ?? {};
  const me = Array.isArray(sel?.["matchExpressions"]) ? (sel?.["matchExpressions"] as unknown[]) : [];
  const mode = field === "spec.selector" ? "gateway mode" : "remote-discovery mode";
  if (Object.keys(ml).length + me.length === 0) {
    diags.push({
      severity: field === "spec.selector" ? "warning" : "info",
      code: "link-selector-empty",
      object: ref,
      field,
      message: `${field} is absent or empty, which Linkerd treats as matching nothing: no Service is mirrored in ${mode}.`,
    });
    return undefined;
  }
  const out: LabelSelector = { matchLabels: {} };
  for (const [k, val] of Object.entries(ml)) if (typeof val === "string" && out.matchLabels) out.matchLabels[k] = val;
  const exprs: NonNullable<LabelSelector["matchExpressions"]> = [];
  for (const e of me) {
    const r = record(e);
    const values = Array.isArray(r?.["values"]) ? (r?.["values"] as unknown[]).filter((x) => typeof x === "string") : [];
    const expr = { key: str(r?.["key"]) ?? "", operator: str(r?.["operator"]) ?? "", values: values as string[] };
    if (!["In", "NotIn", "Exists", "DoesNotExist"].includes(expr.operator)) {
      diags.push({ severity: "warning", code: "link-selector-invalid", object: ref, field,
        message: `${field} has operator "${expr.operator}": Linkerd logs "Invalid selector" and mirrors nothing in ${mode}.` });
    }
    exprs.push(expr);
  }
  if (exprs.length > 0) out.matchExpressions = exprs;
  return out;
}

function linkNotes(link: Link, ref: string): Diagnostic[] {
  const notes: Diagnostic[] = [];
  if (link.gatewayAddresses.length === 0) {
    notes.push({ severity: "info", code: "link-no-gateway", object: ref, field: "spec.gatewayAddress",
      message: "No gateway address: gateway-mode mirrors get no addresses; only remote-discovery (pod-to-pod) works." });
  }
  if (link.probeSpec.path === "") {
    notes.push({ severity: "info", code: "link-probe-disabled", object: ref, field: "spec.probeSpec.path",
      message: "Empty probe path: no probe worker runs, so the gateway is always considered alive." });
  }
  return notes;
}

function record(v: unknown): Record<string, unknown> | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}
