// The storage behind MeshMetrics. Every series records onto one shared timeline grid whose buckets
// double in width (merging neighbour pairs) when a cap would be exceeded, so memory never grows
// with simulated duration; beside the grid each series keeps exact accumulators (HDR histograms,
// counts) for the few windows declared before the run. Recording touches only numbers and typed
// arrays: the caller fetches a series handle once per label set and records into it. The sums that
// queries read (per window or per bucket range) live at the end, next to the layout they read.

import { build, type Histogram, JsHistogram } from "hdr-histogram-js";
import { LATENCY_BUCKET_BOUNDS_MS, LATENCY_BUCKET_COUNT, latencyBucketIndex, latencyQuantileMs } from "../policy/viz.js";

/** Field layout of a latency bucket: count, successes, latency sum (µs), Linkerd's 26 bucket counts. */
export const F_COUNT = 0;
export const F_SUCCESS = 1;
export const F_SUM_US = 2;
export const F_HIST = 3;
export const LATENCY_FIELDS = F_HIST + LATENCY_BUCKET_COUNT;

/** A half-open interval `[fromUs, toUs)` of simulated time. */
export interface Window {
  readonly fromUs: number;
  readonly toUs: number;
}

/** HDR histogram of latencies in µs with 3 significant digits, pure JS, growing as values arrive. */
export function newLatencyHistogram(): Histogram {
  return build({
    bitBucketSize: 32,
    autoResize: true,
    lowestDiscernibleValue: 1,
    highestTrackableValue: 2,
    numberOfSignificantValueDigits: 3,
    useWebAssembly: false,
  });
}

// The HDR layout `newLatencyHistogram` builds: lowest discernible value 1 µs (unit magnitude 0)
// and 3 significant digits, so 2 048 sub-buckets, half of them (2^10) per bucket after the first.
const HDR_HALF_MAGNITUDE = 10;
const HDR_SUB_BUCKET_MASK = 2047;

/**
 * The index of `value`'s count in that layout, as hdr-histogram-js computes it (its
 * `countsArrayIndex`), for integers 0 ≤ value < 2^31 — in a few integer operations where the
 * library takes a logarithm and two powers. A test checks the two agree.
 */
export function hdrCountsIndex(value: number): number {
  const bucket = 31 - Math.clz32(value | HDR_SUB_BUCKET_MASK) - HDR_HALF_MAGNITUDE;
  const sub = value >>> bucket;
  return ((bucket + 1) << HDR_HALF_MAGNITUDE) + sub - (1 << HDR_HALF_MAGNITUDE);
}

/** The lowest value whose count lives at `index` (its equivalence class in the HDR layout). */
export function hdrValueAt(index: number): number {
  let bucket = (index >> HDR_HALF_MAGNITUDE) - 1;
  let sub = (index & ((1 << HDR_HALF_MAGNITUDE) - 1)) + (1 << HDR_HALF_MAGNITUDE);
  if (bucket < 0) {
    sub -= 1 << HDR_HALF_MAGNITUDE;
    bucket = 0;
  }
  return sub * 2 ** bucket;
}

/** A 16-bit slot's count that goes to the histogram instead. */
const SLOT_LIMIT = 65536;

/**
 * Latencies counted straight into the HDR layout's slots and handed to an HDR histogram in bulk,
 * one `recordValueWithCount` per occupied slot, when the histogram is read. The histogram then
 * holds exactly the counts per slot that recording each value would have given it, and so every
 * percentile and the mean; its raw `minNonZeroValue` and `maxValue` are their slots' lowest
 * values (meshsim reads neither). Values it cannot index this way (≥ 2^31 µs, or not integers) go
 * to it directly.
 */
export class LatencyCounts {
  // 16-bit slots keep a series' working set small (a few KB where latencies cluster): recording is
  // one increment in a table that stays in cache. A slot that would reach 2^16 hands its count to
  // the histogram at once, which leaves every slot's total exact.
  private counts = new Uint16Array(4096);
  private pending = 0;
  private readonly hist = newLatencyHistogram();

