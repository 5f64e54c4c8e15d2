// Swarm testing (`meshsim swarm`): a few hundred generated scenarios run with no crash, no hang and
// no broken invariant; the generator is a function of its seed, writes scenarios that load, and
// covers every feature across the seeds; the shrinker reduces a failure to a minimal scenario that
// still fails the same way; the known failures it found stay reproducible until they are fixed.

import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { swarmCommand, type SwarmCommandOptions } from "../src/cli/swarm-command.js";
import { CHANGE_KINDS, FAULT_KINDS } from "../src/scenario/schema.js";
import { featuresOf } from "../src/swarm/features.js";
import { generateCase } from "../src/swarm/generate.js";
import { failureSignature, loadCase, runCase, type Verdict } from "../src/swarm/run-case.js";
import { shrinkScenario } from "../src/swarm/shrink.js";
import { runSeed, summarize } from "../src/swarm/swarm.js";

type Obj = Record<string, unknown>;

const scratch = mkdtempSync(join(tmpdir(), "meshsim-swarm-"));
const fixtures = join(import.meta.dirname, "fixtures", "swarm");
/** Reproducers of failures the swarm found and that were fixed: each must now run clean. */
const fixed = join(import.meta.dirname, "fixtures", "swarm-fixed");
/** Cases of at most 5 s simulated keep a few hundred seeds within the test's time on a busy machine. */
const SMALL = { baseDir: scratch, generate: { maxDurationS: 5 } };
const SEEDS = 250;

/** A known failure: its reproducer's header says the kind and message it fails with. */
function knownFailures(): Array<{ file: string; scenario: Obj; signature: string }> {
  if (!existsSync(fixtures)) return [];
  return readdirSync(fixtures)
    .filter((f) => f.endsWith(".yaml"))
    .sort()
    .map((f) => {
      const text = readFileSync(join(fixtures, f), "utf8");
      const m = /^# (generator|exception|invariant|hang): (.*)$/m.exec(text);
      if (m === null) throw new Error(`${f}: no "# <kind>: <message>" header`);
      const signature = failureSignature({ kind: m[1], message: m[2] } as Verdict) as string;
      return { file: f, scenario: parse(text) as Obj, signature };
    });
}

describe("meshsim swarm", () => {
  it(`runs ${SEEDS} generated scenarios with no failure but the known ones`, () => {
    const known = new Set(knownFailures().map((k) => k.signature));
    const summary = summarize(1, Array.from({ length: SEEDS }, (_, i) => runSeed(i + 1, SMALL)));
    expect(summary.seeds).toBe(SEEDS);
    expect(summary.byKind.generator).toBe(0);
    const unknown = summary.failures.filter((f) => !known.has(f.signature)).map((f) => `seed ${f.seed}: ${f.kind}: ${f.message} (reproduce: meshsim swarm --seeds 1 --from ${f.seed} --max-duration 5)`);
    expect(unknown).toEqual([]);
    expect(summary.events).toBeGreaterThan(SEEDS * 100);
  });

  it("generates the same scenario from the same seed, and different ones from different seeds", () => {
    for (const seed of [1, 7, 123]) expect(generateCase(seed)).toEqual(generateCase(seed));
    const texts = new Set([1, 2, 3, 4, 5].map((seed) => JSON.stringify(generateCase(seed).scenario)));
    expect(texts.size).toBe(5);
  });

  it("runs a generated scenario to the same digest twice", () => {
    const digests = [3, 3].map((seed) => runSeed(seed, SMALL).verdict);
    expect(digests[0]?.kind).toBe("ok");
    expect(digests[0]).toEqual(digests[1]);
  });

  it("writes scenarios that load and, across the seeds, cover every feature", () => {
    const counts = new Map<string, number>();
    for (let seed = 1; seed <= 200; seed++) {
      const c = generateCase(seed, SMALL.generate);
      const loaded = loadCase(c.scenario, scratch);
      expect(loaded.ok ? [] : loaded.errors.map((e) => `seed ${seed}: ${e.path}: ${e.message}`)).toEqual([]);
      expect(c.features).toEqual(featuresOf(c.scenario));
      for (const f of c.features) counts.set(f, (counts.get(f) ?? 0) + 1);
    }
    const required = [
      ...FAULT_KINDS.map((k) => `fault:${k}`),
      ...CHANGE_KINDS.map((k) => `change:${k}`),
      "fault:overlapping",
      "clusters:1", "clusters:2", "clusters:3", "multicluster:links", "multicluster:exported-true", "multicluster:exported-remote-discovery",
      "workload:Deployment", "workload:StatefulSet", "topology:services-shorthand", "topology:cluster-inject",
      "policy:ServiceProfile", "policy:isRetryable", "policy:profileTimeout", "policy:retryBudget", "policy:responseClasses",
      "policy:HTTPRoute", "policy:GRPCRoute", "policy:policyGroupRoute", "policy:routeBackends",
      "annotation:http", "annotation:grpc", "annotation:limit", "annotation:timeout", "annotation:timeout-request", "annotation:timeout-response", "annotation:service-http",
      "split:canary", "split:failover", "mesh:success-rate-ramp", "dns",
      "app:calls", "app:routes", "app:errors", "app:grpc-status", "app:parallel-calls", "app:side-effect",
      "traffic:poisson", "traffic:constant", "traffic:closedLoop", "traffic:schedule", "traffic:mix", "traffic:grpc",
    ];
    expect(required.filter((f) => (counts.get(f) ?? 0) === 0)).toEqual([]);
  });

  it("shrinks a failing scenario to a minimal one that still fails the same way", () => {
    const hasPartition = (s: Obj): boolean => Array.isArray(s["faults"]) && s["faults"].some((f) => typeof f === "object" && f !== null && "partition" in f);
    const seed = Array.from({ length: 200 }, (_, i) => i + 1).find((s) => hasPartition(generateCase(s, SMALL.generate).scenario)) as number;
    const start = generateCase(seed, SMALL.generate).scenario;
    const fails = (s: Obj): boolean => hasPartition(s) && loadCase(s, scratch).ok;
    const r = shrinkScenario(start, fails);
    expect(r.minimal).toBe(true);
    expect(fails(r.scenario)).toBe(true);
    // What is left is what a partition needs: a run, two clusters (with nothing in them) and the fault.
    expect(Object.keys(r.scenario).sort()).toEqual(["clusters", "duration", "faults", "name", "seed"]);
    expect(r.scenario["clusters"]).toEqual([{ name: expect.any(String) }, { name: expect.any(String) }]);
    expect(r.scenario["faults"]).toEqual([{ at: expect.any(String), partition: { between: expect.any(Array) } }]);
    expect(JSON.stringify(r.scenario).length).toBeLessThan(JSON.stringify(start).length / 10);
    // A minimal scenario has no reduction left that still fails.
    expect(shrinkScenario(r.scenario, fails).steps).toEqual([]);
  });

  it("runs every reproducer of a fixed failure clean, at the length it failed at", () => {
    const files = readdirSync(fixed).filter((f) => f.endsWith(".yaml")).sort();
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const text = readFileSync(join(fixed, f), "utf8");
      const m = /^# reproduce: meshsim swarm .*?(--event-budget (\d+))?$/m.exec(text);
      const scenario = parse(text) as Obj;
      expect(loadCase(scenario, scratch).ok, f).toBe(true);
      const budget = m?.[2] === undefined ? {} : { eventBudget: Number(m[2]) };
      expect(runCase(scenario, { baseDir: scratch, ...budget }).kind, f).toBe("ok");
    }
  });

  it("keeps each known failure's reproducer failing the way its header says, until it is fixed", () => {
    const known = knownFailures();
    for (const k of known) {
      expect(loadCase(k.scenario, scratch).ok, k.file).toBe(true);
      expect(failureSignature(runCase(k.scenario, SMALL)), k.file).toBe(k.signature);
    }
  });
});

