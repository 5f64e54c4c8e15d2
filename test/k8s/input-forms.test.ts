// Manifests in the forms they sit in real repositories (test/fixtures/real-shapes/): a directory
// loads as `kubectl apply -f DIR` loads it; JSON is YAML, `kind: List` included; a kustomization, a
// Helm chart or an unrendered Helm template is refused with the command that renders it; a JSON
// patch is skipped with a warning; and the yaml package never prints anything itself.

import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it, vi } from "vitest";
import { diskReader } from "../../src/api/file-reader.js";
import { type LoadedManifests, loadManifests, parseManifests, type SourceReader } from "../../src/k8s/load.js";
import { helmActionOffset, isJsonPatch } from "../../src/k8s/input-forms.js";
import { loadScenario } from "../../src/scenario/load.js";
import { filesBelow, memoryReader, positionOf } from "../scenario/memory-reader.js";

const base = join(dirname(fileURLToPath(import.meta.url)), "..", "fixtures", "real-shapes");
const text = (file: string): string => readFileSync(join(base, file), "utf8");
const memory = memoryReader(filesBelow(base));

/** What a load found, without the position callbacks. */
function summary(r: LoadedManifests): { objects: string[]; errors: unknown[]; warnings: unknown[] } {
  return {
    objects: r.objects.map((o) => `${o.kind} ${o.metadata.namespace === undefined ? "" : `${o.metadata.namespace}/`}${o.metadata.name} @ ${o.source.file}:${o.source.line}:${o.source.col}`),
    errors: r.errors,
    warnings: r.warnings,
  };
}

/** The same load through the disk reader and the in-memory one: both must say the same. */
function load(patterns: string[]): ReturnType<typeof summary> {
  const disk = summary(loadManifests(patterns, base, diskReader));
  expect(summary(loadManifests(patterns, base, memory))).toEqual(disk);
  return disk;
}

describe("a directory, as kubectl apply -f DIR reads it", () => {
  const expected = {
    // Byte order, as kubectl's filepath.Walk: "0" < "S" < "a". README.md and nested/ are not read.
    objects: ["Namespace books @ directory/00-namespace.yaml:1:1", "Service books/authors @ directory/Service-authors.yml:1:1", "Deployment books/authors @ directory/authors.json:1:1"],
    errors: [],
    warnings: [],
  };

  it("loads every .yaml, .yml and .json file directly in it, sorted by name", () => {
    expect(load(["directory"])).toEqual(expected);
  });

  it("takes the directory with a trailing slash or as an absolute path (files below the base still shown relative to it)", () => {
    expect(load(["directory/"])).toEqual(expected);
    expect(load([join(base, "directory")])).toEqual(expected);
  });

  it("loads a subdirectory only when it is named itself", () => {
    expect(load(["directory/nested"]).objects).toEqual(["Service books/webapp @ directory/nested/webapp.yaml:1:1"]);
  });

  it("loads a file named by two entries once", () => {
    expect(load(["directory/authors.json", "directory"]).objects).toEqual([
      "Deployment books/authors @ directory/authors.json:1:1",
      "Namespace books @ directory/00-namespace.yaml:1:1",
      "Service books/authors @ directory/Service-authors.yml:1:1",
    ]);
  });

  it("is an error at the entry when it holds no manifest file", () => {
    const reader = memoryReader({ "/m/docs/README.md": "# shop\n", "/m/docs/v1/web.yaml": "apiVersion: v1\n" });
    const r = loadManifests(["docs"], "/m", reader, () => ({ file: "scenario.yaml", line: 6, col: 18, path: "clusters[0].manifests[0]" }));
    expect(r.errors).toEqual([
      {
        file: "scenario.yaml",
        line: 6,
        col: 18,
        path: "clusters[0].manifests[0]",
        message: 'the directory "docs" holds no .yaml, .yml or .json file (its subdirectories are not read, as kubectl apply -f does not read them)',
        expected: "a directory of manifests, or a pattern such as docs/**/*.yaml",
      },
    ]);
  });

  it("loads from a scenario's manifests entry, relative to the scenario", () => {
    const files = { ...filesBelow(join(base, "directory")) };
    const scenario = join(base, "directory-scenario.yaml");
    const yaml = `name: books
seed: 1
duration: 5s
clusters:
  - name: c
    manifests: [directory]
    services:
      - {name: client, namespace: books}
traffic:
  - {name: calls, from: {namespace: books, deployment: client}, to: "http://authors.books.svc.cluster.local:7001/", rate: 5/s}
expect:
  - {name: all succeed, metric: successRate, where: {traffic: calls}, equals: 1}
`;
    const r = loadScenario(scenario, memoryReader({ ...files, [scenario]: yaml }));
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    expect(r.spec.clusters[0]?.objects.slice(0, 3).map((o) => `${o.kind} ${o.metadata.name} @ ${o.source.file}`)).toEqual([
      "Namespace books @ directory/00-namespace.yaml",
      "Service authors @ directory/Service-authors.yml",
      "Deployment authors @ directory/authors.json",
    ]);
  });
});

