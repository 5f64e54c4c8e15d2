// Expectations, evaluated after the run against the streaming metrics, the coverage marks and the
// invariant checker. Each result carries what was measured, so a failure explains itself.

import type { MeshMetrics, SeriesLabels, WindowStats } from "../mesh/metrics.js";
import type { Bound, ExpectSpec, Metric, MetricFilter } from "../mesh/spec.js";
import type { SplitUpdate } from "../mesh/failover-operator.js";

export interface ExpectationResult {
  name: string;
  pass: boolean;
  /** The measured value (latencies in ms, rates as fractions); null when there was nothing to measure. */
  measured: number | null;
  /** The bound in words, e.g. `≤ 0.12`. */
  expected: string;
  /** How the value was obtained, e.g. `traffic=checkout route=POST /capture [300s, 600s)`. */
  detail: string;
}

export interface ExpectationInputs {
  metrics: MeshMetrics;
  marks: ReadonlyMap<string, number>;
  invariantViolations: readonly string[];
  /** Every TrafficSplit weight change the failover operator made, in time order. */
  splitUpdates: readonly SplitUpdate[];
}

const LATENCY: Partial<Record<Metric, (s: WindowStats) => number | null>> = {
  latencyMean: (s) => ms(s.latencyUs.mean),
  latencyP50: (s) => ms(s.latencyUs.p50),
  latencyP95: (s) => ms(s.latencyUs.p95),
  latencyP99: (s) => ms(s.latencyUs.p99),
  actualLatencyP50: (s) => ms(s.actualLatencyUs.p50),
  actualLatencyP95: (s) => ms(s.actualLatencyUs.p95),
  actualLatencyP99: (s) => ms(s.actualLatencyUs.p99),
};

function ms(us: number | null | undefined): number | null {
  return us === null || us === undefined || Number.isNaN(us) ? null : us / 1000;
}

