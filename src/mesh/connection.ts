// A meshed client proxy's connections to meshed endpoint pods: one long-lived HTTP/2 connection per
// (client proxy, endpoint pod), shaped like linkerd2-proxy's endpoint stack
// (`linkerd/app/outbound/src/http/endpoint.rs`, `linkerd/reconnect/src/lib.rs` @ release/v2.246.0):
//
// - Connecting happens in `poll_ready`, driven in the background (`SpawnReady`): an endpoint whose
//   connection is connecting or backing off is not ready, so P2C never sends it a request. A
//   refused or timed-out connect therefore fails no request by itself.
// - A failed connect waits out the reconnect backoff (100 ms → 500 ms, jitter 0.1); consecutive
//   failures share one backoff stream (100, 200, 400, 500, 500 … ms) and a successful connect drops
//   it. A connection that breaks once open gets a fresh stream and waits its first step first.
// - Set-up costs the TCP round trip plus the TLS 1.3 round trip; the mTLS handshake happens once,
//   here, so certificates that change or expire later touch nothing until the next connect.
// - What re-establishes a connection: its client proxy restarting (a new pod, a new pool), its
//   endpoint pod dying (the client sees the close, or finds the peer silent, and reconnects until
//   discovery drops the endpoint), and the endpoint leaving the balancer (discovery dropped it, or
//   the backend itself went away) and coming back. There is no idle timeout on these connections:
//   the 2.16 proxy sets none on its HTTP/2 client and the peers' keep-alive PINGs keep them up
//   (`proxy.inbound.server.http2.keepAliveInterval: 10s` in linkerd2
//   `charts/linkerd-control-plane/values.yaml` @ version-2.16).
// - At t = 0 the mesh is in steady state: a connection between two pods that both ran from the
//   start is taken as already open, its handshake done with the certificates they held then.
//
// Requests travel on a connection as exchanges; the data plane (data-plane.ts) carries them and
// hands the answers back here. Only exchanges in flight on a connection that breaks fail.

import { CONNECT_BACKOFF } from "../policy/config.js";
import { BackoffStream } from "../policy/exp-backoff.js";
import type { EventId } from "../sim/event-queue.js";
import { Priority } from "../sim/priority.js";
import type { Rng } from "../sim/rng.js";
import type { MeshContext } from "./context.js";
import { HeldList, type Holdable } from "./held-list.js";
import type { HttpRequest, HttpResponse, Respond } from "./http.js";
import { CONNECT_TIMEOUT_US } from "./network.js";
import type { Pod } from "./pod.js";

/**
 * How long a client takes to find a silent peer dead (its region vanished or was partitioned away,
 * so no FIN or RST ever arrives). An assumption kept from the earlier model, and an optimistic
 * one: the 2.16 proxy's HTTP/2 client sends no keep-alive PINGs (`h2::ClientParams` default in
 * linkerd2-proxy `linkerd/app/src/env.rs`), and its TCP keep-alive
 * (`LINKERD2_PROXY_OUTBOUND_CONNECT_KEEPALIVE=10000ms` in the chart) only starts probing an idle
 * connection after 10 s; a connection with requests in flight waits on TCP retransmissions.
 */
export const SILENT_PEER_DETECT_US = 10_000_000;

export type ConnectionState = "connecting" | "open" | "backoff" | "closed";

/** What connections need of the world around them. */
export interface ConnectionHost extends MeshContext {
  /** One-way latency of a message from `from` to `to`, drawn from `rng`. */
  latencyUs(from: Pod, to: Pod, rng: Rng): number;
  /** Whether a message from `from` gets to `to`'s cluster now (no partition, that cluster still there). */
  reaches(from: Pod, to: Pod): boolean;
  /** The mTLS handshake between the two proxies, now; failures are traced by the identity system. */
  handshake(client: Pod, server: Pod): { ok: boolean; reason: string };
}

/** What an answered exchange responds to: nothing. */
const ANSWERED: Respond = () => {};

/** A request sent on a connection and not answered yet. */
export interface Exchange extends Holdable {
  readonly request: HttpRequest;
  /** Replaced by a no-op once answered, so a stale exchange keeps nothing of its caller alive. */
  respond: Respond;
  done: boolean;
  /** The connection it travels on: the data plane's events take the exchange as their argument. */
  readonly connection: Connection;
  /** The answer on its way back to the client (set by the data plane), until it arrives. */
  response: HttpResponse | undefined;
}

