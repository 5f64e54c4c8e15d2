// The simulated world: clusters built from real manifests, pods with their apps and proxies, the
// network between them, traffic and faults, all on one kernel. `run()` plays the scenario to its
// end and returns the metrics, edges, coverage marks and invariant findings.
//
// A request's walk, top-down: a traffic generator (traffic.ts) or an app's downstream call
// (app-host.ts) → the pod's client: its outbound proxy (outbound.ts: route, retries, timeouts) and
// the backend's balancer (balancer.ts: queue, P2C over ready endpoints) → the connection to the
// endpoint pod (connection.ts) → the network (data-plane.ts) → the server's inbound proxy
// (inbound.ts) → its app (app.ts) → and back the same way. This file builds the world and answers
// the components' questions about it (world-api.ts); it does none of those steps itself.

import type { FailureAccrualConfig } from "../policy/config.js";
import { parseCanary } from "../policy/flagger.js";
import { parseLink } from "../policy/multicluster.js";
import type { Rng } from "../sim/rng.js";
import { Simulation } from "../sim/simulation.js";
import type { Trace, TraceFields } from "../sim/trace.js";
import { PodAppHost } from "./app-host.js";
import { Balancer } from "./balancer.js";
import { Cluster, type Deployment, type DestinationSubscriber } from "./cluster.js";
import { DataPlane } from "./data-plane.js";
import { type Destination, type ServiceRef, serviceKey } from "./destination.js";
import { DirectClient } from "./direct-client.js";
import { DnsClient, DnsFailover } from "./dns.js";
import { type Edge, EdgeBook } from "./edges.js";
import { FailoverOperator, type SplitUpdate } from "./failover-operator.js";
import { ChangeApplier, type ChangeRecord } from "./changes.js";
import { DeploymentController } from "./deployment-controller.js";
import { type CanaryRun, FlaggerJob } from "./flagger-controller.js";
import { type FailureCause, FailureBook, type FailureRow } from "./failure-book.js";
import { FaultInjector } from "./faults.js";
import { GrpcTargets } from "./grpc-target.js";
import { type HttpRequest, type HttpResponse, parseHttpUrl, type Respond, serviceForHost, splitAuthority } from "./http.js";
import { IdentitySystem } from "./identity.js";
import type { InboundTarget } from "./inbound.js";
import { type CounterName, type CounterSeries, type GaugeSeries, MeshMetrics, type RequestSeries, type SeriesLabels, type ServerSeries } from "./metrics.js";
import { ServiceMirror } from "./multicluster.js";
import { Network } from "./network.js";
import { OutboundProxy } from "./outbound.js";
import type { Client, Pod } from "./pod.js";
import { SeriesCache } from "./series-cache.js";
import { podPath } from "./streams.js";
import type { CallSpec, LinkSpec, RequestProtocol, Selector, WorldSpec } from "./spec.js";
import { TrafficGenerator } from "./traffic.js";
import type { ServedRequest, WorldInternals } from "./world-api.js";
import { Workloads } from "./workloads.js";

export type { Edge } from "./edges.js";
export { behaviorFor } from "./workloads.js";
export type { WorldInternals } from "./world-api.js";

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
  /** Every configuration change of the scenario's `changes:`, in the order applied. */
  changes: ChangeRecord[];
  /** Every Flagger Canary: its job's runs that did something, and when it promoted or rolled back. */
  canaries: CanaryRun[];
  /** Failed requests in the window by client, service, route, status, cause and retry verdict, most first. */
  failures: FailureRow[];
  /** `linkerd multicluster gateways` rows per source cluster at the end. */
  gateways: Array<{ from: string; cluster: string; alive: boolean; numSvc: number; latencyMs: number }>;
  /** The same gauges after every probe, per link. */
  gatewayTimeline: Array<{ from: string; cluster: string; points: Array<{ atUs: number; alive: boolean; latencyMs: number }> }>;
  invariantViolations: string[];
  /** Checks that hold only statistically (Little's law per client series): printed, never fail the run. */
  warnings: string[];
}

/**
 * Observers of every request a client starts and ends (traffic and apps' downstream calls alike),
 * for tests and tools that compare runs request by request; they must not touch the world.
 */
