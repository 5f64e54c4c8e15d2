// The DNS failover baseline the mesh is compared with: a global name answered with one region's
// Service, a health checker that flips the answer after consecutive failed checks, and clients
// that cache each answer for its TTL. Requests then go straight to a pod of that region's Service
// (the regional load balancer), without the mesh's failover, retries or gateway.

import { Priority } from "../sim/priority.js";
import type { Rng } from "../sim/rng.js";
import type { Cluster } from "./cluster.js";
import type { HttpRequest, Respond } from "./http.js";
import { splitAuthority } from "./http.js";
import { CONNECT_TIMEOUT_US } from "./network.js";
import type { Pod } from "./pod.js";
import type { DnsSpec } from "./spec.js";
import { podPath } from "./streams.js";
import type { WorldInternals } from "./world-api.js";

type DnsRecord = DnsSpec["records"][number];

/** The DNS provider's side: records, health checks, the answer it serves now. */
export class DnsFailover {
  private readonly failures: number[];
  private served = 0;

  constructor(readonly spec: DnsSpec, private readonly world: WorldInternals) {
    this.failures = spec.records.map(() => 0);
  }

  start(): void {
    this.world.sim.schedule(this.spec.healthCheck.intervalUs, () => this.check(), undefined, Priority.Default);
  }

  /** The record served now: the first healthy one in priority order. */
  answer(): DnsRecord {
    return this.spec.records[this.served] as DnsRecord;
  }

  private healthy(r: DnsRecord): boolean {
    const c = this.world.clusters.get(r.cluster);
    // The provider health-checks the region's targets themselves, not its Endpoints objects.
    return c !== undefined && c.alive && c.selectedReadyPods(r.namespace, r.service).length > 0;
  }

  private check(): void {
    this.spec.records.forEach((r, i) => {
      this.failures[i] = this.healthy(r) ? 0 : (this.failures[i] as number) + 1;
    });
    const threshold = this.spec.healthCheck.failureThreshold;
    const first = this.failures.findIndex((f) => f < threshold);
    // With every record unhealthy the provider keeps answering what it answered.
    if (first !== -1 && first !== this.served) {
      this.served = first;
      const r = this.answer();
      this.world.emit("dns.record-changed", { name: this.spec.name, cluster: r.cluster, reason: first === 0 ? "primary-healthy-again" : "health-check-failed" });
    }
    this.world.sim.schedule(this.spec.healthCheck.intervalUs, () => this.check(), undefined, Priority.Default);
  }
}

/** A client pod's resolver and plain HTTP client for global names. */
export class DnsClient {
  private readonly cache = new Map<string, { record: DnsRecord; expiresUs: number }>();
  /** `dns-client/<pod>/pick`: the regional load balancer's pick of a target. */
  private readonly pickRng: Rng;
  /** `dns-client/<pod>/rtt`: the round trip to a region whose load balancer has no target. */
  private readonly rttRng: Rng;

  constructor(private readonly pod: Pod, private readonly world: WorldInternals, private readonly records: ReadonlyMap<string, DnsFailover>) {
    this.pickRng = world.rng(`dns-client/${podPath(pod)}/pick`);
    this.rttRng = world.rng(`dns-client/${podPath(pod)}/rtt`);
  }

  send(request: HttpRequest, respond: Respond, traffic: string | undefined): void {
    const { host } = splitAuthority(request.authority);
    const startUs = this.world.sim.nowUs;
    const labels = { client: this.pod.workload, service: host, route: "[dns]", ...(traffic === undefined ? {} : { traffic }) };
    this.world.requestStarted(request);
    const done: Respond = (res) => {
      const now = this.world.sim.nowUs;
      this.world.attempt(labels).record(startUs, now, res.status < 500, res.status);
      this.world.request(labels).record(startUs, now, res.status < 500, res.status);
      this.world.requestEnded(request, res.status);
      respond(res);
    };
    const record = this.resolve(host);
    const cluster = record === undefined ? undefined : this.world.clusters.get(record.cluster);
    if (record === undefined || cluster === undefined) return done({ status: 502, error: "other", from: "nxdomain" });
    if (!cluster.alive || !this.world.network.reachable(this.pod.cluster, cluster.name)) {
      this.world.sim.schedule(CONNECT_TIMEOUT_US, () => done({ status: 502, error: "connect-error", from: "unreachable" }), undefined, Priority.Completion, this.pod);
      return;
    }
    this.viaRegionalBalancer(cluster, record, request, done);
  }

  private viaRegionalBalancer(cluster: Cluster, record: DnsRecord, request: HttpRequest, done: Respond): void {
    const pods = cluster.selectedReadyPods(record.namespace, record.service);
    if (pods.length === 0) {
      // The region answers, but its load balancer has no healthy target.
      const rttUs = this.world.network.latencyUs(this.pod.cluster, cluster.name, this.rttRng) + this.world.network.latencyUs(cluster.name, this.pod.cluster, this.rttRng);
      this.world.sim.schedule(rttUs, () => done({ status: 503, from: "no-healthy-target" }), undefined, Priority.Completion, this.pod);
      return;
    }
    const target = pods[Math.min(pods.length - 1, Math.floor(this.pickRng.next() * pods.length))] as Pod;
    this.world.transmit(this.pod, target, request, done);
  }

  private resolve(name: string): DnsRecord | undefined {
    const now = this.world.sim.nowUs;
    const cached = this.cache.get(name);
    if (cached !== undefined && cached.expiresUs > now) return cached.record;
    const provider = this.records.get(name);
    if (provider === undefined) return undefined;
    const record = provider.answer();
    this.cache.set(name, { record, expiresUs: now + provider.spec.ttlUs });
    return record;
  }
}
