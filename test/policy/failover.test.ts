import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  CONTROLLED_BY_LABEL,
  PRIMARY_SERVICE_ANNOTATION,
  isEndpointsReady,
  reconcileFailover,
  splitsAffectedByEndpoints,
  type FailoverSplit,
  type SplitBackend,
} from "../../src/policy/failover.js";

/** `primary: null` ⇒ no primary-service annotation. */
function split(backends: SplitBackend[], primary: string | null = "primary"): FailoverSplit {
  return {
    name: "ts0",
    namespace: "default",
    annotations: primary === null ? {} : { [PRIMARY_SERVICE_ANNOTATION]: primary },
    labels: { [CONTROLLED_BY_LABEL]: "linkerd-failover" },
    backends,
  };
}

const b = (service: string, weight: number): SplitBackend => ({ service, weight });
const readySet =
  (...ready: string[]) =>
  (svc: string): boolean =>
    ready.includes(svc);

describe("reconcileFailover — upstream vectors", () => {
  it("vector 25: all backends ready, weights 1/1/1 ⇒ patch to 1/0/0 with the primary active", () => {
    const d = reconcileFailover(
      split([b("primary", 1), b("secondary", 1), b("tertiary", 1)]),
      readySet("primary", "secondary", "tertiary"),
    );
    expect(d.kind).toBe("patch");
    if (d.kind !== "patch") return;
    expect(d.backends).toEqual([b("primary", 1), b("secondary", 0), b("tertiary", 0)]);
    expect(d.primaryActive).toBe(true);
    expect(d.event).toEqual({ reason: "Failover", note: "trafficsplit/ts0 switching traffic to primary" });
  });

  it("vector 26: primary not ready, weights 1/0/0 ⇒ patch to 0/1/1 with the primary inactive", () => {
    const d = reconcileFailover(
      split([b("primary", 1), b("secondary", 0), b("tertiary", 0)]),
      readySet("secondary", "tertiary"),
    );
    expect(d.kind).toBe("patch");
    if (d.kind !== "patch") return;
    expect(d.backends).toEqual([b("primary", 0), b("secondary", 1), b("tertiary", 1)]);
    expect(d.primaryActive).toBe(false);
    expect(d.reason).toBe("primary-not-ready");
    expect(d.event.note).toBe("trafficsplit/ts0 failing over to fallbacks");
  });

  it("vector 27: all ready and weights already 1/0/0 ⇒ no patch", () => {
    const d = reconcileFailover(
      split([b("primary", 1), b("secondary", 0), b("tertiary", 0)]),
      readySet("primary", "secondary", "tertiary"),
    );
    expect(d).toMatchObject({ kind: "none", reason: "unchanged" });
  });

  it("vector 28: nothing ready, weights 0/1/1 ⇒ patch to 0/0/0 (upstream has no at-least-one-fallback guard)", () => {
    const d = reconcileFailover(split([b("primary", 0), b("secondary", 1), b("tertiary", 1)]), readySet());
    expect(d.kind).toBe("patch");
    if (d.kind !== "patch") return;
    expect(d.backends).toEqual([b("primary", 0), b("secondary", 0), b("tertiary", 0)]);
    expect(d.primaryActive).toBe(false);
    expect(d.reason).toBe("nothing-ready");
  });
});

describe("reconcileFailover — selection and primary choice", () => {
  it("the first backend is the primary when the annotation is absent", () => {
    const d = reconcileFailover(split([b("local", 0), b("remote", 1)], null), readySet("local", "remote"));
    expect(d).toMatchObject({ kind: "patch", primary: "local", primaryActive: true });
    if (d.kind === "patch") expect(d.backends).toEqual([b("local", 1), b("remote", 0)]);
  });

  it("the annotation wins over backend order", () => {
    const d = reconcileFailover(split([b("a", 1), b("b", 0)], "b"), readySet("a", "b"));
    expect(d).toMatchObject({ kind: "patch", primary: "b" });
    if (d.kind === "patch") expect(d.backends).toEqual([b("a", 0), b("b", 1)]);
  });

  it("a split with no backends is skipped", () => {
    expect(reconcileFailover(split([], null), readySet())).toMatchObject({ kind: "none", reason: "no-backends" });
  });

  it("a split labelled for another release is not reconciled", () => {
    const s = { ...split([b("primary", 0)]), labels: { [CONTROLLED_BY_LABEL]: "other" } };
    const d = reconcileFailover(s, readySet("primary"));
    expect(d).toMatchObject({ kind: "none", reason: "not-selected" });
  });

  it("a split without the controlled-by label is not reconciled", () => {
    const s = { ...split([b("primary", 0)]), labels: undefined };
    expect(reconcileFailover(s, readySet("primary"))).toMatchObject({ kind: "none", reason: "not-selected" });
  });

  it("a custom selector selects splits labelled with that release name", () => {
    const s = { ...split([b("primary", 0)]), labels: { [CONTROLLED_BY_LABEL]: "fo" } };
    expect(reconcileFailover(s, readySet("primary"), { selector: "fo" })).toMatchObject({ kind: "patch" });
  });

  it("fail-back is immediate: the primary gets all weight back the moment it is ready", () => {
    const d = reconcileFailover(split([b("primary", 0), b("secondary", 1)]), readySet("primary", "secondary"));
    expect(d).toMatchObject({ kind: "patch", primaryActive: true, reason: "primary-ready" });
    if (d.kind === "patch") expect(d.backends.map((x) => x.weight)).toEqual([1, 0]);
  });

  it("a primary named in the annotation but not listed leaves no backend active while it is ready", () => {
    const d = reconcileFailover(split([b("a", 1), b("b", 0)], "ghost"), readySet("ghost", "a", "b"));
    expect(d).toMatchObject({ kind: "patch", primaryActive: true });
    if (d.kind === "patch") expect(d.backends.map((x) => x.weight)).toEqual([0, 0]);
  });
});

