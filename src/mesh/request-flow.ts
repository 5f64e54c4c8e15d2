// One request through a client proxy's outbound stack, in the order linkerd2-proxy v2.246 stacks
// it: pick the routing stack and route, fix the request deadline, then the retry loop —
// distribute over the backends the route entered with, the concrete backend's queue and P2C,
// the endpoint's timeouts, classify, decide on a retry — and answer the application. Every
// decision is `src/policy/`'s; this file says where each one is taken and for how long.
//
// Where the timers live differs by stack:
// - Client-policy stack (HTTPRoute/GRPCRoute, annotations): the deadline's instant is fixed at
//   route entry but enforced only by the endpoint stack (`EnforceTimeouts` in
//   `linkerd/app/outbound/src/http/endpoint.rs`), below the queue and P2C. So the per-try and
//   response timers start when P2C dispatches the attempt, nothing interrupts a request waiting in
//   a backend queue (fail-fast ends that) or a retry sleeping in backoff, and an attempt dispatched
//   after the deadline fails there at once with 504 before anything is sent to the server.
// - ServiceProfile stack: the route timeout wraps the retry loop (`RouteParams::layer` in
//   `.../http/logical/profile.rs`), so it interrupts whatever the request is doing — queued, in
//   flight — and the budget never hears of the attempt it cut short.

import { matchProfileRoute, type ProfileRoute } from "../policy/profile-routes.js";
import { errorToStatus, type ProxyErrorKind, requestDeadlineUs } from "../policy/request-timeouts.js";
import { decideAnnotationRetry, decideProfileRetry } from "../policy/retry-decision.js";
import { findRoute } from "../policy/route-match.js";
import { Priority } from "../sim/priority.js";
import { Attempt, type AttemptOwner, chooseBackend, endpointTimers } from "./attempt.js";
import type { Endpoint } from "./balancer.js";
import { annotationOutcome, type AttemptClass, type AttemptClassifier, classifyAttempt, routeRequest } from "./classification.js";
import type { BackendSet } from "./concrete-backends.js";
import { type Destination, type RuleConfig, serviceKey } from "./destination.js";
import { failureCause } from "./failure-book.js";
import type { Holdable } from "./held-list.js";
import type { HttpRequest, HttpResponse, Respond } from "./http.js";
import type { DestinationState, OutboundProxy, RouteSeries } from "./outbound.js";
import { RouteMemo } from "./route-memo.js";
import type { MeshWorld } from "./world-api.js";

/** What a finished flow answers to: nothing (see `letGo`). */
const FINISHED: Respond = () => {};

/** An attempt's endpoint timer fired: the event's argument is the attempt, its error on it. */
const attemptTimerFired = (attempt: Attempt): void => (attempt.owner as RequestFlow).attemptTimedOut(attempt);

export class RequestFlow implements AttemptOwner, Holdable {
  /** Its index in the proxy's `flows` (held-list.ts). */
  heldAt = -1;
  private readonly world: MeshWorld;
  private readonly startUs: number;
  private state: DestinationState | undefined;
  /** The backends of the config the request entered with; its retries use them too. */
  private backends!: BackendSet;
  private profileRoute: ProfileRoute | undefined;
  private ruleConfig: RuleConfig | undefined;
  /** The kind of client-policy route the request took, which picks its classifier. */
  private routeKind: "http" | "grpc" = "http";
  private routeName = "";
  private serviceLabel = "";
  /** The request deadline's instant, fixed at route entry; absent ⇒ none. */
  private deadlineUs: number | undefined;
  /** ServiceProfile stack only: the route timeout, armed at route entry around the retry loop. */
  private routeTimer: number | undefined;
  private backoffTimer: number | undefined;
  /** The attempt in flight (or waiting in a backend queue), if any. */
  private current: Attempt | undefined;
  private attempts = 0;
  private finished = false;
  /** An attempt went on the wire, paying this proxy's hop (data-plane.ts senderHopUs). */
  private forwarded = false;
  /** The answer of a request this proxy answered itself is on its way to the app. */
  private answering = false;

  constructor(
    private readonly proxy: OutboundProxy,
    private readonly request: HttpRequest,
    private respond: Respond,
    private readonly traffic: string | undefined,
  ) {
    this.world = proxy.world;
    this.startUs = this.world.sim.nowUs;
    this.world.requestStarted(request);
    proxy.flows.add(this);
  }

  private get dest(): Destination {
    return (this.state as DestinationState).dest;
  }

