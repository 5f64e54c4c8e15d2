// The concrete backends of one logical destination inside one proxy, kept as linkerd2-proxy keeps
// them (`NewBackendCache` in `linkerd/app/outbound/src/http/logical`, the balancer queue in
// `linkerd/proxy/balance/queue/src/{service,worker}.rs` @ release/v2.246.0):
//
// - Every config the proxy installs lists its backends: the dstOverride targets (or the apex
//   itself) on the ServiceProfile stack, every Service backendRef of every rule on the
//   client-policy stack. Weight-0 ones are not listed: the proxy drops them before it builds
//   anything (`convert_dst_override`, `Distribution::random_available`).
// - Backends still listed are kept, with their queue, fail-fast gate, endpoints and loads; new
//   ones are built, and subscribe to their endpoints at once; the rest leave the cache. A backend
//   that is listed again later is built fresh: open gate, the endpoints discovery has now.
// - A backend that left the cache is not torn down while anything still holds it. A request keeps
//   the routing it entered with for its whole life (the retry future holds a clone of the service
//   below it, distribution and backend handles included), so its retries may still go there. The
//   queue's worker stops only once every handle is gone and its channel is empty; until then it
//   keeps its discovery stream and serves what is queued — dispatched when an endpoint becomes
//   ready, failed fast after its 3 s timer otherwise. Nothing is failed because the backend was
//   dropped. Then it unsubscribes from endpoint updates and lets its connections go.

import { OUTBOUND_QUEUE_DEFAULTS } from "../policy/backend-queue.js";
import type { FailureAccrualConfig } from "../policy/config.js";
import type { Balancer } from "./balancer.js";
import { type Destination, type ServiceRef, serviceKey } from "./destination.js";

/** What the cache needs from its proxy. */
export interface ConcreteBackendHost {
  /**
   * A balancer for `backend`, subscribed to its endpoints. `generation` counts the earlier builds
   * of the same backend for the same destination in this proxy (0 for the first), so a rebuilt
   * one gets random streams of its own.
   */
  build(backend: ServiceRef, accrual: FailureAccrualConfig | undefined, generation: number): Balancer;
  /** The balancer is gone: no more endpoint updates, its connections go. */
  close(balancer: Balancer, reason: string): void;
  /** Run `fn` after `delayUs` on the proxy's clock (it dies with the proxy). */
  after(delayUs: number, fn: () => void): void;
  emit(kind: string, fields: Record<string, string | number>): void;
}

/** The backends one installed config routes to, as its distribution holds them. */
export class BackendSet {
  /** Flows routed with this config and not finished yet. */
  holders = 0;
  /** A newer config replaced this one in the proxy. */
  superseded = false;
  constructor(
    /** Each listed backend by the config object that names it (target, backendRef, or the apex destination). */
    private readonly byRef: ReadonlyMap<object, Balancer>,
    /** Each balancer once. */
    readonly balancers: readonly Balancer[],
  ) {}

  /** The balancer for a config object of the destination this set was built for. */
  balancerOf(ref: object): Balancer | undefined {
    return this.byRef.get(ref);
  }
}

/** The backends a config lists, each with the config object that names it. */
export function listedBackends(dest: Destination): Array<{ ref: object; service: ServiceRef }> {
  if (dest.stack === "profile") {
    if (dest.targets.length === 0) return [{ ref: dest, service: dest.service }];
    return dest.targets.filter((t) => t.weight > 0).map((t) => ({ ref: t, service: t.service }));
  }
  const out: Array<{ ref: object; service: ServiceRef }> = [];
  for (const rule of dest.rules.values()) {
    for (const be of rule.backends.backends) {
      if (be.kind === "service" && be.weight > 0) out.push({ ref: be, service: { namespace: be.namespace, name: be.name, port: be.port } });
    }
  }
  return out;
}

/** One destination's backend cache in one proxy. */
export class BackendCache {
  private live = new Map<string, Balancer>();
  /** Installed configs not yet released that hold each balancer. */
  private readonly holders = new Map<Balancer, number>();
  /** Builds so far per backend key, for fresh random streams on a rebuild. */
  private readonly builds = new Map<string, number>();

  constructor(private readonly host: ConcreteBackendHost) {}

  /** Every balancer not yet closed: the cached ones and the dropped ones still draining. */
  get open(): Balancer[] {
    return [...this.holders.keys()];
  }

  /** Install a config: keep what it still lists, build what is new, drop the rest. */
  install(dest: Destination): BackendSet {
    const accrual = dest.stack === "policy" ? dest.accrual : undefined;
    const next = new Map<string, Balancer>();
    const byRef = new Map<object, Balancer>();
    for (const { ref, service } of listedBackends(dest)) {
      const key = serviceKey(service);
      let b = next.get(key) ?? this.live.get(key);
      if (b === undefined) {
        const generation = this.builds.get(key) ?? 0;
        this.builds.set(key, generation + 1);
        b = this.host.build(service, accrual, generation);
        if (generation > 0) this.host.emit("backend.rebuilt", { backend: b.label, generation, reason: "listed-again" });
      } else if (!next.has(key)) {
        // Failure accrual follows the Service's annotations; only a changed setting resets breakers.
        b.setAccrual(accrual);
      }
      next.set(key, b);
      byRef.set(ref, b);
    }
    for (const [key, b] of this.live) {
      if (!next.has(key)) this.host.emit("backend.dropped", { backend: b.label, reason: "not-listed" });
    }
    this.live = next;
    const balancers = [...next.values()];
    for (const b of balancers) this.holders.set(b, (this.holders.get(b) ?? 0) + 1);
    return new BackendSet(byRef, balancers);
  }

  /** Nothing uses `set` any more: a dropped backend it was the last holder of drains and closes. */
  release(set: BackendSet): void {
    for (const b of set.balancers) {
      const n = (this.holders.get(b) ?? 1) - 1;
      if (n > 0) {
        this.holders.set(b, n);
        continue;
      }
      this.holders.delete(b);
      this.closeWhenDrained(b);
    }
  }

  /**
   * Close once the queue is empty. Nothing new can enter it, and whatever waits leaves within one
   * fail-fast timeout (dispatched when the pool turns ready, failed when the timer fires), so a
   * check every fail-fast timeout ends.
   */
  private closeWhenDrained(b: Balancer): void {
    if (b.queued === 0) {
      this.host.close(b, "backend-dropped");
      this.host.emit("backend.closed", { backend: b.label, reason: "dropped-and-drained" });
      return;
    }
    this.host.after(OUTBOUND_QUEUE_DEFAULTS.failFastTimeoutUs, () => this.closeWhenDrained(b));
  }
}
