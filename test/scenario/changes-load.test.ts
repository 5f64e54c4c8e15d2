// The `changes:` section as input: each entry is checked by replaying the changes in order on a copy
// of the objects, and a change that cannot be made is an input error at the change (file:line:col,
// field path, what was expected, a near name); what the simulation cannot change while it runs is
// refused out loud; kubectl's `key-` removes; what `check` finds in a changed object is reported
// at the change; objects of kinds the simulation ignores are listed as not simulated.

import { describe, expect, it } from "vitest";
import { formatInputError, type InputError } from "../../src/k8s/input-error.js";
import { scenarioFindings } from "../../src/scenario/findings.js";
import { loadScenario, type LoadResult } from "../../src/scenario/load.js";
import { replayChanges } from "../../src/scenario/change-replay.js";
import { memoryReader, positionOf } from "./memory-reader.js";

const FILE = "/s/scenario.yaml";

function scenario(changes: string, extra = ""): string {
  return `name: c
seed: 1
duration: 1m
clusters:
  - name: shop
    services:
      - {name: web, namespace: shop, replicas: 2}
      - {name: loadgen, namespace: shop}
    objects:
      - apiVersion: policy.linkerd.io/v1beta3
        kind: Server
        metadata: {name: web-http, namespace: shop}
        spec: {podSelector: {matchLabels: {app: web}}, port: 80}
${extra}traffic:
  - {name: t, from: {namespace: shop, deployment: loadgen}, to: "http://web.shop.svc.cluster.local/", rate: 10/s}
changes:
${changes}`;
}

function load(text: string, files: Record<string, string> = {}): LoadResult {
  return loadScenario(FILE, memoryReader({ [FILE]: text, ...files }));
}

function errorsOf(text: string): InputError[] {
  const r = load(text);
  if (r.ok) throw new Error("the scenario loaded");
  return r.errors;
}

/** The one error, with the line and column of `needle` in the text. */
function expectOneErrorAt(text: string, needle: string, message: RegExp, nth = 0): InputError {
  const errors = errorsOf(text);
  expect(errors.map(formatInputError)).toHaveLength(1);
  const e = errors[0] as InputError;
  expect({ line: e.line, col: e.col }).toEqual(positionOf(text, needle, nth));
  expect(e.file).toBe("scenario.yaml");
  expect(e.message).toMatch(message);
  return e;
}

describe("changes that cannot be made", () => {
  it("an object that does not exist then, with the nearest name", () => {
    const text = scenario(`  - {at: 10s, annotate: {kind: Service, name: wbe, namespace: shop, set: {a: b}}}`);
    const e = expectOneErrorAt(text, "wbe", /there is no Service shop\/wbe at 10s/);
    expect(e.path).toBe("changes[0].annotate.name");
    expect(e.suggestion).toBe("web");
  });

  it("an object deleted by an earlier change, even when written later in the list", () => {
    const text = scenario(`  - {at: 20s, patch: {kind: Service, name: web, namespace: shop, merge: {metadata: {labels: {a: b}}}}}
  - {at: 10s, delete: {kind: Server, name: web-http, namespace: shop}}
  - {at: 30s, delete: {kind: Server, name: web-http, namespace: shop}}`);
    const e = expectOneErrorAt(text, "web-http", /there is no Server shop\/web-http at 30s/, 2);
    expect(e.path).toBe("changes[2].delete.name");
  });

  it("a namespace defaulted as kubectl defaults it", () => {
    expectOneErrorAt(scenario(`  - {at: 10s, delete: {kind: Service, name: web}}`), "web}}",  /there is no Service default\/web/, 1);
  });

  it("a change past the end of the run", () => {
    expectOneErrorAt(scenario(`  - {at: 2m, delete: {kind: Service, name: web, namespace: shop}}`), "2m", /never be applied/);
  });

  it("two kinds in one entry", () => {
    const errors = errorsOf(scenario(`  - {at: 1s, delete: {kind: Service, name: web, namespace: shop}, rolloutRestart: {deployment: web, namespace: shop}}`));
    expect(errors[0]?.message).toMatch(/a change does one thing; this one has delete and rolloutRestart/);
  });

  it("a change with no cluster in a scenario of two", () => {
    const text = scenario(`  - {at: 1s, delete: {kind: Server, name: web-http, namespace: shop}}`).replace("traffic:", "  - {name: other}\ntraffic:");
    expectOneErrorAt(text, "{at: 1s", /2 clusters: say which one/);
  });

  it("a patch the API server refuses: a Deployment's selector", () => {
    const text = scenario(`  - at: 10s
    patch: {kind: Deployment, name: web, namespace: shop, merge: {spec: {selector: {matchLabels: {app: other}}}}}`);
    const errors = errorsOf(text);
    expect(errors.some((e) => /spec\.selector is immutable/.test(e.message) && e.line === positionOf(text, "selector: {matchLabels: {app: other}}").line)).toBe(true);
  });

  it("a patch that renames the object", () => {
    expectOneErrorAt(scenario(`  - {at: 10s, patch: {kind: Service, name: web, namespace: shop, merge: {metadata: {name: web2}}}}`), "merge:", /cannot rename Service shop\/web/);
  });

  it("an annotation a merge patch sets to a number", () => {
    const text = scenario(`  - {at: 10s, patch: {kind: Service, name: web, namespace: shop, merge: {metadata: {annotations: {retry.linkerd.io/limit: 3}}}}}`);
    expectOneErrorAt(text, "3}}}}}", /annotation retry\.linkerd\.io\/limit is the YAML number 3, not a string/);
  });

  it("set image on a template with two containers and none named", () => {
    const text = scenario(`  - {at: 10s, setImage: {deployment: sidecar, namespace: shop, image: "x:2"}}`, `      - apiVersion: apps/v1
        kind: Deployment
        metadata: {name: sidecar, namespace: shop}
        spec:
          selector: {matchLabels: {app: sidecar}}
          template:
            metadata: {labels: {app: sidecar}}
            spec: {containers: [{name: a, image: "a:1"}, {name: b, image: "b:1"}]}
`);
    expectOneErrorAt(text, "setImage", /containers a, b: name the one to change/);
  });

  it("a behaviour selecting an image no selected pod ever runs", () => {
    const text = scenario(`  - {at: 10s, setImage: {deployment: web, namespace: shop, image: "web:v2"}}`, "").replace("traffic:", `behavior:\n  - {select: {deployment: web, image: "web:v3"}, latency: 1ms}\ntraffic:`);
    const e = expectOneErrorAt(text, '"web:v3"', /no pod this entry selects runs web:v3/);
    expect(e.suggestion).toBe("web:v2");
  });
});

