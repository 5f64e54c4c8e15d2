// What the world gives each pod's app (app.ts): timers that die with the pod, downstream calls
// through the pod's own client (its outbound proxy when meshed), side-effect bookkeeping and
// utilization. It also counts the app's busy slots, so the pod's inbound proxy can tell whether
// the app would take another request, and tells that proxy when a slot frees.

import { Priority } from "../sim/priority.js";
import type { App, AppHost } from "./app.js";
import type { MeshContext } from "./context.js";
import { callHeaders, clientHeaders, type HttpRequest, type parseHttpUrl, type Respond } from "./http.js";
import type { InboundTarget } from "./inbound.js";
import type { CounterName, CounterSeries, SeriesLabels, ServerSeries } from "./metrics.js";
import type { Pod } from "./pod.js";
import type { CallSpec, RequestProtocol } from "./spec.js";

/** What an app host needs of the world. */
export interface AppHostWorld extends MeshContext {
  server(pod: Pod): ServerSeries;
  counter(name: CounterName, labels: SeriesLabels): CounterSeries;
  /** Whether a client in `pod` speaks gRPC to `authority` (see grpc-target.ts). */
  speaksGrpc(pod: Pod, authority: string, protocol: RequestProtocol | undefined): boolean;
  /** Whether that answer can change during the run: `auto` to a name that resolves to no Service yet. */
  grpcUndecided(pod: Pod, authority: string, protocol: RequestProtocol | undefined): boolean;
  /** The app of `pod` freed a slot or changed its capacity (its inbound proxy may dispatch). */
  appCapacityChanged(pod: Pod): void;
  /** A call's target URL, parsed once per call spec for the whole world. */
  callUrl(spec: CallSpec): ReturnType<typeof parseHttpUrl>;
}

export class PodAppHost implements AppHost {
  /** Slots the app has busy now, from its own `busy` reports. */
  busySlots = 0;

  /** Per call spec: its authority and whether it speaks gRPC, once that is settled. */
  private readonly calls = new Map<CallSpec, { path: string; authority: string; grpc: boolean; forwards: boolean; fixedHeaders: Readonly<Record<string, string>> | undefined }>();

  constructor(
    private readonly pod: Pod,
    private readonly world: AppHostWorld,
  ) {}

  get nowUs(): number {
    return this.world.sim.nowUs;
  }

  after<T>(delayUs: number, handler: (arg: T) => void, arg: T): void {
    this.world.sim.schedule(delayUs, handler, arg, Priority.Completion, this.pod);
  }

  call(spec: CallSpec, parent: HttpRequest, respond: Respond): void {
    let c = this.calls.get(spec);
    if (c === undefined) {
      const url = this.world.callUrl(spec);
      if (url === undefined) return respond({ status: 502, error: "other", from: "bad-call-url" });
      const authority = `${url.host}:${url.port}`;
      const grpc = this.world.speaksGrpc(this.pod, authority, spec.protocol);
      // A call that forwards nothing sends the same headers every time: one frozen object, which
      // the proxy's route memo can recognise (route-memo.ts).
      const fixed = spec.forwardHeaders === undefined || spec.forwardHeaders === false ? clientHeaders(spec.headers, grpc) : undefined;
      c = { path: url.path, authority, grpc, fixedHeaders: fixed === undefined ? undefined : Object.freeze(fixed), forwards: !(spec.forwardHeaders === undefined || spec.forwardHeaders === false) };
      // Kept once settled; an `auto` call to a Service not created yet asks again next time.
      if (!this.world.grpcUndecided(this.pod, authority, spec.protocol)) this.calls.set(spec, c);
    }
    const { path, authority } = c;
    const headers = c.forwards ? callHeaders(spec, parent, c.grpc) : c.fixedHeaders;
    const request: HttpRequest =
      headers === undefined
        ? { method: spec.method, path, authority, bodyBytes: 0, origin: parent.origin }
        : { method: spec.method, path, authority, bodyBytes: 0, headers, origin: parent.origin };
    this.pod.client.send(request, respond, undefined);
  }

  sideEffect(route: string, request: HttpRequest): void {
    const origin = request.origin;
    const key = `${this.pod.workload} ${route}`;
    origin.sideEffects ??= new Map();
    const n = (origin.sideEffects.get(key) ?? 0) + 1;
    origin.sideEffects.set(key, n);
    if (n > 1) {
      this.world.counter("duplicates", { traffic: origin.traffic, server: this.pod.workload, route }).add(this.world.sim.nowUs);
      this.world.emit("side-effect.duplicated", { server: this.pod.workload, route, origin: origin.id, executions: n, reason: "repeated-execution" });
    }
  }

  busy(delta: number): void {
    this.busySlots += delta;
    this.world.server(this.pod).busy(delta, this.world.sim.nowUs);
    if (delta < 0) this.world.appCapacityChanged(this.pod);
  }

  rejected(): void {
    this.world.emit("app.rejected", { pod: this.pod.label, reason: "queue-full" });
  }

  waited(waitUs: number): void {
    this.world.server(this.pod).waited(waitUs, this.world.sim.nowUs);
  }
}

/** The app as its pod's inbound proxy sees it: it takes a request while it has a free slot or room in its queue. */
export function appInboundTarget(app: App, host: PodAppHost, queueLimit: number): InboundTarget {
  return {
    admits: () => host.busySlots < app.slots || app.queued < queueLimit,
    handle: (request, respond) => app.handle(request, respond),
  };
}
