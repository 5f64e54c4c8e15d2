// The SMI adaptor (linkerd-smi) of one cluster. It watches TrafficSplits and writes each one's
// backends into its apex Service's ServiceProfile as dstOverrides; the destination controller
// serves that profile. So the destination controller sees a TrafficSplit only as the adaptor last
// wrote it: a patch reaches proxies after the adaptor's watch and sync, then the destination
// controller's push.
//
// Upstream (linkerd-smi `pkg/adaptor/controller.go`): informer events enqueue `namespace/name/apex`
// on a client-go workqueue, which holds a key once; a worker GETs the TrafficSplit afresh from the
// API server, GETs the ServiceProfile and UPDATEs its dstOverrides. The delay from the watch
// delivering a change to the write is `mesh.controlPlane.smiAdaptorDelay`.

import type { K8sObject } from "../k8s/object.js";
import { type Distribution, type DistributionSpec, makeDistribution, sampleUs } from "../sim/distributions.js";
import { Priority } from "../sim/priority.js";
import type { Rng } from "../sim/rng.js";
import type { MeshContext } from "./context.js";
import { LazyStreams } from "./streams.js";

/** What the adaptor needs from its cluster. */
export interface SmiAdaptorHost {
  readonly name: string;
  readonly alive: boolean;
  /** The TrafficSplit `namespace/name` as the API server holds it now. */
  apiTrafficSplit(key: string): K8sObject | undefined;
  /** Delay before a watch of this cluster's API delivers a change. */
  watchDelayUs(rng: Rng): number;
  /** A ServiceProfile the destination controller serves was rewritten. */
  profilesChanged(): void;
}

const keyOf = (o: K8sObject): string => `${o.metadata.namespace ?? "default"}/${o.metadata.name}`;

export class SmiAdaptor {
  /** Each TrafficSplit as last written into its ServiceProfile, by `namespace/name`. */
  private readonly written = new Map<string, K8sObject>();
  /** Keys in the workqueue, with whoever waits for their write. */
  private readonly queued = new Map<string, Array<(writtenUs: number) => void>>();
  private readonly delay: Distribution;
  /** `smi-adaptor/<cluster>/<ns>/<split>`: each TrafficSplit's watch and sync delays, by `namespace/name`. */
  private readonly streams: LazyStreams<string>;

  /** `initial`: the TrafficSplits the run starts with, already written (steady state). */
  constructor(
    private readonly host: SmiAdaptorHost,
    private readonly ctx: MeshContext,
    delay: DistributionSpec,
    initial: readonly K8sObject[],
  ) {
    this.delay = makeDistribution(delay);
    this.streams = new LazyStreams(ctx, (key) => `smi-adaptor/${host.name}/${key}`);
    for (const o of initial) this.written.set(keyOf(o), o);
  }

  /**
   * The TrafficSplits as the adaptor last wrote them into their ServiceProfiles, in API order: one
   * created since is not there yet, one deleted since is still there (after the others).
   */
  view(api: readonly K8sObject[]): K8sObject[] {
    const inApi = new Set(api.map(keyOf));
    const current = api.flatMap((o) => this.written.get(keyOf(o)) ?? []);
    return [...current, ...[...this.written].filter(([key]) => !inApi.has(key)).map(([, o]) => o)];
  }

  /**
   * The API server accepted a change of TrafficSplit `key`: the adaptor's watch delivers it and a
   * worker syncs it; `onWritten` is called with the instant its ServiceProfile is written.
   */
  changed(key: string, onWritten?: (writtenUs: number) => void): void {
    const waiting = this.queued.get(key);
    if (waiting !== undefined) {
      // Already in the workqueue: the same sync reads the latest TrafficSplit.
      if (onWritten !== undefined) waiting.push(onWritten);
      return;
    }
    this.queued.set(key, onWritten === undefined ? [] : [onWritten]);
    const rng = this.streams.get(key);
    const delayUs = this.host.watchDelayUs(rng) + sampleUs(this.delay, rng);
    this.ctx.sim.schedule(delayUs, () => this.sync(key), undefined, Priority.Control);
  }

  private sync(key: string): void {
    const waiting = this.queued.get(key) ?? [];
    this.queued.delete(key);
    if (!this.host.alive) return;
    const current = this.host.apiTrafficSplit(key);
    // A deleted TrafficSplit's dstOverrides are taken off its ServiceProfile.
    if (current === undefined && !this.written.delete(key)) return;
    if (current !== undefined) this.written.set(key, current);
    this.ctx.emit("smi.profile-written", { cluster: this.host.name, split: key, reason: current === undefined ? "traffic-split-deleted" : "traffic-split-changed" });
    this.host.profilesChanged();
    for (const then of waiting) then(this.ctx.sim.nowUs);
  }
}
