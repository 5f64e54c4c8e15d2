// `meshsim check`: everything wrong or surprising in a set of Kubernetes objects, said the way real
// Linkerd 2.16 would treat it. Runs every policy parser over the objects it concerns, then the
// checks that need several objects at once: references to Services that do not exist, which
// routing stack wins (ServiceProfile vs HTTPRoute), and workloads that Linkerd config targets but
// that are not meshed. Each diagnostic carries the file:line:col of the field it is about.

import { type Diagnostic, annotationField, objectRef } from "../policy/diagnostics.js";
import { failoverDiagnostics } from "../policy/failover.js";
import { FLAGGER_DEFAULTS, parseCanary } from "../policy/flagger.js";
import { ACCRUAL_MODE, parseFailureAccrualConfig } from "../policy/failure-accrual-config.js";
import { parseGrpcRoute } from "../policy/grpc-route.js";
import { type OutboundRoute, parseHttpRoute } from "../policy/http-route.js";
import { parseLink } from "../policy/multicluster.js";
import { RETRY_GRPC, parseRetryAnnotations, parseServiceRetryAnnotations } from "../policy/retry-annotations.js";
import { DEFAULT_CLUSTER_DOMAIN, type ServiceProfile, parseServiceProfile } from "../policy/service-profile.js";
import { type AttachedRoute, selectStack, stackConflictDiagnostics } from "../policy/stack-selection.js";
import { applyHttpRouteRuleTimeouts, parseTimeoutAnnotations } from "../policy/timeout-annotations.js";
import { type TrafficSplit, applySplitToProfile, parseTrafficSplit } from "../policy/traffic-split.js";
import { lastDefinitions, objectIdentity } from "./apply.js";
import { retryHazardDiagnostics } from "./check-retry-hazards.js";
import { type InputError, parseFieldPath } from "./input-error.js";
import { type K8sObject, type SourcePosition, describeObject } from "./object.js";
import { re2Engine } from "./re2-engine.js";
import { metadataStringMaps } from "./string-maps.js";
import { type DeploymentView, type NamespaceView, type ServiceView, INJECT_ANNOTATION, WORKLOAD_KINDS, isWorkload, deploymentView, meshedDecision, namespaceView, serviceView } from "./views.js";

/** A policy diagnostic plus where in the input it points. */
export interface PositionedDiagnostic extends Diagnostic {
  /** The field's position (or its nearest written ancestor's); absent ⇒ not tied to the input. */
  source?: SourcePosition;
}

export interface CheckOptions {
  /** Cluster DNS domain, for ServiceProfile names and dstOverride authorities. Default `cluster.local`. */
  clusterDomain?: string;
  /**
   * Also report the `info` notes any use of a feature earns, whatever its values (how
   * `retry.linkerd.io/limit` counts, annotation retries having no budget). Default false.
   */
  notes?: boolean;
}

type Rec = Record<string, unknown>;
interface Parsed<T> { obj: K8sObject; value: T }
interface ParsedRoute extends Parsed<OutboundRoute> {
  /** Accepted by Kubernetes and Linkerd, annotations included. */
  applies: boolean;
}

/** What the cross-object checks need, built once. */
interface World {
  domain: string;
  namespaces: Map<string, NamespaceView>;
  services: Map<string, Parsed<ServiceView>>;
  deployments: Parsed<DeploymentView>[];
  routes: ParsedRoute[];
  profiles: Parsed<ServiceProfile>[];
  splits: Parsed<TrafficSplit>[];
  /** Why each Service (`ns/name`) is targeted by Linkerd configuration, for the unmeshed check. */
  targetedBy: Map<string, string[]>;
  /** Services (`ns/name`) a ServiceProfile switches to its stack; filled by `checkStacks`. */
  profileStack: Set<string>;
}

/** Collects diagnostics and places them: on the object they came from, else the object they name. */
class Collector {
  readonly out: PositionedDiagnostic[] = [];
  private readonly byRef = new Map<string, K8sObject>();

  register(ref: string, obj: K8sObject): void {
    this.byRef.set(ref, obj);
  }

  add(diags: readonly Diagnostic[], from?: K8sObject): void {
    for (const d of diags) {
      const obj = from !== undefined && describeObject(from) === d.object ? from : (this.byRef.get(d.object) ?? from);
      this.out.push(obj === undefined ? { ...d } : { ...d, source: obj.positionOf(parseFieldPath(d.field)) });
    }
  }
}

