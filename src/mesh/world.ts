// The simulated world: clusters built from real manifests, pods with their apps and proxies, the
// network between them, traffic and faults, all on one kernel. `run()` plays the scenario to its
// end and returns the metrics, edges, coverage marks and invariant findings.

import type { FailureAccrualConfig } from "../policy/config.js";
import { makeDistribution, sampleUs, type Distribution } from "../sim/distributions.js";
import { Priority } from "../sim/priority.js";
import type { Rng } from "../sim/rng.js";
import { Simulation } from "../sim/simulation.js";
import type { Trace, TraceFields } from "../sim/trace.js";
import type { AppHost } from "./app.js";
import { Balancer } from "./balancer.js";
import { Cluster, type Deployment } from "./cluster.js";
import { DEFAULT_BEHAVIOR } from "./defaults.js";
import type { Destination, ServiceRef } from "./destination.js";
import { DirectClient } from "./direct-client.js";
import { IdentitySystem } from "./identity.js";
import { DnsClient, DnsFailover } from "./dns.js";
import { FailoverOperator, type SplitUpdate } from "./failover-operator.js";
import { ServiceMirror } from "./multicluster.js";
import { applyFault } from "./faults.js";
import { type HttpRequest, type HttpResponse, parseHttpUrl, type Respond, serviceForHost } from "./http.js";
import { type CounterName, type CounterSeries, type GaugeSeries, MeshMetrics, type RequestSeries, type SeriesLabels, type ServerSeries } from "./metrics.js";
import { CONNECT_TIMEOUT_US, Network } from "./network.js";
import { OutboundProxy } from "./outbound.js";
import type { Client, Pod } from "./pod.js";
import { parseLink } from "../policy/multicluster.js";
import type { BehaviorSpec, LinkSpec, Selector, WorldSpec } from "./spec.js";
import { TrafficGenerator } from "./traffic.js";
import type { MeshWorld } from "./world-api.js";
import { Workloads } from "./workloads.js";

export interface Edge {
  client: string;
  server: string;
  clientIdentity: string;
  serverIdentity: string;
  /** `√` when mTLS, else Linkerd's no-TLS reason. */
  secured: string;
  requests: number;
}

export interface WorldResult {
  digest: string;
  events: number;
  simulatedUs: number;
  requests: number;
  metrics: MeshMetrics;
  edges: Edge[];
  /** `kind/reason` → how often that decision was taken. */
  marks: Map<string, number>;
  /** Pods per workload (`cluster/ns/deployment`) at the end: running, and how many of them meshed. */
  workloads: Map<string, { meshed: number; running: number }>;
  /** Every failover weight change, in time order. */
  splitUpdates: SplitUpdate[];
  /** `linkerd multicluster gateways` rows per source cluster at the end. */
  gateways: Array<{ from: string; cluster: string; alive: boolean; numSvc: number; latencyMs: number }>;
  /** The same gauges after every probe, per link. */
  gatewayTimeline: Array<{ from: string; cluster: string; points: Array<{ atUs: number; alive: boolean; latencyMs: number }> }>;
  invariantViolations: string[];
}

/** What the world's helpers (workloads, faults) may reach. */
export interface WorldInternals extends MeshWorld {
  readonly spec: WorldSpec;
  readonly network: Network;
  readonly clusters: ReadonlyMap<string, Cluster>;
  readonly workloads: Workloads;
  readonly identity: IdentitySystem;
  appHost(pod: Pod): AppHost;
  clientFor(pod: Pod): Client;
  server(pod: Pod): ServerSeries;
  deploymentsMatching(select: Selector): Array<{ cluster: Cluster; deployment: Deployment }>;
}

/**
 * How long a client takes to notice that a connection into a vanished region is dead (HTTP/2 and
 * TCP keepalive; an assumption — Linkerd's docs give no figure). In-flight requests fail then.
 */
const LOST_CONNECTION_DETECT_US = 10_000_000;

/** Events per run at most; a guard against a runaway model, far above any sane scenario. */
const MAX_EVENTS = 5_000_000_000;

