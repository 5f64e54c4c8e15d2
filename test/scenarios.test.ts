// Every scenario in scenarios/ — and every mesh behaviour scenario in test/fixtures/mesh/ — runs,
// meets its own `expect:` block (the scenario YAML is the assertion), and runs again with the same
// digest.

import { readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { formatInputError } from "../src/k8s/input-error.js";
import { loadScenario } from "../src/scenario/load.js";
import { runWorldSpec } from "../src/scenario/run.js";
import { fileReader } from "../src/cli/files.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const yamlIn = (d: string) => readdirSync(join(root, d)).filter((f) => f.endsWith(".yaml")).sort().map((f) => join(d, f));
const files = [...yamlIn("scenarios"), ...yamlIn("scenarios/payments"), ...yamlIn("scenarios/identity"), ...yamlIn("test/fixtures/mesh")];

function load(file: string) {
  const loaded = loadScenario(join(root, file), fileReader, { displayAs: file });
  if (!loaded.ok) throw new Error(loaded.errors.map(formatInputError).join("\n"));
  return loaded.spec;
}

describe("scenarios", () => {
  it("exist", () => {
    expect(files.filter((f) => f.startsWith("scenarios/")).length).toBeGreaterThanOrEqual(4);
  });

  for (const file of files) {
    it(`${file} meets every expectation, deterministically`, () => {
      const first = runWorldSpec(load(file));
      const failed = first.expectations.filter((e) => !e.pass).map((e) => `${e.name}: measured ${e.measured}, expected ${e.expected}`);
      expect(failed).toEqual([]);
      expect(first.world.invariantViolations).toEqual([]);
      expect(first.expectations.length).toBeGreaterThan(0);
      const second = runWorldSpec(load(file));
      expect(second.world.digest).toBe(first.world.digest);
      expect(second.world.events).toBe(first.world.events);
    });
  }

  it("mmc-validation's bounds bracket the Erlang C values they claim", async () => {
    const { mmcMeanSojourn, mmcSojournQuantile } = await import("../src/sim/queueing-theory.js");
    const spec = load("scenarios/mmc-validation.yaml");
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
