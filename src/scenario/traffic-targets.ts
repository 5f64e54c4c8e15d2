// Where each `traffic:` entry sends its requests, resolved the way the mesh resolves it: a name
// under `dns:` first, else the host read as cluster DNS reads it from the client's namespace
// (`svc`, `svc.ns`, `svc.ns.svc`, `svc.ns.svc.<domain>`) against the client cluster's Services,
// which include the `<svc>-<cluster>` mirrors its links create. Traffic aimed at nothing would run
// and fail every request, so a scenario that only misspelt a name would measure the misspelling;
// it is an input error at `to:` with the closest name that exists. A target that exists but that
// no workload serves (its selector matches no pod template, and nothing routes it elsewhere) is a
// warning: it may be deliberate (a failure scenario), but it is seldom what was meant.

import { canaryNames, parseCanary } from "../policy/flagger.js";
import { lastDefinitions } from "../k8s/apply.js";
import type { InputError } from "../k8s/input-error.js";
import type { K8sObject } from "../k8s/object.js";
import { editDistance, suggest } from "../k8s/suggest.js";
import { deploymentView, serviceView, WORKLOAD_KINDS, isWorkload } from "../k8s/views.js";
import { parseHttpUrl, serviceForHost } from "../mesh/http.js";
import type { LinkSpec, WorldSpec } from "../mesh/spec.js";
import { exportModeFor, linkFromCli, mirrorServiceName, parseLink } from "../policy/multicluster.js";
import { makeError, positionAt, type YamlSource } from "./yaml-source.js";

type Rec = Record<string, unknown>;

const isRec = (v: unknown): v is Rec => typeof v === "object" && v !== null && !Array.isArray(v);

/** What one cluster offers a client: its Services and mirrors, who serves them, what routes them on. */
interface Targets {
  domain: string;
  /** `namespace/name` of every Service, mirrors included, with its selector (undefined for a mirror). */
  services: Map<string, { selector: Record<string, string> | undefined; mirrorOf?: string }>;
  /** Pod templates: namespace and labels. */
  templates: Array<{ namespace: string; labels: Record<string, string> }>;
  /** `namespace/name` of Services a TrafficSplit or a route sends on to other Services. */
  routedOn: Set<string>;
  /** `namespace/name` of the mirror a link would create for a target Service it does not export ⇒ that cluster and Service. */
  unexported: Map<string, { cluster: string; service: string }>;
}

const EXPORT_LABEL = 'mirror.linkerd.io/exported: "true"';

/**
 * Links as the mesh builds them: the `links:` shorthand plus each Link object whose target is a
 * cluster of the scenario (the mesh names its mirrors after that target).
 */
function linksOf(world: WorldSpec): LinkSpec[] {
  const names = new Set(world.clusters.map((c) => c.name));
  const fromObjects = world.clusters.flatMap((c) =>
    c.objects.filter((o) => o.kind === "Link").flatMap((o): LinkSpec[] => {
      const link = parseLink(o.raw).value;
      if (link === undefined || !names.has(link.targetClusterName)) return [];
      return [{ from: c.name, to: link.targetClusterName, probePeriodUs: link.probeSpec.periodUs, clusterName: link.targetClusterName }];
    }),
  );
  return [...world.links, ...fromObjects.filter((l) => !world.links.some((s) => s.from === l.from && s.to === l.to))];
}

function ownServices(objects: readonly K8sObject[]): Array<{ namespace: string; name: string; labels: Record<string, string>; selector: Record<string, string> | undefined }> {
  return objects.filter((o) => o.kind === "Service").map((o) => {
    const v = serviceView(o).value;
    return { namespace: v.namespace, name: v.name, labels: v.labels, selector: v.selector };
  });
}

