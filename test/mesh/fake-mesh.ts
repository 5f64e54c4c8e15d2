// A small fake world for unit tests of one client proxy: real proxies, request flows, balancers
// and destination configs (resolved from real manifests), around a fake control plane that the
// test drives by hand (endpoints and config pushes arrive when the test says so) and fake servers
// that answer after a fixed delay. No network latency, no proxy hops.

import { parseManifests } from "../../src/k8s/load.js";
import type { K8sObject } from "../../src/k8s/object.js";
import { Balancer } from "../../src/mesh/balancer.js";
import { type ClusterObjects, type Destination, resolveDestination, type ServiceRef, serviceKey } from "../../src/mesh/destination.js";
import { type HttpRequest, type HttpResponse, type Respond, serviceForHost } from "../../src/mesh/http.js";
import type { CounterName, CounterSeries, GaugeSeries, RequestSeries, SeriesLabels } from "../../src/mesh/metrics.js";
import { OutboundProxy } from "../../src/mesh/outbound.js";
import { Pod } from "../../src/mesh/pod.js";
import type { MeshWorld } from "../../src/mesh/world-api.js";
import type { FailureAccrualConfig } from "../../src/policy/config.js";
import { Priority } from "../../src/sim/priority.js";
import type { Rng } from "../../src/sim/rng.js";
import { Simulation } from "../../src/sim/simulation.js";
import type { TraceFields } from "../../src/sim/trace.js";

export const MS = 1_000;
export const S = 1_000_000;

export function pod(deployment: string, namespace = "app"): Pod {
  return new Pod(
    { cluster: "c", namespace, deployment, labels: { app: deployment }, serviceAccount: deployment, meshed: true, readinessProbe: undefined },
    `${deployment}-0`,
    0,
    true,
  );
}

/** What a client gets back for one request, and when. */
export interface Answer {
  atUs: number;
  status: number;
  error?: string;
}

interface BalancerRecord {
  balancer: Balancer;
  service: string;
  generation: number;
  closed: boolean;
}

export class FakeMesh implements MeshWorld {
  readonly sim = new Simulation({ seed: 1 });
  readonly events: Array<{ atUs: number; kind: string; fields: TraceFields }> = [];
  readonly balancers: BalancerRecord[] = [];
  /** Requests that reached a server pod, in order. */
  readonly arrivals: Array<{ atUs: number; pod: string }> = [];
  readonly counters = new Map<string, number>();
  private objects: K8sObject[];
  private readonly endpoints = new Map<string, Pod[]>();
  private readonly proxies: OutboundProxy[] = [];
  /** How a server answers: the default is 200 after 1 ms. */
  serve: (to: Pod, request: HttpRequest) => { afterUs: number; res: HttpResponse } = () => ({ afterUs: 1 * MS, res: { status: 200 } });

  constructor(manifests: string) {
    this.objects = parseManifests(manifests, "fake.yaml").objects;
  }

  // ---- test controls -------------------------------------------------------------------------

  /** A meshed client proxy in namespace `app`. */
  proxy(name = "client"): OutboundProxy {
    const p = new OutboundProxy(pod(name), this);
    this.proxies.push(p);
    return p;
  }

  /**
   * The endpoints of `app/<service>` change now: a balancer built from now on starts with them, and
   * the ones already subscribed hear after `deliverAfterUs` (the control plane's propagation delay).
   */
  setEndpoints(service: string, pods: Pod[], deliverAfterUs = 0): void {
    const key = `app/${service}`;
    this.endpoints.set(key, pods);
    const deliver = (): void => {
      for (const r of this.balancers) if (!r.closed && r.service === key) r.balancer.setEndpoints(pods);
    };
    if (deliverAfterUs === 0) deliver();
    else this.sim.schedule(deliverAfterUs, deliver, undefined, Priority.Control);
  }

  /** Replace the manifests; the destination of `service` (as a client in `app` sees it) is pushed to every proxy now. */
  pushConfig(manifests: string, service: string, port = 80): Destination {
    this.objects = parseManifests(manifests, "fake.yaml").objects;
    const dest = this.destinationFor({ namespace: "app", name: service, port });
    for (const p of this.proxies) p.updateDestination(dest);
    return dest;
  }

  destinationFor(service: ServiceRef): Destination {
    return resolveDestination(this.clusterObjects(), service, "app");
  }

