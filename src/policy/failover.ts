// The linkerd-failover operator's reconcile: readiness in, 0/1 TrafficSplit weights out.
// Mirrors linkerd-failover `controller/src/traffic_split.rs::update` and `lib.rs::endpoints_ready`
// (HEAD, logic unchanged since 0.1.x). Deliberate differences: readiness is a function passed in
// (upstream reads its Endpoints cache), and the patch is returned as data for the caller to apply
// (upstream sends it to a patch task). Real Linkerd never looks at success rate and never ramps;
// the guide's gradual, success-rate-driven failover lives in `failover-success-rate.ts`.

import type { Diagnostic } from "./diagnostics.js";

/** Annotation naming the primary backend; absent ⇒ the first backend is the primary. */
export const PRIMARY_SERVICE_ANNOTATION = "failover.linkerd.io/primary-service";
/** Label the operator selects TrafficSplits by (`failover.linkerd.io/controlled-by=<release>`). */
export const CONTROLLED_BY_LABEL = "failover.linkerd.io/controlled-by";
/** Default Helm release name, hence the default selector value. */
export const DEFAULT_FAILOVER_SELECTOR = "linkerd-failover";
/** Field manager used for the merge patch (kept for traces; the simulator applies the patch). */
export const FAILOVER_FIELD_MANAGER = "failover.linkerd.io";

/** One `spec.backends[]` entry of a `split.smi-spec.io/v1alpha2` TrafficSplit. */
export interface SplitBackend {
  service: string;
  /** Relative weight (u32 upstream); the operator only ever writes 0 or 1. */
  weight: number;
}

/** The parts of a TrafficSplit the operator reads. */
export interface FailoverSplit {
  name: string;
  namespace: string;
  /** `metadata.annotations`; absent ⇒ none. */
  annotations?: Readonly<Record<string, string>> | undefined;
  /** `metadata.labels`; absent ⇒ none (so the split is not selected). */
  labels?: Readonly<Record<string, string>> | undefined;
  backends: readonly SplitBackend[];
}

export interface FailoverOptions {
  /**
   * Value of the `failover.linkerd.io/controlled-by` label that selects splits (the Helm release
   * name, `--selector` upstream). Default `"linkerd-failover"`; absent ⇒ the default.
   */
  selector?: string;
}

/** The Kubernetes Event the operator emits alongside a patch. */
export interface FailoverEvent {
  reason: "Failover";
  /** "trafficsplit/<name> switching traffic to primary" or "... failing over to fallbacks". */
  note: string;
}

export interface FailoverPatch {
  kind: "patch";
  /** The whole new `spec.backends` list (a JSON merge patch replaces the list). */
  backends: SplitBackend[];
  /** True iff the primary had ready endpoints. */
  primaryActive: boolean;
  primary: string;
  event: FailoverEvent;
  /** `primary-ready`, `primary-not-ready` or `nothing-ready`. */
  reason: string;
  /** Plain-words explanation for traces and reports. */
  detail: string;
}

export interface FailoverNone {
  kind: "none";
  /** `not-selected`, `no-backends` or `unchanged`. */
  reason: string;
  detail: string;
}

export type FailoverDecision = FailoverPatch | FailoverNone;

/** True iff the split carries `failover.linkerd.io/controlled-by=<selector>`. */
export function isSplitSelected(split: FailoverSplit, selector: string = DEFAULT_FAILOVER_SELECTOR): boolean {
  return split.labels?.[CONTROLLED_BY_LABEL] === selector;
}

/** The primary backend's service: the annotation if present, else the first backend's. */
export function primaryServiceOf(split: FailoverSplit): string | undefined {
  const annotated = split.annotations?.[PRIMARY_SERVICE_ANNOTATION];
  if (annotated !== undefined) return annotated;
  return split.backends[0]?.service;
}

/**
 * What `meshsim check` says about a split the operator watches: a primary (annotated) that is not
 * among the backends has no weight of its own, so each reconcile writes 0 to every listed backend
 * while the primary is ready (all traffic to no backend) and 1 to the ready ones when it is not.
 */
