// `meshsim check FILE|MANIFESTS...`: every diagnostic the policy parsers produce for the real
// objects, stated as what is wrong and what Linkerd will actually do. A scenario file is checked
// cluster by cluster; plain manifests are checked as one cluster.

import { resolve } from "node:path";
import { checkObjects, type PositionedDiagnostic } from "../k8s/check.js";
import { formatInputError } from "../k8s/input-error.js";
import { loadManifests } from "../k8s/load.js";
import type { K8sObject } from "../k8s/object.js";
import { loadScenario } from "../scenario/load.js";
import { World } from "../mesh/world.js";
import { fileReader } from "./files.js";
import { EXIT } from "./run-command.js";

function isScenario(text: string): boolean {
  return /^(clusters|traffic|behavior|expect):/m.test(text) && !/^kind:/m.test(text);
}

export function checkCommand(paths: readonly string[], opts: { json?: boolean; notes?: boolean }, out: (s: string) => void, err: (s: string) => void): number {
  const groups: Array<{ name: string; objects: K8sObject[]; domain: string }> = [];
  const manifestPaths: string[] = [];
  const identity: PositionedDiagnostic[] = [];
  for (const p of paths) {
    let text: string;
    try {
      text = fileReader.read(resolve(p));
    } catch {
      err(`${p}: cannot read this file`);
      return EXIT.badInput;
    }
    if (!isScenario(text)) {
      manifestPaths.push(p);
      continue;
    }
    const loaded = loadScenario(resolve(p), fileReader, { displayAs: p });
    if (!loaded.ok) {
      for (const e of loaded.errors) err(formatInputError(e));
      return EXIT.badInput;
    }
    for (const c of loaded.spec.clusters) groups.push({ name: c.name, objects: c.objects, domain: c.domain });
    // `linkerd check --proxy`: certificates of the mesh as the scenario starts it.
    identity.push(...new World(loaded.spec).identity.diagnostics());
  }
  if (manifestPaths.length > 0) {
    const loaded = loadManifests(manifestPaths.map((p) => resolve(p)), process.cwd(), fileReader);
    if (loaded.errors.length > 0) {
      for (const e of loaded.errors) err(formatInputError(e));
      return EXIT.badInput;
    }
    groups.push({ name: "", objects: loaded.objects, domain: "cluster.local" });
  }
  const diagnostics: Array<PositionedDiagnostic & { cluster?: string }> = [
    ...groups.flatMap((g) => checkObjects(g.objects, { clusterDomain: g.domain, notes: opts.notes === true }).map((d) => (g.name === "" ? d : { ...d, cluster: g.name }))),
    ...identity,
  ];
  if (opts.json === true) {
    out(JSON.stringify({ diagnostics }));
  } else if (diagnostics.length === 0) {
    out("√ no problems found: Linkerd will do what these manifests say");
  } else {
    for (const d of diagnostics) {
      const where = d.source === undefined ? "" : `${d.source.file}:${d.source.line}:${d.source.col}: `;
      const cluster = d.cluster === undefined ? "" : `[${d.cluster}] `;
      out(`${where}${d.severity} ${d.code}: ${cluster}${d.object} ${d.field}`);
      out(`    ${d.message}`);
    }
    const errors = diagnostics.filter((d) => d.severity === "error").length;
    out(`\n${errors} error(s), ${diagnostics.length - errors} warning(s)/note(s)`);
  }
  return diagnostics.some((d) => d.severity === "error") ? EXIT.expectationFailed : EXIT.ok;
}
