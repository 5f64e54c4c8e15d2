// Kubernetes manifests → K8sObjects that remember where every field was written. Takes what
// `kubectl apply -f` takes and what `kubectl get -o yaml|json` and `helm template` produce:
// multi-document YAML, JSON, `kind: List` (and typed `XList`s), objects carrying status and
// managedFields, and directories (their .yaml, .yml and .json files, not their subdirectories).
// YAML is read as YAML 1.1 like Kubernetes' own decoder (`yes`/`on` are booleans, `0755` is octal)
// except that timestamps and `1:30` stay strings, as they do there. Kustomizations, Helm charts
// and unrendered templates are refused with the command that renders them; JSON patches are
// skipped with a warning. Files come through an injected SourceReader.

import { type Document, type Node, LineCounter, isAlias, isMap, isPair, isScalar, isSeq, parseAllDocuments } from "yaml";
import { type InputError, type PathSegment, formatPath } from "./input-error.js";
import {
  hasManifestExtension,
  helmActionOffset,
  helmTemplateError,
  isHelmChartFile,
  isJsonPatch,
  isKustomizationFile,
  isKustomizeApiVersion,
  jsonPatchWarning,
  kustomizationError,
  rendererInputError,
} from "./input-forms.js";
import type { K8sObject, SourcePosition } from "./object.js";
import { metadataStringMaps } from "./string-maps.js";
import { suggest } from "./suggest.js";

/** Kinds without a namespace; every other kind defaults to namespace `default`. */
export const CLUSTER_SCOPED_KINDS: ReadonlySet<string> = new Set([
  "Namespace", "Node", "PersistentVolume", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition",
  "StorageClass", "PriorityClass", "IngressClass", "RuntimeClass", "CSIDriver", "CSINode", "VolumeAttachment",
  "APIService", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration", "ValidatingAdmissionPolicy",
  "ValidatingAdmissionPolicyBinding", "CertificateSigningRequest", "FlowSchema", "PriorityLevelConfiguration",
  "GatewayClass", "ComponentStatus",
]);

/** More alias expansions than this in one document is refused (billion-laughs guard). */
export const MAX_ALIAS_COUNT = 100;

/** Keys that could reach an object prototype when YAML becomes JavaScript; refused anywhere. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"]);

export interface LoadedManifests {
  /** In file order, then document order, then `items` order. */
  objects: K8sObject[];
  errors: InputError[];
  /** Input that was read but skipped or read in a way worth knowing (a JSON patch, an unknown YAML tag). */
  warnings: InputError[];
}

type Rec = Record<string, unknown>;

const TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp";

/** The YAML 1.1 timestamp and sexagesimal (`1:30`) tags, by id or as tag objects. */
function isTimeTag(t: string | { tag: string; format?: string }): boolean {
  if (typeof t === "string") return t === "timestamp" || t === "intTime" || t === "floatTime";
  return t.tag === TIMESTAMP_TAG || t.format === "TIME";
}

function isRec(v: unknown): v is Rec {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A parsed YAML document and what turns its offsets into file:line:col. */
export interface YamlDocSource {
  doc: Document.Parsed;
  file: string;
  lines: LineCounter;
}

/** Everything one document needs to place errors and positions. */
interface DocContext extends YamlDocSource {
  errors: InputError[];
  warnings: InputError[];
}

/**
 * Parse one file's text; `file` is the name positions and errors carry. Nothing is ever printed:
 * the yaml package's own warnings become warnings here.
 */
export function parseManifests(text: string, file: string): LoadedManifests {
  const out: LoadedManifests = { objects: [], errors: [], warnings: [] };
  // Before YAML sees it: a template action is a YAML syntax error or, worse, a flow mapping.
  const action = helmActionOffset(text);
  if (action !== undefined) {
    out.errors.push(helmTemplateError(text, action, file));
    return out;
  }
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, {
    lineCounter: lines,
    prettyErrors: false,
    version: "1.1",
    // The yaml package would otherwise print some warnings through process.emitWarning.
    logLevel: "error",
    // Kubernetes decodes into JSON: a timestamp or sexagesimal number stays the string written.
    customTags: (tags) => tags.filter((t) => !isTimeTag(t)),
  });
  for (const doc of docs) {
    const ctx: DocContext = { doc, file, lines, errors: out.errors, warnings: out.warnings };
    out.objects.push(...objectsOfDocument(ctx));
  }
  return out;
}

