// Streaming golden metrics for the simulated mesh, shaped like what Linkerd's proxies export:
// logical requests (`route_response_total`, after retries) and attempts (`route_actual_*`) at the
// client, requests served at each pod, retry/budget/fail-fast counters, in-flight and utilization.
// Queries sum every series whose labels match a filter. A registered window is answered exactly
// (HDR histograms, exact counts); any other window from the timeline buckets, marked approximate,
// with latency quantiles from Linkerd's own buckets via `histogram_quantile`, as Prometheus would.

import { LATENCY_BUCKET_COUNT, latencyQuantileMs } from "../policy/viz.js";
import {
  at,
  CounterRecorder,
  F_COUNT,
  F_HIST,
  F_SUCCESS,
  F_SUM_US,
  fractionAbove,
  GaugeRecorder,
  LATENCY_FIELDS,
  LatencyRecorder,
  type LatencySummaryUs,
  type ResponseCount,
  ServerRecorder,
  type Slice,
  sumBuckets,
  sumScalar,
  sumLatency,
  summarize,
  TimeGrid,
  type Window,
} from "./metrics-series.js";

export type { LatencySummaryUs, ResponseCount } from "./metrics-series.js";

/** Who a series is about. Absent fields are simply not part of the series' identity. */
export interface SeriesLabels {
  /** Traffic generator name. */
  traffic?: string;
  /** Client workload `cluster/namespace/deployment`. */
  client?: string;
  /** Destination as addressed, e.g. `auth.payments`. */
  service?: string;
  /** `GET /verify` or the ServiceProfile/HTTPRoute route name. */
  route?: string;
  /** Concrete Service a TrafficSplit or backendRef sent the attempt to. */
  backend?: string;
  /** Server workload `cluster/namespace/deployment`. */
  server?: string;
  pod?: string;
}

/** The `route` label of requests on a route Linkerd made up rather than one the user named. */
const DEFAULT_ROUTE = "[DEFAULT]";

export const LABEL_NAMES = ["traffic", "client", "service", "route", "backend", "server", "pod"] as const;

export const COUNTER_NAMES = ["retries", "budgetExhausted", "failFast", "loadShed", "duplicates", "limitExceeded", "timeouts", "arrivals"] as const;
export type CounterName = (typeof COUNTER_NAMES)[number];

export interface MeshMetricsOptions {
  /** Initial timeline bucket width, µs (e.g. 1 s). Doubles whenever `maxBuckets` would be exceeded. */
  bucketUs: number;
  /** End of warmup, µs; the whole-run window is `[warmupUs, durationUs)`. */
  warmupUs: number;
  /** Simulated duration, µs. */
  durationUs: number;
  /** Windows answered exactly, `[fromUs, toUs)` absolute µs; declare every expectation window here. */
  windows: Array<[number, number]>;
  /** Cap on timeline buckets per series. Default 2048. */
  maxBuckets?: number;
}

/** A logical request or an attempt, as seen by the client proxy: its class, HTTP status and grpc-status (if any). */
export interface RequestSeries {
  record(startUs: number, endUs: number, success: boolean, status: number, grpcStatus?: number): void;
}
export type AttemptSeries = RequestSeries;

/** A pod's inbound side. `setConcurrency` takes the time too: capacity is time-weighted. */
export interface ServerSeries {
  record(startUs: number, endUs: number, success: boolean, status?: number, grpcStatus?: number): void;
  busy(deltaSlots: number, nowUs: number): void;
  setConcurrency(slots: number, nowUs: number): void;
  /** A request started service in the app at `nowUs` after waiting `waitUs` in its queue. */
  waited(waitUs: number, nowUs: number): void;
}

export interface CounterSeries {
  add(atUs: number, n?: number): void;
}

export interface GaugeSeries {
  change(delta: number, nowUs: number): void;
  readonly value: number;
}

