// One Kubernetes cluster: its objects, namespaces, Services, Deployments and their pods, the
// Endpoints controller (ready pods behind each Service, written after its sync delay), the SMI
// adaptor, and the cluster's Linkerd control plane, which hands destination configs and endpoint
// sets to proxies after a propagation delay — and, while it is down, hands them nothing (proxies
// keep what they last got).

import type { K8sObject } from "../k8s/object.js";
import { type ObjectWrite, isObject } from "./object-edits.js";
import { parseTrafficSplit } from "../policy/traffic-split.js";
import { lastDefinitions, objectIdentity } from "../k8s/apply.js";
import { deploymentView, meshedDecision, namespaceView, serviceView, isWorkload, WORKLOAD_KINDS, type DeploymentView, type NamespaceView, type ServiceView } from "../k8s/views.js";
import { type Distribution, makeDistribution, sampleUs } from "../sim/distributions.js";
import { Priority } from "../sim/priority.js";
import type { Rng } from "../sim/rng.js";
import type { MeshContext } from "./context.js";
import { type ClusterObjects, type Destination, resolveDestination, type ServiceRef, serviceKey } from "./destination.js";
import { destinationSignature } from "./destination-signature.js";
import { EndpointsController, type EndpointsHost } from "./endpoints-controller.js";
import type { Pod, WorkloadTemplate } from "./pod.js";
import { SmiAdaptor, type SmiAdaptorHost } from "./smi-adaptor.js";
import { LazyStreams } from "./streams.js";
import type { BehaviorSpec, ClusterSpec, ControlPlaneDelays } from "./spec.js";

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

/** One subscription's pushes: in order, each drawn from the subscriber pod's stream. */
interface Delivery {
  lastDeliveryUs: number;
  readonly rng: Rng;
}

/** A balancer in some proxy, as the destination controller feeds it: the endpoint set it last sent. */
export interface EndpointSubscriber {
  setEndpoints(pods: readonly Pod[]): void;
}

/** A proxy, as the destination controller pushes config to it. */
export interface DestinationSubscriber {
  readonly pod: Pod;
  updateDestination(dest: Destination): void;
}

/** The service mirror that owns a mirror Service here (multicluster.ts), as the cluster asks it. */
export interface MirrorSource {
  /** What the mirror's Endpoints object holds: the gateway (gateway mode), or none. */
  endpointsAddresses(namespace: string, name: string): readonly Pod[];
  /** What the destination controller serves for the mirror. */
  discoveredEndpoints(namespace: string, name: string): readonly Pod[];
  /** The authority a client sends through the gateway (the remote FQDN), for a gateway-mode mirror. */
  authorityFor(namespace: string, name: string): string | undefined;
}

export class Cluster implements ClusterObjects, EndpointsHost, SmiAdaptorHost {
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
  /**
   * The destination and policy controllers' informer caches, for each kind a change has written:
   * what they read until their watch delivers the write (other kinds: as the API server holds them).
   */
  private readonly watched = new Map<string, K8sObject[]>();
  /** `control-plane/<cluster>/watch`: the controllers' watch deliveries of changes, in order. */
  private watchRng: Rng | undefined;
  private lastWatchUs = 0;
  /** The last config push: when, and when the last proxy whose config changed gets it (undefined: none changed). */
  private lastPush: { atUs: number; lastProxyUs: number | undefined } | undefined;
  private readonly endpointSubs = new Map<string, Map<EndpointSubscriber, Delivery>>();
  private readonly destinationSubs = new Map<string, Map<DestinationSubscriber, Delivery>>();
  private readonly changedWhileDown = new Set<string>();
  private configChangedWhileDown = false;
  private readonly propagation: Distribution;
  private readonly watch: Distribution;
  /** `control-plane/<cluster>/deliver/<ns>/<pod>`: the destination controller's pushes to one proxy. */
  private readonly deliveryStreams: LazyStreams<Pod>;
  private readonly endpointsController: EndpointsController;
  private readonly smi: SmiAdaptor;
  /** Waiting for the control plane to come back before their config push can be timed. */
  private readonly pushesWhileDown: Array<() => void> = [];
  private destinationCache = new Map<string, Destination>();
  /** Per subscribed destination key, the signature of the config its subscribers hold. */
  private readonly served = new Map<string, string>();
  /** Mirror Services (and each link's `probe-gateway-<cluster>`) by `ns/name`, and the service mirror that owns each. */
  private readonly mirrors = new Map<string, MirrorSource>();
  /** API watchers of Endpoints (service mirrors of other clusters, the failover operator). */
  private readonly endpointWatchers = new Map<string, Array<() => void>>();
  private readonly anyEndpointWatchers: Array<(namespace: string, name: string) => void> = [];

