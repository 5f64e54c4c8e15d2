// The payments region-loss scenarios (see test/scenario-suite.ts), and the arithmetic behind their
// bands: each band is recomputed here from the scenario's own settings (rates, error rates, the
// control plane's hop delays, the retry budgets of profiles/), so a band widened or moved to fit a
// run, or a setting changed without its band, fails here. The derivations are written out beside
// each expectation in the scenario files.

import { describe, expect, it } from "vitest";
import type { ExpectSpec, WorldSpec } from "../src/mesh/spec.js";
import type { DistributionSpec } from "../src/sim/distributions.js";
import { itRunsEveryScenario, loadSpec } from "./scenario-suite.js";

describe("payments scenarios", () => itRunsEveryScenario("scenarios/payments"));

const file = (name: string): string => `scenarios/payments/${name}.yaml`;

/** The bound of the expectation called `name`: [low, high] (a metric or mark band, or a failover window in µs). */
function bandOf(spec: WorldSpec, name: string): [number, number] {
  const e = spec.expect.find((x) => x.name === name);
  if (e === undefined) throw new Error(`${spec.name} has no expectation "${name}"`);
  if (e.kind === "failover" || e.kind === "canary") return [e.atLeastUs ?? 0, e.withinUs ?? Infinity];
  if (e.kind === "invariant" || !("between" in e.bound)) throw new Error(`"${name}" has no two-sided band`);
  return e.bound.between;
}

/** A band is the derived range [low, high] widened by 4σ to 4.6σ on each side. */
function expectBand(band: [number, number], low: number, high: number, sigma: number): void {
  const below = (low - band[0]) / sigma;
  const above = (band[1] - high) / sigma;
  expect(below, `low side of [${band.join(", ")}] vs ${low} (σ ${sigma})`).toBeGreaterThanOrEqual(3.9);
  expect(below, `low side of [${band.join(", ")}] vs ${low} (σ ${sigma})`).toBeLessThanOrEqual(4.6);
  expect(above, `high side of [${band.join(", ")}] vs ${high} (σ ${sigma})`).toBeGreaterThanOrEqual(3.9);
  expect(above, `high side of [${band.join(", ")}] vs ${high} (σ ${sigma})`).toBeLessThanOrEqual(4.6);
}

function uniformMs(d: DistributionSpec): { min: number; max: number; mean: number; variance: number } {
  if (d.dist !== "uniform") throw new Error(`expected a uniform delay, got ${d.dist}`);
  const min = d.minUs / 1000;
  const max = d.maxUs / 1000;
  return { min, max, mean: (min + max) / 2, variance: (max - min) ** 2 / 12 };
}

/** The checkout traffic every payments scenario shares: 300/s, 4 verify to 1 capture, from 3 pods. */
function checkout(spec: WorldSpec): { rate: number; captureShare: number; perProxy: number } {
  const t = spec.traffic.find((x) => x.name === "checkout");
  const rate = t?.rate[0]?.rateRps ?? NaN;
  const weights = t?.requests.map((r) => r.weight) ?? [];
  const capture = t?.requests.find((r) => r.path === "/capture")?.weight ?? NaN;
  return { rate, captureShare: capture / weights.reduce((a, b) => a + b, 0), perProxy: rate / 3 };
}

