// Loading a scenario file: read it through the injected reader, parse YAML with positions, refuse
// alias bombs and prototype keys, substitute params, validate against the strict schema, load the
// clusters' manifests, normalise into a `WorldSpec`, check cross-references and the event budget.
// Bad input never throws: every problem comes back as an InputError with file:line:col and a
// field path, and the stages stop at the first one that failed (later stages would only repeat
// its consequences).

import type { InputError } from "../k8s/input-error.js";
import type { SourceReader } from "../k8s/load.js";
import type { WorldSpec } from "../mesh/spec.js";
import { loadChanges } from "./changes-load.js";
import { validateChanges } from "./changes-validate.js";
import { directoryOf, loadClusterObjects } from "./cluster-objects.js";
import { crossCheck } from "./cross-check.js";
import { DEFAULT_MAX_EVENTS, eventBudgetProblem } from "./estimate.js";
import { explainWorld, normalizeScenario } from "./normalize.js";
import { applyParams } from "./params.js";
import { ScenarioSchema } from "./schema.js";
import { checkTrafficTargets } from "./traffic-targets.js";
import { checkSafety, keyPositionAt, makeError, parseYamlSource, toPlainData } from "./yaml-source.js";
import { issuesToErrors } from "./zod-issues.js";

export interface LoadOptions {
  /** `--set name=value` overrides of declared params; absent ⇒ none. */
  set?: Record<string, string>;
  /** `--seed`; absent ⇒ the scenario's own seed. */
  seed?: string;
  /** The scenario's name in errors and positions. Default: its file name (manifests show relative to its directory). */
  displayAs?: string;
  /**
   * Directory the scenario's manifests must lie in (symbolic links resolved). Default: the
   * scenario's own directory, so a scenario from an untrusted source reads nothing else.
   */
  manifestsRoot?: string;
  /** Refuse scenarios estimated above this many kernel events. Default `DEFAULT_MAX_EVENTS` (2e9). */
  maxEvents?: number;
}

export type LoadResult =
  | {
      ok: true;
      spec: WorldSpec;
      /** The normalised scenario as plain data, for `meshsim explain`. */
      explain: Record<string, unknown>;
      /** Input read but skipped or not acted on (a JSON patch among the manifests, an unknown YAML tag), and traffic to a Service no workload serves. */
      warnings: InputError[];
    }
  | { ok: false; errors: InputError[] };

export function loadScenario(file: string, reader: SourceReader, opts: LoadOptions = {}): LoadResult {
  const shown = opts.displayAs ?? file.slice(Math.max(file.lastIndexOf("/"), file.lastIndexOf("\\")) + 1);
  let text: string;
  try {
    text = reader.read(file);
  } catch (e) {
    return fail([{ file: shown, line: 0, col: 0, path: "", message: `cannot read the scenario: ${e instanceof Error ? e.message : String(e)}` }]);
  }
  const { source: src, errors: syntax } = parseYamlSource(shown, text);
  if (syntax.length > 0) return fail(syntax);
  const unsafe = checkSafety(src);
  if (unsafe.length > 0) return fail(unsafe);
  const params = applyParams(src, opts.set);
  if (params.errors.length > 0) return fail(params.errors);
  const plain = toPlainData(src);
  if (!plain.ok) return fail(plain.errors);
  if (plain.value === null || plain.value === undefined) {
    return fail([makeError({ file: shown, line: 1, col: 1 }, "", "the scenario file is empty", { expected: "a mapping with name, seed, duration, clusters, ..." })]);
  }
  const parsed = ScenarioSchema.safeParse(plain.value, { reportInput: true });
  if (!parsed.success) return fail(issuesToErrors(parsed.error.issues, src));
  const scenario = parsed.data;

  const loaded = loadClusterObjects(scenario, src, reader, directoryOf(file), { root: opts.manifestsRoot ?? directoryOf(file) });
  if (loaded.errors.length > 0) return fail(loaded.errors);
  const changes = loadChanges(scenario, src, reader, directoryOf(file), { root: opts.manifestsRoot ?? directoryOf(file) });
  if (changes.errors.length > 0) return fail(changes.errors);
  const spec = normalizeScenario(scenario, loaded.objects, { seed: opts.seed });
  if (changes.changes.length > 0) spec.changes = changes.changes;
  const crossErrors = crossCheck(spec, scenario, src);
  const targets = checkTrafficTargets(spec, src);
  if (crossErrors.length > 0 || targets.errors.length > 0) return fail([...crossErrors, ...targets.errors]);
  const changeErrors = validateChanges(spec, src);
  if (changeErrors.length > 0) return fail(changeErrors);
  const tooBig = eventBudgetProblem(spec, opts.maxEvents ?? DEFAULT_MAX_EVENTS);
  if (tooBig !== undefined) return fail([makeError(keyPositionAt(src, ["duration"]), ["duration"], tooBig)]);

  const warnings: InputError[] = [...loaded.warnings, ...changes.warnings, ...targets.warnings];
  const explain = explainWorld(spec, { params: params.values });
  return { ok: true, spec, explain, warnings };
}

function fail(errors: InputError[]): LoadResult {
  return { ok: false, errors };
}
