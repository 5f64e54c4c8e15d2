// The capacity report on synthetic sweep docs: every expected figure is worked out from the
// formulas in src/report/capacity.ts (means over seeds, the 2× knee, the unbroken SLO run,
// Little's law, ceil(r·u·Λ/(λ·ρ*)), the N+1 load), never from running a scenario.

import { describe, expect, it } from "vitest";
import { capacityFromOptions } from "../../src/cli/sweep-command.js";
import {
  capacityAnalysis,
  capacityMarkdown,
  type CapacityOptions,
  kneeRps,
  nPlusOne,
  type NPlusOneInput,
  p99AtLoad,
  parseLoadRps,
  parseSlo,
  replicasNeeded,
  spread,
} from "../../src/report/capacity.js";
import type { SweepDoc, SweepResult } from "../../src/report/sweep.js";

type Figures = Partial<Omit<SweepResult, "index" | "params" | "seed">>;

/** A result with neutral figures (all succeed, Little's law exact) overridden by `f`. */
function result(index: number, params: Record<string, string>, seed: string, f: Figures = {}): SweepResult {
  return {
    index,
    params,
    seed,
    digest: `d${index}`,
    pass: true,
    expectations: [],
    requests: 1000,
    successRate: 1,
    latencyMsP50: 5,
    latencyMsP99: 10,
    retryRatio: 0,
    utilization: 0.5,
    inFlightMean: 1,
    rps: 100,
    latencyMsMean: 10,
    amplification: 1,
    ...f,
  };
}

function doc(results: SweepResult[]): SweepDoc {
  return { kind: "meshsim-sweep", grid: { file: "s.yaml", axes: [{ name: "rate", values: [] }], seeds: ["1", "2"] }, results };
}

// Per load, the two seeds' p99 (ms), success rate and utilization.
const CURVE: [string, [number, number], [number, number], [number, number]][] = [
  ["100/s", [10, 12], [1, 1], [0.1, 0.14]],
  ["200/s", [14, 16], [1, 0.999], [0.2, 0.3]],
  ["400/s", [20, 26], [1, 1], [0.4, 0.5]],
  ["800/s", [60, 80], [0.95, 0.99], [0.8, 0.9]],
];

// Listed out of load order on purpose (as a `--vary rate=400/s,100/s,...` would be).
const SWEEP = doc(
  [CURVE[2], CURVE[0], CURVE[3], CURVE[1]].flatMap((c, k) => {
    const [rate, p99, success, util] = c as (typeof CURVE)[number];
    return [0, 1].map((s) => result(2 * k + s, { rate }, String(s + 1), { latencyMsP99: p99[s] as number, successRate: success[s] as number, utilization: util[s] as number }));
  }),
);

const OPTS: CapacityOptions = { loadParam: "rate", slo: { p99Ms: 25, successRate: 0.99 }, replicas: 2, targetLoadRps: 1000, targetUtilization: 0.5 };

const mean = (a: number, b: number): number => (a + b) / 2;

describe("parsing the load and the SLO", () => {
  it.each([
    ["500/s", 500],
    ["500rps", 500],
    ["500", 500],
    ["1.5/s", 1.5],
    ["30/m", 0.5],
    ["120/min", 2],
    ["fast", null],
    ["500/h", null],
  ])("reads the load %s as %s rps", (text, rps) => {
    expect(parseLoadRps(text)).toBe(rps);
  });

  it("reads p99 with a duration unit and success as a fraction, either part alone", () => {
    expect(parseSlo("p99<=100ms,success>=0.999")).toEqual({ ok: true, value: { p99Ms: 100, successRate: 0.999 } });
    expect(parseSlo("p99<=1s")).toEqual({ ok: true, value: { p99Ms: 1000 } });
    expect(parseSlo("success>=0.9")).toEqual({ ok: true, value: { successRate: 0.9 } });
  });

  it.each(["p99>=100ms", "p99<=100", "success>=1.5", "success<=0.9", "p50<=10ms"])("refuses the SLO %s", (text) => {
    expect(parseSlo(text).ok).toBe(false);
  });

  it("builds capacity options from the command line only when a report is asked for", () => {
    expect(capacityFromOptions({})).toEqual({ ok: true, value: undefined });
    expect(capacityFromOptions({ slo: "p99<=50ms", targetLoad: "4000/s", targetUtilization: 0.6 })).toEqual({
      ok: true,
      value: { loadParam: "rate", slo: { p99Ms: 50 }, targetLoadRps: 4000, targetUtilization: 0.6 },
    });
    expect(capacityFromOptions({ loadParam: "qps" })).toEqual({ ok: true, value: { loadParam: "qps", slo: {} } });
    expect(capacityFromOptions({ replicas: 3 })).toEqual({ ok: true, value: { loadParam: "rate", slo: {}, replicas: 3 } });
    expect(capacityFromOptions({ slo: "p99 under 50ms" }).ok).toBe(false);
    expect(capacityFromOptions({ loadParam: "rate", targetUtilization: 1.5 }).ok).toBe(false);
  });
});

