// What the proxies, apps, controllers and fault injectors need from the world they live in. The
// world implements these interfaces; components depend on them, not on the world's internals, and
// this file names no component class, so nothing imports its way back round to itself.

import type { FailureAccrualConfig } from "../policy/config.js";
import type { PodAppHost } from "./app-host.js";
import type { Balancer } from "./balancer.js";
import type { Cluster, Deployment, DestinationSubscriber } from "./cluster.js";
import type { MeshContext } from "./context.js";
import type { Destination, ServiceRef } from "./destination.js";
import type { FailureCause } from "./failure-book.js";
import type { HttpRequest, HttpResponse, Respond } from "./http.js";
import type { IdentitySystem } from "./identity.js";
import type { InboundTarget } from "./inbound.js";
import type { CounterName, CounterSeries, GaugeSeries, RequestSeries, SeriesLabels, ServerSeries } from "./metrics.js";
import type { Network } from "./network.js";
import type { Client, Pod } from "./pod.js";
import type { Selector, WorldSpec } from "./spec.js";

/** What an unmeshed pod's client needs. */
export interface DirectWorld extends MeshContext {
  /** The Service a host names from `pod`'s point of view, if it exists in the pod's cluster. */
  resolveService(pod: Pod, host: string, port: number): ServiceRef | undefined;
  /** Ready pods behind a Service right now (kube-proxy's view of its Endpoints). */
  readyEndpoints(cluster: string, namespace: string, name: string): readonly Pod[];
  /** Send `request` from `from` to the pod `to` (data-plane.ts); `respond` gets the answer. */
  transmit(from: Pod, to: Pod, request: HttpRequest, respond: Respond): void;
  request(labels: SeriesLabels): RequestSeries;
  attempt(labels: SeriesLabels): RequestSeries;
  requestStarted(request: HttpRequest): void;
  /** The client side answered `request` with `status`: counted once, and folded into the run's digest. */
  requestEnded(request: HttpRequest, status: number): void;
  /** A request ended in failure: why, for the failure table (failure-book.ts). */
  requestFailed(labels: SeriesLabels, res: { status: number; grpcStatus?: number }, cause: FailureCause, retry: string): void;
}

export type { DestinationSubscriber } from "./cluster.js";

/** What a meshed pod's outbound proxy needs. */
export interface MeshWorld extends DirectWorld {
  /** Current destination config; later changes reach the proxy through `updateDestination`. */
  subscribeDestination(proxy: DestinationSubscriber, service: ServiceRef): Destination;
  /**
   * A balancer for backend `service` of destination `parent` in `proxy`, subscribed to its
   * endpoints, using the proxy's connections. `generation`: how many were built for the same
   * backend of the same destination in this proxy before (default 0), so a rebuilt one gets
   * random streams of its own.
   */
  newBalancer(proxy: { readonly pod: Pod }, parent: ServiceRef, service: ServiceRef, accrual: FailureAccrualConfig | undefined, generation?: number): Balancer;
  /** A dropped backend drained: it stops receiving endpoint updates and lets its connections go. */
  releaseBalancer(proxy: { readonly pod: Pod }, balancer: Balancer, reason: string): void;
  counter(name: CounterName, labels: SeriesLabels): CounterSeries;
  inFlight(labels: SeriesLabels): GaugeSeries;
  /** A dead proxy's subscriptions end (no more endpoint or config deliveries) and its connections close. */
  unsubscribe(proxy: DestinationSubscriber, balancers: readonly Balancer[]): void;
  /** An attempt from `pod` to the concrete backend ended (feeds success-rate-driven failover). */
  attemptOutcome(pod: Pod, backend: ServiceRef, ok: boolean): void;
  /** One pass through `pod`'s proxy (`mesh.proxy.latency`), as a request it answers itself costs. */
  proxyHopUs(pod: Pod): number;
}

/** Pods coming and going, as the kubelet and the workload controllers do it (workloads.ts). */
export interface PodLifecycle {
  killPod(cluster: Cluster, d: Deployment, pod: Pod, reason: string): void;
  /** Bring the number of pods to the desired replica count. */
  reconcile(cluster: Cluster, d: Deployment): void;
  /** `kubectl rollout restart`. */
  restart(cluster: Cluster, d: Deployment): void;
  /** Apply the deployment's current fault state to every pod. */
  applyDegradation(d: Deployment): void;
  /** readinessFail: probes fail from now on (or pass again). */
  forceProbeFailure(cluster: Cluster, d: Deployment, on: boolean): void;
}

/** What the world's helpers (workloads, faults, multicluster, DNS) may reach. */
/** One request a pod served, as `linkerd viz tap` shows it at the server's inbound side. */
export interface ServedRequest {
  /** `cluster/namespace/pod` of the caller and of the server. */
  src: string;
  dst: string;
  /** The server workload, `cluster/namespace/deployment`. */
  dstWorkload: string;
  /** `tls=true`, or why not (`no_tls_from_remote`). */
  tls: string;
  request: HttpRequest;
  status: number;
  grpcStatus?: number;
  startUs: number;
  endUs: number;
}

export interface WorldInternals extends MeshWorld {
  readonly spec: WorldSpec;
  /** Hears every request a pod serves (`meshsim tap`); must not touch the world. Absent ⇒ nobody listens. */
  readonly onServed?: ((r: ServedRequest) => void) | undefined;
  readonly network: Network;
  readonly clusters: ReadonlyMap<string, Cluster>;
  readonly workloads: PodLifecycle;
  readonly identity: IdentitySystem;
  /** The host a pod's app lives in (app-host.ts). */
  appHost(pod: Pod): PodAppHost;
  /** How `pod` sends requests: its outbound proxy when meshed, straight to a pod otherwise. */
  clientFor(pod: Pod): Client;
  server(pod: Pod): ServerSeries;
  /** Requests that arrived at `pod` from `traffic`. */
  arrivals(pod: Pod, traffic: string): CounterSeries;
  deploymentsMatching(select: Selector): Array<{ cluster: Cluster; deployment: Deployment }>;
  /** A meshed pod's inbound proxy starts in front of `target`, its container. */
  startInbound(pod: Pod, target: InboundTarget): void;
  /** `pod` died: its connections break, requests waiting in its inbound proxy end with `response`. */
  podDied(pod: Pod, response: HttpResponse): void;
  /** The container of `pod` freed a slot or changed its capacity. */
  appCapacityChanged(pod: Pod): void;
}
