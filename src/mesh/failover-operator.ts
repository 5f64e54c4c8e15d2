// The failover operator of one cluster. In `readiness` mode it is linkerd-failover: it watches
// every Endpoints object and the TrafficSplits labelled `failover.linkerd.io/controlled-by=
// linkerd-failover`, and, when a backend's readiness changes, patches the split's weights all at
// once (`reconcileFailover`). In `success-rate-ramp` mode it is the guide's described (not real)
// operator: it watches the primary's success rate and shifts weight step by step. Either way the
// patch goes through the SMI adaptor and the destination controller to the proxies. It dies with
// its cluster.
//
// Timing follows linkerd-failover (`controller/src/{main.rs,endpoints.rs,lib.rs}`): its watches
// fill caches, so it decides on Endpoints readiness as its watch last delivered it (a watch delay
// after the Endpoints controller wrote it); both watches run on one task, which sends patches to a
// second task that applies them one at a time (each a `reconcileDelay`); and its own patch comes
// back through its TrafficSplit watch, which reconciles that split again.

import { type FailoverSplit, isSplitSelected, primaryServiceOf, reconcileFailover } from "../policy/failover.js";
import { SuccessRateFailover } from "../policy/failover-success-rate.js";
import { parseTrafficSplit } from "../policy/traffic-split.js";
import { type Distribution, makeDistribution, sampleUs } from "../sim/distributions.js";
import { Priority } from "../sim/priority.js";
import type { Cluster } from "./cluster.js";
import type { MeshContext } from "./context.js";
import { LazyStreams } from "./streams.js";
import type { MeshSettings } from "./spec.js";

/** One weight change of a failover-controlled TrafficSplit. */
export interface SplitUpdate {
  /** When the API server accepted the operator's patch. */
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
  /** When the SMI adaptor wrote the patch into the apex's ServiceProfile; absent until it has. */
  profileWrittenAtUs?: number;
  /**
   * When the last proxy holding the split's apex Service received the new weights (the profile
   * write itself when no proxy holds it); absent until then, so absent at the end of a run whose
   * proxies never all got it.
   */
  proxiesSwitchedAtUs?: number;
}

type Weights = ReadonlyArray<{ service: string; weight: number }>;

export class FailoverOperator {
  private readonly ramps = new Map<string, SuccessRateFailover>();
  /** `failover-operator/<cluster>/endpoints/<ns>/<svc>`: its watch of each Endpoints object. */
  private readonly endpointsWatch: LazyStreams<string>;
  /** `failover-operator/<cluster>/split/<ns>/<split>/patch`: each split's patch round trips. */
  private readonly patchStreams: LazyStreams<string>;
  /** `failover-operator/<cluster>/split/<ns>/<split>/watch`: its watch of each split. */
  private readonly splitWatch: LazyStreams<string>;
  private readonly reconcileDelay: Distribution;
  /** Endpoints readiness as the operator's watch last delivered it, by `namespace/name`. */
  private readonly endpointsCache = new Map<string, boolean>();
  /** The patch task sends one patch at a time: when it is free again. */
  private patchTaskFreeUs = 0;

  constructor(
    private readonly cluster: Cluster,
    private readonly ctx: MeshContext,
    private readonly settings: MeshSettings["failover"],
    private readonly record: (u: SplitUpdate) => void,
  ) {
    const base = `failover-operator/${cluster.name}`;
    this.endpointsWatch = new LazyStreams(ctx, (key) => `${base}/endpoints/${key}`);
    this.patchStreams = new LazyStreams(ctx, (key) => `${base}/split/${key}/patch`);
    this.splitWatch = new LazyStreams(ctx, (key) => `${base}/split/${key}/watch`);
    this.reconcileDelay = makeDistribution(settings.reconcileDelay);
  }

