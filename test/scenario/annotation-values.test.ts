// Label and annotation values are strings in the Kubernetes API: the API server refuses an object
// whose `retry.linkerd.io/limit` is the number 3. Such a value is an input error at the value,
// whether it was written in a manifest, inline in the scenario, or substituted from a number
// param; a param declared as text stays text through `--set` and `--vary`, so a sweep over an
// annotation really changes the annotation.

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { sweepCommand } from "../../src/cli/sweep-command.js";
import { parseManifests } from "../../src/k8s/load.js";
import type { SweepDoc } from "../../src/report/sweep.js";
import { loadScenario } from "../../src/scenario/load.js";
import { filesBelow, memoryReader, positionOf } from "./memory-reader.js";

const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), "../fixtures/real-shapes/numeric-annotation");
const FILE = "/s/scenario.yaml";

const NUMBER_REFUSED = "(cannot unmarshal number into Go struct field ObjectMeta.metadata.annotations of type string)";

/** One client calling api, whose HTTPRoute retries 5xx up to `limit` times; api fails half its requests. */
function limitScenario(params: string, limitValue: string): string {
  return `name: limits
seed: 5
duration: 20s
params: ${params}
clusters:
  - name: c
    services:
      - {name: api, namespace: app}
      - {name: client, namespace: app}
    objects:
      - apiVersion: gateway.networking.k8s.io/v1beta1
        kind: HTTPRoute
        metadata:
          name: api
          namespace: app
          annotations:
            retry.linkerd.io/http: 5xx
            retry.linkerd.io/limit: ${limitValue}
        spec:
          parentRefs: [{name: api, kind: Service, group: core, port: 80}]
          rules: [{matches: [{path: {type: PathPrefix, value: /}}]}]
behavior:
  - select: {deployment: api}
    errors: {rate: 0.5, status: 503}
traffic:
  - {name: calls, from: {namespace: app, deployment: client}, to: "http://api.app.svc.cluster.local/", rate: 50/s}
expect:
  - {name: some requests succeed, metric: successRate, where: {traffic: calls}, atLeast: 0.1}
`;
}

function routeAnnotations(r: ReturnType<typeof loadScenario>): Record<string, string> | undefined {
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join("\n"));
  return r.spec.clusters[0]?.objects.find((o) => o.kind === "HTTPRoute")?.metadata.annotations;
}

describe("a number where the API wants a string", () => {
  it("in a manifest: the scenario is refused at the value, as the API server refuses the object", () => {
    const files = filesBelow(FIXTURE);
    const manifest = files[join(FIXTURE, "web.yaml")] as string;
    const r = loadScenario(join(FIXTURE, "scenario.yaml"), memoryReader(files));
    expect(r.ok ? [] : r.errors).toEqual([
      {
        file: "web.yaml",
        ...positionOf(manifest, "3\n"),
        path: 'metadata.annotations["retry.linkerd.io/limit"]',
        message: `HTTPRoute shop/web-default: the annotation retry.linkerd.io/limit is the YAML number 3, not a string: the API server refuses the object ${NUMBER_REFUSED}`,
        expected: 'a string: quote it, "3"',
      },
    ]);
  });

  it("a boolean label and a list of annotations are refused the same way", () => {
    const text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  labels: {canary: true}\n  annotations: [x]\n";
    expect(parseManifests(text, "cm.yaml").errors).toEqual([
      {
        file: "cm.yaml",
        ...positionOf(text, "true"),
        path: "metadata.labels.canary",
        message: "ConfigMap a: the label canary is the YAML boolean true, not a string: the API server refuses the object (cannot unmarshal bool into Go struct field ObjectMeta.metadata.labels of type string)",
        expected: 'a string: quote it, "true"',
      },
      {
        file: "cm.yaml",
        ...positionOf(text, "annotations"),
        path: "metadata.annotations",
        message: "ConfigMap a: metadata.annotations is a list, not a mapping: the API server refuses the object (cannot unmarshal array into Go struct field ObjectMeta.metadata.annotations of type map[string]string)",
        expected: "a mapping of names to string values",
      },
    ]);
  });

  it("in a manifest's pod template: refused at load, where the run would have left the pods unmeshed", () => {
    const manifest = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: app}\nspec:\n  selector:\n    matchLabels: {app: api}\n  template:\n    metadata:\n      labels: {app: api}\n      annotations:\n        linkerd.io/inject: true\n";
    const yaml = `name: t\nseed: 1\nduration: 5s\nclusters:\n  - name: c\n    manifests: [api.yaml]\n`;
    const r = loadScenario(FILE, memoryReader({ [FILE]: yaml, "/s/api.yaml": manifest }));
    expect(r.ok ? [] : r.errors).toEqual([
      {
        file: "api.yaml",
        ...positionOf(manifest, "true"),
        path: 'spec.template.metadata.annotations["linkerd.io/inject"]',
        message:
          "Deployment app/api: the pod template annotation linkerd.io/inject is the YAML boolean true, not a string: the API server refuses the object (cannot unmarshal bool into Go struct field ObjectMeta.spec.template.metadata.annotations of type string)",
        expected: 'a string: quote it, "true"',
      },
    ]);
  });

  it("in a Service selector written inline: refused at the scenario's own line", () => {
    const yaml = "name: t\nseed: 1\nduration: 5s\nclusters:\n  - name: c\n    objects:\n      - {apiVersion: v1, kind: Service, metadata: {name: api}, spec: {selector: {version: 2}}}\n";
    const r = loadScenario(FILE, memoryReader({ [FILE]: yaml }));
    expect(r.ok ? [] : r.errors).toEqual([
      {
        file: "scenario.yaml",
        ...positionOf(yaml, "2}}"),
        path: "clusters[0].objects[0].spec.selector.version",
        message: "Service api: the selector value version is the YAML number 2, not a string: the API server refuses the object (cannot unmarshal number into Go struct field ServiceSpec.spec.selector of type string)",
        expected: 'a string: quote it, "2"',
      },
    ]);
  });

  it("inline in the scenario: refused at the scenario's own line", () => {
    const yaml = limitScenario("{}", "3");
    const r = loadScenario(FILE, memoryReader({ [FILE]: yaml }));
    expect(r.ok ? [] : r.errors).toEqual([
      {
        file: "scenario.yaml",
        ...positionOf(yaml, "3\n"),
        path: 'clusters[0].objects[0].metadata.annotations["retry.linkerd.io/limit"]',
        message: `HTTPRoute app/api: the annotation retry.linkerd.io/limit is the YAML number 3, not a string: the API server refuses the object ${NUMBER_REFUSED}`,
        expected: 'a string: quote it, "3"',
      },
    ]);
  });

  it("substituted from a number param: refused at the reference, saying to declare the param as text", () => {
    const yaml = limitScenario("{limit: 3}", '"${limit}"');
    const r = loadScenario(FILE, memoryReader({ [FILE]: yaml }));
    expect(r.ok ? [] : r.errors).toEqual([
      {
        file: "scenario.yaml",
        ...positionOf(yaml, '"${limit}"'),
        path: 'clusters[0].objects[0].metadata.annotations["retry.linkerd.io/limit"]',
        message: `HTTPRoute app/api: the annotation retry.linkerd.io/limit is the YAML number 3, not a string: the API server refuses the object ${NUMBER_REFUSED}; the value comes from \${limit}, which is not declared as a string`,
        expected: 'the param declared as a string: params: {limit: "3"}',
      },
    ]);
  });

  it("a param declared as text stays text under --set, so the annotation is the value given", () => {
    const yaml = limitScenario('{limit: "1"}', "${limit}");
    expect(routeAnnotations(loadScenario(FILE, memoryReader({ [FILE]: yaml }), { set: { limit: "3" } }))?.["retry.linkerd.io/limit"]).toBe("3");
  });
});

