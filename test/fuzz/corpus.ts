// The fuzzer's starting points: every scenario under `scenarios/`, as plain data, with the
// manifests it names read and applied (`-n`, `linkerd inject`) and written inline as `objects:`
// (those a `changes:` entry applies too), so a mutated case is one self-contained YAML text that
// reproduces on its own. Each is then shortened to a few simulated seconds, its timeline (warmup,
// faults, rate schedules, changes, windows) scaled with it, so a case runs in milliseconds.

import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { diskReader } from "../../src/api/file-reader.js";
import { applyManifestSet } from "../../src/k8s/apply.js";
import { loadManifests } from "../../src/k8s/load.js";
import { parseScenarioDuration } from "../../src/scenario/values.js";

export type Doc = Record<string, unknown>;

export interface CorpusEntry {
  /** The scenario's path relative to the repository, e.g. `scenarios/emojivoto.yaml`. */
  file: string;
  doc: Doc;
}

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

const isRec = (v: unknown): v is Doc => typeof v === "object" && v !== null && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** Scenario files below `dir` (those with top-level `name:` and `clusters:`), in path order; manifests are skipped. */
function scenarioFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...scenarioFiles(p));
    else if (/\.ya?ml$/.test(e.name)) {
      const text = readFileSync(p, "utf8");
      if (/^clusters:/m.test(text) && /^name:/m.test(text)) out.push(p);
    }
  }
  return out;
}

/** The objects one `manifests:` entry loads, as `kubectl apply` would leave them. */
function manifestObjects(entry: unknown, clusterInject: boolean, baseDir: string): unknown[] {
  const set = typeof entry === "string" ? { files: [entry] } : isRec(entry) ? entry : { files: [] };
  const files = Array.isArray(set["files"]) ? (set["files"] as string[]) : [];
  const loaded = loadManifests(files, baseDir, diskReader);
  if (loaded.errors.length > 0) throw new Error(`fuzz corpus: ${baseDir}: ${loaded.errors.map((e) => e.message).join("; ")}`);
  const namespace = typeof set["namespace"] === "string" ? { namespace: set["namespace"] } : {};
  const applied = applyManifestSet(loaded.objects, { ...namespace, inject: set["inject"] === true || clusterInject });
  return applied.objects.map((o) => structuredClone(o.raw));
}

/** The scenario at `file` with its manifests inline. */
export function inlineScenario(file: string): Doc {
  const doc = parse(readFileSync(file, "utf8")) as Doc;
  const clusters = doc["clusters"] as unknown[];
  for (const c of clusters) {
    if (!isRec(c)) continue;
    const manifests = Array.isArray(c["manifests"]) ? c["manifests"] : [];
    const loaded = manifests.flatMap((m) => manifestObjects(m, c["inject"] === true, dirname(file)));
    delete c["manifests"];
    const inline = Array.isArray(c["objects"]) ? c["objects"] : [];
    if (loaded.length + inline.length > 0) c["objects"] = [...loaded, ...inline];
  }
  for (const change of list(doc["changes"])) {
    if (!isRec(change) || !Array.isArray(change["apply"])) continue;
    const target = clusters.find((c) => isRec(c) && c["name"] === change["cluster"]) ?? clusters[0];
    const inject = isRec(target) && target["inject"] === true;
    change["apply"] = change["apply"].flatMap((item) =>
      typeof item === "string" || (isRec(item) && "files" in item) ? manifestObjects(item, inject, dirname(file)) : [item],
    );
  }
  return doc;
}

const durationUs = (v: unknown): number | undefined => {
  const r = parseScenarioDuration(v);
  return r.ok ? r.value : undefined;
};

/** Multiply a duration field in place; params (`${x}`) and anything unparsable stay as written. */
function scaleField(holder: unknown, key: string | number, factor: number): void {
  if (!isRec(holder) && !Array.isArray(holder)) return;
  const h = holder as Record<string | number, unknown>;
  const us = durationUs(h[key]);
  if (us !== undefined) h[key] = `${Math.round(us * factor)}us`;
}

/** Top-level sections that hold no instants of the run's timeline (durations there are latencies, periods, ttls). */
const TIMELESS_SECTIONS = new Set(["name", "description", "seed", "params", "clusters", "mesh", "dns", "links", "network", "behavior", "report"]);
/** Keys whose duration is an instant on (or a span of) the run's timeline: fault windows, rate steps, changes, expectation windows. */
const TIMELINE_KEYS = new Set(["at", "until", "over", "after", "within", "atLeast", "window"]);

/** Scale every timeline duration below `node`. */
function scaleTimeline(node: unknown, factor: number): void {
  if (Array.isArray(node)) {
    node.forEach((v) => scaleTimeline(v, factor));
    return;
  }
  if (!isRec(node)) return;
  for (const [k, v] of Object.entries(node)) {
    if (k === "window" && Array.isArray(v)) v.forEach((_, i) => scaleField(v, i, factor));
    else if (TIMELINE_KEYS.has(k)) scaleField(node, k, factor);
    else scaleTimeline(v, factor);
  }
}

/**
 * The scenario shortened to at most `maxDurationUs` of simulated time, with every instant on its
 * timeline (warmup, faults, rate schedules, changes, expectation windows) scaled by the same
 * factor, so its faults, steps and changes still fall inside the run.
 */
export function shortened(doc: Doc, maxDurationUs: number): Doc {
  const out = structuredClone(doc);
  const total = durationUs(out["duration"]);
  if (total === undefined || total <= maxDurationUs) return out;
  const f = maxDurationUs / total;
  scaleField(out, "duration", f);
  scaleField(out, "warmup", f);
  for (const [k, v] of Object.entries(out)) if (!TIMELESS_SECTIONS.has(k)) scaleTimeline(v, f);
  return out;
}

let cached: CorpusEntry[] | undefined;

/** Every scenario of `scenarios/`, manifests inline, full length. Read once per process. */
export function corpus(): CorpusEntry[] {
  cached ??= scenarioFiles(join(REPO_ROOT, "scenarios")).map((p) => ({ file: relative(REPO_ROOT, p), doc: inlineScenario(p) }));
  return cached;
}