  /** Splits this operator manages, as the API server holds them now. */
  splits(): FailoverSplit[] {
    return this.cluster.apiObjects("TrafficSplit").flatMap((o) => {
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
      // The watches start with a full list (a `Restarted` event): every Endpoints object as it is
      // now, then every split reconciled.
      for (const split of this.splits()) {
        for (const b of split.backends) this.endpointsCache.set(`${split.namespace}/${b.service}`, this.cluster.endpointsReady(split.namespace, b.service));
      }
      for (const split of this.splits()) this.reconcile(split);
      return;
    }
    for (const split of this.splits()) {
      const primary = primaryServiceOf(split);
      // A primary the split does not list has no weight to move: patching one in would add a backend.
      if (primary === undefined || !split.backends.some((b) => b.service === primary)) continue;
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

  /**
   * The Endpoints object `namespace/name` was written: the operator's watch delivers it (with the
   * readiness it had when written) after a watch delay. A Service without an Endpoints object
   * (a remote-discovery mirror) never comes here, and reads as not ready.
   */
  endpointsChanged(namespace: string, name: string): void {
    if (this.settings.mode !== "readiness" || !this.cluster.alive) return;
    const ready = this.cluster.endpointsReady(namespace, name);
    const delayUs = this.cluster.watchDelayUs(this.endpointsWatch.get(`${namespace}/${name}`));
    this.ctx.sim.schedule(delayUs, () => this.endpointsDelivered(namespace, name, ready), undefined, Priority.Control);
  }

  /** A client-side attempt to `namespace/service` ended (the ramp's success-rate signal). */
  observe(namespace: string, service: string, ok: boolean): void {
    if (this.ramps.size === 0) return;
    for (const [key, ramp] of this.ramps) {
      if (key.startsWith(`${namespace}/`) && ramp.primary === service) ramp.observe(ok, this.ctx.sim.nowUs);
    }
  }

  private endpointsDelivered(namespace: string, name: string, ready: boolean): void {
    if (!this.cluster.alive) return;
    this.endpointsCache.set(`${namespace}/${name}`, ready);
    for (const split of this.splits()) {
      if (split.namespace === namespace && split.backends.some((b) => b.service === name)) this.reconcile(split);
    }
  }

  private reconcile(split: FailoverSplit): void {
    const decision = reconcileFailover(split, (svc) => this.endpointsCache.get(`${split.namespace}/${svc}`) ?? false);
    if (decision.kind === "none") return;
    this.sendPatch(split, decision.primary, decision.backends, decision.reason);
  }

  private tick(): void {
    if (!this.cluster.alive) return;
    const splits = new Map(this.splits().map((s) => [`${s.namespace}/${s.name}`, s]));
    for (const [key, ramp] of this.ramps) {
      const decision = ramp.tick(this.ctx.sim.nowUs);
      const split = splits.get(key);
      if (decision.changed && split !== undefined) this.sendPatch(split, ramp.primary, inSplitOrder(split, decision.weights), decision.reason);
    }
    this.ctx.sim.schedule(this.settings.successRate.intervalUs, () => this.tick(), undefined, Priority.Control);
  }

  /** Queue a merge patch on the patch task: it lands once the patches before it have, plus one API round trip. */
  private sendPatch(split: FailoverSplit, primary: string, weights: Weights, reason: string): void {
    const startUs = Math.max(this.ctx.sim.nowUs, this.patchTaskFreeUs);
    const key = `${split.namespace}/${split.name}`;
    const landsUs = startUs + sampleUs(this.reconcileDelay, this.patchStreams.get(key));
    this.patchTaskFreeUs = landsUs;
    const copy = weights.map((w) => ({ service: w.service, weight: w.weight }));
    this.ctx.sim.scheduleAt(landsUs, () => this.patchLands(key, primary, copy, reason), undefined, Priority.Control);
  }

  private patchLands(key: string, primary: string, weights: Weights, reason: string): void {
    if (!this.cluster.alive) return;
    const split = this.splits().find((s) => `${s.namespace}/${s.name}` === key);
    if (split === undefined) return;
    // A merge patch that changes nothing writes nothing: no new version, no watch event.
    const unchanged = split.backends.length === weights.length && split.backends.every((b) => weights.find((w) => w.service === b.service)?.weight === b.weight);
    if (unchanged) return;
    // Readiness mode writes 0/1 and the ramp a 1000 scale: compare shares, not raw weights.
    const shareOf = (list: Weights): number => {
      const total = list.reduce((a, b) => a + b.weight, 0);
      return total === 0 ? 0 : (list.find((b) => b.service === primary)?.weight ?? 0) / total;
    };
    const update: SplitUpdate = {
      atUs: this.ctx.sim.nowUs,
      cluster: this.cluster.name,
      split: key,
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
    this.cluster.patchTrafficSplit(split.namespace, split.name, update.weights, (p) => {
      update.profileWrittenAtUs = p.profileWrittenUs;
      update.proxiesSwitchedAtUs = p.proxiesSwitchedUs;
    });
    // The operator's own TrafficSplit watch delivers the patched split, and it reconciles it again
    // against the Endpoints it knows by then (a readiness change that raced the patch is caught here).
    if (this.settings.mode === "readiness") {
      this.ctx.sim.schedule(this.cluster.watchDelayUs(this.splitWatch.get(key)), () => {
        if (!this.cluster.alive) return;
        const now = this.splits().find((s) => `${s.namespace}/${s.name}` === key);
        if (now !== undefined) this.reconcile(now);
      }, undefined, Priority.Control);
    }
  }
}

/**
 * The ramp's weights written over the split's own backend list, in its order and with its
 * repeats (a service listed twice gets its weight twice): a merge patch of `spec.backends`
 * replaces the list, and the ramp must not reorder or drop what the split names.
 */
function inSplitOrder(split: FailoverSplit, weights: Weights): Weights {
  return split.backends.map((b) => ({ service: b.service, weight: weights.find((w) => w.service === b.service)?.weight ?? 0 }));
}
