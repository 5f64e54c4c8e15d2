import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MeshMetrics, type MeshMetricsOptions } from "../../src/mesh/metrics.js";

const S = 1_000_000;
const MS = 1_000;

function metrics(over: Partial<MeshMetricsOptions> = {}): MeshMetrics {
  return new MeshMetrics({ bucketUs: S, warmupUs: 10 * S, durationUs: 100 * S, windows: [[20 * S, 30 * S]], ...over });
}

const checkout = { traffic: "checkout", client: "east/shop/checkout", service: "auth.payments", route: "GET /verify" };

describe("counters and rates over a registered window", () => {
  // 10 logical requests, 7 succeed; 14 attempts, 10 succeed; 4 retries, 1 budget skip; 10 s window.
  const m = metrics();
  const req = m.request(checkout);
  const att = m.attempt(checkout);
  for (let i = 0; i < 10; i += 1) req.record(21 * S + i * 100, 21 * S + i * 100 + 5 * MS, i < 7, i < 7 ? 200 : 503);
  for (let i = 0; i < 14; i += 1) att.record(21 * S, 21 * S + MS, i < 10, i < 10 ? 200 : 503);
  for (let i = 0; i < 4; i += 1) m.counter("retries", checkout).add(22 * S);
  m.counter("budgetExhausted", checkout).add(23 * S);
  const s = m.query({ client: "east/shop/checkout" }, [20 * S, 30 * S]);

  it("is exact", () => expect(s.approximate).toBe(false));
  it("counts logical requests and their outcomes", () => {
    expect([s.requests, s.successes, s.failures]).toEqual([10, 7, 3]);
    expect(s.successRate).toBeCloseTo(0.7, 12);
    expect(s.rps).toBeCloseTo(10 / 10, 12);
  });
  it("counts attempts separately (ACTUAL vs EFFECTIVE)", () => {
    expect([s.attempts, s.attemptSuccesses, s.attemptFailures]).toEqual([14, 10, 4]);
    expect(s.actualSuccessRate).toBeCloseTo(10 / 14, 12);
    expect(s.actualRps).toBeCloseTo(1.4, 12);
  });
  it("divides retries by logical requests", () => {
    expect(s.retries).toBe(4);
    expect(s.retryRatio).toBeCloseTo(0.4, 12);
    expect(s.budgetExhausted).toBe(1);
    expect(s.failFast).toBe(0);
  });
  it("tallies statuses of logical requests", () => expect([...s.statusCounts]).toEqual([[200, 7], [503, 3]]));
  it("reports the exact mean latency", () => expect(s.latencyUs.mean).toBe(5 * MS));
});

describe("no traffic", () => {
  it("gives NaN rates and latencies, zero counts", () => {
    const s = metrics().query({}, [20 * S, 30 * S]);
    expect(s.requests).toBe(0);
    expect(s.rps).toBe(0);
    expect(s.successRate).toBeNaN();
    expect(s.retryRatio).toBeNaN();
    expect(s.latencyUs.p99).toBeNaN();
    expect(s.utilization).toBeNaN();
  });
});

describe("latency quantiles in registered windows come from HDR histograms (3 significant digits)", () => {
  const m = metrics();
  const req = m.request(checkout);
  for (let us = 1; us <= 10_000; us += 1) req.record(25 * S - us, 25 * S, true, 200);
  const s = m.query({}, [20 * S, 30 * S]);

  it.each([
    ["p50", s.latencyUs.p50, 5_000],
    ["p95", s.latencyUs.p95, 9_500],
    ["p99", s.latencyUs.p99, 9_900],
  ])("uniform 1..10000 µs: %s ≈ its rank within 0.1%%", (_name, got, want) => {
    expect(Math.abs(got - want) / want).toBeLessThanOrEqual(0.001);
  });
  it("the mean is exact", () => expect(s.latencyUs.mean).toBe(5_000.5));

  it("quantiles of several series are those of their union", () => {
    const m2 = metrics();
    const a = m2.request({ ...checkout, pod: "a" });
    const b = m2.request({ ...checkout, pod: "b" });
    for (let us = 1; us <= 10_000; us += 1) (us % 2 === 0 ? a : b).record(25 * S - us, 25 * S, true, 200);
    expect(m2.query({}, [20 * S, 30 * S]).latencyUs).toEqual(s.latencyUs);
  });
});