function targetsOf(world: WorldSpec): Map<string, Targets> {
  const current = new Map(world.clusters.map((c) => [c.name, lastDefinitions(c.objects)]));
  const out = new Map<string, Targets>();
  for (const c of world.clusters) {
    const objects = current.get(c.name) ?? [];
    const t: Targets = { domain: c.domain, services: new Map(), templates: [], routedOn: new Set(), unexported: new Map() };
    for (const s of ownServices(objects)) t.services.set(`${s.namespace}/${s.name}`, { selector: s.selector });
    for (const o of objects) {
      if (isWorkload(o)) {
        const v = deploymentView(o).value;
        t.templates.push({ namespace: v.namespace, labels: v.templateLabels });
      } else if (o.kind === "Canary" && o.apiVersion.startsWith("flagger.app/")) {
        // Flagger creates the apex, -primary and -canary Services and routes the apex itself.
        const canary = parseCanary(o.raw).value;
        if (canary === undefined) continue;
        const names = canaryNames(canary);
        for (const name of [names.apex, names.primary, names.canary]) {
          const key = `${canary.namespace}/${name}`;
          if (!t.services.has(key)) t.services.set(key, { selector: undefined });
          t.routedOn.add(key);
        }
      } else {
        for (const key of routedOnBy(o)) t.routedOn.add(key);
      }
    }
    out.set(c.name, t);
  }
  for (const link of linksOf(world)) {
    const local = out.get(link.from);
    const remote = current.get(link.to);
    if (local === undefined || remote === undefined || link.from === link.to) continue;
    // The mesh's service mirror exports with the `linkerd multicluster link` defaults.
    const selectors = linkFromCli({ targetClusterName: link.clusterName, gatewayAddresses: [] });
    for (const s of ownServices(remote)) {
      const key = `${s.namespace}/${mirrorServiceName(s.name, link.clusterName)}`;
      if (exportModeFor(s.labels, selectors).mode === "not-exported") {
        if (!local.services.has(key)) local.unexported.set(key, { cluster: link.to, service: `${s.namespace}/${s.name}` });
        continue;
      }
      local.services.set(key, { selector: undefined, mirrorOf: link.to });
      local.unexported.delete(key);
    }
  }
  return out;
}

/**
 * Services whose traffic an object sends on to other Services: a TrafficSplit's apex, the parent
 * Service of a route whose rules name backends, a ServiceProfile with dstOverrides.
 */
function routedOnBy(o: K8sObject): string[] {
  const ns = o.metadata.namespace ?? "default";
  const spec = isRec(o.raw["spec"]) ? o.raw["spec"] : {};
  if (o.kind === "TrafficSplit") return typeof spec["service"] === "string" ? [`${ns}/${spec["service"]}`] : [];
  if (o.kind === "ServiceProfile") {
    const overrides = spec["dstOverrides"];
    const name = o.metadata.name.split(".");
    return Array.isArray(overrides) && overrides.length > 0 && name.length >= 2 ? [`${name[1]}/${name[0]}`] : [];
  }
  if (o.kind !== "HTTPRoute" && o.kind !== "GRPCRoute") return [];
  const rules = Array.isArray(spec["rules"]) ? spec["rules"] : [];
  const backends = rules.flatMap((r) => (isRec(r) && Array.isArray(r["backendRefs"]) ? r["backendRefs"] : [])).flatMap((b) => (isRec(b) && typeof b["name"] === "string" ? [b["name"]] : []));
  const parents = Array.isArray(spec["parentRefs"]) ? spec["parentRefs"] : [];
  return parents.flatMap((p) => {
    if (!isRec(p) || typeof p["name"] !== "string" || (p["kind"] !== undefined && p["kind"] !== "Service")) return [];
    // Backends that are only the parent itself send nothing elsewhere.
    if (!backends.some((b) => b !== p["name"])) return [];
    const pns = typeof p["namespace"] === "string" ? p["namespace"] : ns;
    return [`${pns}/${p["name"]}`];
  });
}

