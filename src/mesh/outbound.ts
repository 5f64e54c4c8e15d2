// The outbound side of a meshed pod's proxy: resolve the destination, pick the routing stack and
// route, then run the retry loop — distribute over backends, queue and balance inside the
// concrete backend, time each attempt, classify the answer, decide whether to retry — and answer
// the application. Every decision is made by `src/policy/`; the flow here only sequences them in
// virtual time and records metrics and trace.

import { classifyResponse } from "../policy/classify.js";
import { selectFirstAvailable, selectRandomAvailable } from "../policy/distribute.js";
import type { EffectiveBackend } from "../policy/http-route.js";
import { matchProfileRoute, type ProfileRoute } from "../policy/profile-routes.js";
import {
  annotationAttemptTimeouts,
  errorToStatus,
  profileAttemptTimeouts,
  type ProxyErrorKind,
  requestDeadlineUs,
  wholeResponseTimer,
} from "../policy/request-timeouts.js";
import { RetryBudget } from "../policy/retry-budget.js";
import { decideAnnotationRetry, decideProfileRetry, decideRetryDispatch } from "../policy/retry-decision.js";
import { findRoute } from "../policy/route-match.js";
import { Priority } from "../sim/priority.js";
import type { Rng } from "../sim/rng.js";
import type { Balancer, BackendRequest, Endpoint } from "./balancer.js";
import type { Destination, RuleConfig, ServiceRef } from "./destination.js";
import { serviceKey } from "./destination.js";
import type { HttpRequest, HttpResponse, Respond } from "./http.js";
import { splitAuthority } from "./http.js";
import type { CounterName, CounterSeries, GaugeSeries, RequestSeries, SeriesLabels } from "./metrics.js";
import type { MeshWorld } from "./world-api.js";
import type { Client, Pod } from "./pod.js";

/** What a proxy remembers about one destination: the last config it received and its budget. */
export interface DestinationState {
  dest: Destination;
  /** One budget per profile update, shared by the destination's retryable routes (reset on update). */
  budget: RetryBudget | undefined;
}

/** The metric series one (traffic, service, route) of this proxy writes to, looked up once. */
class RouteSeries {
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
  attempt(backend: string): RequestSeries {
    let a = this.attempts.get(backend);
    if (a === undefined) {
      a = this.world.attempt({ ...this.labels, backend });
      this.attempts.set(backend, a);
    }
    return a;
  }
}

/** A backend choice made for one attempt: a balancer, or a synthetic failure (backendRef 500). */
type Choice = { balancer: Balancer; backend: ServiceRef } | { failure: number; message: string } | undefined;

export class OutboundProxy implements Client {
  private readonly destinations = new Map<string, DestinationState>();
  private readonly balancers = new Map<string, Balancer>();
  private readonly series = new Map<string, RouteSeries>();
  /** Per-request lookups by object identity, so the hot path builds no string keys. */
  private readonly destinationsByRef = new Map<ServiceRef, { key: string; state: DestinationState }>();
  private readonly balancersByRef = new Map<object, Balancer>();
  private readonly balancersByParent = new Map<string, Balancer[]>();
  /** Requests in progress, so a dying pod can end them. */
  readonly flows = new Set<RequestFlow>();
  private readonly seriesByRoute = new Map<string | undefined, Map<object, RouteSeries>>();
  private readonly resolved = new Map<string, { host: string; service: ServiceRef | undefined }>();
  readonly rng: Rng;

