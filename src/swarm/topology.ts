// The shape of a swarm case before it is written out: clusters, the services in each (chains and
// fan-outs of 2–6, Deployments or StatefulSets, meshed or not), who calls whom (a local Service or
// a linked cluster's mirror), the client load generators, links, and the special services a
// canary, a failover or a DNS record needs. Manifests, behaviour and traffic are read off this plan.

import type { Chooser } from "./choose.js";
import type { Switches } from "./features.js";

export interface Endpoint {
  method: string;
  path: string;
}

export interface CallPlan {
  /** The called service's name. */
  service: string;
  /** Call it through this link's mirror (`<service>-<clusterName>`) instead of the local Service. */
  viaMirror?: LinkPlan;
}

export interface ServicePlan {
  name: string;
  namespace: string;
  kind: "Deployment" | "StatefulSet";
  replicas: number;
  port: number;
  grpc: boolean;
  meshed: boolean;
  /** Readiness probe period in seconds; absent ⇒ no probe. */
  probePeriodS?: number;
  endpoints: Endpoint[];
  calls: CallPlan[];
  /** Written with the `services:` shorthand instead of objects. */
  shorthand: boolean;
  /** `mirror.linkerd.io/exported` label value; absent or undefined ⇒ not exported. */
  exported?: "true" | "remote-discovery" | undefined;
}

export interface ClientPlan {
  namespace: string;
  deployment: string;
  replicas: number;
  meshed: boolean;
}

export interface ClusterPlan {
  name: string;
  services: ServicePlan[];
  client?: ClientPlan;
  /** How injection is written: a Namespace annotation, each pod template, `inject: true`, or `linkerd inject --manual` output. */
  inject: "namespace" | "template" | "cluster" | "manual";
}

export interface LinkPlan {
  from: string;
  to: string;
  clusterName: string;
  probePeriodMs: number;
}

export interface TopologyPlan {
  clusters: ClusterPlan[];
  links: LinkPlan[];
  /** The service whose traffic a canary shares, and how it is routed there. */
  canary?: { cluster: string; service: string; via: "split" | "route"; weights: [number, number] };
  /** A linkerd-failover TrafficSplit: primary and backup Service names in `cluster`. */
  failover?: { cluster: string; service: string; backup: string };
  /** A `dns:` name served by these clusters' copies of `service`. */
  dns?: { service: string; namespace: string; clusters: string[] };
}

const NAMES = ["web", "api", "auth", "cart", "catalog", "search", "ledger", "billing", "users", "orders"] as const;
const CLUSTERS = ["east", "west", "central"] as const;
const HTTP_ENDPOINTS: readonly Endpoint[] = [
  { method: "GET", path: "/api/list" },
  { method: "GET", path: "/api/items" },
  { method: "POST", path: "/api/orders" },
  { method: "GET", path: "/api/profile" },
  { method: "PUT", path: "/api/cart" },
  { method: "GET", path: "/" },
];
const GRPC_METHODS = ["Get", "List", "Reserve", "Watch"] as const;

const capitalised = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