describe("meshsim swarm (command)", () => {
  async function swarm(opts: Partial<SwarmCommandOptions>): Promise<{ code: number; out: string; err: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await swarmCommand({ seeds: 2, maxDuration: 5, ...opts }, (s) => out.push(s), (s) => err.push(s));
    return { code, out: out.join("\n"), err: err.join("\n") };
  }

  it("exits 0 and prints the summary when every seed is ok", async () => {
    const r = await swarm({ from: 3, seeds: 2 });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^swarm: 2 seed\(s\) from 3: 2 ok, 0 failed/);
    expect(r.out).toMatch(/features covered/);
  });

  it("prints the same JSON on worker threads as in this thread", async () => {
    const one = await swarm({ from: 11, seeds: 4, json: true, workers: 1 });
    const two = await swarm({ from: 11, seeds: 4, json: true, workers: 2 });
    expect(JSON.parse(two.out)).toEqual(JSON.parse(one.out));
    expect(JSON.parse(one.out)).toMatchObject({ from: 11, seeds: 4 });
  });

  it("prints the same JSON for the same seeds", async () => {
    const a = await swarm({ from: 5, json: true });
    const b = await swarm({ from: 5, json: true });
    expect(JSON.parse(a.out)).toEqual(JSON.parse(b.out));
    expect(JSON.parse(a.out)).toMatchObject({ from: 5, seeds: 2, pass: true });
  });

  it("exits 1 on a failing seed, shrinks it and writes a reproducer meshsim run accepts", async () => {
    // An event budget no run fits in makes every case a hang: the failure path, end to end.
    const dir = join(scratch, "out");
    const r = await swarm({ from: 3, seeds: 1, eventBudget: 200, out: dir });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/1 failed/);
    expect(r.out).toMatch(/seed 3: hang: the run stalled: \d+ events by \d+us of \d+us, over its budget of 200 events/);
    expect(r.out).toMatch(/reproduce: meshsim swarm --seeds 1 --from 3 --max-duration 5 --event-budget 200$/m);
    const text = readFileSync(join(dir, "swarm-3.yaml"), "utf8");
    expect(text).toMatch(/^# hang: /m);
    const reduced = parse(text) as Obj;
    expect(loadCase(reduced, scratch).ok).toBe(true);
    expect(runCase(reduced, { baseDir: scratch, eventBudget: 200 }).kind).toBe("hang");
    expect(runCase(reduced, { baseDir: scratch }).kind).toBe("ok");
    expect(text.length).toBeLessThan(JSON.stringify(generateCase(3, { maxDurationS: 5 }).scenario).length);
  });

  it("refuses an --out that is a file, with exit 2 and nothing run", async () => {
    const file = join(scratch, "not-a-dir");
    writeFileSync(file, "");
    const r = await swarm({ out: file, json: true });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--out .*not-a-dir: cannot hold the reproducers/);
    expect(JSON.parse(r.out)).toMatchObject({ ok: false });
  });

  it("prints a seed's generated scenario with --print", async () => {
    const r = await swarm({ from: 9, seeds: 1, print: true });
    expect(r.code).toBe(0);
    expect(parse(r.out.replace(/^---\n/, ""))).toEqual(generateCase(9, { maxDurationS: 5 }).scenario);
  });
});