  start(): void {
    const { host, service } = this.proxy.resolve(this.request.authority);
    this.serviceLabel = host;
    if (service === undefined) return this.finish({ status: 502, error: "other" }, "unknown-service");
    // Series are labelled by Service name, as `linkerd viz stat svc/<name>` names them.
    this.serviceLabel = service.name;
    const state = this.proxy.destination(service);
    this.state = state;
    this.backends = state.backends;
    this.backends.holders += 1;
    const dest = state.dest;
    let timeoutUs: number | undefined;
    const r = this.request;
    const memo = RouteMemo.cacheable(r.headers);
    if (dest.stack === "profile") {
      let route = memo ? state.profileRoutes.get(r.path, r.method, "", r.headers) : undefined;
      if (route === undefined) {
        route = matchProfileRoute(dest.routes, { method: r.method, path: r.path }).route;
        if (memo) state.profileRoutes.set(r.path, r.method, "", r.headers, route);
      }
      this.profileRoute = route;
      this.routeName = route.name;
      timeoutUs = route.timeoutUs;
    } else {
      let choice = memo ? state.policyRoutes.get(r.path, r.method, host, r.headers) : undefined;
      if (choice === undefined) {
        const sel = findRoute(dest.routes, routeRequest(r, host));
        choice = sel.matched ? { rule: sel.rule, kind: sel.route.kind === "GRPCRoute" ? "grpc" : "http", name: sel.route.name } : undefined;
        if (memo) state.policyRoutes.set(r.path, r.method, host, r.headers, choice);
      }
      if (choice === undefined) {
        // Routes are attached to this Service, so there is no default route to fall back on.
        this.routeName = "[no route]";
        this.world.emit("route.not-found", { service: this.serviceLabel, path: this.request.path, reason: "no-route" });
        return this.finish({ status: 404, error: "no-route" }, "no-route", false);
      }
      this.ruleConfig = dest.rules.get(choice.rule);
      this.routeKind = choice.kind;
      this.routeName = this.ruleConfig?.routeName ?? choice.name;
      timeoutUs = this.ruleConfig?.timeouts.requestUs;
    }
    this.deadlineUs = requestDeadlineUs(this.startUs, timeoutUs);
    this.series().inFlight.change(1, this.startUs);
    if (dest.stack === "profile" && this.deadlineUs !== undefined) {
      this.routeTimer = this.world.sim.scheduleAt(this.deadlineUs, () => this.routeTimeoutReached(), undefined, Priority.Timeout, this.proxy.pod);
    }
    this.attempt();
  }

