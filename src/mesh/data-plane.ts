// The data plane between pods: how a request sent by a client (its outbound proxy, or an unmeshed
// app) reaches the server pod and how the answer comes back.
//
//   meshed → meshed: on the client proxy's HTTP/2 connection to that pod (connection.ts), mTLS
//     settled when it was set up; the server's inbound proxy (inbound.ts) takes it to the app.
//   anything else: plain HTTP/1 straight to the pod — an unmeshed app's own connection, or a
//     proxy's HTTP/1 client to an unmeshed pod, which connects per request and is always ready
//     (linkerd2-proxy `linkerd/proxy/http/src/client.rs`), so a dead pod fails the request itself.
//
// Each message pays the sender's proxy hop, the network and the receiver's proxy hop on the way
// out and the network on the way back. A message into a partition or a vanished region is lost;
// on a connection the client then finds the peer silent (connection.ts) and what was in flight
// fails. A pod that dies breaks every connection to it; its clients hear of it one trip later.

import { isDefaultFailure } from "../policy/classify.js";
import { type Distribution, type DistributionSpec, makeDistribution, sampleUs } from "../sim/distributions.js";
import { Priority } from "../sim/priority.js";
import type { Rng } from "../sim/rng.js";
import type { EndpointConnections } from "./balancer.js";
import { type Connection, type ConnectionHost, type Exchange, SILENT_PEER_DETECT_US } from "./connection.js";
import { ConnectionPool } from "./connection-pool.js";
import { SECURED } from "./edges.js";
import { type HttpRequest, type HttpResponse, type Respond, responseOutcome } from "./http.js";
import type { IdentitySystem } from "./identity.js";
import { type InboundHost, InboundProxy, type InboundTarget } from "./inbound.js";
import { HopLedger } from "./hop-ledger.js";
import { isGatewayPod, proxyAdminAnswer } from "./multicluster.js";
import { CONNECT_TIMEOUT_US, type Network } from "./network.js";
import type { Pod } from "./pod.js";
import { LazyStreams, podPath } from "./streams.js";
import type { ServedRequest } from "./world-api.js";

/** What the data plane needs of the world. */
export interface DataPlaneWorld extends InboundHost {
  readonly network: Network;
  readonly identity: IdentitySystem;
  /** Whether the cluster still exists (a `clusterLoss` fault ends it). */
  clusterAlive(name: string): boolean;
  /** Hears every request a pod serves (`meshsim tap`); absent ⇒ nobody listens. */
  readonly onServed?: ((r: ServedRequest) => void) | undefined;
}

export class DataPlane implements ConnectionHost {
  private readonly pools = new Map<Pod, ConnectionPool>();
  private readonly inbounds = new Map<Pod, InboundProxy>();
  private readonly proxyLatency: Distribution;
  /** `proxy/<pod>/latency`: each proxy's own hops. */
  private readonly hopStreams: LazyStreams<Pod>;
  /** `net/<from pod>-><to pod>`, by sender then receiver: each direction of each pair its own stream. */
  private readonly netStreams = new Map<Pod, LazyStreams<Pod>>();

  /** Requests handed to each server pod and answered (the conservation invariant). */
  private readonly ledger: HopLedger;

  constructor(
    private readonly world: DataPlaneWorld,
    /** One proxy hop's processing latency (`mesh.proxy.latency`). */
    proxyLatency: DistributionSpec,
  ) {
    this.proxyLatency = makeDistribution(proxyLatency);
    this.hopStreams = new LazyStreams(world, (pod) => `proxy/${podPath(pod)}/latency`);
    this.ledger = new HopLedger((message) => world.violated?.(message));
  }

  /** End of run: every server pod answered or still holds each request it was handed. */
  checkConservation(): void {
    this.ledger.check((pod) => (pod.alive ? (this.inbounds.get(pod)?.queued ?? 0) + pod.app.heldRequests() : 0));
  }

  // ---- ConnectionHost ---------------------------------------------------------------------------

  get sim(): DataPlaneWorld["sim"] {
    return this.world.sim;
  }
  emit(kind: string, fields: Parameters<DataPlaneWorld["emit"]>[1]): void {
    this.world.emit(kind, fields);
  }
  rng(label: string): Rng {
    return this.world.rng(label);
  }
  latencyUs(from: Pod, to: Pod, rng: Rng): number {
    return this.world.network.latencyUs(from.cluster, to.cluster, rng);
  }
  /** A message from `from` gets to `to`: both ends' clusters still exist (a lost region sends no FIN or RST) and no partition lies between. */
  reaches(from: Pod, to: Pod): boolean {
    return this.world.clusterAlive(from.cluster) && this.world.clusterAlive(to.cluster) && this.world.network.reachable(from.cluster, to.cluster);
  }
  handshake(client: Pod, server: Pod): { ok: boolean; reason: string } {
    const r = this.world.identity.handshake(client, server);
    return { ok: r.ok, reason: r.reason };
  }

  // ---- pods coming and going --------------------------------------------------------------------