describe("a request belongs to the window holding its completion", () => {
  const m = metrics();
  const req = m.request(checkout);
  req.record(19 * S, 20 * S + 1, true, 200); // started before, ended inside: in
  req.record(29 * S, 30 * S + 1, true, 200); // started inside, ended after: out
  req.record(19 * S, 20 * S, true, 200); // ends exactly at the start: in (windows are [from, to))
  req.record(25 * S, 30 * S, true, 200); // ends exactly at the end: out
  it("counts by end time with half-open windows", () => expect(m.query({}, [20 * S, 30 * S]).requests).toBe(2));
  it("counters belong to the window holding their instant", () => {
    m.counter("failFast", checkout).add(20 * S);
    m.counter("failFast", checkout).add(30 * S);
    expect(m.query({}, [20 * S, 30 * S]).failFast).toBe(1);
  });
  it("the whole run after warmup is always registered", () => {
    const s = m.query({}, [10 * S, 100 * S]);
    expect(s.approximate).toBe(false);
    expect(s.requests).toBe(4);
  });
});

describe("registered windows need not align with buckets", () => {
  it("counts exactly inside a sub-bucket window, where the bucket answer would be approximate", () => {
    const m = metrics({ windows: [[20.5 * S, 21.5 * S]] });
    const req = m.request(checkout);
    for (const end of [20.4, 20.6, 21.4, 21.6]) req.record(20 * S, end * S, true, 200);
    m.counter("timeouts", checkout).add(21.49 * S);
    const exact = m.query({}, [20.5 * S, 21.5 * S]);
    expect([exact.approximate, exact.requests, exact.timeouts]).toEqual([false, 2, 1]);
    expect(exact.rps).toBeCloseTo(2, 12);
    const near = m.query({}, [20.6 * S, 21.6 * S]);
    expect([near.approximate, near.fromUs, near.toUs, near.requests]).toEqual([true, 21 * S, 22 * S, 2]);
  });
});

describe("label filters", () => {
  const m = metrics();
  m.request({ ...checkout, backend: "auth-west" }).record(21 * S, 22 * S, true, 200);
  m.request({ ...checkout, backend: "auth" }).record(21 * S, 22 * S, false, 503);
  m.request({ traffic: "batch", client: "east/shop/batch", service: "auth.payments" }).record(21 * S, 22 * S, true, 200);
  const count = (f: Parameters<MeshMetrics["query"]>[0]) => m.query(f, [20 * S, 30 * S]).requests;

  it.each([
    ["an empty filter matches every series", {}, 3],
    ["a field narrows to series with that label value", { traffic: "checkout" }, 2],
    ["fields combine with AND", { service: "auth.payments", backend: "auth" }, 1],
    ["a series without the label does not match a filter naming it", { backend: "auth-west", traffic: "batch" }, 0],
    ["no match gives zero", { client: "west/shop/checkout" }, 0],
  ])("%s", (_name, filter, want) => expect(count(filter)).toBe(want));

  it("the same labels give the same series", () => {
    const before = count({ traffic: "batch" });
    m.request({ service: "auth.payments", client: "east/shop/batch", traffic: "batch" }).record(21 * S, 22 * S, true, 200);
    expect(count({ traffic: "batch" })).toBe(before + 1);
  });
});

describe("amplification and duplicates from the server side", () => {
  it("is attempts reaching servers per logical request", () => {
    const m = metrics();
    const req = m.request(checkout);
    const pods = ["auth-0", "auth-1"].map((pod) => m.server({ ...checkout, server: "east/payments/auth", pod }));
    for (let i = 0; i < 4; i += 1) {
      req.record(21 * S, 22 * S, true, 200);
      for (let k = 0; k < 3; k += 1) (pods[k % 2] as (typeof pods)[number]).record(21 * S, 21 * S + MS, k === 2);
    }
    const s = m.query({ client: checkout.client }, [20 * S, 30 * S]);
    expect(s.serverRequests).toBe(12);
    expect(s.serverSuccessRate).toBeCloseTo(1 / 3, 12);
    expect(s.amplification).toBe(3);
  });
});

