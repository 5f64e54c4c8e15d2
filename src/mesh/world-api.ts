// What the proxies, apps and controllers need from the world they live in. The world implements
// it; components depend on this interface, not on the world's internals.

import type { FailureAccrualConfig } from "../policy/config.js";
import type { Balancer } from "./balancer.js";
import type { MeshContext } from "./context.js";
import type { Destination, ServiceRef } from "./destination.js";
import type { HttpRequest, Respond } from "./http.js";
import type { CounterName, CounterSeries, GaugeSeries, RequestSeries, SeriesLabels } from "./metrics.js";
import type { OutboundProxy } from "./outbound.js";
import type { Pod } from "./pod.js";

/** What an unmeshed pod's client needs. */
export interface DirectWorld extends MeshContext {
  /** The Service a host names from `pod`'s point of view, if it exists in the pod's cluster. */
  resolveService(pod: Pod, host: string, port: number): ServiceRef | undefined;
  /** Ready pods behind a Service right now (kube-proxy's view, updated at once). */
  readyEndpoints(cluster: string, namespace: string, name: string): readonly Pod[];
  transmit(from: Pod, to: Pod, request: HttpRequest, respond: Respond): void;
  request(labels: SeriesLabels): RequestSeries;
  attempt(labels: SeriesLabels): RequestSeries;
  requestStarted(request: HttpRequest): void;
  requestEnded(request: HttpRequest): void;
}

export interface MeshWorld extends DirectWorld {
  /** Current destination config; later changes reach the proxy through `updateDestination`. */
  subscribeDestination(proxy: OutboundProxy, service: ServiceRef): Destination;
  /** A balancer for `service` in `proxy`, subscribed to its endpoints. */
  newBalancer(proxy: OutboundProxy, service: ServiceRef, accrual: FailureAccrualConfig | undefined): Balancer;
  counter(name: CounterName, labels: SeriesLabels): CounterSeries;
  inFlight(labels: SeriesLabels): GaugeSeries;
  /** A dead proxy's subscriptions end: no more endpoint or config deliveries. */
  unsubscribe(proxy: OutboundProxy, balancers: readonly Balancer[]): void;
  /** An attempt from `pod` to the concrete backend ended (feeds success-rate-driven failover). */
  attemptOutcome(pod: Pod, backend: ServiceRef, ok: boolean): void;
}
