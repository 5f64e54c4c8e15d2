import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { type PositionedDiagnostic, checkObjects, sortDiagnostics } from "../../src/k8s/check.js";
import { parseManifests } from "../../src/k8s/load.js";
import type { K8sObject } from "../../src/k8s/object.js";

const fixtures = join(dirname(fileURLToPath(import.meta.url)), "..", "fixtures", "k8s");
const fixture = (name: string): string => readFileSync(join(fixtures, name), "utf8");

function load(text: string, file: string): K8sObject[] {
  const { objects, errors } = parseManifests(text, file);
  expect(errors).toEqual([]);
  return objects;
}
const check = (text: string, file = "t.yaml"): PositionedDiagnostic[] => checkObjects(load(text, file));
const codes = (diags: readonly PositionedDiagnostic[]): string[] => diags.map((d) => d.code);

/** 1-based line and column of `needle` in `text`, plus `skip` characters. */
function locate(text: string, needle: string, skip = 0): { line: number; col: number } {
  const at = text.indexOf(needle);
  if (at < 0) throw new Error(`no ${needle}`);
  const before = text.slice(0, at).split("\n");
  return { line: before.length, col: (before[before.length - 1] ?? "").length + 1 + skip };
}

const svc = (name: string, ns: string, annotations = ""): string =>
  `apiVersion: v1\nkind: Service\nmetadata:\n  name: ${name}\n  namespace: ${ns}\n${annotations === "" ? "" : `  annotations:\n${annotations}`}spec:\n  selector: {app: ${name}}\n  ports: [{port: 80}]\n`;
const httpRoute = (name: string, ns: string, parent: string, annotations = ""): string =>
  `apiVersion: policy.linkerd.io/v1beta3\nkind: HTTPRoute\nmetadata:\n  name: ${name}\n  namespace: ${ns}\n${annotations === "" ? "" : `  annotations:\n${annotations}`}spec:\n  parentRefs: [{name: ${parent}, kind: Service, group: core, port: 80}]\n`;
const profileWithRoute = (fqdn: string, ns: string): string =>
  `apiVersion: linkerd.io/v1alpha2\nkind: ServiceProfile\nmetadata: {name: ${fqdn}, namespace: ${ns}}\nspec:\n  routes: [{name: all, condition: {pathRegex: "/.*"}}]\n`;
const docs = (...parts: string[]): string => parts.join("---\n");

