// Power-of-two-choices endpoint selection over the ready endpoints of one concrete backend.
// Mirrors `linkerd/pool/p2c/src/lib.rs` (`P2cPool::p2c_ready_index`, `gen_pair`) @ linkerd2-proxy
// release/v2.246.0. Deliberate differences: randomness is a parameter, and the ready set is the
// caller's endpoint list filtered by `ready` in the caller's order (upstream's `ReadyCache` order
// depends on its swap-removes), so callers should pass endpoints in a stable order.

import { randomIndex, type RandomSource } from "./random.js";

/** What P2C needs from an endpoint. `load` may mutate (PeakEWMA decays on every read). */
export interface P2cEndpoint {
  /** Whether the endpoint is in the ready set (connected, not in backoff, breaker not shut). */
  readonly ready: boolean;
  /** The endpoint's current load; lower is better. */
  load(nowUs: number): number;
}

/** The two candidates P2C compared, for the trace. Indices are into the caller's array. */
export interface P2cPair {
  aIndex: number;
  bIndex: number;
  aLoad: number;
  bLoad: number;
}

export type P2cDecision<E> =
  | { kind: "none"; reason: "no-ready-endpoints" }
  | { kind: "picked"; endpoint: E; index: number; reason: "single-ready-endpoint" }
  | {
      kind: "picked";
      endpoint: E;
      index: number;
      reason: "lower-load" | "equal-load-keeps-first-draw";
      pair: P2cPair;
    };

/**
 * Pick an endpoint: none when nothing is ready (the request then waits in the backend queue),
 * the only ready one, or the less loaded of two distinct uniformly drawn ready endpoints.
 * Draws from `rng` only when at least two endpoints are ready (two draws).
 */
export function pickP2c<E extends P2cEndpoint>(endpoints: readonly E[], rng: RandomSource, nowUs: number): P2cDecision<E> {
  const ready: number[] = [];
  endpoints.forEach((endpoint, index) => {
    if (endpoint.ready) ready.push(index);
  });
  if (ready.length === 0) return { kind: "none", reason: "no-ready-endpoints" };
  if (ready.length === 1) {
    const index = ready[0] as number;
    return { kind: "picked", endpoint: endpoints[index] as E, index, reason: "single-ready-endpoint" };
  }

  const [a, b] = drawDistinctPair(rng, ready.length);
  const aIndex = ready[a] as number;
  const bIndex = ready[b] as number;
  // Load of `a` is read first, as upstream; the order matters only because `load` may mutate.
  const aLoad = (endpoints[aIndex] as E).load(nowUs);
  const bLoad = (endpoints[bIndex] as E).load(nowUs);
  const pair: P2cPair = { aIndex, bIndex, aLoad, bLoad };
  // `<=` on purpose: upstream keeps the first draw on a tie.
  if (aLoad <= bLoad) {
    const reason = aLoad === bLoad ? "equal-load-keeps-first-draw" : "lower-load";
    return { kind: "picked", endpoint: endpoints[aIndex] as E, index: aIndex, reason, pair };
  }
  return { kind: "picked", endpoint: endpoints[bIndex] as E, index: bIndex, reason: "lower-load", pair };
}

/** Two distinct indices in 0..n-1 (n ≥ 2), the second drawn from n-1 values and shifted past the first. */
export function drawDistinctPair(rng: RandomSource, n: number): [number, number] {
  if (n < 2) throw new Error(`drawDistinctPair needs n >= 2, got ${n}`);
  const a = randomIndex(rng, n);
  let b = randomIndex(rng, n - 1);
  if (b >= a) b += 1;
  return [a, b];
}

/**
 * `pickP2c`'s choice without its explanation: the index picked, or -1 when nothing is ready. Same
 * draws, same loads read in the same order; it allocates nothing, for the per-request path.
 */
export function pickP2cIndex(endpoints: readonly P2cEndpoint[], rng: RandomSource, nowUs: number): number {
  let ready = 0;
  let only = -1;
  for (let i = 0; i < endpoints.length; i += 1) {
    if ((endpoints[i] as P2cEndpoint).ready) {
      ready += 1;
      only = i;
    }
  }
  if (ready <= 1) return only;
  const a = randomIndex(rng, ready);
  let b = randomIndex(rng, ready - 1);
  if (b >= a) b += 1;
  const aIndex = nthReady(endpoints, a);
  const bIndex = nthReady(endpoints, b);
  const aLoad = (endpoints[aIndex] as P2cEndpoint).load(nowUs);
  const bLoad = (endpoints[bIndex] as P2cEndpoint).load(nowUs);
  return aLoad <= bLoad ? aIndex : bIndex;
}

/** The index of the `n`-th (0-based) ready endpoint. */
function nthReady(endpoints: readonly P2cEndpoint[], n: number): number {
  let seen = 0;
  for (let i = 0; i < endpoints.length; i += 1) {
    if ((endpoints[i] as P2cEndpoint).ready) {
      if (seen === n) return i;
      seen += 1;
    }
  }
  throw new Error(`nthReady: fewer than ${n + 1} ready endpoints`);
}
