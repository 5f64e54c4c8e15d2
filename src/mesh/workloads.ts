// The kubelet and the workload controllers: each workload gets its pods and its behaviour, pods
// are created and replaced, readiness probes run against the container (and compete with traffic
// for it), and every readiness change reaches the Endpoints controller. A meshed pod starts with its inbound proxy in front of its container;
// a pod that dies takes its connections with it (data-plane.ts).

import { Priority } from "../sim/priority.js";
import type { Rng } from "../sim/rng.js";
import { App } from "./app.js";
import { appInboundTarget } from "./app-host.js";
import type { Cluster, Deployment } from "./cluster.js";
import { DEFAULT_BEHAVIOR, POD_START_US } from "./defaults.js";
import type { HttpRequest } from "./http.js";
import { GatewayForwarder } from "./multicluster.js";
import { Pod, type WorkloadTemplate } from "./pod.js";
import type { BehaviorSpec } from "./spec.js";
import { imagesOf } from "./object-edits.js";
import { podPath, type StreamSource } from "./streams.js";
import type { PodLifecycle, WorldInternals } from "./world-api.js";

const PROBE_ORIGIN = { id: 0, traffic: "kubelet" };

/** The workload controllers' side of a rollout in progress (deployment-controller.ts). */
export interface RolloutOwner {
  /** Whether a rollout of `d` is in progress: then it, not `reconcile`, decides the pods. */
  rollingOut(d: Deployment): boolean;
  /** Bring the rollout of `d` one step on. */
  step(cluster: Cluster, d: Deployment): void;
  /** A pod's readiness changed or it went away. */
  podChanged(cluster: Cluster, pod: Pod): void;
}

export class Workloads implements PodLifecycle {
  /** Pods a rollout restart has replaced and will remove once their replacements have started. */
  private readonly replaced = new Set<Pod>();
  /** Pods being deleted: out of their Services' Endpoints, serving what still reaches them until their grace period ends. */
  private readonly terminating = new Set<Pod>();
  /** Rollouts started by configuration changes; absent ⇒ none. */
  rollouts: RolloutOwner | undefined;

  constructor(private readonly world: WorldInternals) {}

  /** Every workload's pods: a DaemonSet runs one per node (`nodes` of them), a bare Pod is its own single pod. */
  createWorkloads(cluster: Cluster, nodes: number, behaviors: readonly BehaviorSpec[]): void {
    for (const { view, template, object } of cluster.deploymentTemplates()) {
      const replicas = view.replicas ?? nodes;
      const d: Deployment = {
        view,
        template,
        behavior: behaviorFor(behaviors, template.cluster, template.namespace, template.deployment, imagesOf(object)),
        desiredReplicas: replicas,
        pods: [],
        nextOrdinal: 0,
        degradation: {},
        probeForcedFail: false,
      };
      cluster.deployments.set(`${view.namespace}/${view.name}`, d);
      for (let i = 0; i < replicas; i++) this.createPod(cluster, d, true);
    }
  }

  /** Create a pod of `d`; at t = 0 pods start running and ready (the scenario begins in steady state). */
  createPod(cluster: Cluster, d: Deployment, initial: boolean): Pod {
    // A bare Pod is its own name; controllers' pods are numbered (`web-0`, `web-1`, … as a
    // StatefulSet names them; a Deployment's or DaemonSet's hash suffix is of no consequence here).
    const name = d.view.kind === "Pod" ? d.view.name : `${d.template.deployment}-${d.nextOrdinal}`;
    d.nextOrdinal += 1;
    const pod = new Pod(d.template, name, this.world.sim.nowUs, initial || d.template.readinessProbe === undefined);
    pod.probeForcedFail = d.probeForcedFail;
    const host = this.world.appHost(pod);
    const app = new App(d.behavior, host, appStreams(this.world, pod));
    pod.app = app;
    app.degrade(d.degradation);
    if (pod.meshed) this.world.startInbound(pod, appInboundTarget(app, host, d.behavior.queueLimit));
    pod.client = this.world.clientFor(pod);
    if (pod.meshed) this.world.identity.proxyStarted(pod);
    d.pods.push(pod);
    this.world.server(pod).setConcurrency(pod.app.slots, this.world.sim.nowUs);
    if (d.template.readinessProbe !== undefined) this.scheduleProbe(cluster, pod, initial ? d.template.readinessProbe.periodUs : d.template.readinessProbe.initialDelayUs);
    if (pod.ready) this.readinessChanged(cluster, pod, initial);
    this.world.emit("pod.started", { pod: pod.label, ready: pod.ready });
    return pod;
  }