export class World implements WorldInternals {
  readonly sim: Simulation;
  readonly metrics: MeshMetrics;
  readonly network: Network;
  readonly clusters = new Map<string, Cluster>();
  readonly workloads: Workloads;
  readonly identity: IdentitySystem;
  private readonly handshakes = new Map<Pod, Map<Pod, { version: number; ok: boolean; code: string }>>();
  private readonly proxyLatency: Distribution;
  private readonly proxyRng: Rng;
  private readonly seriesCache = new Map<string, unknown>();
  private readonly edges = new Map<string, Edge>();
  private readonly parsedCalls = new Map<object, ReturnType<typeof parseHttpUrl>>();
  private readonly marks = new Map<string, number>();
  private readonly violations: string[] = [];
  private readonly splitUpdates: SplitUpdate[] = [];
  private readonly mirrors: ServiceMirror[] = [];
  private readonly operators = new Map<string, FailoverOperator>();
  private readonly dnsRecords = new Map<string, DnsFailover>();
  private readonly dnsClients = new Map<Pod, DnsClient>();
  private started = 0;
  private endedCount = 0;
  private originIds = 0;

  constructor(readonly spec: WorldSpec, trace?: Trace) {
    this.sim = new Simulation({ seed: spec.seed, ...(trace === undefined ? {} : { trace }) });
    const windows = spec.expect.flatMap((e) => (e.kind === "metric" ? [e.window] : []));
    this.metrics = new MeshMetrics({ bucketUs: spec.report.timelineUs, warmupUs: spec.warmupUs, durationUs: spec.durationUs, windows });
    this.network = new Network(spec.network, this.rng("net"));
    this.proxyLatency = makeDistribution(spec.mesh.proxyLatency);
    this.proxyRng = this.rng("proxy-latency");
    this.workloads = new Workloads(this);
    this.identity = new IdentitySystem(
      { sim: this.sim, emit: (kind, fields) => this.emit(kind, fields) },
      spec.clusters.map((c) => ({ name: c.name, trustAnchor: c.trustAnchor })),
      { issuerValidityUs: spec.mesh.identity.issuerValidityUs, leafLifetimeUs: spec.mesh.identity.leafLifetimeUs },
    );
    for (const c of spec.clusters) this.clusters.set(c.name, new Cluster(c, spec.mesh.propagationDelay, this));
    for (const cluster of this.clusters.values()) this.createDeployments(cluster);
    this.startMulticluster();
    for (const d of spec.dns) {
      const provider = new DnsFailover(d, this);
      this.dnsRecords.set(d.name, provider);
      provider.start();
    }
    for (const cluster of this.clusters.values()) this.startOperator(cluster);
    for (const t of spec.traffic) new TrafficGenerator(t, this.trafficHost(), spec.durationUs).start();
    for (const f of spec.faults) applyFault(this, f);
  }

  /**
   * Play the scenario to its end. `onProgress` (simulated fraction done) is called between slices;
   * slicing the run cannot change its outcome, since a slice stops before the next event's instant.
   */
  run(onProgress?: (fraction: number) => void): WorldResult {
    const slices = onProgress === undefined ? 1 : 200;
    for (let i = 1; i <= slices; i++) {
      const untilUs = Math.round((this.spec.durationUs * i) / slices);
      this.sim.run({ untilUs, maxEvents: MAX_EVENTS });
      onProgress?.(i / slices);
    }
    this.metrics.finish(this.sim.nowUs);
    const inFlight = this.started - this.endedCount;
    if (inFlight < 0) this.violations.push(`more requests ended (${this.endedCount}) than started (${this.started})`);
    this.sim.emit("run.finished", { requests: this.started, ended: this.endedCount, inFlight });
    return {
      digest: this.sim.trace.digest(),
      events: this.sim.events,
      simulatedUs: this.sim.nowUs,
      requests: this.started,
      metrics: this.metrics,
      edges: [...this.edges.values()].sort((a, b) => (a.client !== b.client ? (a.client < b.client ? -1 : 1) : a.server < b.server ? -1 : a.server > b.server ? 1 : 0)),
      marks: this.marks,
      workloads: this.workloadCounts(),
      splitUpdates: this.splitUpdates,
      gateways: this.mirrors.map((m) => m.gatewaysRow()),
      gatewayTimeline: this.mirrors.map((m) => ({ from: m.gatewaysRow().from, cluster: m.gatewaysRow().cluster, points: m.history })),
      invariantViolations: this.violations,
    };
  }