describe("kustomize's input is refused with the command that renders it", () => {
  const refused = (file: string, dir: string) => ({
    file,
    line: 0,
    col: 0,
    path: "",
    message: "a kustomization, not a Kubernetes manifest: meshsim loads what kubectl apply -f loads and does not run kustomize",
    expected: `the manifests it renders: run \`kubectl kustomize ${dir}\` and load its output`,
  });

  it("a directory holding a kustomization.yaml: nothing in it is loaded, not even its patch", () => {
    expect(load(["kustomization/overlays/prod"])).toEqual({ objects: [], errors: [refused("kustomization/overlays/prod/kustomization.yaml", "kustomization/overlays/prod")], warnings: [] });
  });

  it("a kustomization.yaml named directly, or matched by a glob", () => {
    expect(load(["kustomization/base/kustomization.yaml"]).errors).toEqual([refused("kustomization/base/kustomization.yaml", "kustomization/base")]);
    expect(load(["kustomization/base/*.yaml"]).errors).toEqual([refused("kustomization/base/kustomization.yaml", "kustomization/base")]);
  });

  it("every name kustomize recognises: kustomization.yml and Kustomization", () => {
    for (const name of ["kustomization.yml", "Kustomization"]) {
      const reader = memoryReader({ [`/m/app/${name}`]: "resources:\n  - web.yaml\n", "/m/app/web.yaml": "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n" });
      expect(summary(loadManifests(["app"], "/m", reader))).toEqual({ objects: [], errors: [refused(`app/${name}`, "app")], warnings: [] });
    }
  });

  it("a kustomize document under another file name, at its apiVersion", () => {
    const r = parseManifests("apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\npatches:\n  - path: inject.yaml\n", "components/linkerd/component.yaml");
    expect(r.errors).toEqual([{ ...refused("components/linkerd/component.yaml", "components/linkerd"), line: 1, col: 13, path: "apiVersion" }]);
  });
});

