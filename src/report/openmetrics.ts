// The run's proxy metrics as an OpenMetrics time series under Linkerd's own names, so a simulated
// run loads into the Prometheus and Grafana people already have (`promtool tsdb
// create-blocks-from openmetrics`) and the viz dashboards' queries work on it. One sample per
// scrape interval, each a counter's value at that instant, as a Prometheus scraping every proxy
// would have stored it.
//
// Families (labels as the proxy's, plus `cluster`):
//   request_total, response_total{classification}, response_latency_ms (histogram) — inbound per
//     server workload (direction="inbound", tls from the edge: "true" or "no_identity" with
//     no_tls_reason="no_tls_from_remote"), outbound per client workload and authority (attempts);
//   route_request_total, route_response_total{classification}, route_response_latency_ms —
//     logical requests per route (rt_route, dst); route_actual_request_total and
//     route_actual_response_total{classification} — attempts per route;
//   outbound_http_route_retry_requests_total, outbound_http_route_retry_limit_exceeded_total,
//     route_retryable_total{skipped="no_budget"} (retry budget refusals).
// Status codes are kept per run, not per scrape interval, so response_total carries no
// status_code label; the golden-metric queries (success rate, RPS, latency) do not need it.

import type { MeshMetrics, SeriesLabels } from "../mesh/metrics.js";
import { F_COUNT, F_HIST, F_SUCCESS, F_SUM_US } from "../mesh/metrics-series.js";
import { LATENCY_BUCKET_BOUNDS_MS, LATENCY_BUCKET_COUNT } from "../policy/viz.js";
import type { ScenarioRun } from "../scenario/run.js";

export interface OpenMetricsOptions {
  /** Scrape interval, µs (Linkerd's Prometheus scrapes every 10 s). */
  scrapeIntervalUs: number;
  /** Wall-clock instant, ms since the Unix epoch, that simulated time 0 maps to. */
  epochMs: number;
  /**
   * `openmetrics` (default): every scrape, timestamped, `# EOF` at the end. `prometheus`: the last
   * scrape only, without timestamps, in the Prometheus text format a proxy's /metrics serves
   * (each counter typed under its `_total` name).
   */
  format?: "openmetrics" | "prometheus";
}

/** 2026-01-01T00:00:00Z: simulated time 0 unless `--openmetrics-epoch` says otherwise (output stays deterministic). */
export const DEFAULT_OPENMETRICS_EPOCH_MS = 1_767_225_600_000;
export const DEFAULT_SCRAPE_INTERVAL_US = 10_000_000;

type Labels = Record<string, string>;

/** Per-bucket numbers of one exported series. */
interface Acc {
  labels: Labels;
  count: number[];
  success: number[];
  sumMs: number[];
  hist: number[][];
}

const workloadParts = (w: string | undefined): { cluster: string; namespace: string; deployment: string } => {
  const [cluster = "", namespace = "", deployment = ""] = (w ?? "").split("/");
  return { cluster, namespace, deployment };
};

