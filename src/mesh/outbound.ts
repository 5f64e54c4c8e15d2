// The outbound side of a meshed pod's proxy: what it holds per destination — the config the
// control plane last sent, the retry budget of that destination's profile, the concrete backends
// (see concrete-backends.ts) — and the metric series its requests write. Each request runs as a
// RequestFlow (request-flow.ts). Every decision is made by `src/policy/`.

import type { RouteRule } from "../policy/http-route.js";
import type { ProfileRoute } from "../policy/profile-routes.js";
import { RetryBudget } from "../policy/retry-budget.js";
import { BudgetLedger } from "./budget-ledger.js";
import { Priority } from "../sim/priority.js";
import type { Rng } from "../sim/rng.js";
import type { Balancer } from "./balancer.js";
import { BackendCache, type BackendSet, type ConcreteBackendHost } from "./concrete-backends.js";
import type { Destination, ServiceRef } from "./destination.js";
import { serviceKey } from "./destination.js";
import { profileSignature } from "./destination-signature.js";
import type { FailureCause } from "./failure-book.js";
import { HeldList } from "./held-list.js";
import type { HttpRequest, HttpResponse, Respond } from "./http.js";
import { splitAuthority } from "./http.js";
import type { CounterName, CounterSeries, GaugeSeries, RequestSeries, SeriesLabels } from "./metrics.js";
import type { Client, Pod } from "./pod.js";
import { RequestFlow } from "./request-flow.js";
import { podPath } from "./streams.js";
import type { MeshWorld } from "./world-api.js";
import { RouteMemo } from "./route-memo.js";

/** What a proxy holds about one destination from one config update. */
export interface DestinationState {
  dest: Destination;
  /**
   * The destination profile's budget, shared by its retryable routes. It lives as long as the
   * profile it was built from: a config update with the same profile keeps it.
   */
  budget: RetryBudget | undefined;
  /** The online checker of `budget` (see budget-ledger.ts); it lives exactly as long as the budget. */
  ledger: BudgetLedger | undefined;
  /** `profileSignature(dest)`: the profile the budget belongs to; undefined on the policy stack. */
  profile: string | undefined;
  /** The concrete backends this config routes to. */
  backends: BackendSet;
  /** The destination's backend cache, which `backends` came from. */
  cache: BackendCache;
  /** Route selections by request shape, for this config only (route-memo.ts). */
  profileRoutes: RouteMemo<ProfileRoute>;
  policyRoutes: RouteMemo<PolicyRouteChoice>;
}

/** What a client-policy request takes from route matching: its rule, or none (404). */
export type PolicyRouteChoice = { rule: RouteRule; kind: "http" | "grpc"; name: string } | undefined;

/** The metric series one (traffic, service, route) of this proxy writes to, looked up once. */
export class RouteSeries {
  readonly request: RequestSeries;
  readonly inFlight: GaugeSeries;
  private readonly counters = new Map<CounterName, CounterSeries>();
  private readonly attempts = new Map<string, RequestSeries>();
  constructor(private readonly world: MeshWorld, private readonly labels: SeriesLabels) {
    this.request = world.request(labels);
    this.inFlight = world.inFlight(labels);
  }
  counter(name: CounterName): CounterSeries {
    let c = this.counters.get(name);
    if (c === undefined) {
      c = this.world.counter(name, this.labels);
      this.counters.set(name, c);
    }
    return c;
  }
  /** The request failed: why (failure-book.ts). */
  failed(res: HttpResponse, cause: FailureCause, retry: string): void {
    this.world.requestFailed(this.labels, { status: res.status, ...(res.grpcStatus === undefined ? {} : { grpcStatus: res.grpcStatus }) }, cause, retry);
  }
  attempt(backend: string): RequestSeries {
    let a = this.attempts.get(backend);
    if (a === undefined) {
      a = this.world.attempt({ ...this.labels, backend });
      this.attempts.set(backend, a);
    }
    return a;
  }
}

export class OutboundProxy implements Client {
  private readonly destinations = new Map<string, DestinationState>();
  private readonly caches = new Map<string, BackendCache>();
  private readonly series = new Map<string, RouteSeries>();
  /** Per-request lookups by object identity, so the hot path builds no string keys. */
  private readonly destinationsByRef = new Map<ServiceRef, { key: string; state: DestinationState }>();
  /** Requests in progress, so a dying pod can end them. */
  readonly flows = new HeldList<RequestFlow>();
  private readonly seriesByRoute = new Map<string | undefined, Map<object, RouteSeries>>();
  private readonly resolved = new Map<string, { host: string; service: ServiceRef | undefined }>();
  private distribute: Rng | undefined;
  private backoff: Rng | undefined;

  constructor(readonly pod: Pod, readonly world: MeshWorld) {}

  /** `proxy/<pod>/distribute`: choosing among a route's or profile's weighted backends (made on first use). */
  get distributeRng(): Rng {
    this.distribute ??= this.world.rng(`proxy/${podPath(this.pod)}/distribute`);
    return this.distribute;
  }

  /** `proxy/<pod>/backoff`: the jitter of annotation-retry backoffs (made on first use). */
  get backoffRng(): Rng {
    this.backoff ??= this.world.rng(`proxy/${podPath(this.pod)}/backoff`);
    return this.backoff;
  }

