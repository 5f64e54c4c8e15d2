// The application container of a pod: a fixed number of concurrency slots, a bounded FIFO queue in
// front of them, a service time per route, injected errors, downstream calls made while serving
// (or, `async`, after responding), and side effects whose repeats are counted as duplicates.
// Kubelet probes queue here too, so a saturated container fails its readiness probe as a real one
// would.

import { clampDelayUs, type Distribution, makeDistribution, sampleUs } from "../sim/distributions.js";
import type { Rng } from "../sim/rng.js";
import { HeldList, type Holdable } from "./held-list.js";
import type { BehaviorRoute, BehaviorSpec, CallSpec, ErrorSpec } from "./spec.js";
import { callFailed, type HttpRequest, type HttpResponse, isGrpcRequest, type Respond } from "./http.js";

// The app's successful answers, shared by every request: responses are never modified once made.
const APP_OK: HttpResponse = Object.freeze({ status: 200, from: "app" });
const APP_GRPC_OK: HttpResponse = Object.freeze({ status: 200, grpcStatus: 0, grpcStatusIn: "trailers", from: "app" } as const);

/** What the app needs from the world around it. */
export interface AppHost {
  /** The simulated clock. */
  readonly nowUs: number;
  /** Run `handler(arg)` after `delayUs` on behalf of this pod (dropped if the pod dies). */
  after<T>(delayUs: number, handler: (arg: T) => void, arg: T): void;
  /** Send a downstream request through this pod's outbound path. */
  call(spec: CallSpec, parent: HttpRequest, respond: Respond): void;
  /** A side-effecting route finished successfully for the origin: count it, and duplicates. */
  sideEffect(route: string, request: HttpRequest): void;
  /** Utilisation bookkeeping: `delta` slots became busy (+) or free (−). */
  busy(delta: number): void;
  /** A request was refused because the queue was full. */
  rejected(request: HttpRequest): void;
  /** A request starts service after waiting `waitUs` in the queue (0: a slot was free). */
  waited(waitUs: number): void;
}

/** Health and capacity changes applied by faults. */
export interface Degradation {
  errorRate?: number;
  latencyFactor?: number;
  capacityFactor?: number;
}

/** Calls split by when they are made: while serving (the response waits for them), or after responding. */
interface Calls {
  serving: CallSpec[];
  afterResponse: CallSpec[];
}

interface CompiledRoute {
  spec: BehaviorRoute;
  latency: Distribution | undefined;
  calls: Calls | undefined;
  name: string;
}

interface Work extends Holdable {
  request: HttpRequest;
  respond: Respond;
  /** Kubelet probes skip routes, calls and errors, and only take a slot for the default service time. */
  probe: boolean;
  done: boolean;
  /** When it reached the container, for its queueing delay. */
  arrivedUs: number;
  /** Set when its service starts: the behaviour route it matched, and its service time. */
  route: CompiledRoute | undefined;
  serviceUs: number;
  /** Whether the downstream calls it waited for succeeded (set when they are done). */
  callsOk: boolean;
}

function splitCalls(calls: readonly CallSpec[]): Calls {
  return { serving: calls.filter((c) => c.afterResponse !== true), afterResponse: calls.filter((c) => c.afterResponse === true) };
}

/** A kubelet probe's calls: none. */
const NO_CALLS: readonly CallSpec[] = Object.freeze([]);

/** The answer to a call made after responding: nobody waits for it. */
const IGNORE: Respond = () => {};

export class App {
  private readonly latency: Distribution;
  private readonly calls: Calls;
  private readonly routes: CompiledRoute[];
  private readonly queue: Work[] = [];
  private queueHead = 0;
  private busySlots = 0;
  private readonly inFlight = new HeldList<Work>();
  private degradation: Degradation = {};