export function openMetrics(run: ScenarioRun, opts: OpenMetricsOptions): string {
  const m = run.world.metrics;
  const width = m.bucketWidthUs;
  const prometheus = opts.format === "prometheus";
  const all: number[] = [];
  for (let t = opts.scrapeIntervalUs; t <= run.world.simulatedUs; t += opts.scrapeIntervalUs) all.push(t);
  const scrapes = prometheus ? all.slice(-1) : all;
  const secured = new Map(run.world.edges.map((e) => [`${e.client}|${e.server}`, e.secured]));
  const out: string[] = [];
  const ts = (tUs: number): string => (prometheus ? "" : ` ${((opts.epochMs * 1000 + tUs) / 1e6).toFixed(3)}`);
  // A counter family: in OpenMetrics named without `_total` (its samples carry it), in the
  // Prometheus text format typed under the sample name.
  const family = (name: string, help: string, accs: readonly Acc[], pick: (a: Acc) => readonly number[]): void =>
    counterLines(out, prometheus ? `${name}_total` : name, help, accs, pick, scrapes, width, ts, prometheus ? "" : "_total");

  const latencyFamilies = (prefix: string, help: string, accs: Acc[], histogram: boolean, requestsName = `${prefix}request_total`): void => {
    // request_total
    family(requestsName.replace(/_total$/, ""), `${help}: requests.`, accs, (a) => a.count);
    family(`${prefix}response`, `${help}: responses by classification.`, accs.flatMap((a) => [
      { ...a, labels: { ...a.labels, classification: "success" }, count: a.success },
      { ...a, labels: { ...a.labels, classification: "failure" }, count: a.count.map((c, i) => c - (a.success[i] ?? 0)) },
    ]), (a) => a.count);
    if (histogram) histogramFamily(out, `${prefix}response_latency_ms`, `${help}: response latency (ms).`, accs, scrapes, width, ts);
  };

  // Inbound, per server workload and whether its client's connections were mTLS.
  const inbound = group(m, "server", (l) => {
    const { cluster, namespace, deployment } = workloadParts(l.server);
    const tls = l.client === undefined ? true : (secured.get(`${l.client}|${l.server}`) ?? false);
    return { direction: "inbound", cluster, namespace, deployment, ...(tls ? { tls: "true" } : { tls: "no_identity", no_tls_reason: "no_tls_from_remote" }) };
  });
  // Outbound attempts, per client workload and authority (what the proxy's endpoint stack counts).
  const outbound = group(m, "attempt", (l) => {
    const { cluster, namespace, deployment } = workloadParts(l.client);
    return { direction: "outbound", cluster, namespace, deployment, authority: l.service ?? "" };
  });
  latencyFamilies("", "Linkerd proxy", [...inbound, ...outbound], true);
  const routeLabels = (l: SeriesLabels): Labels => {
    const { cluster, namespace, deployment } = workloadParts(l.client);
    return { direction: "outbound", cluster, namespace, deployment, dst: l.service ?? "", rt_route: l.route === undefined || l.route === "" ? "[DEFAULT]" : l.route };
  };
  latencyFamilies("route_", "Linkerd route (logical requests, after retries)", group(m, "request", routeLabels), true);
  latencyFamilies("route_actual_", "Linkerd route (attempts)", group(m, "attempt", routeLabels), false);
  const counterFamily = (name: string, counter: "retries" | "limitExceeded" | "budgetExhausted", help: string, extra: Labels = {}): void => {
    const accs = groupCounter(m, counter, (l) => ({ ...routeLabels(l), ...extra }));
    family(name, help, accs, (a) => a.count);
  };
  counterFamily("outbound_http_route_retry_requests", "retries", "Retries sent.");
  counterFamily("outbound_http_route_retry_limit_exceeded", "limitExceeded", "Requests not retried because retry.linkerd.io/limit was reached.");
  counterFamily("route_retryable", "budgetExhausted", "Retryable failures not retried because the retry budget was exhausted.", { skipped: "no_budget" });
  if (!prometheus) out.push("# EOF");
  return out.join("\n") + "\n";
}

/** The series of one kind summed into exported label sets (sorted, so the output is stable). */
function group(m: MeshMetrics, kind: "request" | "attempt" | "server", labelsOf: (l: SeriesLabels) => Labels): Acc[] {
  const byKey = new Map<string, Acc>();
  for (const s of m.seriesStores(kind)) {
    const labels = labelsOf(s.labels);
    const key = labelText(labels);
    let acc = byKey.get(key);
    const buckets = s.data.length / s.fields;
    if (acc === undefined) {
      acc = { labels, count: [], success: [], sumMs: [], hist: [] };
      byKey.set(key, acc);
    }
    for (let b = 0; b < buckets; b++) {
      const o = b * s.fields;
      add(acc.count, b, s.data[o + F_COUNT] ?? 0);
      add(acc.success, b, s.data[o + F_SUCCESS] ?? 0);
      add(acc.sumMs, b, (s.data[o + F_SUM_US] ?? 0) / 1000);
      const h = (acc.hist[b] ??= new Array<number>(LATENCY_BUCKET_COUNT).fill(0));
      for (let i = 0; i < LATENCY_BUCKET_COUNT; i++) h[i] = (h[i] ?? 0) + (s.data[o + F_HIST + i] ?? 0);
    }
  }
  return [...byKey.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([, a]) => a);
}

