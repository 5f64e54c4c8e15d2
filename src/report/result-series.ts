// The time series a report's result.json keeps so a finished run can be asked what `linkerd viz
// stat|routes|edges` would have shown over any window (`meshsim stat RESULT.json -t 1m --at 4m`):
// per inbound workload and client, and per client route, the timeline buckets that saw requests —
// count, successes, latency sum and Linkerd's latency buckets (plus attempts for routes). Latency
// quantiles over a window come from those buckets by histogram_quantile, as viz computes them.

import type { MeshMetrics } from "../mesh/metrics.js";
import { F_COUNT, F_HIST, F_SUCCESS, F_SUM_US } from "../mesh/metrics-series.js";
import { LATENCY_BUCKET_COUNT, latencyQuantileMs } from "../policy/viz.js";
import type { Edge } from "../mesh/world.js";
import type { EdgeRow, GoldenMetrics, RouteRow, StatRow } from "./tables.js";

/** One bucket that saw requests: [index, count, successes, latency sum µs, ...Linkerd's latency buckets]. */
export type BucketRow = number[];

export interface ResultSeries {
  bucketSeconds: number;
  /** Simulated seconds the run lasted. */
  durationSeconds: number;
  /** Requests served, per server workload and the client workload that sent them. */
  inbound: Array<{ workload: string; client: string | null; buckets: BucketRow[] }>;
  /** Logical requests per client route, and their attempts ([index, count, successes]). */
  routes: Array<{ client: string; service: string; route: string; buckets: BucketRow[]; attempts: number[][] }>;
  /** Pods per workload at the end: [meshed, running]. */
  pods: Record<string, [number, number]>;
  edges: Array<{ client: string; server: string; clientIdentity: string; serverIdentity: string; secured: string }>;
}

function rowsOf(fields: number, data: Float64Array, attemptsOnly = false): number[][] {
  const out: number[][] = [];
  for (let b = 0; b * fields < data.length; b++) {
    const o = b * fields;
    const count = data[o + F_COUNT] ?? 0;
    if (count === 0) continue;
    if (attemptsOnly) {
      out.push([b, count, data[o + F_SUCCESS] ?? 0]);
      continue;
    }
    const row = [b, count, data[o + F_SUCCESS] ?? 0, data[o + F_SUM_US] ?? 0];
    for (let i = 0; i < LATENCY_BUCKET_COUNT; i++) row.push(data[o + F_HIST + i] ?? 0);
    out.push(row);
  }
  return out;
}

/** Add `rows` into `into` by bucket index. */
function merge(into: Map<number, number[]>, rows: readonly number[][]): void {
  for (const r of rows) {
    const have = into.get(r[0] as number);
    if (have === undefined) into.set(r[0] as number, [...r]);
    else for (let i = 1; i < r.length; i++) have[i] = (have[i] ?? 0) + (r[i] ?? 0);
  }
}

export function resultSeries(metrics: MeshMetrics, simulatedUs: number, pods: ReadonlyMap<string, { meshed: number; running: number }>, edges: readonly Edge[]): ResultSeries {
  const inbound = new Map<string, { workload: string; client: string | null; rows: Map<number, number[]> }>();
  for (const s of metrics.seriesStores("server")) {
    if (s.labels.server === undefined) continue;
    const key = `${s.labels.server}|${s.labels.client ?? ""}`;
    const entry = inbound.get(key) ?? { workload: s.labels.server, client: s.labels.client ?? null, rows: new Map<number, number[]>() };
    merge(entry.rows, rowsOf(s.fields, s.data));
    inbound.set(key, entry);
  }
  const routes = new Map<string, { client: string; service: string; route: string; rows: Map<number, number[]>; attempts: Map<number, number[]> }>();
  const routeEntry = (l: { client?: string; service?: string; route?: string }) => {
    const key = `${l.client ?? ""}|${l.service ?? ""}|${l.route ?? ""}`;
    let e = routes.get(key);
    if (e === undefined) {
      e = { client: l.client ?? "", service: l.service ?? "", route: l.route ?? "", rows: new Map(), attempts: new Map() };
      routes.set(key, e);
    }
    return e;
  };
  for (const s of metrics.seriesStores("request")) if (s.labels.service !== undefined) merge(routeEntry(s.labels).rows, rowsOf(s.fields, s.data));
  for (const s of metrics.seriesStores("attempt")) if (s.labels.service !== undefined) merge(routeEntry(s.labels).attempts, rowsOf(s.fields, s.data, true));
  const sorted = <T>(m: Map<number, T>): T[] => [...m.entries()].sort((a, b) => a[0] - b[0]).map(([, v]) => v);
  return {
    bucketSeconds: metrics.bucketWidthUs / 1e6,
    durationSeconds: simulatedUs / 1e6,
    inbound: [...inbound.values()].map((e) => ({ workload: e.workload, client: e.client, buckets: sorted(e.rows) })),
    routes: [...routes.values()].map((e) => ({ client: e.client, service: e.service, route: e.route, buckets: sorted(e.rows), attempts: sorted(e.attempts) })),
    pods: Object.fromEntries([...pods].map(([k, v]) => [k, [v.meshed, v.running]])),
    edges: edges.map((e) => ({ client: e.client, server: e.server, clientIdentity: e.clientIdentity, serverIdentity: e.serverIdentity, secured: e.secured })),
  };
}