  constructor(readonly pod: Pod, readonly world: MeshWorld) {
    this.rng = world.rng(`proxy/${pod.cluster}/${pod.namespace}/${pod.name}`);
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

  /** The Service an authority names; Services never change during a run, so it is looked up once. */
  resolve(authority: string): { host: string; service: ServiceRef | undefined } {
    let r = this.resolved.get(authority);
    if (r === undefined) {
      const { host, port } = splitAuthority(authority);
      r = { host, service: this.world.resolveService(this.pod, host, port) };
      this.resolved.set(authority, r);
    }
    return r;
  }

  /** The destination config this proxy holds, subscribing on first use. */
  destination(service: ServiceRef): DestinationState {
    const byRef = this.destinationsByRef.get(service);
    if (byRef !== undefined && this.destinations.get(byRef.key) === byRef.state) return byRef.state;
    const key = serviceKey(service);
    let state = this.destinations.get(key);
    if (state === undefined) {
      state = { dest: this.world.subscribeDestination(this, service), budget: undefined };
      state.budget = this.budgetFor(state.dest);
      this.destinations.set(key, state);
    }
    this.destinationsByRef.set(service, { key, state });
    return state;
  }

  /** A config update reached this proxy: replace it, with a fresh budget as Linkerd does. */
  updateDestination(dest: Destination): void {
    const key = serviceKey(dest.service);
    this.destinations.set(key, { dest, budget: this.budgetFor(dest) });
    // Failure accrual exists only on the client-policy stack (forced off on the profile stack).
    const accrual = dest.stack === "policy" ? dest.accrual : undefined;
    for (const b of this.balancersByParent.get(key) ?? []) b.setAccrual(accrual);
    this.world.emit("proxy.config-updated", { pod: this.pod.name, service: key, stack: dest.stack, reason: "destination-update" });
  }

  /** The balancer for a backend, looked up by the config object that names it. */
  balancerFor(ref: object, parent: Destination, backend: ServiceRef): Balancer {
    let b = this.balancersByRef.get(ref);
    if (b === undefined) {
      b = this.balancer(parent, backend);
      this.balancersByRef.set(ref, b);
    }
    return b;
  }

  /** Concrete backends are per (parent Service, backend Service), as the proxy's stacks are. */
  balancer(parent: Destination, backend: ServiceRef): Balancer {
    const parentKey = serviceKey(parent.service);
    const key = `${parentKey}>${serviceKey(backend)}`;
    let b = this.balancers.get(key);
    if (b === undefined) {
      b = this.world.newBalancer(this, backend, parent.stack === "policy" ? parent.accrual : undefined);
      this.balancers.set(key, b);
      this.balancersByParent.set(parentKey, [...(this.balancersByParent.get(parentKey) ?? []), b]);
    }
    return b;
  }

  /** The pod died: every request it was proxying ends, and it stops listening to the control plane. */
  abandon(): void {
    for (const flow of [...this.flows]) flow.abort();
    this.world.unsubscribe(this, [...this.balancers.values()]);
  }

  private budgetFor(dest: Destination): RetryBudget | undefined {
    return dest.stack === "profile" && dest.budget !== undefined ? new RetryBudget(dest.budget, this.world.sim.nowUs) : undefined;
  }
}

class Attempt implements BackendRequest {
  cancelled = false;
  done = false;
  endpoint: Endpoint | undefined;
  sentAtUs = 0;
  timer: number | undefined;
  constructor(
    readonly flow: RequestFlow,
    readonly n: number,
    readonly startUs: number,
    readonly balancer: Balancer | undefined,
    readonly backend: string,
    readonly backendRef?: ServiceRef,
  ) {}
  send(endpoint: Endpoint): void {
    this.flow.sendAttempt(this, endpoint);
  }
  fail(error: ProxyErrorKind): void {
    this.flow.attemptEnded(this, { status: errorToStatus(error), error });
  }
}

class RequestFlow {
  private readonly world: MeshWorld;
  private readonly startUs: number;
  private state!: DestinationState;
  private profileRoute: ProfileRoute | undefined;
  private ruleConfig: RuleConfig | undefined;
  private routeName = "";
  private serviceLabel = "";
  private deadlineUs: number | undefined;
  private deadlineTimer: number | undefined;
  private backoffTimer: number | undefined;
  /** The attempt in flight (or waiting in a backend queue), if any. */
  private current: Attempt | undefined;
  private attempts = 0;
  private finished = false;

  constructor(
    private readonly proxy: OutboundProxy,
    private readonly request: HttpRequest,
    private readonly respond: Respond,
    private readonly traffic: string | undefined,
  ) {
    this.world = proxy.world;
    this.startUs = this.world.sim.nowUs;
    this.world.requestStarted(request);
    proxy.flows.add(this);
  }