  private workloadCounts(): Map<string, { meshed: number; running: number }> {
    const out = new Map<string, { meshed: number; running: number }>();
    for (const c of this.clusters.values()) {
      for (const d of c.deployments.values()) {
        const running = d.pods.filter((p) => p.alive).length;
        out.set(`${c.name}/${d.template.namespace}/${d.template.deployment}`, { meshed: d.template.meshed ? running : 0, running });
      }
      const gateway = c.gatewayPod;
      if (gateway !== undefined) out.set(gateway.workload, { meshed: gateway.alive ? 1 : 0, running: gateway.alive ? 1 : 0 });
    }
    return out;
  }

  // ---- MeshContext -----------------------------------------------------------------------------

  emit(kind: string, fields: TraceFields): void {
    this.sim.emit(kind, fields);
    const reason = fields["reason"];
    const key = reason === undefined ? kind : `${kind}/${String(reason)}`;
    this.marks.set(key, (this.marks.get(key) ?? 0) + 1);
    if (reason !== undefined) this.marks.set(kind, (this.marks.get(kind) ?? 0) + 1);
  }

  rng(label: string): Rng {
    return this.sim.rng(label);
  }

  // ---- MeshWorld -------------------------------------------------------------------------------

  resolveService(pod: Pod, host: string, port: number): ServiceRef | undefined {
    const cluster = this.clusters.get(pod.cluster) as Cluster;
    const svc = serviceForHost(host, pod.namespace, cluster.domain);
    if (svc === undefined || !cluster.serviceExists(svc.namespace, svc.name)) return undefined;
    return { ...svc, port };
  }

  readyEndpoints(cluster: string, namespace: string, name: string): readonly Pod[] {
    return this.clusters.get(cluster)?.readyEndpoints(namespace, name) ?? [];
  }

  subscribeDestination(proxy: OutboundProxy, service: ServiceRef): Destination {
    return (this.clusters.get(proxy.pod.cluster) as Cluster).subscribeDestination(proxy, service);
  }

  newBalancer(proxy: OutboundProxy, service: ServiceRef, accrual: FailureAccrualConfig | undefined): Balancer {
    const label = `${proxy.pod.cluster}/${proxy.pod.namespace}/${proxy.pod.name}/${service.namespace}/${service.name}:${service.port}`;
    const b = new Balancer(label, this, accrual, proxy.pod);
    const cluster = this.clusters.get(proxy.pod.cluster) as Cluster;
    b.authorityOverride = cluster.authorityOverride(service);
    cluster.subscribeEndpoints(b, service);
    return b;
  }

  unsubscribe(proxy: OutboundProxy, balancers: readonly Balancer[]): void {
    const cluster = this.clusters.get(proxy.pod.cluster) as Cluster;
    cluster.unsubscribeDestinations(proxy);
    for (const b of balancers) cluster.unsubscribeEndpoints(b);
  }

  attemptOutcome(pod: Pod, backend: ServiceRef, ok: boolean): void {
    this.operators.get(pod.cluster)?.observe(backend.namespace, backend.name, ok);
  }

