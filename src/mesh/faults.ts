// Faults: each is applied at `at` and, when it has `until`, healed then. They act on the world
// the way the real event would — pods die and are replaced, probes fail, the network drops or
// slows messages, a control plane stops answering — and never reach into proxy internals.
// Overlapping faults compose as the physical events would: each active fault is one effect in a
// stack per target, the target shows the combination of what is active, and a heal removes only
// its own effect.

import { Priority } from "../sim/priority.js";
import type { Degradation } from "./app.js";
import type { Cluster, Deployment } from "./cluster.js";
import type { FaultAction, FaultSpec } from "./spec.js";
import type { WorldInternals } from "./world-api.js";

type Target = { cluster: Cluster; deployment: Deployment };

/**
 * Independent degradations combine: an answer fails if any active fault fails it
 * (1 − Π(1 − rᵢ)), slowdowns and capacity cuts multiply.
 */
export function combineDegradations(active: Iterable<Degradation>): Degradation {
  let ok = 1;
  let latencyFactor = 1;
  let capacityFactor = 1;
  let seen = { errorRate: false, latencyFactor: false, capacityFactor: false };
  for (const d of active) {
    if (d.errorRate !== undefined) ok *= 1 - d.errorRate;
    if (d.latencyFactor !== undefined) latencyFactor *= d.latencyFactor;
    if (d.capacityFactor !== undefined) capacityFactor *= d.capacityFactor;
    seen = { errorRate: seen.errorRate || d.errorRate !== undefined, latencyFactor: seen.latencyFactor || d.latencyFactor !== undefined, capacityFactor: seen.capacityFactor || d.capacityFactor !== undefined };
  }
  return { ...(seen.errorRate ? { errorRate: 1 - ok } : {}), ...(seen.latencyFactor ? { latencyFactor } : {}), ...(seen.capacityFactor ? { capacityFactor } : {}) };
}

/** The world's fault injector: schedules every fault and keeps the stacks of active effects. */
export class FaultInjector {
  private nextId = 0;
  /** Active degradations per deployment, by fault id, in the order applied. */
  private readonly degradations = new Map<Deployment, Map<number, Degradation>>();
  /** Active readiness failures per deployment. */
  private readonly probeFailures = new Map<Deployment, number>();
  /** Active scale faults per deployment, in the order applied, and the replica count before the first. */
  private readonly scales = new Map<Deployment, { base: number; active: Map<number, number> }>();
  /** Active control-plane outages per cluster. */
  private readonly outages = new Map<Cluster, number>();

  constructor(private readonly world: WorldInternals) {}

  apply(fault: FaultSpec): void {
    const { world } = this;
    const heal = fault.untilUs;
    const label = describeFault(fault.action);
    const id = this.nextId++;
    world.sim.scheduleAt(fault.atUs, () => {
      world.emit("fault.applied", { fault: label, reason: fault.action.kind });
      const undo = this.start(id, fault.action);
      if (heal !== undefined && undo !== undefined) {
        world.sim.scheduleAt(heal, () => {
          world.emit("fault.healed", { fault: label, reason: fault.action.kind });
          undo();
        }, undefined, Priority.World);
      }
    }, undefined, Priority.World);
  }

  /** Start a fault; returns how to heal it (undefined for faults that cannot be undone). */
  private start(id: number, action: FaultAction): (() => void) | undefined {
    const { world } = this;
    switch (action.kind) {
      case "killPods": {
        let left = action.count;
        for (const { cluster, deployment } of world.deploymentsMatching(action.select)) {
          for (const pod of [...deployment.pods]) {
            if (left <= 0) break;
            world.workloads.killPod(cluster, deployment, pod, "fault");
            left -= 1;
          }
          world.workloads.reconcile(cluster, deployment);
        }
        return undefined;
      }
      case "scale":
        return this.scale(id, world.deploymentsMatching(action.select), action.replicas);
      case "degrade": {
        const change: Degradation = {
          ...(action.errorRate === undefined ? {} : { errorRate: action.errorRate }),
          ...(action.latencyFactor === undefined ? {} : { latencyFactor: action.latencyFactor }),
          ...(action.capacityFactor === undefined ? {} : { capacityFactor: action.capacityFactor }),
        };
        return this.degrade(id, world.deploymentsMatching(action.select), change);
      }
      case "readinessFail":
        return this.failProbes(world.deploymentsMatching(action.select));
      case "latency":
        world.network.addLatency(action.between[0], action.between[1], action.addUs);
        return () => world.network.addLatency(action.between[0], action.between[1], -action.addUs);
      case "partition":
        // Partitions nest in the network itself: each needs its own heal.
        world.network.partition(action.between[0], action.between[1], true);
        return () => world.network.partition(action.between[0], action.between[1], false);
      case "controlPlaneDown": {
        const cluster = world.clusters.get(action.cluster);
        return cluster === undefined ? undefined : this.controlPlaneDown(cluster);
      }
      case "restartPods": {
        for (const { cluster, deployment } of world.deploymentsMatching(action.select)) world.workloads.restart(cluster, deployment);
        return undefined;
      }
      case "issuerExpire":
        world.identity.expireIssuer(action.cluster);
        return undefined;
      case "issuerRotate": {
        const r = world.identity.rotateIssuer(action.cluster, action.anchor);
        world.emit("identity.issuer-rotation", { cluster: action.cluster, event: r.event, reason: r.reason });
        return undefined;
      }
      case "anchorBundle":
        world.identity.bundleAnchor(action.cluster, action.anchor);
        return undefined;
      case "anchorIssuer":
        world.identity.issuerFromAnchor(action.cluster, action.anchor);
        return undefined;
      case "anchorDrop":
        world.identity.dropAnchor(action.cluster, action.anchor);
        return undefined;
      case "anchorReplace":
        world.identity.replaceAnchor(action.cluster, action.anchor);
        return undefined;
      case "clusterLoss": {
        const cluster = world.clusters.get(action.cluster);
        if (cluster !== undefined) this.loseCluster(cluster);
        return undefined;
      }
    }
  }

