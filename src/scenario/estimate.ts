// A rough count of the events a scenario will take, so a run that would take hours (a typo of 15h
// for 15m, a rate off by 1000, 10^7 replicas) is refused up front with the numbers instead of
// starting. Requests are the integrated arrival rate over the run; each also sends the downstream
// calls its target's behaviour makes (followed through the call graph); every request costs about
// `EVENTS_PER_REQUEST` events (hops, service, response, metrics). Pods cost their start and their
// readiness probes; periodic timers (DNS health checks, gateway probes, failover ramps) their ticks.

import { deploymentView, isWorkload } from "../k8s/views.js";
import { parseLink } from "../policy/multicluster.js";
import { parseHttpUrl } from "../mesh/http.js";
import type { BehaviorSpec, CallSpec, RatePoint, TrafficSpec, WorldSpec } from "../mesh/spec.js";
import { makeDistribution } from "../sim/distributions.js";
import { US_PER_MS, US_PER_S } from "../sim/time.js";

/** Kernel events per request hop, roughly (proxy out, network, proxy in, app, and back). */
export const EVENTS_PER_REQUEST = 10;
/** Above this, a scenario is refused (about half an hour to an hour of kernel time). */
export const DEFAULT_MAX_EVENTS = 2e9;
/** How deep the call graph is followed; deeper chains are cut off (the estimate is rough anyway). */
const MAX_CALL_DEPTH = 8;

/** Events a pod costs to start (creation, readiness, endpoint updates, proxy subscriptions). */
export const EVENTS_PER_POD = 20;
/**
 * Pods listed per event's worth of work when a run starts: each pod it starts with makes the
 * Endpoints controller list every pod of that pod's Services, so starting n pods of one workload
 * costs about n² / this (24 000 replicas take as long as some 6e6 events).
 */
export const PODS_LISTED_PER_EVENT = 100;
/** Events one readiness probe costs (probe, its timeout, the result). */
const EVENTS_PER_PROBE = 3;
/** More pods than this in one run are refused whatever the event count: each holds state in memory. */
export const MAX_PODS = 200_000;

export interface EventEstimate {
  /** Requests sent by the traffic generators. */
  requests: number;
  /** Requests including every downstream call they cause. */
  hops: number;
  /** Pods the run starts at most (replicas, DaemonSets × nodes, scale faults). */
  pods: number;
  /**
   * Ticks of periodic timers (readiness probes, DNS health checks, gateway probes, failover ramps)
   * and the arrivals Poisson thinning throws away.
   */
  ticks: number;
  events: number;
}

export function estimateEvents(w: WorldSpec): EventEstimate {
  let requests = 0;
  let hops = 0;
  let thinned = 0;
  for (const t of w.traffic) {
    const n = trafficRequests(t, w.durationUs);
    requests += n;
    hops += n * (1 + callFanOut(w.behavior, serviceOf(t.to), new Set(), 0));
    thinned += thinnedArrivals(t, w.durationUs, n);
  }
  const { pods, listed, probeTicks } = podEstimate(w);
  const timers = probeTicks + timerTicks(w);
  const podEvents = pods * EVENTS_PER_POD + Math.floor(listed / PODS_LISTED_PER_EVENT);
  return { requests, hops, pods, ticks: timers + thinned, events: hops * EVENTS_PER_REQUEST + podEvents + timers * EVENTS_PER_PROBE + thinned };
}

/**
 * Arrivals a Poisson generator draws and throws away: it draws at its schedule's peak rate for the
 * whole run and keeps each with probability rate / peak (thinning), so a schedule that drops to 0
 * early still costs one event per candidate until the end.
 */
function thinnedArrivals(t: TrafficSpec, durationUs: number, accepted: number): number {
  if (t.arrivals.kind !== "poisson") return 0;
  const peakRps = Math.max(0, ...t.rate.map((p) => Math.max(p.rateRps, p.rampToRps ?? 0)));
  return Math.max(0, (peakRps * durationUs) / US_PER_S - accepted);
}

/**
 * Pods at their most (each workload at its largest replica count, scale faults included, and the
 * workloads and replica counts `changes:` bring), the pods the Endpoints controller lists while
 * the run starts them (replicas² per workload), and their probe ticks.
 */
function podEstimate(w: WorldSpec): { pods: number; listed: number; probeTicks: number } {
  let pods = 0;
  let listed = 0;
  let probeTicks = 0;
  for (const c of w.clusters) {
    for (const o of c.objects) {
      if (!isWorkload(o)) continue;
      const v = deploymentView(o).value;
      const scaled = w.faults.flatMap((f) => (f.action.kind === "scale" && selects(f.action.select, c.name, v.namespace, v.name) ? [f.action.replicas] : []));
      const n = Math.max(v.replicas ?? c.nodes, ...scaled);
      pods += n;
      listed += n * n;
      if (v.readinessProbe !== undefined) probeTicks += (n * w.durationUs) / Math.max(v.readinessProbe.periodUs, US_PER_MS);
    }
  }
  for (const n of changedReplicas(w)) {
    pods += n;
    listed += n * n;
  }
  return { pods, listed, probeTicks };
}

