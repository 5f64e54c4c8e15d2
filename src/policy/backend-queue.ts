// The queue in front of one concrete backend's P2C pool, with its fail-fast gate, as a pure state
// machine: `transitionBackendQueue(state, event) → {state, actions, reason}`. Mirrors
// `linkerd/proxy/balance/queue/src/{worker.rs,failfast.rs}` @ linkerd2-proxy release/v2.246.0.
// Deliberate differences: time is a parameter and the fail-fast sleep is an `arm-timer` action the
// caller schedules; the machine counts requests, the caller keeps them in a FIFO.

/** Queue parameters (proxy env `LINKERD2_PROXY_{OUTBOUND,INBOUND}_HTTP_{QUEUE_CAPACITY,FAILFAST_TIMEOUT}`). */
export interface BackendQueueConfig {
  /** Requests the channel holds, in requests. Default 10,000. The worker holds one more. */
  capacity: number;
  /** How long a request may wait on a pool with no ready endpoint before fail-fast, in µs. Default 3 s outbound, 1 s inbound. */
  failFastTimeoutUs: number;
}

/** Proxy v2.246.0 outbound defaults (the policy controller's `{100, 3s}` is ignored by the proxy). */
export const OUTBOUND_QUEUE_DEFAULTS: BackendQueueConfig = { capacity: 10_000, failFastTimeoutUs: 3_000_000 };
/**
 * Proxy v2.246.0 inbound defaults (`DEFAULT_INBOUND_HTTP_QUEUE_CAPACITY`,
 * `DEFAULT_INBOUND_HTTP_FAILFAST_TIMEOUT` in `linkerd/app/src/env.rs`): the queue in front of the
 * inbound proxy's client to the application (`linkerd/app/inbound/src/http/router.rs`). The
 * inbound server answers its FailFastError with 504 and its LoadShedError with 503
 * (`ServerRescue`, `linkerd/app/inbound/src/http/server.rs`), as the outbound server does.
 */
export const INBOUND_QUEUE_DEFAULTS: BackendQueueConfig = { capacity: 10_000, failFastTimeoutUs: 1_000_000 };

export type FailFastState =
  | { kind: "open" }
  /** A request has waited on a not-ready pool since `sinceUs`; the fail-fast timer is armed. */
  | { kind: "waiting"; sinceUs: number }
  /** The pool stayed not ready for the timeout; the gate is shut. `sinceUs` is when waiting began. */
  | { kind: "fail-fast"; sinceUs: number };

export interface BackendQueueState {
  readonly failFast: FailFastState;
  /** Requests accepted and not yet dispatched or failed (channel plus the one the worker holds). */
  readonly queued: number;
  /** The pool's readiness as last reported: at least one endpoint is ready. */
  readonly poolReady: boolean;
}

export type BackendQueueEvent =
  /** A request reaches the queue; the machine also answers for the LoadShed layer in front of it. */
  | { kind: "request-arrived"; nowUs: number }
  /** The pool's readiness now; report it on every change and after acting on each `dispatch-head`. */
  | { kind: "pool-readiness"; ready: boolean; nowUs: number }
  /** The timer from an `arm-timer` action fired. */
  | { kind: "fail-fast-timer"; nowUs: number };

export type BackendQueueAction =
  /** The arriving request is not accepted: the queue service is not ready, LoadShed answers 503. */
  | { kind: "reject"; error: "load-shed"; status: 503 }
  /** Append the arriving request to the caller's FIFO. */
  | { kind: "enqueue" }
  /** Pop the FIFO head and send it to the pool (P2C), then report `pool-readiness` again. */
  | { kind: "dispatch-head" }
  /** Pop `count` requests from the FIFO head and fail them with FailFastError (504). */
  | { kind: "fail-queued"; count: number; error: "fail-fast"; status: 504 }
  | { kind: "arm-timer"; atUs: number }
  | { kind: "cancel-timer" }
  | { kind: "gate-shut" }
  | { kind: "gate-opened" };

export interface BackendQueueStep {
  state: BackendQueueState;
  /** In order; shared and frozen on the hot path, so never modify it. */
  actions: readonly BackendQueueAction[];
  reason: string;
}

const REJECT: readonly BackendQueueAction[] = Object.freeze([Object.freeze({ kind: "reject", error: "load-shed", status: 503 } as const)]);
const ENQUEUE_AND_DISPATCH: readonly BackendQueueAction[] = Object.freeze([Object.freeze({ kind: "enqueue" } as const), Object.freeze({ kind: "dispatch-head" } as const)]);

export function initialBackendQueueState(poolReady: boolean): BackendQueueState {
  return { failFast: { kind: "open" }, queued: 0, poolReady };
}

/**
 * Whether the queue service accepts requests, i.e. what the route's LoadShed and the backend
 * distribution see: not while in fail-fast (gate shut) and not while full.
 */
export function isQueueServiceReady(state: BackendQueueState, config: BackendQueueConfig): boolean {
  return state.failFast.kind !== "fail-fast" && state.queued < maxQueued(config);
}

export function transitionBackendQueue(
  state: BackendQueueState,
  event: BackendQueueEvent,
  config: BackendQueueConfig,
): BackendQueueStep {
  switch (event.kind) {
    case "request-arrived":
      return onRequestArrived(state, event.nowUs, config);
    case "pool-readiness":
      return event.ready ? onPoolReady(state) : onPoolNotReady(state, event.nowUs, config);
    case "fail-fast-timer":
      return onFailFastTimer(state, event.nowUs, config);
  }
}

