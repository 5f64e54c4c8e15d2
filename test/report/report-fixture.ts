// A small real run shared by the report tests: the control plane goes down for 30 s and a pod is
// killed, so there is traffic, failures, an edge and two faults (one windowed, one instant).

import { join, resolve } from "node:path";
import { diskReader } from "../../src/api/file-reader.js";
import { loadScenario } from "../../src/scenario/load.js";
import { runWorldSpec, type ScenarioRun } from "../../src/scenario/run.js";

let cached: ScenarioRun | undefined;

export function controlPlaneDownRun(): ScenarioRun {
  if (cached !== undefined) return cached;
  const file = resolve(join(import.meta.dirname, "..", "fixtures", "mesh", "control-plane-down.yaml"));
  const loaded = loadScenario(file, diskReader);
  if (!loaded.ok) throw new Error(loaded.errors.map((e) => e.message).join("\n"));
  cached = runWorldSpec(loaded.spec);
  return cached;
}