function objectsOfDocument(ctx: DocContext): K8sObject[] {
  const { doc } = ctx;
  if (doc.errors.length > 0) {
    for (const e of doc.errors) {
      const { line, col } = ctx.lines.linePos(e.pos[0]);
      ctx.errors.push({ file: ctx.file, line, col, path: "", message: `YAML syntax error: ${e.message}` });
    }
    return [];
  }
  for (const w of doc.warnings) {
    const { line, col } = ctx.lines.linePos(w.pos[0]);
    ctx.warnings.push({ file: ctx.file, line, col, path: "", message: yamlWarningMessage(w.code, w.message) });
  }
  const contents = doc.contents;
  if (contents === null || (isScalar(contents) && contents.value === null)) return [];
  const before = ctx.errors.length;
  checkKeys(ctx, contents, []);
  if (ctx.errors.length > before) return [];
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    ctx.errors.push({ ...errorAt(ctx, []), message: `the document cannot be expanded (${why}); meshsim allows at most ${MAX_ALIAS_COUNT} alias expansions per document` });
    return [];
  }
  if (isJsonPatch(value)) {
    ctx.warnings.push(jsonPatchWarning(errorAt(ctx, [])));
    return [];
  }
  if (!isRec(value)) {
    ctx.errors.push({ ...errorAt(ctx, []), message: "a Kubernetes manifest document must be a mapping", expected: "apiVersion, kind, metadata, ..." });
    return [];
  }
  if (isKustomizeApiVersion(value["apiVersion"])) {
    ctx.errors.push(kustomizationError(errorAt(ctx, ["apiVersion"]), ctx.file));
    return [];
  }
  if (!isListObject(value)) return objectFrom(ctx, value, [], undefined);
  const items = value["items"] as unknown[];
  const itemDefaults = listItemDefaults(value);
  return items.flatMap((item, i) => objectFrom(ctx, item, ["items", i], itemDefaults));
}

/**
 * A yaml package warning as ours. An unknown tag (`!Ref`, `!foo`) is the one manifests meet:
 * Kubernetes' decoder (go-yaml) ignores tags it cannot resolve and keeps the value as written.
 */
function yamlWarningMessage(code: string, message: string): string {
  const text = message.split(/ at line \d+, column \d+/)[0]?.trim() ?? message;
  const tag = code === "TAG_RESOLVE_FAILED" ? /Unresolved tag: (\S+)/.exec(text)?.[1] : undefined;
  if (tag !== undefined) return `unknown YAML tag ${tag}: ignored, as Kubernetes ignores it (a scalar is read as the string written)`;
  return `YAML: ${text}`;
}

/** `kind: List`, or a typed list such as `DeploymentList`, with an `items` array. */
function isListObject(v: Rec): boolean {
  return typeof v["kind"] === "string" && v["kind"].endsWith("List") && Array.isArray(v["items"]);
}

/** Items of a typed list (`ServiceList`) may omit kind and apiVersion; they come from the list. */
function listItemDefaults(list: Rec): { apiVersion: string; kind: string } | undefined {
  const kind = list["kind"] as string;
  if (kind === "List" || typeof list["apiVersion"] !== "string") return undefined;
  return { apiVersion: list["apiVersion"], kind: kind.slice(0, -"List".length) };
}

/**
 * Refuses keys Kubernetes' decoder refuses (a mapping or list as a key: sigs.k8s.io/yaml converts
 * only scalar keys to JSON) and keys that could reach an object prototype.
 */
function checkKeys(ctx: DocContext, node: unknown, path: PathSegment[]): void {
  if (isMap(node)) {
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      if (isMap(pair.key) || isSeq(pair.key)) {
        const { line, col } = ctx.lines.linePos((pair.key as Node).range?.[0] ?? 0);
        ctx.errors.push({ file: ctx.file, line, col, path: formatPath(path), message: `a ${isMap(pair.key) ? "mapping" : "list"} used as a mapping key: Kubernetes accepts only strings, numbers and booleans as keys`, expected: "a scalar key" });
        continue;
      }
      const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
      if (key !== undefined && FORBIDDEN_KEYS.has(key)) {
        const { line, col } = ctx.lines.linePos((pair.key as Node).range?.[0] ?? 0);
        ctx.errors.push({ file: ctx.file, line, col, path: formatPath([...path, key]), message: `the key "${key}" is not allowed (it could alter JavaScript object prototypes)` });
        continue;
      }
      checkKeys(ctx, pair.value, [...path, key ?? "?"]);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => checkKeys(ctx, item, [...path, i]));
  }
}