/** Why a connection ended: how the client learnt its peer was gone. */
export type BreakReason = "peer-closed" | "peer-silent";

/** Where a connection belongs: its client proxy's pool (connection-pool.ts). */
export interface ConnectionOwner {
  readonly client: Pod;
  readonly host: ConnectionHost;
  /** Jitter of the reconnect backoff: one stream per client proxy. */
  readonly reconnectRng: Rng;
  /** Latencies of set-up and teardown messages, apart from the traffic's own draws. */
  readonly connectRng: Rng;
  /** A closed connection answered its last request. */
  drained(c: Connection): void;
}

export class Connection {
  private current: ConnectionState = "connecting";
  /** Exchanges sent and not answered. */
  readonly inFlight = new HeldList<Exchange>();
  /** Who is told when the connection becomes ready or stops being ready (the balancers using it). */
  readonly listeners = new Set<() => void>();
  /** Kept across consecutive failed connects, dropped by a successful one. */
  private backoff: BackoffStream | undefined;
  private timer: EventId | undefined;
  private breakTimer: EventId | undefined;
  private breakAtUs = Number.POSITIVE_INFINITY;
  /** When the last answer sent on this connection reaches the client: a FIN cannot overtake it. */
  private lastDeliveryUs = 0;
  /** Connects failed in a row, for the trace. */
  private failures = 0;

  constructor(
    private readonly pool: ConnectionOwner,
    readonly server: Pod,
  ) {}

  get state(): ConnectionState {
    return this.current;
  }

  get client(): Pod {
    return this.pool.client;
  }

  /** Ready for requests: open. */
  get ready(): boolean {
    return this.current === "open";
  }

  /** First use: open at once in steady state (both pods ran from t = 0), else connect now. */
  start(steadyState: boolean): void {
    const host = this.pool.host;
    if (!steadyState || !this.server.alive || !host.reaches(this.client, this.server) || !host.reaches(this.server, this.client)) return this.connect();
    const hs = host.handshake(this.client, this.server);
    if (hs.ok) return this.established("steady-state");
    // The connect before the scenario began failed its handshake: back off as after any failure.
    this.failed("tls-handshake-failed", hs.reason);
  }

  /** Put a request on the connection; the data plane carries it. */
  send(request: HttpRequest, respond: Respond): Exchange {
    const exchange: Exchange = { request, respond, done: false, heldAt: -1, connection: this, response: undefined };
    this.inFlight.add(exchange);
    return exchange;
  }

  /** An answer reaches the client at `atUs` (scheduled by the data plane). */
  answering(atUs: number): void {
    if (atUs > this.lastDeliveryUs) this.lastDeliveryUs = atUs;
  }

  /** The answer to `exchange` reached the client. */
  answer(exchange: Exchange, res: HttpResponse): void {
    if (exchange.done) return;
    exchange.done = true;
    this.inFlight.delete(exchange);
    if (this.current === "closed" && this.inFlight.size === 0) this.pool.drained(this);
    const respond = exchange.respond;
    exchange.respond = ANSWERED;
    respond(res);
  }

  /**
   * The endpoint pod is gone. If its cluster still answers, its FIN or RST reaches the client one
   * trip later (never before an answer already on the wire); otherwise nothing comes back and the
   * client finds out only after `SILENT_PEER_DETECT_US`.
   */
  peerGone(): void {
    const host = this.pool.host;
    if (host.reaches(this.server, this.client)) {
      const atUs = Math.max(this.pool.host.sim.nowUs + host.latencyUs(this.server, this.client, this.pool.connectRng), this.lastDeliveryUs);
      this.breakAt(atUs, "peer-closed");
    } else {
      this.peerSilent();
    }
  }

  /** A message on this connection was lost (partition, vanished region): the client notices later. */
  peerSilent(): void {
    this.breakAt(this.pool.host.sim.nowUs + SILENT_PEER_DETECT_US, "peer-silent");
  }

  /** Stop using the connection: no new requests; those in flight still get their answers. */
  close(reason: string): void {
    if (this.current === "closed") return;
    const wasOpen = this.current === "open";
    this.cancelTimer();
    this.current = "closed";
    this.listeners.clear();
    if (wasOpen) this.pool.host.emit("connection.closed", { client: this.client.label, server: this.server.label, inFlight: this.inFlight.size, reason });
    if (this.inFlight.size === 0) this.cancelBreak();
  }