  record(valueUs: number): void {
    if (!(valueUs >= 0 && valueUs < 2147483648 && Number.isInteger(valueUs))) {
      this.hist.recordValue(valueUs);
      return;
    }
    const i = hdrCountsIndex(valueUs);
    if (i >= this.counts.length) {
      const bigger = new Uint16Array(Math.max(2 * this.counts.length, i + 1));
      bigger.set(this.counts);
      this.counts = bigger;
    }
    const n = (this.counts[i] as number) + 1;
    if (n === SLOT_LIMIT) {
      this.hist.recordValueWithCount(hdrValueAt(i), n);
      this.counts[i] = 0;
      return;
    }
    this.counts[i] = n;
    this.pending += 1;
  }

  /** The histogram, with every value recorded so far. */
  get histogram(): Histogram {
    if (this.pending > 0) {
      const c = this.counts;
      for (let i = 0; i < c.length; i += 1) {
        const n = c[i] as number;
        if (n === 0) continue;
        this.hist.recordValueWithCount(hdrValueAt(i), n);
        c[i] = 0;
      }
      this.pending = 0;
    }
    return this.hist;
  }
}

/** The bucket grid every series shares, so timelines of different series line up and add. */
export class TimeGrid {
  /** Current bucket width; doubles on each coarsening. */
  widthUs: number;
  /** One past the highest bucket index touched so far. */
  used = 0;
  private readonly stores: BucketStore[] = [];

  constructor(
    widthUs: number,
    /** Most buckets a store may hold; reaching it doubles the width. */
    readonly maxBuckets: number,
  ) {
    if (!Number.isSafeInteger(widthUs) || widthUs <= 0) throw new Error(`bucket width must be a positive integer µs, got ${widthUs}`);
    if (!Number.isSafeInteger(maxBuckets) || maxBuckets < 2) throw new Error(`bucket cap must be an integer ≥ 2, got ${maxBuckets}`);
    this.widthUs = widthUs;
  }

  attach(store: BucketStore): void {
    this.stores.push(store);
  }

  /** Bucket index holding instant `tUs`, coarsening first if it would lie beyond the cap. */
  index(tUs: number): number {
    if (!(tUs >= 0)) throw new Error(`metrics: time must be ≥ 0, got ${tUs}`);
    let b = Math.floor(tUs / this.widthUs);
    if (b >= this.maxBuckets) {
      while (Math.floor(tUs / this.widthUs) >= this.maxBuckets) this.coarsen();
      b = Math.floor(tUs / this.widthUs);
    }
    if (b >= this.used) this.used = b + 1;
    return b;
  }

  /** Largest bucket allocation of any store (≤ maxBuckets). */
  storedBuckets(): number {
    let most = 0;
    for (const s of this.stores) most = Math.max(most, s.buckets());
    return most;
  }

  private coarsen(): void {
    this.widthUs *= 2;
    this.used = Math.ceil(this.used / 2);
    for (const s of this.stores) s.mergePairs();
  }
}

/** `fields` numbers per bucket in one growable typed array. Counts stay exact up to 2^53. */
export class BucketStore {
  data: Float64Array;

  constructor(
    readonly fields: number,
    private readonly grid: TimeGrid,
  ) {
    this.data = new Float64Array(fields * Math.min(16, grid.maxBuckets));
    grid.attach(this);
  }

  buckets(): number {
    return this.data.length / this.fields;
  }

  /** Offset of bucket `b`'s first field, growing the array if needed. Re-read `data` afterwards. */
  at(b: number): number {
    const o = b * this.fields;
    if (o + this.fields > this.data.length) {
      const buckets = Math.min(this.grid.maxBuckets, Math.max(2 * this.buckets(), b + 1));
      const bigger = new Float64Array(buckets * this.fields);
      bigger.set(this.data);
      this.data = bigger;
    }
    return o;
  }

  /** Bucket i becomes old buckets 2i + 2i+1. In place: bucket i's sources both lie at or after i. */
  mergePairs(): void {
    const d = this.data;
    const n = this.buckets();
    const f = this.fields;
    const half = Math.ceil(n / 2);
    for (let i = 0; i < half; i += 1) {
      const a = 2 * i * f;
      const hasB = 2 * i + 1 < n;
      for (let k = 0; k < f; k += 1) d[i * f + k] = (d[a + k] as number) + (hasB ? (d[a + f + k] as number) : 0);
    }
    d.fill(0, half * f);
  }
}