  transmit(from: Pod, to: Pod, request: HttpRequest, respond: Respond): void {
    const target = this.clusters.get(to.cluster) as Cluster;
    if (!this.network.reachable(from.cluster, to.cluster) || !target.alive) {
      // Nothing answers: no RST comes back from a partitioned or vanished region.
      this.sim.schedule(CONNECT_TIMEOUT_US, () => respond({ status: 502, error: "connect-error", from: "unreachable" }), undefined, Priority.Completion, from);
      return;
    }
    if (from.meshed && to.meshed && !this.handshake(from, to).ok) {
      // The mTLS handshake fails (untrusted anchor, expired certificate): so does the connection.
      const rttUs = this.network.latencyUs(from.cluster, to.cluster) + this.network.latencyUs(to.cluster, from.cluster);
      this.sim.schedule(rttUs, () => respond({ status: 502, error: "connect-error", from: "tls-handshake" }), undefined, Priority.Completion, from);
      return;
    }
    const outUs = (from.meshed ? this.hopUs() : 0) + this.network.latencyUs(from.cluster, to.cluster) + (to.meshed ? this.hopUs() : 0);
    this.sim.schedule(outUs, () => this.arrive(from, to, request, respond), undefined, Priority.Completion);
  }

  private arrive(from: Pod, to: Pod, request: HttpRequest, respond: Respond): void {
    const back = (res: HttpResponse): void => {
      // A region that vanishes sends nothing back: in-flight requests end only when the client's
      // connection is found dead.
      const lost = !(this.clusters.get(to.cluster) as Cluster).alive;
      const delayUs = lost ? LOST_CONNECTION_DETECT_US : this.network.latencyUs(to.cluster, from.cluster);
      this.sim.schedule(delayUs, () => respond(res), undefined, Priority.Completion, from);
    };
    if (!to.alive) return back({ status: 502, error: "connect-error", from: "connection-refused" });
    // The sender died while the request travelled: its connection is gone, nothing is served.
    if (!from.alive) return;
    this.recordEdge(from, to);
    this.counter("arrivals", { traffic: request.origin.traffic, server: to.workload }).add(this.sim.nowUs);
    const arrivedUs = this.sim.nowUs;
    const server = this.server(to);
    to.app.handle(request, (res) => {
      server.record(arrivedUs, this.sim.nowUs, res.status < 500, res.status);
      back(res.error === "reset" ? { status: 502, error: "reset", from: res.from ?? "reset" } : res);
    });
  }

  /** mTLS between two proxies, cached per pod pair until any certificate or bundle changes. */
  private handshake(from: Pod, to: Pod): { ok: boolean; code: string } {
    let byServer = this.handshakes.get(from);
    if (byServer === undefined) {
      byServer = new Map();
      this.handshakes.set(from, byServer);
    }
    const cached = byServer.get(to);
    if (cached !== undefined && cached.version === this.identity.version) return cached;
    const r = this.identity.handshake(from, to);
    const entry = { version: this.identity.version, ok: r.ok, code: r.code };
    byServer.set(to, entry);
    return entry;
  }

  private hopUs(): number {
    return sampleUs(this.proxyLatency, this.proxyRng);
  }

  private recordEdge(from: Pod, to: Pod): void {
    const known = from.edges.get(to);
    if (known !== undefined) {
      known.requests += 1;
      return;
    }
    const key = `${from.workload}|${to.workload}`;
    let e = this.edges.get(key);
    if (e === undefined) {
      const secured = !from.meshed ? "Not Provided By Remote" : !to.meshed ? "Not Provided By Service Discovery" : "√";
      e = { client: from.workload, server: to.workload, clientIdentity: from.identity, serverIdentity: to.identity, secured, requests: 0 };
      this.edges.set(key, e);
    }
    e.requests += 1;
    from.edges.set(to, e);
  }

  request(labels: SeriesLabels): RequestSeries {
    return this.cached("r", labels, () => this.metrics.request(labels));
  }
  attempt(labels: SeriesLabels): RequestSeries {
    return this.cached("a", labels, () => this.metrics.attempt(labels));
  }
  counter(name: CounterName, labels: SeriesLabels): CounterSeries {
    return this.cached(`c:${name}`, labels, () => this.metrics.counter(name, labels));
  }
  inFlight(labels: SeriesLabels): GaugeSeries {
    return this.cached("g", labels, () => this.metrics.inFlight(labels));
  }
  server(pod: Pod): ServerSeries {
    pod.serverSeries ??= this.metrics.server({ server: pod.workload, pod: pod.name });
    return pod.serverSeries;
  }