describe("meshsim sweep --vary over an annotation param", () => {
  const dir = mkdtempSync(join(tmpdir(), "meshsim-vary-"));

  async function sweep(yaml: string, vary: string): Promise<SweepDoc> {
    const file = join(dir, `s${Math.abs(hash(yaml + vary))}.yaml`);
    writeFileSync(file, yaml);
    const out: string[] = [];
    const err: string[] = [];
    await sweepCommand(file, { vary: [vary], workers: 1, json: true }, (s) => out.push(s), (s) => err.push(s));
    expect(err).toEqual([]);
    return JSON.parse(out.join("\n")) as SweepDoc;
  }

  it("each value reaches the annotation: retries per request follow f + f² + … up to the limit", async () => {
    const doc = await sweep(limitScenario('{limit: "1"}', "${limit}"), "limit=1,2,3");
    expect(doc.results.map((r) => r.error)).toEqual([undefined, undefined, undefined]);
    // With f = 0.5 a request is retried after each failed attempt, up to the limit: f, f + f²,
    // f + f² + f³ = 0.5, 0.75, 0.875 retries per request; 1 000 requests each keep every
    // ratio within ±0.05 of it (the standard deviation of each mean is under 0.03).
    const ratios = doc.results.map((r) => r.retryRatio as number);
    expect(ratios[0]).toBeGreaterThan(0.45);
    expect(ratios[0]).toBeLessThan(0.55);
    expect(ratios[1]).toBeGreaterThan(0.7);
    expect(ratios[1]).toBeLessThan(0.8);
    expect(ratios[2]).toBeGreaterThan(0.825);
    expect(ratios[2]).toBeLessThan(0.925);
  });

  it("a number param substituted into an annotation is refused before any point runs, at the reference", async () => {
    const yaml = limitScenario("{limit: 1}", '"${limit}"');
    const file = join(dir, "number-param.yaml");
    writeFileSync(file, yaml);
    const err: string[] = [];
    const code = await sweepCommand(file, { vary: ["limit=1,2"], workers: 1 }, () => undefined, (s) => err.push(s));
    const at = positionOf(yaml, '"${limit}"');
    expect(code).toBe(2);
    expect(err).toEqual([
      `${file}:${at.line}:${at.col}: clusters[0].objects[0].metadata.annotations["retry.linkerd.io/limit"]: HTTPRoute app/api: the annotation retry.linkerd.io/limit is the YAML number 1, not a string: the API server refuses the object ${NUMBER_REFUSED}; the value comes from \${limit}, which is not declared as a string (expected the param declared as a string: params: {limit: "1"})`,
    ]);
  });
});

function hash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i += 1) h = (h * 31 + s.charCodeAt(i)) | 0;
  return h;
}