describe("aggregating over seeds", () => {
  it("gives mean, min and max over the seeds that measured, null when none did", () => {
    expect(spread([3, null, 1, 5])).toEqual({ mean: 3, min: 1, max: 5, n: 3 });
    expect(spread([null, null])).toBeNull();
  });

  const series = capacityAnalysis(SWEEP, OPTS).series;
  const points = series[0]?.points ?? [];

  it("makes one series when only the load is swept, its points in rising load", () => {
    expect(series).toHaveLength(1);
    expect(points.map((p) => p.loadRps)).toEqual([100, 200, 400, 800]);
    expect(points.map((p) => p.seeds)).toEqual(CURVE.map(() => ["1", "2"]));
  });

  it.each(CURVE.map((c, k) => [c[0], k, c] as const))("shows the seeds' spread at %s", (_, k, [, p99, success, util]) => {
    const p = points[k];
    expect(p?.latencyMsP99).toEqual({ mean: mean(...p99), min: Math.min(...p99), max: Math.max(...p99), n: 2 });
    expect(p?.successRate).toEqual({ mean: mean(...success), min: Math.min(...success), max: Math.max(...success), n: 2 });
    expect(p?.utilization?.mean).toBeCloseTo(mean(...util), 12);
  });
});

describe("the answers", () => {
  const s = capacityAnalysis(SWEEP, OPTS).series[0];

  it("puts the knee at the first load whose mean p99 exceeds twice the lowest load's", () => {
    // Lowest-load mean p99 = 11 ms, so the bar is 22: 200/s has 15, 400/s has 23.
    expect(s?.kneeRps).toBe(400);
  });

  it("has no knee when latency stays under twice the baseline", () => {
    const flat = capacityAnalysis(doc([result(0, { rate: "1/s" }, "1", { latencyMsP99: 10 }), result(1, { rate: "2/s" }, "1", { latencyMsP99: 20 })]), OPTS);
    expect(flat.series[0]?.kneeRps).toBeNull();
    expect(kneeRps([])).toBeNull();
  });

  it("finds the highest load meeting the SLO on every seed and on the mean", () => {
    // p99 ≤ 25, success ≥ 0.99: at 400/s seed 2 has 26 ms but the mean is 23; 800/s misses on both.
    expect(s?.points.map((p) => [p.sloAllSeeds, p.sloMean])).toEqual([
      [true, true],
      [true, true],
      [false, true],
      [false, false],
    ]);
    expect(s?.maxLoadRpsAllSeeds).toBe(200);
    expect(s?.maxLoadRpsMean).toBe(400);
  });

  it("does not count a passing load above a failing one", () => {
    const bumpy = doc([result(0, { rate: "1/s" }, "1"), result(1, { rate: "2/s" }, "1", { latencyMsP99: 99 }), result(2, { rate: "3/s" }, "1")]);
    expect(capacityAnalysis(bumpy, OPTS).series[0]?.maxLoadRpsAllSeeds).toBe(1);
  });

  it("counts a seed that measured no p99 as missing the SLO", () => {
    const blind = doc([result(0, { rate: "1/s" }, "1"), result(1, { rate: "1/s" }, "2", { latencyMsP99: null })]);
    const p = capacityAnalysis(blind, OPTS).series[0]?.points[0];
    expect([p?.sloAllSeeds, p?.sloMean]).toEqual([false, true]);
  });

  it("sizes replicas from the highest all-seed SLO load: ceil(r·u·Λ/(λ·ρ*))", () => {
    const u = mean(0.2, 0.3);
    expect(s?.replicas).toMatchObject({ fromLoadRps: 200, replicas: 2, targetLoadRps: 1000, targetUtilization: 0.5 });
    expect(s?.replicas?.needed).toBe(Math.ceil((2 * u * 1000) / (200 * 0.5)));
    expect(replicasNeeded(3, 0.6, 300, 1000, 0.7)).toBe(Math.ceil((3 * 0.6 * 1000) / (300 * 0.7)));
  });

  it("gives no replicas answer without a target load or a replica count", () => {
    const { targetLoadRps: _t, ...noTarget } = OPTS;
    const { replicas: _r, ...noReplicas } = OPTS;
    expect(capacityAnalysis(SWEEP, noTarget).series[0]?.replicas).toBeNull();
    expect(capacityAnalysis(SWEEP, noReplicas).series[0]?.replicas).toBeNull();
  });

  it("interpolates the mean p99 between swept loads", () => {
    expect(p99AtLoad(s ?? { fixed: {}, points: [], kneeRps: null, maxLoadRpsAllSeeds: null, maxLoadRpsMean: null, replicas: null }, 150)).toBe(11 + 0.5 * (15 - 11));
    expect(p99AtLoad(s as NonNullable<typeof s>, 400)).toBe(23);
    expect(p99AtLoad(s as NonNullable<typeof s>, 50)).toBeNull();
  });
});