  constructor(
    private readonly behavior: BehaviorSpec,
    private readonly host: AppHost,
    /**
     * Its streams (streams.ts): `app/<pod>/latency` for service times, `app/<pod>/errors` for error
     * draws, `app/<pod>/calls` for whether a call with a probability below 1 is made.
     */
    private readonly streams: { readonly latency: Rng; readonly errors: Rng; readonly calls: Rng },
  ) {
    this.latency = makeDistribution(behavior.latency);
    this.calls = splitCalls(behavior.calls);
    this.routes = behavior.routes.map((r) => ({
      spec: r,
      latency: r.latency === undefined ? undefined : makeDistribution(r.latency),
      calls: r.calls === undefined ? undefined : splitCalls(r.calls),
      name: `${r.match.method ?? "*"} ${r.match.path ?? "*"}`,
    }));
  }

  /** Slots available now: concurrency scaled by the capacity factor, at least one. */
  get slots(): number {
    const factor = this.degradation.capacityFactor ?? 1;
    return Math.max(1, Math.round(this.behavior.concurrency * factor));
  }

  get queued(): number {
    return this.queue.length - this.queueHead;
  }

  /** Requests (not kubelet probes) in service or waiting in the container's queue. */
  heldRequests(): number {
    let n = this.inFlight.countWhere((w) => !w.probe);
    for (let i = this.queueHead; i < this.queue.length; i++) if (!(this.queue[i] as Work).probe) n += 1;
    return n;
  }

  degrade(d: Degradation): void {
    this.degradation = d;
    this.startQueued();
  }

  /** A request reaches the container (after the inbound proxy). */
  handle(request: HttpRequest, respond: Respond, probe = false): void {
    const work: Work = { request, respond, probe, done: false, arrivedUs: this.host.nowUs, heldAt: -1, route: undefined, serviceUs: 0, callsOk: true };
    if (this.busySlots < this.slots) {
      this.start(work);
    } else if (this.queued < this.behavior.queueLimit) {
      this.queue.push(work);
    } else {
      this.host.rejected(request);
      respond({ status: 503, from: "app-queue-full" });
    }
  }

  /** The pod died: every request it held ends with `response` (a reset); nothing more is answered. */
  abandonAll(response: HttpResponse): void {
    const held = [...this.inFlight.takeAll(), ...this.queue.slice(this.queueHead)];
    this.queue.length = 0;
    this.queueHead = 0;
    if (this.busySlots > 0) this.host.busy(-this.busySlots);
    this.busySlots = 0;
    for (const w of held) {
      w.done = true;
      w.respond(response);
    }
  }

  private start(work: Work): void {
    this.busySlots += 1;
    this.host.busy(1);
    this.inFlight.add(work);
    if (!work.probe) this.host.waited(this.host.nowUs - work.arrivedUs);
    const route = work.probe ? undefined : this.routeFor(work.request);
    work.route = route;
    work.serviceUs = clampDelayUs(sampleUs(route?.latency ?? this.latency, this.streams.latency) * (this.degradation.latencyFactor ?? 1));
    const calls = work.probe ? NO_CALLS : this.callsFor(route).serving;
    this.runCalls(work, calls, this.served);
  }

  /** The calls `work` waited for are done: its service time runs, then it is answered. */
  private readonly served = (work: Work, callsOk: boolean): void => {
    work.callsOk = callsOk;
    this.host.after(work.serviceUs, this.finished, work);
  };

  private readonly finished = (work: Work): void => this.finish(work, work.route, work.callsOk);

  private callsFor(route: CompiledRoute | undefined): Calls {
    return route?.calls ?? this.calls;
  }

  /** Whether this request makes the call: always at probability 1 (no draw), else one draw. */
  private makes(c: CallSpec): boolean {
    const p = c.probability;
    if (p === undefined || p >= 1) return true;
    return p > 0 && this.streams.calls.next() < p;
  }

  private runCalls(work: Work, calls: readonly CallSpec[], done: (work: Work, ok: boolean) => void): void {
    if (calls.length === 0) return done(work, true);
    const then = (ok: boolean): void => done(work, ok);
    if (this.behavior.callMode === "parallel") {
      const made = calls.filter((c) => this.makes(c));
      if (made.length === 0) return then(true);
      let left = made.length;
      let ok = true;
      for (const c of made) {
        this.host.call(c, work.request, (res) => {
          if (callFailed(res) && c.required) ok = false;
          left -= 1;
          if (left === 0 && !work.done) then(ok);
        });
      }
      return;
    }
    const next = (i: number): void => {
      const c = calls[i];
      if (c === undefined) return then(true);
      if (!this.makes(c)) return next(i + 1);
      this.host.call(c, work.request, (res) => {
        if (work.done) return;
        if (callFailed(res) && c.required) then(false);
        else next(i + 1);
      });
    };
    next(0);
  }