describe("Helm's input is refused with the command that renders it", () => {
  const helm = (file: string, line: number, col: number, action: string, chart: string) => ({
    file,
    line,
    col,
    path: "",
    message: `an unrendered Helm template: ${action} is a template action, not YAML`,
    expected: `the manifests Helm renders: run \`helm template RELEASE ${chart} -f VALUES\` and load its output`,
  });

  it("a chart's templates: each file at its first action, before YAML reads it (and _helpers.tpl is not a manifest)", () => {
    const deployment = text("helm-template/podinfo/templates/deployment.yaml");
    const first = positionOf(deployment, "{{");
    expect(first).toEqual({ line: 4, col: 9 });
    expect(load(["helm-template/podinfo/templates"])).toEqual({
      objects: [],
      errors: [
        helm("helm-template/podinfo/templates/deployment.yaml", 4, 9, '{{ template "podinfo.fullname" . }}', "helm-template/podinfo"),
        helm("helm-template/podinfo/templates/service.yaml", 1, 1, "{{- if .Values.service.enabled -}}", "helm-template/podinfo"),
      ],
      warnings: [],
    });
  });

  it("a template whose only actions are inside quoted strings (valid YAML) is still one", () => {
    const at = positionOf(text("helm-template/quoted-values.yaml"), "{{");
    expect(load(["helm-template/quoted-values.yaml"]).errors).toEqual([helm("helm-template/quoted-values.yaml", at.line, at.col, "{{ .Values.image.repository }}", "CHART")]);
  });

  it("the chart directory itself, or its Chart.yaml", () => {
    const chart = {
      file: "helm-template/podinfo/Chart.yaml",
      line: 0,
      col: 0,
      path: "",
      message: "a Helm chart's Chart.yaml, not a Kubernetes manifest: meshsim loads what kubectl apply -f loads and does not run Helm",
      expected: "the manifests Helm renders: run `helm template RELEASE helm-template/podinfo -f VALUES` and load its output",
    };
    expect(load(["helm-template/podinfo"])).toEqual({ objects: [], errors: [chart], warnings: [] });
    expect(load(["helm-template/podinfo/Chart.yaml"]).errors).toEqual([chart]);
  });

  it("Go templates carried as data in rendered manifests (Prometheus rules, Alertmanager templates) load", () => {
    const r = loadManifests(["go-template-data/prometheus-rule.yaml"], base, diskReader);
    expect(summary(r)).toEqual({
      objects: ["PrometheusRule monitoring/linkerd-proxy @ go-template-data/prometheus-rule.yaml:3:1", "ConfigMap monitoring/alertmanager-templates @ go-template-data/prometheus-rule.yaml:18:1"],
      errors: [],
      warnings: [],
    });
    const rules = (r.objects[0]?.raw["spec"] as { groups: Array<{ rules: Array<{ annotations: Record<string, string> }> }> }).groups[0]?.rules[0]?.annotations;
    expect(rules).toEqual({ summary: "High error rate on {{ $labels.deployment }}", description: "{{ $labels.deployment }} fails {{ $value | humanizePercentage }} of requests" });
  });

  it("finds an action where YAML structure would be, or naming a Helm built-in anywhere but a comment", () => {
    expect(helmActionOffset("a: {{ .x }}\n")).toBe(3);
    expect(helmActionOffset('a: "{{ $.Release.Name }}"\n')).toBe(4);
    expect(helmActionOffset("# {{ .Values.x }}\na: b\n")).toBeUndefined();
    expect(helmActionOffset("a: text {{ $labels.x }} more\nb: |\n  {{ define \"x\" }}{{ end }}\n")).toBeUndefined();
  });
});

describe("a JSON patch is skipped with a warning", () => {
  const warning = (file: string, line: number) => ({ file, line, col: 1, path: "", message: "a JSON patch, not an object: skipped; apply it with kubectl patch and load the result" });

  it("in YAML or JSON, among manifests that still load", () => {
    const yamlPatch = positionOf(text("json-patch/inject-annotation.yaml"), "- op: add");
    expect(load(["json-patch"])).toEqual({
      objects: ["Deployment shop/web @ json-patch/deployment.yaml:1:1"],
      errors: [],
      warnings: [warning("json-patch/inject-annotation.yaml", yamlPatch.line), warning("json-patch/retry-annotation.json", 1)],
    });
  });

  it("reaches the scenario loader's warnings", () => {
    const scenario = join(base, "patched.yaml");
    const yaml = `name: patched
seed: 1
duration: 5s
clusters:
  - name: c
    manifests: [json-patch]
    services:
      - {name: api, namespace: app}
      - {name: client, namespace: app}
traffic:
  - {name: calls, from: {namespace: app, deployment: client}, to: "http://api.app.svc.cluster.local/", rate: 5/s}
expect:
  - {name: all succeed, metric: successRate, where: {traffic: calls}, equals: 1}
`;
    const r = loadScenario(scenario, memoryReader({ ...filesBelow(join(base, "json-patch")), [scenario]: yaml }));
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    const yamlPatch = positionOf(text("json-patch/inject-annotation.yaml"), "- op: add");
    expect(r.warnings).toEqual(expect.arrayContaining([warning("json-patch/inject-annotation.yaml", yamlPatch.line), warning("json-patch/retry-annotation.json", 1)]));
  });

  it("is a non-empty list of RFC 6902 operations, nothing else", () => {
    expect(isJsonPatch([{ op: "remove", path: "/spec/replicas" }])).toBe(true);
    expect(isJsonPatch([])).toBe(false);
    expect(isJsonPatch([{ op: "merge", path: "/a" }])).toBe(false);
    expect(isJsonPatch([{ op: "add", path: "/a", value: 1 }, { apiVersion: "v1" }])).toBe(false);
  });
});