function selects(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** `to` with its host replaced. */
function withHost(to: string, host: string): string {
  return to.replace(/^(http:\/\/)[A-Za-z0-9.-]+/, `$1${host}`);
}

/** A host for `namespace/name` in the form the user wrote `written` (short, `svc.ns`, `.svc`, full). */
function respell(written: string, name: string, namespace: string, clientNamespace: string, domain: string): string {
  const host = written.endsWith(".") ? written.slice(0, -1) : written;
  const parts = host.split(".").length;
  if (host.endsWith(`.svc.${domain}`)) return `${name}.${namespace}.svc.${domain}`;
  if (host.endsWith(".svc")) return `${name}.${namespace}.svc`;
  return parts === 1 && namespace === clientNamespace ? name : `${name}.${namespace}`;
}

export interface TrafficTargetCheck {
  errors: InputError[];
  warnings: InputError[];
}

/** Every traffic entry's target must exist for its client; one no workload serves earns a warning. */
export function checkTrafficTargets(world: WorldSpec, src: YamlSource): TrafficTargetCheck {
  const result: TrafficTargetCheck = { errors: [], warnings: [] };
  const targets = targetsOf(world);
  const dnsNames = world.dns.map((d) => d.name);
  world.traffic.forEach((t, i) => {
    const path = ["traffic", i, "to"];
    const at = positionAt(src, path);
    const mine = targets.get(t.from.cluster);
    const url = parseHttpUrl(t.to);
    // An unknown client cluster is cross-check's to report; a malformed URL the schema's.
    if (mine === undefined || url === undefined) return;
    if (dnsNames.includes(url.host)) return;
    const svc = serviceForHost(url.host, t.from.namespace, mine.domain);
    const key = svc === undefined ? undefined : `${svc.namespace}/${svc.name}`;
    const found = key === undefined ? undefined : mine.services.get(key);
    if (svc !== undefined && key !== undefined && found !== undefined) {
      if (found.mirrorOf !== undefined || mine.routedOn.has(key)) return;
      const selector = found.selector ?? {};
      const served = Object.keys(selector).length > 0 && mine.templates.some((p) => p.namespace === svc.namespace && selects(selector, p.labels));
      if (served) return;
      const why =
        Object.keys(selector).length === 0
          ? "it has no selector, so no pod is ever its endpoint"
          : `no Deployment, StatefulSet, DaemonSet or Pod in namespace ${svc.namespace} has pods labelled ${Object.entries(selector).map(([k, v]) => `${k}=${v}`).join(",")}`;
      result.warnings.push(makeError(at, path, `traffic "${t.name}" calls Service ${key} in cluster ${t.from.cluster}, but ${why}: every request will fail without an endpoint`));
      return;
    }
    result.errors.push(missingTarget(t.name, t.to, url.host, t.from, mine, targets, dnsNames, at, path));
  });
  return result;
}

function missingTarget(
  traffic: string,
  to: string,
  host: string,
  from: { cluster: string; namespace: string },
  mine: Targets,
  all: ReadonlyMap<string, Targets>,
  dnsNames: readonly string[],
  at: ReturnType<typeof positionAt>,
  path: Array<string | number>,
): InputError {
  const svc = serviceForHost(host, from.namespace, mine.domain);
  const expected = `a Service of cluster ${from.cluster} (http://<service>.<namespace>.svc.${mine.domain}), a mirror <service>-<cluster> created by a link, or a name under dns:`;
  if (svc === undefined) {
    const fqdns = [...mine.services.keys()].map((k) => {
      const [namespace, name] = k.split("/") as [string, string];
      return `${name}.${namespace}.svc.${mine.domain}`;
    });
    const better = suggest(host, [...fqdns, ...dnsNames]);
    const message = `traffic "${traffic}" goes to ${host}, which is neither a Service name cluster ${from.cluster} resolves (its DNS domain is ${mine.domain}) nor a name under dns:`;
    return makeError(at, path, message, { expected, suggestion: better === undefined ? undefined : withHost(to, better) });
  }
  const key = `${svc.namespace}/${svc.name}`;
  const notes: string[] = [];
  const linkTarget = mine.unexported.get(key);
  if (linkTarget !== undefined) {
    notes.push(`it would mirror ${linkTarget.cluster}'s ${linkTarget.service}, which the link does not export without the label ${EXPORT_LABEL}`);
  }
  const elsewhere = [...all].filter(([, t]) => t !== mine && t.services.has(key) && t.services.get(key)?.mirrorOf === undefined).map(([name]) => name);
  if (elsewhere.length > 0 && linkTarget === undefined) notes.push(`cluster ${elsewhere.join(", ")} has it; traffic from ${from.cluster} reaches another cluster only through a link's mirror`);
  const message = `traffic "${traffic}" calls Service ${key}, which does not exist in cluster ${from.cluster}${notes.length > 0 ? ` (${notes.join("; ")})` : ""}`;
  return makeError(at, path, message, { expected, suggestion: closestTarget(to, host, svc, from.namespace, mine, dnsNames) });
}

/**
 * The URL respelt to the closest target that exists: a Service of the client's namespace by name,
 * else one of that exact name in another namespace, else the closest by name anywhere; or a `dns:`
 * name, whichever host is fewer edits from the one written.
 */
function closestTarget(to: string, host: string, svc: { name: string; namespace: string }, clientNamespace: string, mine: Targets, dnsNames: readonly string[]): string | undefined {
  const keys = [...mine.services.keys()].map((k) => k.split("/") as [string, string]);
  const named = (name: string | undefined, namespace?: string): [string, string] | undefined =>
    name === undefined ? undefined : keys.find(([ns, n]) => n === name && (namespace === undefined || ns === namespace));
  const close =
    named(suggest(svc.name, keys.filter(([ns]) => ns === svc.namespace).map(([, n]) => n)), svc.namespace) ??
    named(svc.name) ??
    named(suggest(svc.name, keys.map(([, n]) => n)));
  const hosts: string[] = [];
  if (close !== undefined) hosts.push(respell(host, close[1], close[0], clientNamespace, mine.domain));
  const dns = suggest(host, dnsNames);
  if (dns !== undefined) hosts.push(dns);
  let best: string | undefined;
  for (const h of hosts) if (best === undefined || editDistance(host, h) < editDistance(host, best)) best = h;
  return best === undefined ? undefined : withHost(to, best);
}