  constructor(spec: ClusterSpec, delays: ControlPlaneDelays, private readonly ctx: MeshContext) {
    this.name = spec.name;
    this.domain = spec.domain;
    this.trustAnchor = spec.trustAnchor;
    this.propagation = makeDistribution(delays.propagationDelay);
    this.watch = makeDistribution(delays.watchDelay);
    this.deliveryStreams = new LazyStreams(ctx, (pod) => `control-plane/${spec.name}/deliver/${pod.namespace}/${pod.name}`);
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
    this.endpointsController = new EndpointsController(this, ctx, delays.endpointsDelay);
    this.smi = new SmiAdaptor(this, ctx, delays.smiAdaptorDelay, this.apiObjects("TrafficSplit"));
  }

  /**
   * Objects as the destination and policy controllers read them: every kind as applied, except
   * TrafficSplits, which they see only through the ServiceProfiles the SMI adaptor last wrote.
   */
  ofKind(kind: string): readonly K8sObject[] {
    if (kind === "TrafficSplit") return this.smi.view(this.apiObjects(kind));
    return this.watched.get(kind) ?? this.byKind.get(kind) ?? [];
  }

  /** Objects as the API server holds them now (what `kubectl get` and linkerd-failover see). */
  apiObjects(kind: string): readonly K8sObject[] {
    return this.byKind.get(kind) ?? [];
  }

  /** Delay before a watch (informer) of this cluster's API delivers a change, drawn from `rng`. */
  watchDelayUs(rng: Rng): number {
    return sampleUs(this.watch, rng);
  }

  serviceExists(namespace: string, name: string): boolean {
    return this.services.has(`${namespace}/${name}`);
  }

  serviceAnnotations(namespace: string, name: string): Record<string, string> | undefined {
    return this.services.get(`${namespace}/${name}`)?.annotations;
  }

  /** Workload views (Deployments, StatefulSets, DaemonSets, Pods) with their pod templates; the world adds behaviour and pods. */
  deploymentTemplates(): Array<{ view: DeploymentView; template: WorkloadTemplate; object: K8sObject }> {
    return [...WORKLOAD_KINDS].flatMap((kind) => this.ofKind(kind)).filter(isWorkload).map((o) => this.templateFor(o));
  }