/** Everything an expectation or a report row can ask of one filter over one window. Rates are NaN without traffic. */
export interface WindowStats {
  /** Interval actually measured: the window itself, or the buckets approximating it. */
  fromUs: number;
  toUs: number;
  /** True when the window was not registered: counts at bucket granularity, latency from Linkerd buckets. */
  approximate: boolean;
  /** Logical requests completed at the client (after retries). */
  requests: number;
  successes: number;
  failures: number;
  successRate: number;
  rps: number;
  /** Attempts sent by the client proxy (first tries and retries). */
  attempts: number;
  attemptSuccesses: number;
  attemptFailures: number;
  actualSuccessRate: number;
  actualRps: number;
  retries: number;
  /** retries / requests. */
  retryRatio: number;
  /** Requests served by matching server series. */
  serverRequests: number;
  serverSuccesses: number;
  serverSuccessRate: number;
  serverRps: number;
  /** serverRequests / requests: how many times the servers saw each logical request. */
  amplification: number;
  latencyUs: LatencySummaryUs;
  actualLatencyUs: LatencySummaryUs;
  serverLatencyUs: LatencySummaryUs;
  budgetExhausted: number;
  failFast: number;
  loadShed: number;
  duplicates: number;
  limitExceeded: number;
  timeouts: number;
  /** Requests that reached a server, counted by the end-user traffic that caused them (`arrivals` counter). */
  arrivals: number;
  /** Time-weighted mean of in-flight logical requests. */
  inFlightMean: number;
  /** Busy slot-time / capacity slot-time of matching servers. */
  utilization: number;
  /** Logical requests by HTTP status; exact windows only (empty when approximate). */
  statusCounts: ReadonlyMap<number, number>;
  /**
   * Logical requests by the labels of the proxy's `response_total`: `classification`, HTTP status
   * and `grpc_status` (absent when the response carried none); exact windows only.
   */
  responses: readonly ResponseCount[];
  /** The same for attempts (`route_actual_*`). */
  attemptResponses: readonly ResponseCount[];
  /** The same for requests served by matching server series (inbound). */
  serverResponses: readonly ResponseCount[];
}

/** One timeline bucket, summed over the matching series. */
export interface TimelinePoint {
  startUs: number;
  endUs: number;
  requests: number;
  success: number;
  failures: number;
  attempts: number;
  attemptFailures: number;
  serverRequests: number;
  retries: number;
  budgetExhausted: number;
  failFast: number;
  loadShed: number;
  timeouts: number;
  latencyP50Us: number;
  latencyP99Us: number;
}

type Labels = Readonly<Record<string, string>>;
type Filter = Partial<SeriesLabels>;

/** Series of one kind, deduplicated by labels, kept in creation order (deterministic sums). */
class Family<S extends { labels: Labels }> {
  readonly all: S[] = [];
  private readonly byKey = new Map<string, S>();
  constructor(private readonly make: (labels: Labels) => S) {}

  get(labels: SeriesLabels): S {
    const clean = cleanLabels(labels);
    const key = JSON.stringify(LABEL_NAMES.map((n) => clean[n] ?? null));
    let s = this.byKey.get(key);
    if (s === undefined) {
      s = this.make(clean);
      this.byKey.set(key, s);
      this.all.push(s);
    }
    return s;
  }

  /** The series with exactly these labels, if one was created. */
  find(labels: Readonly<Record<string, string>>): S | undefined {
    const clean = cleanLabels(labels as SeriesLabels);
    return this.byKey.get(JSON.stringify(LABEL_NAMES.map((n) => clean[n] ?? null)));
  }

  matching(filter: Filter): S[] {
    const f = withDefaultRouteSpelling(filter);
    return this.all.filter((s) => matches(s.labels, f));
  }
}

/** Sum of one field over every bucket of a store (`fields` numbers per bucket). */
function totalOf(data: Float64Array, fields: number, field: number): number {
  let total = 0;
  for (let o = field; o < data.length; o += fields) total += data[o] as number;
  return total;
}

export class MeshMetrics {
  private readonly grid: TimeGrid;
  private readonly windows: Window[];
  private readonly durationUs: number;
  private readonly requests: Family<LatencyRecorder>;
  private readonly attempts: Family<LatencyRecorder>;
  private readonly servers: Family<ServerRecorder>;
  private readonly inFlights: Family<GaugeRecorder>;
  private readonly counters = new Map<CounterName, Family<CounterRecorder>>();

  constructor(opts: MeshMetricsOptions) {
    if (!(opts.warmupUs >= 0 && opts.durationUs > opts.warmupUs)) {
      throw new Error(`metrics: need 0 ≤ warmupUs < durationUs, got ${opts.warmupUs} and ${opts.durationUs}`);
    }
    this.grid = new TimeGrid(opts.bucketUs, opts.maxBuckets ?? 2048);
    this.durationUs = opts.durationUs;
    this.windows = registeredWindows(opts);
    const grid = this.grid;
    const ws = this.windows;
    this.requests = new Family((l) => new LatencyRecorder(l, grid, ws));
    this.attempts = new Family((l) => new LatencyRecorder(l, grid, ws));
    this.servers = new Family((l) => new ServerRecorder(l, grid, ws));
    this.inFlights = new Family((l) => new GaugeRecorder(l, grid, ws));
    for (const name of COUNTER_NAMES) this.counters.set(name, new Family((l) => new CounterRecorder(l, grid, ws)));
  }