  /** The cluster's multicluster gateway: `linkerd-gateway` in `linkerd-multicluster`, a meshed proxy. */
  createGateway(cluster: Cluster, concurrency: number): Pod {
    const template: WorkloadTemplate = {
      cluster: cluster.name,
      namespace: "linkerd-multicluster",
      deployment: "linkerd-gateway",
      labels: { app: "linkerd-gateway" },
      serviceAccount: "linkerd-gateway",
      meshed: true,
      readinessProbe: undefined,
    };
    const pod = new Pod(template, "linkerd-gateway-0", this.world.sim.nowUs, true);
    pod.client = this.world.clientFor(pod);
    this.world.identity.proxyStarted(pod);
    const server = this.world.server(pod);
    const forwarder = new GatewayForwarder(pod, concurrency, (delta) => server.busy(delta, this.world.sim.nowUs));
    pod.app = forwarder;
    // The gateway's inbound side hands every request straight on: its forwarder queues without bound.
    this.world.startInbound(pod, { admits: () => true, handle: (request, respond) => forwarder.handle(request, respond) });
    server.setConcurrency(concurrency, this.world.sim.nowUs);
    this.world.emit("pod.started", { pod: pod.label, ready: true });
    return pod;
  }

  /**
   * `kubectl rollout restart`: every pod gets a replacement at once (a new proxy that reads the
   * trust bundle afresh); each old pod goes away once its replacement has had time to start.
   */
  restart(cluster: Cluster, d: Deployment): void {
    // `kubectl rollout restart` does not apply to a bare Pod: it has no template to roll out.
    if (d.view.kind === "Pod") return;
    // A pod an earlier restart already replaced is on its way out: a second restart replaces the
    // current revision's pods only, as a new ReplicaSet supersedes the previous one.
    for (const old of d.pods.filter((p) => p.alive && !this.replaced.has(p) && !this.terminating.has(p))) {
      this.replaced.add(old);
      this.createPod(cluster, d, false);
      this.world.sim.schedule(POD_START_US, () => {
        this.replaced.delete(old);
        this.killPod(cluster, d, old, "rollout-restart");
      }, undefined, Priority.World);
    }
  }

  /**
   * Bring the number of pods to the desired replica count. A bare Pod has no controller: once it
   * is gone nothing brings it back.
   */
  reconcile(cluster: Cluster, d: Deployment): void {
    if (this.rollouts?.rollingOut(d) === true) return this.rollouts.step(cluster, d);
    if (d.view.kind === "Pod") d.desiredReplicas = Math.min(d.desiredReplicas, d.pods.filter((p) => p.alive).length);
    const alive = d.pods.filter((p) => p.alive && !this.terminating.has(p));
    if (alive.length > d.desiredReplicas) {
      for (const pod of alive.slice(d.desiredReplicas)) this.killPod(cluster, d, pod, "scaled-down");
    }
    for (let i = alive.length; i < d.desiredReplicas; i++) {
      this.world.sim.schedule(POD_START_US, () => {
        if (cluster.alive && d.pods.filter((p) => p.alive && !this.terminating.has(p)).length < d.desiredReplicas) this.createPod(cluster, d, false);
      }, undefined, Priority.World);
    }
  }

  /**
   * The pod goes away at once. Its connections break first — clients hear of it one trip later and
   * fail what they had in flight on them — then what its container and inbound proxy held ends
   * with a reset (which reaches only HTTP/1 clients), and its own outbound requests end.
   */
  killPod(cluster: Cluster, d: Deployment, pod: Pod, reason: string): void {
    if (!pod.alive) return;
    pod.alive = false;
    const reset = { status: 502, error: "reset", from: "pod-killed" } as const;
    this.world.podDied(pod, reset);
    pod.app.abandonAll(reset);
    pod.client.abandon();
    d.pods = d.pods.filter((p) => p !== pod);
    this.world.emit("pod.killed", { pod: pod.label, reason });
    this.terminating.delete(pod);
    if (pod.ready) this.readinessChanged(cluster, pod);
    else this.rollouts?.podChanged(cluster, pod);
  }

  /**
   * The pod is deleted gracefully: it leaves its Services' Endpoints (the Endpoints controller
   * drops a terminating pod) and stops sending traffic of its own, keeps serving what still reaches
   * it while proxies learn of that, and is gone when its grace period ends.
   */
  terminate(cluster: Cluster, d: Deployment, pod: Pod, graceUs: number, reason: string): void {
    if (!pod.alive || this.terminating.has(pod)) return;
    this.terminating.add(pod);
    this.world.emit("pod.terminating", { pod: pod.label, reason });
    if (pod.ready) {
      pod.ready = false;
      this.readinessChanged(cluster, pod);
    }
    this.world.sim.schedule(graceUs, () => this.killPod(cluster, d, pod, reason), undefined, Priority.World);
  }

  isTerminating(pod: Pod): boolean {
    return this.terminating.has(pod);
  }

  /** Apply a fault's change to every current pod of the deployment (new pods inherit it). */
  applyDegradation(d: Deployment): void {
    for (const pod of d.pods) {
      pod.app.degrade(d.degradation);
      this.world.server(pod).setConcurrency(pod.app.slots, this.world.sim.nowUs);
      this.world.appCapacityChanged(pod);
    }
  }

