// Expectations, evaluated after the run against the streaming metrics, the coverage marks and the
// invariant checker. Each result carries what was measured, so a failure explains itself. An
// expectation with nothing under it (a filter that matched no request, a TrafficSplit the
// failover operator never manages) fails unless it says `allowEmpty: true`: otherwise a
// misspelt filter would pass `equals: 0` and a green run would rest on a typo.

import type { MeshMetrics, SeriesLabels, WindowStats } from "../mesh/metrics.js";
import { lastDefinitions } from "../k8s/apply.js";
import type { Bound, ExpectSpec, Metric, MetricFilter, WorldSpec } from "../mesh/spec.js";
import type { SplitUpdate } from "../mesh/failover-operator.js";
import type { CanaryRun } from "../mesh/flagger-controller.js";
import { CONTROLLED_BY_LABEL, DEFAULT_FAILOVER_SELECTOR, isSplitSelected } from "../policy/failover.js";
import { parseTrafficSplit } from "../policy/traffic-split.js";

export interface ExpectationResult {
  name: string;
  pass: boolean;
  /** The measured value (latencies in ms, rates as fractions); null when there was nothing to measure. */
  measured: number | null;
  /** Unit of `measured` where text shows one (`s` for failover times); absent ⇒ the metric's documented unit, shown bare. */
  unit?: string;
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
  /** `cluster namespace/name` of every TrafficSplit the failover operator manages (see `failoverManagedSplits`). */
  managedSplits: ReadonlySet<string>;
  /** Every Flagger Canary's run; absent ⇒ none. */
  canaries?: readonly CanaryRun[];
}