export interface RequestObserver {
  started?(atUs: number, request: HttpRequest): void;
  ended?(atUs: number, request: HttpRequest, status: number): void;
  /** A pod served a request (its inbound side, as `viz tap` sees it). */
  served?(r: ServedRequest): void;
}

/** Events per run at most; a guard against a runaway model, far above any sane scenario. */
const MAX_EVENTS = 5_000_000_000;
/**
 * No model event cascade at one instant comes near this (a fan-out of thousands of requests is
 * tens of thousands of events); past it, the clock has stopped and the run is a livelock.
 */
const MAX_EVENTS_PER_INSTANT = 5_000_000;
/** Invariant violations listed in a result; the rest are counted in one last line. */
const MAX_VIOLATIONS_SHOWN = 20;

export class World implements WorldInternals {
  readonly sim: Simulation;
  readonly metrics: MeshMetrics;
  readonly network: Network;
  readonly clusters = new Map<string, Cluster>();
  readonly workloads: Workloads;
  readonly identity: IdentitySystem;
  readonly edges = new EdgeBook();
  private readonly series: SeriesCache;
  private readonly dataPlane: DataPlane;
  private readonly parsedCalls = new Map<CallSpec, ReturnType<typeof parseHttpUrl>>();
  private readonly marks = new Map<string, number>();
  private readonly violations: string[] = [];
  private violationsUnshown = 0;
  private readonly splitUpdates: SplitUpdate[] = [];
  private readonly mirrors: ServiceMirror[] = [];
  private readonly operators = new Map<string, FailoverOperator>();
  private readonly dnsRecords = new Map<string, DnsFailover>();
  private readonly dnsClients = new Map<Pod, DnsClient>();
  private readonly grpcTargets = new GrpcTargets();
  private readonly changes: ChangeApplier;
  private readonly canaries: CanaryRun[] = [];
  private readonly failures: FailureBook;
  private started = 0;
  private endedCount = 0;
  private originIds = 0;

  readonly onServed: ((r: ServedRequest) => void) | undefined;

  constructor(readonly spec: WorldSpec, trace?: Trace, private readonly observer?: RequestObserver) {
    this.onServed = observer?.served === undefined ? undefined : (r) => observer.served?.(r);
    this.sim = new Simulation({ seed: spec.seed, ...(trace === undefined ? {} : { trace }) });
    const windows = spec.expect.flatMap((e) => (e.kind === "metric" ? [e.window] : []));
    this.metrics = new MeshMetrics({ bucketUs: spec.report.timelineUs, warmupUs: spec.warmupUs, durationUs: spec.durationUs, windows });
    this.series = new SeriesCache(this.metrics);
    this.failures = new FailureBook([spec.warmupUs, spec.durationUs]);
    this.network = new Network(spec.network);
    this.dataPlane = new DataPlane(this, spec.mesh.proxyLatency);
    this.workloads = new Workloads(this);
    this.identity = new IdentitySystem(
      { sim: this.sim, emit: (kind, fields) => this.emit(kind, fields) },
      spec.clusters.map((c) => ({ name: c.name, trustAnchor: c.trustAnchor })),
      { issuerValidityUs: spec.mesh.identity.issuerValidityUs, leafLifetimeUs: spec.mesh.identity.leafLifetimeUs },
    );
    for (const c of spec.clusters) this.clusters.set(c.name, new Cluster(c, spec.mesh.controlPlane, this));
    for (const cluster of this.clusters.values()) {
      this.workloads.createWorkloads(cluster, spec.clusters.find((c) => c.name === cluster.name)?.nodes ?? 1, spec.behavior);
    }
    this.startMulticluster();
    for (const d of spec.dns) {
      const provider = new DnsFailover(d, this);
      this.dnsRecords.set(d.name, provider);
      provider.start();
    }
    for (const cluster of this.clusters.values()) this.startOperator(cluster);
    for (const t of spec.traffic) new TrafficGenerator(t, this.trafficHost(), spec.durationUs).start();
    const faults = new FaultInjector(this);
    for (const f of spec.faults) faults.apply(f);
    const deploymentController = new DeploymentController({
      sim: this.sim,
      emit: (kind, fields) => this.emit(kind, fields),
      rng: (label) => this.rng(label),
      workloads: this.workloads,
      behaviors: spec.behavior,
      nodes: (name) => spec.clusters.find((c) => c.name === name)?.nodes ?? 1,
    });
    this.changes = new ChangeApplier({ sim: this.sim, emit: (kind, fields) => this.emit(kind, fields), rng: (label) => this.rng(label), clusters: this.clusters, deploymentController }, spec.changes ?? []);
    this.startFlagger(deploymentController);
  }

