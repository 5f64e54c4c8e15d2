// The canary scenarios (see test/scenario-suite.ts), and the arithmetic behind the hand-stepped
// canary's bands: each is recomputed here from the scenario's own settings — the traffic rate, the
// weights its changes write, the error rates of its behaviours, each expectation's window — so a
// band moved to fit a run, or a setting changed without its band, fails here. The derivations are
// written out beside each expectation in scenarios/canary/manual-steps.yaml.

import { describe, expect, it } from "vitest";
import type { ExpectSpec, WorldSpec } from "../src/mesh/spec.js";
import { itRunsEveryScenario, loadSpec } from "./scenario-suite.js";

describe("canary scenarios", () => itRunsEveryScenario("scenarios/canary"));

type MetricExpect = Extract<ExpectSpec, { kind: "metric" }>;

function expectation(spec: WorldSpec, prefix: string): MetricExpect {
  const e = spec.expect.find((x) => x.name.startsWith(prefix));
  if (e === undefined || e.kind !== "metric") throw new Error(`${spec.name} has no metric expectation "${prefix}…"`);
  return e;
}

function band(e: MetricExpect): [number, number] {
  if (!("between" in e.bound)) throw new Error(`"${e.name}" has no two-sided band`);
  return e.bound.between;
}

const seconds = (e: MetricExpect): number => (e.window[1] - e.window[0]) / 1e6;
const down = (x: number, digits: number): number => Math.floor(x * 10 ** digits) / 10 ** digits;
const up = (x: number, digits: number): number => Math.ceil(x * 10 ** digits) / 10 ** digits;

/** The smallest k with P(X ≥ k) below the one-sided 4σ tail, for X ~ Poisson(mean). */
function poissonTailCount(mean: number): number {
  let term = Math.exp(-mean);
  let below = term;
  let k = 1;
  while (1 - below > 3.167e-5) {
    term *= mean / k;
    below += term;
    k += 1;
  }
  return k;
}

describe("canary/manual-steps: the bands follow from the weights, the rate and the error rates", () => {
  const spec = loadSpec("scenarios/canary/manual-steps.yaml");
  const rate = spec.traffic[0]?.rate[0]?.rateRps ?? Number.NaN;
  const errorsOf = (deployment: string, image?: string): number =>
    spec.behavior.find((b) => b.select.deployment === deployment && b.select.image === image)?.errors.rate ?? Number.NaN;
  const stable = errorsOf("web");
  const rc1 = errorsOf("web-canary");

  /** The canary's share after each change, read from the objects the changes write. */
  function canaryShares(): number[] {
    return (spec.changes ?? []).flatMap((c) => {
      const split = c.action.kind === "apply" ? c.action.objects.find((o) => o.kind === "TrafficSplit")?.raw : c.action.kind === "patch" ? c.action.merge : undefined;
      const backends = (split?.["spec"] as { backends?: Array<{ service: string; weight: number }> } | undefined)?.backends;
      if (backends === undefined) return [];
      const total = backends.reduce((a, b) => a + b.weight, 0);
      return [(backends.find((b) => b.service === "web-canary")?.weight ?? 0) / total];
    });
  }

  it("steps the canary 10 → 50 → 100 %, and promotes web to the canary's image behaving as the canary does", () => {
    expect(canaryShares()).toEqual([0.1, 0.5, 1]);
    expect(rate).toBe(100);
    const promoted = spec.changes?.find((c) => c.action.kind === "setImage")?.action;
    expect(promoted?.kind === "setImage" && errorsOf("web", promoted.image)).toBe(rc1);
  });

  /** rps of a backend with share p: λ·p ± 4·√(λ·p·t)/t, rounded outward to 0.01. */
  const rpsBand = (p: number, t: number): [number, number] => [down(rate * p - (4 * Math.sqrt(rate * p * t)) / t, 2), up(rate * p + (4 * Math.sqrt(rate * p * t)) / t, 2)];
  /** Success rate 1 − q of a window's clients: ± 4·√(q(1 − q)/n) at n = λt − 4√(λt), rounded outward to 0.0001. */
  const successBand = (q: number, t: number): [number, number] => {
    const n = rate * t - 4 * Math.sqrt(rate * t);
    const s = Math.sqrt((q * (1 - q)) / n);
    return [down(1 - q - 4 * s, 4), Math.min(1, up(1 - q + 4 * s, 4))];
  };
  /** Few failures: at most k − 1 of the fewest requests, k from the Poisson tail of λ·p·q·t. */
  const poissonBand = (p: number, q: number, t: number): [number, number] => {
    const n = rate * p * t - 4 * Math.sqrt(rate * p * t);
    return [down(1 - (poissonTailCount(rate * p * q * t) - 1) / Math.floor(n), 4), 1];
  };

  const [tenth, half] = [0.1, 0.5];
  const cases: Array<[string, (t: number) => [number, number]]> = [
    ["no split: web takes every request", (t) => rpsBand(1, t)],
    ["no split: clients see web's 2 % errors", (t) => successBand(stable, t)],
    ["90/10: the canary gets 10 %", (t) => rpsBand(tenth, t)],
    ["90/10: web keeps 90 %", (t) => rpsBand(1 - tenth, t)],
    ["90/10: the canary's golden metrics", (t) => poissonBand(tenth, rc1, t)],
    ["90/10: clients fail", (t) => successBand((1 - tenth) * stable + tenth * rc1, t)],
    ["50/50: the canary gets half", (t) => rpsBand(half, t)],
    ["50/50: web gets the other half", (t) => rpsBand(half, t)],
    ["50/50: clients fail", (t) => successBand(half * stable + half * rc1, t)],
    ["0/100: the canary takes every request", (t) => rpsBand(1, t)],
    ["0/100: clients see rc1's 0.1 % only", (t) => poissonBand(1, rc1, t)],
    ["split deleted: web takes every request again", (t) => rpsBand(1, t)],
    ["split deleted: web answers as rc1", (t) => poissonBand(1, rc1, t)],
  ];
  for (const [name, derive] of cases) {
    it(name, () => {
      const e = expectation(spec, name);
      expect(band(e)).toEqual(derive(seconds(e)));
    });
  }

  it("each window opens a second after its change, when the chain's slowest delivery is long done", () => {
    const cp = spec.mesh.controlPlane;
    const maxUs = (d: (typeof cp)["watchDelay"]): number => (d.dist === "uniform" ? d.maxUs : Number.NaN);
    const chainUs = maxUs(cp.watchDelay) + maxUs(cp.smiAdaptorDelay) + maxUs(cp.propagationDelay);
    expect(chainUs).toBeLessThan(1_000_000);
    const starts = new Set(spec.expect.flatMap((e) => (e.kind === "metric" ? [e.window[0]] : [])));
    for (const c of spec.changes ?? []) {
      if (c.action.kind === "setImage") continue; // web has no traffic while it rolls out
      expect(starts.has(c.atUs + 1_000_000), `a window from ${c.atUs / 1e6 + 1}s`).toBe(true);
    }
  });
});
