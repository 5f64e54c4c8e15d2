// Which of the two outbound routing stacks a logical destination uses: the ServiceProfile stack
// (profile routes, retry budget, TrafficSplit) or the client-policy stack (HTTPRoute/GRPCRoute,
// retry/timeout annotations, failure accrual) — and what the winner switches off.
// Mirrors linkerd2-proxy `linkerd/app/outbound/src/sidecar.rs` (`should_override_policy`) and
// `linkerd/service-profiles/src/lib.rs` (`has_routes_or_targets`) @ release/v2.246.0.
// Difference: a profile `kubectl apply` would refuse is treated as absent (the cluster never stores it).

import { type Diagnostic, objectRef } from "./diagnostics.js";
import type { ServiceProfile } from "./service-profile.js";
import { proxyTargets } from "./traffic-split.js";

export type RoutingStack = "profile" | "policy";

/** Client-policy features a winning ServiceProfile switches off for its destination. */
export type DisabledFeature = "httproute-routing" | "route-annotations" | "service-annotations" | "failure-accrual";

export const DISABLED_FEATURE_LABELS: Readonly<Record<DisabledFeature, string>> = {
  "httproute-routing": "HTTPRoute/GRPCRoute routing (matches, backendRefs, filters)",
  "route-annotations": "retry.linkerd.io/* and timeout.linkerd.io/* annotations on HTTPRoutes/GRPCRoutes",
  "service-annotations": "retry.linkerd.io/* and timeout.linkerd.io/* annotations on the Service",
  "failure-accrual": "failure accrual (balancer.linkerd.io/failure-accrual circuit breaking)",
};

const ALL_DISABLED: readonly DisabledFeature[] = ["httproute-routing", "route-annotations", "service-annotations", "failure-accrual"];

export interface StackSelection {
  stack: RoutingStack;
  reason: string;
  /** What the ServiceProfile stack switches off; empty on the client-policy stack. */
  disabled: DisabledFeature[];
}

/**
 * The proxy overrides client policy iff the profile it received has at least one route or at least
 * one dstOverride target (after dropping weight-0 ones). `port` is the destination port, used only
 * to complete dstOverride authorities.
 */
export function selectStack(profile: ServiceProfile | undefined, port?: number): StackSelection {
  const policy = (reason: string): StackSelection => ({ stack: "policy", reason, disabled: [] });
  if (profile === undefined) {
    return policy("no ServiceProfile: the destination controller sends a default profile with no routes and no dstOverrides");
  }
  const ref = objectRef("ServiceProfile", profile.namespace, profile.name);
  if (profile.admissionRejected) return policy(`${ref} would be refused by \`kubectl apply\`, so it does not exist in the cluster`);
  if (profile.service === undefined) return policy(`${ref} is not named <service>.<namespace>.svc.<cluster-domain>, so it never applies`);
  if (profile.rejected) {
    return policy(`the destination controller sends no update for ${ref}; proxies keep what they had, assumed here to be the default profile`);
  }
  const targets = proxyTargets(profile.dstOverrides, port).targets.length;
  const routes = profile.routes.length;
  if (routes === 0 && targets === 0) {
    const dropped = profile.dstOverrides.length > 0 ? ` (its ${profile.dstOverrides.length} dstOverride(s) all weigh 0 or are invalid)` : "";
    return policy(`${ref} has no routes and no dstOverride targets${dropped}, so it does not override client policy`);
  }
  return {
    stack: "profile",
    reason: `${ref} has ${routes} route(s) and ${targets} dstOverride target(s), so the ServiceProfile stack handles this destination`,
    disabled: [...ALL_DISABLED],
  };
}

/** A route object attached (parentRef) to the Service. */
export interface AttachedRoute {
  kind: string;
  name: string;
  namespace: string;
  annotations?: Readonly<Record<string, unknown>>;
}

export interface StackContext {
  /** The Service clients call. */
  service: { name: string; namespace: string; annotations?: Readonly<Record<string, unknown>> };
  /** The ServiceProfile that applies to it; undefined ⇒ none. */
  profile: ServiceProfile | undefined;
  /** HTTPRoutes/GRPCRoutes whose parentRef is the Service; absent ⇒ none. */
  routes?: readonly AttachedRoute[];
  /** Destination port; absent ⇒ dstOverride authorities are checked as written. */
  port?: number;
}

const POLICY_ANNOTATION_PREFIXES = ["retry.linkerd.io/", "timeout.linkerd.io/"];
const ACCRUAL_PREFIX = "balancer.linkerd.io/failure-accrual";

function keysWith(annotations: Readonly<Record<string, unknown>> | undefined, prefixes: readonly string[]): string[] {
  return Object.keys(annotations ?? {}).filter((k) => prefixes.some((p) => k.startsWith(p))).sort();
}

/**
 * What `meshsim check` should say when a ServiceProfile and client-policy configuration meet on
 * one Service: what the winning ServiceProfile silences, or why a present one changes nothing.
 */
export function stackConflictDiagnostics(ctx: StackContext): Diagnostic[] {
  const selection = selectStack(ctx.profile, ctx.port);
  const svcRef = objectRef("Service", ctx.service.namespace, ctx.service.name);
  const routes = ctx.routes ?? [];
  const policyKeys = keysWith(ctx.service.annotations, POLICY_ANNOTATION_PREFIXES);
  const accrualKeys = keysWith(ctx.service.annotations, [ACCRUAL_PREFIX]);
  const out: Diagnostic[] = [];
  const profile = ctx.profile;
  if (profile === undefined) return out;
  const spRef = objectRef("ServiceProfile", profile.namespace, profile.name);
  if (selection.stack === "policy") {
    if (routes.length > 0 || policyKeys.length > 0 || accrualKeys.length > 0) {
      out.push({ severity: "info", code: "profile-not-overriding", object: spRef, field: "spec",
        message: `${selection.reason}: the HTTPRoutes and annotations of ${svcRef} stay in effect.` });
    }
    return out;
  }
  const why = `${spRef} has routes or dstOverrides, so the proxy uses the ServiceProfile stack for ${svcRef}`;
  for (const route of routes) {
    const keys = keysWith(route.annotations, POLICY_ANNOTATION_PREFIXES);
    const extra = keys.length > 0 ? `, including its annotations ${keys.join(", ")}` : "";
    out.push({ severity: "warning", code: "profile-overrides-httproute", object: objectRef(route.kind, route.namespace, route.name), field: "spec.parentRefs",
      message: `${why}: this ${route.kind} is ignored for that destination (matches, backendRefs, filters${extra}).` });
  }
  if (policyKeys.length > 0) {
    out.push({ severity: "warning", code: "profile-overrides-service-annotations", object: svcRef, field: "metadata.annotations",
      message: `${why}: the annotations ${policyKeys.join(", ")} on ${svcRef} are ignored; only the ServiceProfile's isRetryable routes, retry budget and route timeouts apply.` });
  }
  if (accrualKeys.length > 0) {
    out.push({ severity: "warning", code: "profile-disables-failure-accrual", object: svcRef, field: "metadata.annotations",
      message: `${why}: failure accrual is off on that stack, so ${accrualKeys.join(", ")} on ${svcRef} has no effect (no circuit breaking).` });
  }
  return out;
}