/** Replica counts `changes:` bring during the run: workloads they apply, and `spec.replicas` they patch in. */
function changedReplicas(w: WorldSpec): number[] {
  const out: number[] = [];
  for (const change of w.changes ?? []) {
    const a = change.action;
    if (a.kind === "apply") {
      const nodes = w.clusters.find((c) => c.name === change.cluster)?.nodes ?? 1;
      for (const o of a.objects) if (isWorkload(o)) out.push(deploymentView(o).value.replicas ?? nodes);
    } else if (a.kind === "patch") {
      const spec = a.merge["spec"];
      const replicas = typeof spec === "object" && spec !== null ? (spec as Record<string, unknown>)["replicas"] : undefined;
      if (typeof replicas === "number" && Number.isFinite(replicas) && replicas > 0) out.push(replicas);
    }
  }
  return out;
}

function selects(s: { cluster?: string; namespace?: string; deployment?: string }, cluster: string, namespace: string, name: string): boolean {
  return (s.cluster ?? cluster) === cluster && (s.namespace ?? namespace) === namespace && (s.deployment ?? name) === name;
}

/** Ticks of the periodic timers that do not depend on traffic. */
function timerTicks(w: WorldSpec): number {
  // The timers run at the period given, however short (a zero period is refused as input): a
  // 1 µs gateway probe period is a million probes per simulated second.
  const every = (periodUs: number): number => w.durationUs / Math.max(periodUs, 1);
  let ticks = 0;
  for (const d of w.dns) ticks += every(d.healthCheck.intervalUs) * d.records.length;
  for (const l of w.links) ticks += every(l.probePeriodUs);
  for (const c of w.clusters) {
    for (const o of c.objects) if (o.kind === "Link") ticks += every(parseLink(o.raw).value?.probeSpec.periodUs ?? US_PER_S);
  }
  if (w.mesh.failover.mode === "success-rate-ramp") ticks += every(w.mesh.failover.successRate.intervalUs) * w.clusters.length;
  return ticks;
}

/** A sentence saying why the scenario is too big, or undefined when it is within `maxEvents`. */
export function eventBudgetProblem(w: WorldSpec, maxEvents: number = DEFAULT_MAX_EVENTS): string | undefined {
  const e = estimateEvents(w);
  if (e.pods > MAX_PODS) {
    return `this scenario would run ${sci(e.pods)} pods (replicas, DaemonSet pods on every node, scale faults), more than the limit of ${sci(MAX_PODS)}; lower the replica counts`;
  }
  if (e.events <= maxEvents) return undefined;
  return (
    `this scenario would take about ${sci(e.events)} events (${sci(e.requests)} requests, ${sci(e.hops)} with downstream calls, ` +
    `× ~${EVENTS_PER_REQUEST} events each; ${sci(e.pods)} pods; ${sci(e.ticks)} probe and timer ticks), more than the limit of ${sci(maxEvents)}; ` +
    `shorten duration or lower the traffic rates, replicas or probe frequencies`
  );
}

function sci(n: number): string {
  return n < 1e6 ? String(Math.round(n)) : n.toExponential(1).replace("e+", "e");
}

function trafficRequests(t: TrafficSpec, durationUs: number): number {
  if (t.arrivals.kind === "closed-loop") {
    // Each user sends at most one request per think time (responses only slow it down).
    const thinkUs = Math.max(makeDistribution(t.arrivals.thinkTime).meanUs, US_PER_MS);
    return (t.arrivals.users * durationUs) / thinkUs;
  }
  return integratedRate(t.rate, durationUs);
}

/** ∫ rate dt over [0, duration], in requests. */
export function integratedRate(points: readonly RatePoint[], durationUs: number): number {
  let total = 0;
  points.forEach((p, i) => {
    const end = Math.min(points[i + 1]?.atUs ?? durationUs, durationUs);
    if (end <= p.atUs) return;
    const span = (end - p.atUs) / US_PER_S;
    if (p.rampToRps === undefined || p.overUs === undefined || p.overUs === 0) {
      total += (p.rampToRps ?? p.rateRps) * span;
      return;
    }
    const rampS = Math.min(p.overUs / US_PER_S, span);
    const reached = p.rateRps + ((p.rampToRps - p.rateRps) * rampS * US_PER_S) / p.overUs;
    total += ((p.rateRps + reached) / 2) * rampS + p.rampToRps * (span - rampS);
  });
  return total;
}

/** The service name a URL addresses (`auth` in http://auth.payments.svc.cluster.local). */
function serviceOf(url: string): string {
  return (parseHttpUrl(url)?.host ?? "").split(".")[0] ?? "";
}

/**
 * Downstream requests one request to `service` causes: the calls of the behaviour serving it
 * (deployments named like the service; the busiest route counts), each followed recursively.
 */
function callFanOut(behavior: readonly BehaviorSpec[], service: string, visiting: Set<string>, depth: number): number {
  if (depth >= MAX_CALL_DEPTH || visiting.has(service)) return 0;
  const serving = behavior.filter((b) => b.select.deployment === service);
  const candidates = serving.length > 0 ? serving : behavior.filter((b) => b.select.deployment === undefined);
  const callLists: CallSpec[][] = candidates.flatMap((b) => [b.calls, ...b.routes.map((r) => r.calls ?? b.calls)]);
  if (callLists.length === 0) return 0;
  visiting.add(service);
  let most = 0;
  for (const calls of callLists) {
    const n = calls.reduce((sum, c) => sum + 1 + callFanOut(behavior, serviceOf(c.to), visiting, depth + 1), 0);
    most = Math.max(most, n);
  }
  visiting.delete(service);
  return most;
}
