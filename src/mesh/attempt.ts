// One attempt of a request: the concrete backend distribution picks for it, the request its
// backend queue holds until P2C dispatches it or the queue fails it, and the timers the endpoint
// stack arms when it is dispatched. Distribution runs over the
// backends of the config the request entered the route with (`RandomAvailable` over weighted
// dstOverrides or backendRefs, `FirstAvailable` over one), as `NewDistribute` does in
// linkerd2-proxy `linkerd/distribute` @ release/v2.246.0; each retry samples again.

import { selectRandomAvailable } from "../policy/distribute.js";
import type { EffectiveBackend } from "../policy/http-route.js";
import type { RandomSource } from "../policy/random.js";
import {
  annotationAttemptTimeouts,
  errorToStatus,
  type ProxyErrorKind,
  resolveAttempt,
  wholeResponseTimer,
} from "../policy/request-timeouts.js";
import type { Balancer, BackendRequest, Endpoint } from "./balancer.js";
import type { BackendSet } from "./concrete-backends.js";
import type { Destination, RuleConfig, ServiceRef } from "./destination.js";
import type { HttpResponse } from "./http.js";

/** What an attempt reports to the request it belongs to. */
export interface AttemptOwner {
  /** P2C picked `endpoint` for the attempt. */
  sendAttempt(attempt: Attempt, endpoint: Endpoint): void;
  /** The attempt is over, with this answer. */
  attemptEnded(attempt: Attempt, res: HttpResponse): void;
}

export class Attempt implements BackendRequest {
  cancelled = false;
  done = false;
  endpoint: Endpoint | undefined;
  sentAtUs = 0;
  /** The endpoint stack's timer (per-try, response, deadline), once dispatched. */
  timer: number | undefined;
  /** What that timer ends the attempt with. */
  timerError: ProxyErrorKind | undefined;
  constructor(
    readonly owner: AttemptOwner,
    /** 1-based. */
    readonly n: number,
    /** When the attempt entered distribution, µs. */
    readonly startUs: number,
    readonly balancer: Balancer | undefined,
    /** The backend Service's name (metrics label); empty when none was chosen. */
    readonly backend: string,
    readonly backendRef?: ServiceRef,
  ) {}
  send(endpoint: Endpoint): void {
    this.owner.sendAttempt(this, endpoint);
  }
  fail(error: ProxyErrorKind): void {
    this.owner.attemptEnded(this, { status: errorToStatus(error), error });
  }
}

/**
 * A backend choice for one attempt: a balancer, a synthetic failure (a backendRef Linkerd answers
 * with 500), or none — every backend's gate is shut or its queue full, and the route's LoadShed
 * answers 503.
 */
export type Choice = { balancer: Balancer; backend: ServiceRef } | { failure: number; message: string } | undefined;

/** Pick a backend for an attempt of a request routed by `dest` (and `rule`, on the policy stack). */
export function chooseBackend(dest: Destination, rule: RuleConfig | undefined, backends: BackendSet, rng: RandomSource): Choice {
  if (dest.stack === "profile") {
    if (dest.targets.length === 0) {
      // FirstAvailable over the one backend: it, when ready.
      const b = backends.balancerOf(dest);
      return b !== undefined && b.isReady() ? { balancer: b, backend: dest.service } : undefined;
    }
    const options = dest.targets.map((t) => {
      const b = backends.balancerOf(t);
      return { weight: t.weight, ready: b?.isReady() ?? false, b, service: t.service };
    });
    const d = selectRandomAvailable(options, rng);
    return d.kind === "picked" && d.backend.b !== undefined ? { balancer: d.backend.b, backend: d.backend.service } : undefined;
  }
  if (rule === undefined) return undefined;
  const list = rule.backends.backends;
  if (rule.backends.kind === "first-available") {
    // The first ready backend in order, as `selectFirstAvailable` picks, without building its options.
    for (const be of list) {
      if (be.kind === "failure") return chosen(be, undefined);
      const b = backends.balancerOf(be);
      if (b !== undefined && b.isReady()) return chosen(be, b);
    }
    return undefined;
  }
  const d = selectRandomAvailable(list.map((be) => backendOption(be, backends)), rng);
  return d.kind === "picked" ? chosen(d.backend.be, d.backend.b) : undefined;
}

function chosen(be: EffectiveBackend, b: Balancer | undefined): Choice {
  if (be.kind === "failure") return { failure: be.status, message: be.message };
  return { balancer: b as Balancer, backend: { namespace: be.namespace, name: be.name, port: be.port } };
}

function backendOption(be: EffectiveBackend, backends: BackendSet): { weight: number; ready: boolean; be: EffectiveBackend; b: Balancer | undefined } {
  if (be.kind === "failure") return { weight: be.weight, ready: true, be, b: undefined };
  const b = backends.balancerOf(be);
  return { weight: be.weight, ready: b?.isReady() ?? false, be, b };
}

const NOTHING_ARMED = Object.freeze({ kind: "armed", timer: undefined } as const);

/**
 * What the endpoint stack (`EnforceTimeouts`, linkerd2-proxy `app/outbound/src/http/endpoint.rs`)
 * does with attempt `n` that P2C dispatches at `nowUs`: fail it at once when a timer is already
 * due — the request deadline passed while it queued or while its retry slept in backoff — or arm
 * the earliest of the deadline, its per-try and its response timer, counted from now. On the
 * ServiceProfile stack there is none here: the route timeout wraps the retry loop instead.
 */
export function endpointTimers(
  dest: Destination,
  rule: RuleConfig | undefined,
  n: number,
  deadlineUs: number | undefined,
  nowUs: number,
): { kind: "expired"; error: ProxyErrorKind } | { kind: "armed"; timer: { atUs: number; error: ProxyErrorKind } | undefined } {
  // The ServiceProfile stack arms nothing here (no deadline, no per-try or response timer), so
  // nothing can be due at dispatch and there is no timer to arm.
  if (dest.stack === "profile") return NOTHING_ARMED;
  const timeouts = annotationAttemptTimeouts(n, rule?.retry, rule?.timeouts ?? {}, deadlineUs);
  const atDispatch = resolveAttempt({ startUs: nowUs }, timeouts);
  if (atDispatch.kind === "headers-timeout" && atDispatch.atUs <= nowUs) return { kind: "expired", error: atDispatch.error };
  return { kind: "armed", timer: wholeResponseTimer(timeouts, nowUs) };
}
