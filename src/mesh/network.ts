// The network between pods: a one-way latency per message (pod-to-pod within a cluster, plus the
// configured latency between clusters), extra latency and partitions applied by faults.

import { type Distribution, makeDistribution, sampleUs } from "../sim/distributions.js";
import type { Rng } from "../sim/rng.js";
import type { NetworkSpec } from "./spec.js";

/**
 * Outbound connect timeout: a connection to a peer that does not answer fails after this
 * (`proxy.outboundConnectTimeout: 1000ms` in the linkerd2 2.16 chart, the proxy's own default too).
 */
export const CONNECT_TIMEOUT_US = 1_000_000;

/**
 * A connection refused on the caller's own node (kube-proxy's REJECT rule for a Service with no
 * ready endpoint): the SYN never leaves the node and connect() fails after one pass through the
 * node's netfilter, tens of microseconds. Not zero: every attempt costs the client some time.
 */
export const NODE_LOCAL_REFUSAL_US = 20;

const pairKey = (a: string, b: string): string => (a < b ? `${a}|${b}` : `${b}|${a}`);

export class Network {
  private readonly podToPod: Distribution;
  private readonly between = new Map<string, Distribution>();
  private readonly partitions = new Map<string, number>();
  private readonly extraUs = new Map<string, number>();

  constructor(spec: NetworkSpec) {
    this.podToPod = makeDistribution(spec.podToPod);
    for (const b of spec.between) this.between.set(pairKey(b.clusters[0], b.clusters[1]), makeDistribution(b.latency));
  }

  /**
   * One-way latency of one message from a pod in `from` to a pod in `to`, µs, drawn from `rng`:
   * the caller's own stream (streams.ts: per pod pair, per purpose), so no other draw shifts.
   */
  latencyUs(from: string, to: string, rng: Rng): number {
    let us = sampleUs(this.podToPod, rng);
    if (from === to && this.extraUs.size === 0) return us;
    if (from !== to) {
      const key = pairKey(from, to);
      const wan = this.between.get(key);
      if (wan !== undefined) us += sampleUs(wan, rng);
      us += this.extraUs.get(key) ?? 0;
    } else {
      us += this.extraUs.get(pairKey(from, from)) ?? 0;
    }
    return us;
  }

  /** Messages between the two clusters are dropped while partitioned. */
  reachable(from: string, to: string): boolean {
    if (this.partitions.size === 0) return true;
    return (this.partitions.get(pairKey(from, to)) ?? 0) === 0;
  }

  /** Partitions nest: each `partition` needs its own `heal`. */
  partition(a: string, b: string, on: boolean): void {
    const key = pairKey(a, b);
    this.partitions.set(key, Math.max(0, (this.partitions.get(key) ?? 0) + (on ? 1 : -1)));
  }

  /** What latency faults add between two clusters right now, µs. */
  extraLatencyUs(a: string, b: string): number {
    return this.extraUs.get(pairKey(a, b)) ?? 0;
  }

  addLatency(a: string, b: string, deltaUs: number): void {
    const key = pairKey(a, b);
    this.extraUs.set(key, Math.max(0, (this.extraUs.get(key) ?? 0) + deltaUs));
  }
}
