// SMI TrafficSplit → ServiceProfile dstOverrides → proxy targets: the SMI adaptor's rewrite of the
// apex's profile, the destination controller's weight conversion, the proxy's filtering. Mirrors
// linkerd-smi `pkg/adaptor/controller.go` + TrafficSplit CRD @ HEAD (Feb 2024), linkerd2
// `profile_translator.go` (`toDstOverrides`) @ version-2.16, linkerd2-proxy `service-profiles/src/
// proto.rs` (`convert_dst_override`) @ v2.246.0, apimachinery `resource.Quantity` (`MilliValue`).
// Difference: quantities beyond 2^53 milli-units lose precision (Go keeps int64/inf.Dec).

import { type Diagnostic, type Parsed, objectRef } from "./diagnostics.js";

/** One dstOverride as the destination controller sends it. */
export interface DstOverride {
  /** As written, e.g. `web-v2.prod.svc.cluster.local`; the controller appends the request's port when missing. */
  authority: string;
  /** Quantity milli-value × 10, wrapped to u32 as Go does: weight `1` ⇒ 10000, `500m` ⇒ 5000. 0 ⇒ dropped by the proxy. */
  weightDecimillis: number;
}

export type QuantityResult = { ok: true; milli: number } | { ok: false; error: string };

const QUANTITY = /^([+-]?)([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:([KMGTPE])i|([numkMGTPE])|[eE]([+-]?[0-9]+))?$/;
const DECIMAL_EXP: Readonly<Record<string, number>> = { n: -9, u: -6, m: -3, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const INT64_MAX = 2n ** 63n - 1n;
const BINARY_EXP: Readonly<Record<string, bigint>> = { K: 10n, M: 20n, G: 30n, T: 40n, P: 50n, E: 60n };

/**
 * A Kubernetes Quantity's `MilliValue()`: integers, decimals, SI suffixes n u m k M G T P E,
 * binary Ki..Ei and exponents (`1e3`). Sub-milli remainders round away from zero, as MilliValue
 * does (`1u` ⇒ 1). A JSON number is read through its decimal text, like Quantity's JSON decoder.
 */
export function parseQuantityMilli(value: unknown): QuantityResult {
  if (typeof value === "number" && !Number.isFinite(value)) return { ok: false, error: `${value} is not a quantity` };
  if (typeof value !== "string" && typeof value !== "number") return { ok: false, error: `${JSON.stringify(value)} is not a quantity` };
  const text = String(value);
  const m = QUANTITY.exec(text);
  if (m === null) return { ok: false, error: `"${text}" is not a Kubernetes quantity (examples: 1, 50, 0.5, 500m, 1k)` };
  const [, sign = "", number = "", binary, decimal, exponent] = m;
  const [whole = "", fraction = ""] = number.split(".");
  let num = BigInt(`${whole}${fraction}` === "" ? "0" : `${whole}${fraction}`);
  if (binary !== undefined) num <<= BINARY_EXP[binary] ?? 0n;
  const exp10 = 3 - fraction.length + (decimal !== undefined ? (DECIMAL_EXP[decimal] ?? 0) : 0) + (exponent !== undefined ? Number(exponent) : 0);
  if (Math.abs(exp10) > 400) return { ok: false, error: `"${text}" is out of range` };
  let milli = num;
  if (exp10 >= 0) milli = num * 10n ** BigInt(exp10);
  else {
    const den = 10n ** BigInt(-exp10);
    milli = num / den + (num % den === 0n ? 0n : 1n);
  }
  // MilliValue() is an int64: a quantity whose milli-units do not fit cannot be a weight.
  if (milli > INT64_MAX) return { ok: false, error: `"${text}" is out of range (its milli-value exceeds the int64 a weight is read into)` };
  const result = Number(milli);
  return { ok: true, milli: sign === "-" && result !== 0 ? -result : result };
}

/** The destination controller's `uint32(MilliValue() * 10)`: Go wraps what does not fit. */
export function toWeightDecimillis(milli: number): number {
  return Number(BigInt.asUintN(32, BigInt(Math.trunc(milli)) * 10n));
}

export interface TrafficSplitBackend {
  service: string;
  /** The weight as written (`1`, `"500m"`, `0.5`). */
  weight: string | number;
  /** Its Quantity milli-value: `1` ⇒ 1000, `"500m"` ⇒ 500. */
  weightMilli: number;
}

export interface TrafficSplit {
  name: string;
  namespace: string;
  /** `v1alpha1` (weight int-or-string Quantity) or `v1alpha2` (weight number). */
  version: string;
  /** `spec.service`: the apex Service clients call. */
  apex: string;
  backends: TrafficSplitBackend[];
  /** Not usable: the API server refuses it or the SMI adaptor cannot decode it, so it changes nothing. */
  rejected: boolean;
}

const SMI_GROUP = "split.smi-spec.io";

/** Parse a TrafficSplit as the API server (linkerd-smi CRD) and the SMI adaptor see it. */
export function parseTrafficSplit(obj: unknown): Parsed<TrafficSplit> {
  const rec = asRec(obj);
  const meta = asRec(rec["metadata"]);
  const name = typeof meta["name"] === "string" ? meta["name"] : "";
  const namespace = typeof meta["namespace"] === "string" ? meta["namespace"] : "";
  const object = objectRef("TrafficSplit", namespace, name);
  const diagnostics: Diagnostic[] = [];
  let rejected = false;
  const fail = (field: string, code: string, message: string): void => {
    diagnostics.push({ severity: "error", code, object, field, message });
    rejected = true;
  };
  const apiVersion = typeof rec["apiVersion"] === "string" ? rec["apiVersion"] : `${SMI_GROUP}/v1alpha2`;
  const version = apiVersion.startsWith(`${SMI_GROUP}/`) ? apiVersion.slice(SMI_GROUP.length + 1) : apiVersion;
  if (version !== "v1alpha1" && version !== "v1alpha2") {
    fail("apiVersion", "split-version-unsupported", `${apiVersion} is not served by the linkerd-smi CRD (only ${SMI_GROUP}/v1alpha1 and v1alpha2): the API server rejects it.`);
  }
  const spec = asRec(rec["spec"]);
  const apex = typeof spec["service"] === "string" ? spec["service"] : "";
  if (apex === "") fail("spec.service", "split-apex-missing", "spec.service (the apex Service) is required: the API server rejects the TrafficSplit.");
  const rawBackends = Array.isArray(spec["backends"]) ? (spec["backends"] as unknown[]) : [];
  if (!Array.isArray(spec["backends"])) fail("spec.backends", "split-backends-missing", "spec.backends is required: the API server rejects the TrafficSplit.");
  const backends: TrafficSplitBackend[] = [];
  rawBackends.forEach((raw, i) => {
    const b = asRec(raw);
    const field = `spec.backends[${i}]`;
    const service = typeof b["service"] === "string" ? b["service"] : "";
    const weight = b["weight"];
    if (service === "") fail(`${field}.service`, "split-backend-invalid", "a backend needs a service name: the API server rejects the TrafficSplit.");
    const problem = weightProblem(version, weight);
    if (problem !== undefined) return fail(`${field}.weight`, "split-weight-invalid", problem);
    const parsed = parseQuantityMilli(weight);
    if (!parsed.ok) return fail(`${field}.weight`, "split-weight-invalid", `${parsed.error}: the API server stores it, but the SMI adaptor cannot decode the TrafficSplit, so it has no effect.`);
    backends.push({ service, weight: weight as string | number, weightMilli: parsed.milli });
  });
  diagnostics.push(...weightDiagnostics(object, backends));
  return { value: { name, namespace, version, apex, backends, rejected }, diagnostics };
}

function weightProblem(version: string, weight: unknown): string | undefined {
  if (weight === undefined || weight === null) return "weight is required: the API server rejects the TrafficSplit.";
  if (version === "v1alpha2" && typeof weight !== "number") return `v1alpha2 weights must be numbers, not ${JSON.stringify(weight)}: the API server rejects the TrafficSplit.`;
  if (version === "v1alpha1" && typeof weight === "number" && !Number.isInteger(weight)) {
    return `v1alpha1 weights are int-or-string, so ${weight} must be written as a string ("${weight}") or in milli-units ("${Math.round(weight * 1000)}m"): the API server rejects the TrafficSplit.`;
  }
  if (typeof weight !== "number" && typeof weight !== "string") return `weight ${JSON.stringify(weight)} is not a number: the API server rejects the TrafficSplit.`;
  return undefined;
}

function weightDiagnostics(object: string, backends: readonly TrafficSplitBackend[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  backends.forEach((b, i) => {
    if (b.weightMilli < 0) {
      out.push({ severity: "warning", code: "split-weight-negative", object, field: `spec.backends[${i}].weight`,
        message: `weight ${b.weight} is negative: the destination controller wraps it to the unsigned weight ${toWeightDecimillis(b.weightMilli)}, so this backend gets nearly all the traffic.` });
    }
  });
  if (backends.length > 0 && backends.every((b) => toWeightDecimillis(b.weightMilli) === 0)) {
    out.push({ severity: "warning", code: "split-all-weights-zero", object, field: "spec.backends",
      message: `every backend weighs 0: the proxy drops every dstOverride, so the profile has no targets. ${NO_TARGETS}` });
  }
  return out;
}

const NO_TARGETS =
  "Without ServiceProfile routes the client-policy stack applies again and requests go to the apex Service's own endpoints; with routes, the ServiceProfile stack sends them to the apex address itself.";

/** The dstOverrides the SMI adaptor writes into the apex's ServiceProfile (weights copied as written). */
export function adaptorDstOverrides(split: TrafficSplit, clusterDomain: string): { authority: string; weight: string | number }[] {
  return split.backends.map((b) => ({ authority: `${b.service}.${split.namespace}.svc.${clusterDomain}`, weight: b.weight }));
}

/** The same dstOverrides after the destination controller's conversion. */
export function dstOverridesForSplit(split: TrafficSplit, clusterDomain: string): DstOverride[] {
  return split.backends.map((b) => ({
    authority: `${b.service}.${split.namespace}.svc.${clusterDomain}`,
    weightDecimillis: toWeightDecimillis(b.weightMilli),
  }));
}

export interface ProxyTarget {
  /** `host:port`. */
  authority: string;
  /** Relative weight (decimillis); only ratios matter. */
  weight: number;
}

export interface ProxyTargetsDecision {
  targets: ProxyTarget[];
  dropped: { authority: string; reason: string }[];
  reason: string;
}

/**
 * What the proxy keeps of a profile's dstOverrides: the controller appends `port` (the destination
 * port; absent ⇒ not known yet, authorities are checked as written) to authorities without one,
 * then the proxy drops weight-0 entries and authorities that are not `name:port`.
 */
export function proxyTargets(overrides: readonly DstOverride[], port?: number): ProxyTargetsDecision {
  const targets: ProxyTarget[] = [];
  const dropped: ProxyTargetsDecision["dropped"] = [];
  for (const o of overrides) {
    const authority = o.authority.includes(":") || port === undefined ? o.authority : `${o.authority}:${port}`;
    if (o.weightDecimillis === 0) dropped.push({ authority, reason: "weight 0" });
    else if (!isNameAuthority(authority)) dropped.push({ authority, reason: "not a valid name:port authority" });
    else targets.push({ authority, weight: o.weightDecimillis });
  }
  if (targets.length === 0) {
    const why = overrides.length === 0 ? "the profile has no dstOverrides" : `all ${overrides.length} dstOverride(s) were dropped`;
    return { targets, dropped, reason: `${why}: no targets. ${NO_TARGETS}` };
  }
  const total = targets.reduce((sum, t) => sum + t.weight, 0);
  const shares = targets.map((t) => `${t.authority} ${formatPercent((100 * t.weight) / total)}`).join(", ");
  const lost = dropped.length === 0 ? "" : ` (${dropped.length} dropped: ${dropped.map((d) => `${d.authority} ${d.reason}`).join(", ")})`;
  return { targets, dropped, reason: `traffic split ${shares}${lost}` };
}

// The proxy's `NameAddr::from_str`: a DNS name and a port. Without `port` (unknown yet) a bare
// name is accepted, since the controller will append the request's port.
function isNameAuthority(authority: string): boolean {
  const m = /^([A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?\.?)(?::([0-9]{1,5}))?$/.exec(authority);
  return m !== null && (m[2] === undefined || Number(m[2]) <= 65_535);
}

function formatPercent(p: number): string {
  return `${Math.round(p * 100) / 100}%`;
}

export const SMI_SKIP_ANNOTATION = "smi.linkerd.io/skip";

export interface ProfileWrite {
  /** `create`/`update`: the adaptor writes `profile`; `skip`: the annotation protects it; `none`: nothing to do. */
  action: "create" | "update" | "skip" | "none";
  profile: Record<string, unknown> | undefined;
  reason: string;
}

/** The SMI adaptor's sync of one TrafficSplit onto the apex's ServiceProfile (`existing` = that SP, if any). */
export function applySplitToProfile(existing: unknown, split: TrafficSplit, clusterDomain: string): ProfileWrite {
  const name = `${split.apex}.${split.namespace}.svc.${clusterDomain}`;
  const dstOverrides = adaptorDstOverrides(split, clusterDomain);
  if (existing === undefined || existing === null) {
    const profile = { apiVersion: "linkerd.io/v1alpha2", kind: "ServiceProfile", metadata: { name, namespace: split.namespace }, spec: { dstOverrides } };
    return { action: "create", profile, reason: `created ServiceProfile ${split.namespace}/${name} holding only the ${dstOverrides.length} dstOverride(s)` };
  }
  return rewriteDstOverrides(existing, dstOverrides, `replaced dstOverrides of ServiceProfile ${split.namespace}/${name} (routes and retry budget kept)`);
}

/** The SMI adaptor's clean-up after a TrafficSplit is deleted: dstOverrides cleared, the SP itself kept. */
export function removeSplitFromProfile(existing: unknown): ProfileWrite {
  if (existing === undefined || existing === null) return { action: "none", profile: undefined, reason: "no ServiceProfile to clean up" };
  return rewriteDstOverrides(existing, undefined, "cleared dstOverrides (the ServiceProfile itself is kept)");
}

function rewriteDstOverrides(existing: unknown, dstOverrides: unknown[] | undefined, reason: string): ProfileWrite {
  const sp = asRec(existing);
  const annotations = asRec(asRec(sp["metadata"])["annotations"]);
  if (Object.hasOwn(annotations, SMI_SKIP_ANNOTATION)) {
    return { action: "skip", profile: sp, reason: `the ServiceProfile has annotation ${SMI_SKIP_ANNOTATION}, so the SMI adaptor leaves it alone` };
  }
  const spec: Record<string, unknown> = { ...asRec(sp["spec"]) };
  if (dstOverrides === undefined) delete spec["dstOverrides"];
  else spec["dstOverrides"] = dstOverrides;
  return { action: "update", profile: { ...sp, spec }, reason };
}

function asRec(v: unknown): Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}