  /** A meshed pod's inbound proxy, in front of its container. */
  startInbound(pod: Pod, target: InboundTarget): void {
    this.inbounds.set(pod, new InboundProxy(pod, this.world, target));
  }

  /** The container of `pod` freed a slot or changed its capacity. */
  capacityChanged(pod: Pod): void {
    this.inbounds.get(pod)?.capacityChanged();
  }

  /** How a balancer in `client`'s proxy reaches its endpoints: the proxy's connection pool. */
  endpointConnections(client: Pod): EndpointConnections {
    return {
      acquire: (pod, listener) => (pod.meshed ? this.pool(client).acquire(pod, listener) : undefined),
      release: (pod, listener, reason) => this.pools.get(client)?.release(pod, listener, reason),
    };
  }

  /**
   * `pod` died. Every connection to it breaks (its clients hear of it one trip later, or find it
   * silent if its region is gone), its own connections go with it, and requests waiting in its
   * inbound proxy end with `response` (they reach only HTTP/1 clients: a connection's requests
   * fail with the connection).
   */
  podDied(pod: Pod, response: HttpResponse): void {
    for (const pool of this.pools.values()) for (const c of [...pool.to(pod)]) c.peerGone();
    this.clientGone(pod);
    this.inbounds.get(pod)?.abandon(response);
    this.inbounds.delete(pod);
  }

  /** `pod`'s proxy stopped: its connections close (the pool stays, closed, for late endpoint updates). */
  clientGone(pod: Pod): void {
    this.pools.get(pod)?.closeAll("client-pod-killed");
  }

  // ---- a request's way there and back -----------------------------------------------------------

  /**
   * Send `request` from `from` to `to`; `respond` gets the answer. It goes on `from`'s connection to
   * `to` when its proxy holds an open one (a balancer picked `to` as a ready endpoint); otherwise as
   * plain HTTP/1 (an unmeshed client or server, or a meshed app's DNS-routed call).
   */
  transmit(from: Pod, to: Pod, request: HttpRequest, respond: Respond): void {
    const connection = this.pools.get(from)?.get(to);
    if (connection !== undefined && connection.ready) this.onConnection(connection, request, respond);
    else this.overHttp1(from, to, request, respond);
  }

  private onConnection(connection: Connection, request: HttpRequest, respond: Respond): void {
    const exchange = connection.send(request, respond);
    if (!this.reaches(connection.client, connection.server)) return connection.peerSilent();
    const outUs = this.senderHopUs(connection.client) + this.netUs(connection.client, connection.server) + this.hopUs(connection.server);
    this.world.sim.schedule(outUs, this.arrive, exchange, Priority.Completion);
  }

  /** Event handlers taking the exchange as their argument: a hop on a connection allocates no closure for them. */
  private readonly arrive = (exchange: Exchange): void => this.arriveOnConnection(exchange);
  private readonly deliver = (exchange: Exchange): void => {
    const res = exchange.response as HttpResponse;
    exchange.response = undefined;
    exchange.connection.answer(exchange, res);
  };

  private arriveOnConnection(exchange: Exchange): void {
    if (exchange.done) return;
    const connection = exchange.connection;
    const { client, server } = connection;
    // The peer's socket is gone: its reset breaks the connection, which fails the exchange.
    if (!server.alive) return connection.peerGone();
    // The sender died while the request travelled: its connection is gone, nothing is served.
    if (!client.alive) return;
    this.serve(client, server, exchange.request, true, (res) => this.answerOnConnection(connection, exchange, res));
  }

  private answerOnConnection(connection: Connection, exchange: Exchange, res: HttpResponse): void {
    if (exchange.done) return;
    const { client, server } = connection;
    // A dead server sends nothing more; its client learns from the broken connection.
    if (!server.alive) return connection.peerGone();
    if (!this.reaches(server, client)) return connection.peerSilent();
    const atUs = this.world.sim.nowUs + this.netUs(server, client);
    connection.answering(atUs);
    if (exchange.response === undefined) {
      exchange.response = onTheWire(res);
      this.world.sim.scheduleAt(atUs, this.deliver, exchange, Priority.Completion, client);
    } else {
      // A second answer to one exchange (the hop ledger reports it) travels on its own, as the first.
      const second = onTheWire(res);
      this.world.sim.scheduleAt(atUs, () => connection.answer(exchange, second), undefined, Priority.Completion, client);
    }
  }

  private overHttp1(from: Pod, to: Pod, request: HttpRequest, respond: Respond): void {
    if (!this.reaches(from, to)) {
      // Nothing answers: no RST comes back from a partitioned or vanished region.
      this.world.sim.schedule(CONNECT_TIMEOUT_US, () => respond({ status: 502, error: "connect-error", from: "unreachable" }), undefined, Priority.Completion, from);
      return;
    }
    const outUs = this.senderHopUs(from) + this.netUs(from, to) + (to.meshed ? this.hopUs(to) : 0);
    this.world.sim.schedule(outUs, () => this.arriveOverHttp1(from, to, request, respond), undefined, Priority.Completion);
  }