  /**
   * The ServiceProfile route timeout fired: the request ends with 504 whatever it was doing. The
   * timeout layer sits outside the retry layer, so the budget sees nothing of it (no deposit).
   */
  private routeTimeoutReached(): void {
    this.routeTimer = undefined;
    if (this.finished) return;
    const res: HttpResponse = { status: errorToStatus("route-timeout"), error: "route-timeout" };
    if (this.backoffTimer !== undefined) this.world.sim.cancel(this.backoffTimer);
    const current = this.current;
    if (current !== undefined && !current.done) {
      this.series().counter("timeouts").add(this.world.sim.nowUs);
      this.closeAttempt(current, res);
    }
    this.finish(res, "route-timeout");
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

  private classifierCache: AttemptClassifier | undefined;
  /** Which classifier judges this request's attempts (fixed once the route is chosen). */
  private classifier(): AttemptClassifier {
    this.classifierCache ??= this.profileRoute !== undefined ? { stack: "profile", responseClasses: this.profileRoute.responseClasses } : { stack: "policy", routeKind: this.routeKind };
    return this.classifierCache;
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

  /** Send one attempt into distribution; no timer runs until P2C dispatches it (`sendAttempt`). */
  private attempt(): void {
    this.attempts += 1;
    const now = this.world.sim.nowUs;
    const choice = chooseBackend(this.dest, this.ruleConfig, this.backends, this.proxy.distributeRng);
    if (choice === undefined) {
      // Every backend's gate is shut (or its queue full): the route's LoadShed answers 503.
      return this.attemptEnded(new Attempt(this, this.attempts, now, undefined, ""), { status: 503, error: "load-shed" });
    }
    if ("failure" in choice) {
      this.world.emit("attempt.injected-failure", { route: this.routeName, reason: choice.message });
      return this.attemptEnded(new Attempt(this, this.attempts, now, undefined, ""), { status: choice.failure, from: "proxy-backend" });
    }
    const attempt = new Attempt(this, this.attempts, now, choice.balancer, choice.backend.name, choice.backend);
    this.current = attempt;
    choice.balancer.submit(attempt);
  }

  /** P2C picked `endpoint`: the endpoint stack arms the attempt's timers now, then sends it. */
  sendAttempt(attempt: Attempt, endpoint: Endpoint): void {
    const now = this.world.sim.nowUs;
    attempt.endpoint = endpoint;
    attempt.sentAtUs = now;
    const timers = endpointTimers(this.dest, this.ruleConfig, attempt.n, this.deadlineUs, now);
    if (timers.kind === "expired") {
      // Answered in the same instant, once the queue has finished dispatching.
      this.world.emit("attempt.expired", { route: this.routeName, attempt: attempt.n, reason: "dispatched-after-deadline" });
      attempt.timer = this.world.sim.schedule(0, () => this.timedOut(attempt, timers.error), undefined, Priority.Completion, this.proxy.pod);
      return;
    }
    const timer = timers.timer;
    if (timer !== undefined) {
      attempt.timerError = timer.error;
      attempt.timer = this.world.sim.scheduleAt(timer.atUs, attemptTimerFired, attempt, Priority.Timeout, this.proxy.pod);
    }
    this.forwarded = true;
    const override = attempt.balancer?.authorityOverride;
    // A gateway-mode mirror's endpoint is the remote gateway, which routes by the remote FQDN.
    const r = this.request;
    const request: HttpRequest = override === undefined ? r : { ...r, authority: override };
    this.world.transmit(this.proxy.pod, endpoint.pod, request, (res) => {
      if (!attempt.done) this.attemptEnded(attempt, res);
    });
  }

  /** The endpoint timer armed at dispatch fired. */
  attemptTimedOut(attempt: Attempt): void {
    this.timedOut(attempt, attempt.timerError as ProxyErrorKind);
  }

  private timedOut(attempt: Attempt, error: ProxyErrorKind): void {
    attempt.timer = undefined;
    if (attempt.done) return;
    this.series().counter("timeouts").add(this.world.sim.nowUs);
    this.attemptEnded(attempt, { status: errorToStatus(error), error });
  }

  attemptEnded(attempt: Attempt, res: HttpResponse): void {
    if (attempt.done || this.finished) return;
    const judged = this.closeAttempt(attempt, res);
    if (this.dest.stack === "profile") this.afterProfileAttempt(res, judged);
    else this.afterPolicyAttempt(attempt, res, judged.failure);
  }

  /** Account for an attempt that ended: timers, load and breaker feedback, metrics. Returns its class. */
  private closeAttempt(attempt: Attempt, res: HttpResponse): AttemptClass {
    attempt.done = true;
    attempt.cancelled = true;
    const now = this.world.sim.nowUs;
    if (attempt.timer !== undefined) this.world.sim.cancel(attempt.timer);
    const judged = classifyAttempt(this.classifier(), this.request, res);
    const failure = judged.failure;
    if (attempt.endpoint !== undefined) {
      attempt.balancer?.complete(attempt.endpoint, attempt.sentAtUs, failure, res.error === "connect-error");
    }
    this.series().attempt(attempt.backend).record(attempt.startUs, now, !failure, res.status, res.grpcStatus);
    if (attempt.backendRef !== undefined) this.world.attemptOutcome(this.proxy.pod, attempt.backendRef, !failure);
    if (res.error === "fail-fast") this.series().counter("failFast").add(now);
    else if (res.error === "load-shed") this.series().counter("loadShed").add(now);
    if (failure) {
      this.world.emit("attempt.failed", { route: this.routeName, attempt: attempt.n, status: res.status, reason: res.error ?? res.from ?? "status" });
    }
    return judged;
  }

  private afterProfileAttempt(res: HttpResponse, judged: AttemptClass): void {
    const failure = judged.failure;
    const route = this.profileRoute as ProfileRoute;
    const decision = decideProfileRetry({
      isRetryable: route.isRetryable,
      budget: this.state?.budget,
      // The retry judges the answer without trailers that come after a streamed body.
      outcome: res.error !== undefined ? { kind: "error", error: res.error } : { kind: "response", isFailure: judged.failureSeenByRetry },
      body: { bytes: this.request.bodyBytes },
      nowUs: this.world.sim.nowUs,
    });
    this.audit(decision.deposited, decision.retry);
    if (decision.reason === "budget-exhausted") {
      this.series().counter("budgetExhausted").add(this.world.sim.nowUs);
      this.world.emit("retry.skipped", { route: this.routeName, reason: decision.reason });
    }
    if (!decision.retry) return this.finish(res, decision.reason, failure, decision.reason);
    this.series().counter("retries").add(this.world.sim.nowUs);
    this.world.emit("retry.granted", { route: this.routeName, attempt: this.attempts + 1, reason: decision.reason });
    this.attempt();
  }

  /** Tell the budget's online checker what this decision did; it reports an overspent budget. */
  private audit(deposited: boolean, retried: boolean): void {
    const ledger = this.state?.ledger;
    if (ledger === undefined) return;
    const now = this.world.sim.nowUs;
    if (deposited) ledger.deposited(now);
    const broke = retried ? ledger.retried(now) : undefined;
    if (broke !== undefined) this.world.violated?.(`${this.proxy.pod.label} → ${serviceKey(this.dest.service)}: ${broke}`);
  }

  /**
   * After the backoff the retry is always sent: the route's LoadShed, the retry layer's inner
   * service, always answers ready in v2.246 (`linkerd/stack/src/loadshed.rs`), so the retry is
   * counted and, if every backend's gate is shut, shed with 503 (not retryable) in `attempt()`.
   */
  private afterPolicyAttempt(attempt: Attempt, res: HttpResponse, failure: boolean): void {
    const decision = decideAnnotationRetry({
      retry: this.ruleConfig?.retry,
      attempt: attempt.n,
      outcome: annotationOutcome(res),
      body: { bytes: this.request.bodyBytes },
      rng: this.proxy.backoffRng,
    });
    if (!decision.retry) {
      if (decision.reason === "limit-exceeded") {
        this.series().counter("limitExceeded").add(this.world.sim.nowUs);
        this.world.emit("retry.skipped", { route: this.routeName, reason: decision.reason });
      }
      // An error nothing retries is named for what it was (`request-timeout`, `load-shed`, …).
      const reason = decision.reason === "not-retryable" && res.error !== undefined ? res.error : decision.reason;
      return this.finish(res, reason, failure, decision.reason);
    }
    this.backoffTimer = this.world.sim.schedule(decision.delayUs, () => {
      this.backoffTimer = undefined;
      if (this.finished) return;
      this.series().counter("retries").add(this.world.sim.nowUs);
      this.world.emit("retry.granted", { route: this.routeName, attempt: this.attempts + 1, reason: decision.reason });
      this.attempt();
    }, undefined, Priority.Timeout, this.proxy.pod);
  }

  /** `retry`: the retry layer's last verdict (why the request was not retried further); `-` outside it. */
  private finish(res: HttpResponse, reason: string, failure = true, retry = "-"): void {
    if (this.finished) return;
    if (!this.forwarded && !this.answering) {
      // Nothing went on the wire, so the proxy's own pass has not been paid: an answer the proxy
      // makes itself (no route, load shed, an injected failure) takes one hop, never zero time.
      this.answering = true;
      const hopUs = this.world.proxyHopUs(this.proxy.pod);
      if (hopUs > 0) {
        this.world.sim.schedule(hopUs, () => this.finish(res, reason, failure, retry), undefined, Priority.Completion, this.proxy.pod);
        return;
      }
    }
    this.finished = true;
    this.proxy.flows.delete(this);
    if (this.routeTimer !== undefined) this.world.sim.cancel(this.routeTimer);
    if (this.state !== undefined) this.proxy.flowEnded(this.state);
    const now = this.world.sim.nowUs;
    const status = res.error !== undefined ? errorToStatus(res.error) : res.status;
    this.series().request.record(this.startUs, now, !failure, status, res.error === undefined ? res.grpcStatus : undefined);
    if (this.attempts > 0) this.series().inFlight.change(-1, now);
    if (failure) {
      this.world.emit("request.failed", { route: this.routeName, status, reason });
      this.series().failed({ ...res, status }, failureCause(res, reason), retry);
    }
    this.world.requestEnded(this.request, status);
    const respond = this.respond;
    this.letGo();
    respond(res.error !== undefined ? { status, error: res.error } : res);
  }

  /**
   * A finished flow drops its links to the rest of the request (caller's callback, last attempt,
   * destination state). Nothing reads them once `finished` is set, and a flow that lived long
   * enough to reach the old generation would otherwise keep everything they reach alive until the
   * next full collection (the young collector treats old objects as roots): with thousands of
   * requests in flight that doubled the time spent in garbage collection.
   */
  private letGo(): void {
    this.respond = FINISHED;
    this.current = undefined;
    this.state = undefined;
  }
}