describe("time-weighted gauges", () => {
  it("a server with 2 slots, one busy the whole window, is 50% utilised", () => {
    const m = metrics();
    const pod = m.server({ server: "east/payments/auth", pod: "auth-0" });
    pod.setConcurrency(2, 0);
    pod.busy(1, 0);
    m.finish(100 * S);
    expect(m.query({ pod: "auth-0" }, [20 * S, 30 * S]).utilization).toBeCloseTo(0.5, 12);
  });

  it("a server busy on all slots half the time is 50% utilised, exactly and from buckets", () => {
    const m = metrics();
    const pod = m.server({ pod: "auth-0" });
    pod.setConcurrency(4, 0);
    for (let t = 20 * S; t < 30 * S; t += 2 * S) {
      pod.busy(4, t);
      pod.busy(-4, t + S);
    }
    m.finish(100 * S);
    expect(m.query({}, [20 * S, 30 * S]).utilization).toBeCloseTo(0.5, 12);
    const approx = m.query({}, [20 * S, 40 * S]);
    expect(approx.approximate).toBe(true);
    expect(approx.utilization).toBeCloseTo(0.25, 12);
  });

  it("in-flight mean is the time average: 3 for half the window, 1 for the other half ⇒ 2", () => {
    const m = metrics();
    const g = m.inFlight(checkout);
    g.change(3, 20 * S);
    g.change(-2, 25 * S);
    g.change(-1, 30 * S);
    m.finish(100 * S);
    expect(m.query({}, [20 * S, 30 * S]).inFlightMean).toBeCloseTo(2, 12);
    expect(g.value).toBe(0);
  });

  it("gauge time may not go back", () => {
    const g = metrics().inFlight(checkout);
    g.change(1, 5 * S);
    expect(() => g.change(1, 4 * S)).toThrow(/back/);
  });
});

describe("unregistered windows come from timeline buckets", () => {
  const m = metrics();
  const req = m.request(checkout);
  // 15 ms requests: Linkerd puts them in the le=20 bucket, so histogram_quantile interpolates in (10, 20].
  for (let t = 40 * S; t < 50 * S; t += 100 * MS) req.record(t, t + 15 * MS, true, 200);
  const s = m.query({}, [40 * S, 50 * S]);

  it("says so", () => expect(s.approximate).toBe(true));
  it("has exact counts when the window is on bucket boundaries", () => {
    expect(s.requests).toBe(100);
    expect(s.rps).toBeCloseTo(10, 12);
  });
  it("interpolates latency inside Linkerd's buckets", () => {
    expect(s.latencyUs.p50).toBeCloseTo(15_000, 6);
    expect(s.latencyUs.p99).toBeCloseTo(19_900, 6);
    expect(s.latencyUs.mean).toBe(15_000);
  });
  it("rounds an unaligned window to the buckets whose midpoints it covers", () => {
    const r = m.query({}, [39.7 * S, 44.2 * S]);
    expect([r.fromUs, r.toUs]).toEqual([40 * S, 44 * S]);
    expect(r.requests).toBe(40);
  });
  it("finds nothing in a window past everything recorded", () => {
    const r = m.query({}, [500 * S, 510 * S]);
    expect([r.fromUs, r.toUs, r.requests, r.approximate]).toEqual([500 * S, 510 * S, 0, true]);
  });
  it("answers a window inside one bucket with that bucket", () => {
    const r = m.query({}, [41.1 * S, 41.2 * S]);
    expect([r.fromUs, r.toUs, r.requests]).toEqual([41 * S, 42 * S, 10]);
  });
});