/**
 * Counts by `responseKey`. A series sees a handful of distinct keys (200, a 5xx or two), so two
 * parallel arrays searched from the last key counted beat a Map's hashing on every response.
 */
export class ResponseTally {
  private readonly keys: number[] = [];
  private readonly counts: number[] = [];
  private last = 0;

  add(key: number): void {
    const keys = this.keys;
    let i = this.last;
    if (keys[i] !== key) {
      i = keys.indexOf(key);
      if (i === -1) {
        i = keys.length;
        keys.push(key);
        this.counts.push(0);
      }
      this.last = i;
    }
    this.counts[i] = (this.counts[i] as number) + 1;
  }

  /** Each key counted and its count, in the order first seen. */
  *entries(): IterableIterator<[number, number]> {
    for (let i = 0; i < this.keys.length; i += 1) yield [this.keys[i] as number, this.counts[i] as number];
  }
}

/** Exact tallies of one latency series inside one registered window. */
export class LatencyWindow {
  count = 0;
  successes = 0;
  sumUs = 0;
  readonly latencies = new LatencyCounts();
  /** Responses by `responseKey` (only where the caller passed a status). */
  readonly responses = new ResponseTally();

  get histogram(): Histogram {
    return this.latencies.histogram;
  }
}

/** No grpc-status in a `responseKey`. */
const NO_GRPC = 99;

/**
 * One number per (classification, HTTP status, grpc-status), the labels of the proxy's
 * `response_total`: cheap to count on the hot path, decoded by `decodeResponseKey`.
 */
export function responseKey(success: boolean, status: number, grpcStatus: number | undefined): number {
  const grpc = grpcStatus === undefined || !(grpcStatus >= 0 && grpcStatus < NO_GRPC) ? NO_GRPC : grpcStatus;
  return (success ? 100_000 : 0) + status * 100 + grpc;
}

/** A count of responses with one set of `response_total` labels. */
export interface ResponseCount {
  classification: "success" | "failure";
  status: number;
  /** Absent ⇒ the response carried no grpc-status (the label is empty). */
  grpcStatus?: number;
  count: number;
}

export function decodeResponseKey(key: number, count: number): ResponseCount {
  const success = key >= 100_000;
  const rest = key % 100_000;
  const grpc = rest % 100;
  return { classification: success ? "success" : "failure", status: Math.floor(rest / 100), ...(grpc === NO_GRPC ? {} : { grpcStatus: grpc }), count };
}

/** Requests with a latency and an outcome: the client's logical requests, its attempts, or a server's. */
export class LatencyRecorder {
  readonly store: BucketStore;
  /** Per registered window, created on its first request. */
  readonly exact: Array<LatencyWindow | undefined>;

  constructor(
    readonly labels: Readonly<Record<string, string>>,
    private readonly grid: TimeGrid,
    private readonly windows: readonly Window[],
  ) {
    this.store = new BucketStore(LATENCY_FIELDS, grid);
    this.exact = windows.map(() => undefined);
  }

  /** One request that started at `startUs` and completed at `endUs`; it counts where it completed. */
  record(startUs: number, endUs: number, success: boolean, status?: number, grpcStatus?: number): void {
    const latencyUs = endUs - startUs;
    if (!(latencyUs >= 0)) throw new Error(`metrics: request ends (${endUs}) before it starts (${startUs})`);
    const o = this.store.at(this.grid.index(endUs));
    const d = this.store.data;
    const h = o + F_HIST + latencyBucketIndex(latencyUs);
    d[o + F_COUNT] = (d[o + F_COUNT] as number) + 1;
    if (success) d[o + F_SUCCESS] = (d[o + F_SUCCESS] as number) + 1;
    d[o + F_SUM_US] = (d[o + F_SUM_US] as number) + latencyUs;
    d[h] = (d[h] as number) + 1;
    const ws = this.windows;
    for (let i = 0; i < ws.length; i += 1) {
      const w = ws[i] as Window;
      if (endUs >= w.fromUs && endUs < w.toUs) this.recordExact(i, latencyUs, success, status, grpcStatus);
    }
  }

