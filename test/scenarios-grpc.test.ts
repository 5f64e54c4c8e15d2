// scenarios/grpc-retries.yaml states its bands as closed forms; this checks that each band
// brackets its formula by 4σ to 5σ of the run's sample size on each side, so the scenario passing
// says the simulator matches the formula (the suite in scenarios.test.ts runs it).

import { describe, expect, it } from "vitest";
import type { ExpectSpec } from "../src/mesh/spec.js";
import { loadSpec } from "./scenario-suite.js";

describe("grpc-retries' bands", () => {
  const spec = loadSpec("scenarios/grpc-retries.yaml");
  const seconds = (spec.durationUs - spec.warmupUs) / 1e6;
  const rate = (traffic: string): number => spec.traffic.find((t) => t.name === traffic)?.rate[0]?.rateRps ?? NaN;
  const band = (traffic: string, metric: string, server?: string): [number, number] => {
    const e = spec.expect.find(
      (x): x is Extract<ExpectSpec, { kind: "metric" }> => x.kind === "metric" && x.metric === metric && x.where.traffic === traffic && x.where.server === server,
    );
    if (e === undefined || !("between" in e.bound)) throw new Error(`no band for ${traffic} ${metric}`);
    return e.bound.between;
  };
  const brackets = (b: [number, number], mean: number, sigma: number): void => {
    expect(b[0]).toBeLessThan(mean);
    expect(b[1]).toBeGreaterThan(mean);
    expect(mean - b[0]).toBeGreaterThanOrEqual(4 * sigma);
    expect(b[1] - mean).toBeGreaterThanOrEqual(4 * sigma);
    expect(mean - b[0]).toBeLessThanOrEqual(5 * sigma);
    expect(b[1] - mean).toBeLessThanOrEqual(5 * sigma);
  };

  // The behaviour the formulas assume.
  const inventory = spec.behavior.find((b) => b.select.deployment === "inventory");
  const reserve = inventory?.routes.find((r) => r.match.path === "/store.v1.Inventory/Reserve")?.errors;
  const p = reserve?.rate ?? NaN;
  const R = 2; // retry.linkerd.io/limit on the GRPCRoute
  const n = rate("reserve") * seconds;

  it("the app answers UNAVAILABLE (14) in the headers at p = 0.2", () => {
    expect(reserve).toEqual({ rate: 0.2, status: 200, grpcStatus: 14, grpcStatusIn: "headers" });
  });

  it("reserve success 1 − p^(R+1)", () => {
    const s = 1 - p ** (R + 1);
    brackets(band("reserve", "successRate"), s, Math.sqrt((s * (1 - s)) / n));
  });

  it("reserve retries per request p + … + p^R, variance from P(k retries) = p^k(1−p), k < R, and p^R", () => {
    const probs = Array.from({ length: R + 1 }, (_, k) => (k < R ? p ** k * (1 - p) : p ** R));
    const mean = probs.reduce((a, q, k) => a + k * q, 0);
    const variance = probs.reduce((a, q, k) => a + k * k * q, 0) - mean ** 2;
    expect(mean).toBeCloseTo(p + p ** 2, 12);
    brackets(band("reserve", "retryRatio"), mean, Math.sqrt(variance / n));
  });

  it("reserve attempts succeed at 1 − p over n(1 + p + p²) attempts", () => {
    brackets(band("reserve", "actualSuccessRate"), 1 - p, Math.sqrt((p * (1 - p)) / (n * (1 + p + p ** 2))));
  });

  it("the retry marks over the whole run: retries compound Poisson, limit exhaustion Poisson(N·p^(R+1))", () => {
    const mark = (name: string): [number, number] => {
      const e = spec.expect.find((x): x is Extract<ExpectSpec, { kind: "reached" }> => x.kind === "reached" && x.mark === name);
      if (e === undefined || !("between" in e.bound)) throw new Error(`no band for ${name}`);
      return e.bound.between;
    };
    const N = rate("reserve") * (spec.durationUs / 1e6); // marks count the warmup too
    const probs = Array.from({ length: R + 1 }, (_, k) => (k < R ? p ** k * (1 - p) : p ** R));
    const secondMoment = probs.reduce((a, q, k) => a + k * k * q, 0);
    brackets(mark("retry.granted/retryable-grpc-status"), N * (p + p ** 2), Math.sqrt(N * secondMoment));
    brackets(mark("retry.skipped/limit-exceeded"), N * p ** (R + 1), Math.sqrt(N * p ** (R + 1)));
  });

  it("watch (streamed trailers, never retried) succeeds at 1 − p", () => {
    const nw = rate("watch") * seconds;
    brackets(band("watch", "successRate"), 1 - p, Math.sqrt((p * (1 - p)) / nw));
  });

  it("the canary shares are the weights carrying the header or the query, binomial", () => {
    const share = (traffic: string): number => {
      const reqs = spec.traffic.find((t) => t.name === traffic)?.requests ?? [];
      const total = reqs.reduce((a, r) => a + r.weight, 0);
      const canary = reqs.filter((r) => r.headers?.["x-canary"] === "true" || r.path.includes("variant=canary")).reduce((a, r) => a + r.weight, 0);
      return canary / total;
    };
    for (const [traffic, server] of [["cart", "demo/store/web-canary"], ["cart", "demo/store/catalog-canary"], ["preview", "demo/store/web-canary"]] as const) {
      const q = share(traffic);
      brackets(band(traffic, "amplification", server), q, Math.sqrt((q * (1 - q)) / (rate(traffic) * seconds)));
    }
    expect(share("cart")).toBeCloseTo(0.1, 12);
    expect(share("preview")).toBeCloseTo(0.25, 12);
  });
});