describe("payments: the control-plane chain", () => {
  const spec = loadSpec(file("auth-loss"));
  const cp = spec.mesh.controlPlane;
  const e = uniformMs(cp.endpointsDelay);
  const w = uniformMs(cp.watchDelay);
  const r = uniformMs(spec.mesh.failover.reconcileDelay);
  const smi = uniformMs(cp.smiAdaptorDelay);
  const push = uniformMs(cp.propagationDelay);

  it("auth-loss: the patch and the last proxy's switch lie between the sums of the hops' least and greatest delays", () => {
    const patched: [number, number] = [e.min + w.min + r.min, e.max + w.max + r.max];
    const switched = [patched[0] + w.min + smi.min + push.min, patched[1] + w.max + smi.max + push.max];
    expect(bandOf(spec, "linkerd-failover patches the split once the empty Endpoints reach it").map((us) => us / 1000)).toEqual(patched);
    expect(bandOf(spec, "every checkout proxy has switched well within a second").map((us) => us / 1000)).toEqual(switched);
  });

  it("auth-loss: what each proxy sends before it switches fails, ± the chain's and the pushes' spread", () => {
    const { rate, perProxy, captureShare } = checkout(spec);
    const chainMs = e.mean + w.mean + r.mean + w.mean + smi.mean;
    const inService = rate * 0.0074; // 300/s × the mean service time, 0.8 × 5.46 ms + 0.2 × 15.25 ms
    const westCaptureErrors = rate * captureShare * 0.001 * (10 - (chainMs + push.mean) / 1000);
    const mean = (rate * (chainMs + push.mean)) / 1000 + inService + westCaptureErrors;
    const chainVar = e.variance + 2 * w.variance + r.variance + smi.variance;
    const sigma = Math.sqrt(mean + (rate / 1000) ** 2 * chainVar + 3 * (perProxy / 1000) ** 2 * push.variance);
    expect(mean).toBeCloseTo(75.1, 1);
    expectBand(bandOf(spec, "a few dozen requests fail during the cutover"), mean, mean, sigma);
  });

  it("probe-tuned: two failed 2-s probes from 2m, then the same chain", () => {
    const tuned = loadSpec(file("degradation-probe-tuned"));
    const probeMs = 2000; // manifests/tuned/auth.yaml: periodSeconds 2, failureThreshold 2, a probe at 2m itself
    expect(bandOf(tuned, "linkerd-failover trips once two probes in a row fail").map((us) => us / 1000)).toEqual([probeMs + e.min + w.min + r.min, probeMs + e.max + w.max + r.max]);
    expect(bandOf(tuned, "every checkout proxy follows within half a second of the patch").map((us) => us / 1000)).toEqual([
      probeMs + e.min + w.min + r.min + w.min + smi.min + push.min,
      probeMs + e.max + w.max + r.max + w.max + smi.max + push.max,
    ]);
  });

  it("probe-tuned: failed captures are 30 % until each proxy stops sending east, all in between, then west's 0.1 %", () => {
    const tuned = loadSpec(file("degradation-probe-tuned"));
    const { perProxy, captureShare } = checkout(tuned);
    const captures = perProxy * captureShare; // per proxy, per second
    // C + ps − pe over the uniform hops, on a 1-ms grid: E[min(pe, C + ps)] and E[max(0, C + ps − pe)].
    const c = w.mean + r.mean + w.mean + smi.mean;
    let minMean = 0;
    let gapMean = 0;
    let gapSq = 0;
    let cells = 0;
    for (let pe = push.min + 0.5; pe < push.max; pe += 1) {
      for (let ps = push.min + 0.5; ps < push.max; ps += 1) {
        minMean += Math.min(pe, c + ps);
        const gap = Math.max(0, c + ps - pe);
        gapMean += gap;
        gapSq += gap * gap;
        cells += 1;
      }
    }
    minMean /= cells;
    gapMean /= cells;
    const gapVar = gapSq / cells - gapMean ** 2;
    const degraded = 0.3; // the fault's errorRate, which replaces auth's own 0.001
    const untilSwitch = 2 + (e.mean + minMean) / 1000;
    const perProxyMean = degraded * captures * untilSwitch + (captures * gapMean) / 1000 + captures * 0.001 * (300 - untilSwitch);
    const mean = 3 * perProxyMean;
    const sigma = Math.sqrt(mean + 3 * (captures / 1000) ** 2 * gapVar + 3 * (degraded * captures / 1000) ** 2 * push.variance);
    expect(mean).toBeCloseTo(60.9, 0);
    expectBand(bandOf(tuned, "captures fail only until the failover, and then at west's own 0.1 %"), mean, mean, sigma);
  });
});