const key = (namespace: string, name: string): string => `${namespace}/${name}`;
const isRec = (v: unknown): v is Rec => typeof v === "object" && v !== null && !Array.isArray(v);

/** The raw object with the loader's namespace defaulting applied, as the parsers read namespaces from it. */
function withNamespace(obj: K8sObject): Rec {
  const meta = isRec(obj.raw["metadata"]) ? obj.raw["metadata"] : {};
  return obj.metadata.namespace === undefined ? obj.raw : { ...obj.raw, metadata: { ...meta, namespace: obj.metadata.namespace } };
}

function rawAnnotations(obj: K8sObject): Rec | undefined {
  const meta = obj.raw["metadata"];
  return isRec(meta) && isRec(meta["annotations"]) ? meta["annotations"] : undefined;
}

/** Every diagnostic `meshsim check` reports for these objects, sorted by file, line, column and code. */
export function checkObjects(objects: readonly K8sObject[], opts: CheckOptions = {}): PositionedDiagnostic[] {
  const c = new Collector();
  for (const obj of objects) c.register(describeObject(obj), obj);
  const current = reportDuplicates(c, objects);
  const world = buildWorld(c, current, opts.clusterDomain ?? DEFAULT_CLUSTER_DOMAIN);
  for (const obj of current) if (obj.kind === "Link") c.add(parseLink(withNamespace(obj)).diagnostics, obj);
  for (const obj of current) if (obj.kind === "Canary" && obj.apiVersion.startsWith("flagger.app/")) checkCanary(c, world, obj);
  for (const svc of world.services.values()) checkServiceAnnotations(c, world, svc.obj);
  checkReferences(c, world);
  checkStacks(c, world);
  c.add(retryHazardDiagnostics(world, { notes: opts.notes === true }));
  checkMeshed(c, world);
  return sortDiagnostics(dedupe(c.out));
}

/** Warn about objects defined twice; returns the objects that end up in the cluster (the last definitions). */
function reportDuplicates(c: Collector, objects: readonly K8sObject[]): K8sObject[] {
  const seen = new Map<string, K8sObject>();
  for (const obj of objects) {
    const id = objectIdentity(obj);
    const first = seen.get(id);
    seen.set(id, obj);
    if (first === undefined) continue;
    const at = `${first.source.file}:${first.source.line}:${first.source.col}`;
    c.add([{ severity: "warning", code: "duplicate-object", object: describeObject(obj), field: "metadata.name",
      message: `${describeObject(obj)} is also defined at ${at}: this later definition replaces it, as a second \`kubectl apply\` would.` }], obj);
  }
  return lastDefinitions(objects);
}

function buildWorld(c: Collector, objects: readonly K8sObject[], domain: string): World {
  const world: World = { domain, namespaces: new Map(), services: new Map(), deployments: [], routes: [], profiles: [], splits: [], targetedBy: new Map(), profileStack: new Set() };
  for (const obj of objects) {
    const ns = obj.metadata.namespace ?? "default";
    if (obj.kind === "Namespace") {
      const v = namespaceView(obj);
      addViewErrors(c, obj, v.errors);
      world.namespaces.set(obj.metadata.name, v.value);
      checkInjectValue(c, obj, v.value.inject, "metadata.annotations");
    } else if (isWorkload(obj)) {
      const v = deploymentView(obj);
      addViewErrors(c, obj, v.errors);
      world.deployments.push({ obj, value: v.value });
      checkInjectValue(c, obj, v.value.inject, templateAnnotationsField(obj));
    } else if (obj.kind === "Service") {
      const v = serviceView(obj);
      addViewErrors(c, obj, v.errors);
      world.services.set(key(ns, obj.metadata.name), { obj, value: v.value });
    } else if (obj.kind === "HTTPRoute" || obj.kind === "GRPCRoute") {
      world.routes.push(checkRoute(c, obj));
    } else if (obj.kind === "ServiceProfile") {
      const parsed = parseServiceProfile(withNamespace(obj), { clusterDomain: domain, regexEngine: re2Engine });
      c.add(parsed.diagnostics, obj);
      world.profiles.push({ obj, value: parsed.value });
    } else if (obj.kind === "TrafficSplit") {
      const parsed = parseTrafficSplit(withNamespace(obj));
      c.add(parsed.diagnostics, obj);
      world.splits.push({ obj, value: parsed.value });
    }
  }
  return world;
}