  private recordExact(i: number, latencyUs: number, success: boolean, status: number | undefined, grpcStatus: number | undefined): void {
    let acc = this.exact[i];
    if (acc === undefined) {
      acc = new LatencyWindow();
      this.exact[i] = acc;
    }
    acc.count += 1;
    if (success) acc.successes += 1;
    acc.sumUs += latencyUs;
    acc.latencies.record(latencyUs);
    if (status !== undefined) {
      const key = responseKey(success, status, grpcStatus);
      acc.responses.add(key);
    }
  }
}

/** Events counted at an instant (retries, budget skips, fail-fast, ...). */
export class CounterRecorder {
  readonly store: BucketStore;
  readonly exact: Float64Array;

  constructor(
    readonly labels: Readonly<Record<string, string>>,
    private readonly grid: TimeGrid,
    private readonly windows: readonly Window[],
  ) {
    this.store = new BucketStore(1, grid);
    this.exact = new Float64Array(windows.length);
  }

  add(atUs: number, n = 1): void {
    const o = this.store.at(this.grid.index(atUs));
    const d = this.store.data;
    d[o] = (d[o] as number) + n;
    const ws = this.windows;
    for (let i = 0; i < ws.length; i += 1) {
      const w = ws[i] as Window;
      if (atUs >= w.fromUs && atUs < w.toUs) this.exact[i] = (this.exact[i] as number) + n;
    }
  }
}

/**
 * A level held over time (in-flight requests, busy slots, capacity). It stores the integral
 * value × µs, so any window's time-weighted mean is integral / length. Time must not go back.
 */
export class GaugeRecorder {
  readonly store: BucketStore;
  readonly exact: Float64Array;
  value = 0;
  /** The lowest level ever held, and when: a count of things in flight below 0 is a model bug. */
  lowest = 0;
  lowestAtUs = 0;
  private lastUs = 0;

  constructor(
    readonly labels: Readonly<Record<string, string>>,
    private readonly grid: TimeGrid,
    private readonly windows: readonly Window[],
  ) {
    this.store = new BucketStore(1, grid);
    this.exact = new Float64Array(windows.length);
  }

  /** The level moves by `delta` at `nowUs`. */
  change(delta: number, nowUs: number): void {
    this.advance(nowUs);
    this.value += delta;
    if (this.value < this.lowest) this.noteLowest(nowUs);
  }

  /** The level becomes `value` at `nowUs`. */
  set(value: number, nowUs: number): void {
    this.advance(nowUs);
    this.value = value;
    if (this.value < this.lowest) this.noteLowest(nowUs);
  }

  private noteLowest(nowUs: number): void {
    if (this.lowest === 0) this.lowestAtUs = nowUs;
    this.lowest = this.value;
  }

  /** Account the current level up to `nowUs`. */
  advance(nowUs: number): void {
    if (nowUs < this.lastUs) throw new Error(`metrics: gauge time went back from ${this.lastUs} to ${nowUs}`);
    if (this.value !== 0 && nowUs > this.lastUs) this.integrate(this.lastUs, nowUs);
    this.lastUs = nowUs;
  }

  private integrate(fromUs: number, toUs: number): void {
    this.grid.index(toUs - 1); // coarsen before the loop so the width is fixed while spreading
    const width = this.grid.widthUs;
    let t = fromUs;
    while (t < toUs) {
      const b = Math.floor(t / width);
      const end = Math.min((b + 1) * width, toUs);
      const o = this.store.at(b);
      const d = this.store.data;
      d[o] = (d[o] as number) + this.value * (end - t);
      t = end;
    }
    const ws = this.windows;
    for (let i = 0; i < ws.length; i += 1) {
      const w = ws[i] as Window;
      const overlap = Math.min(toUs, w.toUs) - Math.max(fromUs, w.fromUs);
      if (overlap > 0) this.exact[i] = (this.exact[i] as number) + this.value * overlap;
    }
  }
}

/** Inbound side of a pod: requests served, busy slots and capacity for utilization, and the app's queueing delays. */
export class ServerRecorder extends LatencyRecorder {
  readonly busySlots: GaugeRecorder;
  readonly capacitySlots: GaugeRecorder;
  /**
   * Each request's wait in the app's queue, from reaching the container to the start of its
   * service (0 when a slot was free), counted where its service starts. A latency series of its
   * own, so its memory is bounded as every other one's: capped timeline buckets plus one HDR
   * histogram per registered window.
   */
  readonly queueDelay: LatencyRecorder;

