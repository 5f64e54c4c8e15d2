// One Kubernetes cluster: its objects, namespaces, Services, Deployments and their pods, the
// Endpoints controller (ready pods behind each Service) and the cluster's Linkerd control plane,
// which hands destination configs and endpoint sets to proxies after a propagation delay — and,
// while it is down, hands them nothing (proxies keep what they last got).

import type { K8sObject } from "../k8s/object.js";
import { lastDefinitions } from "../k8s/apply.js";
import { deploymentView, meshedDecision, namespaceView, serviceView, isWorkload, WORKLOAD_KINDS, type DeploymentView, type NamespaceView, type ServiceView } from "../k8s/views.js";
import { type Distribution, makeDistribution, sampleUs } from "../sim/distributions.js";
import { Priority } from "../sim/priority.js";
import type { Rng } from "../sim/rng.js";
import type { Balancer } from "./balancer.js";
import type { MeshContext } from "./context.js";
import { type ClusterObjects, type Destination, resolveDestination, type ServiceRef, serviceKey } from "./destination.js";
import type { ServiceMirror } from "./multicluster.js";
import type { OutboundProxy } from "./outbound.js";
import type { Pod, WorkloadTemplate } from "./pod.js";
import type { DistributionSpec } from "../sim/distributions.js";
import type { BehaviorSpec, ClusterSpec } from "./spec.js";

export interface Deployment {
  view: DeploymentView;
  template: WorkloadTemplate;
  behavior: BehaviorSpec;
  desiredReplicas: number;
  pods: Pod[];
  /** Next pod ordinal, so names never repeat (`auth-0`, `auth-1`, …). */
  nextOrdinal: number;
  /** Fault state applied to every pod of the deployment, including replacements. */
  degradation: { errorRate?: number; latencyFactor?: number; capacityFactor?: number };
  probeForcedFail: boolean;
}

interface Delivery {
  lastDeliveryUs: number;
}

export class Cluster implements ClusterObjects {
  alive = true;
  controlPlaneUp = true;
  /** The multicluster gateway pod, when another cluster links to this one. */
  gatewayPod: Pod | undefined;
  readonly name: string;
  readonly domain: string;
  readonly trustAnchor: string;
  readonly namespaces = new Map<string, NamespaceView>();
  readonly services = new Map<string, ServiceView>();
  readonly deployments = new Map<string, Deployment>();
  private readonly byKind = new Map<string, K8sObject[]>();
  private readonly endpointSubs = new Map<string, Map<Balancer, Delivery>>();
  private readonly destinationSubs = new Map<string, Map<OutboundProxy, Delivery>>();
  private readonly changedWhileDown = new Set<string>();
  private configChangedWhileDown = false;
  private readonly propagation: Distribution;
  private readonly rng: Rng;
  private destinationCache = new Map<string, Destination>();
  /** Mirror Services by `ns/name`, and the service mirror that owns each. */
  private readonly mirrors = new Map<string, ServiceMirror>();
  /** API watchers of Endpoints (service mirrors of other clusters, the failover operator). */
  private readonly endpointWatchers = new Map<string, Array<() => void>>();
  private readonly anyEndpointWatchers: Array<(namespace: string, name: string) => void> = [];

  constructor(spec: ClusterSpec, propagation: DistributionSpec, private readonly ctx: MeshContext) {
    this.name = spec.name;
    this.domain = spec.domain;
    this.trustAnchor = spec.trustAnchor;
    this.propagation = makeDistribution(propagation);
    this.rng = ctx.rng(`control-plane/${spec.name}`);
    // Every file applied in order: a later definition of an object replaces the earlier one.
    for (const o of lastDefinitions(spec.objects)) {
      const list = this.byKind.get(o.kind) ?? [];
      list.push(o);
      this.byKind.set(o.kind, list);
    }
    for (const o of this.ofKind("Namespace")) this.namespaces.set(o.metadata.name, namespaceView(o).value);
    for (const o of this.ofKind("Service")) {
      const v = serviceView(o).value;
      this.services.set(`${v.namespace}/${v.name}`, v);
    }
  }

  ofKind(kind: string): readonly K8sObject[] {
    return this.byKind.get(kind) ?? [];
  }

  serviceExists(namespace: string, name: string): boolean {
    return this.services.has(`${namespace}/${name}`);
  }

  serviceAnnotations(namespace: string, name: string): Record<string, string> | undefined {
    return this.services.get(`${namespace}/${name}`)?.annotations;
  }