  private breakAt(atUs: number, reason: BreakReason): void {
    if (this.inFlight.size === 0 && this.current !== "open") return;
    if (atUs >= this.breakAtUs) return;
    this.cancelBreak();
    this.breakAtUs = atUs;
    this.breakTimer = this.pool.host.sim.scheduleAt(atUs, () => this.broken(reason), undefined, Priority.Completion, this.client);
  }

  /** The client found the connection dead: what was in flight on it fails, then it reconnects. */
  private broken(reason: BreakReason): void {
    this.breakTimer = undefined;
    this.breakAtUs = Number.POSITIVE_INFINITY;
    const failed = this.inFlight.takeAll();
    const host = this.pool.host;
    host.emit("connection.broken", { client: this.client.label, server: this.server.label, failed: failed.length, reason });
    if (this.current === "open") {
      // `Reconnect`: a connected service that fails recovers with a fresh backoff stream and
      // waits its first step before connecting again.
      this.backoff = new BackoffStream(CONNECT_BACKOFF, this.pool.reconnectRng);
      this.waitThenConnect();
      this.notify();
    } else if (this.current === "closed") {
      this.pool.drained(this);
    }
    // Not ready any more before anyone hears of the failures, so retries go elsewhere.
    for (const e of failed) {
      if (e.done) continue;
      e.done = true;
      const respond = e.respond;
      e.respond = ANSWERED;
      respond({ status: 502, error: "reset", from: `connection-${reason}` });
    }
  }

  private connect(): void {
    this.timer = undefined;
    this.current = "connecting";
    const { host, connectRng } = this.pool;
    const client = this.client;
    const server = this.server;
    if (!host.reaches(client, server) || !host.reaches(server, client)) {
      // Nothing answers the SYN: the connect timeout ends the attempt.
      this.timer = host.sim.schedule(CONNECT_TIMEOUT_US, () => this.failed("connect-timeout"), undefined, Priority.Timeout, client);
      return;
    }
    const tcpUs = host.latencyUs(client, server, connectRng) + host.latencyUs(server, client, connectRng);
    if (!server.alive) {
      // The pod's node answers the SYN with a reset.
      this.timer = host.sim.schedule(tcpUs, () => this.failed("refused"), undefined, Priority.Completion, client);
      return;
    }
    // TLS 1.3 after the TCP handshake: ClientHello out, the server's certificate and Finished back.
    // The client sends its own certificate with its first request, so it waits no longer.
    const tlsUs = host.latencyUs(client, server, connectRng) + host.latencyUs(server, client, connectRng);
    this.timer = host.sim.schedule(tcpUs + tlsUs, () => this.handshakeDone(), undefined, Priority.Completion, client);
  }

  private handshakeDone(): void {
    this.timer = undefined;
    const host = this.pool.host;
    // The peer vanished while the handshake was under way.
    if (!this.server.alive) return this.failed("refused");
    if (!host.reaches(this.client, this.server) || !host.reaches(this.server, this.client)) return this.failed("connect-timeout");
    const hs = host.handshake(this.client, this.server);
    if (!hs.ok) return this.failed("tls-handshake-failed", hs.reason);
    this.established("connected");
  }

  private established(reason: string): void {
    this.current = "open";
    this.backoff = undefined;
    this.failures = 0;
    this.pool.host.emit("connection.established", { client: this.client.label, server: this.server.label, reason });
    this.notify();
  }

  private failed(reason: string, detail?: string): void {
    this.timer = undefined;
    const host = this.pool.host;
    this.failures += 1;
    this.backoff ??= new BackoffStream(CONNECT_BACKOFF, this.pool.reconnectRng);
    host.emit("connection.failed", { client: this.client.label, server: this.server.label, failures: this.failures, ...(detail === undefined ? {} : { detail }), reason });
    this.waitThenConnect();
  }

  private waitThenConnect(): void {
    this.current = "backoff";
    const delayUs = (this.backoff as BackoffStream).next();
    this.timer = this.pool.host.sim.schedule(delayUs, () => this.connect(), undefined, Priority.Timeout, this.client);
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }

  private cancelTimer(): void {
    if (this.timer !== undefined) this.pool.host.sim.cancel(this.timer);
    this.timer = undefined;
  }

  private cancelBreak(): void {
    if (this.breakTimer !== undefined) this.pool.host.sim.cancel(this.breakTimer);
    this.breakTimer = undefined;
    this.breakAtUs = Number.POSITIVE_INFINITY;
  }
}