  /** Flagger, with the Linkerd provider, runs a job for every Canary a cluster holds at the start. */
  private startFlagger(deploymentController: DeploymentController): void {
    const host = { sim: this.sim, emit: (kind: string, fields: TraceFields) => this.emit(kind, fields), rng: (label: string) => this.rng(label), violated: (m: string) => this.violated(m), metrics: this.metrics, workloads: this.workloads, deploymentController, changes: this.changes };
    for (const cluster of this.clusters.values()) {
      for (const o of cluster.apiObjects("Canary")) {
        if (!o.apiVersion.startsWith("flagger.app/")) continue;
        const config = parseCanary(o.raw).value;
        if (config === undefined) continue;
        const job = new FlaggerJob(cluster, config, o, host);
        this.canaries.push(job.run);
        job.start();
      }
    }
  }

  /**
   * Play the scenario up to (not including) `untilUs` and stop there, to look at the world at that
   * instant (`meshsim policy --at`). Events at `untilUs` itself have not run.
   */
  advanceTo(untilUs: number): void {
    this.sim.run({ untilUs: Math.min(untilUs, this.spec.durationUs), maxEvents: MAX_EVENTS, maxEventsPerInstant: MAX_EVENTS_PER_INSTANT });
  }

  /**
   * Play the scenario to its end. `onProgress` (simulated fraction done) is called between slices;
   * slicing the run cannot change its outcome, since a slice stops before the next event's instant.
   */
  run(onProgress?: (fraction: number) => void): WorldResult {
    const slices = onProgress === undefined ? 1 : 200;
    for (let i = 1; i <= slices; i++) {
      const untilUs = Math.round((this.spec.durationUs * i) / slices);
      try {
        const played = this.sim.run({ untilUs, maxEvents: MAX_EVENTS, maxEventsPerInstant: MAX_EVENTS_PER_INSTANT });
        if (played.reason === "stalled") {
          this.violated(
            `simulated time stopped advancing at ${played.nowUs}us: ${MAX_EVENTS_PER_INSTANT} events in a row ran at that one instant ` +
              `(a loop that takes no simulated time, such as a closed-loop user with thinkTime 0 whose requests are answered at once); the run stops there`,
          );
          break;
        }
      } catch (e) {
        // A handler threw: the model broke one of its own assertions (time going back, a gauge
        // going back, a request ending before it began). The run stops there and says where.
        const message = e instanceof Error ? e.message : String(e);
        this.violated(`the model stopped at ${this.sim.nowUs}us, after event ${this.sim.events}: ${message}`);
        break;
      }
      onProgress?.(i / slices);
    }
    this.metrics.finish(this.sim.nowUs);
    this.dataPlane.checkConservation();
    const inFlight = this.started - this.endedCount;
    if (inFlight < 0) this.violated(`more requests ended (${this.endedCount}) than started (${this.started})`);
    for (const v of this.metrics.negativeGauges()) this.violated(v);
    if (this.violationsUnshown > 0) this.violations.push(`… and ${this.violationsUnshown} more violations`);
    this.sim.emit("run.finished", { requests: this.started, ended: this.endedCount, inFlight });
    return {
      digest: this.sim.trace.digest(),
      events: this.sim.events,
      simulatedUs: this.sim.nowUs,
      requests: this.started,
      metrics: this.metrics,
      edges: this.edges.sorted(),
      marks: this.marks,
      workloads: this.workloadCounts(),
      splitUpdates: this.splitUpdates,
      changes: this.changes.records,
      canaries: this.canaries,
      failures: this.failures.sorted(),
      gateways: this.mirrors.map((m) => m.gatewaysRow()),
      gatewayTimeline: this.mirrors.map((m) => ({ from: m.gatewaysRow().from, cluster: m.gatewaysRow().cluster, points: m.history })),
      invariantViolations: this.violations,
      warnings: this.metrics.littleLawWarnings(this.sim.nowUs),
    };
  }

