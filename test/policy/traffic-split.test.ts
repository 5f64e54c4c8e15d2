import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { re2Engine } from "../../src/k8s/re2-engine.js";
import { parseServiceProfile } from "../../src/policy/service-profile.js";
import {
  type DstOverride,
  applySplitToProfile,
  dstOverridesForSplit,
  parseQuantityMilli,
  parseTrafficSplit,
  proxyTargets,
  removeSplitFromProfile,
  toWeightDecimillis,
} from "../../src/policy/traffic-split.js";

const DOMAIN = "cluster.local";

function split(backends: { service: string; weight: unknown }[], version = "v1alpha1", apex = "web"): unknown {
  return { apiVersion: `split.smi-spec.io/${version}`, kind: "TrafficSplit", metadata: { name: "web-split", namespace: "prod" }, spec: { service: apex, backends } };
}

describe("parseQuantityMilli (Kubernetes Quantity MilliValue)", () => {
  it.each([
    ["1", 1000],
    [1, 1000],
    [50, 50_000],
    ["500m", 500],
    ["1500m", 1500],
    ["1.5", 1500],
    [0.5, 500],
    [".5", 500],
    ["+2", 2000],
    ["-1", -1000],
    ["1k", 1_000_000],
    ["2M", 2_000_000_000],
    ["1Ki", 1024 * 1000],
    ["1e3", 1_000_000],
    ["1u", 1],
    ["0", 0],
  ])("%j ⇒ %i milli", (input, milli) => {
    expect(parseQuantityMilli(input)).toEqual({ ok: true, milli });
  });

  it.each([["half"], ["1 k"], ["1.2.3"], [""], ["1KB"], ["1e1.5"], [null], [Number.NaN]])("%j is not a quantity", (input) => {
    expect(parseQuantityMilli(input).ok).toBe(false);
  });

  it.each([["1e300"], [1e300], ["9224E"], ["10Ei"]])("%j does not fit the int64 MilliValue() returns, so it is out of range", (input) => {
    const r = parseQuantityMilli(input);
    expect(r.ok).toBe(false);
    expect(r.ok ? "" : r.error).toContain("out of range");
  });

  it("the largest milli-value that fits an int64 is kept", () => {
    // 9 223 372 036 854 775 807 milli = 9.223…E: "9223372036854775807m" is exactly 2^63 − 1 milli.
    expect(parseQuantityMilli("9223372036854775807m")).toEqual({ ok: true, milli: Number(2n ** 63n - 1n) });
  });

  it("decimillis are milli × 10, wrapped to u32 like Go", () => {
    expect(toWeightDecimillis(1000)).toBe(10_000);
    expect(toWeightDecimillis(500)).toBe(5000);
    expect(toWeightDecimillis(50_000)).toBe(500_000);
    expect(toWeightDecimillis(-1000)).toBe(2 ** 32 - 10_000);
  });
});

describe("TrafficSplit → dstOverrides → proxy targets", () => {
  it("vector 29: backends [a:1, b:0] ⇒ dstOverrides [a:10000, b:0] ⇒ proxy targets [a]", () => {
    const ts = parseTrafficSplit(split([{ service: "a", weight: 1 }, { service: "b", weight: 0 }])).value;
    const overrides = dstOverridesForSplit(ts, DOMAIN);
    expect(overrides).toEqual([
      { authority: "a.prod.svc.cluster.local", weightDecimillis: 10_000 },
      { authority: "b.prod.svc.cluster.local", weightDecimillis: 0 },
    ]);
    const d = proxyTargets(overrides, 8080);
    expect(d.targets).toEqual([{ authority: "a.prod.svc.cluster.local:8080", weight: 10_000 }]);
    expect(d.dropped).toEqual([{ authority: "b.prod.svc.cluster.local:8080", reason: "weight 0" }]);
  });

  it("vector 30: backends [a:500m, b:1500m] ⇒ decimillis 5000/15000 ⇒ 25%/75%", () => {
    const ts = parseTrafficSplit(split([{ service: "a", weight: "500m" }, { service: "b", weight: "1500m" }])).value;
    const d = proxyTargets(dstOverridesForSplit(ts, DOMAIN), 80);
    expect(d.targets.map((t) => t.weight)).toEqual([5000, 15_000]);
    const total = 5000 + 15_000;
    expect(d.targets.map((t) => t.weight / total)).toEqual([0.25, 0.75]);
    expect(d.reason).toContain("25%");
    expect(d.reason).toContain("75%");
  });

  it("v1alpha2 weights are plain numbers, fractions included", () => {
    const { value, diagnostics } = parseTrafficSplit(split([{ service: "a", weight: 0.5 }, { service: "b", weight: 50 }], "v1alpha2"));
    expect(value.backends.map((b) => b.weightMilli)).toEqual([500, 50_000]);
    expect(dstOverridesForSplit(value, DOMAIN).map((o) => o.weightDecimillis)).toEqual([5000, 500_000]);
    expect(diagnostics).toEqual([]);
  });

  it.each([
    ["a v1alpha2 string weight", split([{ service: "a", weight: "500m" }], "v1alpha2")],
    ["a v1alpha1 fractional number", split([{ service: "a", weight: 0.5 }])],
    ["a v1alpha1 weight that is no quantity", split([{ service: "a", weight: "half" }])],
    ["a missing weight", split([{ service: "a", weight: undefined }])],
    ["an unserved version", split([{ service: "a", weight: 1 }], "v1alpha4")],
  ])("%s makes the TrafficSplit unusable", (_name, obj) => {
    const { value, diagnostics } = parseTrafficSplit(obj);
    expect(value.rejected).toBe(true);
    expect(diagnostics.some((d) => d.severity === "error")).toBe(true);
  });

  it("all-zero weights leave no targets, and the reason says traffic goes to the apex", () => {
    const { value, diagnostics } = parseTrafficSplit(split([{ service: "a", weight: 0 }, { service: "b", weight: "0m" }]));
    expect(diagnostics.map((d) => d.code)).toEqual(["split-all-weights-zero"]);
    const d = proxyTargets(dstOverridesForSplit(value, DOMAIN), 80);
    expect(d.targets).toEqual([]);
    expect(d.reason).toContain("apex Service's own endpoints");
  });

  it("an authority that already has a port keeps it; a malformed one is dropped", () => {
    const d = proxyTargets([
      { authority: "a.prod.svc.cluster.local:9090", weightDecimillis: 1 },
      { authority: "http://b/", weightDecimillis: 1 },
    ], 80);
    expect(d.targets.map((t) => t.authority)).toEqual(["a.prod.svc.cluster.local:9090"]);
    expect(d.dropped.map((x) => x.reason)).toEqual(["not a valid name:port authority"]);
  });

  it("property: surviving targets all weigh more than 0, and every weighted valid override survives", () => {
    const override = fc.record({
      authority: fc.constantFrom("a.ns.svc.cluster.local", "b.ns.svc.cluster.local:81", "bad authority"),
      weightDecimillis: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 2 ** 32 - 1 })),
    });
    fc.assert(
      fc.property(fc.array(override, { maxLength: 8 }), (overrides: DstOverride[]) => {
        const d = proxyTargets(overrides, 80);
        expect(d.targets.every((t) => t.weight > 0)).toBe(true);
        const expected = overrides.filter((o) => o.weightDecimillis > 0 && o.authority !== "bad authority").length;
        expect(d.targets).toHaveLength(expected);
        expect(d.targets.length + d.dropped.length).toBe(overrides.length);
      }),
    );
  });
});