  constructor(labels: Readonly<Record<string, string>>, grid: TimeGrid, windows: readonly Window[]) {
    super(labels, grid, windows);
    this.busySlots = new GaugeRecorder(labels, grid, windows);
    this.capacitySlots = new GaugeRecorder(labels, grid, windows);
    this.queueDelay = new LatencyRecorder(labels, grid, windows);
  }

  /** A request started service at `nowUs` after waiting `waitUs` in the app's queue. */
  waited(waitUs: number, nowUs: number): void {
    this.queueDelay.record(nowUs - waitUs, nowUs, true);
  }

  /** `deltaSlots` concurrency slots became busy (+) or free (−) at `nowUs`. */
  busy(deltaSlots: number, nowUs: number): void {
    this.busySlots.change(deltaSlots, nowUs);
  }

  /** The pod can serve `slots` requests at once from `nowUs` (0 when it dies). */
  setConcurrency(slots: number, nowUs: number): void {
    this.capacitySlots.set(slots, nowUs);
  }

  /** Close both gauges at `nowUs`. */
  advance(nowUs: number): void {
    this.busySlots.advance(nowUs);
    this.capacitySlots.advance(nowUs);
  }
}

// ---- Reading: sums over series for one slice of time --------------------------------------------

/** Which slice of a series to read: a registered window, or a range of timeline buckets. */
export type Slice = { exact: number } | { firstBucket: number; endBucket: number };

/** Latency quantiles and mean in µs; NaN without requests. */
export interface LatencySummaryUs {
  p50: number;
  p95: number;
  p99: number;
  mean: number;
}

export function at(a: Float64Array, i: number): number {
  return a[i] ?? 0;
}

/** A latency family summed over series for one slice. */
export interface LatencyTotals {
  count: number;
  successes: number;
  sumUs: number;
  /** Exact slices: the HDR histograms to merge. */
  histograms: Histogram[];
  /** Bucket slices: Linkerd latency bucket counts. */
  linkerdBuckets: number[] | undefined;
  /** By HTTP status, ascending. */
  statuses: Map<number, number>;
  /** By classification, HTTP status and grpc-status, in `responseKey` order. */
  responses: ResponseCount[];
}

/** Sum latency series over a slice: exact tallies and HDR histograms, or timeline buckets. */
export function sumLatency(series: readonly LatencyRecorder[], slice: Slice): LatencyTotals {
  const t: LatencyTotals = { count: 0, successes: 0, sumUs: 0, histograms: [], linkerdBuckets: undefined, statuses: new Map(), responses: [] };
  if ("exact" in slice) {
    const responses = new Map<number, number>();
    for (const s of series) {
      const acc = s.exact[slice.exact];
      if (acc === undefined) continue;
      t.count += acc.count;
      t.successes += acc.successes;
      t.sumUs += acc.sumUs;
      t.histograms.push(acc.histogram);
      for (const [key, n] of acc.responses.entries()) responses.set(key, (responses.get(key) ?? 0) + n);
    }
    t.responses = [...responses].sort((a, b) => a[0] - b[0]).map(([key, n]) => decodeResponseKey(key, n));
    for (const r of t.responses) t.statuses.set(r.status, (t.statuses.get(r.status) ?? 0) + r.count);
    t.statuses = new Map([...t.statuses].sort((a, b) => a[0] - b[0]));
    return t;
  }
  const hist = new Array<number>(LATENCY_BUCKET_COUNT).fill(0);
  for (const s of series) {
    const d = s.store.data;
    const end = Math.min(slice.endBucket, s.store.buckets());
    for (let b = slice.firstBucket; b < end; b += 1) {
      const o = b * LATENCY_FIELDS;
      t.count += at(d, o + F_COUNT);
      t.successes += at(d, o + F_SUCCESS);
      t.sumUs += at(d, o + F_SUM_US);
      for (let k = 0; k < LATENCY_BUCKET_COUNT; k += 1) hist[k] = (hist[k] ?? 0) + at(d, o + F_HIST + k);
    }
  }
  t.linkerdBuckets = hist;
  return t;
}

