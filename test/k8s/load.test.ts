import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { type InputError, InputErrors, formatInputError, formatPath, parseFieldPath } from "../../src/k8s/input-error.js";
import { type SourceReader, loadManifests, parseManifests } from "../../src/k8s/load.js";
import { editDistance, suggest } from "../../src/k8s/suggest.js";

const fixtures = join(dirname(fileURLToPath(import.meta.url)), "..", "fixtures", "k8s");
const fixture = (name: string): string => readFileSync(join(fixtures, name), "utf8");

/** 1-based line and column of the first occurrence of `needle` (column of its first character). */
function locate(text: string, needle: string): { line: number; col: number } {
  const at = text.indexOf(needle);
  if (at < 0) throw new Error(`fixture has no ${needle}`);
  const before = text.slice(0, at).split("\n");
  return { line: before.length, col: (before[before.length - 1] ?? "").length + 1 };
}

/** A file system in a Map; `*` stays inside a directory, `**` crosses them. */
function memoryReader(files: Record<string, string>): SourceReader & { reads: string[] } {
  const reads: string[] = [];
  const toRegex = (pattern: string): RegExp =>
    new RegExp(`^${pattern.replace(/[.+^${}()|\\]/g, "\\$&").replace(/\*\*\//g, "\u0000").replace(/\*/g, "[^/]*").replace(/\?/g, "[^/]").replace(/\u0000/g, "(?:.*/)?")}$`);
  return {
    reads,
    read(path) {
      reads.push(path);
      const text = files[path];
      if (text === undefined) throw new Error(`ENOENT: ${path}`);
      return text;
    },
    glob(pattern, baseDir) {
      const re = toRegex(`${baseDir}/${pattern}`);
      return Object.keys(files).filter((f) => re.test(f)).sort();
    },
    filesInDirectory(path, baseDir) {
      const dir = path.startsWith("/") ? path : `${baseDir}/${path}`;
      const below = Object.keys(files).filter((f) => f.startsWith(`${dir}/`));
      return below.length === 0 ? undefined : below.filter((f) => !f.slice(dir.length + 1).includes("/")).sort();
    },
  };
}

describe("formatInputError", () => {
  it("prints file:line:col, the path, the message, what was expected and a suggestion on one line", () => {
    const e: InputError = { file: "scenario.yaml", line: 12, col: 7, path: "behavior[0].latency.p99", message: "unknown key", expected: "one of median, p95", suggestion: "p95" };
    expect(formatInputError(e)).toBe('scenario.yaml:12:7: behavior[0].latency.p99: unknown key (expected one of median, p95) — did you mean "p95"?');
  });

  it("leaves out what is unknown: no line, no path, no expectation", () => {
    expect(formatInputError({ file: "a.yaml", line: 0, col: 0, path: "", message: "cannot read" })).toBe("a.yaml: cannot read");
  });

  it("InputErrors carries the batch and prints every error, one per line", () => {
    const errs = new InputErrors([
      { file: "a.yaml", line: 1, col: 2, path: "x", message: "bad" },
      { file: "b.yaml", line: 3, col: 4, path: "y", message: "worse" },
    ]);
    expect(errs.errors).toHaveLength(2);
    expect(errs.message).toBe("a.yaml:1:2: x: bad\nb.yaml:3:4: y: worse");
    expect(errs).toBeInstanceOf(Error);
  });
});

describe("field paths", () => {
  it.each([
    [["spec", "routes", 0, "timeout"], "spec.routes[0].timeout"],
    [["metadata", "annotations", "retry.linkerd.io/http"], 'metadata.annotations["retry.linkerd.io/http"]'],
    [["items", 2, "metadata", "name"], "items[2].metadata.name"],
  ] as const)("%j is written %s and read back", (path, text) => {
    expect(formatPath(path)).toBe(text);
    expect(parseFieldPath(text)).toEqual(path);
  });

  it("an index written [] (any element) ends the path at the list", () => {
    expect(parseFieldPath("spec.rules[].backendRefs")).toEqual(["spec", "rules"]);
  });
});