  private finish(work: Work, route: CompiledRoute | undefined, callsOk: boolean): void {
    if (work.done) return;
    work.done = true;
    this.inFlight.delete(work);
    this.busySlots -= 1;
    this.host.busy(-1);
    const response = this.responseFor(work, route, callsOk);
    const succeeded = response.status < 400 && (response.grpcStatus ?? 0) === 0;
    if (succeeded && route?.spec.sideEffect === true) this.host.sideEffect(route.name, work.request);
    // Answered: the work item lets go of its caller's callback chain (request-flow.ts `letGo`).
    const respondTo = work.respond;
    work.respond = IGNORE;
    respondTo(response);
    // Fire-and-forget calls, after the response: a timer of this pod got here, so the pod is alive.
    if (!work.probe) for (const c of this.callsFor(route).afterResponse) if (this.makes(c)) this.host.call(c, work.request, IGNORE);
    this.startQueued();
  }

  private responseFor(work: Work, route: CompiledRoute | undefined, callsOk: boolean): HttpResponse {
    if (work.probe) return APP_OK;
    // A gRPC server answers OK in the trailers behind its message, and a failed downstream call
    // with UNKNOWN, as a handler returning a plain error does (grpc-go, tonic).
    const grpc = isGrpcRequest(work.request);
    if (!callsOk) return grpc ? { status: 200, grpcStatus: 2, grpcStatusIn: "headers", from: "app-downstream-failed" } : { status: 502, from: "app-downstream-failed" };
    const errors: ErrorSpec = route?.spec.errors ?? this.behavior.errors;
    const rate = this.degradation.errorRate ?? errors.rate;
    if (rate > 0 && this.streams.errors.next() < rate) return errorResponse(errors);
    return grpc ? APP_GRPC_OK : APP_OK;
  }

  private startQueued(): void {
    while (this.busySlots < this.slots && this.queueHead < this.queue.length) {
      const work = this.queue[this.queueHead] as Work;
      this.queueHead += 1;
      this.start(work);
    }
    if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
  }

  private readonly routeCache = new Map<string, Map<string, CompiledRoute | null>>();

  /** The first behaviour route matching the request, cached per path and method. */
  private routeFor(request: HttpRequest): CompiledRoute | undefined {
    let byMethod = this.routeCache.get(request.path);
    if (byMethod === undefined) {
      byMethod = new Map();
      this.routeCache.set(request.path, byMethod);
    }
    let r = byMethod.get(request.method);
    if (r === undefined) {
      r = this.matchRoute(request) ?? null;
      byMethod.set(request.method, r);
    }
    return r ?? undefined;
  }

  private matchRoute(request: HttpRequest): CompiledRoute | undefined {
    const path = request.path.split("?")[0] as string;
    for (const r of this.routes) {
      const m = r.spec.match;
      if (m.method !== undefined && m.method.toUpperCase() !== request.method) continue;
      if (m.path !== undefined && !pathMatches(m.path, path)) continue;
      return r;
    }
    return undefined;
  }
}

/** An injected error: an HTTP status, with a grpc-status where the behaviour gives one (`none`: a gRPC answer without any). */
function errorResponse(errors: ErrorSpec): HttpResponse {
  const g = errors.grpcStatus;
  if (g === undefined || g === "none") return { status: errors.status, from: "app-error" };
  return { status: errors.status, grpcStatus: g, grpcStatusIn: errors.grpcStatusIn ?? "headers", from: "app-error" };
}

/** Behaviour route paths: exact, or a prefix when written with a trailing `*` (`/api/*`). */
function pathMatches(pattern: string, path: string): boolean {
  return pattern.endsWith("*") ? path.startsWith(pattern.slice(0, -1)) : pattern === path;
}
