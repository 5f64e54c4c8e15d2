// One client proxy's connections (connection.ts), by endpoint pod: shared by every balancer of
// that proxy, opened on first use, closed when the last balancer lets go of the endpoint or the
// proxy dies. Upstream keeps one connection per balancer endpoint (`linkerd/reconnect` under each
// endpoint of `linkerd/proxy/balance`); keyed by pod here, two backends of one proxy that share a
// pod share its connection, which only matters when one pod serves two Services to one client.

import type { Rng } from "../sim/rng.js";
import { Connection, type ConnectionHost, type ConnectionOwner } from "./connection.js";
import type { Pod } from "./pod.js";

/** One client proxy's connections, by endpoint pod, shared by every balancer of that proxy. */
export class ConnectionPool implements ConnectionOwner {
  private readonly byServer = new Map<Pod, Connection>();
  /** Closed connections that still carry requests. */
  private readonly draining = new Set<Connection>();
  /** Jitter of the reconnect backoff. */
  readonly reconnectRng: Rng;
  /** Latencies of connection set-up and teardown messages, apart from the traffic's own draws. */
  readonly connectRng: Rng;
  /** The client pod died: nothing connects any more. */
  private closed = false;

  constructor(
    readonly client: Pod,
    readonly host: ConnectionHost,
  ) {
    const base = `proxy/${client.cluster}/${client.namespace}/${client.name}`;
    this.reconnectRng = host.rng(`${base}/reconnect`);
    this.connectRng = host.rng(`${base}/connect`);
  }

  /** The connection to `server`, opened on first use; `listener` hears when its readiness changes. */
  acquire(server: Pod, listener: () => void): Connection {
    if (this.closed) {
      // An endpoint update that was already on its way when the proxy died: connect to nothing.
      const dead = new Connection(this, server);
      dead.close("client-pod-killed");
      return dead;
    }
    let c = this.byServer.get(server);
    if (c === undefined) {
      c = new Connection(this, server);
      this.byServer.set(server, c);
      // Started before the listener joins: the caller reads the state it starts in.
      c.start(this.client.startedUs === 0 && server.startedUs === 0);
    }
    c.listeners.add(listener);
    return c;
  }

  /** A balancer no longer has `server` as an endpoint; the last one to let go closes the connection. */
  release(server: Pod, listener: () => void, reason: string): void {
    const c = this.byServer.get(server);
    if (c === undefined) return;
    c.listeners.delete(listener);
    if (c.listeners.size > 0) return;
    this.byServer.delete(server);
    c.close(reason);
    if (c.inFlight.size > 0) this.draining.add(c);
  }

  /** The open connection to `server`, if there is one. */
  get(server: Pod): Connection | undefined {
    return this.byServer.get(server);
  }

  /** Every connection that still matters for `server`: the current one and any draining. */
  *to(server: Pod): Iterable<Connection> {
    const c = this.byServer.get(server);
    if (c !== undefined) yield c;
    for (const d of this.draining) if (d.server === server) yield d;
  }

  /** A draining connection answered its last request. */
  drained(c: Connection): void {
    this.draining.delete(c);
  }

  /** The client pod died: all its connections go with it. */
  closeAll(reason: string): void {
    this.closed = true;
    for (const c of this.byServer.values()) c.close(reason);
    this.byServer.clear();
    this.draining.clear();
  }
}
