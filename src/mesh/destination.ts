// The destination and policy controllers' view of one Service: what a client proxy is told about
// `service:port` — the ServiceProfile stack (routes, retry budget, dstOverrides after the SMI
// adaptor) or the client-policy stack (HTTPRoutes/GRPCRoutes or the default route, with the retry
// and timeout annotations merged per rule and the Service's failure accrual). Every rule here is
// the policy library's; this file only gathers the objects and calls it.

import type { FailureAccrualConfig, HttpRetryConfig, RetryBudgetSpec, RouteTimeouts } from "../policy/config.js";
import { objectRef } from "../policy/diagnostics.js";
import { parseFailureAccrualConfig } from "../policy/failure-accrual-config.js";
import { parseGrpcRoute } from "../policy/grpc-route.js";
import { type BackendDistribution, effectiveBackends, type OutboundRoute, parseHttpRoute, type RouteRule, routesForParent } from "../policy/http-route.js";
import type { ProfileRoute } from "../policy/profile-routes.js";
import { mergeServiceDefaults } from "../policy/annotation-merge.js";
import { parseRetryAnnotations, parseServiceRetryAnnotations } from "../policy/retry-annotations.js";
import { parseServiceProfile, profileFqdn, type ServiceProfile } from "../policy/service-profile.js";
import { selectStack } from "../policy/stack-selection.js";
import { applyHttpRouteRuleTimeouts, parseTimeoutAnnotations } from "../policy/timeout-annotations.js";
import { applySplitToProfile, parseTrafficSplit, proxyTargets } from "../policy/traffic-split.js";
import type { K8sObject } from "../k8s/object.js";
import { re2Engine } from "../k8s/re2-engine.js";

export interface ServiceRef {
  namespace: string;
  name: string;
  port: number;
}

export const serviceKey = (s: ServiceRef): string => `${s.namespace}/${s.name}:${s.port}`;

export interface RuleConfig {
  /** `viz routes` label: the route's name (the default route is `[DEFAULT]`). */
  routeName: string;
  retry: HttpRetryConfig | undefined;
  timeouts: RouteTimeouts;
  backends: BackendDistribution;
}

export type Destination =
  | {
      stack: "profile";
      service: ServiceRef;
      routes: ProfileRoute[];
      /** Undefined ⇒ Linkerd dropped the budget: retryable routes get no retries. */
      budget: RetryBudgetSpec | undefined;
      /** Weighted dstOverride targets; empty ⇒ the apex Service itself. */
      targets: Array<{ service: ServiceRef; weight: number }>;
      reason: string;
    }
  | {
      stack: "policy";
      service: ServiceRef;
      routes: OutboundRoute[];
      rules: Map<RouteRule, RuleConfig>;
      accrual: FailureAccrualConfig | undefined;
      reason: string;
    };

/** The objects a cluster's controllers read, and whether a Service exists. */
export interface ClusterObjects {
  readonly domain: string;
  ofKind(kind: string): readonly K8sObject[];
  serviceExists(namespace: string, name: string): boolean;
  serviceAnnotations(namespace: string, name: string): Record<string, string> | undefined;
}

/**
 * The ServiceProfile the destination controller serves for a Service, after the SMI adaptor. A
 * meshed client's proxy sends its namespace as context: a profile named for the Service in the
 * client's namespace wins, else the one in the Service's namespace (the destination controller's
 * primary and backup watches).
 */
export function effectiveProfile(objects: ClusterObjects, service: ServiceRef, clientNamespace?: string): ServiceProfile | undefined {
  const fqdn = profileFqdn(service.name, service.namespace, objects.domain);
  const primary = clientNamespace === undefined || clientNamespace === service.namespace ? undefined : profileIn(objects, fqdn, clientNamespace, service);
  const raw = primary ?? profileIn(objects, fqdn, service.namespace, service);
  return raw === undefined ? undefined : parseServiceProfile(raw, { clusterDomain: objects.domain, regexEngine: re2Engine }).value;
}

