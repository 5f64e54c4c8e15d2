// The failover operator of one cluster. In `readiness` mode it is linkerd-failover: it watches
// Endpoints and the TrafficSplits labelled `failover.linkerd.io/controlled-by=linkerd-failover`
// and, on any readiness change of a backend, patches the split's weights all at once
// (`reconcileFailover`). In `success-rate-ramp` mode it is the guide's described (not real)
// operator: it watches the primary's success rate and shifts weight step by step. Either way the
// patch goes through the SMI adaptor and the destination controller to the proxies. It dies with
// its cluster.

import { type FailoverSplit, isSplitSelected, primaryServiceOf, reconcileFailover } from "../policy/failover.js";
import { SuccessRateFailover } from "../policy/failover-success-rate.js";
import { parseTrafficSplit } from "../policy/traffic-split.js";
import { Priority } from "../sim/priority.js";
import type { Cluster } from "./cluster.js";
import type { MeshContext } from "./context.js";
import type { MeshSettings } from "./spec.js";

/** One weight change of a failover-controlled TrafficSplit. */
export interface SplitUpdate {
  atUs: number;
  cluster: string;
  /** `namespace/name`. */
  split: string;
  primary: string;
  /** The primary's share of the total weight after and before the patch (0..1). */
  primaryShare: number;
  previousPrimaryShare: number;
  weights: Array<{ service: string; weight: number }>;
  reason: string;
}

export class FailoverOperator {
  private readonly ramps = new Map<string, SuccessRateFailover>();

  constructor(
    private readonly cluster: Cluster,
    private readonly ctx: MeshContext,
    private readonly settings: MeshSettings["failover"],
    private readonly record: (u: SplitUpdate) => void,
  ) {}

  /** Splits this operator manages, as it reads them now. */
  splits(): FailoverSplit[] {
    return this.cluster.ofKind("TrafficSplit").flatMap((o) => {
      const ts = parseTrafficSplit(o.raw).value;
      if (ts.rejected) return [];
      const split: FailoverSplit = {
        name: ts.name,
        namespace: ts.namespace,
        annotations: o.metadata.annotations,
        labels: o.metadata.labels,
        backends: ts.backends.map((b) => ({ service: b.service, weight: b.weightMilli / 1000 })),
      };
      return isSplitSelected(split) ? [split] : [];
    });
  }

  start(): void {
    if (this.settings.mode === "readiness") {
      for (const split of this.splits()) this.reconcile(split);
      return;
    }
    for (const split of this.splits()) {
      const primary = primaryServiceOf(split);
      if (primary === undefined) continue;
      const standbys = split.backends.map((b) => b.service).filter((s) => s !== primary);
      const sr = this.settings.successRate;
      this.ramps.set(`${split.namespace}/${split.name}`, new SuccessRateFailover(primary, standbys, {
        windowUs: sr.windowUs,
        threshold: sr.threshold,
        stepFraction: sr.step,
        intervalUs: sr.intervalUs,
        minSamples: sr.minSamples,
      }));
    }
    if (this.ramps.size > 0) this.ctx.sim.schedule(this.settings.successRate.intervalUs, () => this.tick(), undefined, Priority.Control);
  }

  /** The Endpoints of `namespace/name` changed (readiness mode reconciles affected splits). */
  endpointsChanged(namespace: string, name: string): void {
    if (this.settings.mode !== "readiness" || !this.cluster.alive) return;
    for (const split of this.splits()) {
      if (split.namespace === namespace && split.backends.some((b) => b.service === name)) this.reconcile(split);
    }
  }

  /** A client-side attempt to `namespace/service` ended (the ramp's success-rate signal). */
  observe(namespace: string, service: string, ok: boolean): void {
    if (this.ramps.size === 0) return;
    for (const [key, ramp] of this.ramps) {
      if (key.startsWith(`${namespace}/`) && ramp.primary === service) ramp.observe(ok, this.ctx.sim.nowUs);
    }
  }

  private reconcile(split: FailoverSplit): void {
    const decision = reconcileFailover(split, (svc) => this.cluster.readyEndpoints(split.namespace, svc).length > 0);
    if (decision.kind === "none") return;
    this.apply(split, decision.primary, decision.backends, decision.reason);
  }

  private tick(): void {
    if (!this.cluster.alive) return;
    const splits = new Map(this.splits().map((s) => [`${s.namespace}/${s.name}`, s]));
    for (const [key, ramp] of this.ramps) {
      const decision = ramp.tick(this.ctx.sim.nowUs);
      const split = splits.get(key);
      if (decision.changed && split !== undefined) this.apply(split, ramp.primary, decision.weights, decision.reason);
    }
    this.ctx.sim.schedule(this.settings.successRate.intervalUs, () => this.tick(), undefined, Priority.Control);
  }

  private apply(split: FailoverSplit, primary: string, weights: ReadonlyArray<{ service: string; weight: number }>, reason: string): void {
    // Readiness mode writes 0/1 and the ramp a 1000 scale: compare shares, not raw weights.
    const shareOf = (list: ReadonlyArray<{ service: string; weight: number }>): number => {
      const total = list.reduce((a, b) => a + b.weight, 0);
      return total === 0 ? 0 : (list.find((b) => b.service === primary)?.weight ?? 0) / total;
    };
    const update: SplitUpdate = {
      atUs: this.ctx.sim.nowUs,
      cluster: this.cluster.name,
      split: `${split.namespace}/${split.name}`,
      primary,
      primaryShare: shareOf(weights),
      previousPrimaryShare: shareOf(split.backends),
      weights: weights.map((w) => ({ service: w.service, weight: w.weight })),
      reason,
    };
    this.record(update);
    this.ctx.emit("split.updated", {
      cluster: this.cluster.name,
      split: update.split,
      weights: update.weights.map((w) => `${w.service}=${w.weight}`).join(","),
      reason,
    });
    this.cluster.patchTrafficSplit(split.namespace, split.name, update.weights);
  }
}