/** A Flagger Canary: what Flagger will not do with it, and a target it cannot work with. */
function checkCanary(c: Collector, world: World, obj: K8sObject): void {
  const parsed = parseCanary(withNamespace(obj));
  c.add(parsed.diagnostics, obj);
  const canary = parsed.value;
  if (canary === undefined) return;
  const ref = describeObject(obj);
  const target = world.deployments.find((d) => d.obj.kind === "Deployment" && d.value.namespace === canary.namespace && d.value.name === canary.target);
  if (target === undefined) {
    c.add([{ severity: "warning", code: "canary-target-not-found", object: ref, field: "spec.targetRef.name",
      message: `Deployment ${canary.namespace}/${canary.target} does not exist: Flagger cannot initialise this Canary, so nothing is created or routed.` }], obj);
    return;
  }
  const spec = isRec(target.obj.raw["spec"]) ? target.obj.raw["spec"] : {};
  const selector = isRec(spec["selector"]) && isRec(spec["selector"]["matchLabels"]) ? spec["selector"]["matchLabels"] : {};
  if (!FLAGGER_DEFAULTS.selectorLabels.some((k) => typeof selector[k] === "string")) {
    c.add([{ severity: "warning", code: "canary-selector-label-missing", object: ref, field: "spec.targetRef.name",
      message: `Deployment ${canary.namespace}/${canary.target}'s selector has none of the labels Flagger looks for (${FLAGGER_DEFAULTS.selectorLabels.join(", ")}): Flagger refuses to initialise this Canary.` }], obj);
  }
}

function addViewErrors(c: Collector, obj: K8sObject, errors: readonly InputError[]): void {
  for (const e of errors) {
    const expected = e.expected === undefined ? "" : ` (expected ${e.expected})`;
    c.out.push({ severity: "error", code: "field-type-invalid", object: describeObject(obj), field: e.path,
      message: `${e.message}${expected}: Kubernetes refuses the object; the simulator would use the default.`, source: { file: e.file, line: e.line, col: e.col } });
  }
}

function checkInjectValue(c: Collector, obj: K8sObject, value: string | undefined, field: string): void {
  if (value === undefined || ["enabled", "ingress", "disabled", ""].includes(value)) return;
  c.add([{ severity: "warning", code: "inject-value-unknown", object: describeObject(obj), field: `${field}["${INJECT_ANNOTATION}"]`,
    message: `\`${INJECT_ANNOTATION}: ${value}\` is not enabled, ingress or disabled: the proxy injector does not inject, so these pods are not meshed.` }], obj);
}

/**
 * A Service's retry, timeout and failure-accrual annotations. The gRPC retry group reuses `limit`
 * and `timeout`, so an HTTP-only setup always has a gRPC group without status codes; saying so
 * matters only when a GRPCRoute attaches to the Service.
 */
function checkServiceAnnotations(c: Collector, world: World, obj: K8sObject): void {
  const ref = describeObject(obj);
  const annotations = rawAnnotations(obj);
  const ns = obj.metadata.namespace ?? "default";
  const hasGrpcRoutes = world.routes.some((r) => r.value.kind === "GRPCRoute" && attachesTo(r.value, ns, obj.metadata.name));
  const grpcListField = annotationField(RETRY_GRPC);
  const retry = parseServiceRetryAnnotations(annotations, ref).diagnostics;
  c.add(retry.filter((d) => hasGrpcRoutes || !(d.code === "retry-nothing-retryable" && d.field === grpcListField)), obj);
  c.add(parseTimeoutAnnotations(annotations, { object: ref, owner: "service" }).diagnostics, obj);
  c.add(parseFailureAccrualConfig(annotations, ref).diagnostics, obj);
}

