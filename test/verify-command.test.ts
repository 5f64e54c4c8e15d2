// `meshsim verify` end to end on a tiny scenario: one expectation that holds on every seed (no
// faults, so every call succeeds) and one band that by its derivation holds on about half of them
// (Poisson arrivals at 20/s for 5 s: the count has mean and median about 100, so `requests ≤ 100`
// holds on roughly half the seeds). Counts are checked against single `meshsim run --seed N` runs.

import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { runCommand } from "../src/cli/run-command.js";
import { verifyCommand, type VerifyOptions } from "../src/cli/verify-command.js";
import { requiredSeeds } from "../src/report/verify.js";
import { loadScenario } from "../src/scenario/load.js";
import { diskReader } from "../src/api/file-reader.js";
import { smallScenario } from "./support/small-scenario.js";

const SEEDS = 12;
const BAND = "{name: at most 100 calls, metric: requests, where: {traffic: calls}, atMost: 100}";
const bandWith = (atLeast: number): string => `${BAND.slice(0, -1)}, seeds: {atLeast: ${atLeast}}}`;

const dir = mkdtempSync(join(tmpdir(), "meshsim-verify-"));
function scenarioFile(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}
const file = scenarioFile("tiny.yaml", smallScenario({ expect: [BAND] }));

interface Doc {
  scenarios: { file: string; seeds: number[]; expectations: { name: string; held: number; of: number; required: number; pass: boolean; failingSeeds: number[] }[]; errors?: unknown[] }[];
  pass: boolean;
}

async function verify(paths: string[], opts: Partial<VerifyOptions> = {}): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await verifyCommand(paths, { seeds: SEEDS, workers: 1, ...opts }, (s) => out.push(s), (s) => err.push(s));
  return { code, out: out.join("\n"), err: err.join("\n") };
}

/** Whether each expectation passed in a single `meshsim run FILE --seed N`. */
function singleRun(path: string, seed: number): { code: number; passes: boolean[] } {
  const out: string[] = [];
  const code = runCommand([path], { seed: String(seed), json: true }, (s) => out.push(s), () => undefined);
  const json = JSON.parse(out[out.length - 1] as string) as { expectations: { pass: boolean }[] };
  return { code, passes: json.expectations.map((e) => e.pass) };
}

let doc: Doc;
let code: number;

beforeAll(async () => {
  const r = await verify([file], { json: true });
  code = r.code;
  doc = JSON.parse(r.out) as Doc;
});