export function failoverDiagnostics(split: FailoverSplit, object: string): Diagnostic[] {
  if (split.labels?.[CONTROLLED_BY_LABEL] === undefined) return [];
  const primary = primaryServiceOf(split);
  if (primary === undefined || split.backends.some((b) => b.service === primary)) return [];
  return [{
    severity: "warning",
    code: "failover-primary-not-a-backend",
    object,
    field: `metadata.annotations["${PRIMARY_SERVICE_ANNOTATION}"]`,
    message:
      `the primary Service ${primary} is not among spec.backends (${split.backends.map((b) => b.service).join(", ")}): while ${primary} has ready endpoints, ` +
      `the linkerd-failover operator sets every listed backend's weight to 0 (so no backend carries the apex's traffic), and fails over to the ready ones only when ${primary} has none. ` +
      `A success-rate ramp (the guide's gradual failover) skips this split. Add ${primary} to spec.backends or name one of them.`,
  }];
}

/**
 * One reconcile of one TrafficSplit. `endpointsReady(service)` answers for a Service in the
 * split's namespace (use `isEndpointsReady` on its Endpoints object).
 */
export function reconcileFailover(
  split: FailoverSplit,
  endpointsReady: (service: string) => boolean,
  opts: FailoverOptions = {},
): FailoverDecision {
  const selector = opts.selector ?? DEFAULT_FAILOVER_SELECTOR;
  if (!isSplitSelected(split, selector)) {
    const actual = split.labels?.[CONTROLLED_BY_LABEL];
    return {
      kind: "none",
      reason: "not-selected",
      detail:
        actual === undefined
          ? `trafficsplit/${split.name} has no ${CONTROLLED_BY_LABEL} label; the operator does not watch it`
          : `trafficsplit/${split.name} is labelled ${CONTROLLED_BY_LABEL}=${actual}, not ${selector}; the operator does not watch it`,
    };
  }
  const primary = primaryServiceOf(split);
  if (primary === undefined) {
    return { kind: "none", reason: "no-backends", detail: `trafficsplit/${split.name} has no backends; skipped` };
  }
  const primaryActive = endpointsReady(primary);
  let changed = false;
  const backends = split.backends.map((b) => {
    // If the primary is ready, only the primary is active; otherwise every ready backend is.
    const active = primaryActive ? b.service === primary : endpointsReady(b.service);
    const weight = active ? 1 : 0;
    if (weight !== b.weight) changed = true;
    return { service: b.service, weight };
  });
  if (!changed) {
    return { kind: "none", reason: "unchanged", detail: `trafficsplit/${split.name} weights already match readiness` };
  }
  return {
    kind: "patch",
    backends,
    primaryActive,
    primary,
    event: {
      reason: "Failover",
      note: primaryActive
        ? `trafficsplit/${split.name} switching traffic to primary`
        : `trafficsplit/${split.name} failing over to fallbacks`,
    },
    ...describePatch(primary, primaryActive, backends),
  };
}

function describePatch(
  primary: string,
  primaryActive: boolean,
  backends: readonly SplitBackend[],
): { reason: string; detail: string } {
  if (primaryActive) {
    return { reason: "primary-ready", detail: `primary ${primary} has ready endpoints: all weight to it, fallbacks 0` };
  }
  const ready = backends.filter((b) => b.weight === 1).map((b) => b.service);
  if (ready.length === 0) {
    // The README promises to keep the old weights unless a fallback is ready; the code has no such
    // guard, so every weight becomes 0 and proxies fall back to the apex Service itself.
    return {
      reason: "nothing-ready",
      detail: `neither primary ${primary} nor any fallback has ready endpoints: every weight set to 0`,
    };
  }
  return {
    reason: "primary-not-ready",
    detail: `primary ${primary} has no ready endpoints: weight 1 each to ready fallbacks ${ready.join(", ")}`,
  };
}

/**
 * Readiness as the operator sees it: the Endpoints object exists and at least one subset has a
 * non-empty `addresses` list (`notReadyAddresses` do not count). Reads a raw object defensively.
 */
export function isEndpointsReady(endpoints: unknown): boolean {
  if (!isRecord(endpoints)) return false;
  const subsets = endpoints["subsets"];
  if (!Array.isArray(subsets)) return false;
  return subsets.some((s) => isRecord(s) && Array.isArray(s["addresses"]) && s["addresses"].length > 0);
}

/**
 * Which watched splits an Endpoints Applied/Deleted event re-reconciles: those in the same
 * namespace with a backend of that name (upstream `endpoints.rs`). Order follows `splits`.
 */
export function splitsAffectedByEndpoints(
  splits: readonly FailoverSplit[],
  endpoints: { namespace: string; name: string },
): FailoverSplit[] {
  return splits.filter(
    (s) => s.namespace === endpoints.namespace && s.backends.some((b) => b.service === endpoints.name),
  );
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
