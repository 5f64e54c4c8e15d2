// Files that sit next to manifests in real repositories but are not manifests: kustomizations,
// Helm charts and their unrendered templates, and JSON patches. `kubectl apply -f` would fail on
// each or apply something else than the operator meant, so each is named for what it is, with
// the command that turns it into manifests, instead of surfacing as a confusing YAML or schema
// error.

import { CST, Lexer } from "yaml";
import type { InputError } from "./input-error.js";

/**
 * The file names kustomize looks for in a directory, in its order
 * (sigs.k8s.io/kustomize `konfig.RecognizedKustomizationFileNames`).
 */
export const KUSTOMIZATION_FILE_NAMES: readonly string[] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/** The file that makes a directory a Helm chart (helm.sh/docs/topics/charts). */
const HELM_CHART_FILE = "Chart.yaml";

/** The extensions `kubectl apply -f DIR` reads in a directory (k8s.io/cli-runtime `resource.FileExtensions`). */
export const MANIFEST_EXTENSIONS: readonly string[] = [".json", ".yaml", ".yml"];

/** The API group of kustomize's own file format (`kind: Kustomization` or `Component`). */
const KUSTOMIZE_API_GROUP = "kustomize.config.k8s.io/";

/** RFC 6902 operations; a document that is a list of these is a JSON patch. */
const JSON_PATCH_OPS: ReadonlySet<string> = new Set(["add", "remove", "replace", "move", "copy", "test"]);

/**
 * Helm's built-in objects (helm.sh/docs/chart_template_guide/builtin_objects). No other
 * templating found in rendered manifests (Prometheus rules, Alertmanager and Argo templates) uses
 * them, so an action naming one is Helm's even inside a quoted string.
 */
const HELM_BUILTIN = /(?:^|[^\w.])\$?\.(?:Values|Release|Chart|Capabilities|Files|Template)\b/;

/** The lexer's markers that stand for no source text. */
const LEXER_MARKERS: ReadonlySet<string> = new Set([CST.DOCUMENT, CST.FLOW_END, CST.SCALAR]);

/** Longest excerpt of a template action quoted in an error. */
const MAX_ACTION_EXCERPT = 60;

type Where = Pick<InputError, "file" | "line" | "col" | "path">;

