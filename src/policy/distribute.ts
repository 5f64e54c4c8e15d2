// Traffic distribution over a route's backends: `RandomAvailable` (weighted random, skipping
// backends whose queue service is not ready) and `FirstAvailable`. Mirrors
// `linkerd/distribute/src/service/{random.rs,first.rs}` and `params.rs` @ linkerd2-proxy
// release/v2.246.0. Deliberate difference: randomness is a parameter and readiness is a field the
// caller fills in (upstream polls each backend). Callers sample again for every retry.

import type { RandomSource } from "./random.js";

/** What distribution needs from a backend. */
export interface DistributeBackend {
  /**
   * Relative weight (only ratios matter; TrafficSplit weights arrive in decimillis, HTTPRoute
   * backendRefs default to 1). 0 — or anything not a positive finite number — drops the backend.
   */
  readonly weight: number;
  /**
   * Whether the backend's queue service is ready: false once it is in fail-fast (gate shut) or its
   * queue is full. A backend that merely has no ready endpoint yet is still ready here: requests
   * wait in its queue.
   */
  readonly ready: boolean;
}

export type DistributeDecision<B> =
  | {
      kind: "picked";
      backend: B;
      /** Index into the caller's array. */
      index: number;
      reason: "sampled-ready" | "resampled-past-unready" | "first-ready";
      /** Indices drawn first and skipped because they were not ready, in draw order. */
      skipped: number[];
    }
  | {
      kind: "none";
      /**
       * `no-backends`: the list is empty. `no-weighted-backends`: nothing has a positive weight
       * (Linkerd treats that distribution as invalid). `all-backends-unavailable`: every candidate was unready; the route's LoadShed
       * rejects the request with 503.
       */
      reason: "no-backends" | "no-weighted-backends" | "all-backends-unavailable";
      skipped: number[];
    };

/**
 * `RandomAvailable`: sample a backend with probability weight/total; if it is not ready, zero its
 * weight in a scratch copy and sample again, until a ready one is found or none remains.
 * Uses one `rng` draw per sample.
 */
export function selectRandomAvailable<B extends DistributeBackend>(
  backends: readonly B[],
  rng: RandomSource,
): DistributeDecision<B> {
  const weights = backends.map((b) => (Number.isFinite(b.weight) && b.weight > 0 ? b.weight : 0));
  const skipped: number[] = [];
  if (backends.length === 0) return { kind: "none", reason: "no-backends", skipped };
  if (!weights.some((w) => w > 0)) return { kind: "none", reason: "no-weighted-backends", skipped };

  for (;;) {
    const index = sampleWeighted(weights, rng);
    if (index === undefined) return { kind: "none", reason: "all-backends-unavailable", skipped };
    const backend = backends[index] as B;
    if (backend.ready) {
      const reason = skipped.length === 0 ? "sampled-ready" : "resampled-past-unready";
      return { kind: "picked", backend, index, reason, skipped };
    }
    // Zeroed only for this selection: the next request samples the unready backend again.
    weights[index] = 0;
    skipped.push(index);
  }
}

/** `FirstAvailable`: the first ready backend in order (a rule with one backend, or no backendRefs). */
export function selectFirstAvailable<B extends Pick<DistributeBackend, "ready">>(
  backends: readonly B[],
): DistributeDecision<B> {
  const index = backends.findIndex((b) => b.ready);
  if (index < 0) {
    const reason = backends.length === 0 ? "no-backends" : "all-backends-unavailable";
    return { kind: "none", reason, skipped: [] };
  }
  return { kind: "picked", backend: backends[index] as B, index, reason: "first-ready", skipped: [] };
}

/**
 * Index i with probability weights[i]/sum, as rand's `WeightedIndex`: a uniform point in
 * [0, sum) lands in the first bucket whose cumulative weight exceeds it. Undefined if sum is 0.
 */
export function sampleWeighted(weights: readonly number[], rng: RandomSource): number | undefined {
  const total = weights.reduce((sum, w) => sum + w, 0);
  if (!(total > 0)) return undefined;
  const point = rng.next() * total;
  let cumulative = 0;
  let lastPositive: number | undefined;
  for (let i = 0; i < weights.length; i += 1) {
    const w = weights[i] as number;
    if (w <= 0) continue;
    cumulative += w;
    lastPositive = i;
    if (point < cumulative) return i;
  }
  // Float rounding can leave `point` a hair above the running sum; it belongs to the last bucket.
  return lastPositive;
}