function finite(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

/** The value of `metric` for the filter over the window. */
export function measure(metrics: MeshMetrics, metric: Metric, where: MetricFilter, window: [number, number]): number | null {
  const labels: Partial<SeriesLabels> = { ...where };
  if (metric === "amplification") {
    // Requests a server saw per request of the end-user traffic that caused them: with
    // `where.server`, arrivals at that server (whatever retried on the way, at any layer);
    // without it, the client proxy's attempts per request.
    const { server, ...clientSide } = labels;
    const requests = metrics.query(clientSide, window).requests;
    if (requests === 0) return null;
    if (server === undefined) return metrics.query(clientSide, window).attempts / requests;
    const arrivals = metrics.query({ server, ...(labels.traffic === undefined ? {} : { traffic: labels.traffic }) }, window).arrivals;
    return arrivals / requests;
  }
  if (metric === "utilization") {
    return finite(metrics.query(where.server === undefined ? {} : { server: where.server }, window).utilization);
  }
  const s = metrics.query(labels, window);
  // A filter naming only a server workload means that workload's inbound side, as
  // `linkerd viz stat deploy/<name>` reports it.
  if (where.server !== undefined && Object.keys(where).length === 1) return serverSide(metric, s);
  const latency = LATENCY[metric];
  if (latency !== undefined) return latency(s);
  switch (metric) {
    case "requests":
      return s.requests;
    case "rps":
      return finite(s.rps);
    case "successRate":
    case "effectiveSuccessRate":
      return finite(s.successRate);
    case "actualSuccessRate":
      return finite(s.actualSuccessRate);
    case "attempts":
      return s.attempts;
    case "retries":
      return s.retries;
    case "retryRatio":
      return s.requests === 0 ? null : s.retries / s.requests;
    case "budgetExhausted":
      return s.budgetExhausted;
    case "failFast":
      return s.failFast;
    case "loadShed":
      return s.loadShed;
    case "failed":
      return s.failures;
    case "duplicates":
      return s.duplicates;
    case "inFlight":
      return finite(s.inFlightMean);
    default:
      return null;
  }
}

function serverSide(metric: Metric, s: WindowStats): number | null {
  switch (metric) {
    case "requests":
      return s.serverRequests;
    case "rps":
      return finite(s.serverRps);
    case "successRate":
    case "effectiveSuccessRate":
    case "actualSuccessRate":
      return finite(s.serverSuccessRate);
    case "failed":
      return s.serverRequests - s.serverSuccesses;
    case "latencyMean":
      return ms(s.serverLatencyUs.mean);
    case "latencyP50":
    case "actualLatencyP50":
      return ms(s.serverLatencyUs.p50);
    case "latencyP95":
    case "actualLatencyP95":
      return ms(s.serverLatencyUs.p95);
    case "latencyP99":
    case "actualLatencyP99":
      return ms(s.serverLatencyUs.p99);
    case "duplicates":
      return s.duplicates;
    default:
      return null;
  }
}

export function describeBound(b: Bound): string {
  if ("equals" in b) return `= ${b.equals}`;
  if ("atMost" in b) return `≤ ${b.atMost}`;
  if ("atLeast" in b) return `≥ ${b.atLeast}`;
  return `in [${b.between[0]}, ${b.between[1]}]`;
}

export function withinBound(value: number | null, b: Bound): boolean {
  if (value === null) return false;
  if ("equals" in b) return value === b.equals;
  if ("atMost" in b) return value <= b.atMost;
  if ("atLeast" in b) return value >= b.atLeast;
  return value >= b.between[0] && value <= b.between[1];
}

function describeFilter(where: MetricFilter, window: [number, number]): string {
  const parts = Object.entries(where).map(([k, v]) => `${k}=${String(v)}`);
  return `${parts.join(" ")}${parts.length > 0 ? " " : ""}[${window[0] / 1e6}s, ${window[1] / 1e6}s)`;
}

export function evaluateExpectations(expect: readonly ExpectSpec[], inputs: ExpectationInputs): ExpectationResult[] {
  return expect.map((e): ExpectationResult => {
    switch (e.kind) {
      case "metric": {
        const measured = measure(inputs.metrics, e.metric, e.where, e.window);
        return { name: e.name, pass: withinBound(measured, e.bound), measured, expected: `${e.metric} ${describeBound(e.bound)}`, detail: describeFilter(e.where, e.window) };
      }
      case "reached": {
        const measured = inputs.marks.get(e.mark) ?? 0;
        return { name: e.name, pass: withinBound(measured, e.bound), measured, expected: `${e.mark} ${describeBound(e.bound)}`, detail: "times the decision was taken" };
      }
      case "failover":
        return evaluateFailover(e, inputs.splitUpdates);
      case "invariant": {
        const found = inputs.invariantViolations.length;
        return {
          name: e.name,
          pass: found === 0,
          measured: found,
          expected: `${e.invariant}: no violations`,
          detail: found === 0 ? "held throughout the run" : (inputs.invariantViolations[0] as string),
        };
      }
    }
  });
}

/**
 * Seconds from `after` until the operator first lowered the primary's weight in that split
 * (readiness mode: set it to 0; the ramp: its first step down); null if it never did.
 */
export function failoverSeconds(updates: readonly SplitUpdate[], cluster: string, split: string, afterUs: number): number | null {
  const first = updates.find((u) => u.cluster === cluster && u.split === split && u.atUs >= afterUs && u.primaryShare < u.previousPrimaryShare);
  return first === undefined ? null : (first.atUs - afterUs) / 1e6;
}

function evaluateFailover(e: Extract<ExpectSpec, { kind: "failover" }>, updates: readonly SplitUpdate[]): ExpectationResult {
  const measured = failoverSeconds(updates, e.cluster, e.trafficSplit, e.afterUs);
  const detail = `TrafficSplit ${e.trafficSplit} in ${e.cluster}, from ${e.afterUs / 1e6}s`;
  if (e.never === true) return { name: e.name, pass: measured === null, measured, expected: "the primary keeps its weight", detail };
  const withinS = (e.withinUs ?? 0) / 1e6;
  return { name: e.name, pass: measured !== null && measured <= withinS, measured, expected: `failover ≤ ${withinS}s`, detail };
}