  private cached<T>(kind: string, labels: SeriesLabels, make: () => T): T {
    const key = `${kind}|${labels.traffic ?? ""}|${labels.client ?? ""}|${labels.service ?? ""}|${labels.route ?? ""}|${labels.backend ?? ""}|${labels.server ?? ""}|${labels.pod ?? ""}`;
    let s = this.seriesCache.get(key) as T | undefined;
    if (s === undefined) {
      s = make();
      this.seriesCache.set(key, s);
    }
    return s;
  }

  requestStarted(_request: HttpRequest): void {
    this.started += 1;
  }

  requestEnded(request: HttpRequest): void {
    if (request.endedAtUs !== undefined) {
      this.violations.push(`request ${request.method} ${request.path} (origin ${request.origin.id}) ended twice: at ${request.endedAtUs}us and ${this.sim.nowUs}us`);
      return;
    }
    request.endedAtUs = this.sim.nowUs;
    this.endedCount += 1;
  }

  // ---- WorldInternals --------------------------------------------------------------------------

  appHost(pod: Pod): AppHost {
    const series = (): ServerSeries => this.server(pod);
    const parsedCalls = this.parsedCalls;
    return {
      after: (delayUs, fn) => {
        this.sim.schedule(delayUs, fn, undefined, Priority.Completion, pod);
      },
      call: (spec, parent, respond) => {
        let url = parsedCalls.get(spec);
        if (url === undefined) {
          url = parseHttpUrl(spec.to);
          parsedCalls.set(spec, url);
        }
        if (url === undefined) return respond({ status: 502, error: "other", from: "bad-call-url" });
        const request: HttpRequest = {
          method: spec.method,
          path: url.path,
          authority: `${url.host}:${url.port}`,
          bodyBytes: 0,
          origin: parent.origin,
        };
        pod.client.send(request, respond, undefined);
      },
      sideEffect: (route, request) => {
        const origin = request.origin;
        const key = `${pod.workload} ${route}`;
        origin.sideEffects ??= new Map();
        const n = (origin.sideEffects.get(key) ?? 0) + 1;
        origin.sideEffects.set(key, n);
        if (n > 1) {
          this.counter("duplicates", { traffic: origin.traffic, server: pod.workload, route }).add(this.sim.nowUs);
          this.emit("side-effect.duplicated", { server: pod.workload, route, origin: origin.id, executions: n, reason: "repeated-execution" });
        }
      },
      busy: (delta) => series().busy(delta, this.sim.nowUs),
      rejected: () => this.emit("app.rejected", { pod: pod.label, reason: "queue-full" }),
    };
  }

  clientFor(pod: Pod): Client {
    return pod.meshed ? new OutboundProxy(pod, this) : new DirectClient(pod, this);
  }

  deploymentsMatching(select: Selector): Array<{ cluster: Cluster; deployment: Deployment }> {
    const out: Array<{ cluster: Cluster; deployment: Deployment }> = [];
    for (const cluster of this.clusters.values()) {
      if (select.cluster !== undefined && select.cluster !== cluster.name) continue;
      for (const d of cluster.deployments.values()) {
        if (select.namespace !== undefined && select.namespace !== d.template.namespace) continue;
        if (select.deployment !== undefined && select.deployment !== d.template.deployment) continue;
        out.push({ cluster, deployment: d });
      }
    }
    return out;
  }

  /** Gateways in every link target, then a service mirror per link. */
  private startMulticluster(): void {
    for (const target of new Set(this.links().map((l) => l.to))) {
      const cluster = this.clusters.get(target);
      if (cluster !== undefined) cluster.gatewayPod = this.workloads.createGateway(cluster, this.spec.mesh.gateway.concurrency);
    }
    for (const link of this.links()) {
      const local = this.clusters.get(link.from);
      const remote = this.clusters.get(link.to);
      if (local === undefined || remote === undefined) continue;
      const mirror = new ServiceMirror(link, local, remote, this);
      this.mirrors.push(mirror);
      mirror.start();
    }
  }