/** The profile object named `fqdn` in `namespace`, with the SMI adaptor's dstOverrides written in. */
function profileIn(objects: ClusterObjects, fqdn: string, namespace: string, service: ServiceRef): unknown {
  let raw: unknown = objects.ofKind("ServiceProfile").find((o) => o.metadata.name === fqdn && o.metadata.namespace === namespace)?.raw;
  // The adaptor writes a split's overrides into the profile `<apex>.<split namespace>.svc.<domain>`.
  if (namespace !== service.namespace) return raw;
  for (const o of objects.ofKind("TrafficSplit")) {
    if (o.metadata.namespace !== namespace) continue;
    const split = parseTrafficSplit(o.raw).value;
    if (split.rejected || split.apex !== service.name) continue;
    const write = applySplitToProfile(raw, split, objects.domain);
    if (write.action === "create" || write.action === "update") raw = write.profile;
  }
  return raw;
}

/** What the destination and policy controllers tell a proxy in `clientNamespace` about `service`. */
export function resolveDestination(objects: ClusterObjects, service: ServiceRef, clientNamespace?: string): Destination {
  const profile = effectiveProfile(objects, service, clientNamespace);
  const selection = selectStack(profile, service.port);
  if (selection.stack === "profile" && profile !== undefined) {
    const targets = proxyTargets(profile.dstOverrides, service.port).targets.flatMap((t) => {
      const ref = authorityToService(t.authority, objects.domain);
      return ref === undefined ? [] : [{ service: ref, weight: t.weight }];
    });
    return { stack: "profile", service, routes: profile.routes, budget: profile.retryBudget, targets, reason: selection.reason };
  }
  return policyDestination(objects, service, selection.reason);
}

function policyDestination(objects: ClusterObjects, service: ServiceRef, reason: string): Destination {
  const routes: OutboundRoute[] = [];
  const rawRules = new Map<RouteRule, unknown>();
  for (const kind of ["HTTPRoute", "GRPCRoute"] as const) {
    for (const o of objects.ofKind(kind)) {
      const route = (kind === "HTTPRoute" ? parseHttpRoute(o.raw, re2Engine) : parseGrpcRoute(o.raw, re2Engine)).value;
      const spec = (o.raw["spec"] ?? {}) as { rules?: unknown[] };
      route.rules.forEach((rule, i) => rawRules.set(rule, spec.rules?.[i]));
      routes.push(route);
    }
  }
  const attached = routesForParent(routes, service);
  const svcAnnotations = objects.serviceAnnotations(service.namespace, service.name) ?? {};
  const svcObject = objectRef("Service", service.namespace, service.name);
  const svcRetry = parseServiceRetryAnnotations(svcAnnotations, svcObject);
  const svcTimeouts = parseTimeoutAnnotations(svcAnnotations, { object: svcObject, owner: "service" }).value;
  const rules = new Map<RouteRule, RuleConfig>();
  const kept: OutboundRoute[] = [];
  for (const route of attached.routes) {
    const object = objectRef(route.kind, route.namespace, route.name);
    const protocol = route.kind === "GRPCRoute" ? "grpc" : "http";
    const retry = parseRetryAnnotations(route.annotations, { object, owner: "route", protocol });
    const timeouts = parseTimeoutAnnotations(route.annotations, { object, owner: "route" });
    // A route whose annotations fail to parse is never indexed by the policy controller.
    if (retry.rejected || timeouts.rejected) continue;
    kept.push(route);
    route.rules.forEach((rule, ruleIndex) => {
      const ruleTimeouts = applyHttpRouteRuleTimeouts(timeouts.value, rawRules.get(rule), { object, group: route.group, ruleIndex });
      const merged = mergeServiceDefaults(
        { retry: retry.value, timeouts: ruleTimeouts.value },
        { retry: protocol === "grpc" ? svcRetry.grpc.value : svcRetry.http.value, timeouts: svcTimeouts },
      );
      rules.set(rule, {
        routeName: route.synthetic ? "[DEFAULT]" : route.name,
        retry: merged.retry,
        timeouts: merged.timeouts,
        backends: effectiveBackends(route, rule, service, (ns, name) => objects.serviceExists(ns, name)),
      });
    });
  }
  const accrual = parseFailureAccrualConfig(svcAnnotations, svcObject).value;
  return { stack: "policy", service, routes: kept, rules, accrual, reason: `${reason}; ${attached.reason}` };
}

/** `name.ns.svc.<domain>:port` → the Service it names (other forms are not dstOverride targets). */
function authorityToService(authority: string, domain: string): ServiceRef | undefined {
  const m = /^([^.]+)\.([^.]+)\.svc\.(.+):(\d+)$/.exec(authority);
  if (m === null || m[3] !== domain) return undefined;
  return { name: m[1] as string, namespace: m[2] as string, port: Number(m[4]) };
}
