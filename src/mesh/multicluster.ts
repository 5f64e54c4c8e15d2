// Multicluster: each link target gets a gateway (one pod whose "app" is its own proxy forwarding
// to local Services), and each link a service mirror in the source cluster: `<svc>-<cluster>`
// mirrors of the target's exported Services, whose Endpoints are the gateway (gateway mode) while
// the remote Service has ready endpoints and the probe worker last found the gateway alive, or the
// remote pods themselves (remote-discovery mode). Naming, export modes, mirror readiness and probe
// liveness are the policy library's.

import { isEndpointsReady } from "../policy/failover.js";
import {
  gatewaysRow,
  INITIAL_WATCHER_GATEWAY_ALIVE,
  initialProbeWorkerState,
  nextProbeDelayUs,
  onProbeResult,
  type ProbeWorkerState,
  watcherGatewayAlive,
} from "../policy/gateway-probe.js";
import { exportModeFor, linkFromCli, type Link, mirrorEndpoints, mirrorServiceName } from "../policy/multicluster.js";
import { Priority } from "../sim/priority.js";
import type { Rng } from "../sim/rng.js";
import type { Degradation } from "./app.js";
import type { Cluster } from "./cluster.js";
import type { HttpRequest, HttpResponse, Respond } from "./http.js";
import { CONNECT_TIMEOUT_US } from "./network.js";
import type { Pod } from "./pod.js";
import type { LinkSpec } from "./spec.js";
import type { WorldInternals } from "./world.js";

/** The gateway's container: a proxy forwarding whatever reaches port 4143, within its capacity. */
export class GatewayForwarder {
  private busy = 0;
  private readonly waiting: Array<{ request: HttpRequest; respond: Respond }> = [];
  private readonly inFlight = new Set<Respond>();

  constructor(private readonly pod: Pod, readonly slots: number) {}

  get queued(): number {
    return this.waiting.length;
  }

  handle(request: HttpRequest, respond: Respond): void {
    if (this.busy < this.slots) this.forward(request, respond);
    else this.waiting.push({ request, respond });
  }

  degrade(_d: Degradation): void {}

  abandonAll(response: HttpResponse): void {
    const held = [...this.inFlight, ...this.waiting.map((w) => w.respond)];
    this.inFlight.clear();
    this.waiting.length = 0;
    this.busy = 0;
    for (const r of held) r(response);
  }

  private forward(request: HttpRequest, respond: Respond): void {
    this.busy += 1;
    let done = false;
    const finish: Respond = (res) => {
      if (done || !this.inFlight.delete(finish)) return;
      done = true;
      this.busy -= 1;
      respond(res);
      const next = this.waiting.shift();
      if (next !== undefined) this.forward(next.request, next.respond);
    };
    this.inFlight.add(finish);
    this.pod.client.send(request, finish, undefined);
  }
}

interface Mirror {
  /** Local mirror Service name. */
  name: string;
  namespace: string;
  remoteName: string;
  mode: "gateway" | "remote-discovery";
  /** The remote Service had a ready endpoint when the mirror last heard. */
  remoteReady: boolean;
  /** Remote pods last heard of (remote-discovery). */
  remotePods: Pod[];
  port: number;
}

/** The service mirror of one link: mirrors, the remote watch, the probe worker and its gauges. */
export class ServiceMirror {
  private probe: ProbeWorkerState = initialProbeWorkerState();
  private gatewayAlive = INITIAL_WATCHER_GATEWAY_ALIVE;
  private readonly mirrors = new Map<string, Mirror>();
  private readonly rng: Rng;
  readonly link: Link;
  /** ALIVE and LATENCY after each probe, for the report's gateway timeline. */
  readonly history: Array<{ atUs: number; alive: boolean; latencyMs: number }> = [];

  constructor(
    private readonly spec: LinkSpec,
    private readonly local: Cluster,
    private readonly remote: Cluster,
    private readonly world: WorldInternals,
  ) {
    this.rng = world.rng(`service-mirror/${spec.from}/${spec.to}`);
    const cli = linkFromCli({ targetClusterName: spec.clusterName, gatewayAddresses: ["gateway"], trustDomain: remote.domain });
    this.link = { ...cli, probeSpec: { ...cli.probeSpec, periodUs: spec.probePeriodUs } };
  }

  /** Mirror every exported Service of the target, then start probing its gateway. */
  start(): void {
    for (const svc of this.remote.services.values()) {
      const mode = exportModeFor(svc.labels, this.link).mode;
      if (mode === "not-exported") continue;
      const name = mirrorServiceName(svc.name, this.spec.clusterName);
      const mirror: Mirror = { name, namespace: svc.namespace, remoteName: svc.name, mode, remoteReady: false, remotePods: [], port: svc.ports[0]?.port ?? 80 };
      this.syncFromRemote(mirror);
      this.mirrors.set(`${svc.namespace}/${name}`, mirror);
      this.local.addMirror(svc, name, this);
      this.remote.onEndpointsChanged(svc.namespace, svc.name, () => this.remoteChanged(mirror));
    }
    this.world.emit("mirror.linked", { from: this.spec.from, to: this.spec.to, services: this.mirrors.size, reason: "link-applied" });
    this.scheduleProbe();
    this.world.sim.schedule(60_000_000, () => this.repair(), undefined, Priority.Control);
  }