describe("isEndpointsReady", () => {
  const cases: Array<[string, unknown, boolean]> = [
    ["a missing Endpoints object", undefined, false],
    ["no subsets field", { metadata: { name: "x" } }, false],
    ["empty subsets", { subsets: [] }, false],
    ["only notReadyAddresses", { subsets: [{ notReadyAddresses: [{ ip: "10.0.0.1" }] }] }, false],
    ["an empty addresses list", { subsets: [{ addresses: [] }] }, false],
    ["one ready address", { subsets: [{ addresses: [{ ip: "10.0.0.1" }] }] }, true],
    [
      "a ready address in a later subset",
      { subsets: [{ notReadyAddresses: [{ ip: "a" }] }, { addresses: [{ ip: "b" }], ports: [{ port: 80 }] }] },
      true,
    ],
    ["garbage subsets", { subsets: "nope" }, false],
  ];
  it.each(cases)("%s ⇒ ready=%s", (_name, obj, ready) => {
    expect(isEndpointsReady(obj)).toBe(ready);
  });
});

describe("splitsAffectedByEndpoints", () => {
  it("an Endpoints event reconciles only splits in its namespace that list it as a backend", () => {
    const s1 = split([b("web", 1), b("web-east", 0)]);
    const s2 = { ...split([b("api", 1)]), name: "ts1" };
    const s3 = { ...split([b("web", 1)]), namespace: "other", name: "ts2" };
    expect(splitsAffectedByEndpoints([s1, s2, s3], { namespace: "default", name: "web" })).toEqual([s1]);
  });
});

describe("reconcileFailover — properties", () => {
  const services = fc.uniqueArray(fc.constantFrom<string>("p", "s1", "s2", "s3", "s4"), { minLength: 1, maxLength: 5 });
  const input = services.chain((svcs) =>
    fc.record({
      svcs: fc.constant(svcs),
      weights: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: svcs.length, maxLength: svcs.length }),
      ready: fc.array(fc.boolean(), { minLength: svcs.length, maxLength: svcs.length }),
      primaryIdx: fc.integer({ min: 0, max: svcs.length - 1 }),
    }),
  );

  it("weights are 0/1; a ready primary is the only 1; otherwise exactly the ready fallbacks are 1", () => {
    fc.assert(
      fc.property(input, ({ svcs, weights, ready, primaryIdx }) => {
        const backends = svcs.map((s, i) => b(s, weights[i] ?? 0));
        const primary = svcs[primaryIdx] ?? "p";
        const isReady = (s: string): boolean => ready[svcs.indexOf(s)] === true;
        const d = reconcileFailover(split(backends, primary), isReady);
        const result = d.kind === "patch" ? d.backends : backends;
        if (d.kind === "none") expect(d.reason).toBe("unchanged");
        for (const x of result) expect([0, 1]).toContain(x.weight);
        if (isReady(primary)) {
          expect(result.filter((x) => x.weight === 1).map((x) => x.service)).toEqual([primary]);
        } else {
          for (const x of result) expect(x.weight).toBe(isReady(x.service) ? 1 : 0);
        }
        if (d.kind === "patch") expect(d.primaryActive).toBe(isReady(primary));
      }),
    );
  });

  it("reconciling the patched split again changes nothing", () => {
    fc.assert(
      fc.property(input, ({ svcs, weights, ready, primaryIdx }) => {
        const isReady = (s: string): boolean => ready[svcs.indexOf(s)] === true;
        const s = split(
          svcs.map((x, i) => b(x, weights[i] ?? 0)),
          svcs[primaryIdx] ?? null,
        );
        const first = reconcileFailover(s, isReady);
        const next = first.kind === "patch" ? { ...s, backends: first.backends } : s;
        expect(reconcileFailover(next, isReady)).toMatchObject({ kind: "none", reason: "unchanged" });
      }),
    );
  });
});