// The channel holds `capacity`; the worker has already taken one more out to wait on the pool
// (inherited from tower::buffer, kept upstream on purpose).
function maxQueued(config: BackendQueueConfig): number {
  return config.capacity + 1;
}

function onRequestArrived(state: BackendQueueState, nowUs: number, config: BackendQueueConfig): BackendQueueStep {
  if (state.failFast.kind === "fail-fast") {
    return { state, actions: REJECT, reason: "gate-shut-in-fail-fast" };
  }
  if (state.queued >= maxQueued(config)) {
    return { state, actions: REJECT, reason: "queue-full" };
  }
  // Enqueued and dispatched at once: the count goes up and down again, so the state is unchanged
  // (the hot path of every request through a ready backend: nothing allocated but the step).
  if (state.poolReady) return { state, actions: ENQUEUE_AND_DISPATCH, reason: "pool-ready" };
  const queued = { ...state, queued: state.queued + 1 };
  return startWaiting(queued, nowUs, config, [{ kind: "enqueue" }], "queued-pool-not-ready");
}

function onPoolReady(state: BackendQueueState): BackendQueueStep {
  const actions: BackendQueueAction[] = [];
  let reason = "pool-ready";
  if (state.failFast.kind === "waiting") {
    actions.push({ kind: "cancel-timer" });
    reason = "pool-ready-cleared-waiting";
  } else if (state.failFast.kind === "fail-fast") {
    actions.push({ kind: "gate-opened" });
    reason = "pool-ready-exited-fail-fast";
  }
  const next: BackendQueueState = { ...state, failFast: { kind: "open" }, poolReady: true };
  if (next.queued > 0) return dispatchHead(next, actions, reason);
  return { state: next, actions, reason };
}

function onPoolNotReady(state: BackendQueueState, nowUs: number, config: BackendQueueConfig): BackendQueueStep {
  const next: BackendQueueState = { ...state, poolReady: false };
  if (next.queued > 0) return startWaiting(next, nowUs, config, [], "pool-not-ready-with-queued");
  return { state: next, actions: [], reason: "pool-not-ready-nothing-waiting" };
}

function onFailFastTimer(state: BackendQueueState, nowUs: number, config: BackendQueueConfig): BackendQueueStep {
  const failFast = state.failFast;
  if (failFast.kind !== "waiting" || nowUs < failFast.sinceUs + config.failFastTimeoutUs) {
    return { state, actions: [], reason: "stale-timer-ignored" };
  }
  // Everything waiting fails at once: the worker fails the held request and then drains the
  // channel without waiting, and the shut gate keeps new requests out (LoadShed → 503).
  const actions: BackendQueueAction[] = [{ kind: "gate-shut" }];
  if (state.queued > 0) actions.push({ kind: "fail-queued", count: state.queued, error: "fail-fast", status: 504 });
  const next: BackendQueueState = { ...state, failFast: { kind: "fail-fast", sinceUs: failFast.sinceUs }, queued: 0 };
  return { state: next, actions, reason: "entered-fail-fast" };
}

function dispatchHead(state: BackendQueueState, actions: readonly BackendQueueAction[], reason: string): BackendQueueStep {
  const next: BackendQueueState = { ...state, queued: state.queued - 1 };
  return { state: next, actions: [...actions, { kind: "dispatch-head" }], reason };
}

// The fail-fast clock starts with the first request that waits, not when the pool went unready,
// and it keeps running across further arrivals until the pool becomes ready.
function startWaiting(
  state: BackendQueueState,
  nowUs: number,
  config: BackendQueueConfig,
  actions: readonly BackendQueueAction[],
  reason: string,
): BackendQueueStep {
  if (state.failFast.kind !== "open") return { state, actions, reason };
  const next: BackendQueueState = { ...state, failFast: { kind: "waiting", sinceUs: nowUs } };
  return { state: next, actions: [...actions, { kind: "arm-timer", atUs: nowUs + config.failFastTimeoutUs }], reason };
}

/** The same machine as a small stateful object, for callers that prefer methods. */
export class BackendQueue {
  private current: BackendQueueState;

  constructor(
    private readonly config: BackendQueueConfig,
    poolReady: boolean,
  ) {
    this.current = initialBackendQueueState(poolReady);
  }

  get state(): BackendQueueState {
    return this.current;
  }

  /** What LoadShed and distribution see. */
  isReady(): boolean {
    return isQueueServiceReady(this.current, this.config);
  }

  enqueue(nowUs: number): BackendQueueStep {
    return this.apply({ kind: "request-arrived", nowUs });
  }

  onPoolReadyChanged(ready: boolean, nowUs: number): BackendQueueStep {
    return this.apply({ kind: "pool-readiness", ready, nowUs });
  }

  onFailFastTimer(nowUs: number): BackendQueueStep {
    return this.apply({ kind: "fail-fast-timer", nowUs });
  }

  private apply(event: BackendQueueEvent): BackendQueueStep {
    const step = transitionBackendQueue(this.current, event, this.config);
    this.current = step.state;
    return step;
  }
}
