// Jittered exponential backoff, as used between annotation retries (25–250 ms, jitter 1.0) and
// for failure-accrual penalties. Mirrors `linkerd/exp-backoff/src/lib.rs` (linkerd2-proxy
// release/v2.246.0). Deliberate differences: returns the delay instead of sleeping; randomness is
// a RandomSource; delays are truncated to whole µs (upstream keeps nanoseconds).

import type { BackoffConfig } from "./config.js";
import type { RandomSource } from "./random.js";

const US_PER_SECOND = 1_000_000;
const NS_PER_US = 1_000;
/** `2_u32.saturating_pow(i)` stops growing here; also the saturation point of `as u32`. */
const U32_MAX = 4_294_967_295;

/** base_i = min(min · 2^i, max), with the u32 saturation of the multiplier kept. */
export function backoffBaseUs(config: BackoffConfig, index: number): number {
  const factor = index >= 32 ? U32_MAX : 2 ** index;
  return Math.min(config.minUs * factor, config.maxUs);
}

/**
 * Random extra delay for one step: U·jitter·base, capped at `max − base`. No random number is
 * drawn when jitter is 0, like upstream, so a jitter-free config leaves the stream untouched.
 *
 * Kept on purpose: upstream scales the whole seconds and the sub-second nanoseconds of `base`
 * separately and truncates each (`Duration::new(secs as u64, nanos as u32)`), so for bases of
 * 1 s or more the whole-second part of the jitter is truncated to whole seconds. With failure
 * accrual's defaults (1 s, jitter 0.5) the first two penalties get no jitter at all.
 */
export function backoffJitterUs(config: BackoffConfig, baseUs: number, rng: RandomSource): number {
  if (config.jitterRatio === 0) return 0;
  const randJitter = rng.next() * config.jitterRatio;
  const baseWholeSeconds = Math.floor(baseUs / US_PER_SECOND);
  const baseSubsecNs = (baseUs - baseWholeSeconds * US_PER_SECOND) * NS_PER_US;
  // `nanos as u32` saturates; only reachable with jitter ratios above ~4.
  const subsecJitterNs = Math.min(Math.trunc(baseSubsecNs * randJitter), U32_MAX);
  const jitterNs = Math.trunc(baseWholeSeconds * randJitter) * US_PER_SECOND * NS_PER_US + subsecJitterNs;
  return Math.min(Math.trunc(jitterNs / NS_PER_US), config.maxUs - baseUs);
}

/**
 * Delay before step `index` (0-based: index 0 precedes the first retry or is the first penalty),
 * in µs: base + jitter. With the annotation backoff: [25, 50) ms, [50, 100), [100, 200),
 * [200, 250], then 250 ms.
 */
export function backoffDelayUs(config: BackoffConfig, index: number, rng: RandomSource): number {
  const baseUs = backoffBaseUs(config, index);
  return baseUs + backoffJitterUs(config, baseUs, rng);
}

/**
 * A backoff stream (`ExponentialBackoff::stream()`): each `next()` is the following delay.
 * Upstream makes a fresh stream per retried request and per failure-accrual ejection.
 */
export class BackoffStream {
  private iterations = 0;

  constructor(
    private readonly config: BackoffConfig,
    private readonly rng: RandomSource,
  ) {}

  /** Delays handed out so far. */
  get count(): number {
    return this.iterations;
  }

  next(): number {
    const delayUs = backoffDelayUs(this.config, this.iterations, this.rng);
    this.iterations += 1;
    return delayUs;
  }
}
