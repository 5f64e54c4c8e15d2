// A scenario written inline in a test, loaded as `meshsim run` would load a file (manifest paths
// resolve against the working directory); a scenario that does not load fails the test loudly.

import { resolve } from "node:path";
import { textReader } from "../../src/api/file-reader.js";
import { formatInputError } from "../../src/k8s/input-error.js";
import type { WorldSpec } from "../../src/mesh/spec.js";
import { loadScenario } from "../../src/scenario/load.js";

export function specFromText(text: string, name = "inline.yaml"): WorldSpec {
  const file = resolve(name);
  const loaded = loadScenario(file, textReader(file, text));
  if (!loaded.ok) throw new Error(loaded.errors.map(formatInputError).join("\n"));
  return loaded.spec;
}
