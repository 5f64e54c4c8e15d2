// A TrafficSplit weight changed at a chosen instant shows in the per-backend golden metrics exactly
// when the control plane delivers it: before the change and until the chain has carried it to the
// proxies the canary's share is the old weight, afterwards the new one — each within binomial
// bounds. Given the n requests of a window, each picks the canary with probability p on its own,
// so the canary's count is Binomial(n, p): the share k/n has σ = √(p(1 − p)/n), and ±4σ holds on
// all but 6·10⁻⁵ of seeds.

import { describe, expect, it } from "vitest";
import { metric } from "../../src/api/query.js";
import { runScenarioText } from "../../src/api/run-scenario.js";

const CHANGE_S = 30;
/** watchDelay + smiAdaptorDelay + propagationDelay: a long push, so the old weights visibly hold on. */
const CHAIN_MS = 3 + 13 + 5000;

function scenario(seed: number): string {
  return `name: weight-change
seed: ${seed}
duration: 60s
mesh:
  controlPlane:
    watchDelay: {dist: constant, value: 3ms}
    smiAdaptorDelay: {dist: constant, value: 13ms}
    propagationDelay: {dist: constant, value: 5s}
clusters:
  - name: c
    services:
      - {name: web, namespace: shop, replicas: 3}
      - {name: web-canary, namespace: shop}
      - {name: loadgen, namespace: shop}
    objects:
      - apiVersion: split.smi-spec.io/v1alpha2
        kind: TrafficSplit
        metadata: {name: web-split, namespace: shop}
        spec: {service: web, backends: [{service: web, weight: 90}, {service: web-canary, weight: 10}]}
behavior:
  - {select: {namespace: shop}, latency: 1ms}
traffic:
  - {name: shoppers, from: {namespace: shop, deployment: loadgen}, to: "http://web.shop.svc.cluster.local/", rate: 200/s}
changes:
  - at: ${CHANGE_S}s
    patch: {kind: TrafficSplit, name: web-split, namespace: shop, merge: {spec: {backends: [{service: web, weight: 50}, {service: web-canary, weight: 50}]}}}
`;
}

/** The canary's share of the window's requests and its distance from `p` in binomial σ. */
function shareIn(run: Parameters<typeof metric>[0], window: [string, string], p: number): { share: number; n: number; sigmas: number } {
  const n = metric(run, "requests", { traffic: "shoppers" }, window) ?? 0;
  const k = metric(run, "requests", { server: "c/shop/web-canary" }, window) ?? 0;
  const share = k / n;
  return { share, n, sigmas: (share - p) / Math.sqrt((p * (1 - p)) / n) };
}

describe("a TrafficSplit weight changed at 30 s", () => {
  for (const seed of [1, 2]) {
    it(`holds 10 % until the chain delivers 50 %, then 50 % (seed ${seed})`, () => {
      const r = runScenarioText(scenario(seed), "/nowhere");
      if (!r.ok) throw new Error(r.errors.map((e) => e.message).join("\n"));
      const run = r.run;
      expect(run.world.changes[0]?.proxiesUpdatedAtUs).toBe(CHANGE_S * 1e6 + CHAIN_MS * 1000);
      // Windows on whole seconds (the metrics' buckets): before the change, while the push is on
      // its way (30 s to 35.016 s), and after it.
      const before = shareIn(run, ["1s", `${CHANGE_S}s`], 0.1);
      const inFlight = shareIn(run, [`${CHANGE_S}s`, `${CHANGE_S + 5}s`], 0.1);
      const after = shareIn(run, [`${CHANGE_S + 6}s`, "60s"], 0.5);
      for (const w of [before, inFlight, after]) expect(Math.abs(w.sigmas)).toBeLessThanOrEqual(4);
      expect(before.n).toBeGreaterThan(5000);
      expect(after.n).toBeGreaterThan(4000);
      // The new weight is far outside the old one's band, and the other way round.
      expect(Math.abs((inFlight.share - 0.5) / Math.sqrt(0.25 / inFlight.n))).toBeGreaterThan(4);
      expect(Math.abs((after.share - 0.1) / Math.sqrt(0.09 / after.n))).toBeGreaterThan(4);
    });
  }
});