describe("SMI adaptor writes to the ServiceProfile", () => {
  const ts = parseTrafficSplit(split([{ service: "web-v1", weight: "900m" }, { service: "web-v2", weight: "100m" }])).value;

  it("creates the apex's ServiceProfile holding only dstOverrides when none exists", () => {
    const w = applySplitToProfile(undefined, ts, DOMAIN);
    expect(w.action).toBe("create");
    expect(w.profile).toEqual({
      apiVersion: "linkerd.io/v1alpha2",
      kind: "ServiceProfile",
      metadata: { name: "web.prod.svc.cluster.local", namespace: "prod" },
      spec: { dstOverrides: [{ authority: "web-v1.prod.svc.cluster.local", weight: "900m" }, { authority: "web-v2.prod.svc.cluster.local", weight: "100m" }] },
    });
    const parsed = parseServiceProfile(w.profile, { regexEngine: re2Engine }).value;
    expect(parsed.dstOverrides).toEqual(dstOverridesForSplit(ts, DOMAIN));
    expect(parsed.dstOverrides.map((o) => o.weightDecimillis)).toEqual([9000, 1000]);
  });

  const existing = {
    kind: "ServiceProfile",
    metadata: { name: "web.prod.svc.cluster.local", namespace: "prod" },
    spec: { routes: [{ name: "r", condition: { method: "GET" } }], retryBudget: { retryRatio: 0.2, minRetriesPerSecond: 10, ttl: "10s" }, dstOverrides: [{ authority: "old", weight: 1 }] },
  };

  it("replaces dstOverrides of an existing ServiceProfile and keeps its other fields", () => {
    const w = applySplitToProfile(existing, ts, DOMAIN);
    expect(w.action).toBe("update");
    const spec = w.profile?.["spec"] as Record<string, unknown>;
    expect(spec["routes"]).toBe(existing.spec.routes);
    expect(spec["retryBudget"]).toBe(existing.spec.retryBudget);
    expect(spec["dstOverrides"]).toEqual([{ authority: "web-v1.prod.svc.cluster.local", weight: "900m" }, { authority: "web-v2.prod.svc.cluster.local", weight: "100m" }]);
    expect(existing.spec.dstOverrides).toEqual([{ authority: "old", weight: 1 }]);
  });

  it("leaves a ServiceProfile annotated smi.linkerd.io/skip alone, whatever the annotation's value", () => {
    const skipped = { ...existing, metadata: { ...existing.metadata, annotations: { "smi.linkerd.io/skip": "false" } } };
    expect(applySplitToProfile(skipped, ts, DOMAIN)).toMatchObject({ action: "skip", profile: skipped });
    expect(removeSplitFromProfile(skipped).action).toBe("skip");
  });

  it("deleting the TrafficSplit clears dstOverrides but keeps the ServiceProfile", () => {
    const w = removeSplitFromProfile(existing);
    expect(w.action).toBe("update");
    const spec = w.profile?.["spec"] as Record<string, unknown>;
    expect("dstOverrides" in spec).toBe(false);
    expect(spec["routes"]).toBe(existing.spec.routes);
    expect(removeSplitFromProfile(undefined).action).toBe("none");
  });
});