function shuffled<T>(c: Chooser, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = c.int(0, i);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

function endpointsFor(c: Chooser, name: string, grpc: boolean): Endpoint[] {
  if (grpc) return shuffled(c, GRPC_METHODS).slice(0, c.int(1, 3)).map((m) => ({ method: "POST", path: `/shop.v1.${capitalised(name)}/${m}` }));
  return shuffled(c, HTTP_ENDPOINTS).slice(0, c.int(1, 3));
}

function newService(c: Chooser, on: Switches, name: string, namespace: string, grpc: boolean): ServicePlan {
  const kind = on.has("statefulSet") && c.chance(0.4) ? "StatefulSet" : "Deployment";
  const svc: ServicePlan = {
    name,
    namespace,
    kind,
    // Now and then an edge value: a workload scaled to nothing from the start.
    replicas: c.chance(0.04) ? 0 : c.int(1, 3),
    port: grpc ? c.pick([8080, 9090]) : c.pick([80, 80, 8080]),
    grpc,
    meshed: !(on.has("unmeshed") && c.chance(0.3)),
    endpoints: endpointsFor(c, name, grpc),
    calls: [],
    shorthand: kind === "Deployment" && !grpc && on.has("shorthand") && c.chance(0.5),
  };
  if (on.has("readinessProbes") && c.chance(0.7)) svc.probePeriodS = c.int(1, 5);
  return svc;
}

/** Chain, fan-out or tree over the services: the first is the entry the clients call. */
function wireCalls(c: Chooser, services: ServicePlan[]): void {
  const shape = c.pick(["chain", "fanout", "tree"] as const);
  services.forEach((s, i) => {
    if (i === 0) return;
    const parent = shape === "chain" ? i - 1 : shape === "fanout" ? 0 : c.int(0, i - 1);
    services[parent]?.calls.push({ service: s.name });
  });
}

/** The home cluster: every service, the clients, and the call graph. */
function homeCluster(c: Chooser, on: Switches, name: string): ClusterPlan {
  const names = shuffled(c, NAMES).slice(0, c.int(2, 6));
  const namespaces = on.has("secondNamespace") ? ["app", "data"] : ["app"];
  const services = names.map((n, i) => newService(c, on, n, i === 0 ? "app" : c.pick(namespaces), i > 0 && on.has("grpc") && c.chance(0.5)));
  wireCalls(c, services);
  const client: ClientPlan = { namespace: c.pick(["app", "app", "load"]), deployment: "loadgen", replicas: c.int(1, 3), meshed: !(on.has("unmeshed") && c.chance(0.3)) };
  return { name, services, client, inject: injectStyle(c, on) };
}

function injectStyle(c: Chooser, on: Switches): ClusterPlan["inject"] {
  if (on.has("shorthand")) return c.pick(["namespace", "template"]);
  return c.pick(["namespace", "namespace", "template", "cluster", "manual"]);
}

/** A remote cluster runs copies of some of home's services, exported to its linkers; calls stay among the copies. */
function remoteCluster(c: Chooser, on: Switches, name: string, home: ClusterPlan): ClusterPlan {
  const copies = home.services.filter((s, i) => i > 0 && c.chance(0.7)).map((s): ServicePlan => ({ ...s, replicas: c.int(1, 3), calls: [], shorthand: false }));
  if (copies.length === 0) copies.push({ ...(home.services.at(-1) as ServicePlan), calls: [], shorthand: false });
  const present = new Set(copies.map((s) => s.name));
  for (const copy of copies) {
    const original = home.services.find((s) => s.name === copy.name) as ServicePlan;
    copy.calls = original.calls.filter((k) => present.has(k.service)).map((k) => ({ service: k.service }));
    copy.exported = c.chance(0.85) ? (c.chance(0.15) ? "remote-discovery" : "true") : undefined;
  }
  const client = on.has("remoteTraffic") ? { namespace: "app", deployment: "loadgen", replicas: 1, meshed: true } : undefined;
  return { name, services: copies, ...(client === undefined ? {} : { client }), inject: c.pick(["namespace", "template", "cluster"]) };
}

/** Some of home's calls go to a linked cluster's mirror of the called service instead. */
function callMirrors(c: Chooser, home: ClusterPlan, links: LinkPlan[], clusters: ClusterPlan[]): void {
  for (const s of home.services) {
    for (const call of s.calls) {
      const exporters = links.filter((l) => l.from === home.name && clusters.find((k) => k.name === l.to)?.services.some((r) => r.name === call.service && r.exported !== undefined));
      if (exporters.length > 0 && c.chance(0.35)) call.viaMirror = c.pick(exporters);
    }
  }
}

export function planTopology(c: Chooser, on: Switches): TopologyPlan {
  const clusterCount = on.has("multicluster") ? c.int(2, 3) : 1;
  const home = homeCluster(c, on, CLUSTERS[0]);
  const clusters = [home];
  for (let i = 1; i < clusterCount; i++) clusters.push(remoteCluster(c, on, CLUSTERS[i] as string, home));
  const links: LinkPlan[] = clusters.slice(1).map((r) => ({ from: home.name, to: r.name, clusterName: c.chance(0.2) ? `${r.name}x` : r.name, probePeriodMs: c.pick([500, 1000, 2000, 3000]) }));
  if (on.has("reverseLink") && clusters.length > 1) {
    const r = clusters[1] as ClusterPlan;
    for (const s of home.services.slice(1)) if (c.chance(0.5)) s.exported = "true";
    links.push({ from: r.name, to: home.name, clusterName: home.name, probePeriodMs: c.pick([1000, 3000]) });
  }
  callMirrors(c, home, links, clusters);
  const plan: TopologyPlan = { clusters, links };
  planSpecials(c, on, plan);
  return plan;
}

/** Canary, failover and DNS each take a service of the home cluster (different ones). */
function planSpecials(c: Chooser, on: Switches, plan: TopologyPlan): void {
  const home = plan.clusters[0] as ClusterPlan;
  const free = shuffled(c, home.services.filter((s) => !s.shorthand));
  if (on.has("failover")) {
    const s = free.pop();
    if (s !== undefined) {
      const mirrors = plan.links.filter((l) => l.from === home.name && plan.clusters.find((k) => k.name === l.to)?.services.some((r) => r.name === s.name && r.exported === "true"));
      const link = mirrors.length > 0 && c.chance(0.7) ? c.pick(mirrors) : undefined;
      let backup = `${s.name}-backup`;
      if (link !== undefined) backup = `${s.name}-${link.clusterName}`;
      else home.services.push({ ...s, name: backup, calls: [...s.calls], replicas: c.int(1, 2), exported: undefined, shorthand: false });
      plan.failover = { cluster: home.name, service: s.name, backup };
    }
  }
  if (on.has("canary")) {
    const s = free.pop();
    if (s !== undefined) {
      home.services.push({ ...s, name: `${s.name}-canary`, calls: [...s.calls], replicas: 1, exported: undefined, shorthand: false });
      const via = s.grpc || !on.has("httpRoute") || c.chance(0.5) ? "split" : "route";
      plan.canary = { cluster: home.name, service: s.name, via, weights: c.pick([[9, 1], [3, 1], [1, 1], [1, 0], [900, 100]] as Array<[number, number]>) };
    }
  }
  if (on.has("dns")) {
    const s = free.pop() ?? home.services[0];
    if (s !== undefined) {
      const holders = plan.clusters.filter((k) => k.services.some((r) => r.name === s.name)).map((k) => k.name);
      plan.dns = { service: s.name, namespace: s.namespace, clusters: c.chance(0.5) ? holders : holders.slice(0, 1) };
    }
  }
}