  private workloadCounts(): Map<string, { meshed: number; running: number }> {
    const out = new Map<string, { meshed: number; running: number }>();
    for (const c of this.clusters.values()) {
      for (const d of c.deployments.values()) {
        const running = d.pods.filter((p) => p.alive);
        out.set(`${c.name}/${d.template.namespace}/${d.template.deployment}`, { meshed: running.filter((p) => p.meshed).length, running: running.length });
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

  violated(message: string): void {
    // The first ones tell the story; a broken model can break an invariant at every event.
    if (this.violations.length >= MAX_VIOLATIONS_SHOWN) {
      this.violationsUnshown += 1;
      return;
    }
    this.violations.push(message);
    this.emit("invariant.violated", { message });
  }

  rng(label: string): Rng {
    return this.sim.rng(label);
  }

  // ---- MeshWorld: what proxies and clients ask -------------------------------------------------

  resolveService(pod: Pod, host: string, port: number): ServiceRef | undefined {
    const cluster = this.clusters.get(pod.cluster) as Cluster;
    const svc = serviceForHost(host, pod.namespace, cluster.domain);
    if (svc === undefined || !cluster.serviceExists(svc.namespace, svc.name)) return undefined;
    return { ...svc, port };
  }

  readyEndpoints(cluster: string, namespace: string, name: string): readonly Pod[] {
    return this.clusters.get(cluster)?.readyEndpoints(namespace, name) ?? [];
  }

  subscribeDestination(proxy: DestinationSubscriber, service: ServiceRef): Destination {
    return (this.clusters.get(proxy.pod.cluster) as Cluster).subscribeDestination(proxy, service);
  }

  newBalancer(proxy: { readonly pod: Pod }, parent: ServiceRef, service: ServiceRef, accrual: FailureAccrualConfig | undefined, generation = 0): Balancer {
    // `<pod>/<parent>/<backend>[#n]` (streams.ts): one backend reached through two parents gets
    // two balancers, and one built again (dropped, then listed again) gets streams of its own.
    const label = `${podPath(proxy.pod)}/${serviceKey(parent)}/${serviceKey(service)}${generation === 0 ? "" : `#${generation}`}`;
    const b = new Balancer(label, this, accrual, proxy.pod, this.dataPlane.endpointConnections(proxy.pod));
    const cluster = this.clusters.get(proxy.pod.cluster) as Cluster;
    b.authorityOverride = cluster.authorityOverride(service);
    cluster.subscribeEndpoints(b, service, proxy.pod);
    return b;
  }

  releaseBalancer(proxy: { readonly pod: Pod }, balancer: Balancer, reason: string): void {
    (this.clusters.get(proxy.pod.cluster) as Cluster).unsubscribeEndpoints(balancer);
    balancer.close(reason);
  }

  unsubscribe(proxy: DestinationSubscriber, balancers: readonly Balancer[]): void {
    const cluster = this.clusters.get(proxy.pod.cluster) as Cluster;
    cluster.unsubscribeDestinations(proxy);
    for (const b of balancers) cluster.unsubscribeEndpoints(b);
    this.dataPlane.clientGone(proxy.pod);
  }

  attemptOutcome(pod: Pod, backend: ServiceRef, ok: boolean): void {
    this.operators.get(pod.cluster)?.observe(backend.namespace, backend.name, ok);
  }

  transmit(from: Pod, to: Pod, request: HttpRequest, respond: Respond): void {
    this.dataPlane.transmit(from, to, request, respond);
  }

  requestFailed(labels: SeriesLabels, res: { status: number; grpcStatus?: number }, cause: FailureCause, retry: string): void {
    this.failures.record(labels, res, cause, retry, this.sim.nowUs);
  }

  proxyHopUs(pod: Pod): number {
    return this.dataPlane.proxyHopUs(pod);
  }

  request(labels: SeriesLabels): RequestSeries {
    return this.series.request(labels);
  }
  attempt(labels: SeriesLabels): RequestSeries {
    return this.series.attempt(labels);
  }
  counter(name: CounterName, labels: SeriesLabels): CounterSeries {
    return this.series.counter(name, labels);
  }
  inFlight(labels: SeriesLabels): GaugeSeries {
    return this.series.inFlight(labels);
  }
  server(pod: Pod): ServerSeries {
    return this.series.server(pod);
  }
  arrivals(pod: Pod, traffic: string): CounterSeries {
    return this.series.arrivals(pod, traffic);
  }

  requestStarted(request: HttpRequest): void {
    this.started += 1;
    this.observer?.started?.(this.sim.nowUs, request);
  }

  requestEnded(request: HttpRequest, status: number): void {
    // Every answer's instant and status feed the digest: two runs that differ in any request's
    // timing or outcome differ in digest, whether or not a trace record was written for it.
    this.sim.trace.absorbValues(this.sim.nowUs, request.origin.id, status);
    if (request.endedAtUs !== undefined) {
      this.violated(`request ${request.method} ${request.path} (origin ${request.origin.id}) ended twice: at ${request.endedAtUs}us and ${this.sim.nowUs}us`);
      return;
    }
    request.endedAtUs = this.sim.nowUs;
    this.endedCount += 1;
    this.observer?.ended?.(this.sim.nowUs, request, status);
  }

  // ---- WorldInternals: what workloads, faults and controllers ask ------------------------------

  appHost(pod: Pod): PodAppHost {
    return new PodAppHost(pod, this);
  }

  callUrl(spec: CallSpec): ReturnType<typeof parseHttpUrl> {
    if (!this.parsedCalls.has(spec)) this.parsedCalls.set(spec, parseHttpUrl(spec.to));
    return this.parsedCalls.get(spec);
  }

  startInbound(pod: Pod, target: InboundTarget): void {
    this.dataPlane.startInbound(pod, target);
  }

  podDied(pod: Pod, response: HttpResponse): void {
    this.dataPlane.podDied(pod, response);
  }

  appCapacityChanged(pod: Pod): void {
    this.dataPlane.capacityChanged(pod);
  }

  clusterAlive(name: string): boolean {
    return this.clusters.get(name)?.alive ?? false;
  }

  /** Whether a client in `pod` speaks gRPC to `authority`: as written, or decided by the target (grpc-target.ts). */
  speaksGrpc(pod: Pod, authority: string, protocol: RequestProtocol | undefined): boolean {
    const cluster = this.clusters.get(pod.cluster) as Cluster;
    const { host, port } = splitAuthority(authority);
    return this.grpcTargets.isGrpc(protocol, pod.cluster, cluster, protocol === undefined || protocol === "auto" ? this.resolveService(pod, host, port) : undefined);
  }

  grpcUndecided(pod: Pod, authority: string, protocol: RequestProtocol | undefined): boolean {
    if (protocol === "grpc" || protocol === "http") return false;
    const { host, port } = splitAuthority(authority);
    return this.resolveService(pod, host, port) === undefined;
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

  private trafficHost() {
    return {
      sim: this.sim,
      emit: (kind: string, fields: TraceFields) => this.emit(kind, fields),
      rng: (label: string) => this.rng(label),
      sourcePods: (t: WorldSpec["traffic"][number]) => {
        const d = this.clusters.get(t.from.cluster)?.deployments.get(`${t.from.namespace}/${t.from.deployment}`);
        return d === undefined ? [] : d.pods.filter((p) => p.alive && !this.workloads.isTerminating(p));
      },
      nextOriginId: () => ++this.originIds,
      speaksGrpc: (pod: Pod, authority: string, protocol: RequestProtocol | undefined) => this.speaksGrpc(pod, authority, protocol),
      send: (pod: Pod, request: HttpRequest, respond: Respond, traffic: string) => {
        if (this.dnsRecords.size === 0) return pod.client.send(request, respond, traffic);
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
