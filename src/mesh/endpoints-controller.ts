// kube-controller-manager's Endpoints controller for one cluster: when the kubelet reports a pod's
// readiness (or a pod goes away), each Service selecting it is queued, and a sync writes the
// Service's Endpoints object from the pods as they are at that moment. Everything downstream reads
// the object it wrote — proxies through the destination controller, kube-proxy, a service mirror
// in another cluster, linkerd-failover — so none of them sees a change before the sync.
//
// Upstream (kubernetes `pkg/controller/endpoint/endpoints_controller.go`): pod events enqueue the
// Service keys with `AddAfter(key, endpointUpdatesBatchPeriod)` (default 0); the workqueue holds a
// key once, so changes arriving while it waits are written by the same sync, and a sync lists the
// Service's pods afresh. The delay from the kubelet's decision to the write (its status write, the
// controller's pod watch, the queue, the Endpoints write) is `mesh.controlPlane.endpointsDelay`.

import { type Distribution, type DistributionSpec, makeDistribution, sampleUs } from "../sim/distributions.js";
import { Priority } from "../sim/priority.js";
import type { MeshContext } from "./context.js";
import type { Pod } from "./pod.js";
import { LazyStreams } from "./streams.js";

/** What the controller needs from its cluster. */
export interface EndpointsHost {
  readonly name: string;
  readonly alive: boolean;
  /** Pods the Service selects that are alive and ready at this instant. */
  selectedReadyPods(namespace: string, name: string): Pod[];
  /** The Endpoints object of `namespace/name` was just written with new addresses. */
  endpointsWritten(namespace: string, name: string): void;
}

export class EndpointsController {
  /** Ready addresses of every Endpoints object written so far, by `namespace/name`. */
  private readonly written = new Map<string, readonly Pod[]>();
  /** Services waiting in the workqueue. */
  private readonly queued = new Set<string>();
  private readonly delay: Distribution;
  /** `endpoints-controller/<cluster>/<ns>/<svc>`: each Service's sync delays, by `namespace/name`. */
  private readonly streams: LazyStreams<string>;

  constructor(
    private readonly host: EndpointsHost,
    private readonly ctx: MeshContext,
    delay: DistributionSpec,
  ) {
    this.delay = makeDistribution(delay);
    this.streams = new LazyStreams(ctx, (key) => `endpoints-controller/${host.name}/${key}`);
  }

  /** The ready addresses the Endpoints object of `namespace/name` holds now (none before its first write). */
  addresses(namespace: string, name: string): readonly Pod[] {
    return this.written.get(`${namespace}/${name}`) ?? [];
  }

  /**
   * A pod the Service selects changed readiness or went away. `atOnce` is for the pods a run
   * starts with: the scenario begins in steady state, with every Endpoints object already written.
   */
  enqueue(namespace: string, name: string, atOnce: boolean): void {
    const key = `${namespace}/${name}`;
    if (atOnce) return this.sync(namespace, name);
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.ctx.sim.schedule(sampleUs(this.delay, this.streams.get(key)), () => {
      this.queued.delete(key);
      this.sync(namespace, name);
    }, undefined, Priority.Control);
  }

  /** Write the Endpoints from the pods as they are now; an unchanged set writes nothing (no watch event). */
  private sync(namespace: string, name: string): void {
    // A lost cluster's controller manager is gone with it.
    if (!this.host.alive) return;
    const key = `${namespace}/${name}`;
    const next = this.host.selectedReadyPods(namespace, name);
    if (samePods(this.written.get(key) ?? [], next)) return;
    this.written.set(key, next);
    this.host.endpointsWritten(namespace, name);
  }
}

function samePods(a: readonly Pod[], b: readonly Pod[]): boolean {
  if (a.length !== b.length) return false;
  const set = new Set(a);
  return b.every((p) => set.has(p));
}
