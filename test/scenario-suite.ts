// Shared by the scenario test files: every scenario in the given folders runs, meets its own
// `expect:` block (the scenario YAML is the assertion), and runs again with the same digest.
// Each folder gets its own test file so the slow ones run in parallel workers.

import { readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { fileReader } from "../src/cli/files.js";
import { formatInputError } from "../src/k8s/input-error.js";
import type { WorldSpec } from "../src/mesh/spec.js";
import { loadScenario } from "../src/scenario/load.js";
import { runWorldSpec } from "../src/scenario/run.js";

export const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

export function scenarioFiles(folder: string): string[] {
  return readdirSync(join(root, folder)).filter((f) => f.endsWith(".yaml")).sort().map((f) => join(folder, f));
}

export function loadSpec(file: string): WorldSpec {
  const loaded = loadScenario(join(root, file), fileReader, { displayAs: file });
  if (!loaded.ok) throw new Error(loaded.errors.map(formatInputError).join("\n"));
  return loaded.spec;
}

/** Let the worker's event loop breathe between long synchronous runs (vitest's RPC needs it). */
const breathe = (): Promise<void> => new Promise((r) => setImmediate(r));

export function itRunsEveryScenario(folder: string): void {
  for (const file of scenarioFiles(folder)) {
    it(`${file} meets every expectation, deterministically`, async () => {
      await breathe();
      const first = runWorldSpec(loadSpec(file));
      const failed = first.expectations.filter((e) => !e.pass).map((e) => `${e.name}: measured ${e.measured}, expected ${e.expected}`);
      expect(failed).toEqual([]);
      expect(first.world.invariantViolations).toEqual([]);
      expect(first.expectations.length).toBeGreaterThan(0);
      await breathe();
      const second = runWorldSpec(loadSpec(file));
      expect(second.world.digest).toBe(first.world.digest);
      expect(second.world.events).toBe(first.world.events);
    });
  }
}
