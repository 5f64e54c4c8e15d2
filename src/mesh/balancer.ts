// One concrete backend (a Service) inside one client proxy: the endpoints the destination
// controller last sent, each with its PeakEWMA load, its connection and (on the policy stack) its
// failure-accrual breaker, the per-backend queue with fail-fast in front of them, and P2C to pick
// an endpoint. Every decision is the policy library's; this file only keeps time and state.

import { OUTBOUND_QUEUE_DEFAULTS } from "../policy/backend-queue.js";
import type { FailureAccrualConfig } from "../policy/config.js";
import { FailureAccrual } from "../policy/failure-accrual.js";
import { pickP2cIndex } from "../policy/p2c.js";
import { DEFAULT_PEAK_EWMA, PeakEwma } from "../policy/peak-ewma.js";
import type { ProxyErrorKind } from "../policy/request-timeouts.js";
import { Priority } from "../sim/priority.js";
import type { Owner } from "../sim/event-queue.js";
import type { Rng } from "../sim/rng.js";
import type { Connection } from "./connection.js";
import type { MeshContext } from "./context.js";
import type { Pod } from "./pod.js";
import { QueueGate } from "./queue-gate.js";

/** How a balancer gets at its endpoints' connections: its proxy's connection pool. */
export interface EndpointConnections {
  /**
   * The connection to `pod`, opened on first use; `listener` hears when it becomes ready or stops
   * being ready. Undefined when requests to `pod` need no connection of their own: an unmeshed pod
   * is spoken to over HTTP/1, whose client is always ready and connects per request.
   */
  acquire(pod: Pod, listener: () => void): Connection | undefined;
  /** The balancer no longer has `pod` as an endpoint. */
  release(pod: Pod, listener: () => void, reason: string): void;
}

export class Endpoint {
  readonly ewma: PeakEwma;
  constructor(
    readonly pod: Pod,
    ctx: MeshContext,
    readonly accrual: FailureAccrual | undefined,
    /** Undefined for an unmeshed pod (see `EndpointConnections.acquire`). */
    readonly connection: Connection | undefined,
  ) {
    this.ewma = new PeakEwma(DEFAULT_PEAK_EWMA, ctx.sim.nowUs);
  }
  /**
   * In P2C's ready set: its connection is open (not connecting, not backing off) and its breaker,
   * if any, lets requests through. Nothing but the connection and the breaker decides this, so a
   * dead pod's endpoint, whose connects are always refused, never becomes ready again.
   */
  get ready(): boolean {
    return (this.connection === undefined || this.connection.ready) && (this.accrual === undefined || this.accrual.isReady());
  }
  load(nowUs: number): number {
    return this.ewma.load(nowUs);
  }
}

/** A request waiting for, or sent to, an endpoint of this backend. */
export interface BackendRequest {
  /** The client gave up while it waited; the queue still spends one dispatch on it, sending nothing. */
  readonly cancelled: boolean;
  /** Send to the chosen endpoint; the caller reports back through `complete`. */
  send(endpoint: Endpoint): void;
  /** The backend could not serve it: load shed at the queue, or fail-fast while queued. */
  fail(error: ProxyErrorKind): void;
}

export class Balancer {
  /** For a gateway-mode mirror: the remote FQDN the client sends to the gateway. */
  authorityOverride: string | undefined;
  private endpoints: Endpoint[] = [];
  /** The per-backend queue in front of P2C (capacity 10 000, fail-fast after 3 s). */
  private readonly queue: QueueGate<BackendRequest>;
  /** `balancer/<label>`: P2C's picks. */
  private readonly rng: Rng;
  /** `accrual/<label>`: its endpoints' breaker backoff, made when accrual first needs it. */
  private accrual: Rng | undefined;

  /** Told by an endpoint's connection when it becomes ready or stops being ready. */
  private readonly connectionChanged = (): void => this.refresh();

  constructor(
    readonly label: string,
    private readonly ctx: MeshContext,
    private accrualConfig: FailureAccrualConfig | undefined,
    /** The proxy's pod: its timers die with it. */
    private readonly owner: Owner,
    private readonly connections: EndpointConnections,
  ) {
    this.rng = ctx.rng(`balancer/${label}`);
    this.queue = new QueueGate<BackendRequest>(OUTBOUND_QUEUE_DEFAULTS, false, ctx, owner, {
      ready: () => this.endpoints.some((e) => e.ready),
      dispatch: (request) => this.dispatch(request),
      reject: (request) => request.fail("load-shed"),
      failFast: (request) => request.fail("fail-fast"),
      emit: (event, { reason, failed }) => ctx.emit(`queue.${event}`, { backend: label, ...(failed === undefined ? {} : { failed }), reason }),
    });
  }

