// Golden-metric math behind `linkerd viz stat` / `routes`: success rate, RPS, the proxy's latency
// histogram buckets and Prometheus `histogram_quantile`. Mirrors linkerd2 `viz/metrics-api/
// stat_summary.go` and `viz/cmd/stat.go` @ version-2.16, linkerd2-proxy `linkerd/metrics/src/
// {latency.rs,histogram.rs}` @ release/v2.246.0, and Prometheus `promql/quantile.go`
// (`bucketQuantile`). Deliberate difference: Prometheus' tolerance for tiny float-rounding dips
// between buckets is not reproduced (counts here are exact integers).

/** Upper bounds (ms, `le`) of the proxy's `response_latency_ms` buckets; a final +Inf bucket follows. */
export const LATENCY_BUCKET_BOUNDS_MS: readonly number[] = [
  1, 2, 3, 4, 5, 10, 20, 30, 40, 50, 100, 200, 300, 400, 500, 1000, 2000, 3000, 4000, 5000, 10000, 20000,
  30000, 40000, 50000,
];

/** Number of latency buckets including +Inf. */
export const LATENCY_BUCKET_COUNT = LATENCY_BUCKET_BOUNDS_MS.length + 1;

/** success / (success + failure); undefined when there were no requests (printed "-"). */
export function successRate(success: number, failure: number): number | undefined {
  const total = success + failure;
  return total === 0 ? undefined : success / total;
}

/** As the CLI prints SUCCESS: two decimals and a percent sign, or "-" without traffic. */
export function formatSuccessRate(rate: number | undefined): string {
  return rate === undefined ? "-" : `${(rate * 100).toFixed(2)}%`;
}

/** Requests per second over a window (the CLI divides the window's request count by its length). */
export function requestsPerSecond(requests: number, windowUs: number): number {
  if (!(windowUs > 0)) throw new Error(`requestsPerSecond: window must be > 0 (got ${windowUs})`);
  return requests / (windowUs / 1_000_000);
}

/** As the CLI prints RPS: one decimal and "rps". */
export function formatRps(rps: number): string {
  return `${rps.toFixed(1)}rps`;
}

/**
 * Bucket index a latency falls into. The proxy truncates the duration to whole milliseconds, then
 * picks the first bucket whose bound is ≥ the value, so 1.9 ms lands in `le="1"`.
 */
export function latencyBucketIndex(latencyUs: number): number {
  const ms = Math.floor(latencyUs / 1000);
  const bounds = LATENCY_BUCKET_BOUNDS_MS;
  let i = 0;
  while (i < bounds.length && ms > (bounds[i] as number)) i += 1;
  return i;
}

/** One `_bucket` sample: cumulative count of observations ≤ `le` (`le` = Infinity for +Inf). */
export interface PromBucket {
  le: number;
  count: number;
}

/** Per-bucket counts (index from `latencyBucketIndex`) → cumulative Prometheus buckets. */
export function cumulativeLatencyBuckets(perBucket: readonly number[]): PromBucket[] {
  let running = 0;
  const out: PromBucket[] = [];
  for (let i = 0; i < LATENCY_BUCKET_COUNT; i += 1) {
    running += perBucket[i] ?? 0;
    out.push({ le: LATENCY_BUCKET_BOUNDS_MS[i] ?? Infinity, count: running });
  }
  return out;
}

/**
 * Prometheus `histogram_quantile(q, buckets)` over cumulative buckets: linear interpolation inside
 * the bucket holding rank q·total, with 0 as the lower bound of the first bucket (unless its bound
 * is ≤ 0, which is then returned). Rank in the +Inf bucket ⇒ the highest finite bound. q < 0 ⇒ −Inf,
 * q > 1 ⇒ +Inf; NaN for NaN q, no observations, fewer than two buckets or no +Inf bucket.
 */
export function histogramQuantile(q: number, buckets: readonly PromBucket[]): number {
  if (Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  const sorted = coalesce([...buckets].sort((a, b) => a.le - b.le));
  if (sorted[sorted.length - 1]?.le !== Infinity) return NaN;
  // Counts must be cumulative; a dip (e.g. from scrapes taken at different instants) is flattened.
  let max = 0;
  for (const b of sorted) max = b.count = Math.max(max, b.count);
  if (sorted.length < 2) return NaN;
  const observations = sorted[sorted.length - 1]?.count ?? 0;
  if (observations === 0) return NaN;
  let rank = q * observations;
  let b = sorted.findIndex((x, i) => i < sorted.length - 1 && x.count >= rank);
  if (b === -1) b = sorted.length - 1;
  if (b === sorted.length - 1) return sorted[sorted.length - 2]?.le ?? NaN;
  const bucket = sorted[b] as PromBucket;
  if (b === 0 && bucket.le <= 0) return bucket.le;
  let start = 0;
  let count = bucket.count;
  const prev = sorted[b - 1];
  if (prev !== undefined) {
    start = prev.le;
    count -= prev.count;
    rank -= prev.count;
  }
  return start + (bucket.le - start) * (rank / count);
}

/** Merge buckets with the same bound (summing counts), as Prometheus does. Input must be sorted. */
function coalesce(sorted: readonly PromBucket[]): PromBucket[] {
  const out: PromBucket[] = [];
  for (const b of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && last.le === b.le) last.count += b.count;
    else out.push({ le: b.le, count: b.count });
  }
  return out;
}

/** A latency quantile in ms straight from per-bucket counts; NaN without observations. */
export function latencyQuantileMs(q: number, perBucket: readonly number[]): number {
  return histogramQuantile(q, cumulativeLatencyBuckets(perBucket));
}