  get mirroredServices(): number {
    return this.mirrors.size;
  }

  /** The `linkerd multicluster gateways` row for this link. */
  gatewaysRow(): { from: string; cluster: string; alive: boolean; numSvc: number; latencyMs: number } {
    const row = gatewaysRow(this.probe);
    return { from: this.spec.from, cluster: this.spec.clusterName, alive: row.alive, numSvc: this.mirrors.size, latencyMs: row.latencyMs };
  }

  get aliveGauge(): boolean {
    return this.probe.aliveGauge === 1;
  }

  /** Pods behind a mirror as the local Endpoints say: the remote gateway, or remote pods. */
  readyEndpoints(namespace: string, name: string): Pod[] {
    const m = this.mirrors.get(`${namespace}/${name}`);
    if (m === undefined) return [];
    if (m.mode === "remote-discovery") return m.remotePods;
    const endpoints = mirrorEndpoints({
      remote: { name: m.remoteName, namespace: m.namespace, labels: {}, annotations: {} },
      remoteEndpoints: { subsets: m.remoteReady ? [{ addresses: [{ ip: "remote" }] }] : [] },
      gatewayIps: ["gateway"],
      gatewayAlive: this.gatewayAlive,
      link: this.link,
    });
    const gateway = this.remote.gatewayPod;
    return isEndpointsReady(endpoints) && gateway !== undefined ? [gateway] : [];
  }

  /** The authority the client proxy sends to the gateway: the remote Service's FQDN. */
  authorityFor(namespace: string, name: string): string | undefined {
    const m = this.mirrors.get(`${namespace}/${name}`);
    if (m === undefined || m.mode !== "gateway") return undefined;
    return `${m.remoteName}.${m.namespace}.svc.${this.remote.domain}:${m.port}`;
  }

  private syncFromRemote(m: Mirror): void {
    const pods = this.remote.readyEndpoints(m.namespace, m.remoteName);
    m.remoteReady = pods.length > 0;
    m.remotePods = pods;
  }

  /** The remote API server told the watch about a change — if the watch still reaches it. */
  private remoteChanged(m: Mirror): void {
    if (!this.remote.alive || !this.world.network.reachable(this.spec.from, this.spec.to)) return;
    const delayUs = this.world.network.latencyUs(this.spec.to, this.spec.from);
    this.world.sim.schedule(delayUs, () => this.applyRemote(m), undefined, Priority.Control);
  }

  private applyRemote(m: Mirror): void {
    const before = m.remoteReady;
    const beforePods = m.remotePods;
    this.syncFromRemote(m);
    if (m.remoteReady !== before || m.remotePods.length !== beforePods.length) this.local.endpointsChanged(m.namespace, m.name);
  }

  /** RepairEndpoints: every minute, re-read the remote if it answers. */
  private repair(): void {
    if (this.remote.alive && this.world.network.reachable(this.spec.from, this.spec.to)) for (const m of this.mirrors.values()) this.applyRemote(m);
    this.world.sim.schedule(60_000_000, () => this.repair(), undefined, Priority.Control);
  }

  private scheduleProbe(): void {
    this.world.sim.schedule(nextProbeDelayUs(this.link.probeSpec.periodUs, this.rng), () => this.sendProbe(), undefined, Priority.Default);
  }

  /**
   * GET /ready on the remote gateway's admin port, through the local proxy: it answers 200 after a
   * round trip when the gateway is up and reachable; otherwise the local proxy's 1 s connect
   * timeout ends it (well before the worker's own 50 s HTTP timeout).
   */
  private sendProbe(): void {
    if (!this.local.alive) return;
    const gateway = this.remote.gatewayPod;
    const up = gateway !== undefined && gateway.alive && this.remote.alive && this.world.network.reachable(this.spec.from, this.spec.to);
    const rttUs = up ? this.world.network.latencyUs(this.spec.from, this.spec.to) + this.world.network.latencyUs(this.spec.to, this.spec.from) : CONNECT_TIMEOUT_US;
    this.world.sim.schedule(rttUs, () => this.probeAnswered(up, rttUs), undefined, Priority.Completion);
    this.scheduleProbe();
  }

  private probeAnswered(ok: boolean, rttUs: number): void {
    const t = onProbeResult(this.probe, { ok, rttUs }, this.world.sim.nowUs);
    this.probe = t.state;
    // The gauges `linkerd multicluster gateways` reads, after every probe (one point per period).
    this.history.push({ atUs: this.world.sim.nowUs, alive: this.probe.aliveGauge === 1, latencyMs: this.probe.latencyGaugeMs });
    const alive = watcherGatewayAlive(this.gatewayAlive, t.signal);
    if (t.signal !== undefined || !ok) this.world.emit("gateway.probed", { from: this.spec.from, to: this.spec.to, ok, reason: t.reason });
    if (alive === this.gatewayAlive) return;
    this.gatewayAlive = alive;
    this.world.emit("gateway.liveness-changed", { from: this.spec.from, to: this.spec.to, alive, reason: alive ? "probe-succeeded" : "probe-failed" });
    for (const m of this.mirrors.values()) this.local.endpointsChanged(m.namespace, m.name);
  }
}
