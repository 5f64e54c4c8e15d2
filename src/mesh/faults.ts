// Faults: each is applied at `at` and, when it has `until`, healed then. They act on the world
// the way the real event would — pods die and are replaced, probes fail, the network drops or
// slows messages, a control plane stops answering — and never reach into proxy internals.

import { Priority } from "../sim/priority.js";
import type { FaultAction, FaultSpec } from "./spec.js";
import type { WorldInternals } from "./world.js";

export function applyFault(world: WorldInternals, fault: FaultSpec): void {
  const heal = fault.untilUs;
  const label = describeFault(fault.action);
  world.sim.scheduleAt(fault.atUs, () => {
    world.emit("fault.applied", { fault: label, reason: fault.action.kind });
    const undo = start(world, fault.action);
    if (heal !== undefined && undo !== undefined) {
      world.sim.scheduleAt(heal, () => {
        world.emit("fault.healed", { fault: label, reason: fault.action.kind });
        undo();
      }, undefined, Priority.World);
    }
  }, undefined, Priority.World);
}

/** Start a fault; returns how to heal it (undefined for faults that cannot be undone). */
function start(world: WorldInternals, action: FaultAction): (() => void) | undefined {
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
    case "scale": {
      const targets = world.deploymentsMatching(action.select);
      const before = targets.map((t) => t.deployment.desiredReplicas);
      const set = (replicas: (i: number) => number): void =>
        targets.forEach((t, i) => {
          t.deployment.desiredReplicas = replicas(i);
          world.workloads.reconcile(t.cluster, t.deployment);
        });
      set(() => action.replicas);
      return () => set((i) => before[i] as number);
    }
    case "degrade": {
      const targets = world.deploymentsMatching(action.select);
      const change = { ...(action.errorRate === undefined ? {} : { errorRate: action.errorRate }), ...(action.latencyFactor === undefined ? {} : { latencyFactor: action.latencyFactor }), ...(action.capacityFactor === undefined ? {} : { capacityFactor: action.capacityFactor }) };
      for (const t of targets) {
        t.deployment.degradation = change;
        world.workloads.applyDegradation(t.deployment);
      }
      return () => {
        for (const t of targets) {
          t.deployment.degradation = {};
          world.workloads.applyDegradation(t.deployment);
        }
      };
    }
    case "readinessFail": {
      const targets = world.deploymentsMatching(action.select);
      for (const t of targets) world.workloads.forceProbeFailure(t.cluster, t.deployment, true);
      return () => targets.forEach((t) => world.workloads.forceProbeFailure(t.cluster, t.deployment, false));
    }
    case "latency":
      world.network.addLatency(action.between[0], action.between[1], action.addUs);
      return () => world.network.addLatency(action.between[0], action.between[1], -action.addUs);
    case "partition":
      world.network.partition(action.between[0], action.between[1], true);
      return () => world.network.partition(action.between[0], action.between[1], false);
    case "controlPlaneDown": {
      const cluster = world.clusters.get(action.cluster);
      cluster?.setControlPlane(false);
      return () => cluster?.setControlPlane(true);
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
      if (cluster === undefined) return undefined;
      cluster.setControlPlane(false);
      cluster.alive = false;
      for (const d of cluster.deployments.values()) {
        d.desiredReplicas = 0;
        for (const pod of [...d.pods]) world.workloads.killPod(cluster, d, pod, "cluster-lost");
      }
      const gateway = cluster.gatewayPod;
      if (gateway !== undefined && gateway.alive) {
        gateway.alive = false;
        gateway.app.abandonAll({ status: 502, error: "reset", from: "cluster-lost" });
        gateway.client.abandon();
        world.emit("pod.killed", { pod: gateway.label, reason: "cluster-lost" });
      }
      return undefined;
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