describe("changes the simulation cannot act on, said out loud", () => {
  const cases: Array<[string, string, string, RegExp]> = [
    ["a Service's ports", `  - {at: 10s, patch: {kind: Service, name: web, namespace: shop, merge: {spec: {ports: [{port: 8080}]}}}}`, "ports:", /changing a Service's spec\.ports is not simulated/],
    ["a Service's export", `  - {at: 10s, label: {kind: Service, name: web, namespace: shop, set: {mirror.linkerd.io/exported: "true"}}}`, '"true"', /changing mirror\.linkerd\.io\/exported is not simulated/],
    ["a deleted Service", `  - {at: 10s, delete: {kind: Service, name: web, namespace: shop}}`, "{at: 10s", /deleting Service shop\/web is not simulated/],
  ];
  for (const [what, change, needle, message] of cases) it(what, () => expectOneErrorAt(scenario(change), needle, message));

  it("a change to a kind the simulation ignores is listed as not simulated, naming the change", () => {
    const r = load(scenario(`  - at: 10s
    apply:
      - apiVersion: policy.linkerd.io/v1alpha1
        kind: AuthorizationPolicy
        metadata: {name: web-authz, namespace: shop}
        spec: {targetRef: {group: policy.linkerd.io, kind: Server, name: web-http}, requiredAuthenticationRefs: []}`));
    if (!r.ok) throw new Error(r.errors.map(formatInputError).join("\n"));
    const authz = scenarioFindings(r.spec).notSimulated.entries.find((e) => e.kind === "AuthorizationPolicy");
    expect(authz?.objects).toEqual(["AuthorizationPolicy shop/web-authz (changes[0], at 10s)"]);
  });
});

describe("what a change writes", () => {
  it("kubectl's key- removes a label, and a number is set as its text", () => {
    const r = load(scenario(`  - {at: 10s, label: {kind: Service, name: web, namespace: shop, set: {"app-": , tier: 3}}}`));
    if (!r.ok) throw new Error(r.errors.map(formatInputError).join("\n"));
    const after = replayChanges(r.spec)[0]?.writes[0]?.next;
    expect(after?.metadata.labels).toEqual({ tier: "3" });
    expect((after?.raw["metadata"] as { labels: unknown }).labels).toEqual({ tier: "3" });
  });

  it("a merge patch's null deletes and its list replaces", () => {
    const r = load(scenario(`  - {at: 10s, patch: {kind: Server, name: web-http, namespace: shop, merge: {spec: {podSelector: null, port: 8080, proxyProtocol: HTTP/2}}}}`));
    if (!r.ok) throw new Error(r.errors.map(formatInputError).join("\n"));
    expect(replayChanges(r.spec)[0]?.writes[0]?.next?.raw["spec"]).toEqual({ port: 8080, proxyProtocol: "HTTP/2" });
  });

  it("files an apply names are read inside the scenario's tree, and not outside it", () => {
    const split = "apiVersion: split.smi-spec.io/v1alpha2\nkind: TrafficSplit\nmetadata: {name: s, namespace: shop}\nspec: {service: web, backends: [{service: web, weight: 1}]}\n";
    const ok = load(scenario(`  - {at: 10s, apply: [split.yaml]}`), { "/s/split.yaml": split });
    expect(ok.ok && ok.spec.changes?.[0]?.action.kind === "apply" && ok.spec.changes[0].action.objects.map((o) => o.metadata.name)).toEqual(["s"]);
    const outside = load(scenario(`  - {at: 10s, apply: [../elsewhere/split.yaml]}`), { "/elsewhere/split.yaml": split });
    expect(outside.ok).toBe(false);
  });

  it("check reports what a change brings in, at the change, saying which one", () => {
    const text = scenario(`  - {at: 10s, annotate: {kind: Service, name: web, namespace: shop, set: {retry.linkerd.io/http: "500, 503"}}}`);
    const r = load(text);
    if (!r.ok) throw new Error(r.errors.map(formatInputError).join("\n"));
    const found = scenarioFindings(r.spec).diagnostics.filter((d) => d.message.startsWith("from changes[0] at 10s on"));
    expect(found.length).toBeGreaterThan(0);
    expect(found.every((d) => d.source?.line === positionOf(text, '"500, 503"').line)).toBe(true);
  });
});
