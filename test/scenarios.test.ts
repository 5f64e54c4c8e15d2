// The scenarios in scenarios/ (see test/scenario-suite.ts).

import { describe, expect, it } from "vitest";
import { mmcMeanSojourn, mmcSojournQuantile } from "../src/sim/queueing-theory.js";
import { itRunsEveryScenario, loadSpec, scenarioFiles } from "./scenario-suite.js";

describe("scenarios", () => {
  it("exist", () => {
    expect(scenarioFiles("scenarios").length).toBeGreaterThanOrEqual(4);
  });

  itRunsEveryScenario("scenarios");

  it("mmc-validation's bounds bracket the Erlang C values they claim", () => {
    const spec = loadSpec("scenarios/mmc-validation.yaml");
    const unitMs = 10; // μ = 1 per 10 ms
    const theory: Record<string, number> = {
      latencyMean: mmcMeanSojourn(2, 1.6, 1) * unitMs,
      latencyP50: mmcSojournQuantile(2, 1.6, 1, 0.5) * unitMs,
      latencyP99: mmcSojournQuantile(2, 1.6, 1, 0.99) * unitMs,
    };
    let checked = 0;
    for (const e of spec.expect) {
      if (e.kind !== "metric" || !("between" in e.bound) || theory[e.metric] === undefined) continue;
      const [lo, hi] = e.bound.between;
      const t = theory[e.metric] as number;
      expect(lo).toBeLessThan(t);
      expect(hi).toBeGreaterThan(t);
      expect((hi - lo) / t).toBeLessThan(0.15);
      checked += 1;
    }
    expect(checked).toBe(3);
  });
});