describe("timeline", () => {
  it("sums the matching series per bucket", () => {
    const m = metrics({ durationUs: 5 * S, warmupUs: 0, windows: [] });
    const req = m.request(checkout);
    const att = m.attempt(checkout);
    req.record(1 * S, 1 * S + 5 * MS, true, 200);
    req.record(1 * S, 1 * S + 5 * MS, false, 503);
    att.record(1 * S, 1 * S + 5 * MS, false, 503);
    m.counter("retries", checkout).add(1 * S);
    const tl = m.timeline({ traffic: "checkout" });
    expect(tl.map((p) => [p.startUs, p.endUs])).toEqual([0, 1, 2, 3, 4].map((b) => [b * S, (b + 1) * S]));
    expect(tl[1]).toMatchObject({ requests: 2, success: 1, failures: 1, attempts: 1, attemptFailures: 1, retries: 1 });
    expect(tl[1]?.latencyP50Us).toBeCloseTo(4_500, 6); // both 5 ms land in (4, 5]; rank 1 of 2 ⇒ 4 + (5 − 4)·½ ms
    expect(tl[0]?.requests).toBe(0);
    expect(tl[0]?.latencyP50Us).toBeNaN();
  });
});

describe("bounded memory: buckets coarsen past the cap", () => {
  const cap = 16;
  const m = new MeshMetrics({ bucketUs: S, warmupUs: 0, durationUs: 8 * S, windows: [], maxBuckets: cap });
  const req = m.request(checkout);
  const retries = m.counter("retries", checkout);
  const g = m.inFlight(checkout);
  g.change(1, 0);
  for (let t = 0; t < 10 * cap * S; t += S / 4) {
    req.record(t, t, true, 200);
    retries.add(t);
  }
  m.finish(10 * cap * S);

  it("never holds more buckets than the cap", () => {
    expect(m.storedBuckets()).toBeLessThanOrEqual(cap);
    expect(m.timeline({}).length).toBeLessThanOrEqual(cap);
  });
  it("doubles the width to the smallest power of two that fits", () => {
    // 160 s in ≤ 16 buckets needs width ≥ 10 s: 1 s → 16 s.
    expect(m.bucketWidthUs).toBe(16 * S);
  });
  it("keeps totals exact", () => {
    const tl = m.timeline({});
    expect(tl.reduce((n, p) => n + p.requests, 0)).toBe(4 * 10 * cap);
    expect(tl.reduce((n, p) => n + p.retries, 0)).toBe(4 * 10 * cap);
    expect(tl.every((p) => p.requests === 4 * 16)).toBe(true);
    const all = m.query({}, [0, 10 * cap * S]);
    expect(all.requests).toBe(4 * 10 * cap);
    expect(all.inFlightMean).toBeCloseTo(1, 12);
  });

  it("bucket counts equal a brute-force count at the final width, for any recording order of times", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 500 * S }), fc.boolean()), { maxLength: 200 }), (events) => {
        const mm = new MeshMetrics({ bucketUs: S, warmupUs: 0, durationUs: S, windows: [[0, 3 * S]], maxBuckets: 8 });
        const r = mm.request(checkout);
        for (const [end, ok] of events) r.record(end, end, ok, ok ? 200 : 500);
        const w = mm.bucketWidthUs;
        expect(mm.storedBuckets()).toBeLessThanOrEqual(8);
        mm.timeline({}).forEach((p, b) => {
          const inside = events.filter(([end]) => Math.floor(end / w) === b);
          expect([p.requests, p.success]).toEqual([inside.length, inside.filter(([, ok]) => ok).length]);
        });
        expect(mm.query({}, [0, 3 * S]).requests).toBe(events.filter(([end]) => end < 3 * S).length);
      }),
      { seed: 20240611, numRuns: 200 },
    );
  });
});

describe("input checks", () => {
  it("a request may not end before it starts", () => {
    expect(() => metrics().request(checkout).record(5, 4, true, 200)).toThrow(/before it starts/);
  });
  it.each([
    ["an empty window", { windows: [[5, 5]] as Array<[number, number]> }],
    ["warmup past the end", { warmupUs: 200 * S }],
    ["a zero bucket width", { bucketUs: 0 }],
  ])("rejects %s", (_name, over) => expect(() => metrics(over)).toThrow());
});