  start(): void {
    const { host, service } = this.proxy.resolve(this.request.authority);
    this.serviceLabel = host;
    if (service === undefined) return this.finish({ status: 502, error: "other" }, "unknown-service");
    // Series are labelled by Service name, as `linkerd viz stat svc/<name>` names them.
    this.serviceLabel = service.name;
    this.state = this.proxy.destination(service);
    const dest = this.state.dest;
    let timeoutUs: number | undefined;
    if (dest.stack === "profile") {
      const decision = matchProfileRoute(dest.routes, { method: this.request.method, path: this.request.path });
      this.profileRoute = decision.route;
      this.routeName = decision.route.name;
      timeoutUs = decision.route.timeoutUs;
    } else {
      const sel = findRoute(dest.routes, { host, path: this.request.path, method: this.request.method, headers: {} });
      if (!sel.matched) {
        // Routes are attached to this Service, so there is no default route to fall back on.
        this.routeName = "[no route]";
        this.world.emit("route.not-found", { service: this.serviceLabel, path: this.request.path, reason: "no-route" });
        return this.finish({ status: 404, error: "no-route" }, "no-route", false);
      }
      this.ruleConfig = dest.rules.get(sel.rule);
      this.routeName = this.ruleConfig?.routeName ?? sel.route.name;
      timeoutUs = this.ruleConfig?.timeouts.requestUs;
    }
    this.deadlineUs = requestDeadlineUs(this.startUs, timeoutUs);
    this.series().inFlight.change(1, this.startUs);
    if (this.deadlineUs !== undefined) {
      // The deadline is fixed at route entry and covers every attempt and every backoff.
      this.deadlineTimer = this.world.sim.scheduleAt(this.deadlineUs, () => this.deadlineReached(), undefined, Priority.Timeout, this.proxy.pod);
    }
    this.attempt();
  }

  /**
   * The request deadline (ServiceProfile route `timeout`, or `timeout.linkerd.io/request`) fired:
   * the request ends with 504 whatever it was doing. On the profile stack the timeout layer sits
   * outside the retry layer, so the budget sees nothing of it (no deposit).
   */
  private deadlineReached(): void {
    this.deadlineTimer = undefined;
    if (this.finished) return;
    const error: ProxyErrorKind = this.state.dest.stack === "profile" ? "route-timeout" : "request-timeout";
    const res: HttpResponse = { status: errorToStatus(error), error };
    if (this.backoffTimer !== undefined) this.world.sim.cancel(this.backoffTimer);
    const current = this.current;
    if (current !== undefined && !current.done) {
      this.series().counter("timeouts").add(this.world.sim.nowUs);
      this.closeAttempt(current, res);
    }
    this.finish(res, error);
  }

  /** The client pod died: stop everything this request was doing. */
  abort(): void {
    if (this.finished) return;
    if (this.backoffTimer !== undefined) this.world.sim.cancel(this.backoffTimer);
    const current = this.current;
    if (current !== undefined && !current.done) {
      current.done = true;
      current.cancelled = true;
      if (current.timer !== undefined) this.world.sim.cancel(current.timer);
    }
    this.finish({ status: 502, error: "reset", from: "client-pod-killed" }, "client-pod-killed");
  }

  private seriesCache: RouteSeries | undefined;
  private series(): RouteSeries {
    const ref = this.profileRoute ?? this.ruleConfig;
    this.seriesCache ??=
      ref === undefined
        ? this.proxy.routeSeries(this.traffic, this.serviceLabel, this.routeName)
        : this.proxy.routeSeriesFor(this.traffic, ref, this.serviceLabel, this.routeName);
    return this.seriesCache;
  }

  private attempt(): void {
    this.attempts += 1;
    const now = this.world.sim.nowUs;
    const choice = this.chooseBackend();
    if (choice === undefined) {
      return this.attemptEnded(new Attempt(this, this.attempts, now, undefined, ""), { status: 503, error: "load-shed" });
    }
    if ("failure" in choice) {
      this.world.emit("attempt.injected-failure", { route: this.routeName, reason: choice.message });
      return this.attemptEnded(new Attempt(this, this.attempts, now, undefined, ""), { status: choice.failure, from: "proxy-backend" });
    }
    const attempt = new Attempt(this, this.attempts, now, choice.balancer, choice.backend.name, choice.backend);
    this.current = attempt;
    // The request deadline has its own timer; an attempt only arms its per-try and response timers.
    const timeouts =
      this.state.dest.stack === "profile"
        ? profileAttemptTimeouts(undefined)
        : annotationAttemptTimeouts(attempt.n, this.ruleConfig?.retry, this.ruleConfig?.timeouts ?? {}, undefined);
    const timer = wholeResponseTimer(timeouts, now);
    if (timer !== undefined) {
      attempt.timer = this.world.sim.scheduleAt(timer.atUs, () => this.timedOut(attempt, timer.error), undefined, Priority.Timeout, this.proxy.pod);
    }
    choice.balancer.submit(attempt);
  }