  /** Workload views (Deployments, StatefulSets, DaemonSets, Pods) with their pod templates; the world adds behaviour and pods. */
  deploymentTemplates(): Array<{ view: DeploymentView; template: WorkloadTemplate }> {
    return [...WORKLOAD_KINDS].flatMap((kind) => this.ofKind(kind)).filter(isWorkload).map((o) => {
      const view = deploymentView(o).value;
      const meshed = meshedDecision(view, this.namespaces.get(view.namespace)).meshed;
      const probe = view.readinessProbe;
      return {
        view,
        template: {
          cluster: this.name,
          namespace: view.namespace,
          deployment: view.name,
          labels: view.templateLabels,
          serviceAccount: view.serviceAccountName,
          meshed,
          readinessProbe:
            probe === undefined
              ? undefined
              : {
                  initialDelayUs: probe.initialDelayUs,
                  periodUs: probe.periodUs,
                  timeoutUs: probe.timeoutUs,
                  successThreshold: probe.successThreshold,
                  failureThreshold: probe.failureThreshold,
                },
        },
      };
    });
  }

  /** Pods a Service selects, alive and ready: what its Endpoints `addresses` hold. */
  readyEndpoints(namespace: string, name: string): Pod[] {
    const mirror = this.mirrors.get(`${namespace}/${name}`);
    if (mirror !== undefined) return mirror.readyEndpoints(namespace, name);
    const svc = this.services.get(`${namespace}/${name}`);
    if (svc?.selector === undefined || Object.keys(svc.selector).length === 0) return [];
    const out: Pod[] = [];
    for (const d of this.deployments.values()) {
      if (d.template.namespace !== namespace || !selects(svc.selector, d.template.labels)) continue;
      for (const p of d.pods) if (p.alive && p.ready) out.push(p);
    }
    return out;
  }

  /** Services whose selector picks this pod. */
  servicesOf(pod: Pod): ServiceView[] {
    const out: ServiceView[] = [];
    for (const svc of this.services.values()) {
      if (svc.namespace === pod.namespace && svc.selector !== undefined && Object.keys(svc.selector).length > 0 && selects(svc.selector, pod.template.labels)) {
        out.push(svc);
      }
    }
    return out;
  }

  // ---- destination controller -------------------------------------------------------------

  /** What a proxy in `clientNamespace` is told about `service` (profiles there win, see `effectiveProfile`). */
  destination(service: ServiceRef, clientNamespace: string): Destination {
    const key = destinationKey(service, clientNamespace);
    let d = this.destinationCache.get(key);
    if (d === undefined) {
      d = resolveDestination(this, service, clientNamespace);
      this.destinationCache.set(key, d);
    }
    return d;
  }

  subscribeDestination(proxy: OutboundProxy, service: ServiceRef): Destination {
    const key = destinationKey(service, proxy.pod.namespace);
    const subs = this.destinationSubs.get(key) ?? new Map<OutboundProxy, Delivery>();
    subs.set(proxy, { lastDeliveryUs: this.ctx.sim.nowUs });
    this.destinationSubs.set(key, subs);
    return this.destination(service, proxy.pod.namespace);
  }

  /** A dead proxy's balancers stop receiving endpoint updates. */
  unsubscribeEndpoints(balancer: Balancer): void {
    for (const subs of this.endpointSubs.values()) subs.delete(balancer);
  }

  unsubscribeDestinations(proxy: OutboundProxy): void {
    for (const subs of this.destinationSubs.values()) subs.delete(proxy);
  }

  subscribeEndpoints(balancer: Balancer, service: ServiceRef): void {
    const key = `${service.namespace}/${service.name}`;
    const subs = this.endpointSubs.get(key) ?? new Map<Balancer, Delivery>();
    subs.set(balancer, { lastDeliveryUs: this.ctx.sim.nowUs });
    this.endpointSubs.set(key, subs);
    // Without a control plane a new proxy learns no endpoints (its requests wait, then fail fast)
    // until the control plane is back.
    if (!this.controlPlaneUp) this.changedWhileDown.add(key);
    balancer.setEndpoints(this.controlPlaneUp ? this.readyEndpoints(service.namespace, service.name) : []);
  }

  /** A mirror Service the service mirror created here, as a selector-less Service. */
  addMirror(remote: ServiceView, name: string, mirror: ServiceMirror): void {
    const { selector: _remoteSelector, ...rest } = remote;
    const view: ServiceView = { ...rest, name, labels: { "mirror.linkerd.io/mirrored-service": "true" }, annotations: {} };
    this.services.set(`${remote.namespace}/${name}`, view);
    this.mirrors.set(`${remote.namespace}/${name}`, mirror);
  }

