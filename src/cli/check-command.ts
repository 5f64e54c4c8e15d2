// `meshsim check FILE|MANIFESTS...`: every diagnostic the policy parsers produce for the real
// objects, stated as what is wrong and what Linkerd will actually do, one line per code; then what
// meshsim reads but does not simulate. A scenario file is checked cluster by cluster; plain
// manifests (files, or directories as `kubectl apply -f DIR` reads them) are checked as one
// cluster. Input errors exit 2; under --json they are `{"ok":false,"errors":[...]}` on stdout.

import { resolve } from "node:path";
import { checkObjects } from "../k8s/check.js";
import { type ClusterDiagnostic, countDiagnostics, formatDiagnostics, groupingHidesSome } from "../k8s/diagnostic-groups.js";
import { formatInputError, type InputError } from "../k8s/input-error.js";
import { applyManifestSet } from "../k8s/apply.js";
import { loadManifests } from "../k8s/load.js";
import { type NotSimulatedHit, findNotSimulated, formatNotSimulated, summarizeNotSimulated } from "../k8s/not-simulated.js";
import type { K8sObject } from "../k8s/object.js";
import { scenarioDiagnostics, scenarioNotSimulatedHits } from "../scenario/findings.js";
import { loadScenario } from "../scenario/load.js";
import { fileReader, manifestsRoot } from "./files.js";
import { EXIT, inputErrorsJson } from "./run-command.js";

/** Whether a YAML file's text is a scenario (top-level scenario sections, no `kind:`) rather than Kubernetes manifests. */
export function isScenario(text: string): boolean {
  return /^(clusters|traffic|behavior|expect):/m.test(text) && !/^kind:/m.test(text);
}

export interface CheckCommandOptions {
  /** Print `{diagnostics, notSimulated, ignoredKinds}` as one JSON object. */
  json?: boolean;
  /** Also the notes every use of a feature earns (how `retry.linkerd.io/limit` counts). */
  notes?: boolean;
  /** Every diagnostic and not-simulated object in full, instead of one line per code. */
  verbose?: boolean;
  /** `--manifests-root`: where a scenario's manifests may come from. Absent ⇒ the scenario's own directory tree. */
  manifestsRoot?: string;
}

export function checkCommand(paths: readonly string[], opts: CheckCommandOptions, out: (s: string) => void, err: (s: string) => void): number {
  const groups: Array<{ objects: K8sObject[]; domain: string }> = [];
  const manifestPaths: string[] = [];
  const ofScenarios: ClusterDiagnostic[] = [];
  const notSimulated: NotSimulatedHit[] = [];
  // Under --json, input errors are the one JSON object on stdout; the text goes to stderr either way.
  const refuse = (errors: readonly InputError[]): number => {
    for (const e of errors) err(formatInputError(e));
    if (opts.json === true) out(inputErrorsJson(errors));
    return EXIT.badInput;
  };
  const warn = (warnings: readonly InputError[]): void => {
    for (const w of warnings) err(`warning: ${formatInputError(w)}`);
  };
  for (const p of paths) {
    // A directory is a set of manifests, as for `kubectl apply -f DIR`.
    if (fileReader.filesInDirectory(resolve(p), process.cwd()) !== undefined) {
      manifestPaths.push(p);
      continue;
    }
    let text: string;
    try {
      text = fileReader.read(resolve(p));
    } catch {
      return refuse([{ file: p, line: 0, col: 0, path: "", message: "cannot read this file" }]);
    }
    if (!isScenario(text)) {
      manifestPaths.push(p);
      continue;
    }
    const loaded = loadScenario(resolve(p), fileReader, { displayAs: p, ...manifestsRoot(opts.manifestsRoot) });
    if (!loaded.ok) return refuse(loaded.errors);
    warn(loaded.warnings);
    // What `meshsim run` reports for the scenario, with the notes `check` gives besides.
    ofScenarios.push(...scenarioDiagnostics(loaded.spec, { notes: opts.notes === true ? "all" : "some" }));
    notSimulated.push(...scenarioNotSimulatedHits(loaded.spec));
  }
  if (manifestPaths.length > 0) {
    const loaded = loadManifests(manifestPaths.map((p) => resolve(p)), process.cwd(), fileReader);
    if (loaded.errors.length > 0) return refuse(loaded.errors);
    warn(loaded.warnings);
    const objects = applyManifestSet(loaded.objects, {}).objects;
    groups.push({ objects, domain: "cluster.local" });
    notSimulated.push(...findNotSimulated(objects));
  }
  const diagnostics: ClusterDiagnostic[] = [
    ...ofScenarios,
    ...groups.flatMap((g) => checkObjects(g.objects, { clusterDomain: g.domain, notes: opts.notes === true })),
  ];
  const leftOut = summarizeNotSimulated(notSimulated);
  if (opts.json === true) {
    out(JSON.stringify({ diagnostics, notSimulated: leftOut.entries, ignoredKinds: leftOut.ignored }));
  } else {
    if (diagnostics.length === 0) out("√ no problems found: Linkerd will do what these manifests say");
    else {
      // Repeated codes on one line each (a generated ServiceProfile repeats one finding per route).
      for (const line of formatDiagnostics(diagnostics, { verbose: opts.verbose === true })) out(line);
      const hint = opts.verbose !== true && groupingHidesSome(diagnostics) ? " (--verbose lists every one)" : "";
      out(`\n${countDiagnostics(diagnostics)}${hint}`);
    }
    const block = formatNotSimulated(leftOut, { verbose: opts.verbose === true });
    if (block.length > 0) out(["", ...block].join("\n"));
  }
  return diagnostics.some((d) => d.severity === "error") ? EXIT.expectationFailed : EXIT.ok;
}