describe("JSON manifests", () => {
  it("kubectl get -o json output: a kind: List whose items keep their own positions", () => {
    const json = text("json-list/kubectl-get.json");
    const r = loadManifests(["json-list/kubectl-get.json"], base, diskReader);
    expect(r.errors).toEqual([]);
    const [svc, deploy] = r.objects;
    expect([svc?.kind, svc?.metadata.namespace, svc?.metadata.name, deploy?.kind, deploy?.metadata.name]).toEqual(["Service", "emojivoto", "voting", "Deployment", "voting"]);
    expect(svc?.metadata.annotations).toEqual({ "retry.linkerd.io/http": "5xx", "retry.linkerd.io/limit": "2" });
    expect(svc?.metadata.creationTimestamp).toBe("2024-09-03T10:15:27Z");
    const replicas = positionOf(json, '"replicas": 1');
    expect(deploy?.positionOf(["spec", "replicas"])).toEqual({ file: "json-list/kubectl-get.json", line: replicas.line, col: replicas.col + '"replicas": '.length });
  });

  it("tab-indented JSON with escaped slashes", () => {
    const r = loadManifests(["json-list/tab-indented.json"], base, diskReader);
    expect(r.errors).toEqual([]);
    expect(r.objects[0]?.raw["data"]).toEqual({ path: "/api/list", enabled: "true" });
  });
});

describe("the yaml package's warnings", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("an unknown tag is our warning, and the value is read as written, as Kubernetes reads it", () => {
    const at = positionOf(text("yaml-quirks/web.yaml"), "!vault");
    const r = loadManifests(["yaml-quirks/web.yaml"], base, diskReader);
    expect(r.errors).toEqual([]);
    expect(r.warnings).toEqual([{ file: "yaml-quirks/web.yaml", line: at.line, col: at.col, path: "", message: "unknown YAML tag !vault: ignored, as Kubernetes ignores it (a scalar is read as the string written)" }]);
    expect(r.objects[1]?.raw["data"]).toEqual({ password: "secret/data/web#password" });
  });

  it("merge keys are expanded, as go-yaml expands them", () => {
    const [deploy] = loadManifests(["yaml-quirks/web.yaml"], base, diskReader).objects;
    const template = (deploy?.raw["spec"] as { template: { metadata: { labels: unknown } }; selector: { matchLabels: unknown } });
    expect(template.template.metadata.labels).toEqual({ app: "web", team: "storefront", tier: "frontend" });
    expect(template.selector.matchLabels).toEqual({ app: "web", team: "storefront" });
  });

  it("a list or mapping as a key is an error, as for Kubernetes' decoder", () => {
    const doc = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: odd\ndata:\n  ? [a, b]\n  : c\n";
    expect(parseManifests(doc, "odd.yaml").errors).toEqual([
      { file: "odd.yaml", line: 6, col: 5, path: "data", message: "a list used as a mapping key: Kubernetes accepts only strings, numbers and booleans as keys", expected: "a scalar key" },
    ]);
  });

  it("nothing reaches the terminal: no console.warn, no process.emitWarning", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const emit = vi.spyOn(process, "emitWarning").mockImplementation(() => {});
    // Manifests: an unknown tag, merge keys, a collection as a key (which the yaml package warns about when converting).
    loadManifests(["yaml-quirks/web.yaml"], base, diskReader);
    parseManifests("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: odd\ndata:\n  ? {a: 1}\n  : c\n", "odd.yaml");
    parseManifests("a: !foo\n  ? [x]\n  : y\n", "odd.yaml");
    // A scenario with a collection as a key, and a --set value that is an unknown tag.
    const scenario = "/s/scenario.yaml";
    const reader: SourceReader = memoryReader({ [scenario]: "name: odd\n? [a]\n: b\n" });
    loadScenario(scenario, reader);
    loadScenario(scenario, memoryReader({ [scenario]: "name: p\nparams: {n: 1}\nseed: 1\nduration: 1s\n" }), { set: { n: "!foo 3" } });
    expect(warn).not.toHaveBeenCalled();
    expect(emit).not.toHaveBeenCalled();
  });
});
