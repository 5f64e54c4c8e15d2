// `meshsim sweep` and `meshsim merge` end to end on a tiny scenario: the same sweep JSON whatever
// the worker count (in-process or worker threads), shards that merge into exactly the unsharded
// sweep, the Kubernetes Job as parseable YAML, and bad input as exit 2.

import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { mergeCommand, registerMerge, registerSweep, sweepCommand, type SweepOptions } from "../src/cli/sweep-command.js";
import type { SweepDoc } from "../src/report/sweep.js";

const SCENARIO = `name: tiny
seed: 7
duration: 5s
params: {rate: 20/s}
clusters:
  - name: c
    services:
      - {name: api, namespace: app}
      - {name: client, namespace: app}
traffic:
  - {name: calls, from: {namespace: app, deployment: client}, to: "http://api.app.svc.cluster.local/", rate: "\${rate}"}
expect:
  - {name: all succeed, metric: successRate, where: {traffic: calls}, equals: 1}
`;

const dir = mkdtempSync(join(tmpdir(), "meshsim-sweep-"));
const file = join(dir, "tiny.yaml");
writeFileSync(file, SCENARIO);
const VARY: SweepOptions = { vary: ["rate=10/s..30/s:3"], seeds: 2 };

async function sweep(opts: SweepOptions): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await sweepCommand(file, opts, (s) => out.push(s), (s) => err.push(s));
  return { code, out: out.join("\n"), err: err.join("\n") };
}

let inProcess: SweepDoc;

beforeAll(async () => {
  const r = await sweep({ ...VARY, workers: 1, json: true });
  expect(r.code).toBe(0);
  inProcess = JSON.parse(r.out) as SweepDoc;
});

describe("meshsim sweep", () => {
  it("runs every grid point in order, params then seeds 1..N, each a real run", () => {
    expect(inProcess.results.map((r) => [r.params["rate"], r.seed])).toEqual([
      ["10/s", "1"],
      ["10/s", "2"],
      ["20/s", "1"],
      ["20/s", "2"],
      ["30/s", "1"],
      ["30/s", "2"],
    ]);
    expect(new Set(inProcess.results.map((r) => r.digest)).size).toBe(6);
    for (const r of inProcess.results) {
      expect(r.pass).toBe(true);
      expect(r.expectations).toEqual([{ name: "all succeed", pass: true, measured: 1 }]);
      expect(r.successRate).toBe(1);
      expect(r.requests).toBeGreaterThan(0);
    }
    // More offered load gives more requests over the same window, seed by seed.
    const bySeed = (seed: string) => inProcess.results.filter((r) => r.seed === seed).map((r) => r.requests);
    for (const seed of ["1", "2"]) expect(bySeed(seed)).toEqual([...bySeed(seed)].sort((a, b) => a - b));
  });

  it("gives the identical sweep JSON on worker threads as in-process", async () => {
    const r = await sweep({ ...VARY, workers: 3, json: true });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual(inProcess);
  });

  it("writes sweep.json and sweep.csv with --out", async () => {
    const out = join(dir, "full");
    const r = await sweep({ ...VARY, workers: 1, out });
    expect(r.code).toBe(0);
    expect(r.out.split("\n")).toHaveLength(1 + 6);
    expect(JSON.parse(readFileSync(join(out, "sweep.json"), "utf8"))).toEqual(inProcess);
    expect(readFileSync(join(out, "sweep.csv"), "utf8").trimEnd().split("\n")).toHaveLength(1 + 6);
  });

  it("splits into shards that merge into exactly the unsharded sweep", async () => {
    const out = join(dir, "shards");
    // One shard in-process, the other on two worker threads: the split must not show in the result.
    expect((await sweep({ ...VARY, workers: 1, shard: "0/2", out })).code).toBe(0);
    expect((await sweep({ ...VARY, workers: 2, shard: "1/2", out })).code).toBe(0);
    const shard0 = JSON.parse(readFileSync(join(out, "shard-0-of-2.json"), "utf8")) as { indices: number[] };
    expect(shard0.indices).toEqual([0, 2, 4]);
    const printed: string[] = [];
    const code = mergeCommand([join(out, "shard-1-of-2.json"), join(out, "shard-0-of-2.json")], { json: true, out: join(dir, "merged") }, (s) => printed.push(s), () => {});
    expect(code).toBe(0);
    expect(JSON.parse(printed.join("\n"))).toEqual(inProcess);
    expect(JSON.parse(readFileSync(join(dir, "merged", "sweep.json"), "utf8"))).toEqual(inProcess);
  });

  it("refuses to merge shards of different grids or with indices missing", async () => {
    const out = join(dir, "mixed");
    await sweep({ ...VARY, workers: 1, shard: "0/2", out });
    await sweep({ vary: ["rate=10/s,20/s"], workers: 1, shard: "1/2", out: join(out, "other") });
    const errors: string[] = [];
    expect(mergeCommand([join(out, "shard-0-of-2.json"), join(out, "other", "shard-1-of-2.json")], {}, () => {}, (s) => errors.push(s))).toBe(2);
    expect(mergeCommand([join(out, "shard-0-of-2.json")], {}, () => {}, (s) => errors.push(s))).toBe(2);
    expect(errors[0]).toMatch(/different grid/);
    expect(errors[1]).toMatch(/missing/);
  });

  it.each([
    ["truncated JSON, at the line and column where it breaks", '{\n  "kind": "meshsim-sweep-shard",\n  "grid": {', /bad\.json:3:12: not JSON/] /* the input ends after column 11 of line 3 */,
    ["a shard with results that are not a list", '{"kind": "meshsim-sweep-shard", "grid": {"axes": [], "seeds": []}, "shard": {"index": 0, "count": 1}, "results": 3}', /bad\.json: results: merge: results must be a list/],
    ["another JSON file", '{"kind": "meshsim-sweep"}', /bad\.json: kind: merge: not a sweep shard file/],
  ])("refuses %s with exit 2 and the place, never a stack", (_what, text, message) => {
    const file = join(dir, "bad.json");
    writeFileSync(file, text);
    const errors: string[] = [];
    expect(mergeCommand([file], {}, () => {}, (s) => errors.push(s))).toBe(2);
    expect(errors.join("\n")).toMatch(message);
  });

  it.each([
    ["a malformed --vary", { vary: ["rate"] }, /name=/],
    ["a shard index out of range", { shard: "2/2" }, /0 ≤ i < n/],
    ["a param the scenario does not declare", { vary: ["nope=1"], workers: 1 }, /nope/],
  ])("exits 2 on %s", async (_what, opts, message) => {
    const r = await sweep(opts);
    expect(r.code).toBe(2);
    expect(r.err + r.out).toMatch(message);
  });

  it("prints an Indexed Job with one completion per shard instead of running", async () => {
    const r = await sweep({ ...VARY, emitK8sJob: 3, parallelism: 2, image: "registry/meshsim:1" });
    expect(r.code).toBe(0);
    const job = parse(r.out) as { apiVersion: string; kind: string; spec: { completionMode: string; completions: number; parallelism: number; template: { spec: { containers: { image: string; command: string[] }[] } } } };
    expect([job.apiVersion, job.kind, job.spec.completionMode, job.spec.completions, job.spec.parallelism]).toEqual(["batch/v1", "Job", "Indexed", 3, 2]);
    const [c] = job.spec.template.spec.containers;
    expect(c?.image).toBe("registry/meshsim:1");
    expect(c?.command.join(" ")).toBe(`npx meshsim sweep ${file} --vary rate=10/s,20/s,30/s --seeds 2 --shard $(JOB_COMPLETION_INDEX)/3 --out /results`);
  });
});

