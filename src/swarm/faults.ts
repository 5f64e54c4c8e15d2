// The faults of a swarm case: every kind the scenario format has that the topology can carry
// (pair faults need two clusters), at random instants with overlapping windows, healed or
// permanent, aimed at one deployment, a namespace, a cluster or everything; identity faults as
// parts of an anchor rotation done in order, out of order or half-way.

import type { Chooser } from "./choose.js";
import type { Switches } from "./features.js";
import type { ClusterPlan, TopologyPlan } from "./topology.js";

type Obj = Record<string, unknown>;

const POD_KINDS = ["killPods", "scale", "degrade", "readinessFail", "restartPods", "controlPlaneDown"] as const;
const PAIR_KINDS = ["latency", "partition", "clusterLoss"] as const;
const IDENTITY_KINDS = ["issuerExpire", "issuerRotate", "anchorBundle", "anchorIssuer", "anchorDrop", "anchorReplace"] as const;

type Kind = (typeof POD_KINDS)[number] | (typeof PAIR_KINDS)[number] | (typeof IDENTITY_KINDS)[number];

function selector(c: Chooser, plan: TopologyPlan, cluster: ClusterPlan): Obj {
  const deployments = [...cluster.services.map((s) => ({ name: s.name, namespace: s.namespace })), ...(cluster.client === undefined ? [] : [{ name: cluster.client.deployment, namespace: cluster.client.namespace }])];
  const d = c.pick(deployments);
  const withCluster = plan.clusters.length > 1 || c.chance(0.3) ? { cluster: cluster.name } : {};
  switch (c.pick(["deployment", "deployment", "deployment", "full", "namespace", "cluster"] as const)) {
    case "deployment":
      return { ...withCluster, deployment: d.name };
    case "full":
      return { cluster: cluster.name, namespace: d.namespace, deployment: d.name };
    case "namespace":
      return { ...withCluster, namespace: d.namespace };
    case "cluster":
      return { cluster: cluster.name };
  }
}

function action(c: Chooser, kind: Kind, plan: TopologyPlan): Obj {
  const cluster = c.pick(plan.clusters);
  const pair = (): string[] => [cluster.name, c.pick(plan.clusters.filter((k) => k !== cluster)).name];
  switch (kind) {
    case "killPods":
      return { select: selector(c, plan, cluster), ...(c.chance(0.5) ? { count: c.int(1, 3) } : {}) };
    case "scale":
      return { select: selector(c, plan, cluster), replicas: c.int(0, 4) };
    case "degrade": {
      const d: Obj = { select: selector(c, plan, cluster) };
      if (c.chance(0.6)) d["errorRate"] = c.real(0, 1);
      if (c.chance(0.5)) d["latencyFactor"] = c.real(0.5, 20, 1);
      if (c.chance(0.4)) d["capacityFactor"] = c.real(0.05, 1);
      return d;
    }
    case "readinessFail":
    case "restartPods":
      return { select: selector(c, plan, cluster) };
    case "controlPlaneDown":
    case "issuerExpire":
      return { cluster: cluster.name };
    case "latency":
      return { between: pair(), add: `${c.int(1, 200)}ms` };
    case "partition":
      return { between: pair() };
    case "clusterLoss":
      return { cluster: c.chance(0.8) ? (c.pick(plan.clusters.slice(1)) ?? cluster).name : cluster.name };
    case "issuerRotate":
      return { cluster: cluster.name, ...(c.chance(0.5) ? { anchor: c.pick(["root", "root-b"]) } : {}) };
    case "anchorBundle":
    case "anchorIssuer":
      return { cluster: cluster.name, anchor: "root-b" };
    case "anchorDrop":
      return { cluster: cluster.name, anchor: c.pick(["root", "root-b"]) };
    case "anchorReplace":
      return { cluster: cluster.name, anchor: "root-x" };
  }
}

/** A fault window inside the run: most heal, some last to the end. */
function window(c: Chooser, durationMs: number): Obj {
  const at = c.int(0, Math.max(0, durationMs - 1));
  if (c.chance(0.25)) return { at: `${at}ms` };
  return { at: `${at}ms`, until: `${at + c.int(1, Math.max(1, Math.floor(durationMs / 2)))}ms` };
}

export function faultEntries(c: Chooser, on: Switches, plan: TopologyPlan, durationMs: number): Obj[] {
  if (!on.has("faults")) return [];
  const kinds: Kind[] = [...POD_KINDS, ...(plan.clusters.length > 1 ? PAIR_KINDS : []), ...(on.has("identityFaults") ? IDENTITY_KINDS : [])];
  // Swarming again, one level down: each case draws faults from its own subset of the kinds.
  const allowed = c.subset(kinds, 0.5);
  if (allowed.length === 0) allowed.push(c.pick(kinds));
  const out: Obj[] = [];
  for (let i = c.int(1, 6); i > 0; i--) {
    const kind = c.pick(allowed);
    out.push({ ...window(c, durationMs), [kind]: action(c, kind, plan) });
  }
  return out;
}