/** Parse a route and its annotations; a rejected annotation group rejects the whole route. */
function checkRoute(c: Collector, obj: K8sObject): ParsedRoute {
  const raw = withNamespace(obj);
  const parsed = obj.kind === "GRPCRoute" ? parseGrpcRoute(raw, re2Engine) : parseHttpRoute(raw, re2Engine);
  c.add(parsed.diagnostics, obj);
  const ref = describeObject(obj);
  const annotations = rawAnnotations(obj);
  const protocol = obj.kind === "GRPCRoute" ? "grpc" : "http";
  const retry = parseRetryAnnotations(annotations, { object: ref, owner: "route", protocol });
  const timeouts = parseTimeoutAnnotations(annotations, { object: ref, owner: "route" });
  c.add([...retry.diagnostics, ...timeouts.diagnostics], obj);
  let rejected = retry.rejected || timeouts.rejected;
  const route = parsed.value;
  if (obj.kind === "HTTPRoute" && route.group === "policy.linkerd.io" && !timeouts.rejected) {
    const spec = isRec(raw["spec"]) ? raw["spec"] : {};
    const rules: unknown[] = Array.isArray(spec["rules"]) ? spec["rules"] : [];
    rules.forEach((rule, ruleIndex) => {
      const merged = applyHttpRouteRuleTimeouts(timeouts.value, rule, { object: ref, group: route.group, ruleIndex });
      c.add(merged.diagnostics, obj);
      rejected ||= merged.rejected;
    });
  }
  if (annotations !== undefined && Object.keys(annotations).some((k) => k.startsWith(ACCRUAL_MODE))) {
    c.add([{ severity: "warning", code: "failure-accrual-on-route", object: ref, field: "metadata.annotations",
      message: `${ACCRUAL_MODE}* annotations are read only on Services: Linkerd ignores them on a ${obj.kind}. Put them on the parent Service.` }], obj);
  }
  return { obj, value: route, applies: route.accepted && !rejected };
}

function attachesTo(route: OutboundRoute, namespace: string, name: string): boolean {
  return route.parentRefs.some((p) => p.isService && p.namespace === namespace && p.name === name);
}

function target(world: World, namespace: string, name: string, why: string): void {
  const list = world.targetedBy.get(key(namespace, name)) ?? [];
  if (!list.includes(why)) list.push(why);
  world.targetedBy.set(key(namespace, name), list);
}