describe("suggest", () => {
  it.each([
    ["kitten", "sitting", 3],
    ["latnecy", "latency", 1],
    ["", "abc", 3],
    ["same", "same", 0],
  ])("the distance from %s to %s is %i (a swap of neighbours counts once)", (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
    expect(editDistance(b, a)).toBe(d);
  });

  it.each([
    ["p98", ["p50", "p95", "p99"], "p95"],
    ["lantecy", ["latency", "queueLimit"], "latency"],
    ["concurency", ["concurrency", "calls"], "concurrency"],
    ["xyz", ["latency", "errors"], undefined],
    ["seviceAccount", ["serviceAccountName"], undefined],
    ["serviceAcountNme", ["serviceAccountName"], "serviceAccountName"],
  ] as const)("%s ⇒ %s", (word, candidates, expected) => {
    expect(suggest(word, candidates)).toBe(expected);
  });

  it("a suggestion is never further than 2 edits or a third of the word's length", () => {
    // 12 letters allow 4 edits; 5 are too many.
    expect(suggest("abcdefghijkl", ["abcdefghwxyz"])).toBe("abcdefghwxyz");
    expect(suggest("abcdefghijkl", ["abcdefgvwxyz"])).toBeUndefined();
  });
});

describe("parseManifests", () => {
  const payments = fixture("payments.yaml");

  it("reads every non-empty document of a multi-document file, in order", () => {
    const { objects, errors } = parseManifests(payments, "payments.yaml");
    expect(errors).toEqual([]);
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(["Namespace/payments", "Deployment/auth", "Service/auth"]);
  });

  it("places each object at its first line and each field at its value", () => {
    const [ns, deploy] = parseManifests(payments, "payments.yaml").objects;
    expect(ns?.source).toEqual({ file: "payments.yaml", ...locate(payments, "apiVersion: v1\nkind: Namespace") });
    expect(deploy?.source).toEqual({ file: "payments.yaml", ...locate(payments, "apiVersion: apps/v1") });
    const replicas = locate(payments, "replicas: 3");
    expect(deploy?.positionOf(["spec", "replicas"])).toEqual({ file: "payments.yaml", line: replicas.line, col: replicas.col + "replicas: ".length });
  });

  it("a map-valued field is placed at its key, a list item at its first key", () => {
    const deploy = parseManifests(payments, "payments.yaml").objects[1];
    expect(deploy?.positionOf(["spec", "template"])).toMatchObject(locate(payments, "template:"));
    expect(deploy?.positionOf(["spec", "template", "spec", "containers", 0])).toMatchObject(locate(payments, "name: auth\n          image"));
  });

  it("a field that is not written falls back to its nearest written ancestor", () => {
    const deploy = parseManifests(payments, "payments.yaml").objects[1];
    const container = locate(payments, "name: auth\n          image");
    expect(deploy?.positionOf(["spec", "template", "spec", "containers", 0, "resources", "limits"])).toMatchObject(container);
    expect(deploy?.positionOf(["spec", "template", "spec", "containers", 5])).toMatchObject(locate(payments, "containers:"));
  });

  it("namespaced kinds default to namespace default; cluster-scoped kinds have none", () => {
    const text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: b, namespace: x}\n";
    const [cm, role] = parseManifests(text, "x.yaml").objects;
    expect(cm?.metadata.namespace).toBe("default");
    expect(role?.metadata.namespace).toBeUndefined();
  });

  it("expands kind: List from kubectl get -o yaml, each item with its own position, status and managedFields kept", () => {
    const text = fixture("kubectl-get-list.yaml");
    const { objects, errors } = parseManifests(text, "list.yaml");
    expect(errors).toEqual([]);
    expect(objects.map((o) => `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`)).toEqual(["Service shop/web", "Deployment shop/web"]);
    expect(objects[0]?.source).toMatchObject(locate(text, "apiVersion: v1\n    kind: Service"));
    expect(objects[1]?.source).toMatchObject(locate(text, "apiVersion: apps/v1"));
    expect(objects[0]?.raw["status"]).toEqual({ loadBalancer: {} });
    expect(objects[0]?.metadata.creationTimestamp).toBe("2024-05-01T10:00:00Z");
    const managed = (objects[0]?.raw["metadata"] as { managedFields: Array<{ time: unknown }> }).managedFields;
    expect(managed[0]?.time).toBe("2024-05-01T10:00:00Z"); // an unquoted timestamp stays text, as Kubernetes reads it
    const replicas = locate(text, "replicas: 2\n      selector");
    expect(objects[1]?.positionOf(["spec", "replicas"])).toMatchObject({ line: replicas.line, col: replicas.col + "replicas: ".length });
  });

  it("items of a typed list take kind and apiVersion from the list", () => {
    const text = "apiVersion: v1\nkind: ServiceList\nitems:\n  - metadata: {name: a, namespace: shop}\n  - metadata: {name: b, namespace: shop}\n";
    const { objects } = parseManifests(text, "x.yaml");
    expect(objects.map((o) => [o.apiVersion, o.kind, o.metadata.name])).toEqual([["v1", "Service", "a"], ["v1", "Service", "b"]]);
  });

  it("reads YAML as Kubernetes does: yes is a boolean, 0755 octal, 1:30 a string", () => {
    const text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  annotations:\n    ok: \"yes\"\ndata: {mode: 0755, time: 1:30, on: yes}\n";
    const [cm] = parseManifests(text, "x.yaml").objects;
    expect(cm?.raw["data"]).toEqual({ mode: 493, time: "1:30", true: true });
    expect(cm?.metadata.annotations).toEqual({ ok: "yes" });
  });

  it("refuses an object whose annotation is the YAML 1.1 boolean yes, as the API server does", () => {
    const text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  annotations:\n    linkerd.io/inject: yes\n";
    expect(parseManifests(text, "x.yaml")).toMatchObject({
      objects: [],
      errors: [{ file: "x.yaml", line: 6, col: 24, path: 'metadata.annotations["linkerd.io/inject"]', message: "ConfigMap a: the annotation linkerd.io/inject is the YAML boolean true, not a string: the API server refuses the object (cannot unmarshal bool into Go struct field ObjectMeta.metadata.annotations of type string)", expected: 'a string: quote it, "true"' }],
    });
  });

  it("skips empty documents and comment-only documents", () => {
    expect(parseManifests("---\n---\n# nothing\n---\n~\n", "x.yaml")).toEqual({ objects: [], errors: [], warnings: [] });
  });
});