  /** Logical (effective) requests at the client proxy: one record per request, after retries. */
  request(labels: SeriesLabels): RequestSeries {
    return this.requests.get(labels);
  }

  /** Attempts at the client proxy: one record per try. */
  attempt(labels: SeriesLabels): AttemptSeries {
    return this.attempts.get(labels);
  }

  /**
   * Inbound at a pod. Give it the attempt's client-side labels too (traffic, client, service,
   * route, backend) so client-side filters can select it (for `amplification`).
   */
  server(labels: SeriesLabels): ServerSeries {
    return this.servers.get(labels);
  }

  counter(name: CounterName, labels: SeriesLabels): CounterSeries {
    return this.family(name).get(labels);
  }

  /** Logical requests in flight at the client; time-weighted. */
  inFlight(labels: SeriesLabels): GaugeSeries {
    return this.inFlights.get(labels);
  }

  /** Account every gauge up to `nowUs` (call once at the end, before querying). */
  finish(nowUs: number): void {
    for (const g of this.inFlights.all) g.advance(nowUs);
    for (const s of this.servers.all) s.advance(nowUs);
  }

  /**
   * Online invariant: no in-flight count and no busy-slot count ever went below 0. One sentence
   * per gauge that did, naming its labels and the first instant it did.
   */
  negativeGauges(): string[] {
    const gauges: Array<[string, GaugeRecorder]> = [
      ...this.inFlights.all.map((g): [string, GaugeRecorder] => ["in-flight", g]),
      ...this.servers.all.flatMap((s): Array<[string, GaugeRecorder]> => [["busy slots", s.busySlots], ["capacity", s.capacitySlots]]),
    ];
    return gauges
      .filter(([, g]) => g.lowest < 0)
      .map(([what, g]) => `${what} of ${JSON.stringify(g.labels)} went below 0 (to ${g.lowest}) at ${g.lowestAtUs}us`);
  }

  /**
   * Little's law per client series over the whole run, a warning rather than a violation: the
   * in-flight gauge's area (request·µs) must equal the summed latencies of the requests that
   * completed, up to the requests still in flight at the end (each at most `nowUs` old). A gauge that leaks, or latencies stamped
   * from the wrong instant, show up as an area outside that range. 1 % slack for rounding.
   */
  littleLawWarnings(nowUs: number): string[] {
    const out: string[] = [];
    for (const gauge of this.inFlights.all) {
      const requests = this.requests.find(gauge.labels);
      if (requests === undefined) continue;
      const areaUs = totalOf(gauge.store.data, 1, 0);
      const latencyUs = totalOf(requests.store.data, requests.store.fields, F_SUM_US);
      const slackUs = 0.01 * Math.max(areaUs, latencyUs);
      const below = areaUs + slackUs < latencyUs;
      const above = areaUs - slackUs > latencyUs + gauge.value * nowUs;
      if (!below && !above) continue;
      out.push(
        `Little's law does not hold for ${JSON.stringify(gauge.labels)}: in flight ${(areaUs / nowUs).toFixed(3)} on average, ` +
          `but completions × mean latency = ${(latencyUs / nowUs).toFixed(3)} (${gauge.value} still in flight at the end)`,
      );
    }
    return out;
  }

  /** The label sets of every series of one kind, in creation order (for report rows). */
  labelSets(kind: "request" | "attempt" | "server"): SeriesLabels[] {
    const family = kind === "request" ? this.requests : kind === "attempt" ? this.attempts : this.servers;
    return family.all.map((s) => ({ ...s.labels }) as SeriesLabels);
  }

  /**
   * Every series of one kind with its timeline store, for exporters: `fields` numbers per bucket
   * (latency series: count, successes, latency sum µs, Linkerd's latency buckets; counters: the
   * count), bucket `b` covering `[b·widthUs, (b+1)·widthUs)`.
   */
  seriesStores(kind: "request" | "attempt" | "server" | CounterName): Array<{ labels: SeriesLabels; fields: number; data: Float64Array }> {
    const family: Family<{ labels: Labels; store: { fields: number; data: Float64Array } }> =
      kind === "request" ? this.requests : kind === "attempt" ? this.attempts : kind === "server" ? this.servers : this.family(kind);
    return family.all.map((s) => ({ labels: { ...s.labels } as SeriesLabels, fields: s.store.fields, data: s.store.data }));
  }