describe("meshsim verify", () => {
  it("counts, per expectation, the seeds 1..N it held on, as single runs with those seeds do", () => {
    const [s] = doc.scenarios;
    expect(s?.seeds).toEqual(Array.from({ length: SEEDS }, (_, i) => i + 1));
    const [all, band] = s?.expectations ?? [];
    expect(all).toEqual({ name: "all succeed", held: SEEDS, of: SEEDS, required: SEEDS, pass: true, failingSeeds: [] });
    // The band straddles the median: some seeds on each side (a chance of about 2 × 0.5^12 otherwise).
    expect(band?.held).toBeGreaterThan(0);
    expect(band?.held).toBeLessThan(SEEDS);
    expect(band?.failingSeeds.length).toBe(SEEDS - (band?.held ?? 0));
    for (let seed = 1; seed <= SEEDS; seed++) {
      const single = singleRun(file, seed);
      expect(single.passes, `seed ${seed}`).toEqual([true, !band?.failingSeeds.includes(seed)]);
    }
  });

  it("exits 1 when an expectation held on fewer seeds than it requires", () => {
    expect(code).toBe(1);
    expect(doc.pass).toBe(false);
    expect(doc.scenarios[0]?.expectations[1]?.pass).toBe(false);
  });

  it("gives the same JSON for 1 and 2 worker threads", async () => {
    const two = await verify([file], { json: true, workers: 2 });
    expect(two.code).toBe(code);
    expect(JSON.parse(two.out)).toEqual(doc);
  });

  it("prints held/of per expectation and how to reproduce the first failing seed", async () => {
    const band = doc.scenarios[0]?.expectations[1];
    const r = await verify([file]);
    expect(r.out).toContain(`${SEEDS}/${SEEDS} seeds  all succeed`);
    expect(r.out).toMatch(new RegExp(`FAIL +${band?.held}/${SEEDS} seeds  at most 100 calls`));
    expect(r.out).toContain(`reproduce: meshsim run ${file} --seed ${band?.failingSeeds[0]}`);
  });

  it("starts at --from", async () => {
    const r = await verify([file], { json: true, seeds: 3, from: 5 });
    expect((JSON.parse(r.out) as Doc).scenarios[0]?.seeds).toEqual([5, 6, 7]);
  });

  it("passes with seeds: {atLeast} at the share it held on, and fails one seed above it", async () => {
    const held = doc.scenarios[0]?.expectations[1]?.held ?? 0;
    const enough = scenarioFile("enough.yaml", smallScenario({ expect: [bandWith(held / SEEDS)] }));
    const r = await verify([enough], { json: true });
    expect(r.code).toBe(0);
    const e = (JSON.parse(r.out) as Doc).scenarios[0]?.expectations[1];
    expect(e).toMatchObject({ held, of: SEEDS, required: held, pass: true });
    const tooMany = scenarioFile("too-many.yaml", smallScenario({ expect: [bandWith((held + 1) / SEEDS)] }));
    expect((await verify([tooMany])).code).toBe(1);
  });

  it("rounds the required share up to whole seeds", () => {
    expect(requiredSeeds(1, 20)).toBe(20);
    expect(requiredSeeds(0.8, 20)).toBe(16);
    expect(requiredSeeds(0.8, 21)).toBe(17);
    expect(requiredSeeds(0.7, 10)).toBe(7);
    expect(requiredSeeds(0.01, 5)).toBe(1);
  });

  it("leaves meshsim run alone: a single run still fails an expectation that failed on its seed", () => {
    const lenient = scenarioFile("lenient.yaml", smallScenario({ expect: [bandWith(0.1)] }));
    const seed = doc.scenarios[0]?.expectations[1]?.failingSeeds[0] as number;
    expect(singleRun(lenient, seed)).toEqual({ code: 1, passes: [true, false] });
  });

  it("shows seeds in explain, every seed by default", () => {
    const lenient = loadScenario(join(dir, "lenient.yaml"), diskReader);
    const plain = loadScenario(file, diskReader);
    if (!lenient.ok || !plain.ok) throw new Error("the scenarios load");
    const seedsOf = (x: Record<string, unknown>) => (x["expect"] as { seeds: unknown }[]).map((e) => e.seeds);
    expect(seedsOf(lenient.explain)).toEqual([{ atLeast: 1 }, { atLeast: 0.1 }]);
    expect(seedsOf(plain.explain)).toEqual([{ atLeast: 1 }, { atLeast: 1 }]);
  });

  it("refuses a share outside (0, 1] with file:line:col, exit 2", async () => {
    const bad = scenarioFile("bad-share.yaml", smallScenario({ expect: [bandWith(0)] }));
    const r = await verify([bad]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:\\d+:\\d+: expect\\[1\\]\\.seeds\\.atLeast: must be > 0`));
    const above = scenarioFile("above-one.yaml", smallScenario({ expect: [bandWith(1.5)] }));
    expect((await verify([above])).err).toMatch(/above-one\.yaml:\d+:\d+: expect\[1\]\.seeds\.atLeast/);
  });

  it("verifies every scenario below a directory and skips plain manifests", async () => {
    const tree = join(dir, "tree");
    mkdirSync(join(tree, "sub", "manifests"), { recursive: true });
    writeFileSync(join(tree, "a.yaml"), smallScenario({ name: "a" }));
    writeFileSync(join(tree, "sub", "b.yaml"), smallScenario({ name: "b" }));
    writeFileSync(join(tree, "sub", "manifests", "ns.yaml"), "apiVersion: v1\nkind: Namespace\nmetadata: {name: app}\n");
    const r = await verify([tree], { json: true, seeds: 2 });
    expect(r.code).toBe(0);
    expect((JSON.parse(r.out) as Doc).scenarios.map((s) => s.file)).toEqual([join(tree, "a.yaml"), join(tree, "sub", "b.yaml")]);
  });

  it("keeps going past a bad file and exits with the worst code", async () => {
    const broken = scenarioFile("broken.yaml", "name: broken\nseed: 1\nduration: soon\n");
    const r = await verify([broken, file], { json: true, seeds: 2 });
    expect(r.code).toBe(2);
    const d = JSON.parse(r.out) as Doc;
    expect(d.scenarios.map((s) => [s.file, s.errors !== undefined])).toEqual([
      [broken, true],
      [file, false],
    ]);
    expect(d.scenarios[1]?.expectations[0]).toMatchObject({ name: "all succeed", held: 2, of: 2 });
    expect(r.err).toContain(`${broken}:`);
  });

  it("writes one JUnit testcase per scenario and expectation, named with the seeds it held on", async () => {
    const junit = join(dir, "verify.xml");
    await verify([file], { junit });
    const xml = readFileSync(junit, "utf8");
    const band = doc.scenarios[0]?.expectations[1];
    expect(xml.match(/<testcase /g)?.length).toBe(2);
    expect(xml).toContain(`<testcase name="all succeed (held ${SEEDS}/${SEEDS} seeds)"`);
    expect(xml).toContain(`<testcase name="at most 100 calls (held ${band?.held}/${SEEDS} seeds)"`);
    expect(xml).toContain(`failures="1"`);
  });

  it("applies --set to every scenario and seed: at 2/s for 5 s the band `at most 100 calls` holds on every seed", async () => {
    // Poisson(10) exceeds 100 with probability far below 1e-40: the band cannot fail at 2/s.
    const withParam = scenarioFile("param.yaml", smallScenario({ name: "param", rate: '"${rate}"', expect: [BAND] }).replace("seed: 1\n", "seed: 1\nparams: {rate: 20/s}\n"));
    const r = await verify([withParam], { json: true, set: ["rate=2/s"] });
    expect((JSON.parse(r.out) as Doc).scenarios[0]?.expectations[1]).toMatchObject({ name: "at most 100 calls", held: SEEDS, of: SEEDS });
    const bad = await verify([withParam], { set: ["rate"] });
    expect([bad.code, bad.err]).toEqual([2, "--set rate: expected name=value"]);
  });

  it("reads manifests outside a scenario's tree only with --manifests-root", async () => {
    const shared = join(dir, "shared-manifests");
    const own = join(dir, "team");
    mkdirSync(shared, { recursive: true });
    mkdirSync(own, { recursive: true });
    writeFileSync(join(shared, "ns.yaml"), "apiVersion: v1\nkind: Namespace\nmetadata: {name: app}\n");
    const text = smallScenario({ name: "outside" }).replace("  - name: c\n", "  - name: c\n    manifests: [../shared-manifests/ns.yaml]\n");
    const outside = join(own, "outside.yaml");
    writeFileSync(outside, text);
    expect((await verify([outside], { seeds: 1 })).code).toBe(2);
    expect((await verify([outside], { seeds: 1, manifestsRoot: dir })).code).toBe(0);
  });
});