describe("Little's law", () => {
  it.each([
    // rps, mean latency ms, in-flight: predicted = rps × latency / 1000.
    [100, 50, 5.1, false],
    [100, 50, 6, true],
    [200, 20, 3.9, false],
  ])("at %s rps and %s ms, an in-flight mean of %s is flagged: %s", (rps, latencyMs, inFlight, flagged) => {
    const p = capacityAnalysis(doc([result(0, { rate: `${rps}/s` }, "1", { rps, latencyMsMean: latencyMs, inFlightMean: inFlight })]), OPTS).series[0]?.points[0];
    const predicted = (rps * latencyMs) / 1000;
    expect(p?.little?.predicted).toBeCloseTo(predicted, 12);
    expect(p?.little?.relativeError).toBeCloseTo(Math.abs(inFlight - predicted) / predicted, 12);
    expect(p?.little?.flagged).toBe(flagged);
  });

  it("averages over seeds and is absent when nothing was measured", () => {
    const two = doc([
      result(0, { rate: "1/s" }, "1", { rps: 100, latencyMsMean: 10, inFlightMean: 1 }),
      result(1, { rate: "1/s" }, "2", { rps: 100, latencyMsMean: 30, inFlightMean: 3.3 }),
    ]);
    const little = capacityAnalysis(two, OPTS).series[0]?.points[0]?.little;
    expect(little?.predicted).toBeCloseTo(mean(1, 3), 12);
    expect(little?.inFlightMean).toBeCloseTo(mean(1, 3.3), 12);
    const none = doc([result(0, { rate: "1/s" }, "1", { inFlightMean: null })]);
    expect(capacityAnalysis(none, OPTS).series[0]?.points[0]?.little).toBeNull();
  });
});

describe("grouping", () => {
  it("makes a series per value of the other swept params and takes the replica count from it", () => {
    const grid = doc(
      ["1", "4"].flatMap((replicas, k) => [
        result(2 * k, { rate: "100/s", replicas }, "1", { utilization: 0.4 }),
        result(2 * k + 1, { rate: "200/s", replicas }, "1", { utilization: 0.8 }),
      ]),
    );
    const { replicas: _r, ...opts } = OPTS;
    const series = capacityAnalysis(grid, opts).series;
    expect(series.map((x) => x.fixed)).toEqual([{ replicas: "1" }, { replicas: "4" }]);
    expect(series.map((x) => x.replicas?.needed)).toEqual([1, 4].map((r) => Math.ceil((r * 0.8 * 1000) / (200 * 0.5))));
  });

  it("leaves out runs that failed to load and loads it cannot read, saying why", () => {
    const mixed = doc([result(0, { rate: "1/s" }, "1"), result(1, { rate: "1/s" }, "2", { error: "bad value" }), result(2, { rate: "lots" }, "1"), result(3, {}, "1")]);
    const a = capacityAnalysis(mixed, OPTS);
    expect(a.series[0]?.points[0]?.seeds).toEqual(["1"]);
    expect(a.skipped.map((k) => k.index)).toEqual([1, 2, 3]);
    expect(a.skipped[0]?.reason).toContain("bad value");
  });
});

