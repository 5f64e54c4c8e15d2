// Configuration changes on the timeline: at its instant each change is computed against the object
// the cluster's API server holds then (object-edits.ts) and written there, and every controller
// sees it as the real chain delivers it (cluster.ts `apiWrite`): a TrafficSplit through the SMI
// adaptor's watch and sync, then the destination controller's push; a Service, ServiceProfile or
// route through the destination and policy controllers' watch, then the push; a workload through
// the deployment controller's watch (deployment-controller.ts), which scales it or rolls out its
// new revision. Configuration is not a fault: nothing here heals, and a change is never undone
// unless a later change says so. A change and a fault at the same instant: the fault first.

import { Priority } from "../sim/priority.js";
import type { Rng } from "../sim/rng.js";
import type { Simulation } from "../sim/simulation.js";
import type { TraceFields } from "../sim/trace.js";
import type { Cluster } from "./cluster.js";
import { type DeploymentController, kebab } from "./deployment-controller.js";
import { changeWrites, describeChange } from "./object-edits.js";
import { WORKLOAD_KINDS } from "../k8s/views.js";
import type { ChangeSpec } from "./spec.js";

/** One change as the run applied it, for the summary and `--json`. */
export interface ChangeRecord {
  atUs: number;
  cluster: string;
  /** `changes[3]`. */
  entry: string;
  /** `patch TrafficSplit shop/web-split`. */
  change: string;
  /** When the last controller that acts on it had it (the SMI adaptor's write, the controllers' watch); absent ⇒ none yet. */
  seenAtUs?: number;
  /** When the last proxy whose configuration it changed had the new one; absent ⇒ it changed no proxy's configuration. */
  proxiesUpdatedAtUs?: number;
  /** When the rollout it started replaced the last old pod; absent ⇒ none, or not finished by the end. */
  rolloutCompletedAtUs?: number;
  /** The control plane was down when its controllers had it: proxies get it when it is back (not timed here). */
  pushDeferred?: boolean;
  /** Why it could not be made when its instant came (its object had gone); absent ⇒ it was made. */
  failed?: string;
}

export interface ChangeHost {
  readonly sim: Simulation;
  emit(kind: string, fields: TraceFields): void;
  rng(label: string): Rng;
  readonly clusters: ReadonlyMap<string, Cluster>;
  readonly deploymentController: DeploymentController;
}

export class ChangeApplier {
  /** In the order applied (time order; entries at one instant in the order written). */
  readonly records: ChangeRecord[] = [];

  constructor(
    private readonly host: ChangeHost,
    changes: readonly ChangeSpec[],
  ) {
    const ordered = [...changes].sort((a, b) => a.atUs - b.atUs);
    for (const c of ordered) host.sim.scheduleAt(c.atUs, () => this.apply(c), undefined, Priority.World);
  }

  private apply(change: ChangeSpec): void {
    const record: ChangeRecord = { atUs: change.atUs, cluster: change.cluster, entry: change.entry, change: describeChange(change.action) };
    this.records.push(record);
    const cluster = this.host.clusters.get(change.cluster);
    if (cluster === undefined || !cluster.alive) {
      record.failed = `cluster ${change.cluster} is gone`;
      this.host.emit("change.failed", { entry: change.entry, change: record.change, reason: "cluster-lost" });
      return;
    }
    const problem = this.write(cluster, change, record, () => {
      this.host.emit("change.applied", { entry: change.entry, cluster: change.cluster, change: record.change, reason: kebab(change.action.kind) });
    });
    if (problem !== undefined) {
      // The loader replayed every change in order, so only something the run itself did (a
      // failover operator's patch, Flagger) can have moved the object since.
      record.failed = problem;
      this.host.emit("change.failed", { entry: change.entry, change: record.change, reason: "object-changed" });
    }
  }

  /**
   * Make `change` in `cluster` now, as any client of its API server does (a scenario's change, or a
   * controller such as Flagger): the same watches and controllers see it. Returns why it could not
   * be made, or undefined; `record` (if given) hears when the chain delivered it, and `accepted`
   * is called once the API server has accepted it, before anyone sees it.
   */
  write(cluster: Cluster, change: ChangeSpec, record?: ChangeRecord, accepted?: () => void): string | undefined {
    const { writes, problem } = changeWrites((ref) => cluster.apiObject(ref), change);
    if (problem !== undefined) return problem.message;
    accepted?.();
    for (const w of writes) {
      const kind = (w.next ?? w.previous)?.kind ?? "";
      cluster.apiWrite(w, (seen) => {
        if (record === undefined) return;
        record.seenAtUs = Math.max(record.seenAtUs ?? 0, seen.atUs);
        if (seen.lastProxyUs !== undefined) record.proxiesUpdatedAtUs = Math.max(record.proxiesUpdatedAtUs ?? 0, seen.lastProxyUs);
        if (seen.controlPlaneDown) record.pushDeferred = true;
      });
      if (WORKLOAD_KINDS.has(kind)) {
        this.host.deploymentController.written(cluster, w, (doneUs) => {
          if (record !== undefined) record.rolloutCompletedAtUs = Math.max(record.rolloutCompletedAtUs ?? 0, doneUs);
        });
      }
    }
    return undefined;
  }
}