/** Buckets whose start lies in `[fromS, toS)`. */
function inWindow(rows: readonly number[][], s: ResultSeries, fromS: number, toS: number): number[][] {
  return rows.filter((r) => {
    const start = (r[0] as number) * s.bucketSeconds;
    return start >= fromS && start < toS;
  });
}

function golden(rows: readonly number[][], seconds: number): GoldenMetrics {
  let count = 0;
  let success = 0;
  const hist = new Array<number>(LATENCY_BUCKET_COUNT).fill(0);
  for (const r of rows) {
    count += r[1] ?? 0;
    success += r[2] ?? 0;
    for (let i = 0; i < LATENCY_BUCKET_COUNT; i++) hist[i] = (hist[i] ?? 0) + (r[4 + i] ?? 0);
  }
  const q = (p: number): number => (count === 0 ? Number.NaN : latencyQuantileMs(p, hist) * 1000);
  return { requests: count, successRate: count === 0 ? Number.NaN : success / count, rps: count / seconds, latencyUs: { p50: q(0.5), p95: q(0.95), p99: q(0.99) } };
}

export interface VizQuery {
  fromS: number;
  toS: number;
  namespace?: string;
  /** `--from deploy/X`: only requests from this workload (`ns/name`). */
  from?: string;
  /** `--to deploy/Y` (stat, edges) or `svc/Y` (routes): the server workload or the Service (`ns/name`, or a name). */
  to?: string;
}

const nsName = (workload: string): string => workload.split("/").slice(1).join("/");

/** `viz stat deploy`: per server workload, inbound over the window. */
export function statFromSeries(s: ResultSeries, q: VizQuery & { cluster?: string }): StatRow[] {
  const byWorkload = new Map<string, number[][]>();
  for (const e of s.inbound) {
    if (q.cluster !== undefined && e.workload.split("/")[0] !== q.cluster) continue;
    if (q.to !== undefined && nsName(e.workload) !== q.to) continue;
    byWorkload.set(e.workload, [...(byWorkload.get(e.workload) ?? []), ...inWindow(e.buckets, s, q.fromS, q.toS)]);
  }
  return [...byWorkload.entries()]
    .filter(([w]) => q.namespace === undefined || w.split("/")[1] === q.namespace)
    .sort((a, b) => (a[0] < b[0] ? -1 : 1))
    .map(([w, rows]) => {
      const [, namespace = "", name = ""] = w.split("/");
      const [meshed, running] = s.pods[w] ?? [0, 0];
      return { namespace, name, meshedPods: meshed, runningPods: running, metrics: golden(rows, q.toS - q.fromS) };
    });
}

/** `viz routes`: per route of the client (`--from`), to the Service (`--to`), over the window. */
export function routesFromSeries(s: ResultSeries, q: VizQuery): RouteRow[] {
  const byRoute = new Map<string, { service: string; route: string; rows: number[][]; attempts: number[][] }>();
  for (const e of s.routes) {
    if (q.from !== undefined && nsName(e.client) !== q.from) continue;
    if (q.to !== undefined && e.service !== q.to && e.service !== q.to.split("/").pop()) continue;
    if (q.namespace !== undefined && e.client.split("/")[1] !== q.namespace) continue;
    const key = `${e.service}|${e.route}`;
    const have = byRoute.get(key) ?? { service: e.service, route: e.route, rows: [], attempts: [] };
    have.rows.push(...inWindow(e.buckets, s, q.fromS, q.toS));
    have.attempts.push(...inWindow(e.attempts, s, q.fromS, q.toS));
    byRoute.set(key, have);
  }
  const seconds = q.toS - q.fromS;
  return [...byRoute.values()].map((r) => {
    const attempts = r.attempts.reduce((n, a) => n + (a[1] ?? 0), 0);
    const ok = r.attempts.reduce((n, a) => n + (a[2] ?? 0), 0);
    return {
      route: r.route === "" ? "[DEFAULT]" : r.route,
      service: r.service,
      effective: golden(r.rows, seconds),
      actual: { requests: attempts, successRate: attempts === 0 ? Number.NaN : ok / attempts, rps: attempts / seconds },
    };
  });
}

/**
 * `viz edges deploy`: the run's edges whose client sent requests and whose server served some in
 * the window (the series keep no per-edge counts), and whether they were mTLS.
 */
export function edgesFromSeries(s: ResultSeries, q: VizQuery): EdgeRow[] {
  const serving = new Set(s.inbound.filter((e) => inWindow(e.buckets, s, q.fromS, q.toS).length > 0).map((e) => e.workload));
  const sending = new Set(s.routes.filter((e) => inWindow(e.attempts, s, q.fromS, q.toS).length > 0).map((e) => e.client));
  return s.edges
    .filter((e) => serving.has(e.server) && (sending.has(e.client) || e.client.split("/")[1] === "linkerd-multicluster"))
    .filter((e) => q.namespace === undefined || e.client.split("/")[1] === q.namespace || e.server.split("/")[1] === q.namespace)
    .filter((e) => (q.from === undefined || nsName(e.client) === q.from) && (q.to === undefined || nsName(e.server) === q.to))
    .map((e) => {
      const [, srcNs = "", src = ""] = e.client.split("/");
      const [, dstNs = "", dst = ""] = e.server.split("/");
      return { src, dst, srcNamespace: srcNs, dstNamespace: dstNs, clientId: e.clientIdentity, serverId: e.serverIdentity, noTlsReason: e.secured === "√" ? "" : e.secured };
    });
}