describe("registerSweep and registerMerge", () => {
  it("add the sweep and merge commands with their options", () => {
    const program = new Command();
    registerSweep(program, () => {}, () => {});
    registerMerge(program, () => {}, () => {});
    const sweepCmd = program.commands.find((c) => c.name() === "sweep");
    expect(sweepCmd?.options.map((o) => o.long)).toEqual(expect.arrayContaining(["--vary", "--seeds", "--workers", "--shard", "--out", "--json", "--emit-k8s-job"]));
    expect(program.commands.map((c) => c.name())).toEqual(["sweep", "merge"]);
  });
});

describe("the capacity section of a sweep", () => {
  it("answers the N+1 question: required load = L + L/(N−1)·(1 + retry overhead)", async () => {
    const r = await sweep({ ...VARY, workers: 1, slo: "success>=0.5", regions: 2, regionLoad: "20/s", retryOverhead: 0.1 });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/## Capacity/);
    // 20 + 20 × 1.1 = 42 rps needed; the sweep's highest load meeting the SLO is 30 rps.
    expect(r.out).toMatch(/N\+1: losing one region/);
    expect(r.out).toMatch(/\*\*no\*\*, margin -12 rps/);
  });

  it("reads manifests outside the scenario's tree only with --manifests-root", async () => {
    const team = join(dir, "team");
    mkdirSync(team, { recursive: true });
    writeFileSync(join(dir, "ns.yaml"), "apiVersion: v1\nkind: Namespace\nmetadata: {name: app}\n");
    const outside = join(team, "outside.yaml");
    writeFileSync(outside, SCENARIO.replace("  - name: c\n", "  - name: c\n    manifests: [../ns.yaml]\n"));
    const run = async (opts: SweepOptions): Promise<number> => sweepCommand(outside, { workers: 1, json: true, ...opts }, () => undefined, () => undefined);
    expect(await run({})).toBe(2);
    expect(await run({ manifestsRoot: dir })).toBe(0);
  });
});
