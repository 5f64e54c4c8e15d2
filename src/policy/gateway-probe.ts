// Multicluster gateway probe worker and the liveness the cluster watcher keeps from it.
// Mirrors linkerd2 `multicluster/service-mirror/{probe_worker.go,jittered_ticker.go}` and the
// `gatewayAlive` field of `cluster_watcher.go` @ version-2.16. Deliberate differences: time and
// randomness are parameters (upstream sleeps and uses math/rand); gauges are plain state fields.
// 2.16 has no failure threshold (one failed probe flips liveness); `failureThreshold` defaults to 1
// and only exists to model later Link versions (`probeSpec.failureThreshold`).

import type { RandomSource } from "./random.js";

/** HTTP client timeout of every probe request (hard-coded upstream in 2.16). */
export const GATEWAY_PROBE_TIMEOUT_US = 50_000_000;

/** The probe worker's view, including the gauges `linkerd multicluster gateways` reads. */
export interface ProbeWorkerState {
  /** Worker-internal liveness; starts false, so an initially dead gateway never signals "false". */
  alive: boolean;
  /** `gateway_alive` gauge: 1 iff the last (threshold-counted) probe succeeded; 0 before any probe. */
  aliveGauge: 0 | 1;
  /** `gateway_latency` gauge: RTT of the last successful probe in whole ms (truncated); 0 before any. */
  latencyGaugeMs: number;
  /** Failures since the last success. */
  consecutiveFailures: number;
  /** `gateway_probes` counter by `success` label. */
  probesSucceeded: number;
  probesFailed: number;
}

export interface ProbeResult {
  /** True iff the gateway answered HTTP 200 before the timeout. */
  ok: boolean;
  /** Round trip of this probe, µs. Only read when `ok`. */
  rttUs: number;
}

export interface ProbeOptions {
  /** Consecutive failures that mark the gateway dead. Default 1 (Linkerd 2.16 has no threshold). */
  failureThreshold?: number;
}

export interface ProbeTransition {
  state: ProbeWorkerState;
  /** Sent on the liveness channel only when worker liveness flips; absent otherwise. */
  signal?: boolean;
  /** `probe-succeeded`, `probe-failed`, `gateway-became-alive`, `gateway-became-dead`,
   *  `failure-below-threshold`. */
  reason: string;
}

export function initialProbeWorkerState(): ProbeWorkerState {
  return { alive: false, aliveGauge: 0, latencyGaugeMs: 0, consecutiveFailures: 0, probesSucceeded: 0, probesFailed: 0 };
}

/**
 * Delay before the next probe: `period + U[0, period/10)`, where the jitter bound is the integer
 * tenth of the period (Go `time.Duration` division) — so 3 s gives [3.0 s, 3.3 s).
 */
export function nextProbeDelayUs(periodUs: number, rng: RandomSource): number {
  const maxJitterUs = Math.floor(periodUs / 10);
  if (maxJitterUs <= 0) return periodUs;
  return periodUs + Math.min(maxJitterUs - 1, Math.floor(rng.next() * maxJitterUs));
}

/** Classify a probe's HTTP outcome: only status 200 within the 50 s timeout is a success. */
export function classifyProbeResponse(r: { status?: number; elapsedUs: number }): { ok: boolean; reason: string } {
  if (r.elapsedUs >= GATEWAY_PROBE_TIMEOUT_US) return { ok: false, reason: "timeout" };
  if (r.status === undefined) return { ok: false, reason: "transport-error" };
  if (r.status !== 200) return { ok: false, reason: `status-${r.status}` };
  return { ok: true, reason: "status-200" };
}

/** Apply one probe result to the worker (`nowUs` is unused upstream; kept for traces). */
export function onProbeResult(
  state: ProbeWorkerState,
  result: ProbeResult,
  _nowUs: number,
  opts: ProbeOptions = {},
): ProbeTransition {
  const threshold = opts.failureThreshold ?? 1;
  if (result.ok) {
    const next: ProbeWorkerState = {
      ...state,
      alive: true,
      aliveGauge: 1,
      // Go's `Duration.Milliseconds()` truncates.
      latencyGaugeMs: Math.floor(result.rttUs / 1000),
      consecutiveFailures: 0,
      probesSucceeded: state.probesSucceeded + 1,
    };
    if (!state.alive) return { state: next, signal: true, reason: "gateway-became-alive" };
    return { state: next, reason: "probe-succeeded" };
  }
  const failures = state.consecutiveFailures + 1;
  if (failures < threshold) {
    return { state: { ...state, consecutiveFailures: failures }, reason: "failure-below-threshold" };
  }
  // The latency gauge is deliberately left alone: it keeps the last successful RTT.
  const next: ProbeWorkerState = {
    ...state,
    alive: false,
    aliveGauge: 0,
    consecutiveFailures: failures,
    probesFailed: state.probesFailed + 1,
  };
  if (state.alive) return { state: next, signal: false, reason: "gateway-became-dead" };
  return { state: next, reason: "probe-failed" };
}

/**
 * The cluster watcher's `gatewayAlive`. It starts true "to prevent unexpected fail fast", so mirror
 * Endpoints stay ready until a probe has succeeded and then failed.
 */
export const INITIAL_WATCHER_GATEWAY_ALIVE = true;

/** The watcher's liveness after a signal (absent signal ⇒ unchanged). */
export function watcherGatewayAlive(current: boolean, signal: boolean | undefined): boolean {
  return signal ?? current;
}

/** One row of `linkerd multicluster gateways`: ALIVE and LATENCY straight from the gauges. */
export function gatewaysRow(state: ProbeWorkerState): { alive: boolean; latencyMs: number } {
  return { alive: state.aliveGauge === 1, latencyMs: state.latencyGaugeMs };
}