  /**
   * How the backend cache of destination `parent` builds and closes its balancers. A balancer is
   * named by (proxy, parent, backend, build), so one backend reached through two parents (a
   * TrafficSplit's apex and a direct call) gets two balancers with streams of their own.
   */
  private backendHostFor(parent: ServiceRef): ConcreteBackendHost {
    return {
      build: (backend, accrual, generation) => this.world.newBalancer(this, parent, backend, accrual, generation),
      close: (balancer, reason) => this.world.releaseBalancer(this, balancer, reason),
      after: (delayUs, fn) => {
        this.world.sim.schedule(delayUs, fn, undefined, Priority.Timeout, this.pod);
      },
      emit: (kind, fields) => this.world.emit(kind, { pod: this.pod.name, ...fields }),
    };
  }

  send(request: HttpRequest, respond: Respond, traffic: string | undefined): void {
    new RequestFlow(this, request, respond, traffic).start();
  }

  /** Metric series for a route object (a ProfileRoute or RuleConfig), by identity. */
  routeSeriesFor(traffic: string | undefined, routeRef: object, service: string, route: string): RouteSeries {
    let byRoute = this.seriesByRoute.get(traffic);
    if (byRoute === undefined) {
      byRoute = new Map();
      this.seriesByRoute.set(traffic, byRoute);
    }
    let s = byRoute.get(routeRef);
    if (s === undefined) {
      s = this.routeSeries(traffic, service, route);
      byRoute.set(routeRef, s);
    }
    return s;
  }

  /** Metric series for one traffic/service/route of this proxy. */
  routeSeries(traffic: string | undefined, service: string, route: string): RouteSeries {
    const key = `${traffic ?? ""}|${service}|${route}`;
    let s = this.series.get(key);
    if (s === undefined) {
      const labels: SeriesLabels = { client: this.pod.workload, service, route, ...(traffic === undefined ? {} : { traffic }) };
      s = new RouteSeries(this.world, labels);
      this.series.set(key, s);
    }
    return s;
  }

  /**
   * The Service an authority names. A name that resolves is kept (a Service keeps its identity);
   * one that does not is asked again next time, since a change or a controller (Flagger) may
   * create the Service during the run.
   */
  resolve(authority: string): { host: string; service: ServiceRef | undefined } {
    let r = this.resolved.get(authority);
    if (r === undefined) {
      const { host, port } = splitAuthority(authority);
      r = { host, service: this.world.resolveService(this.pod, host, port) };
      if (r.service !== undefined) this.resolved.set(authority, r);
    }
    return r;
  }

  /** The destination config this proxy holds now for `service`, without asking for it; undefined ⇒ it never asked. */
  heldDestination(service: ServiceRef): Destination | undefined {
    return this.destinations.get(serviceKey(service))?.dest;
  }

  /** The destination config this proxy holds now, subscribing on first use. */
  destination(service: ServiceRef): DestinationState {
    const byRef = this.destinationsByRef.get(service);
    if (byRef !== undefined && this.destinations.get(byRef.key) === byRef.state) return byRef.state;
    const key = serviceKey(service);
    let state = this.destinations.get(key);
    if (state === undefined) {
      state = this.install(key, this.world.subscribeDestination(this, service), undefined);
      this.destinations.set(key, state);
    }
    this.destinationsByRef.set(service, { key, state });
    return state;
  }

  /** A config update reached this proxy: requests from now on use it; those in progress keep theirs. */
  updateDestination(dest: Destination): void {
    const key = serviceKey(dest.service);
    const previous = this.destinations.get(key);
    const state = this.install(key, dest, previous);
    this.destinations.set(key, state);
    if (previous !== undefined) this.supersede(previous);
    const budget = state.budget === undefined ? "none" : state.budget === previous?.budget ? "kept" : "new";
    this.world.emit("proxy.config-updated", { pod: this.pod.name, service: key, stack: dest.stack, budget, reason: "destination-update" });
  }

  /** A request routed with `state` ended. */
  flowEnded(state: DestinationState): void {
    state.backends.holders -= 1;
    if (state.backends.superseded && state.backends.holders === 0) state.cache.release(state.backends);
  }

  /** The pod died: every request it was proxying ends, and it stops listening to the control plane. */
  abandon(): void {
    for (const flow of this.flows.items()) flow.abort();
    const balancers: Balancer[] = [];
    for (const cache of this.caches.values()) balancers.push(...cache.open);
    this.world.unsubscribe(this, balancers);
  }

  /**
   * Build what the proxy holds for a config: its backends (kept, built or dropped against the
   * previous config's), and its budget — the previous one while the profile is the same, since
   * linkerd2-proxy builds a new `Budget` only from an update of that destination's profile.
   */
  private install(key: string, dest: Destination, previous: DestinationState | undefined): DestinationState {
    let cache = this.caches.get(key);
    if (cache === undefined) {
      cache = new BackendCache(this.backendHostFor(dest.service));
      this.caches.set(key, cache);
    }
    const profile = profileSignature(dest);
    const keep = previous !== undefined && profile !== undefined && previous.profile === profile;
    const budget = keep ? previous.budget : this.budgetFor(dest);
    const ledger = keep ? previous.ledger : budget === undefined ? undefined : new BudgetLedger(budget);
    return { dest, budget, ledger, profile, backends: cache.install(dest), cache, profileRoutes: new RouteMemo(), policyRoutes: new RouteMemo() };
  }

  private supersede(state: DestinationState): void {
    state.backends.superseded = true;
    if (state.backends.holders === 0) state.cache.release(state.backends);
  }

  private budgetFor(dest: Destination): RetryBudget | undefined {
    return dest.stack === "profile" && dest.budget !== undefined ? new RetryBudget(dest.budget, this.world.sim.nowUs) : undefined;
  }
}