describe("the never-negative invariant of levels", () => {
  it("names a gauge that went below 0, with the first instant, even if it came back", () => {
    const m = metrics();
    const g = m.inFlight({ traffic: "t", client: "c/ns/a", service: "s", route: "r" });
    g.change(1, 1 * S);
    g.change(-1, 2 * S);
    expect(m.negativeGauges()).toEqual([]);
    g.change(-1, 3 * S);
    g.change(1, 4 * S);
    expect(m.negativeGauges()).toEqual([`in-flight of {"traffic":"t","client":"c/ns/a","service":"s","route":"r"} went below 0 (to -1) at ${3 * S}us`]);
  });

  it("watches the busy slots of every server", () => {
    const m = metrics();
    m.server({ server: "c/ns/api", pod: "api-0" }).busy(-1, S);
    expect(m.negativeGauges()).toEqual([`busy slots of {"server":"c/ns/api","pod":"api-0"} went below 0 (to -1) at ${S}us`]);
  });
});

describe("Little's law over the run", () => {
  const labels = { traffic: "checkout", client: "east/shop/checkout", service: "auth.payments", route: "GET /verify" };
  /** Requests i = 0..n−1 start at i s and take (i % 3 + 1) × 100 ms; the gauge follows them unless `leak`. */
  function run(leak: boolean, stretchUs = 0): string[] {
    const m = new MeshMetrics({ bucketUs: S, warmupUs: 0, durationUs: 20 * S, windows: [] });
    const gauge = m.inFlight(labels);
    const requests = m.request(labels);
    const events: Array<[number, number, () => void]> = [];
    for (let i = 0; i < 10; i++) {
      const start = i * S;
      const end = start + ((i % 3) + 1) * 100_000;
      events.push([start, 0, () => gauge.change(1, start)]);
      events.push([end, 1, () => {
        if (!leak) gauge.change(-1, end);
        requests.record(start - stretchUs, end, true, 200);
      }]);
    }
    events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    for (const [, , f] of events) f();
    m.finish(20 * S);
    return m.littleLawWarnings(20 * S);
  }

  it("holds when the gauge follows every request (area = Σ latency = 4×0.1 + 3×0.2 + 3×0.3 = 1.9 s)", () => {
    expect(run(false)).toEqual([]);
  });

  it("holds with requests still in flight at the end (a gauge never brought down is within the slack)", () => {
    expect(run(true)).toEqual([]);
  });

  it("warns when latencies are stamped from before the request was in flight", () => {
    // Each request measured 1 s longer than it was in flight: Σ latency 11.9 s against an area of
    // 1.9 s over 20 s, i.e. 0.595 against 0.095 in flight on average.
    expect(run(false, S)[0]).toMatch(/^Little's law does not hold for .*in flight 0\.095 on average, but completions × mean latency = 0\.595/);
  });
});

describe("latencyAbove: the fraction of requests slower than a threshold", () => {
  // Latencies 1..10 000 µs, one each, in a registered window: exactly 10 000 − t of them exceed t.
  const m = metrics();
  const req = m.request(checkout);
  for (let us = 1; us <= 10_000; us += 1) req.record(25 * S - us, 25 * S, true, 200);
  const above = (t: number) => m.latencyAbove({}, [20 * S, 30 * S], t, "client");

  it.each([1_000, 2_500, 5_000, 9_000])("uniform 1..10000 µs above %i µs is (10000 − t)/10000 within the HDR resolution", (t) => {
    // The threshold's HDR bucket is at most t/1024 wide (3 significant digits), and latencies in it count as not above.
    const want = (10_000 - t) / 10_000;
    expect(above(t)).toBeLessThanOrEqual(want);
    expect(above(t)).toBeGreaterThanOrEqual(want - Math.ceil(t / 1024) / 10_000);
  });
  it("is 1 below every latency and 0 at or above the largest", () => {
    expect(above(0)).toBe(1);
    expect(above(10_000)).toBe(0);
    expect(above(60 * S)).toBe(0);
  });
  it("is NaN without requests", () => expect(metrics().latencyAbove({}, [20 * S, 30 * S], 1_000, "client")).toBeNaN());
  it("reads the servers' series on the server side", () => {
    const m2 = metrics();
    const pod = m2.server({ server: "east/payments/auth", pod: "auth-0" });
    for (const ms of [1, 2, 3, 40]) pod.record(21 * S, 21 * S + ms * MS, true, 200);
    expect(m2.latencyAbove({ server: "east/payments/auth" }, [20 * S, 30 * S], 10 * MS, "server")).toBe(0.25);
    expect(m2.latencyAbove({ server: "east/payments/auth" }, [20 * S, 30 * S], 10 * MS, "client")).toBeNaN();
  });
  it("interpolates inside Linkerd's buckets for an unregistered window", () => {
    // 100 requests of 15 ms in [40 s, 50 s): all in the (10, 20] ms bucket, so above 12.5 ms is
    // (20 − 12.5)/(20 − 10) = 0.75 of them, above 10 ms all, above 20 ms none.
    const m2 = metrics();
    const r = m2.request(checkout);
    for (let t = 40 * S; t < 50 * S; t += 100 * MS) r.record(t, t + 15 * MS, true, 200);
    const approx = (t: number) => m2.latencyAbove({}, [40 * S, 50 * S], t, "client");
    expect(approx(12.5 * MS)).toBeCloseTo(0.75, 12);
    expect(approx(10 * MS)).toBe(1);
    expect(approx(20 * MS)).toBe(0);
  });
});

describe("queue delay at a server", () => {
  it("summarises the waits recorded where service started, zero waits included", () => {
    const m = metrics();
    const pod = m.server({ server: "east/payments/auth", pod: "auth-0" });
    // Waits 0, 0, 2 ms and 6 ms, one starting service before the window (not counted).
    pod.waited(0, 21 * S);
    pod.waited(0, 22 * S);
    pod.waited(2 * MS, 23 * S);
    pod.waited(6 * MS, 29 * S);
    pod.waited(50 * MS, 19 * S);
    const d = m.queueDelay({ server: "east/payments/auth" }, [20 * S, 30 * S]);
    expect(d.mean).toBe((2 + 6) * MS / 4);
    // The p99 is the largest wait, to the HDR histogram's resolution (3 significant digits).
    expect(Math.abs(d.p99 / (6 * MS) - 1)).toBeLessThanOrEqual(0.001);
    expect(d.p50).toBe(0);
  });
  it("sums pods of one workload, and is NaN for a workload that waited for nothing", () => {
    const m = metrics();
    m.server({ server: "east/payments/auth", pod: "auth-0" }).waited(4 * MS, 21 * S);
    m.server({ server: "east/payments/auth", pod: "auth-1" }).waited(0, 21 * S);
    m.server({ server: "east/payments/web", pod: "web-0" });
    expect(m.queueDelay({ server: "east/payments/auth" }, [20 * S, 30 * S]).mean).toBe(2 * MS);
    expect(m.queueDelay({ server: "east/payments/web" }, [20 * S, 30 * S]).mean).toBeNaN();
  });
  it("keeps bounded memory: its timeline coarsens with every other series", () => {
    const m = new MeshMetrics({ bucketUs: S, warmupUs: 0, durationUs: 8 * S, windows: [], maxBuckets: 16 });
    const pod = m.server({ server: "east/payments/auth", pod: "auth-0" });
    for (let t = 0; t < 160 * S; t += S / 4) pod.waited(MS, t);
    expect(m.storedBuckets()).toBeLessThanOrEqual(16);
    // An unregistered window is answered from the buckets: 4 waits of 1 ms per second.
    const d = m.queueDelay({}, [0, 160 * S]);
    expect(d.mean).toBe(MS);
  });
});