/** Services named by routes, profiles and splits: they must exist, and they are "targeted". */
function checkReferences(c: Collector, world: World): void {
  const exists = (ns: string, name: string): boolean => world.services.has(key(ns, name));
  for (const { value: svc } of world.services.values()) {
    const annotations = Object.keys(svc.annotations).filter((k) => /^(retry|timeout)\.linkerd\.io\/|^balancer\.linkerd\.io\//.test(k));
    if (annotations.length > 0) target(world, svc.namespace, svc.name, `its own ${annotations[0]} annotation`);
  }
  for (const { obj, value: route } of world.routes) checkRouteRefs(c, world, obj, route, exists);
  for (const { obj, value: profile } of world.profiles) checkProfileRefs(c, world, obj, profile, exists);
  for (const split of world.splits) checkSplitRefs(c, world, split, exists);
}

type Exists = (namespace: string, name: string) => boolean;

function checkRouteRefs(c: Collector, world: World, obj: K8sObject, route: OutboundRoute, exists: Exists): void {
  const ref = describeObject(obj);
  route.parentRefs.forEach((p, i) => {
    if (!p.isService) return;
    target(world, p.namespace, p.name, `parentRef of ${ref}`);
    if (exists(p.namespace, p.name)) return;
    c.add([{ severity: "warning", code: "route-parent-service-not-found", object: ref, field: `spec.parentRefs[${i}]`,
      message: `parentRef Service ${p.namespace}/${p.name} does not exist: this ${route.kind} attaches to nothing, so no request uses it.` }], obj);
  });
  route.rules.forEach((rule, i) => rule.backendRefs.forEach((b, j) => {
    if (b.kind !== "Service" || (b.group !== "" && b.group !== "core")) return;
    target(world, b.namespace, b.name, `backendRef of ${ref}`);
    if (exists(b.namespace, b.name)) return;
    c.add([{ severity: "warning", code: "route-backend-service-not-found", object: ref, field: `spec.rules[${i}].backendRefs[${j}]`,
      message: `backendRef Service ${b.namespace}/${b.name} does not exist: its share of requests fails with HTTP 500 "Service not found ${b.name}".` }], obj);
  }));
}

/** `<svc>.<ns>.svc.<domain>[:port]` ⇒ the Service; undefined for any other authority. */
function serviceOfAuthority(authority: string, domain: string): { namespace: string; name: string } | undefined {
  const host = authority.replace(/:[0-9]+$/, "");
  const suffix = `.svc.${domain}`;
  if (!host.endsWith(suffix)) return undefined;
  const parts = host.slice(0, -suffix.length).split(".");
  return parts.length === 2 && parts[0] !== "" && parts[1] !== "" ? { name: parts[0] ?? "", namespace: parts[1] ?? "" } : undefined;
}

function checkProfileRefs(c: Collector, world: World, obj: K8sObject, profile: ServiceProfile, exists: Exists): void {
  const ref = describeObject(obj);
  const svc = profile.service;
  if (svc !== undefined) {
    target(world, svc.namespace, svc.name, ref);
    if (!exists(svc.namespace, svc.name)) {
      c.add([{ severity: "warning", code: "profile-service-not-found", object: ref, field: "metadata.name",
        message: `this ServiceProfile is for Service ${svc.namespace}/${svc.name}, which does not exist: no client resolves that name, so the profile has no effect.` }], obj);
    }
  }
  profile.dstOverrides.forEach((o, i) => {
    const backend = serviceOfAuthority(o.authority, world.domain);
    if (backend === undefined) return;
    target(world, backend.namespace, backend.name, `dstOverride of ${ref}`);
    if (exists(backend.namespace, backend.name) || o.weightDecimillis === 0) return;
    c.add([{ severity: "warning", code: "profile-dst-override-service-not-found", object: ref, field: `spec.dstOverrides[${i}].authority`,
      message: `dstOverride ${o.authority} names Service ${backend.namespace}/${backend.name}, which does not exist: it has no endpoints, so its share of requests fails (503 after the 3 s fail-fast timeout).` }], obj);
  });
}

function checkSplitRefs(c: Collector, world: World, { obj, value: split }: Parsed<TrafficSplit>, exists: Exists): void {
  const ref = describeObject(obj);
  if (split.rejected) return;
  const apex = world.services.get(key(split.namespace, split.apex));
  target(world, split.namespace, split.apex, `apex of ${ref}`);
  if (apex === undefined) {
    c.add([{ severity: "warning", code: "split-apex-service-not-found", object: ref, field: "spec.service",
      message: `apex Service ${split.namespace}/${split.apex} does not exist: no client resolves that name, so this TrafficSplit has no effect.` }], obj);
  } else if (apex.value.headless) {
    c.add([{ severity: "warning", code: "split-apex-headless", object: ref, field: "spec.service",
      message: `apex Service ${split.namespace}/${split.apex} is headless (clusterIP: None): clients connect to pod IPs directly, so the split is never applied.` }], obj);
  }
  const maps = metadataStringMaps(obj.raw, ref);
  c.add(failoverDiagnostics({
    name: split.name,
    namespace: split.namespace,
    annotations: maps.annotations,
    labels: maps.labels,
    backends: split.backends.map((b) => ({ service: b.service, weight: b.weightMilli / 1000 })),
  }, ref), obj);
  split.backends.forEach((b, i) => {
    target(world, split.namespace, b.service, `backend of ${ref}`);
    if (exists(split.namespace, b.service) || b.weightMilli === 0) return;
    c.add([{ severity: "warning", code: "split-backend-service-not-found", object: ref, field: `spec.backends[${i}].service`,
      message: `backend Service ${split.namespace}/${b.service} does not exist: it has no endpoints, so its share of requests fails (503 after the 3 s fail-fast timeout).` }], obj);
  });
}

/** For each Service, what each ServiceProfile that applies to it (TrafficSplits included) switches off. */
function checkStacks(c: Collector, world: World): void {
  for (const { obj: svcObj, value: svc } of world.services.values()) {
    const routes: AttachedRoute[] = world.routes
      .filter((r) => r.applies && attachesTo(r.value, svc.namespace, svc.name))
      .map((r) => ({ kind: r.value.kind, name: r.value.name, namespace: r.value.namespace, annotations: r.value.annotations }));
    const service = { name: svc.name, namespace: svc.namespace, annotations: rawAnnotations(svcObj) ?? {} };
    for (const { profile, createdBy } of effectiveProfiles(c, world, svc)) {
      if (selectStack(profile).stack === "profile") world.profileStack.add(key(svc.namespace, svc.name));
      const diags = stackConflictDiagnostics({ service, profile, routes });
      if (createdBy === undefined) c.add(diags);
      else c.add(diags.map((d) => explainCreatedProfile(d, profile, createdBy)), createdBy);
    }
  }
}

interface EffectiveProfile {
  profile: ServiceProfile;
  /** The TrafficSplit from which the SMI adaptor creates this profile; absent ⇒ it is in the input. */
  createdBy?: K8sObject;
}

/**
 * The profiles clients of `svc` may receive: each ServiceProfile for it, the one in the Service's
 * namespace with the dstOverrides a TrafficSplit there makes the SMI adaptor write (or created
 * by the adaptor when there is none).
 */
function effectiveProfiles(c: Collector, world: World, svc: ServiceView): EffectiveProfile[] {
  const profiles = world.profiles.filter((p) => p.value.service?.name === svc.name && p.value.service.namespace === svc.namespace);
  const splits = world.splits.filter((s) => !s.value.rejected && s.value.namespace === svc.namespace && s.value.apex === svc.name);
  for (const extra of splits.slice(1)) {
    c.add([{ severity: "warning", code: "split-apex-conflict", object: describeObject(extra.obj), field: "spec.service",
      message: `another TrafficSplit for apex ${svc.namespace}/${svc.name} exists: the SMI adaptor writes each into the same ServiceProfile, so the last one synced wins (here: ${describeObject(splits[splits.length - 1]?.obj ?? extra.obj)}).` }], extra.obj);
  }
  const split = splits[splits.length - 1];
  const existing = profiles.find((p) => p.value.namespace === svc.namespace);
  const out: EffectiveProfile[] = profiles.filter((p) => p !== existing || split === undefined).map((p) => ({ profile: p.value }));
  if (split === undefined) return out;
  const write = applySplitToProfile(existing === undefined ? undefined : withNamespace(existing.obj), split.value, world.domain);
  if (write.profile === undefined || write.action === "skip") return existing === undefined ? out : [...out, { profile: existing.value }];
  const profile = parseServiceProfile(write.profile, { clusterDomain: world.domain, regexEngine: re2Engine }).value;
  return [...out, existing === undefined ? { profile, createdBy: split.obj } : { profile }];
}

/** Name the TrafficSplit when a message is about the profile the SMI adaptor creates from it. */
function explainCreatedProfile(d: Diagnostic, profile: ServiceProfile, split: K8sObject): Diagnostic {
  const spRef = objectRef("ServiceProfile", profile.namespace, profile.name);
  const explained = `${spRef} (created by the SMI adaptor from ${describeObject(split)})`;
  const message = d.message.replace(spRef, explained);
  return d.object === spRef ? { ...d, object: describeObject(split), field: "spec.service", message } : { ...d, message };
}

/** Where a workload's pod annotations are written: a bare Pod's own, else its pod template's. */
function templateAnnotationsField(obj: K8sObject): string {
  return obj.kind === "Pod" ? "metadata.annotations" : "spec.template.metadata.annotations";
}

/** A workload that backs a Service Linkerd config targets, but whose pods get no proxy. */
function checkMeshed(c: Collector, world: World): void {
  for (const { obj, value: d } of world.deployments) {
    const decision = meshedDecision(d, world.namespaces.get(d.namespace));
    if (decision.meshed) continue;
    for (const { value: svc } of world.services.values()) {
      const why = world.targetedBy.get(key(svc.namespace, svc.name));
      if (why === undefined || svc.namespace !== d.namespace || !selects(svc.selector, d.templateLabels)) continue;
      const svcRef = objectRef("Service", svc.namespace, svc.name);
      c.add([{ severity: "warning", code: "workload-not-meshed", object: describeObject(obj), field: `${templateAnnotationsField(obj)}["${INJECT_ANNOTATION}"]`,
        message: `this ${obj.kind} is not meshed (${decision.reason}), yet it backs ${svcRef}, which Linkerd configuration targets (${why.slice(0, 3).join("; ")}): traffic to these pods is not mTLS and passes no inbound proxy. Client-side routing, retries and timeouts still run in meshed clients' proxies.` }], obj);
    }
  }
}

function selects(selector: Record<string, string> | undefined, labels: Record<string, string>): boolean {
  if (selector === undefined) return false;
  const entries = Object.entries(selector);
  return entries.length > 0 && entries.every(([k, v]) => labels[k] === v);
}

function dedupe(diags: readonly PositionedDiagnostic[]): PositionedDiagnostic[] {
  const seen = new Set<string>();
  return diags.filter((d) => {
    const id = [d.severity, d.code, d.object, d.field, d.message, d.source?.file, d.source?.line, d.source?.col].join("\u0000");
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** By file, line, column, code, then object, field and message so the order is total; unplaced last. */
export function sortDiagnostics(diags: readonly PositionedDiagnostic[]): PositionedDiagnostic[] {
  return [...diags].sort((a, b) => {
    if ((a.source === undefined) !== (b.source === undefined)) return a.source === undefined ? 1 : -1;
    return (
      cmp(a.source?.file ?? "", b.source?.file ?? "") ||
      (a.source?.line ?? 0) - (b.source?.line ?? 0) ||
      (a.source?.col ?? 0) - (b.source?.col ?? 0) ||
      cmp(a.code, b.code) || cmp(a.object, b.object) || cmp(a.field, b.field) || cmp(a.message, b.message)
    );
  });
}
