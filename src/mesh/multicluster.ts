// Multicluster: each link target gets a gateway (one pod that is one proxy process, forwarding to
// local Services), and each link a service mirror in the source cluster: `<svc>-<cluster>` mirrors
// of the target's exported Services, whose Endpoints are the gateway (gateway mode) while the
// remote Service has ready endpoints and the probe worker last found the gateway alive, or which
// resolve to the remote pods themselves (remote-discovery mode, no Endpoints object). The probe
// worker calls the gateway's admin port through the service mirror's own proxy. Naming, export
// modes, mirror readiness and probe liveness are the policy library's.

import { isEndpointsReady } from "../policy/failover.js";
import {
  classifyProbeResponse,
  GATEWAY_PROBE_TIMEOUT_US,
  gatewaysRow,
  INITIAL_WATCHER_GATEWAY_ALIVE,
  initialProbeWorkerState,
  nextProbeDelayUs,
  onProbeResult,
  type ProbeWorkerState,
  watcherGatewayAlive,
} from "../policy/gateway-probe.js";
import { exportModeFor, LINK_DEFAULTS, linkFromCli, type Link, mirrorEndpoints, mirrorServiceName, probeGatewayServiceName } from "../policy/multicluster.js";
import { Priority } from "../sim/priority.js";
import type { Rng } from "../sim/rng.js";
import type { Degradation } from "./app.js";
import type { Cluster } from "./cluster.js";
import { authorityPort, type HttpRequest, type HttpResponse, type Respond } from "./http.js";
import { HeldList, type Holdable } from "./held-list.js";
import { type Container, Pod, type WorkloadTemplate } from "./pod.js";
import type { LinkSpec } from "./spec.js";
import { LazyStreams } from "./streams.js";
import type { WorldInternals } from "./world-api.js";

/** The proxy's admin port (`linkerd-proxy` listens on 4191), which the gateway probe calls. */
export const PROXY_ADMIN_PORT = LINK_DEFAULTS.probePort;
const ADMIN_PORT_DIGITS = String(PROXY_ADMIN_PORT);

/**
 * What a meshed pod's proxy answers itself: a request to its admin port (`GET /ready`: 200 while
 * the proxy runs). It never reaches the app and is no inbound traffic (the proxy's iptables rules
 * leave 4191 alone). Undefined for any other request.
 */
export function proxyAdminAnswer(to: Pod, request: HttpRequest): HttpResponse | undefined {
  // Any authority on port 4191 ends in "4191": most requests are told apart without parsing.
  if (!to.meshed || !request.authority.endsWith(ADMIN_PORT_DIGITS) || authorityPort(request.authority) !== PROXY_ADMIN_PORT) return undefined;
  return { status: request.path === "/ready" ? 200 : 404, from: "proxy-admin" };
}

/**
 * A gateway is one proxy process: a request crossing it passes that proxy once, so its
 * forwarding leg adds no second proxy latency (the reference's "one extra proxy hop").
 */
export function isGatewayPod(pod: Pod): boolean {
  return pod.app instanceof GatewayForwarder;
}

/** The gateway's container: its proxy forwarding whatever reaches port 4143, within its capacity. */
export class GatewayForwarder implements Container {
  private busy = 0;
  private readonly waiting: Array<{ request: HttpRequest; respond: Respond }> = [];
  private readonly inFlight = new HeldList<Forwarded>();

  /** `reportBusy`: the change in requests being forwarded, for the gateway's utilization. */
  constructor(
    private readonly pod: Pod,
    readonly slots: number,
    private readonly reportBusy: (delta: number) => void = () => {},
  ) {}

  get queued(): number {
    return this.waiting.length;
  }

  handle(request: HttpRequest, respond: Respond): void {
    if (this.busy < this.slots) this.forward(request, respond);
    else this.waiting.push({ request, respond });
  }

  degrade(_d: Degradation): void {}

  heldRequests(): number {
    return this.inFlight.size + this.waiting.length;
  }