describe("the N+1 question", () => {
  const base: NPlusOneInput = { perRegionLoad: 1000, regions: 2, survivorMaxLoad: 2500, retryOverhead: 0.1, gatewayHopMs: 15, slo: { p99Ms: 100 }, survivorP99Ms: 80 };

  it.each<[string, Partial<NPlusOneInput>, boolean, number]>([
    // required = L + L/(N−1)·(1+o); margin = max − required.
    ["two regions with room and a fast hop", {}, true, 2500 - (1000 + 1000 * 1.1)],
    ["three regions share the failed load", { regions: 3, survivorMaxLoad: 1500 }, false, 1500 - (1000 + 500 * 1.1)],
    ["three regions with room", { regions: 3, survivorMaxLoad: 1600 }, true, 1600 - (1000 + 500 * 1.1)],
    ["a survivor short of capacity", { survivorMaxLoad: 2000 }, false, 2000 - 2100],
    ["a gateway hop that breaks the p99", { gatewayHopMs: 25 }, false, 400],
    ["no latency SLO ignores the hop", { gatewayHopMs: 500, slo: { successRate: 0.99 } }, true, 400],
  ])("%s", (_, change, meets, marginRps) => {
    const a = nPlusOne({ ...base, ...change });
    expect(a.meets).toBe(meets);
    expect(a.marginRps).toBeCloseTo(marginRps, 9);
  });

  it("says why in words", () => {
    expect(nPlusOne({ ...base, gatewayHopMs: 25 }).reason).toContain("105 ms exceeds 100 ms");
    expect(nPlusOne({ ...base, survivorMaxLoad: 2000 }).reason).toContain("short by 100 rps");
  });

  it("refuses to answer yes without the survivor's p99 when the SLO bounds it, or with one region", () => {
    const { survivorP99Ms: _p, ...blind } = base;
    expect(nPlusOne(blind).meets).toBe(false);
    expect(nPlusOne(blind).reason).toContain("unknown");
    expect(nPlusOne({ ...base, regions: 1 }).meets).toBe(false);
  });
});

describe("the Markdown section", () => {
  const md = capacityMarkdown(capacityAnalysis(SWEEP, OPTS));

  it("has a table row per load with mean [min–max] over seeds", () => {
    expect(md).toContain("| rate | seeds | p50 ms | p99 ms |");
    expect(md).toContain("| 100/s | 2 | 5 | 11 [10–12] |");
    expect(md).toContain("| 800/s | 2 | 5 | 70 [60–80] | 0.97 [0.95–0.99] |");
  });

  it("gives Little's-law errors as percentages to one decimal, flagging those over 5 %", () => {
    const off = capacityMarkdown(capacityAnalysis(doc([result(0, { rate: "100/s" }, "1", { rps: 100, latencyMsMean: 50, inFlightMean: 6 })]), OPTS));
    expect(off).toContain(`| ${((Math.abs(6 - 5) / 5) * 100).toFixed(1)} % ⚠ |`);
    expect(md).toContain("| 0.0 % | yes / yes |");
  });

  it("states the SLO and the answers", () => {
    expect(md).toContain("SLO: p99 ≤ 25 ms, success ≥ 0.99.");
    expect(md).toContain("Knee (first load with mean p99 > 2× the lowest load's): 400 rps");
    expect(md).toContain("on every seed: 200 rps; on the mean: 400 rps");
    expect(md).toContain("Replicas for 1000 rps at 50 % utilization: 5");
  });

  it("heads each series with its fixed params and lists what it left out", () => {
    const two = capacityMarkdown(capacityAnalysis(doc([result(0, { rate: "1/s", replicas: "3" }, "1"), result(1, { rate: "x", replicas: "3" }, "1")]), OPTS));
    expect(two).toContain("### replicas=3");
    expect(two).toContain("- #1: rate=x is not a load");
  });
});
