// The workload controllers as configuration changes drive them (kube-controller-manager's
// Deployment, StatefulSet and DaemonSet controllers): a workload created, scaled, deleted, or given
// a new pod template — a new revision, rolled out as the controller rolls it out.
//
// A Deployment's RollingUpdate keeps at most `replicas + maxSurge` pods and at least `replicas −
// maxUnavailable` available ones (defaults 25 % each; surge rounds up, unavailability down, and
// when both come to 0 one pod may be unavailable), as `pkg/controller/deployment/rolling.go` does:
// new pods start (POD_START_US, then their readiness probe), old pods are deleted — unready ones
// first, then the newest — as availability allows. `Recreate` deletes every old pod and starts the
// new ones when they are gone. StatefulSets and DaemonSets roll one pod at a time (maxUnavailable
// 1, no surge, unless their `updateStrategy` says otherwise); `OnDelete` gives only later pods the
// new template. Deleted pods terminate gracefully (workloads.ts). Each write reaches the controller
// through its watch (`watchDelay`).

import type { K8sObject } from "../k8s/object.js";
import { isWorkload } from "../k8s/views.js";
import { Priority } from "../sim/priority.js";
import type { Rng } from "../sim/rng.js";
import type { Simulation } from "../sim/simulation.js";
import type { TraceFields } from "../sim/trace.js";
import type { Cluster, Deployment } from "./cluster.js";
import { POD_START_US } from "./defaults.js";
import { imagesOf, type ObjectWrite, sameJson, templateOf } from "./object-edits.js";
import type { Pod } from "./pod.js";
import type { BehaviorSpec } from "./spec.js";
import { type RolloutStrategy, rolloutStrategy, terminationGraceUs } from "./rollout-strategy.js";
import { behaviorFor, type RolloutOwner, type Workloads } from "./workloads.js";

export interface ControllerHost {
  readonly sim: Simulation;
  emit(kind: string, fields: TraceFields): void;
  rng(label: string): Rng;
  readonly workloads: Workloads;
  readonly behaviors: readonly BehaviorSpec[];
  /** Worker nodes of a cluster: a DaemonSet's replica count. */
  nodes(cluster: string): number;
}

interface Rollout {
  strategy: RolloutStrategy;
  /** Pods scheduled to start and not started yet. */
  pending: number;
  graceUs: number;
  /** Called with the instant the last old pod was replaced. */
  done: Array<(atUs: number) => void>;
}

export class DeploymentController implements RolloutOwner {
  private readonly rollouts = new Map<Deployment, Rollout>();
  private readonly queued = new Set<Deployment>();
  private readonly lastDeliveryUs = new Map<Cluster, number>();
  /** `deployment-controller/<cluster>`: its watch deliveries. */
  private readonly watchRngs = new Map<Cluster, Rng>();

  constructor(private readonly host: ControllerHost) {
    host.workloads.rollouts = this;
  }

  /**
   * The API server accepted a write of a workload: the controller's watch delivers it, in order.
   * `onRolledOut` hears when a rollout it starts is complete.
   */
  written(cluster: Cluster, write: ObjectWrite, onRolledOut?: (atUs: number) => void): void {
    let rng = this.watchRngs.get(cluster);
    if (rng === undefined) {
      rng = this.host.rng(`deployment-controller/${cluster.name}`);
      this.watchRngs.set(cluster, rng);
    }
    const atUs = Math.max(this.host.sim.nowUs + cluster.watchDelayUs(rng), this.lastDeliveryUs.get(cluster) ?? 0);
    this.lastDeliveryUs.set(cluster, atUs);
    this.host.sim.scheduleAt(atUs, () => {
      if (cluster.alive) this.act(cluster, write, onRolledOut);
    }, undefined, Priority.World);
  }

  rollingOut(d: Deployment): boolean {
    return this.rollouts.has(d);
  }

  podChanged(cluster: Cluster, pod: Pod): void {
    const d = cluster.deployments.get(`${pod.namespace}/${pod.template.deployment}`);
    if (d !== undefined && this.rollouts.has(d)) this.step(cluster, d);
  }

  /** Step the rollout of `d` once the current event is done (several pod changes at one instant make one step). */
  step(cluster: Cluster, d: Deployment): void {
    if (this.queued.has(d)) return;
    this.queued.add(d);
    this.host.sim.schedule(0, () => {
      this.queued.delete(d);
      this.advance(cluster, d);
    }, undefined, Priority.World);
  }

  private act(cluster: Cluster, write: ObjectWrite, onRolledOut?: (atUs: number) => void): void {
    const next = write.next;
    const key = `${(next ?? write.previous)?.metadata.namespace ?? "default"}/${(next ?? write.previous)?.metadata.name ?? ""}`;
    const d = cluster.deployments.get(key);
    if (next === undefined || !isWorkload(next)) {
      if (d !== undefined) this.remove(cluster, d, terminationGraceUs(write.previous));
      return;
    }
    if (d === undefined || write.previous === undefined || (d.desiredReplicas === 0 && d.pods.length === 0)) return this.create(cluster, next, d);
    const replicas = cluster.templateFor(next).view.replicas ?? this.host.nodes(cluster.name);
    if (!sameJson(templateOf(write.previous), templateOf(next))) this.newRevision(cluster, d, next, onRolledOut);
    else d.view = cluster.templateFor(next).view;
    if (replicas !== d.desiredReplicas) {
      d.desiredReplicas = replicas;
      this.host.emit("workload.scaled", { workload: key, replicas, reason: "changed" });
      this.host.workloads.reconcile(cluster, d);
    }
  }