  private arriveOverHttp1(from: Pod, to: Pod, request: HttpRequest, respond: Respond): void {
    const back = (res: HttpResponse): void => {
      // A region that vanishes sends nothing back: the request ends only when the client finds
      // its connection dead.
      const lost = !this.world.clusterAlive(to.cluster);
      const delayUs = lost ? SILENT_PEER_DETECT_US : this.netUs(to, from);
      this.world.sim.schedule(delayUs, () => respond(res), undefined, Priority.Completion, from);
    };
    if (!to.alive) return back({ status: 502, error: "connect-error", from: "connection-refused" });
    if (!from.alive) return;
    this.serve(from, to, request, from.meshed && to.meshed, (res) => back(res.error === "reset" ? { status: 502, error: "reset", from: res.from ?? "reset" } : res));
  }

  /** The request reached `to`: its inbound proxy takes it, or, unmeshed, its app. */
  private serve(from: Pod, to: Pod, request: HttpRequest, mtls: boolean, reply: Respond): void {
    // The proxy's admin port (the gateway probe) is answered by the proxy: no inbound traffic.
    const admin = proxyAdminAnswer(to, request);
    if (admin !== undefined) return reply(admin);
    // A gateway's port 4143 takes only mutually authenticated connections from meshed peers; an
    // unmeshed caller's plaintext connection is closed before any request is read.
    if (isGatewayPod(to) && !mtls) {
      this.world.emit("gateway.refused", { from: from.label, gateway: to.label, reason: "plaintext" });
      return reply({ status: 502, error: "reset", from: "gateway-requires-mtls" });
    }
    if (!to.alive) this.world.violated?.(`a request was handed to ${to.label} after it died`);
    const tap = this.world.onServed;
    if (tap !== undefined) reply = tapped(tap, from, to, request, mtls, this.world.sim.nowUs, () => this.world.sim.nowUs, reply);
    reply = this.ledger.arrived(to, reply);
    const inbound = this.inbounds.get(to);
    if (inbound !== undefined) return inbound.accept(request, from, InboundProxy.tlsOf(from, mtls), reply);
    // No proxy in front of the app. Linkerd would export nothing for this pod; meshsim still
    // measures it at the app, so an unmeshed workload has server-side numbers too.
    const now = this.world.sim.nowUs;
    this.world.edges.record(from, to, from.meshed ? SECURED.notProvidedByServiceDiscovery : SECURED.noTlsFromRemote);
    this.world.arrivals(to, request.origin.traffic).add(now);
    const series = this.world.server(to);
    to.app.handle(request, (res) => {
      series.record(now, this.world.sim.nowUs, !isDefaultFailure(responseOutcome(request, res)), res.status, res.grpcStatus);
      reply(res);
    });
  }

  private pool(client: Pod): ConnectionPool {
    let p = this.pools.get(client);
    if (p === undefined) {
      p = new ConnectionPool(client, this);
      this.pools.set(client, p);
      if (!client.alive) p.closeAll("client-pod-killed");
    }
    return p;
  }

  /** One pass through `pod`'s proxy. */
  /** One pass through `pod`'s proxy, from the pod's own hop stream. */
  proxyHopUs(pod: Pod): number {
    return this.hopUs(pod);
  }

  private hopUs(pod: Pod): number {
    return sampleUs(this.proxyLatency, this.hopStreams.get(pod));
  }

  /** One message's way through the network from `from` to `to`, drawn from that direction's stream. */
  private netUs(from: Pod, to: Pod): number {
    let streams = this.netStreams.get(from);
    if (streams === undefined) {
      streams = new LazyStreams(this.world, (peer) => `net/${podPath(from)}->${podPath(peer)}`);
      this.netStreams.set(from, streams);
    }
    return this.world.network.latencyUs(from.cluster, to.cluster, streams.get(to));
  }

  /**
   * The sending side's proxy hop: none for an unmeshed app; none for a gateway either, which is one
   * proxy whose inbound hop already paid for the crossing.
   */
  private senderHopUs(from: Pod): number {
    return from.meshed && !isGatewayPod(from) ? this.hopUs(from) : 0;
  }
}

/**
 * A response as it crosses the wire: an error one proxy synthesised (say the gateway's own
 * fail-fast) reaches the next as the plain HTTP response it became, not as that proxy's error.
 */
function onTheWire(res: HttpResponse): HttpResponse {
  if (res.error === undefined) return res;
  const { error: _synthesised, ...response } = res;
  return response;
}

/** `reply`, telling `tap` about the request once its answer leaves the server. */
function tapped(tap: (r: ServedRequest) => void, from: Pod, to: Pod, request: HttpRequest, mtls: boolean, startUs: number, now: () => number, reply: Respond): Respond {
  return (res) => {
    tap({
      src: `${from.cluster}/${from.namespace}/${from.name}`,
      dst: `${to.cluster}/${to.namespace}/${to.name}`,
      dstWorkload: to.workload,
      tls: mtls ? "true" : "no_tls_from_remote",
      request,
      status: res.status,
      ...(res.grpcStatus === undefined ? {} : { grpcStatus: res.grpcStatus }),
      startUs,
      endUs: now(),
    });
    reply(res);
  };
}