describe("checkObjects: retry annotations", () => {
  const text = fixture("retry-space.yaml");
  const diags = checkObjects(load(text, "retry-space.yaml"));

  it('`retry.linkerd.io/http: "500, 503"` on an HTTPRoute is an error: the whole annotation set, and the route with it, is rejected', () => {
    expect(codes(diags)).toEqual(["retry-http-invalid"]);
    const [d] = diags;
    expect(d).toMatchObject({ severity: "error", object: "HTTPRoute shop/orders-get", field: 'metadata.annotations["retry.linkerd.io/http"]' });
    expect(d?.message).toContain("500, 503");
    expect(d?.message).toMatch(/whitespace/);
    expect(d?.message).toMatch(/rejects the whole route/);
  });

  it("points at the annotation's value in the file", () => {
    expect(diags[0]?.source).toEqual({ file: "retry-space.yaml", ...locate(text, 'retry.linkerd.io/http: "500, 503"', "retry.linkerd.io/http: ".length) });
  });

  it("on a Service the same value drops the Service's HTTP retry annotations", () => {
    const d = check(svc("orders", "shop", '    retry.linkerd.io/http: "500, 503"\n'));
    expect(codes(d)).toEqual(["retry-http-invalid"]);
    expect(d[0]?.message).toMatch(/drops this Service's HTTP retry annotations/);
  });

  it("a Service's gRPC retry group without codes is mentioned only when a GRPCRoute attaches", () => {
    const annotations = '    retry.linkerd.io/http: 5xx\n    retry.linkerd.io/limit: "2"\n';
    expect(check(svc("web", "shop", annotations))).toEqual([]);
    const grpc = "apiVersion: gateway.networking.k8s.io/v1\nkind: GRPCRoute\nmetadata: {name: g, namespace: shop}\nspec:\n  parentRefs: [{name: web, kind: Service, group: core, port: 80}]\n";
    expect(codes(check(docs(svc("web", "shop", annotations), grpc)))).toEqual(["retry-nothing-retryable"]);
  });

  it("failure-accrual annotations on a route are pointed out: Linkerd reads them only on Services", () => {
    const d = check(docs(svc("web", "shop"), httpRoute("r", "shop", "web", "    balancer.linkerd.io/failure-accrual: consecutive\n")));
    expect(codes(d)).toEqual(["failure-accrual-on-route"]);
  });
});

describe("checkObjects: ServiceProfile vs client policy", () => {
  it("a ServiceProfile with routes silences the HTTPRoute and its retry annotations, with a warning on the route", () => {
    const text = fixture("profile-overrides-route.yaml");
    const diags = checkObjects(load(text, "sp.yaml"));
    expect(codes(diags)).toEqual(["profile-overrides-httproute"]);
    expect(diags[0]).toMatchObject({ severity: "warning", object: "HTTPRoute shop/web-items" });
    expect(diags[0]?.message).toContain("retry.linkerd.io/http, retry.linkerd.io/limit");
    expect(diags[0]?.message).toContain("ignored");
    expect(diags[0]?.source).toEqual({ file: "sp.yaml", ...locate(text, "parentRefs:") });
  });

  it("and the Service's own retry annotations, with a warning on the Service's annotations", () => {
    const text = docs(svc("web", "shop", "    retry.linkerd.io/http: 5xx\n"), profileWithRoute("web.shop.svc.cluster.local", "shop"));
    const diags = check(text);
    expect(codes(diags)).toEqual(["profile-overrides-service-annotations"]);
    expect(diags[0]?.source).toMatchObject(locate(text, "annotations:"));
  });

  it("a ServiceProfile retryBudget with ttl 100s means no retries", () => {
    const text = fixture("profile-budget-ttl.yaml");
    const diags = checkObjects(load(text, "budget.yaml"));
    const budget = diags.filter((d) => d.code === "profile-retry-budget-invalid");
    expect(budget).toHaveLength(1);
    expect(budget[0]?.severity).toBe("error");
    expect(budget[0]?.message).toMatch(/100s/);
    expect(budget[0]?.message).toMatch(/no retries/);
    expect(budget[0]?.source).toMatchObject(locate(text, "retryBudget:"));
  });

  it("the cluster domain decides which ServiceProfile names are valid", () => {
    const text = docs(svc("web", "shop"), "apiVersion: linkerd.io/v1alpha2\nkind: ServiceProfile\nmetadata: {name: web.shop.svc.example.org, namespace: shop}\nspec: {}\n");
    expect(codes(check(text))).toEqual(["profile-name-not-fqdn"]);
    expect(checkObjects(load(text, "t.yaml"), { clusterDomain: "example.org" })).toEqual([]);
  });
});

describe("checkObjects: references to Services", () => {
  const text = fixture("dangling-references.yaml");
  const diags = checkObjects(load(text, "refs.yaml"));
  const byCode = (code: string): PositionedDiagnostic | undefined => diags.find((d) => d.code === code);

  it.each([
    ["an HTTPRoute backendRef", "route-backend-service-not-found", "spec.rules[0].backendRefs[1]", "name: cart-v2"],
    ["a TrafficSplit backend", "split-backend-service-not-found", "spec.backends[1].service", "cart-v3"],
    ["a ServiceProfile's Service", "profile-service-not-found", "metadata.name", "ghost.shop.svc.cluster.local"],
  ])("%s naming a Service that does not exist is a warning at the reference", (_what, code, field, needle) => {
    const d = byCode(code);
    expect(d).toMatchObject({ severity: "warning", field });
    expect(d?.source).toMatchObject(locate(text, needle));
  });

  it("a ServiceProfile not named <svc>.<ns>.svc.<domain> is reported as never applying", () => {
    expect(byCode("profile-name-not-fqdn")?.message).toMatch(/never applies/);
  });

  it("a TrafficSplit's dstOverrides make the ServiceProfile stack win: the HTTPRoute is ignored, and the message names the split", () => {
    const d = byCode("profile-overrides-httproute");
    expect(d?.object).toBe("HTTPRoute shop/cart-canary");
    expect(d?.message).toContain("created by the SMI adaptor from TrafficSplit shop/cart-split");
  });

  it("an HTTPRoute whose parent Service does not exist attaches to nothing", () => {
    expect(codes(check(httpRoute("r", "shop", "nowhere")))).toContain("route-parent-service-not-found");
  });

  it("two TrafficSplits for one apex fight over the same ServiceProfile", () => {
    const split = (name: string): string => `apiVersion: split.smi-spec.io/v1alpha2\nkind: TrafficSplit\nmetadata: {name: ${name}, namespace: shop}\nspec:\n  service: web\n  backends: [{service: web, weight: 1}]\n`;
    expect(codes(check(docs(svc("web", "shop"), split("a"), split("b"))))).toContain("split-apex-conflict");
  });
});

describe("checkObjects: a failover TrafficSplit", () => {
  const split = (primary: string, labelled = true): string =>
    `apiVersion: split.smi-spec.io/v1alpha2\nkind: TrafficSplit\nmetadata:\n  name: web\n  namespace: shop\n` +
    `  annotations: {failover.linkerd.io/primary-service: ${primary}}\n` +
    (labelled ? "  labels: {failover.linkerd.io/controlled-by: linkerd-failover}\n" : "") +
    "spec:\n  service: web\n  backends:\n  - {service: web, weight: 1}\n  - {service: web-remote, weight: 0}\n";
  const objects = (primary: string, labelled = true): string => docs(svc("web", "shop"), svc("web-remote", "shop"), svc("web-other", "shop"), split(primary, labelled));

  it("whose primary is not among its backends is a warning at the annotation, saying what the operator does", () => {
    const text = objects("web-other");
    const d = check(text).find((x) => x.code === "failover-primary-not-a-backend");
    expect(d).toMatchObject({ severity: "warning", field: 'metadata.annotations["failover.linkerd.io/primary-service"]' });
    expect(d?.message).toMatch(/sets every listed backend's weight to 0/);
    expect(d?.source).toMatchObject(locate(text, "primary-service: web-other", "primary-service: ".length));
  });

  it("is quiet when the primary is a backend, or when the operator does not watch the split", () => {
    expect(codes(check(objects("web")))).not.toContain("failover-primary-not-a-backend");
    expect(codes(check(objects("web-other", false)))).not.toContain("failover-primary-not-a-backend");
  });
});

describe("checkObjects: meshing", () => {
  const text = fixture("unmeshed-backend.yaml");

  it("a Deployment that is not meshed while Linkerd config targets its Service: traffic to it is not mTLS", () => {
    const diags = checkObjects(load(text, "unmeshed.yaml"));
    expect(codes(diags)).toEqual(["workload-not-meshed"]);
    expect(diags[0]).toMatchObject({ severity: "warning", object: "Deployment billing/billing" });
    expect(diags[0]?.message).toMatch(/not mTLS/);
    expect(diags[0]?.message).toContain("HTTPRoute billing/billing");
  });

  it("no warning once the namespace opts in", () => {
    const meshed = text.replace("  name: billing\n---", "  name: billing\n  annotations: {linkerd.io/inject: enabled}\n---");
    expect(meshed).not.toBe(text);
    expect(check(meshed)).toEqual([]);
  });

  it("an unknown inject value is pointed out: the injector does not inject", () => {
    const ns = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  annotations: {linkerd.io/inject: \"true\"}\n";
    expect(codes(check(ns))).toEqual(["inject-value-unknown"]);
  });
});

describe("checkObjects: the objects themselves", () => {
  it("a correctly configured set of objects yields nothing", () => {
    const objects = [...load(fixture("payments.yaml"), "payments.yaml"), ...load(fixture("kubectl-get-list.yaml"), "list.yaml")];
    expect(checkObjects(objects)).toEqual([]);
  });

  it("a wrong type in a field the simulator reads is an error at the field", () => {
    const text = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: shop}\nspec:\n  replicas: three\n";
    const diags = check(text);
    expect(codes(diags)).toEqual(["field-type-invalid"]);
    expect(diags[0]).toMatchObject({ severity: "error", field: "spec.replicas", source: { file: "t.yaml", line: 5, col: 13 } });
  });

  it("an object defined twice is a warning at the second definition", () => {
    const diags = check(docs(svc("web", "shop"), svc("web", "shop")));
    expect(codes(diags)).toEqual(["duplicate-object"]);
    expect(diags[0]?.message).toContain("t.yaml:1:1");
    expect(diags[0]?.source?.line).toBeGreaterThan(1);
  });

  it("only the last definition of an object is checked, as only it ends up in the cluster", () => {
    const diags = check(docs(svc("web", "shop", '    retry.linkerd.io/http: "500, 503"\n'), svc("web", "shop")));
    expect(codes(diags)).toEqual(["duplicate-object"]);
  });

  it("a Link missing its fields is reported as the service mirror would fail on it", () => {
    const link = "apiVersion: multicluster.linkerd.io/v1alpha1\nkind: Link\nmetadata: {name: west, namespace: linkerd-multicluster}\nspec: {targetClusterName: west}\n";
    const diags = check(link);
    expect(diags.filter((d) => d.code === "link-field-missing").map((d) => d.field)).toContain("spec.gatewayAddress");
    expect(diags.every((d) => d.object === "Link linkerd-multicluster/west" && d.source?.line === 4)).toBe(true);
  });
});

describe("checkObjects: order", () => {
  const all = ["dangling-references.yaml", "profile-overrides-route.yaml", "retry-space.yaml", "unmeshed-backend.yaml", "profile-budget-ttl.yaml"]
    .flatMap((f) => load(fixture(f), f));

  it("is sorted by file, line, column and code", () => {
    const diags = checkObjects(all);
    const key = (d: PositionedDiagnostic): string => `${d.source?.file}|${String(d.source?.line).padStart(6, "0")}|${String(d.source?.col).padStart(6, "0")}|${d.code}`;
    const keys = diags.map(key);
    expect(keys).toEqual([...keys].sort());
    expect(diags.length).toBeGreaterThan(8);
  });

  it("does not depend on the order the objects come in", () => {
    const reversed = [...all].reverse();
    const rotated = [...all.slice(5), ...all.slice(0, 5)];
    expect(checkObjects(reversed)).toEqual(checkObjects(all));
    expect(checkObjects(rotated)).toEqual(checkObjects(all));
  });

  it("puts diagnostics without a position last", () => {
    const placed: PositionedDiagnostic = { severity: "info", code: "b", object: "o", field: "f", message: "m", source: { file: "z.yaml", line: 9, col: 9 } };
    const loose: PositionedDiagnostic = { severity: "error", code: "a", object: "o", field: "f", message: "m" };
    expect(sortDiagnostics([loose, placed])).toEqual([placed, loose]);
  });
});