  abandonAll(response: HttpResponse): void {
    // Waiting requests leave first, so a forwarded one's `finish` frees its slot without starting
    // the next; `finish` answers only while it is in flight, so it must run before anything clears it.
    const waiting = this.waiting.splice(0).map((w) => w.respond);
    for (const f of this.inFlight.items()) f.finish(response);
    for (const respond of waiting) respond(response);
  }

  private forward(request: HttpRequest, respond: Respond): void {
    this.busy += 1;
    this.reportBusy(1);
    const forwarded: Forwarded = {
      heldAt: -1,
      finish: (res) => {
        if (!this.inFlight.delete(forwarded)) return;
        forwarded.finish = IGNORE_ANSWER;
        this.busy -= 1;
        this.reportBusy(-1);
        respond(res);
        const next = this.waiting.shift();
        if (next !== undefined) this.forward(next.request, next.respond);
      },
    };
    this.inFlight.add(forwarded);
    this.pod.client.send(request, (res) => forwarded.finish(res), undefined);
  }
}

/** A request the gateway is forwarding: `finish` answers it once, while it is held. */
interface Forwarded extends Holdable {
  finish: Respond;
}

const IGNORE_ANSWER: Respond = () => {};

/** The service mirror controller's own container: it serves nothing (only its proxy's outbound side is used). */
class ControllerContainer implements Container {
  readonly slots = 1;
  handle(_request: HttpRequest, respond: Respond): void {
    respond({ status: 404, from: "service-mirror" });
  }
  abandonAll(_response: HttpResponse): void {}
  degrade(_d: Degradation): void {}
  heldRequests(): number {
    return 0;
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
  remotePods: readonly Pod[];
  port: number;
}

/** The probe worker's request origin: no end-user traffic stands behind it. */
const PROBE_ORIGIN = { id: 0, traffic: "gateway-probe" };

/** The service mirror of one link: mirrors, the remote watch, the probe worker and its gauges. */
export class ServiceMirror {
  private probe: ProbeWorkerState = initialProbeWorkerState();
  private gatewayAlive = INITIAL_WATCHER_GATEWAY_ALIVE;
  private readonly mirrors = new Map<string, Mirror>();
  /** `service-mirror/<from>/<to>/probe`: the probe ticker's jitter. */
  private readonly rng: Rng;
  /** `service-mirror/<from>/<to>/watch/<ns>/<svc>`: the remote watch of each mirrored Service, WAN included. */
  private readonly watchStreams: LazyStreams<Mirror>;
  /** The `linkerd-service-mirror-<cluster>` pod: its proxy carries the probes. */
  private controllerPod: Pod | undefined;
  private readonly probeService: { namespace: string; name: string };
  /** A probe is waiting for its answer (the worker probes one at a time). */
  private probeInFlight = false;
  /** A tick arrived while a probe was out: the ticker's one-slot channel holds it. */
  private tickWaiting = false;
  readonly link: Link;
  /** ALIVE and LATENCY after each probe, for the report's gateway timeline. */
  readonly history: Array<{ atUs: number; alive: boolean; latencyMs: number }> = [];