export function summarize(t: LatencyTotals): LatencySummaryUs {
  if (t.count === 0) return { p50: NaN, p95: NaN, p99: NaN, mean: NaN };
  const mean = t.sumUs / t.count;
  if (t.linkerdBuckets !== undefined) {
    const q = (p: number) => latencyQuantileMs(p, t.linkerdBuckets as number[]) * 1000;
    return { p50: q(0.5), p95: q(0.95), p99: q(0.99), mean };
  }
  let h = t.histograms[0] as Histogram;
  if (t.histograms.length > 1) {
    h = newLatencyHistogram();
    for (const part of t.histograms) h.add(part);
  }
  return { p50: h.getValueAtPercentile(50), p95: h.getValueAtPercentile(95), p99: h.getValueAtPercentile(99), mean };
}

/**
 * The fraction of the summed requests whose latency exceeds `thresholdUs`; NaN without requests.
 * Exact slices read the HDR histograms, so the answer has their resolution (3 significant digits):
 * a latency within the threshold's own bucket (a relative width of at most 1/1024) counts as not
 * above it. Bucket slices read Linkerd's buckets, interpolating linearly inside the one holding the
 * threshold as `histogram_quantile` does, and count the +Inf bucket as above the last bound.
 */
export function fractionAbove(t: LatencyTotals, thresholdUs: number): number {
  if (t.count === 0) return NaN;
  if (t.linkerdBuckets !== undefined) return linkerdFractionAbove(t.linkerdBuckets, thresholdUs / 1000) / t.count;
  let above = 0;
  for (const h of t.histograms) above += countAbove(h, thresholdUs);
  return above / t.count;
}

/** Recorded values of an HDR histogram above the threshold's equivalence range. */
function countAbove(h: Histogram, thresholdUs: number): number {
  // Pure-JS histograms (newLatencyHistogram) expose their counts array; its index order is value order.
  if (!(h instanceof JsHistogram)) throw new Error("metrics: latency histograms must be pure JS to count above a threshold");
  const last = Math.min(h.countsArrayIndex(Math.max(0, Math.floor(thresholdUs))), h.countsArrayLength - 1);
  let atOrBelow = 0;
  for (let i = 0; i <= last; i += 1) atOrBelow += h.getCountAtIndex(i);
  return h.totalCount - atOrBelow;
}

/** Observations above `thresholdMs` in Linkerd's buckets (per-bucket counts, +Inf last). */
function linkerdFractionAbove(buckets: readonly number[], thresholdMs: number): number {
  let above = 0;
  for (let i = 0; i < LATENCY_BUCKET_COUNT; i += 1) {
    const n = buckets[i] ?? 0;
    const lo = i === 0 ? 0 : (LATENCY_BUCKET_BOUNDS_MS[i - 1] as number);
    const hi = LATENCY_BUCKET_BOUNDS_MS[i] ?? Infinity;
    if (lo >= thresholdMs) above += n;
    else if (hi > thresholdMs && hi !== Infinity) above += (n * (hi - thresholdMs)) / (hi - lo);
  }
  return above;
}

/** Sum of counters or gauge integrals over the slice. */
export function sumScalar(series: ReadonlyArray<CounterRecorder | GaugeRecorder>, slice: Slice): number {
  let total = 0;
  for (const s of series) total += "exact" in slice ? at(s.exact, slice.exact) : sumRange(s.store.data, slice);
  return total;
}

function sumRange(d: Float64Array, slice: { firstBucket: number; endBucket: number }): number {
  let total = 0;
  for (let b = slice.firstBucket; b < Math.min(slice.endBucket, d.length); b += 1) total += at(d, b);
  return total;
}

/** Bucket-wise sum of several stores with `fields` numbers per bucket, over the first `n` buckets. */
export function sumBuckets(series: ReadonlyArray<{ store: { data: Float64Array } }>, fields: number, n: number): Float64Array {
  const out = new Float64Array(n * fields);
  for (const s of series) {
    const d = s.store.data;
    const len = Math.min(d.length, out.length);
    for (let i = 0; i < len; i += 1) out[i] = at(out, i) + at(d, i);
  }
  return out;
}