  /** readinessFail: probes fail from now on; a pod without a probe goes unready at once. */
  forceProbeFailure(cluster: Cluster, d: Deployment, on: boolean): void {
    d.probeForcedFail = on;
    for (const pod of d.pods) {
      pod.probeForcedFail = on;
      if (pod.template.readinessProbe === undefined && pod.ready === on && !this.terminating.has(pod)) {
        pod.ready = !on;
        this.readinessChanged(cluster, pod);
      }
    }
  }

  private scheduleProbe(cluster: Cluster, pod: Pod, delayUs: number): void {
    this.world.sim.schedule(delayUs, () => this.probe(cluster, pod), undefined, Priority.Default, pod);
  }

  private probe(cluster: Cluster, pod: Pod): void {
    const probe = pod.template.readinessProbe;
    if (probe === undefined || !pod.alive) return;
    this.scheduleProbe(cluster, pod, probe.periodUs);
    if (pod.probeForcedFail) return this.probeResult(cluster, pod, false);
    let answered = false;
    const timeout = this.world.sim.schedule(probe.timeoutUs, () => {
      if (answered) return;
      answered = true;
      this.probeResult(cluster, pod, false);
    }, undefined, Priority.Timeout, pod);
    const request: HttpRequest = { method: "GET", path: "/ready", authority: "kubelet", bodyBytes: 0, origin: PROBE_ORIGIN };
    pod.app.handle(request, (res) => {
      if (answered) return;
      answered = true;
      this.world.sim.cancel(timeout);
      this.probeResult(cluster, pod, res.status >= 200 && res.status < 400);
    }, true);
  }

  private probeResult(cluster: Cluster, pod: Pod, ok: boolean): void {
    const probe = pod.template.readinessProbe;
    if (probe === undefined || !pod.alive || this.terminating.has(pod)) return;
    if (ok) {
      pod.probeSuccesses += 1;
      pod.probeFailures = 0;
    } else {
      pod.probeFailures += 1;
      pod.probeSuccesses = 0;
    }
    const next = pod.ready ? pod.probeFailures < probe.failureThreshold : pod.probeSuccesses >= probe.successThreshold;
    if (next !== pod.ready) {
      pod.ready = next;
      this.world.emit("pod.readiness-changed", { pod: pod.label, ready: next, reason: ok ? "probe-succeeded" : "probe-failed" });
      this.readinessChanged(cluster, pod);
    }
  }

  /**
   * The kubelet reports the pod's readiness (or its end) to the API server; the Endpoints
   * controller follows after its sync delay. Pods the run starts with are in their Endpoints
   * already (steady state).
   */
  private readinessChanged(cluster: Cluster, pod: Pod, initial = false): void {
    cluster.podChanged(pod, initial);
    this.rollouts?.podChanged(cluster, pod);
  }
}

/** An app's streams, `app/<pod>/latency`, `app/<pod>/errors` and `app/<pod>/calls`, each made on its first draw. */
function appStreams(source: StreamSource, pod: Pod): { readonly latency: Rng; readonly errors: Rng; readonly calls: Rng } {
  let latency: Rng | undefined;
  let errors: Rng | undefined;
  let calls: Rng | undefined;
  return {
    get latency(): Rng {
      latency ??= source.rng(`app/${podPath(pod)}/latency`);
      return latency;
    },
    get errors(): Rng {
      errors ??= source.rng(`app/${podPath(pod)}/errors`);
      return errors;
    },
    get calls(): Rng {
      calls ??= source.rng(`app/${podPath(pod)}/calls`);
      return calls;
    },
  };
}

/**
 * The behaviour for a deployment's pods: the matching entry that names the most of cluster,
 * namespace, deployment and image (one of `images`, what the pod template runs); among equally
 * specific ones, the first listed. None ⇒ `DEFAULT_BEHAVIOR`.
 */
export function behaviorFor(entries: readonly BehaviorSpec[], cluster: string, namespace: string, deployment: string, images: readonly string[] = []): BehaviorSpec {
  let best: BehaviorSpec | undefined;
  let bestScore = -1;
  for (const b of entries) {
    const s = b.select;
    if ((s.cluster !== undefined && s.cluster !== cluster) || (s.namespace !== undefined && s.namespace !== namespace) || (s.deployment !== undefined && s.deployment !== deployment)) continue;
    if (s.image !== undefined && !images.includes(s.image)) continue;
    const score = (s.cluster === undefined ? 0 : 1) + (s.namespace === undefined ? 0 : 1) + (s.deployment === undefined ? 0 : 1) + (s.image === undefined ? 0 : 1);
    if (score > bestScore) {
      best = b;
      bestScore = score;
    }
  }
  return best ?? DEFAULT_BEHAVIOR;
}