function objectFrom(ctx: DocContext, value: unknown, prefix: PathSegment[], defaults: { apiVersion: string; kind: string } | undefined): K8sObject[] {
  const positionOf = (path: ReadonlyArray<PathSegment>): SourcePosition => positionIn(ctx, [...prefix, ...path]);
  const fail = (path: PathSegment[], message: string, expected?: string): K8sObject[] => {
    const at = positionOf(path);
    const err: InputError = { file: at.file, line: at.line, col: at.col, path: formatPath([...prefix, ...path]), message };
    if (expected !== undefined) err.expected = expected;
    ctx.errors.push(err);
    return [];
  };
  if (!isRec(value)) return fail([], "a list item must be a Kubernetes object (a mapping)");
  const raw: Rec = defaults === undefined ? value : { apiVersion: defaults.apiVersion, kind: defaults.kind, ...value };
  const apiVersion = raw["apiVersion"];
  const kind = raw["kind"];
  const meta = raw["metadata"];
  if (typeof apiVersion !== "string" || apiVersion === "") return fail(["apiVersion"], "every Kubernetes object needs an apiVersion", "a string such as v1 or apps/v1");
  if (typeof kind !== "string" || kind === "") return fail(["kind"], "every Kubernetes object needs a kind", "a string such as Deployment");
  if (!isRec(meta)) return fail(["metadata"], `this ${kind} has no metadata`, "a mapping with at least name");
  const name = meta["name"];
  if (typeof name !== "string" || name === "") {
    const why = meta["generateName"] !== undefined ? " (generateName is not supported: the simulator must know the name)" : "";
    return fail(["metadata", "name"], `this ${kind} has no metadata.name${why}`, "a non-empty string");
  }
  const namespace = meta["namespace"];
  if (namespace !== undefined && namespace !== null && typeof namespace !== "string") {
    const why = typeof namespace === "boolean" ? " (YAML 1.1, which Kubernetes reads, takes y, n, yes, no, on and off as booleans)" : "";
    return fail(["metadata", "namespace"], `metadata.namespace of ${kind} ${name} is the YAML ${typeof namespace} ${JSON.stringify(namespace)}, not a string${why}`, "a string; quote it");
  }
  const maps = metadataStringMaps(raw, `${kind} ${typeof namespace === "string" && namespace !== "" ? `${namespace}/` : ""}${name}`);
  if (maps.problems.length > 0) {
    for (const p of maps.problems) fail(p.path, p.message, p.expected);
    return [];
  }
  const metadata: K8sObject["metadata"] = { name, labels: maps.labels, annotations: maps.annotations };
  if (!CLUSTER_SCOPED_KINDS.has(kind)) metadata.namespace = typeof namespace === "string" && namespace !== "" ? namespace : "default";
  if (typeof meta["creationTimestamp"] === "string") metadata.creationTimestamp = meta["creationTimestamp"];
  return [{ apiVersion, kind, metadata, raw, source: positionOf([]), positionOf }];
}

function errorAt(ctx: DocContext, path: PathSegment[]): Pick<InputError, "file" | "line" | "col" | "path"> {
  const at = positionIn(ctx, path);
  return { file: at.file, line: at.line, col: at.col, path: formatPath(path) };
}

/**
 * Where a field path was written, falling back to the nearest ancestor that exists. A scalar's
 * position is its value's; a map or list entry's is its key's (the value starts on a later line).
 */