/** The last path segment (`a/b/kustomization.yaml` ⇒ `kustomization.yaml`). */
export function baseName(path: string): string {
  return path.slice(Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\")) + 1);
}

/** `a/b/c.yaml` ⇒ `a/b`; a bare name ⇒ `.`. */
function parentOf(path: string): string {
  const i = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  return i < 0 ? "." : i === 0 ? "/" : path.slice(0, i);
}

/** Whether kustomize would take a file of this name for a kustomization. */
export function isKustomizationFile(path: string): boolean {
  return KUSTOMIZATION_FILE_NAMES.includes(baseName(path));
}

/**
 * The error for a file that only a renderer reads (a kustomization, a chart's Chart.yaml), or
 * undefined for any other file. `shown` is the file as shown to the user.
 */
export function rendererInputError(shown: string): InputError | undefined {
  const where = { file: shown, line: 0, col: 0, path: "" };
  if (isKustomizationFile(shown)) return kustomizationError(where, shown);
  if (isHelmChartFile(shown)) {
    return {
      ...where,
      message: "a Helm chart's Chart.yaml, not a Kubernetes manifest: meshsim loads what kubectl apply -f loads and does not run Helm",
      expected: `the manifests Helm renders: run \`helm template RELEASE ${parentOf(shown)} -f VALUES\` and load its output`,
    };
  }
  return undefined;
}

/** Whether Helm would take a file of this name for a chart's definition. */
export function isHelmChartFile(path: string): boolean {
  return baseName(path) === HELM_CHART_FILE;
}

/** Whether an apiVersion is kustomize's file format rather than a Kubernetes API. */
export function isKustomizeApiVersion(apiVersion: unknown): boolean {
  return typeof apiVersion === "string" && apiVersion.startsWith(KUSTOMIZE_API_GROUP);
}

/** Whether the extension is one `kubectl apply -f DIR` reads (compared exactly, as kubectl does). */
export function hasManifestExtension(path: string): boolean {
  const name = baseName(path);
  const dot = name.lastIndexOf(".");
  return dot > 0 && MANIFEST_EXTENSIONS.includes(name.slice(dot));
}

/**
 * The error for a kustomization met where manifests were expected. `file` is the kustomization
 * as shown to the user; the command names its directory.
 */
export function kustomizationError(where: Where, file: string): InputError {
  return {
    ...where,
    message: "a kustomization, not a Kubernetes manifest: meshsim loads what kubectl apply -f loads and does not run kustomize",
    expected: `the manifests it renders: run \`kubectl kustomize ${parentOf(file)}\` and load its output`,
  };
}

/**
 * Offset of the first Helm template action (`{{ ... }}`) in `text`, or undefined when there is
 * none. An action counts when it stands where YAML structure would (`name: {{ .Values.name }}`,
 * `{{- if ... }}` on its own line), or when it names one of Helm's built-in objects anywhere
 * outside a comment (`image: "{{ .Values.image }}"`). `{{ $labels.instance }}` inside a string,
 * as rendered Prometheus rules carry, is data and does not count.
 */
export function helmActionOffset(text: string): number | undefined {
  if (!text.includes("{{")) return undefined;
  let offset = 0;
  let previousType: string | null = null;
  for (const token of new Lexer().lex(text)) {
    if (LEXER_MARKERS.has(token)) continue;
    const type = CST.tokenType(token);
    // `{{` in structure lexes as two flow-mapping starts with nothing between them.
    if (type === "flow-map-start" && previousType === "flow-map-start") return offset - 1;
    if (type !== "comment") {
      const inside = helmActionIn(token);
      if (inside !== undefined) return offset + inside;
    }
    previousType = type;
    offset += token.length;
  }
  return undefined;
}

/** Index of the first `{{ ... }}` in `s` that names a Helm built-in object. */
function helmActionIn(s: string): number | undefined {
  for (let at = s.indexOf("{{"); at >= 0; at = s.indexOf("{{", at + 2)) {
    const end = s.indexOf("}}", at + 2);
    if (HELM_BUILTIN.test(s.slice(at + 2, end < 0 ? undefined : end))) return at;
  }
  return undefined;
}

/** The error for an unrendered Helm template whose first action starts at `offset`. */
export function helmTemplateError(text: string, offset: number, file: string): InputError {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  const col = offset - before.lastIndexOf("\n");
  const end = text.indexOf("}}", offset);
  const lineEnd = text.indexOf("\n", offset);
  const stop = end >= 0 && (lineEnd < 0 || end < lineEnd) ? end + 2 : lineEnd < 0 ? text.length : lineEnd;
  const action = text.slice(offset, Math.min(stop, offset + MAX_ACTION_EXCERPT));
  return {
    file,
    line,
    col,
    path: "",
    message: `an unrendered Helm template: ${action} is a template action, not YAML`,
    expected: `the manifests Helm renders: run \`helm template RELEASE ${chartOf(file)} -f VALUES\` and load its output`,
  };
}

/** The chart directory of a template below `<chart>/templates/`, else a placeholder. */
function chartOf(file: string): string {
  const parts = file.split(/[/\\]/);
  const i = parts.lastIndexOf("templates");
  if (i < 0) return "CHART";
  return i === 0 ? "." : parts.slice(0, i).join("/");
}

/** Whether a document's value is an RFC 6902 JSON patch: a non-empty list of `{op, path, ...}`. */
export function isJsonPatch(value: unknown): boolean {
  return (
    Array.isArray(value) &&
    value.length > 0 &&
    value.every((op) => typeof op === "object" && op !== null && !Array.isArray(op) && JSON_PATCH_OPS.has((op as Record<string, unknown>)["op"] as string) && typeof (op as Record<string, unknown>)["path"] === "string")
  );
}

/** The warning for a JSON patch document, which is skipped. */
export function jsonPatchWarning(where: Where): InputError {
  return { ...where, message: "a JSON patch, not an object: skipped; apply it with kubectl patch and load the result" };
}