  /** Send a GET from `proxy` at `atUs`; the answer lands in the returned list. */
  send(proxy: OutboundProxy, url: { host: string; path?: string }, atUs: number, answers: Answer[], id = answers.length + 1): void {
    this.sim.scheduleAt(atUs, () => {
      const request: HttpRequest = { method: "GET", path: url.path ?? "/", authority: `${url.host}:80`, bodyBytes: 0, origin: { id, traffic: "t" } };
      proxy.send(request, (res) => answers.push({ atUs: this.sim.nowUs, status: res.status, ...(res.error === undefined ? {} : { error: res.error }) }), "t");
    }, undefined, Priority.Arrival);
  }

  run(untilUs: number): void {
    this.sim.run({ untilUs, maxEvents: 1_000_000 });
  }

  count(name: CounterName): number {
    return this.counters.get(name) ?? 0;
  }

  marks(kind: string, reason?: string): number {
    return this.events.filter((e) => e.kind === kind && (reason === undefined || e.fields["reason"] === reason)).length;
  }

  // ---- MeshWorld -----------------------------------------------------------------------------

  emit(kind: string, fields: TraceFields): void {
    this.events.push({ atUs: this.sim.nowUs, kind, fields });
  }
  rng(label: string): Rng {
    return this.sim.rng(label);
  }
  resolveService(_pod: Pod, host: string, port: number): ServiceRef | undefined {
    const svc = serviceForHost(host, "app", "cluster.local");
    if (svc === undefined || !this.clusterObjects().serviceExists(svc.namespace, svc.name)) return undefined;
    return { ...svc, port };
  }
  readyEndpoints(_cluster: string, namespace: string, name: string): readonly Pod[] {
    return this.endpoints.get(`${namespace}/${name}`) ?? [];
  }
  transmit(from: Pod, to: Pod, request: HttpRequest, respond: Respond): void {
    this.arrivals.push({ atUs: this.sim.nowUs, pod: to.name });
    const { afterUs, res } = this.serve(to, request);
    this.sim.schedule(afterUs, () => respond(res), undefined, Priority.Completion, from);
  }
  request(_labels: SeriesLabels): RequestSeries {
    return { record: () => undefined };
  }
  attempt(_labels: SeriesLabels): RequestSeries {
    return { record: () => undefined };
  }
  requestStarted(_request: HttpRequest): void {}
  requestEnded(_request: HttpRequest): void {}
  subscribeDestination(_proxy: unknown, service: ServiceRef): Destination {
    return this.destinationFor(service);
  }
  newBalancer(proxy: { readonly pod: Pod }, parent: ServiceRef, service: ServiceRef, accrual: FailureAccrualConfig | undefined, generation = 0): Balancer {
    const label = `${proxy.pod.name}/${serviceKey(parent)}/${serviceKey(service)}${generation === 0 ? "" : `#${generation}`}`;
    // Endpoints without a connection of their own: always ready, as an HTTP/1 client is.
    const b = new Balancer(label, this, accrual, proxy.pod, { acquire: () => undefined, release: () => undefined });
    const key = `${service.namespace}/${service.name}`;
    this.balancers.push({ balancer: b, service: key, generation, closed: false });
    b.setEndpoints(this.endpoints.get(key) ?? []);
    return b;
  }
  releaseBalancer(_proxy: unknown, balancer: Balancer, reason: string): void {
    const r = this.balancers.find((x) => x.balancer === balancer);
    if (r !== undefined) r.closed = true;
    balancer.close(reason);
  }
  counter(name: CounterName, _labels: SeriesLabels): CounterSeries {
    return { add: (_atUs: number, n = 1) => void this.counters.set(name, (this.counters.get(name) ?? 0) + n) };
  }
  inFlight(_labels: SeriesLabels): GaugeSeries {
    return { change: () => undefined, value: 0 };
  }
  unsubscribe(_proxy: unknown, balancers: readonly Balancer[]): void {
    for (const b of balancers) {
      const r = this.balancers.find((x) => x.balancer === b);
      if (r !== undefined) r.closed = true;
    }
  }
  attemptOutcome(): void {}
  proxyHopUs(): number {
    return 0;
  }
  requestFailed(): void {}

  private clusterObjects(): ClusterObjects {
    const objects = this.objects;
    return {
      domain: "cluster.local",
      ofKind: (kind) => objects.filter((o) => o.kind === kind),
      serviceExists: (namespace, name) => objects.some((o) => o.kind === "Service" && o.metadata.name === name && (o.metadata.namespace ?? "default") === namespace),
      serviceAnnotations: (namespace, name) => objects.find((o) => o.kind === "Service" && o.metadata.name === name && (o.metadata.namespace ?? "default") === namespace)?.metadata.annotations,
    };
  }
}
