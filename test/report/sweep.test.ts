// The pure half of `meshsim sweep`: the --vary syntax, the grid's order, shard slicing, merging
// shards back (and refusing what does not fit), the CSV and the Kubernetes Job. Expected values
// come from the syntax's definition (n evenly spaced values, inclusive, unit kept).

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  expandGrid,
  failedResult,
  k8sJobManifest,
  mergeShards,
  parseShard,
  parseVary,
  seedList,
  type ShardDoc,
  shardPoints,
  sweepCsv,
  type SweepGrid,
  sweepTable,
} from "../../src/report/sweep.js";

const GRID: SweepGrid = { file: "s.yaml", axes: [{ name: "rate", values: ["10/s", "20/s", "30/s"] }, { name: "replicas", values: ["1", "3"] }], seeds: ["1", "2"] };

/** A shard built as the command builds it, with placeholder results (the figures do not matter to merging). */
function shardOf(grid: SweepGrid, index: number, count: number): ShardDoc {
  const points = shardPoints(expandGrid(grid), { index, count });
  return { kind: "meshsim-sweep-shard", grid, shard: { index, count }, indices: points.map((p) => p.index), results: points.map((p) => failedResult(p, "placeholder")) };
}

describe("parseVary", () => {
  it.each([
    ["a list, taken verbatim", "mode=a,b,c", "mode", ["a", "b", "c"]],
    ["a one-value list", "replicas=3", "replicas", ["3"]],
    ["a range keeping its unit", "rate=500/s..8000/s:4", "rate", [500, 3000, 5500, 8000].map((v) => `${v}/s`)],
    ["a range with the unit on one end only", "timeout=100..400ms:3", "timeout", ["100ms", "250ms", "400ms"]],
    ["a unitless range of fractions without float noise", "p=0..1:11", "p", Array.from({ length: 11 }, (_, i) => String(i / 10))],
    ["a descending range", "rate=30/s..10/s:3", "rate", ["30/s", "20/s", "10/s"]],
  ])("reads %s", (_what, text, name, values) => {
    expect(parseVary(text)).toEqual({ ok: true, value: { name, values } });
  });

  it.each([
    ["no name", "=1,2", /name=/],
    ["no '='", "rate", /name=/],
    ["an empty list value", "rate=1,,2", /empty value/],
    ["a count below two", "rate=1/s..2/s:1", /≥ 2/],
    ["different units", "t=1s..2ms:3", /different units/],
    ["non-numeric ends", "t=a..b:3", /numbers/],
  ])("refuses %s", (_what, text, message) => {
    const r = parseVary(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(message);
  });
});

describe("expandGrid", () => {
  it("is the cartesian product: first axis slowest, seeds fastest", () => {
    const points = expandGrid(GRID);
    expect(points).toHaveLength(3 * 2 * 2);
    expect(points.map((p) => p.index)).toEqual(points.map((_, i) => i));
    expect(points.slice(0, 5).map((p) => [p.set["rate"], p.set["replicas"], p.seed])).toEqual([
      ["10/s", "1", "1"],
      ["10/s", "1", "2"],
      ["10/s", "3", "1"],
      ["10/s", "3", "2"],
      ["20/s", "1", "1"],
    ]);
  });

  it("has one point with the scenario's seed when nothing is varied and no seeds are asked for", () => {
    expect(expandGrid({ file: "s.yaml", axes: [], seeds: seedList(undefined) })).toEqual([{ index: 0, set: {}, seed: null }]);
  });

  it("numbers --seeds N as 1..N", () => {
    expect(seedList(3)).toEqual(["1", "2", "3"]);
  });
});

describe("shards", () => {
  it.each([
    ["0/1", { index: 0, count: 1 }],
    ["2/3", { index: 2, count: 3 }],
  ])("reads %s as 0-based", (text, value) => {
    expect(parseShard(text)).toEqual({ ok: true, value });
  });

  it.each(["3/3", "1/0", "-1/2", "1", "a/b", "1/2/3"])("refuses %s", (text) => {
    expect(parseShard(text).ok).toBe(false);
  });

  it("partitions any grid: every index in exactly one shard, and index % n === i", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 9 }), (size, count) => {
        const grid: SweepGrid = { file: "s.yaml", axes: [{ name: "x", values: Array.from({ length: size }, (_, i) => String(i)) }], seeds: [null] };
        const seen = Array.from({ length: count }, (_, i) => shardPoints(expandGrid(grid), { index: i, count }).map((p) => p.index));
        seen.forEach((indices, i) => expect(indices.every((k) => k % count === i)).toBe(true));
        expect(seen.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: size }, (_, i) => i));
      }),
    );
  });
});