  /** Current bucket width of the timeline, µs. */
  get bucketWidthUs(): number {
    return this.grid.widthUs;
  }

  /** Most timeline buckets held by any one series (never more than the cap). */
  storedBuckets(): number {
    return this.grid.storedBuckets();
  }

  /** Sum of every series matching `filter` over `[fromUs, toUs)`; requests count where they completed. */
  query(filter: Filter, windowUs: [number, number]): WindowStats {
    const { slice, fromUs, toUs } = this.sliceFor(windowUs);
    return this.stats(filter, slice, fromUs, toUs);
  }

  /**
   * The fraction of the requests matching `filter` over the window whose latency exceeds
   * `thresholdUs`: logical requests at the client, or (`server`) requests served by matching
   * server series. NaN without requests. See `fractionAbove` for the resolution.
   */
  latencyAbove(filter: Filter, windowUs: [number, number], thresholdUs: number, side: "client" | "server"): number {
    const { slice } = this.sliceFor(windowUs);
    return fractionAbove(sumLatency((side === "client" ? this.requests : this.servers).matching(filter), slice), thresholdUs);
  }

  /**
   * Waits in the app queues of the server series matching `filter`, from a request reaching the
   * container to the start of its service (0 when a slot was free), counted where service starts;
   * NaN without any. Kubelet probes are not requests and are not counted.
   */
  queueDelay(filter: Filter, windowUs: [number, number]): LatencySummaryUs {
    const { slice } = this.sliceFor(windowUs);
    return summarize(sumLatency(this.servers.matching(filter).map((s) => s.queueDelay), slice));
  }

  /** A registered window exactly, or the timeline buckets approximating any other, with the interval they cover. */
  private sliceFor(windowUs: [number, number]): { slice: Slice; fromUs: number; toUs: number } {
    const [fromUs, toUs] = windowUs;
    if (!(toUs > fromUs)) throw new Error(`metrics: window [${fromUs}, ${toUs}) is empty`);
    const exact = this.windows.findIndex((w) => w.fromUs === fromUs && w.toUs === toUs);
    if (exact !== -1) return { slice: { exact }, fromUs, toUs };
    const { firstBucket, endBucket } = this.bucketsFor(fromUs, toUs);
    const w = this.grid.widthUs;
    return { slice: { firstBucket, endBucket }, fromUs: firstBucket * w, toUs: endBucket * w };
  }

  /** Per-bucket sums over the matching series, from 0 to the end of the run (or the last event). */
  timeline(filter: Filter): TimelinePoint[] {
    const w = this.grid.widthUs;
    const n = Math.min(this.grid.maxBuckets, Math.max(this.grid.used, Math.ceil(this.durationUs / w)));
    const req = sumBuckets(this.requests.matching(filter), LATENCY_FIELDS, n);
    const att = sumBuckets(this.attempts.matching(filter), LATENCY_FIELDS, n);
    const srv = sumBuckets(this.servers.matching(filter), LATENCY_FIELDS, n);
    const count = (name: CounterName) => sumBuckets(this.family(name).matching(filter), 1, n);
    const retries = count("retries");
    const budget = count("budgetExhausted");
    const failFast = count("failFast");
    const loadShed = count("loadShed");
    const timeouts = count("timeouts");
    const out: TimelinePoint[] = [];
    for (let b = 0; b < n; b += 1) {
      const o = b * LATENCY_FIELDS;
      const hist = Array.from(req.subarray(o + F_HIST, o + F_HIST + LATENCY_BUCKET_COUNT));
      const requests = at(req, o + F_COUNT);
      const attempts = at(att, o + F_COUNT);
      out.push({
        startUs: b * w,
        endUs: (b + 1) * w,
        requests,
        success: at(req, o + F_SUCCESS),
        failures: requests - at(req, o + F_SUCCESS),
        attempts,
        attemptFailures: attempts - at(att, o + F_SUCCESS),
        serverRequests: at(srv, o + F_COUNT),
        retries: at(retries, b),
        budgetExhausted: at(budget, b),
        failFast: at(failFast, b),
        loadShed: at(loadShed, b),
        timeouts: at(timeouts, b),
        latencyP50Us: latencyQuantileMs(0.5, hist) * 1000,
        latencyP99Us: latencyQuantileMs(0.99, hist) * 1000,
      });
    }
    return out;
  }

  private family(name: CounterName): Family<CounterRecorder> {
    const f = this.counters.get(name);
    if (f === undefined) throw new Error(`metrics: unknown counter "${name}"`);
    return f;
  }

