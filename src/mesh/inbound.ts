// The inbound side of a meshed pod's proxy: every request for the pod's container arrives here.
// It notes the TLS the client connected with (for `viz edges`), puts the request in its queue in
// front of the container (capacity 10,000, fail-fast after 1 s), hands it on when the container
// can take it, and records the answer the way the inbound proxy's metrics do. An unmeshed pod has
// none of this: requests go straight to its app.
//
// Shaped like linkerd2-proxy's inbound HTTP stack (`linkerd/app/inbound/src/http/{router,server}.rs`
// @ release/v2.246.0): a `NewQueue` with the inbound queue config, then `LoadShed`, sits in front
// of the per-target client to the application; the response metrics (`http_endpoint`) sit inside
// the queue, so they see requests the app answered, measured from dispatch. Errors the queue
// raises become synthetic responses at the inbound server (`ServerRescue`): FailFastError → 504
// (gateway timeout), LoadShedError → 503 (service unavailable). They go back to the client as plain
// HTTP responses, and the inbound's response metrics never see them (upstream counts them in
// `inbound_http_errors_total`; here they are traced as `inbound.fail-fast` / `inbound.load-shed`).
//
// "Ready" for the queue means the container can take one more request: a free concurrency slot
// or room in its own queue. That stands for the app connection's readiness upstream: an HTTP/2
// app's stream limit, or an HTTP/1 app's accept backlog. Kubelet probes do not pass through here.

import { INBOUND_QUEUE_DEFAULTS } from "../policy/backend-queue.js";
import { isDefaultFailure } from "../policy/classify.js";
import type { EventId } from "../sim/event-queue.js";
import { Priority } from "../sim/priority.js";
import type { MeshContext } from "./context.js";
import { type EdgeBook, SECURED } from "./edges.js";
import { type HttpRequest, type Respond, responseOutcome } from "./http.js";
import type { CounterName, CounterSeries, SeriesLabels, ServerSeries } from "./metrics.js";
import type { Pod } from "./pod.js";
import { QueueGate } from "./queue-gate.js";

/**
 * The TLS an inbound proxy accepted a connection with, as its transport metrics label it:
 * `tls="true",client_id=<sa.ns>`, or `tls="no_identity",no_tls_reason="no_tls_from_remote"`
 * (linkerd2-proxy `linkerd/app/core/src/transport/labels.rs`).
 */
export type PeerTls = { kind: "mtls"; clientId: string } | { kind: "none"; reason: "no_tls_from_remote" };

/** What the inbound proxy hands requests to: the pod's container. */
export interface InboundTarget {
  /** Whether the container would take one more request right now (a free slot or room in its queue). */
  admits(): boolean;
  handle(request: HttpRequest, respond: Respond): void;
}

/** What the inbound proxy needs of the world around it. */
export interface InboundHost extends MeshContext {
  readonly edges: EdgeBook;
  counter(name: CounterName, labels: SeriesLabels): CounterSeries;
  server(pod: Pod): ServerSeries;
  arrivals(pod: Pod, traffic: string): CounterSeries;
}

interface Waiting {
  readonly request: HttpRequest;
  readonly reply: Respond;
}

export class InboundProxy {
  /** The inbound queue in front of the container (capacity 10 000, fail-fast after 1 s). */
  private readonly queue: QueueGate<Waiting>;
  private recheck: EventId | undefined;

  constructor(
    readonly pod: Pod,
    private readonly host: InboundHost,
    private readonly target: InboundTarget,
  ) {
    this.queue = new QueueGate<Waiting>(INBOUND_QUEUE_DEFAULTS, true, host, pod, {
      ready: () => target.admits(),
      dispatch: (w) => this.dispatch(w),
      reject: (w, status) => w.reply({ status, from: "inbound-load-shed" }),
      failFast: (w, status) => w.reply({ status, from: "inbound-fail-fast" }),
      emit: (event, { reason, failed }) => host.emit(`inbound.${event}`, { pod: pod.label, ...(failed === undefined ? {} : { failed }), reason }),
    });
  }

  /** Requests waiting in this proxy's queue for the container. */
  get queued(): number {
    return this.queue.queued;
  }

  /** The TLS this proxy reports for a client: mTLS with its identity, or none from an unmeshed client. */
  static tlsOf(client: Pod, viaMtls: boolean): PeerTls {
    return viaMtls ? { kind: "mtls", clientId: client.identity } : { kind: "none", reason: "no_tls_from_remote" };
  }

  /** A request from `client` arrived over a connection secured as `tls` says; `reply` sends the answer back. */
  accept(request: HttpRequest, client: Pod, tls: PeerTls, reply: Respond): void {
    const now = this.host.sim.nowUs;
    this.host.edges.record(client, this.pod, tls.kind === "mtls" ? SECURED.mtls : SECURED.noTlsFromRemote);
    this.host.arrivals(this.pod, request.origin.traffic).add(now);
    // The container may have filled or drained since the queue last looked.
    this.queue.refresh();
    this.queue.submit({ request, reply });
  }

  /**
   * The container freed a slot or changed its capacity. It finishes what it is doing first (it may
   * start a request of its own queue), so the queue looks again at the same instant, afterwards.
   */
  capacityChanged(): void {
    if (this.recheck !== undefined || (this.queue.lastReady && this.queue.queued === 0)) return;
    this.recheck = this.host.sim.schedule(0, () => {
      this.recheck = undefined;
      this.queue.refresh();
    }, undefined, Priority.Completion, this.pod);
  }

  /** The pod died: requests still waiting here end with `response`. */
  abandon(response: Parameters<Respond>[0]): void {
    for (const w of this.queue.drain()) w.reply(response);
  }

  /** Hand a waiting request to the container, timing it from here as the inbound metrics do. */
  private dispatch(w: Waiting): boolean {
    const dispatchedUs = this.host.sim.nowUs;
    const series = this.host.server(this.pod);
    this.target.handle(w.request, (res) => {
      // The inbound's default classifier: gRPC requests by grpc-status, others by 5xx.
      series.record(dispatchedUs, this.host.sim.nowUs, !isDefaultFailure(responseOutcome(w.request, res)), res.status, res.grpcStatus);
      w.reply(res);
    });
    return true;
  }
}