/** Flagger's verdict: when (seconds after `after`) the canary was promoted or rolled back. */
function evaluateCanary(e: Extract<ExpectSpec, { kind: "canary" }>, canaries: readonly CanaryRun[]): ExpectationResult {
  const matching = canaries.filter((c) => (e.canary === undefined || c.canary === e.canary) && (e.cluster === undefined || c.cluster === e.cluster));
  const word = e.verdict === "promoted" ? "promoted" : "rolled back";
  const bound = [
    e.atLeastUs === undefined ? undefined : `≥ ${formatSeconds(e.atLeastUs / 1e6)}`,
    e.withinUs === undefined ? undefined : `≤ ${formatSeconds(e.withinUs / 1e6)}`,
  ].filter((x) => x !== undefined).join(" and ");
  const expected = e.happened ? `${word}${bound === "" ? "" : ` ${bound}`} after ${formatSeconds(e.afterUs / 1e6)}` : `not ${word} after ${formatSeconds(e.afterUs / 1e6)}`;
  if (matching.length !== 1) {
    const which = e.canary === undefined ? "Flagger Canary" : `Flagger Canary ${e.canary}`;
    const why = matching.length === 0 ? `no ${which} runs in this scenario${e.cluster === undefined ? "" : ` in cluster ${e.cluster}`}` : `${matching.length} Canaries match: name one (namespace/name) and its cluster`;
    return { name: e.name, pass: false, measured: null, expected, detail: why };
  }
  const run = matching[0] as CanaryRun;
  const atUs = e.verdict === "promoted" ? run.promotedAtUs : run.rolledBackAtUs;
  const happened = atUs !== undefined && atUs >= e.afterUs;
  const measured = happened ? (atUs - e.afterUs) / 1e6 : null;
  const inBand = measured !== null && (e.withinUs === undefined || measured * 1e6 <= e.withinUs) && (e.atLeastUs === undefined || measured * 1e6 >= e.atLeastUs);
  const pass = e.happened ? inBand : !happened;
  const detail = `${run.cluster} Canary ${run.canary}: ${happened ? `${word} ${formatSeconds(measured as number)} after ${formatSeconds(e.afterUs / 1e6)}` : `not ${word} after ${formatSeconds(e.afterUs / 1e6)}`} (phase ${run.phase === "" ? "not initialised" : run.phase} at the end)`;
  return { name: e.name, pass, measured, unit: "s", expected, detail };
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

/** The value of `metric` for the filter over the window; `latencyAbove` needs `thresholdUs`. */
export function measure(metrics: MeshMetrics, metric: Metric, where: MetricFilter, window: [number, number], thresholdUs?: number): number | null {
  const labels: Partial<SeriesLabels> = { ...where };
  if (metric === "latencyAbove") {
    if (thresholdUs === undefined) throw new Error("latencyAbove needs a threshold");
    // Like the latency quantiles: a filter naming only a server workload means its inbound side.
    const side = where.server !== undefined && Object.keys(where).length === 1 ? "server" : "client";
    return finite(metrics.latencyAbove(labels, window, thresholdUs, side));
  }
  if (metric === "queueDelayMean" || metric === "queueDelayP99") {
    // Waits are the server's own, labelled by workload only, as `utilization` is.
    const d = metrics.queueDelay(where.server === undefined ? {} : { server: where.server }, window);
    return ms(metric === "queueDelayMean" ? d.mean : d.p99);
  }
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

/** Metrics that read 0, not null, when nothing is under them (counts, and the in-flight mean). */
const COUNTS: ReadonlySet<Metric> = new Set(["requests", "attempts", "retries", "budgetExhausted", "failFast", "loadShed", "failed", "duplicates", "inFlight"]);

/**
 * Whether a count measured over `where` stands on nothing: no request the filter selects ended in
 * the window, so it would read 0 and pass `equals: 0` for a misspelt route or a traffic that never
 * ran. The population is the one `measure` counts in: a filter naming only `server` is that
 * workload's inbound requests; `duplicates` needs requests at the client side of the filter and,
 * with `server`, arrivals of them there; any other count, the client-side requests and attempts
 * the whole filter selects (a `server` label there selects none: client series do not carry it).
 * Metrics that are ratios, rates or latencies read null on their own when nothing is under them.
 */
export function matchedNothing(metrics: MeshMetrics, metric: Metric, where: MetricFilter, window: [number, number]): boolean {
  if (!COUNTS.has(metric)) return false;
  if (where.server !== undefined && Object.keys(where).length === 1) return metrics.query({ server: where.server }, window).serverRequests === 0;
  if (metric === "duplicates") {
    const { server, ...client } = where;
    if (metrics.query(client, window).requests === 0) return true;
    return server !== undefined && metrics.query({ server, ...(where.traffic === undefined ? {} : { traffic: where.traffic }) }, window).arrivals === 0;
  }
  const s = metrics.query({ ...where }, window);
  return s.requests === 0 && s.attempts === 0 && !(s.inFlightMean > 0);
}

export function evaluateExpectations(expect: readonly ExpectSpec[], inputs: ExpectationInputs): ExpectationResult[] {
  return expect.map((e): ExpectationResult => {
    switch (e.kind) {
      case "metric": {
        const expected = `${e.metric}${e.thresholdUs === undefined ? "" : ` > ${e.thresholdUs / 1000} ms`} ${describeBound(e.bound)}`;
        const detail = describeFilter(e.where, e.window);
        const measured = measure(inputs.metrics, e.metric, e.where, e.window, e.thresholdUs);
        if (measured === null || matchedNothing(inputs.metrics, e.metric, e.where, e.window)) {
          const allowed = e.allowEmpty === true;
          const why = allowed ? "nothing to measure, which allowEmpty accepts" : "nothing to measure: no request matched this filter in the window (allowEmpty: true accepts that)";
          return { name: e.name, pass: allowed, measured: null, expected, detail: `${detail}: ${why}` };
        }
        return { name: e.name, pass: withinBound(measured, e.bound), measured, expected, detail };
      }
      case "reached": {
        const measured = inputs.marks.get(e.mark) ?? 0;
        return { name: e.name, pass: withinBound(measured, e.bound), measured, expected: `${e.mark} ${describeBound(e.bound)}`, detail: "times the decision was taken" };
      }
      case "failover":
        return evaluateFailover(e, inputs.splitUpdates, inputs.managedSplits);
      case "canary":
        return evaluateCanary(e, inputs.canaries ?? []);
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
 * Seconds from `after` until the primary first lost weight in that split (readiness mode: set to
 * 0; the ramp: its first step down), at the instant `at` names: the operator's patch accepted, or
 * the last proxy holding the split's Service switched. Null if it never lost weight, or (for
 * `proxiesSwitched`) if the proxies had not all switched by the end of the run.
 */
export function failoverSeconds(
  updates: readonly SplitUpdate[],
  cluster: string,
  split: string,
  afterUs: number,
  at: "patched" | "proxiesSwitched" = "patched",
): number | null {
  const first = firstFailover(updates, cluster, split, afterUs);
  const atUs = first === undefined ? undefined : at === "patched" ? first.atUs : first.proxiesSwitchedAtUs;
  return atUs === undefined ? null : (atUs - afterUs) / 1e6;
}

function firstFailover(updates: readonly SplitUpdate[], cluster: string, split: string, afterUs: number): SplitUpdate | undefined {
  return updates.find((u) => u.cluster === cluster && u.split === split && u.atUs >= afterUs && u.primaryShare < u.previousPrimaryShare);
}

function describeFailoverBound(e: Extract<ExpectSpec, { kind: "failover" }>): string {
  if (e.never === true) return "the primary keeps its weight";
  const instant = e.at === "proxiesSwitched" ? "failover (proxies switched)" : "failover";
  const lo = e.atLeastUs === undefined ? undefined : formatSeconds(e.atLeastUs / 1e6);
  const hi = e.withinUs === undefined ? undefined : formatSeconds(e.withinUs / 1e6);
  if (lo !== undefined && hi !== undefined) return `${instant} in [${lo}, ${hi}]`;
  if (lo !== undefined) return `${instant} ≥ ${lo}`;
  return `${instant} ≤ ${hi ?? formatSeconds(0)}`;
}

function evaluateFailover(e: Extract<ExpectSpec, { kind: "failover" }>, updates: readonly SplitUpdate[], managed: ReadonlySet<string>): ExpectationResult {
  const measured = failoverSeconds(updates, e.cluster, e.trafficSplit, e.afterUs, e.at);
  const detail = `TrafficSplit ${e.trafficSplit} in ${e.cluster}, from ${formatSeconds(e.afterUs / 1e6)}`;
  const expected = describeFailoverBound(e);
  if (!managed.has(`${e.cluster} ${e.trafficSplit}`)) {
    // The operator never looks at this split, so "it kept its weight" would hold vacuously.
    const allowed = e.allowEmpty === true;
    const why = `nothing to measure: the failover operator does not manage it (it needs the label ${CONTROLLED_BY_LABEL}: ${DEFAULT_FAILOVER_SELECTOR})${allowed ? ", which allowEmpty accepts" : ""}`;
    return { name: e.name, pass: allowed, measured: null, unit: "s", expected, detail: `${detail}: ${why}` };
  }
  const first = firstFailover(updates, e.cluster, e.trafficSplit, e.afterUs);
  if (e.never === true) {
    // Whichever instant is named, "never" means the operator never took weight off the primary.
    const at = first === undefined ? null : (first.atUs - e.afterUs) / 1e6;
    return { name: e.name, pass: first === undefined, measured: at, unit: "s", expected, detail: first === undefined ? `${detail}: it kept its weight` : `${detail}: patched at +${formatSeconds(at ?? 0)}` };
  }
  const inBand = measured !== null && (e.withinUs === undefined || measured <= e.withinUs / 1e6) && (e.atLeastUs === undefined || measured >= e.atLeastUs / 1e6);
  const why =
    first === undefined
      ? ": the primary kept its weight"
      : measured === null
        ? `: patched at +${formatSeconds((first.atUs - e.afterUs) / 1e6)}, but not every proxy had the new weights by the end of the run`
        : e.at === "proxiesSwitched"
          ? ` (patched at +${formatSeconds((first.atUs - e.afterUs) / 1e6)})`
          : "";
  return { name: e.name, pass: inBand, measured, unit: "s", expected, detail: `${detail}${why}` };
}

/** `60 s`, `2.5 s`: seconds with their unit, as text output shows failover times. */
function formatSeconds(s: number): string {
  return `${formatNumber(s)} s`;
}

/** A measured value for text: integers as they are, others to 4 significant digits. */
export function formatNumber(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toPrecision(4).replace(/\.?0+$/, "");
}

/** A result's measured value as text output shows it: `n/a`, `0.9913`, `3.2 s`. */
export function formatMeasured(e: Pick<ExpectationResult, "measured" | "unit">): string {
  if (e.measured === null) return "n/a";
  return e.unit === undefined ? formatNumber(e.measured) : `${formatNumber(e.measured)} ${e.unit}`;
}

/**
 * `cluster namespace/name` of every TrafficSplit the failover operator manages: the last
 * definition of each, accepted by the SMI parser and labelled for linkerd-failover, as the
 * operator itself selects them.
 */
export function failoverManagedSplits(spec: Pick<WorldSpec, "clusters">): Set<string> {
  const out = new Set<string>();
  for (const c of spec.clusters) {
    for (const o of lastDefinitions(c.objects)) {
      if (o.kind !== "TrafficSplit") continue;
      const ts = parseTrafficSplit(o.raw).value;
      if (ts.rejected) continue;
      const split = { name: ts.name, namespace: ts.namespace, labels: o.metadata.labels, annotations: o.metadata.annotations, backends: [] };
      if (isSplitSelected(split)) out.add(`${c.name} ${ts.namespace}/${ts.name}`);
    }
  }
  return out;
}