  private get accrualRng(): Rng {
    this.accrual ??= this.ctx.rng(`accrual/${this.label}`);
    return this.accrual;
  }

  /** What distribution and the route's LoadShed see: not in fail-fast and not full. */
  isReady(): boolean {
    return this.queue.isReady();
  }

  get endpointCount(): number {
    return this.endpoints.length;
  }

  /** Requests waiting in the queue, including ones their client gave up on. */
  get queued(): number {
    return this.queue.queued;
  }

  /**
   * The destination controller delivered a new endpoint set. Known endpoints keep their state and
   * their connection; a new one starts connecting; one that left lets its connection go.
   */
  setEndpoints(pods: readonly Pod[]): void {
    const known = new Map(this.endpoints.map((e) => [e.pod, e]));
    this.endpoints = pods.map((p) => {
      const e = known.get(p);
      known.delete(p);
      return e ?? this.newEndpoint(p, this.connections.acquire(p, this.connectionChanged));
    });
    for (const gone of known.values()) if (gone.connection !== undefined) this.connections.release(gone.pod, this.connectionChanged, "endpoint-removed");
    this.refresh();
  }

  /** Failure accrual changed with the Service's annotations (or the stack switched). */
  setAccrual(config: FailureAccrualConfig | undefined): void {
    // Configs are recomputed on every update; only a different setting resets the breakers.
    if (JSON.stringify(config) === JSON.stringify(this.accrualConfig)) return;
    this.accrualConfig = config;
    this.endpoints = this.endpoints.map((e) => this.newEndpoint(e.pod, e.connection));
    this.refresh();
  }

  /** The backend is gone (its proxy died, or it was dropped): its endpoints let their connections go. */
  close(reason: string): void {
    for (const e of this.endpoints) if (e.connection !== undefined) this.connections.release(e.pod, this.connectionChanged, reason);
    this.endpoints = [];
    this.refresh();
  }

  submit(request: BackendRequest): void {
    this.queue.submit(request);
  }

  /**
   * The endpoint answered (or failed) a request sent at `sentAtUs`. `_connectFailed` is not used:
   * connect failures are the connection's business (it backs off and stays not ready), and an
   * HTTP/1 endpoint's per-request connect error needs no backoff (its client is always ready).
   */
  complete(endpoint: Endpoint, sentAtUs: number, failure: boolean, _connectFailed: boolean): void {
    const now = this.ctx.sim.nowUs;
    endpoint.ewma.complete(sentAtUs, now);
    if (endpoint.accrual !== undefined) {
      const step = endpoint.accrual.onResponse(failure, now);
      this.onAccrualStep(endpoint, step.actions, step.reason);
    }
    this.refresh();
  }

  private newEndpoint(pod: Pod, connection: Connection | undefined): Endpoint {
    return new Endpoint(pod, this.ctx, this.accrualConfig === undefined ? undefined : new FailureAccrual(this.accrualConfig, this.accrualRng), connection);
  }

  private onAccrualStep(endpoint: Endpoint, actions: ReadonlyArray<{ kind: string; atUs?: number }>, reason: string): void {
    for (const a of actions) {
      if (a.kind === "arm-timer" && a.atUs !== undefined) {
        this.ctx.sim.scheduleAt(a.atUs, () => {
          const step = endpoint.accrual?.onTimer(this.ctx.sim.nowUs);
          if (step !== undefined) this.onAccrualStep(endpoint, step.actions, step.reason);
          this.refresh();
        }, undefined, Priority.Timeout, this.owner);
      } else if (a.kind !== "arm-timer") {
        this.ctx.emit(`breaker.${a.kind}`, { backend: this.label, endpoint: endpoint.pod.name, reason });
      }
    }
  }

  /** Tell the queue when the pool's readiness may have changed. */
  private refresh(): void {
    this.queue.refresh();
  }

  /** P2C over the ready endpoints; a request its client gave up on is spent without sending. */
  private dispatch(request: BackendRequest): boolean {
    if (request.cancelled) return true;
    const now = this.ctx.sim.nowUs;
    const index = pickP2cIndex(this.endpoints, this.rng, now);
    // The queue only dispatches while the pool is ready; if no endpoint is, keep the request at the head.
    if (index < 0) return false;
    const endpoint = this.endpoints[index] as Endpoint;
    endpoint.accrual?.admit();
    endpoint.ewma.start(now);
    request.send(endpoint);
    return true;
  }
}