  /** The latest active scale decides the replica count; when none is left, the count before the first. */
  private scale(id: number, targets: readonly Target[], replicas: number): () => void {
    const settle = (t: Target): void => {
      const stack = this.scales.get(t.deployment);
      if (stack === undefined) return;
      const latest = [...stack.active.values()].at(-1);
      t.deployment.desiredReplicas = latest ?? stack.base;
      if (latest === undefined) this.scales.delete(t.deployment);
      this.world.workloads.reconcile(t.cluster, t.deployment);
    };
    for (const t of targets) {
      const stack = this.scales.get(t.deployment) ?? { base: t.deployment.desiredReplicas, active: new Map<number, number>() };
      stack.active.set(id, replicas);
      this.scales.set(t.deployment, stack);
      settle(t);
    }
    return () => {
      for (const t of targets) {
        this.scales.get(t.deployment)?.active.delete(id);
        settle(t);
      }
    };
  }

  private degrade(id: number, targets: readonly Target[], change: Degradation): () => void {
    const settle = (d: Deployment): void => {
      const active = this.degradations.get(d);
      d.degradation = combineDegradations(active?.values() ?? []);
      if (active !== undefined && active.size === 0) this.degradations.delete(d);
      this.world.workloads.applyDegradation(d);
    };
    for (const t of targets) {
      const active = this.degradations.get(t.deployment) ?? new Map<number, Degradation>();
      active.set(id, change);
      this.degradations.set(t.deployment, active);
      settle(t.deployment);
    }
    return () => {
      for (const t of targets) {
        this.degradations.get(t.deployment)?.delete(id);
        settle(t.deployment);
      }
    };
  }

  /** Probes fail while any readiness fault on the deployment is active. */
  private failProbes(targets: readonly Target[]): () => void {
    for (const t of targets) {
      const n = (this.probeFailures.get(t.deployment) ?? 0) + 1;
      this.probeFailures.set(t.deployment, n);
      if (n === 1) this.world.workloads.forceProbeFailure(t.cluster, t.deployment, true);
    }
    return () => {
      for (const t of targets) {
        const n = (this.probeFailures.get(t.deployment) ?? 1) - 1;
        this.probeFailures.set(t.deployment, n);
        if (n === 0) this.world.workloads.forceProbeFailure(t.cluster, t.deployment, false);
      }
    };
  }

  /** The control plane answers again only when every outage has healed, and never for a lost cluster. */
  private controlPlaneDown(cluster: Cluster): () => void {
    const n = (this.outages.get(cluster) ?? 0) + 1;
    this.outages.set(cluster, n);
    if (n === 1) cluster.setControlPlane(false);
    return () => {
      const left = (this.outages.get(cluster) ?? 1) - 1;
      this.outages.set(cluster, left);
      if (left === 0 && cluster.alive) cluster.setControlPlane(true);
    };
  }

  private loseCluster(cluster: Cluster): void {
    const { world } = this;
    cluster.setControlPlane(false);
    cluster.alive = false;
    for (const d of cluster.deployments.values()) {
      d.desiredReplicas = 0;
      this.scales.delete(d);
      for (const pod of [...d.pods]) world.workloads.killPod(cluster, d, pod, "cluster-lost");
    }
    const gateway = cluster.gatewayPod;
    if (gateway !== undefined && gateway.alive) {
      gateway.alive = false;
      // Its connections break first, as any pod's do when it dies.
      world.podDied(gateway, { status: 502, error: "reset", from: "cluster-lost" });
      gateway.app.abandonAll({ status: 502, error: "reset", from: "cluster-lost" });
      gateway.client.abandon();
      world.emit("pod.killed", { pod: gateway.label, reason: "cluster-lost" });
    }
  }
}

function describeFault(a: FaultAction): string {
  switch (a.kind) {
    case "latency":
    case "partition":
      return `${a.kind} ${a.between.join("<->")}`;
    case "controlPlaneDown":
    case "clusterLoss":
    case "issuerExpire":
    case "issuerRotate":
      return `${a.kind} ${a.cluster}`;
    case "anchorBundle":
    case "anchorIssuer":
    case "anchorDrop":
    case "anchorReplace":
      return `${a.kind} ${a.cluster} ${a.anchor}`;
    default:
      return `${a.kind} ${[a.select.cluster, a.select.namespace, a.select.deployment].filter((x) => x !== undefined).join("/")}`;
  }
}