  /** The authority a client sends when `service` is a gateway-mode mirror (the remote FQDN). */
  authorityOverride(service: ServiceRef): string | undefined {
    return this.mirrors.get(`${service.namespace}/${service.name}`)?.authorityFor(service.namespace, service.name);
  }

  /** Watch the Endpoints of one Service through this cluster's API server. */
  onEndpointsChanged(namespace: string, name: string, listener: () => void): void {
    const key = `${namespace}/${name}`;
    this.endpointWatchers.set(key, [...(this.endpointWatchers.get(key) ?? []), listener]);
  }

  /** Watch every Endpoints change (the failover operator). */
  onAnyEndpointsChanged(listener: (namespace: string, name: string) => void): void {
    this.anyEndpointWatchers.push(listener);
  }

  /** The Endpoints controller saw a change behind `namespace/name`; tell watchers and subscribed proxies. */
  endpointsChanged(namespace: string, name: string): void {
    const key = `${namespace}/${name}`;
    this.ctx.emit("endpoints.updated", { cluster: this.name, service: key, ready: this.readyEndpoints(namespace, name).length });
    if (this.alive) {
      for (const w of this.endpointWatchers.get(key) ?? []) w();
      for (const w of this.anyEndpointWatchers) w(namespace, name);
    }
    if (!this.controlPlaneUp) {
      this.changedWhileDown.add(key);
      return;
    }
    const snapshot = this.readyEndpoints(namespace, name);
    for (const [balancer, delivery] of this.endpointSubs.get(key) ?? []) {
      this.deliver(delivery, () => balancer.setEndpoints(snapshot));
    }
  }

  setControlPlane(up: boolean): void {
    this.controlPlaneUp = up;
    this.ctx.emit(up ? "control-plane.restored" : "control-plane.down", { cluster: this.name });
    if (!up) return;
    for (const key of [...this.changedWhileDown].sort()) {
      const [namespace, name] = key.split("/") as [string, string];
      this.endpointsChanged(namespace, name);
    }
    this.changedWhileDown.clear();
    if (this.configChangedWhileDown) {
      this.configChangedWhileDown = false;
      this.configChanged();
    }
  }

  /** The failover operator's JSON merge patch of `spec.backends`; the SMI adaptor and the destination controller follow. */
  patchTrafficSplit(namespace: string, name: string, backends: ReadonlyArray<{ service: string; weight: number }>): void {
    const list = this.byKind.get("TrafficSplit") ?? [];
    const i = list.findIndex((o) => o.metadata.name === name && (o.metadata.namespace ?? "default") === namespace);
    const old = list[i];
    if (old === undefined) return;
    const spec = { ...((old.raw["spec"] ?? {}) as Record<string, unknown>), backends: backends.map((b) => ({ service: b.service, weight: b.weight })) };
    list[i] = { ...old, raw: { ...old.raw, spec } };
    this.configChanged();
  }

  /** Config objects changed (e.g. a TrafficSplit patch): recompute and push to subscribed proxies. */
  configChanged(): void {
    this.destinationCache = new Map();
    if (!this.controlPlaneUp) {
      this.configChangedWhileDown = true;
      return;
    }
    for (const [key, subs] of this.destinationSubs) {
      const { service, clientNamespace } = keyToRef(key);
      const dest = this.destination(service, clientNamespace);
      for (const [proxy, delivery] of subs) this.deliver(delivery, () => proxy.updateDestination(dest));
    }
  }

  /** Deliveries to one subscriber stay in order: each lands no earlier than the previous one. */
  private deliver(delivery: Delivery, apply: () => void): void {
    const atUs = Math.max(this.ctx.sim.nowUs + sampleUs(this.propagation, this.rng), delivery.lastDeliveryUs);
    delivery.lastDeliveryUs = atUs;
    this.ctx.sim.scheduleAt(atUs, apply, undefined, Priority.Control);
  }
}

function selects(selector: Record<string, string>, labels: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(selector)) if (labels[k] !== v) return false;
  return true;
}

/** `clientNamespace|namespace/name:port`: destinations differ per client namespace (profile lookup). */
function destinationKey(service: ServiceRef, clientNamespace: string): string {
  return `${clientNamespace}|${serviceKey(service)}`;
}

function keyToRef(key: string): { service: ServiceRef; clientNamespace: string } {
  const m = /^([^|]*)\|([^/]+)\/([^:]+):(\d+)$/.exec(key) as RegExpExecArray;
  return { clientNamespace: m[1] as string, service: { namespace: m[2] as string, name: m[3] as string, port: Number(m[4]) } };
}