function groupCounter(m: MeshMetrics, counter: "retries" | "limitExceeded" | "budgetExhausted", labelsOf: (l: SeriesLabels) => Labels): Acc[] {
  const byKey = new Map<string, Acc>();
  for (const s of m.seriesStores(counter)) {
    const labels = labelsOf(s.labels);
    const key = labelText(labels);
    let acc = byKey.get(key);
    if (acc === undefined) {
      acc = { labels, count: [], success: [], sumMs: [], hist: [] };
      byKey.set(key, acc);
    }
    for (let b = 0; b < s.data.length; b++) add(acc.count, b, s.data[b] ?? 0);
  }
  return [...byKey.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([, a]) => a);
}

function add(a: number[], i: number, v: number): void {
  a[i] = (a[i] ?? 0) + v;
}

/** Cumulative sum of `perBucket` over the buckets that end by each scrape instant. */
function cumulative(perBucket: readonly number[], scrapes: readonly number[], widthUs: number): number[] {
  const out: number[] = [];
  let running = 0;
  let b = 0;
  for (const t of scrapes) {
    while ((b + 1) * widthUs <= t) running += perBucket[b++] ?? 0;
    out.push(running);
  }
  return out;
}

function counterLines(out: string[], name: string, help: string, accs: readonly Acc[], pick: (a: Acc) => readonly number[], scrapes: readonly number[], widthUs: number, ts: (tUs: number) => string, suffix: string): void {
  if (accs.length === 0) return;
  out.push(`# TYPE ${name} counter`, `# HELP ${name} ${help}`);
  for (const a of accs) {
    const values = cumulative(pick(a), scrapes, widthUs);
    const labels = labelText(a.labels);
    scrapes.forEach((t, i) => out.push(`${name}${suffix}{${labels}} ${num(values[i] ?? 0)}${ts(t)}`));
  }
}

function histogramFamily(out: string[], name: string, help: string, accs: readonly Acc[], scrapes: readonly number[], widthUs: number, ts: (tUs: number) => string): void {
  if (accs.length === 0) return;
  out.push(`# TYPE ${name} histogram`, `# HELP ${name} ${help}`);
  for (const a of accs) {
    const count = cumulative(a.count, scrapes, widthUs);
    const sum = cumulative(a.sumMs, scrapes, widthUs);
    const perLe = Array.from({ length: LATENCY_BUCKET_COUNT }, (_, i) => cumulative(a.hist.map((h) => h?.[i] ?? 0), scrapes, widthUs));
    scrapes.forEach((t, k) => {
      let running = 0;
      for (let i = 0; i < LATENCY_BUCKET_COUNT; i++) {
        running += perLe[i]?.[k] ?? 0;
        const le = i < LATENCY_BUCKET_BOUNDS_MS.length ? String(LATENCY_BUCKET_BOUNDS_MS[i]) : "+Inf";
        out.push(`${name}_bucket{${labelText({ ...a.labels, le })}} ${num(running)}${ts(t)}`);
      }
      out.push(`${name}_sum{${labelText(a.labels)}} ${num(sum[k] ?? 0)}${ts(t)}`);
      out.push(`${name}_count{${labelText(a.labels)}} ${num(count[k] ?? 0)}${ts(t)}`);
    });
  }
}

function num(v: number): string {
  return Number.isInteger(v) ? String(v) : String(Number(v.toFixed(3)));
}

/** `k="v",…` in key order, values escaped as the exposition format requires. */
function labelText(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}="${(labels[k] ?? "").replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`)
    .join(",");
}