/**
 * Fluid steady state of one proxy's ServiceProfile budget under a constant attempt failure
 * probability f (see degradation-first-cut.yaml): each window spends until the balance is down to
 * `leftUnits`, so per window deposits − withdrawals = (leftUnits − reserve)/6 (tower keeps a unit
 * for the current window and the 5 before it).
 */
function budgetSteadyState(p: { retryableRps: number; f: number; ratio: number; minPerSecond: number; ttlSeconds: number; leftUnits: number }) {
  const withdraw = Math.trunc(Math.fround(1 / Math.fround(p.ratio)));
  const reserve = p.minPerSecond * p.ttlSeconds * withdraw;
  const solve = (windowSeconds: number) => {
    const k = (reserve - p.leftUnits) / (6 * withdraw * windowSeconds);
    const retries = (p.retryableRps * (1 - p.f) + withdraw * k) / (withdraw - 1 + p.f);
    const refused = p.f * (p.retryableRps + retries) - retries;
    return { retries, refused, calls: p.retryableRps - refused + p.f * (p.retryableRps + retries) };
  };
  // A window closes at the first budget call at least 1 s after the last: 1 s plus a mean gap.
  let windowSeconds = 1;
  for (let i = 0; i < 20; i += 1) windowSeconds = 1 + 1 / solve(windowSeconds).calls;
  const s = solve(windowSeconds);
  // The last 5 windows' withdrawals are never repaid: Σ_j (j/6)·|net| units, paid back as retries.
  const unrepaidUnits = (15 / 6) * ((reserve - p.leftUnits) / 6);
  return { ...s, withdraw, reserve, windowSeconds, unrepaidRetries: (unrepaidUnits / withdraw) * (withdraw / (withdraw - 1 + p.f)) };
}