  constructor(
    private readonly spec: LinkSpec,
    private readonly local: Cluster,
    private readonly remote: Cluster,
    private readonly world: WorldInternals,
  ) {
    this.rng = world.rng(`service-mirror/${spec.from}/${spec.to}/probe`);
    this.watchStreams = new LazyStreams(world, (m) => `service-mirror/${spec.from}/${spec.to}/watch/${m.namespace}/${m.remoteName}`);
    const cli = linkFromCli({ targetClusterName: spec.clusterName, gatewayAddresses: ["gateway"], trustDomain: remote.domain });
    this.link = { ...cli, probeSpec: { ...cli.probeSpec, periodUs: spec.probePeriodUs } };
    this.probeService = { namespace: this.link.namespace, name: probeGatewayServiceName(spec.clusterName) };
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
    this.local.addProbeService(this.probeService.namespace, this.probeService.name, this.link.probeSpec.port, this);
    this.controllerPod = this.startControllerPod();
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

  /**
   * The ready addresses of a local Endpoints object this service mirror writes: a gateway-mode
   * mirror's (the remote gateway, or none), the probe Service's (always the gateway: upstream
   * never marks it not ready). A remote-discovery mirror has no Endpoints object: none.
   */
  endpointsAddresses(namespace: string, name: string): readonly Pod[] {
    const gateway = this.remote.gatewayPod;
    if (namespace === this.probeService.namespace && name === this.probeService.name) return gateway === undefined ? [] : [gateway];
    const m = this.mirrors.get(`${namespace}/${name}`);
    if (m === undefined || m.mode === "remote-discovery") return [];
    const endpoints = mirrorEndpoints({
      remote: { name: m.remoteName, namespace: m.namespace, labels: {}, annotations: {} },
      remoteEndpoints: { subsets: m.remoteReady ? [{ addresses: [{ ip: "remote" }] }] : [] },
      gatewayIps: ["gateway"],
      gatewayAlive: this.gatewayAlive,
      link: this.link,
    });
    return isEndpointsReady(endpoints) && gateway !== undefined ? [gateway] : [];
  }

  /** What the destination controller serves for a mirror: its Endpoints, or the remote pods (remote-discovery). */
  discoveredEndpoints(namespace: string, name: string): readonly Pod[] {
    const m = this.mirrors.get(`${namespace}/${name}`);
    if (m !== undefined && m.mode === "remote-discovery") return m.remotePods;
    return this.endpointsAddresses(namespace, name);
  }

  /** The authority the client proxy sends to the gateway: the remote Service's FQDN. */
  authorityFor(namespace: string, name: string): string | undefined {
    const m = this.mirrors.get(`${namespace}/${name}`);
    if (m === undefined || m.mode !== "gateway") return undefined;
    return `${m.remoteName}.${m.namespace}.svc.${this.remote.domain}:${m.port}`;
  }

  /** `linkerd-service-mirror-<cluster>` in `linkerd-multicluster`: a meshed pod whose proxy the probes go through. */
  private startControllerPod(): Pod {
    const deployment = `linkerd-service-mirror-${this.spec.clusterName}`;
    const template: WorkloadTemplate = {
      cluster: this.local.name,
      namespace: this.link.namespace,
      deployment,
      labels: { component: "linkerd-service-mirror", "mirror.linkerd.io/cluster-name": this.spec.clusterName },
      serviceAccount: deployment,
      meshed: true,
      readinessProbe: undefined,
    };
    const pod = new Pod(template, `${deployment}-0`, this.world.sim.nowUs, true);
    pod.app = new ControllerContainer();
    pod.client = this.world.clientFor(pod);
    this.world.identity.proxyStarted(pod);
    this.world.emit("pod.started", { pod: pod.label, ready: true });
    return pod;
  }

  private syncFromRemote(m: Mirror): void {
    const pods = this.remote.readyEndpoints(m.namespace, m.remoteName);
    m.remoteReady = pods.length > 0;
    m.remotePods = pods;
  }

  /** The remote API server's watch delivers a change over the WAN — if it still reaches us. */
  private remoteChanged(m: Mirror): void {
    if (!this.remote.alive || !this.world.network.reachable(this.spec.from, this.spec.to)) return;
    const rng = this.watchStreams.get(m);
    const delayUs = this.world.network.latencyUs(this.spec.to, this.spec.from, rng) + this.remote.watchDelayUs(rng);
    this.world.sim.schedule(delayUs, () => this.applyRemote(m), undefined, Priority.Control);
  }

  private applyRemote(m: Mirror): void {
    const before = m.remoteReady;
    const beforePods = m.remotePods;
    this.syncFromRemote(m);
    const changed = m.mode === "gateway" ? m.remoteReady !== before : !samePods(beforePods, m.remotePods);
    if (changed) this.local.mirrorEndpointsWritten(m.namespace, m.name, m.mode === "gateway");
  }

  /** RepairEndpoints: every minute, re-read the remote if it answers. */
  private repair(): void {
    if (this.remote.alive && this.world.network.reachable(this.spec.from, this.spec.to)) for (const m of this.mirrors.values()) this.applyRemote(m);
    this.world.sim.schedule(60_000_000, () => this.repair(), undefined, Priority.Control);
  }

  /** The jittered ticker: `period + U[0, period/10)` between ticks, whatever the probes are doing. */
  private scheduleProbe(): void {
    this.world.sim.schedule(nextProbeDelayUs(this.link.probeSpec.periodUs, this.rng), () => this.tick(), undefined, Priority.Default);
  }

  private tick(): void {
    if (!this.local.alive) return;
    this.scheduleProbe();
    // The worker probes one at a time; the ticker's channel holds one tick, dropping the rest.
    if (this.probeInFlight) this.tickWaiting = true;
    else this.sendProbe();
  }

  /**
   * `GET http://probe-gateway-<cluster>:4191/ready` through the service mirror's own proxy: the
   * proxy resolves the probe Service (whose Endpoints are the remote gateway), queues and balances
   * the request like any other — so a gateway it cannot reach fails the probe the way that proxy
   * fails a request (fail-fast, then load shedding while the backend stays unready) — and the
   * gateway's proxy admin server answers `/ready`. The worker's HTTP client gives up after 50 s.
   */
  private sendProbe(): void {
    const pod = this.controllerPod;
    if (pod === undefined) return;
    this.probeInFlight = true;
    const sentUs = this.world.sim.nowUs;
    let answered = false;
    const answer = (status: number | undefined): void => {
      if (answered) return;
      answered = true;
      this.world.sim.cancel(timeout);
      const elapsedUs = this.world.sim.nowUs - sentUs;
      this.probeAnswered(classifyProbeResponse({ ...(status === undefined ? {} : { status }), elapsedUs }), elapsedUs, status);
      this.probeInFlight = false;
      if (this.tickWaiting && this.local.alive) {
        this.tickWaiting = false;
        this.sendProbe();
      }
    };
    const timeout = this.world.sim.schedule(GATEWAY_PROBE_TIMEOUT_US, () => answer(undefined), undefined, Priority.Timeout);
    const request: HttpRequest = {
      method: "GET",
      path: this.link.probeSpec.path,
      authority: `${this.probeService.name}:${this.link.probeSpec.port}`,
      bodyBytes: 0,
      origin: PROBE_ORIGIN,
    };
    pod.client.send(request, (res) => answer(res.status), undefined);
  }

  private probeAnswered(result: { ok: boolean; reason: string }, rttUs: number, status: number | undefined): void {
    const t = onProbeResult(this.probe, { ok: result.ok, rttUs }, this.world.sim.nowUs);
    this.probe = t.state;
    // The gauges `linkerd multicluster gateways` reads, after every probe (one point per period).
    this.history.push({ atUs: this.world.sim.nowUs, alive: this.probe.aliveGauge === 1, latencyMs: this.probe.latencyGaugeMs });
    const alive = watcherGatewayAlive(this.gatewayAlive, t.signal);
    if (t.signal !== undefined || !result.ok) {
      this.world.emit("gateway.probed", { from: this.spec.from, to: this.spec.to, ok: result.ok, status: status ?? 0, reason: result.ok ? t.reason : result.reason });
    }
    if (alive === this.gatewayAlive) return;
    this.gatewayAlive = alive;
    this.world.emit("gateway.liveness-changed", { from: this.spec.from, to: this.spec.to, alive, reason: alive ? "probe-succeeded" : "probe-failed" });
    for (const m of this.mirrors.values()) if (m.mode === "gateway") this.local.mirrorEndpointsWritten(m.namespace, m.name, true);
  }
}

function samePods(a: readonly Pod[], b: readonly Pod[]): boolean {
  if (a.length !== b.length) return false;
  const set = new Set(a);
  return b.every((p) => set.has(p));
}