describe("parseManifests errors", () => {
  const one = (text: string): InputError => {
    const { errors } = parseManifests(text, "bad.yaml");
    expect(errors).toHaveLength(1);
    return errors[0] as InputError;
  };

  it("a YAML syntax error names line and column, and the other documents still load", () => {
    const text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\nmetadata:\n  name: [b\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n";
    const { objects, errors } = parseManifests(text, "bad.yaml");
    expect(objects.map((o) => o.metadata.name)).toEqual(["a", "c"]);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.message).toMatch(/^YAML syntax error/);
    expect(errors[0]?.line).toBeGreaterThanOrEqual(6);
    expect(errors[0]?.line).toBeLessThanOrEqual(7);
  });

  it.each([
    ["apiVersion", "kind: ConfigMap\nmetadata: {name: a}\n", "apiVersion", 1],
    ["kind", "apiVersion: v1\nmetadata: {name: a}\n", "kind", 1],
    ["metadata", "apiVersion: v1\nkind: ConfigMap\n", "metadata", 1],
    ["metadata.name", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  labels: {a: b}\n", "metadata.name", 3],
  ])("a document without %s is an error at that path", (_what, text, path, line) => {
    const e = one(text);
    expect(e).toMatchObject({ file: "bad.yaml", path, line });
    expect(e.expected).toBeDefined();
  });

  it("a List item without a name is an error at items[i].metadata.name; the other items load", () => {
    const text = "apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata: {name: a}\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata: {}\n";
    const { objects, errors } = parseManifests(text, "bad.yaml");
    expect(objects).toHaveLength(1);
    expect(errors.map((e) => [e.path, e.line])).toEqual([["items[1].metadata.name", 9]]);
  });

  it("a namespace YAML 1.1 reads as a boolean (n, no, off) is an error that says so", () => {
    const e = one("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: no\n");
    expect(e).toMatchObject({ path: "metadata.namespace", line: 5, col: 14 });
    expect(e.message).toMatch(/boolean false.*YAML 1\.1/);
  });

  it("a document that is not a mapping is an error", () => {
    expect(one("- a\n- b\n").message).toMatch(/must be a mapping/);
  });

  it.each(["__proto__", "constructor", "prototype"])("the key %s is refused wherever it appears, with its path", (key) => {
    const text = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  inner:\n    ${key}: {polluted: true}\n`;
    const e = one(text);
    expect(e.path).toBe(`data.inner.${key}`);
    expect(e.line).toBe(7);
    expect(e.col).toBe(5);
  });

  it("an alias bomb is refused instead of expanded", () => {
    const rows = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 8; i += 1) rows.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(",")}]`);
    const text = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n${rows.map((r) => `  ${r}`).join("\n")}\n`;
    expect(one(text).message).toMatch(/at most 100 alias/);
  });

  it("a few aliases are fine", () => {
    const text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, labels: &l {app: x}}\ndata: {copy: *l}\n";
    expect(parseManifests(text, "x.yaml").objects[0]?.raw["data"]).toEqual({ copy: { app: "x" } });
  });
});

describe("loadManifests", () => {
  const base = "/scn";
  const cm = (name: string, ns = "team"): string => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${name}, namespace: ${ns}}\n`;
  const files = {
    "/scn/manifests/common/b.yaml": cm("b"),
    "/scn/manifests/common/a.yaml": `${cm("a1")}---\n${cm("a2")}`,
    "/scn/manifests/east/z.yaml": cm("z"),
    "/scn/other/readme.txt": "not yaml",
  };

  it("loads objects in pattern order, then file order, then document order", () => {
    const r = loadManifests(["manifests/east/*.yaml", "manifests/common/*.yaml"], base, memoryReader(files));
    expect(r.errors).toEqual([]);
    expect(r.objects.map((o) => o.metadata.name)).toEqual(["z", "a1", "a2", "b"]);
  });

  it("names files relative to the base directory", () => {
    const r = loadManifests(["manifests/east/z.yaml"], base, memoryReader(files));
    expect(r.objects[0]?.source).toEqual({ file: "manifests/east/z.yaml", line: 1, col: 1 });
  });

  it("loads a file matched by two patterns once, at its first match", () => {
    const reader = memoryReader(files);
    const r = loadManifests(["manifests/common/a.yaml", "manifests/**/*.yaml"], base, reader);
    expect(r.objects.map((o) => o.metadata.name)).toEqual(["a1", "a2", "b", "z"]);
    expect(reader.reads.filter((f) => f.endsWith("a.yaml"))).toHaveLength(1);
  });

  it.each([
    ["a misspelt directory", "manifests/comon/*.yaml", "manifests/common/*.yaml"],
    ["the other YAML extension", "manifests/common/*.yml", "manifests/common/*.yaml"],
    ["a misspelt file", "manifests/east/y.yaml", "manifests/east/z.yaml"],
    ["nothing close", "elsewhere/*.json", undefined],
  ])("a pattern that matches nothing is an error, with a suggestion for %s", (_case, pattern, suggestion) => {
    const r = loadManifests([pattern], base, memoryReader(files), (i) => ({ file: "scenario.yaml", line: 7, col: 9, path: `clusters[0].manifests[${i}]` }));
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatchObject({ file: "scenario.yaml", line: 7, col: 9, path: "clusters[0].manifests[0]" });
    expect(r.errors[0]?.message).toContain(pattern);
    expect(r.errors[0]?.suggestion).toBe(suggestion);
  });

  it("a file that cannot be read is an error naming it, not a crash", () => {
    const reader = memoryReader(files);
    const broken: SourceReader = { glob: reader.glob, filesInDirectory: reader.filesInDirectory, read: () => { throw new Error("EACCES: permission denied"); } };
    const r = loadManifests(["manifests/east/*.yaml"], base, broken);
    expect(r.errors).toEqual([{ file: "manifests/east/z.yaml", line: 0, col: 0, path: "", message: "cannot read: EACCES: permission denied" }]);
  });

  it("errors inside files carry the file's name and position", () => {
    const r = loadManifests(["bad.yaml"], base, memoryReader({ "/scn/bad.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n" }));
    expect(formatInputError(r.errors[0] as InputError)).toMatch(/^bad\.yaml:3:\d+: metadata\.name: /);
  });
});