  private chooseBackend(): Choice {
    const dest = this.state.dest;
    if (dest.stack === "profile") {
      if (dest.targets.length === 0) {
        const b = this.proxy.balancerFor(dest, dest, dest.service);
        return selectFirstAvailable([{ ready: b.isReady(), b }]).kind === "picked" ? { balancer: b, backend: dest.service } : undefined;
      }
      const options = dest.targets.map((t) => {
        const b = this.proxy.balancerFor(t, dest, t.service);
        return { weight: t.weight, ready: b.isReady(), b, service: t.service };
      });
      const d = selectRandomAvailable(options, this.proxy.rng);
      return d.kind === "picked" ? { balancer: d.backend.b, backend: d.backend.service } : undefined;
    }
    const cfg = this.ruleConfig;
    if (cfg === undefined) return undefined;
    const options = cfg.backends.backends.map((be) => this.backendOption(be, dest));
    const d = cfg.backends.kind === "first-available" ? selectFirstAvailable(options) : selectRandomAvailable(options, this.proxy.rng);
    if (d.kind !== "picked") return undefined;
    const be = d.backend.be;
    if (be.kind === "failure") return { failure: be.status, message: be.message };
    return { balancer: d.backend.b as Balancer, backend: { namespace: be.namespace, name: be.name, port: be.port } };
  }

  private backendOption(be: EffectiveBackend, dest: Destination): { weight: number; ready: boolean; be: EffectiveBackend; b: Balancer | undefined } {
    if (be.kind === "failure") return { weight: be.weight, ready: true, be, b: undefined };
    const b = this.proxy.balancerFor(be, dest, { namespace: be.namespace, name: be.name, port: be.port });
    return { weight: be.weight, ready: b.isReady(), be, b };
  }

  sendAttempt(attempt: Attempt, endpoint: Endpoint): void {
    attempt.endpoint = endpoint;
    attempt.sentAtUs = this.world.sim.nowUs;
    const override = attempt.balancer?.authorityOverride;
    // A gateway-mode mirror's endpoint is the remote gateway, which routes by the remote FQDN.
    const r = this.request;
    const request: HttpRequest = override === undefined ? r : { method: r.method, path: r.path, authority: override, bodyBytes: r.bodyBytes, origin: r.origin };
    this.world.transmit(this.proxy.pod, endpoint.pod, request, (res) => {
      if (!attempt.done) this.attemptEnded(attempt, res);
    });
  }

  private timedOut(attempt: Attempt, error: ProxyErrorKind): void {
    attempt.timer = undefined;
    if (attempt.done) return;
    this.series().counter("timeouts").add(this.world.sim.nowUs);
    this.attemptEnded(attempt, { status: errorToStatus(error), error });
  }

  attemptEnded(attempt: Attempt, res: HttpResponse): void {
    if (attempt.done || this.finished) return;
    const failure = this.closeAttempt(attempt, res);
    if (this.state.dest.stack === "profile") this.afterProfileAttempt(res, failure);
    else this.afterPolicyAttempt(attempt, res, failure);
  }