describe("mergeShards", () => {
  it("puts the shards' results back in grid order, whatever order the files come in", () => {
    const merged = mergeShards([shardOf(GRID, 2, 3), shardOf(GRID, 0, 3), shardOf(GRID, 1, 3)]);
    expect(merged.ok).toBe(true);
    if (merged.ok) {
      expect(merged.value.grid).toEqual(GRID);
      expect(merged.value.results.map((r) => r.index)).toEqual(expandGrid(GRID).map((p) => p.index));
    }
  });

  it.each([
    ["no shards", () => [], /no shard/],
    ["shards of different grids", () => [shardOf(GRID, 0, 2), shardOf({ ...GRID, seeds: ["1"] }, 1, 2)], /different grid/],
    ["a missing shard", () => [shardOf(GRID, 0, 3), shardOf(GRID, 2, 3)], /missing/],
    ["overlapping shards", () => [shardOf(GRID, 0, 2), shardOf(GRID, 1, 2), shardOf(GRID, 0, 4)], /more than one shard/],
    ["a file that is not a shard", () => [{ ...shardOf(GRID, 0, 1), kind: "meshsim-sweep" } as unknown as ShardDoc], /not a sweep shard/],
  ])("refuses %s", (_what, shards, message) => {
    const r = mergeShards(shards());
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(message);
  });
});

describe("outputs", () => {
  const doc = { kind: "meshsim-sweep" as const, grid: GRID, results: expandGrid(GRID).map((p) => ({ ...failedResult(p, ""), error: undefined as unknown as string, seed: p.seed ?? "", digest: `d${p.index}`, pass: true, requests: p.index, successRate: 0.5, latencyMsP50: 1.5, latencyMsP99: null, retryRatio: 0, expectations: [{ name: "ok, mostly", pass: true, measured: 0.25 }] })) };

  it("writes one CSV row per run, params as columns, an expectation's measured value as its own column", () => {
    const lines = sweepCsv(doc).trimEnd().split("\n");
    expect(lines).toHaveLength(1 + 12);
    expect(lines[0]).toBe('index,rate,replicas,seed,pass,requests,success_rate,latency_p50_ms,latency_p99_ms,retry_ratio,digest,"ok, mostly",error');
    expect(lines[1]).toBe("0,10/s,1,1,true,0,0.5,1.5,,0,d0,0.25,");
  });

  it("prints a table with a header and a line per run", () => {
    const lines = sweepTable(doc).split("\n");
    expect(lines[0]).toMatch(/^#\s+RATE\s+REPLICAS\s+SEED\s+PASS/);
    expect(lines).toHaveLength(13);
  });
});

describe("k8sJobManifest", () => {
  it("is an Indexed batch/v1 Job with one completion per shard, each running its own shard", () => {
    const job = k8sJobManifest(GRID, { name: "sw", image: "img", shards: 4, resultsClaim: "claim" }) as any;
    expect([job.apiVersion, job.kind, job.spec.completionMode, job.spec.completions, job.spec.parallelism]).toEqual(["batch/v1", "Job", "Indexed", 4, 4]);
    const c = job.spec.template.spec.containers[0];
    expect(c.command).toEqual(["npx", "meshsim", "sweep", "s.yaml", "--vary", "rate=10/s,20/s,30/s", "--vary", "replicas=1,3", "--seeds", "2", "--shard", "$(JOB_COMPLETION_INDEX)/4", "--out", "/results"]);
    expect(job.spec.template.spec.volumes[0].persistentVolumeClaim.claimName).toBe("claim");
  });
});