export function positionIn(ctx: YamlDocSource, path: ReadonlyArray<PathSegment>): SourcePosition {
  const { doc } = ctx;
  let node: unknown = doc.contents;
  let offset = (doc.contents as Node | null)?.range?.[0] ?? doc.range[0];
  for (const seg of path) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
      if (pair === undefined) break;
      const value = pair.value;
      const valueStart = isScalar(value) && value.value !== null ? value.range?.[0] : undefined;
      offset = valueStart ?? (pair.key as Node).range?.[0] ?? offset;
      node = value;
    } else if (isSeq(node) && typeof seg === "number") {
      const item = node.items[seg] as Node | undefined;
      if (item?.range === undefined || item.range === null) break;
      offset = item.range[0];
      node = item;
    } else break;
  }
  const { line, col } = ctx.lines.linePos(offset);
  return { file: ctx.file, line, col };
}

/** File access for the loader; the CLI implements it on the file system, tests in memory. */
export interface SourceReader {
  /** The text of the file at an absolute path; throws when it cannot be read. */
  read(path: string): string;
  /** Absolute paths of the files matching `pattern` (relative to `baseDir`), sorted. */
  glob(pattern: string, baseDir: string): string[];
  /**
   * When `path` (relative to `baseDir`, or absolute; no glob characters) names a directory: the
   * absolute paths of the files directly in it, of any name, sorted; subdirectories are left out.
   * Undefined when `path` names no directory.
   */
  filesInDirectory(path: string, baseDir: string): string[] | undefined;
  /** The absolute path with every symbolic link resolved; absent ⇒ paths are already real. */
  realPath?(path: string): string;
}

/** How far manifest patterns may reach. */
export interface ManifestScope {
  /**
   * Every file loaded must lie inside this absolute directory once symbolic links are resolved
   * (a scenario from a pull request must not read the CI machine's files). Absent ⇒ anywhere.
   */
  root?: string;
}

/** Where a pattern was written, for errors about the pattern itself (file:line:col and field path). */
export type PatternOrigin = (index: number) => Pick<InputError, "file" | "line" | "col" | "path">;

const GLOB_CHARS = /[*?[\]{}]/;

/**
 * Load every manifest matching `patterns` (relative to `baseDir`): objects in pattern order, then
 * file order, then document order. A pattern naming a directory loads its .yaml, .yml and .json
 * files in name order, not its subdirectories, as `kubectl apply -f DIR` does. A file matched by
 * several patterns is loaded once, at its first match. A pattern matching no file is an error with
 * a suggestion when a near spelling matches.
 */
export function loadManifests(patterns: readonly string[], baseDir: string, reader: SourceReader, origin?: PatternOrigin, scope: ManifestScope = {}): LoadedManifests {
  const out: LoadedManifests = { objects: [], errors: [], warnings: [] };
  const loaded = new Set<string>();
  const root = scope.root === undefined ? undefined : realPathOf(reader, scope.root);
  patterns.forEach((pattern, index) => {
    const where = origin?.(index) ?? { file: "", line: 0, col: 0, path: "" };
    const files = filesOf(pattern, baseDir, reader, where, out.errors);
    for (const file of files) {
      if (loaded.has(file)) continue;
      loaded.add(file);
      const shown = displayName(file, baseDir);
      if (root !== undefined && !isInside(realPathOf(reader, file), root)) {
        out.errors.push({
          ...where,
          message: `"${shown}" lies outside ${root} once links are resolved: a scenario reads manifests only inside its own directory tree`,
          expected: "a path below the scenario's directory, or --manifests-root DIR to allow another tree",
        });
        continue;
      }
      const refused = rendererInputError(shown);
      if (refused !== undefined) {
        out.errors.push(refused);
        continue;
      }
      let text: string;
      try {
        text = reader.read(file);
      } catch (e) {
        out.errors.push({ file: shown, line: 0, col: 0, path: "", message: `cannot read: ${e instanceof Error ? e.message : String(e)}` });
        continue;
      }
      const parsed = parseManifests(text, shown);
      out.objects.push(...parsed.objects);
      out.errors.push(...parsed.errors);
      out.warnings.push(...parsed.warnings);
    }
  });
  return out;
}

/**
 * The files one pattern names, sorted; problems go to `errors` and leave the list empty. A
 * directory holding a kustomization or a Helm chart yields only that file, so that it is refused
 * rather than its bases, patches or values being read as manifests.
 */