  /** A workload's view and the template its pods get now (the proxy injector reads the namespace as each pod is admitted). */
  templateFor(o: K8sObject): { view: DeploymentView; template: WorkloadTemplate; object: K8sObject } {
    const view = deploymentView(o).value;
    const meshed = meshedDecision(view, this.namespaces.get(view.namespace)).meshed;
    const probe = view.readinessProbe;
    return {
      view,
      object: o,
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
  }

  /**
   * What the Endpoints object of a Service holds as ready addresses now, as the Endpoints
   * controller (or, for a mirror, the service mirror) last wrote it: what kube-proxy and
   * linkerd-failover read. A remote-discovery mirror has no Endpoints object: none.
   */
  readyEndpoints(namespace: string, name: string): readonly Pod[] {
    const mirror = this.mirrors.get(`${namespace}/${name}`);
    if (mirror !== undefined) return mirror.endpointsAddresses(namespace, name);
    return this.endpointsController.addresses(namespace, name);
  }

  /** Whether the Service's Endpoints object exists and has a ready address (linkerd-failover's `endpoints_ready`). */
  endpointsReady(namespace: string, name: string): boolean {
    return this.readyEndpoints(namespace, name).length > 0;
  }

  /**
   * The endpoints the destination controller serves for a Service: its Endpoints, or for a
   * remote-discovery mirror the remote pods it watches through the Link.
   */
  discoveredEndpoints(namespace: string, name: string): readonly Pod[] {
    const mirror = this.mirrors.get(`${namespace}/${name}`);
    if (mirror !== undefined) return mirror.discoveredEndpoints(namespace, name);
    return this.endpointsController.addresses(namespace, name);
  }

  /**
   * Pods a Service selects that are alive and ready at this instant: what a load balancer that
   * health-checks its targets finds (the Endpoints object follows after the controller's sync).
   */
  selectedReadyPods(namespace: string, name: string): Pod[] {
    const svc = this.services.get(`${namespace}/${name}`);
    if (svc?.selector === undefined || Object.keys(svc.selector).length === 0) return [];
    const out: Pod[] = [];
    for (const d of this.deployments.values()) {
      if (d.template.namespace !== namespace) continue;
      // Per pod: during a rollout the old revision's pods keep the labels they were made with.
      for (const p of d.pods) if (p.alive && p.ready && selects(svc.selector, p.template.labels)) out.push(p);
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

  subscribeDestination(proxy: DestinationSubscriber, service: ServiceRef): Destination {
    const key = destinationKey(service, proxy.pod.namespace);
    const subs = this.destinationSubs.get(key) ?? new Map<DestinationSubscriber, Delivery>();
    subs.set(proxy, { lastDeliveryUs: this.ctx.sim.nowUs, rng: this.deliveryStreams.get(proxy.pod) });
    this.destinationSubs.set(key, subs);
    const dest = this.destination(service, proxy.pod.namespace);
    if (!this.served.has(key)) this.served.set(key, destinationSignature(dest));
    return dest;
  }

  /** A dead proxy's balancers stop receiving endpoint updates. */
  unsubscribeEndpoints(balancer: EndpointSubscriber): void {
    for (const subs of this.endpointSubs.values()) subs.delete(balancer);
  }

  unsubscribeDestinations(proxy: DestinationSubscriber): void {
    for (const subs of this.destinationSubs.values()) subs.delete(proxy);
  }

  /** `balancer` in `pod`'s proxy follows the endpoints of `service`. */
  subscribeEndpoints(balancer: EndpointSubscriber, service: ServiceRef, pod: Pod): void {
    const key = `${service.namespace}/${service.name}`;
    const subs = this.endpointSubs.get(key) ?? new Map<EndpointSubscriber, Delivery>();
    subs.set(balancer, { lastDeliveryUs: this.ctx.sim.nowUs, rng: this.deliveryStreams.get(pod) });
    this.endpointSubs.set(key, subs);
    // Without a control plane a new proxy learns no endpoints (its requests wait, then fail fast)
    // until the control plane is back.
    if (!this.controlPlaneUp) this.changedWhileDown.add(key);
    balancer.setEndpoints(this.controlPlaneUp ? this.discoveredEndpoints(service.namespace, service.name) : []);
  }

  /** A mirror Service the service mirror created here, as a selector-less Service. */
  addMirror(remote: ServiceView, name: string, mirror: MirrorSource): void {
    const { selector: _remoteSelector, ...rest } = remote;
    const view: ServiceView = { ...rest, name, labels: { "mirror.linkerd.io/mirrored-service": "true" }, annotations: {} };
    this.services.set(`${remote.namespace}/${name}`, view);
    this.mirrors.set(`${remote.namespace}/${name}`, mirror);
  }

  /**
   * A link's `probe-gateway-<cluster>` Service in `linkerd-multicluster`, which the service mirror
   * keeps pointed at the remote gateway's probe port (never not-ready, as upstream writes it).
   */
  addProbeService(namespace: string, name: string, port: number, mirror: MirrorSource): void {
    const view: ServiceView = {
      name,
      namespace,
      labels: { "mirror.linkerd.io/mirrored-gateway": "true" },
      annotations: {},
      ports: [{ name: "mc-probe", port, targetPort: port, protocol: "TCP" }],
      type: "ClusterIP",
      headless: false,
    };
    this.services.set(`${namespace}/${name}`, view);
    this.mirrors.set(`${namespace}/${name}`, mirror);
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

  /**
   * The kubelet reported `pod`'s readiness changed, or the pod went away: the Endpoints controller
   * syncs every Service selecting it. `initial`: a pod the run starts with (written at once).
   */
  podChanged(pod: Pod, initial: boolean): void {
    for (const svc of this.servicesOf(pod)) this.endpointsController.enqueue(svc.namespace, svc.name, initial);
  }

  /** The Endpoints controller wrote the Endpoints of `namespace/name`. */
  endpointsWritten(namespace: string, name: string): void {
    this.publish(namespace, name, true);
  }

  /**
   * The service mirror changed what it serves for a mirror: a gateway-mode mirror's Endpoints
   * object, or the remote pods a remote-discovery mirror resolves to (no Endpoints object, so no
   * Endpoints watcher hears of it; only the destination controller's remote watch does).
   */
  mirrorEndpointsWritten(namespace: string, name: string, endpointsObject: boolean): void {
    this.publish(namespace, name, endpointsObject);
  }

  /** An endpoint set changed behind `namespace/name`: tell Endpoints watchers and subscribed proxies. */
  private publish(namespace: string, name: string, endpointsObject: boolean): void {
    const key = `${namespace}/${name}`;
    if (endpointsObject) {
      this.ctx.emit("endpoints.updated", { cluster: this.name, service: key, ready: this.readyEndpoints(namespace, name).length });
      if (this.alive) {
        for (const w of this.endpointWatchers.get(key) ?? []) w();
        for (const w of this.anyEndpointWatchers) w(namespace, name);
      }
    }
    if (!this.controlPlaneUp) {
      this.changedWhileDown.add(key);
      return;
    }
    const snapshot = this.discoveredEndpoints(namespace, name);
    for (const [balancer, delivery] of this.endpointSubs.get(key) ?? []) {
      this.deliver(delivery, () => balancer.setEndpoints(snapshot));
    }
  }

  setControlPlane(up: boolean): void {
    this.controlPlaneUp = up;
    this.ctx.emit(up ? "control-plane.restored" : "control-plane.down", { cluster: this.name });
    if (!up) return;
    // The destination controller's watches resync: proxies get every endpoint set that changed
    // while it was down (proxies ask for them again as they reconnect).
    for (const key of [...this.changedWhileDown].sort()) {
      const [namespace, name] = key.split("/") as [string, string];
      this.publish(namespace, name, false);
    }
    this.changedWhileDown.clear();
    if (this.configChangedWhileDown) {
      this.configChangedWhileDown = false;
      this.configChanged();
    }
    for (const timed of this.pushesWhileDown.splice(0)) timed();
  }

  /**
   * The failover operator's JSON merge patch of `spec.backends`, accepted by the API server now.
   * The SMI adaptor then writes it into the ServiceProfile and the destination controller pushes
   * that to proxies; `onPropagated` hears when the profile was written and when the last proxy
   * holding the split's Service has it.
   */
  /**
   * Online invariant: a patched TrafficSplit still parses, names the same backends in the same
   * order, and weighs each with a non-negative integer (linkerd-failover writes only 0 and 1).
   */
  private checkPatchedSplit(patched: K8sObject, before: K8sObject): void {
    const after = parseTrafficSplit(patched.raw).value;
    const prior = parseTrafficSplit(before.raw).value;
    const name = `TrafficSplit ${patched.metadata.namespace ?? ""}/${patched.metadata.name}`;
    const problem = after.rejected
      ? "no longer parses"
      : after.backends.map((b) => b.service).join(",") !== prior.backends.map((b) => b.service).join(",")
        ? "changed its backends"
        : after.backends.some((b) => !Number.isInteger(b.weightMilli / 1000) || b.weightMilli < 0)
          ? "has a weight that is not a non-negative integer"
          : undefined;
    if (problem !== undefined) this.ctx.violated?.(`${name} ${problem} after a patch at ${this.ctx.sim.nowUs}us`);
  }

  patchTrafficSplit(
    namespace: string,
    name: string,
    backends: ReadonlyArray<{ service: string; weight: number }>,
    onPropagated?: (p: { profileWrittenUs: number; proxiesSwitchedUs: number }) => void,
  ): void {
    const list = this.byKind.get("TrafficSplit") ?? [];
    const i = list.findIndex((o) => o.metadata.name === name && (o.metadata.namespace ?? "default") === namespace);
    const old = list[i];
    if (old === undefined) return;
    const oldSpec = (old.raw["spec"] ?? {}) as Record<string, unknown>;
    const spec = { ...oldSpec, backends: backends.map((b) => ({ service: b.service, weight: b.weight })) };
    list[i] = { ...old, raw: { ...old.raw, spec } };
    this.checkPatchedSplit(list[i] as K8sObject, old);
    const apex = typeof oldSpec["service"] === "string" ? oldSpec["service"] : undefined;
    this.smi.changed(`${namespace}/${name}`, (profileWrittenUs) => {
      if (onPropagated === undefined || apex === undefined) return;
      this.whenProxiesHave(namespace, apex, (proxiesSwitchedUs) => onPropagated({ profileWrittenUs, proxiesSwitchedUs }));
    });
  }

  /** The TrafficSplit `namespace/name` as the API server holds it now (the SMI adaptor's GET). */
  apiTrafficSplit(key: string): K8sObject | undefined {
    return this.apiObjects("TrafficSplit").find((o) => `${o.metadata.namespace ?? "default"}/${o.metadata.name}` === key);
  }

  /** The SMI adaptor rewrote a ServiceProfile: the destination controller recomputes and pushes. */
  profilesChanged(): void {
    this.configChanged();
  }

  /**
   * Call `then` with the instant the last proxy holding `namespace/service` receives the config
   * just pushed (now, when none holds it). While the control plane is down nothing is pushed: the
   * count starts when it is back.
   */
  private whenProxiesHave(namespace: string, service: string, then: (atUs: number) => void): void {
    if (!this.controlPlaneUp) {
      this.pushesWhileDown.push(() => this.whenProxiesHave(namespace, service, then));
      return;
    }
    // Deliveries to one proxy land in order, so its last scheduled one carries this config.
    let lastUs = this.ctx.sim.nowUs;
    for (const [key, subs] of this.destinationSubs) {
      const { service: ref } = keyToRef(key);
      if (ref.namespace !== namespace || ref.name !== service) continue;
      for (const delivery of subs.values()) lastUs = Math.max(lastUs, delivery.lastDeliveryUs);
    }
    then(lastUs);
  }

  /**
   * Config objects changed (e.g. a ServiceProfile the SMI adaptor rewrote): recompute every
   * subscribed destination and push the ones whose config changed, and only to their own
   * subscribers. Each proxy stream (the destination controller's GetProfile, the policy
   * controller's OutboundPolicies) watches one Service, so a change elsewhere sends it nothing —
   * and the proxy's retry budget for it, which lives until its profile changes, is kept.
   */
  configChanged(): void {
    this.destinationCache = new Map();
    this.lastPush = { atUs: this.ctx.sim.nowUs, lastProxyUs: undefined };
    if (!this.controlPlaneUp) {
      this.configChangedWhileDown = true;
      return;
    }
    for (const [key, subs] of this.destinationSubs) {
      if (subs.size === 0) {
        // Nobody holds it: the next subscriber gets what is current then, which becomes the baseline.
        this.served.delete(key);
        continue;
      }
      const { service, clientNamespace } = keyToRef(key);
      const dest = this.destination(service, clientNamespace);
      const signature = destinationSignature(dest);
      if (this.served.get(key) === signature) continue;
      this.served.set(key, signature);
      for (const [proxy, delivery] of subs) {
        this.deliver(delivery, () => proxy.updateDestination(dest));
        this.lastPush.lastProxyUs = Math.max(this.lastPush.lastProxyUs ?? 0, delivery.lastDeliveryUs);
      }
    }
  }

  // ---- the API server during the run: configuration changes (changes.ts) ---------------------

  /** The object `ref` names as the API server holds it now. */
  apiObject(ref: { kind: string; name: string; namespace?: string }): K8sObject | undefined {
    return this.apiObjects(ref.kind).find((o) => isObject(o, ref));
  }

  /**
   * The API server accepts `write` now; each controller sees it as the real chain delivers it. A
   * TrafficSplit reaches the SMI adaptor's watch, which rewrites the ServiceProfile; a Service,
   * ServiceProfile or route reaches the destination and policy controllers' watch (in order, a
   * `watchDelay` each), and then proxies whose config changed through the push; the proxy injector
   * reads a Namespace as each later pod is admitted; workloads are the deployment controller's
   * (deployment-controller.ts). `onSeen` hears when the controllers acted, and when the last proxy
   * whose config changed gets it (undefined: none changed, or the control plane is down).
   */
  apiWrite(write: ObjectWrite, onSeen?: (seen: { atUs: number; lastProxyUs: number | undefined; controlPlaneDown: boolean }) => void): void {
    const obj = (write.next ?? write.previous) as K8sObject;
    const key = `${obj.metadata.namespace ?? "default"}/${obj.metadata.name}`;
    if (obj.kind !== "TrafficSplit" && !this.watched.has(obj.kind)) this.watched.set(obj.kind, [...this.apiObjects(obj.kind)]);
    storeWrite(this.byKind, obj.kind, write);
    if (WORKLOAD_KINDS.has(obj.kind)) return;
    if (obj.kind === "TrafficSplit") {
      this.smi.changed(key, (writtenUs) => onSeen?.({ atUs: writtenUs, lastProxyUs: this.lastPush?.atUs === writtenUs ? this.lastPush.lastProxyUs : undefined, controlPlaneDown: !this.controlPlaneUp }));
      return;
    }
    if (obj.kind === "Namespace") {
      if (write.next === undefined) this.namespaces.delete(obj.metadata.name);
      else this.namespaces.set(obj.metadata.name, namespaceView(write.next).value);
    }
    this.watchRng ??= this.ctx.rng(`control-plane/${this.name}/watch`);
    const atUs = Math.max(this.ctx.sim.nowUs + sampleUs(this.watch, this.watchRng), this.lastWatchUs);
    this.lastWatchUs = atUs;
    this.ctx.sim.scheduleAt(atUs, () => {
      storeWrite(this.watched, obj.kind, write);
      if (obj.kind === "Service" && write.next !== undefined) this.serviceWritten(write.next);
      this.configChanged();
      onSeen?.({ atUs: this.ctx.sim.nowUs, lastProxyUs: this.controlPlaneUp ? this.lastPush?.lastProxyUs : undefined, controlPlaneDown: !this.controlPlaneUp });
    }, undefined, Priority.Control);
  }

  /** A Service as the controllers now see it; the Endpoints controller resyncs it when its selector changed. */
  private serviceWritten(o: K8sObject): void {
    const v = serviceView(o).value;
    const key = `${v.namespace}/${v.name}`;
    const before = this.services.get(key);
    this.services.set(key, v);
    if (JSON.stringify(before?.selector) !== JSON.stringify(v.selector)) this.endpointsController.enqueue(v.namespace, v.name, false);
  }

  /** Deliveries to one subscriber stay in order: each lands no earlier than the previous one. */
  private deliver(delivery: Delivery, apply: () => void): void {
    const atUs = Math.max(this.ctx.sim.nowUs + sampleUs(this.propagation, delivery.rng), delivery.lastDeliveryUs);
    delivery.lastDeliveryUs = atUs;
    this.ctx.sim.scheduleAt(atUs, apply, undefined, Priority.Control);
  }
}

/** Apply a write to the list of its kind: a replacement keeps the object's place, a new one goes last. */
function storeWrite(store: Map<string, K8sObject[]>, kind: string, write: ObjectWrite): void {
  const id = objectIdentity((write.next ?? write.previous) as K8sObject);
  const list = store.get(kind) ?? [];
  store.set(kind, list);
  const i = list.findIndex((o) => objectIdentity(o) === id);
  if (write.next === undefined) {
    if (i >= 0) list.splice(i, 1);
  } else if (i >= 0) list[i] = write.next;
  else list.push(write.next);
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