  /** Account for an attempt that ended: timers, load and breaker feedback, metrics. Returns its class. */
  private closeAttempt(attempt: Attempt, res: HttpResponse): boolean {
    attempt.done = true;
    attempt.cancelled = true;
    const now = this.world.sim.nowUs;
    if (attempt.timer !== undefined) this.world.sim.cancel(attempt.timer);
    const failure = classifyResponse(this.profileRoute?.responseClasses ?? [], {
      status: res.status,
      isGrpc: false,
      ...(res.error === undefined ? {} : { error: res.error }),
    }).failure;
    if (attempt.endpoint !== undefined) {
      attempt.balancer?.complete(attempt.endpoint, attempt.sentAtUs, failure, res.error === "connect-error");
    }
    this.series().attempt(attempt.backend).record(attempt.startUs, now, !failure, res.status);
    if (attempt.backendRef !== undefined) this.world.attemptOutcome(this.proxy.pod, attempt.backendRef, !failure);
    if (res.error === "fail-fast") this.series().counter("failFast").add(now);
    else if (res.error === "load-shed") this.series().counter("loadShed").add(now);
    if (failure) {
      this.world.emit("attempt.failed", { route: this.routeName, attempt: attempt.n, status: res.status, reason: res.error ?? res.from ?? "status" });
    }
    return failure;
  }

  private afterProfileAttempt(res: HttpResponse, failure: boolean): void {
    const route = this.profileRoute as ProfileRoute;
    const decision = decideProfileRetry({
      isRetryable: route.isRetryable,
      budget: this.state.budget,
      outcome: res.error !== undefined ? { kind: "error", error: res.error } : { kind: "response", isFailure: failure },
      body: { bytes: this.request.bodyBytes },
      nowUs: this.world.sim.nowUs,
    });
    if (decision.reason === "budget-exhausted") {
      this.series().counter("budgetExhausted").add(this.world.sim.nowUs);
      this.world.emit("retry.skipped", { route: this.routeName, reason: decision.reason });
    }
    if (!decision.retry) return this.finish(res, decision.reason, failure);
    this.series().counter("retries").add(this.world.sim.nowUs);
    this.world.emit("retry.granted", { route: this.routeName, attempt: this.attempts + 1, reason: decision.reason });
    this.attempt();
  }

  private afterPolicyAttempt(attempt: Attempt, res: HttpResponse, failure: boolean): void {
    const decision = decideAnnotationRetry({
      retry: this.ruleConfig?.retry,
      attempt: attempt.n,
      outcome: res.error !== undefined ? { kind: "error", error: res.error } : { kind: "response", status: res.status },
      body: { bytes: this.request.bodyBytes },
      rng: this.proxy.rng,
    });
    if (!decision.retry) {
      if (decision.reason === "limit-exceeded") {
        this.series().counter("limitExceeded").add(this.world.sim.nowUs);
        this.world.emit("retry.skipped", { route: this.routeName, reason: decision.reason });
      }
      return this.finish(res, decision.reason, failure);
    }
    this.backoffTimer = this.world.sim.schedule(decision.delayUs, () => {
      this.backoffTimer = undefined;
      if (this.finished) return;
      const dispatch = decideRetryDispatch(this.innerReady());
      if (!dispatch.dispatch) {
        this.world.emit("retry.skipped", { route: this.routeName, reason: dispatch.reason });
        return this.finish(res, dispatch.reason, failure);
      }
      this.series().counter("retries").add(this.world.sim.nowUs);
      this.world.emit("retry.granted", { route: this.routeName, attempt: this.attempts + 1, reason: decision.reason });
      this.attempt();
    }, undefined, Priority.Timeout, this.proxy.pod);
  }

  /** The route's inner service is ready if distribution could pick a backend right now. */
  private innerReady(): boolean {
    const cfg = this.ruleConfig;
    if (cfg === undefined) return false;
    return cfg.backends.backends.some((be) => this.backendOption(be, this.state.dest).ready);
  }

  private finish(res: HttpResponse, reason: string, failure = true): void {
    if (this.finished) return;
    this.finished = true;
    this.proxy.flows.delete(this);
    if (this.deadlineTimer !== undefined) this.world.sim.cancel(this.deadlineTimer);
    const now = this.world.sim.nowUs;
    const status = res.error !== undefined ? errorToStatus(res.error) : res.status;
    this.series().request.record(this.startUs, now, !failure, status);
    if (this.attempts > 0) this.series().inFlight.change(-1, now);
    if (failure) this.world.emit("request.failed", { route: this.routeName, status, reason });
    this.world.requestEnded(this.request);
    this.respond(res.error !== undefined ? { status, error: res.error } : res);
  }
}