function filesOf(pattern: string, baseDir: string, reader: SourceReader, where: Pick<InputError, "file" | "line" | "col" | "path">, errors: InputError[]): string[] {
  try {
    const inDir = GLOB_CHARS.test(pattern) ? undefined : reader.filesInDirectory(pattern, baseDir);
    if (inDir !== undefined) {
      const renderer = inDir.find((f) => isKustomizationFile(f) || isHelmChartFile(f));
      if (renderer !== undefined) return [renderer];
      const manifests = inDir.filter(hasManifestExtension).sort(compareText);
      if (manifests.length === 0) {
        const dir = pattern.replace(/\/+$/, "");
        errors.push({ ...where, message: `the directory "${pattern}" holds no .yaml, .yml or .json file (its subdirectories are not read, as kubectl apply -f does not read them)`, expected: `a directory of manifests, or a pattern such as ${dir}/**/*.yaml` });
      }
      return manifests;
    }
    const files = [...reader.glob(pattern, baseDir)].sort(compareText);
    if (files.length === 0) {
      const err: InputError = { ...where, message: `manifest pattern "${pattern}" matches no file (relative to ${baseDir})` };
      const better = suggestPattern(pattern, baseDir, reader);
      if (better !== undefined) err.suggestion = better;
      errors.push(err);
    }
    return files;
  } catch (e) {
    errors.push({ ...where, message: `cannot list manifests "${pattern}": ${e instanceof Error ? e.message : String(e)}` });
    return [];
  }
}

function realPathOf(reader: SourceReader, path: string): string {
  try {
    return withoutDotSegments(reader.realPath?.(path) ?? path);
  } catch {
    return withoutDotSegments(path);
  }
}

/** `/a/b/../c/./d` ⇒ `/a/c/d`, so a `..` cannot pass for a path below a directory. */
function withoutDotSegments(path: string): string {
  const out: string[] = [];
  for (const seg of path.split("/")) {
    if (seg === "..") out.length > 1 ? out.pop() : undefined;
    else if (seg !== "." && (seg !== "" || out.length === 0)) out.push(seg);
  }
  return out.join("/") || "/";
}

/** `path` is `dir` or lies below it (both absolute and normalised). */
function isInside(path: string, dir: string): boolean {
  const base = dir.endsWith("/") ? dir : `${dir}/`;
  return path === dir || path.startsWith(base);
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A path below `baseDir` is shown relative to it, as the user wrote it; others stay absolute. */
export function displayName(file: string, baseDir: string): string {
  const base = baseDir.endsWith("/") ? baseDir : `${baseDir}/`;
  return file.startsWith(base) ? file.slice(base.length) : file;
}

/**
 * A pattern that does match, close to one that does not: the other YAML extension, or the pattern's
 * directory respelt as a directory that exists below `baseDir`. Undefined ⇒ nothing close.
 */
function suggestPattern(pattern: string, baseDir: string, reader: SourceReader): string | undefined {
  const matches = (p: string): boolean => {
    try {
      return reader.glob(p, baseDir).length > 0;
    } catch {
      return false;
    }
  };
  const swapped = pattern.endsWith(".yml") ? `${pattern.slice(0, -4)}.yaml` : pattern.endsWith(".yaml") ? `${pattern.slice(0, -5)}.yml` : undefined;
  if (swapped !== undefined && matches(swapped)) return swapped;
  let files: string[];
  try {
    files = reader.glob("**/*", baseDir).map((f) => displayName(f, baseDir));
  } catch {
    return undefined;
  }
  const segments = pattern.split("/");
  const firstGlob = segments.findIndex((s) => GLOB_CHARS.test(s));
  if (firstGlob < 0) return suggest(pattern, files);
  const dir = segments.slice(0, firstGlob).join("/");
  const tail = segments.slice(firstGlob).join("/");
  const dirs = [...new Set(files.flatMap(parentDirs))];
  const candidates = dirs.map((d) => (d === "" ? tail : `${d}/${tail}`)).filter((c) => c !== pattern);
  const better = suggest(dir === "" ? tail : `${dir}/${tail}`, candidates);
  return better !== undefined && matches(better) ? better : undefined;
}

/** `a/b/c.yaml` ⇒ ["a", "a/b"]; a top-level file ⇒ [""]. */
function parentDirs(file: string): string[] {
  const parts = file.split("/").slice(0, -1);
  if (parts.length === 0) return [""];
  return parts.map((_, i) => parts.slice(0, i + 1).join("/"));
}
