// The Linkerd policy of a swarm case, as the real objects: ServiceProfiles (routes, isRetryable,
// timeouts, response classes, a retry budget), Gateway API or policy.linkerd.io HTTPRoutes and
// GRPCRoutes with `retry.linkerd.io/*` and `timeout.linkerd.io/*` annotations (now and then an
// invalid one, which Linkerd rejects), retry annotations on Services, an SMI canary TrafficSplit
// and a linkerd-failover TrafficSplit. Both stacks may name one Service: the profile then wins.

import type { Chooser } from "./choose.js";
import type { Switches } from "./features.js";
import type { ClusterPlan, ServicePlan, TopologyPlan } from "./topology.js";

type Obj = Record<string, unknown>;

const ms = (n: number): string => `${n}ms`;
const regexEscape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const capitalised = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

function serviceProfile(c: Chooser, on: Switches, s: ServicePlan): Obj {
  const routes = s.endpoints.map((e) => {
    const route: Obj = { name: `${e.method} ${e.path}`, condition: { method: e.method, pathRegex: regexEscape(e.path) }, isRetryable: c.chance(0.6) };
    if (c.chance(0.4)) route["timeout"] = ms(c.int(50, 2000));
    if (on.has("responseClasses") && c.chance(0.5)) {
      route["responseClasses"] = [c.chance(0.5) ? { condition: { status: { min: 500, max: 599 } }, isFailure: true } : { condition: { status: { min: 429, max: 429 } }, isFailure: true }];
    }
    return route;
  });
  const spec: Obj = { routes };
  if (c.chance(0.8)) spec["retryBudget"] = { retryRatio: c.real(0.05, 0.5), minRetriesPerSecond: c.int(0, 20), ttl: `${c.int(1, 10)}s` };
  return { apiVersion: "linkerd.io/v1alpha2", kind: "ServiceProfile", metadata: { name: `${s.name}.${s.namespace}.svc.cluster.local`, namespace: s.namespace }, spec };
}

/** `retry.linkerd.io/*` and `timeout.linkerd.io/*` annotations, each present or not. */
function annotations(c: Chooser, on: Switches, grpc: boolean): Obj {
  const a: Obj = {};
  if (grpc) a["retry.linkerd.io/grpc"] = c.pick(["unavailable", "cancelled,unavailable", "internal,deadline-exceeded", "resource-exhausted,unavailable"]);
  else a["retry.linkerd.io/http"] = on.has("invalidAnnotations") && c.chance(0.3) ? "500, 503" : c.pick(["5xx", "gateway-error", "500", "502,503", "500-504", "5xx,429"]);
  if (c.chance(0.7)) a["retry.linkerd.io/limit"] = String(c.int(0, 3));
  if (c.chance(0.5)) a["retry.linkerd.io/timeout"] = ms(c.int(20, 500));
  if (c.chance(0.5)) a["timeout.linkerd.io/request"] = on.has("invalidAnnotations") && c.chance(0.2) ? "1 s" : ms(c.int(100, 3000));
  if (c.chance(0.3)) a["timeout.linkerd.io/response"] = ms(c.int(50, 2000));
  if (c.chance(0.1)) a["timeout.linkerd.io/idle"] = ms(c.int(500, 5000));
  return a;
}

function parentRef(s: ServicePlan): Obj {
  return { name: s.name, kind: "Service", group: "core", port: s.port };
}

function httpRoute(c: Chooser, on: Switches, s: ServicePlan, canary: boolean): Obj {
  const policyGroup = on.has("policyGroupRoute") && c.chance(0.6);
  const apiVersion = policyGroup ? c.pick(["policy.linkerd.io/v1beta3", "policy.linkerd.io/v1beta2"]) : c.pick(["gateway.networking.k8s.io/v1", "gateway.networking.k8s.io/v1beta1"]);
  const rules: Obj[] = [];
  if (canary) {
    rules.push({ matches: [{ path: { type: "PathPrefix", value: "/" }, headers: [{ name: "x-canary", value: "true" }] }], backendRefs: [{ name: `${s.name}-canary`, port: s.port }] });
    rules.push({ backendRefs: [{ name: s.name, port: s.port }] });
  } else {
    const e = c.pick(s.endpoints);
    const rule: Obj = { matches: [c.chance(0.5) ? { path: { type: "PathPrefix", value: e.path === "/" ? "/" : "/api" } } : { path: { type: "Exact", value: e.path }, method: e.method }] };
    if (policyGroup && c.chance(0.4)) rule["timeouts"] = { request: ms(c.int(200, 3000)) };
    rules.push(rule);
  }
  return {
    apiVersion,
    kind: "HTTPRoute",
    metadata: { name: `${s.name}-route`, namespace: s.namespace, annotations: annotations(c, on, false) },
    spec: { parentRefs: [parentRef(s)], rules },
  };
}