  /**
   * The `links:` shorthand plus every Link object in a cluster's manifests whose
   * `targetClusterName` names a cluster of the scenario (its mirrors are named after it).
   */
  private links(): LinkSpec[] {
    const fromObjects = [...this.clusters.values()].flatMap((c) =>
      c.ofKind("Link").flatMap((o): LinkSpec[] => {
        const link = parseLink(o.raw).value;
        if (link === undefined || !this.clusters.has(link.targetClusterName)) return [];
        return [{ from: c.name, to: link.targetClusterName, probePeriodUs: link.probeSpec.periodUs, clusterName: link.targetClusterName }];
      }),
    );
    return [...this.spec.links, ...fromObjects.filter((l) => !this.spec.links.some((s) => s.from === l.from && s.to === l.to))];
  }

  /** A failover operator wherever a TrafficSplit is labelled for it; it watches Endpoints. */
  private startOperator(cluster: Cluster): void {
    const operator = new FailoverOperator(cluster, this, this.spec.mesh.failover, (u) => this.splitUpdates.push(u));
    if (operator.splits().length === 0) return;
    this.operators.set(cluster.name, operator);
    cluster.onAnyEndpointsChanged((ns, name) => operator.endpointsChanged(ns, name));
    operator.start();
  }

  /** Every workload's pods: a DaemonSet runs one per node, a bare Pod is its own single pod. */
  private createDeployments(cluster: Cluster): void {
    const nodes = this.spec.clusters.find((c) => c.name === cluster.name)?.nodes ?? 1;
    for (const { view, template } of cluster.deploymentTemplates()) {
      const replicas = view.replicas ?? nodes;
      const d: Deployment = {
        view,
        template,
        behavior: behaviorFor(this.spec.behavior, template.cluster, template.namespace, template.deployment),
        desiredReplicas: replicas,
        pods: [],
        nextOrdinal: 0,
        degradation: {},
        probeForcedFail: false,
      };
      cluster.deployments.set(`${view.namespace}/${view.name}`, d);
      for (let i = 0; i < replicas; i++) this.workloads.createPod(cluster, d, true);
    }
  }

  private trafficHost() {
    return {
      sim: this.sim,
      emit: (kind: string, fields: TraceFields) => this.emit(kind, fields),
      rng: (label: string) => this.rng(label),
      sourcePods: (t: WorldSpec["traffic"][number]) => {
        const d = this.clusters.get(t.from.cluster)?.deployments.get(`${t.from.namespace}/${t.from.deployment}`);
        return d === undefined ? [] : d.pods.filter((p) => p.alive);
      },
      nextOriginId: () => ++this.originIds,
      send: (pod: Pod, request: HttpRequest, respond: Respond, traffic: string) => {
        const host = request.authority.split(":")[0] as string;
        if (!this.dnsRecords.has(host)) return pod.client.send(request, respond, traffic);
        let client = this.dnsClients.get(pod);
        if (client === undefined) {
          client = new DnsClient(pod, this, this.dnsRecords);
          this.dnsClients.set(pod, client);
        }
        client.send(request, respond, traffic);
      },
    };
  }
}

/**
 * The behaviour for a deployment: the matching entry that names the most of cluster, namespace
 * and deployment; among equally specific ones, the first listed. None ⇒ `DEFAULT_BEHAVIOR`.
 */
export function behaviorFor(entries: readonly BehaviorSpec[], cluster: string, namespace: string, deployment: string): BehaviorSpec {
  let best: BehaviorSpec | undefined;
  let bestScore = -1;
  for (const b of entries) {
    const s = b.select;
    if ((s.cluster !== undefined && s.cluster !== cluster) || (s.namespace !== undefined && s.namespace !== namespace) || (s.deployment !== undefined && s.deployment !== deployment)) continue;
    const score = (s.cluster === undefined ? 0 : 1) + (s.namespace === undefined ? 0 : 1) + (s.deployment === undefined ? 0 : 1);
    if (score > bestScore) {
      best = b;
      bestScore = score;
    }
  }
  return best ?? DEFAULT_BEHAVIOR;
}