  /** A new workload (or one applied again after a delete, which keeps its pod names going): its pods start after POD_START_US. */
  private create(cluster: Cluster, o: K8sObject, previous: Deployment | undefined): void {
    const { view, template } = cluster.templateFor(o);
    const fields = {
      view,
      template,
      behavior: behaviorFor(this.host.behaviors, cluster.name, view.namespace, view.name, imagesOf(o)),
      desiredReplicas: view.replicas ?? this.host.nodes(cluster.name),
    };
    const d: Deployment = previous === undefined ? { ...fields, pods: [], nextOrdinal: 0, degradation: {}, probeForcedFail: false } : Object.assign(previous, fields);
    this.rollouts.delete(d);
    cluster.deployments.set(`${view.namespace}/${view.name}`, d);
    this.host.emit("workload.created", { workload: `${view.namespace}/${view.name}`, replicas: d.desiredReplicas, reason: "applied" });
    // A bare Pod has no controller to reconcile it: the kubelet starts it.
    if (view.kind === "Pod") this.host.sim.schedule(POD_START_US, () => cluster.alive && this.host.workloads.createPod(cluster, d, false), undefined, Priority.World);
    else this.host.workloads.reconcile(cluster, d);
  }

  /** Deleted: its pods terminate (garbage collection), nothing replaces them. */
  private remove(cluster: Cluster, d: Deployment, graceUs: number): void {
    this.rollouts.delete(d);
    d.desiredReplicas = 0;
    this.host.emit("workload.deleted", { workload: `${d.template.namespace}/${d.template.deployment}`, reason: "deleted" });
    for (const pod of [...d.pods]) this.host.workloads.terminate(cluster, d, pod, graceUs, "deleted");
  }

  /** A new pod template: later pods get it, and unless the strategy is `OnDelete` the old pods are replaced. */
  private newRevision(cluster: Cluster, d: Deployment, o: K8sObject, onRolledOut?: (atUs: number) => void): void {
    const { view, template } = cluster.templateFor(o);
    d.view = view;
    d.template = template;
    d.behavior = behaviorFor(this.host.behaviors, cluster.name, view.namespace, view.name, imagesOf(o));
    const replicas = view.replicas ?? this.host.nodes(cluster.name);
    const strategy = rolloutStrategy(o, replicas);
    this.host.emit("rollout.started", { workload: `${view.namespace}/${view.name}`, images: imagesOf(o).join(","), reason: kebab(strategy.kind) });
    if (strategy.kind === "OnDelete") return;
    const waiting = this.rollouts.get(d)?.done ?? [];
    this.rollouts.set(d, { strategy, pending: 0, graceUs: terminationGraceUs(o), done: onRolledOut === undefined ? waiting : [...waiting, onRolledOut] });
    this.step(cluster, d);
  }

  /** One pass of the rolling update: start new pods as surge allows, delete old ones as availability allows. */
  private advance(cluster: Cluster, d: Deployment): void {
    const r = this.rollouts.get(d);
    if (r === undefined || !cluster.alive) return;
    const wl = this.host.workloads;
    const live = d.pods.filter((p) => p.alive && !wl.isTerminating(p));
    const fresh = live.filter((p) => p.template === d.template);
    const old = live.filter((p) => p.template !== d.template);
    const replicas = d.desiredReplicas;
    const { maxSurge, maxUnavailable } = r.strategy;
    if (r.strategy.kind === "Recreate") {
      for (const pod of old) wl.terminate(cluster, d, pod, r.graceUs, "rollout");
      if (d.pods.some((p) => p.alive && p.template !== d.template)) return;
    }
    const total = fresh.length + r.pending + old.length;
    const up = Math.min(replicas - fresh.length - r.pending, replicas + maxSurge - total);
    for (let i = 0; i < up; i++) this.startPod(cluster, d, r);
    const minAvailable = replicas - maxUnavailable;
    const freshUnready = fresh.filter((p) => !p.ready).length + r.pending + Math.max(up, 0);
    // Unready old pods first (they serve nothing), then the newest, as a ReplicaSet scales down.
    const victims = [...old].sort((a, b) => Number(a.ready) - Number(b.ready) || b.startedUs - a.startedUs);
    let cleanup = Math.max(0, total + Math.max(up, 0) - minAvailable - freshUnready);
    let available = live.filter((p) => p.ready).length - minAvailable;
    for (const pod of victims) {
      if (pod.ready ? available <= 0 : cleanup <= 0) continue;
      if (pod.ready) available -= 1;
      cleanup -= 1;
      wl.terminate(cluster, d, pod, r.graceUs, "rollout");
    }
    this.finishIfDone(d, r, fresh, old.length);
  }

  private startPod(cluster: Cluster, d: Deployment, r: Rollout): void {
    r.pending += 1;
    this.host.sim.schedule(POD_START_US, () => {
      r.pending -= 1;
      if (!cluster.alive || this.rollouts.get(d) !== r) return;
      this.host.workloads.createPod(cluster, d, false);
      this.step(cluster, d);
    }, undefined, Priority.World);
  }

  private finishIfDone(d: Deployment, r: Rollout, fresh: readonly Pod[], oldLeft: number): void {
    if (oldLeft > 0 || r.pending > 0 || fresh.length < d.desiredReplicas || fresh.some((p) => !p.ready)) return;
    this.rollouts.delete(d);
    this.host.emit("rollout.completed", { workload: `${d.template.namespace}/${d.template.deployment}`, replicas: fresh.length, reason: kebab(r.strategy.kind) });
    for (const then of r.done) then(this.host.sim.nowUs);
  }
}

/** `RollingUpdate` ⇒ `rolling-update`: trace reasons are kebab-case, as `reached:` marks spell them. */
export function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c, i: number) => `${i === 0 ? "" : "-"}${c.toLowerCase()}`);
}
