// The fuzz harness itself: its corpus, its generator's determinism and reach, its oracle's
// verdicts, and the watchdog that ends a case that never returns.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { InputError } from "../../src/k8s/input-error.js";
import { corpus } from "./corpus.js";
import { fuzzBases } from "./fuzz.js";
import { fuzzCase } from "./draw.js";
import { type Mutation, renderCase } from "./mutations.js";
import { diagnosticProblem, failureSignature, judgeCase } from "./oracle.js";
import { CasePool } from "./pool.js";

const limits = { maxEvents: 50_000, baseDir: process.cwd() };
const bases = fuzzBases(500_000);

describe("the fuzz corpus", () => {
  it("holds every scenario of scenarios/, its manifests written inline", () => {
    const files = corpus().map((e) => e.file);
    expect(files).toContain("scenarios/emojivoto.yaml");
    expect(files).toContain("scenarios/payments/auth-loss.yaml");
    expect(files.filter((f) => f.includes("/manifests/") || f.includes("/profiles/"))).toEqual([]);
    for (const e of corpus()) expect(JSON.stringify(e.doc)).not.toContain('"manifests"');
  });

  it("runs each scenario as it is, shortened to half a second", () => {
    const ends = bases.map((b, i) => `${corpus()[i]?.file}: ${judgeCase(renderCase({ base: i, mutations: [], text: [] }, [b]), limits).kind}`);
    expect(ends.filter((e) => !e.endsWith(": run"))).toEqual([]);
  });
});

describe("the case generator", () => {
  const texts = (seed: number) => fc.sample(fuzzCase(bases.length), { seed, numRuns: 40 }).map((c) => renderCase(c, bases));

  it("draws the same cases from the same seed, and others from another", () => {
    expect(texts(11)).toEqual(texts(11));
    expect(texts(12)).not.toEqual(texts(11));
  });

  it("reaches every mutation, every fault kind and the YAML text itself", () => {
    const cases = fc.sample(fuzzCase(bases.length), { seed: 3, numRuns: 1500 });
    const ops = new Set(cases.flatMap((c) => c.mutations.map((m) => m.op)));
    expect([...ops].sort()).toEqual(["addKey", "addObject", "change", "delete", "duplicate", "fault", "object", "replace", "replaceNumber", "retype", "set"]);
    const faults = new Set(cases.flatMap((c) => c.mutations.flatMap((m: Mutation) => (m.op === "fault" ? Object.keys(m.fault).filter((k) => k !== "at" && k !== "until") : []))));
    expect(faults.size).toBe(15);
    expect(cases.some((c) => c.text.length > 0)).toBe(true);
  });

  it("turns a name reference into a name the scenario uses", () => {
    const emojivoto = corpus().findIndex((e) => e.file === "scenarios/emojivoto.yaml");
    const yaml = renderCase({ base: emojivoto, mutations: [{ op: "fault", fault: { at: "0s", killPods: { select: { deployment: { $ref: "deployment", n: 0 } } } } }], text: [] }, bases);
    expect(yaml).toMatch(/killPods:\n\s+select:\n\s+deployment: (web|emoji|voting|vote-bot)\n/);
  });
});

describe("the oracle", () => {
  const good: InputError = { file: "scenario.yaml", line: 3, col: 5, path: "duration", message: "not a duration", expected: "a duration such as 300ms" };

  it.each<[string, Partial<InputError>, string | undefined]>([
    ["a well-formed diagnostic passes", {}, undefined],
    ["one without a message", { message: " " }, "has no message"],
    ["one without a place", { line: 0, col: 0 }, "has no line:col (0:0)"],
    ["one carrying a stack frame", { message: "boom\n    at parse (/src/x.ts:1:2)" }, "carries a stack frame"],
    ["one carrying a JavaScript error class", { message: "RangeError: Invalid array length" }, "carries a JavaScript error class"],
    ["one with an internal message", { expected: "Cannot read properties of undefined (reading 'x')" }, "carries a JavaScript runtime message"],
    ["one saying [object Object]", { message: "expected [object Object]" }, "carries [object Object]"],
  ])("%s", (_what, change, problem) => {
    expect(diagnosticProblem({ ...good, ...change })).toBe(problem);
  });

  const small = (duration: string) =>
    `name: s\nseed: 1\nduration: ${duration}\nclusters:\n  - name: c\n    services:\n      - {name: api, namespace: app}\n      - {name: client, namespace: app}\n` +
    `traffic:\n  - {name: calls, from: {namespace: app, deployment: client}, to: "http://api.app.svc.cluster.local/", rate: 20/s}\n`;

  it("calls a scenario that runs a run, one that does not load an input error, and a huge one guarded", () => {
    expect(judgeCase(small("1s"), limits).kind).toBe("run");
    expect(judgeCase(small("1 s"), limits).kind).toBe("input-error");
    expect(judgeCase("name: [", limits).kind).toBe("input-error");
    const huge = judgeCase(small("2400h"), limits);
    expect(huge.kind).toBe("guarded");
    expect(huge.detail).toMatch(/this scenario would take about .* events/);
  });

  it("groups failures that differ only in numbers and names", () => {
    const a = failureSignature({ kind: "crash", detail: 'RangeError: "x" 12 too big\n    at f (/w/src/mesh/a.ts:3:4)', ms: 1 });
    const b = failureSignature({ kind: "crash", detail: 'RangeError: "y" 13 too big\n    at f (/w/src/mesh/a.ts:3:4)', ms: 1 });
    expect(a).toBe(b);
    expect(a).toBe('crash: RangeError: "…" N too big @ src/mesh/a.ts:3:4');
  });
});

describe("the case pool", () => {
  it("ends a case that outlives the watchdog as a hang, and goes on with a fresh worker", async () => {
    const pool = new CasePool({ workers: 1, watchdogMs: 1_000, memoryMb: 256, limits });
    try {
      expect((await pool.spin(30_000)).kind).toBe("hang");
      expect((await pool.run(renderCase({ base: 0, mutations: [], text: [] }, bases))).kind).toBe("run");
    } finally {
      await pool.close();
    }
  }, 60_000);
});