describe("payments: the retry budget's arithmetic", () => {
  const f = 0.3;
  const window = 270; // [2m30s, 7m]
  const degradation = 300; // [2m, 7m]

  it("first cut: amplification and refusals between an empty and a 60-unit balance at each window's end", () => {
    const spec = loadSpec(file("degradation-first-cut"));
    const { perProxy, captureShare } = checkout(spec);
    expect(spec.faults.some((x) => x.action.kind === "degrade" && x.action.errorRate === f)).toBe(true);
    // profiles/first-cut.yaml sets no retryBudget: Linkerd's default, 20 %, 10/s, 10 s.
    const at = (leftUnits: number) => budgetSteadyState({ retryableRps: perProxy, f, ratio: 0.2, minPerSecond: 10, ttlSeconds: 10, leftUnits });
    const full = at(2.5);
    const left = at(60);
    const amplification = (s: ReturnType<typeof at>): number => 1 + (s.retries * window + s.unrepaidRetries) / (perProxy * window);
    expect(amplification(full)).toBeCloseTo(1.356, 3);
    // σ: the deposits' Poisson spread (÷ withdraw) and that of the request count.
    const n = 3 * perProxy * window;
    const sigmaAmp = Math.sqrt((3 * window * (perProxy - full.refused)) / full.withdraw ** 2 / n ** 2 + ((full.retries - (perProxy - full.refused) / full.withdraw) * 3 * window / n) ** 2 / n);
    expectBand(bandOf(spec, "retries add about a third more load on the struggling primary"), amplification(left), amplification(full), sigmaAmp);

    // Refusals over the degradation: at 2m the budget holds ≈ 5.5 windows of healthy deposits.
    // Those units, like the unrepaid ones at the end, pay for retries that refuse nothing:
    // each extra retry takes 1 − f refusals off (it deposits when it succeeds).
    const onsetRetries = (full.withdraw * ((5.5 * perProxy * 0.999) / full.withdraw)) / (full.withdraw - 1 + f);
    const refusals = (s: ReturnType<typeof at>): number => 3 * (s.refused * degradation - (1 - f) * (onsetRetries + s.unrepaidRetries));
    expect(refusals(full)).toBeCloseTo(4320, -1);
    // Var(refusals) ≈ (25/16)·Var(failed attempts) + (dX/dN)²·N (see the scenario).
    const attempts = 3 * degradation * (perProxy + full.retries);
    const sigmaRefusals = Math.sqrt((25 / 16) * attempts * f * (1 - f) + 0.186 ** 2 * 3 * degradation * perProxy);
    expectBand(bandOf(spec, "the budget runs out and refuses retries, about 4 300–5 700 times"), refusals(full), refusals(left), sigmaRefusals);
    const sigmaCaptures = Math.sqrt(captureShare ** 2 * sigmaRefusals ** 2 + captureShare * (1 - captureShare) * refusals(left));
    expectBand(bandOf(spec, "captures still fail during the degradation, 1 in 5 of the refusals"), captureShare * refusals(full), captureShare * refusals(left), sigmaCaptures);
  });

  it("budget fix: only verify touches a 10 %, 5/s budget; captures fail at the fault's 30 %", () => {
    const spec = loadSpec(file("degradation-budget-fix"));
    const { perProxy, captureShare } = checkout(spec);
    const verify = perProxy * (1 - captureShare);
    // profiles/budget-fix.yaml: retryRatio 0.1, minRetriesPerSecond 5, ttl 10s.
    const at = (leftUnits: number) => budgetSteadyState({ retryableRps: verify, f, ratio: 0.1, minPerSecond: 5, ttlSeconds: 10, leftUnits });
    const full = at(5);
    const left = at(40);
    const amplification = (s: ReturnType<typeof at>): number => 1 + (s.retries * window + s.unrepaidRetries) / (perProxy * window);
    expect(amplification(full)).toBeCloseTo(1.149, 3);
    const n = 3 * perProxy * window;
    const deposits = verify - full.refused;
    const sigmaAmp = Math.sqrt((3 * window * deposits) / full.withdraw ** 2 / n ** 2 + ((full.retries - deposits / full.withdraw) * 3 * window / n) ** 2 / n);
    expectBand(bandOf(spec, "retry load on the primary is about half the first cut's"), amplification(left), amplification(full), sigmaAmp);

    const captures = 3 * perProxy * captureShare * f * degradation;
    expectBand(bandOf(spec, "every failed capture reaches checkout"), captures, captures, Math.sqrt(captures));
  });
});

describe("payments: counts with Poisson spread", () => {
  it("dns-baseline: every request of the minute the caches keep us-east-1 fails", () => {
    const spec = loadSpec(file("dns-baseline"));
    const { rate } = checkout(spec);
    const ttl = (spec.dns[0]?.ttlUs ?? NaN) / 1e6;
    // Sent from 2m until the caches' refresh just after 3m (four gaps of a pod's 100/s: 40 ms),
    // those in service at 2m, and west's 0.1 % until 3m25s.
    const mean = rate * (ttl + 0.04) + rate * 0.0074 + rate * 0.001 * 25;
    expectBand(bandOf(spec, "thousands of requests fail during the DNS failover"), mean, mean, Math.sqrt(mean));
    const n = rate * 299; // [3m1s, 8m)
    const s = 0.999;
    expectBand(bandOf(spec, "once every cache has expired, requests reach us-west-2"), s, s, Math.sqrt((s * (1 - s)) / n));
  });

  it("standby-region-loss: only capture's 0.1 % reaches checkout", () => {
    const spec = loadSpec(file("standby-region-loss"));
    const { rate, captureShare } = checkout(spec);
    const failures = rate * 360 * captureShare * 0.001; // [2m, 8m)
    const n = rate * 360;
    const band = bandOf(spec, "east's checkout never notices");
    expectBand([n * (1 - band[1]), n * (1 - band[0])], failures, failures, Math.sqrt(failures));
  });
});