  /** Buckets whose midpoints fall in the window; a window narrower than that gets the bucket holding its middle. */
  private bucketsFor(fromUs: number, toUs: number): { firstBucket: number; endBucket: number } {
    const w = this.grid.widthUs;
    const firstBucket = Math.max(0, Math.ceil(fromUs / w - 0.5));
    const endBucket = Math.ceil(toUs / w - 0.5);
    if (endBucket > firstBucket) return { firstBucket, endBucket };
    const mid = Math.floor((fromUs + toUs) / 2 / w);
    return { firstBucket: mid, endBucket: mid + 1 };
  }

  private stats(filter: Filter, slice: Slice, fromUs: number, toUs: number): WindowStats {
    const seconds = (toUs - fromUs) / 1_000_000;
    const req = sumLatency(this.requests.matching(filter), slice);
    const att = sumLatency(this.attempts.matching(filter), slice);
    const servers = this.servers.matching(filter);
    const srv = sumLatency(servers, slice);
    const count = (name: CounterName) => sumScalar(this.family(name).matching(filter), slice);
    const retries = count("retries");
    const busy = sumScalar(servers.map((s) => s.busySlots), slice);
    const capacity = sumScalar(servers.map((s) => s.capacitySlots), slice);
    return {
      fromUs,
      toUs,
      approximate: !("exact" in slice),
      requests: req.count,
      successes: req.successes,
      failures: req.count - req.successes,
      successRate: ratio(req.successes, req.count),
      rps: req.count / seconds,
      attempts: att.count,
      attemptSuccesses: att.successes,
      attemptFailures: att.count - att.successes,
      actualSuccessRate: ratio(att.successes, att.count),
      actualRps: att.count / seconds,
      retries,
      retryRatio: ratio(retries, req.count),
      serverRequests: srv.count,
      serverSuccesses: srv.successes,
      serverSuccessRate: ratio(srv.successes, srv.count),
      serverRps: srv.count / seconds,
      amplification: ratio(srv.count, req.count),
      latencyUs: summarize(req),
      actualLatencyUs: summarize(att),
      serverLatencyUs: summarize(srv),
      budgetExhausted: count("budgetExhausted"),
      failFast: count("failFast"),
      loadShed: count("loadShed"),
      duplicates: count("duplicates"),
      limitExceeded: count("limitExceeded"),
      timeouts: count("timeouts"),
      arrivals: count("arrivals"),
      inFlightMean: sumScalar(this.inFlights.matching(filter), slice) / (toUs - fromUs),
      utilization: ratio(busy, capacity),
      statusCounts: req.statuses,
      responses: req.responses,
      attemptResponses: att.responses,
      serverResponses: srv.responses,
    };
  }
}

/** The declared windows plus the whole run after warmup, without duplicates, in declaration order. */
function registeredWindows(opts: MeshMetricsOptions): Window[] {
  const out: Window[] = [];
  for (const [fromUs, toUs] of [[opts.warmupUs, opts.durationUs] as [number, number], ...opts.windows]) {
    if (!(Number.isSafeInteger(fromUs) && Number.isSafeInteger(toUs) && fromUs >= 0 && toUs > fromUs)) {
      throw new Error(`metrics: window [${fromUs}, ${toUs}) must be whole µs with 0 ≤ from < to`);
    }
    if (!out.some((w) => w.fromUs === fromUs && w.toUs === toUs)) out.push({ fromUs, toUs });
  }
  return out;
}

function cleanLabels(labels: SeriesLabels): Labels {
  const out: Record<string, string> = {};
  for (const n of LABEL_NAMES) {
    const v = labels[n];
    if (v !== undefined) out[n] = v;
  }
  return out;
}

/** Linkerd spells the default route `[DEFAULT]` (`viz routes`); a filter may write it in any case. */
function withDefaultRouteSpelling(filter: Filter): Filter {
  return filter.route !== undefined && filter.route !== DEFAULT_ROUTE && filter.route.toUpperCase() === DEFAULT_ROUTE ? { ...filter, route: DEFAULT_ROUTE } : filter;
}

/** A filter field that is present must equal the series' label; a series without that label does not match. */
/** Exact label match; a filter value ending in `*` matches by prefix (`us-east-1/*`). */
function matches(labels: Labels, filter: Filter): boolean {
  for (const n of LABEL_NAMES) {
    const want = filter[n];
    if (want === undefined) continue;
    const have = labels[n];
    if (want.endsWith("*") ? have === undefined || !have.startsWith(want.slice(0, -1)) : have !== want) return false;
  }
  return true;
}

function ratio(num: number, den: number): number {
  return den === 0 ? NaN : num / den;
}