function grpcRoute(c: Chooser, on: Switches, s: ServicePlan): Obj {
  const service = `shop.v1.${capitalised(s.name)}`;
  const e = c.pick(s.endpoints);
  const method = c.chance(0.5) ? { service } : { service, method: e.path.slice(e.path.lastIndexOf("/") + 1) };
  return {
    apiVersion: "gateway.networking.k8s.io/v1",
    kind: "GRPCRoute",
    metadata: { name: `${s.name}-grpc`, namespace: s.namespace, annotations: annotations(c, on, true) },
    spec: { parentRefs: [parentRef(s)], rules: [{ matches: [{ method }] }] },
  };
}

function trafficSplit(name: string, s: ServicePlan, backends: Array<[string, number]>, failover: boolean, c: Chooser): Obj {
  const v1 = !failover && c.chance(0.3);
  const metadata: Obj = { name, namespace: s.namespace };
  if (failover) {
    metadata["annotations"] = { "failover.linkerd.io/primary-service": s.name };
    metadata["labels"] = { "failover.linkerd.io/controlled-by": "linkerd-failover" };
  }
  return {
    apiVersion: `split.smi-spec.io/${v1 ? "v1alpha1" : "v1alpha2"}`,
    kind: "TrafficSplit",
    metadata,
    spec: { service: s.name, backends: backends.map(([service, weight]) => ({ service, weight: v1 ? `${weight * 1000}m` : weight })) },
  };
}

/** Policy objects for one cluster; Service objects in `objects` may gain retry annotations. */
export function policyObjects(c: Chooser, on: Switches, plan: TopologyPlan, cluster: ClusterPlan, objects: Obj[]): Obj[] {
  const out: Obj[] = [];
  const canary = plan.canary?.cluster === cluster.name ? plan.canary : undefined;
  for (const s of cluster.services) {
    if (s.name.endsWith("-canary") || s.name.endsWith("-backup")) continue;
    if (on.has("serviceProfile") && c.chance(0.5)) out.push(serviceProfile(c, on, s));
    const routedCanary = canary?.service === s.name && canary.via === "route";
    if (s.grpc && on.has("grpc") && c.chance(0.6)) out.push(grpcRoute(c, on, s));
    else if (!s.grpc && (routedCanary || (on.has("httpRoute") && c.chance(0.5)))) out.push(httpRoute(c, on, s, routedCanary));
    if (on.has("serviceAnnotations") && !s.shorthand && c.chance(0.4)) {
      const svc = objects.find((o) => o["kind"] === "Service" && (o["metadata"] as Obj)["name"] === s.name && (o["metadata"] as Obj)["namespace"] === s.namespace);
      if (svc !== undefined) (svc["metadata"] as Obj)["annotations"] = annotations(c, on, s.grpc);
    }
  }
  if (canary !== undefined && canary.via === "split") {
    const s = cluster.services.find((x) => x.name === canary.service) as ServicePlan;
    out.push(trafficSplit(`${s.name}-canary`, s, [[s.name, canary.weights[0]], [`${s.name}-canary`, canary.weights[1]]], false, c));
  }
  const failover = plan.failover?.cluster === cluster.name ? plan.failover : undefined;
  if (failover !== undefined) {
    const s = cluster.services.find((x) => x.name === failover.service) as ServicePlan;
    out.push(trafficSplit(s.name, s, [[s.name, 1], [failover.backup, 0]], true, c));
  }
  return out;
}
