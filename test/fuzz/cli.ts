// `npm run fuzz -- --n 100000 [--seed S] [--out DIR] [--workers K]`: mutate the scenarios of
// `scenarios/` for N cases, judge each through the library under a watchdog, print progress and a
// summary, write every failing case (and a shrunk one per cause) as YAML under --out, and exit 1
// if any case crashed, hung, broke an invariant or gave a malformed diagnostic.
// `--path P` (with --seed) replays one case instead: its YAML and its outcome.

import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { type FuzzTally, fuzz, fuzzBases, replayCase, replayCommand, reproducerFile, shrinkFailure } from "./fuzz.js";
import { failureSignature, FAILURES } from "./oracle.js";
import { CasePool } from "./pool.js";

const USAGE = `usage: npm run fuzz -- [--n N] [--seed S] [--out DIR] [--workers K] [--duration-cap S] [--max-events N]
                       [--watchdog-ms MS] [--slow-ms MS] [--memory-mb MB] [--shrink N]
       npm run fuzz -- --seed S --path P      replay one case (a path fast-check or this tool printed)`;

/** The seed used when none is given: fixed, so two plain runs explore the same cases. */
const DEFAULT_SEED = 20_261_126;

const { values } = parseArgs({
  options: {
    n: { type: "string", default: "1000" },
    seed: { type: "string", default: String(DEFAULT_SEED) },
    path: { type: "string" },
    out: { type: "string" },
    workers: { type: "string", default: String(Math.max(1, availableParallelism() - 1)) },
    "duration-cap": { type: "string", default: "2" },
    "max-events": { type: "string", default: "200000" },
    "watchdog-ms": { type: "string", default: "10000" },
    "slow-ms": { type: "string", default: "2000" },
    "memory-mb": { type: "string", default: "1024" },
    shrink: { type: "string", default: "5" },
    help: { type: "boolean", default: false },
  },
  strict: true,
});

/** The command that replays one case of this run, with this run's limits. */
function replayOf(seed: number, path: string): string {
  return replayCommand(seed, path, Number(values["duration-cap"]), Number(values["max-events"]));
}

function int(name: keyof typeof values, min: number): number {
  const text = String(values[name]);
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < min) {
    process.stderr.write(`--${name}: expected an integer ≥ ${min}, got "${text}"\n${USAGE}\n`);
    process.exit(2);
  }
  return n;
}

async function main(): Promise<number> {
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const seed = int("seed", -(2 ** 31));
  const durationCapS = Number(values["duration-cap"]);
  if (!(durationCapS > 0)) throw new Error(`--duration-cap: expected seconds > 0, got ${values["duration-cap"]}`);
  const bases = fuzzBases(durationCapS * 1e6);
  const workers = int("workers", 1);
  const out = values.out === undefined ? mkdtempSync(join(tmpdir(), "meshsim-fuzz-")) : resolve(values.out);
  mkdirSync(out, { recursive: true });
  const baseDir = mkdtempSync(join(tmpdir(), "meshsim-fuzz-cases-"));
  const pool = new CasePool({
    workers,
    watchdogMs: int("watchdog-ms", 100),
    memoryMb: int("memory-mb", 64),
    limits: { maxEvents: int("max-events", 1), baseDir },
  });
  try {
    if (values.path !== undefined) return await replay(seed, values.path, bases, pool);
    return await fuzzRun(seed, out, bases, pool, workers);
  } finally {
    await pool.close();
  }
}

async function replay(seed: number, path: string, bases: ReturnType<typeof fuzzBases>, pool: CasePool): Promise<number> {
  const { fuzzCase, yaml } = await replayCase(seed, path, bases);
  const outcome = await pool.run(yaml);
  process.stdout.write(reproducerFile(replayOf(seed, path), outcome, yaml, fuzzCase));
  process.stderr.write(`${outcome.kind}: ${outcome.detail.split("\n")[0]} (${outcome.ms} ms)\n`);
  return FAILURES.has(outcome.kind) ? 1 : 0;
}

function progressLine(t: FuzzTally, n: number, startedMs: number): string {
  const k = t.byKind;
  const failures = t.failures.length;
  const rate = t.cases / Math.max((Date.now() - startedMs) / 1000, 0.001);
  return `${t.cases}/${n} cases  input errors ${k["input-error"]}  runs ${k.run}  guarded ${k.guarded}  failures ${failures}  slow ${t.slow.length}  (${rate.toFixed(0)} cases/s)`;
}

async function fuzzRun(seed: number, out: string, bases: ReturnType<typeof fuzzBases>, pool: CasePool, workers: number): Promise<number> {
  const n = int("n", 1);
  const slowMs = int("slow-ms", 1);
  const started = Date.now();
  let lastPrint = started;
  process.stderr.write(`meshsim fuzz: ${n} cases from ${bases.length} scenarios, seed ${seed}, ${workers} worker(s); failing cases go to ${out}\n`);
  const written = new Map<string, number>();
  const tally = await fuzz({
    seed, numRuns: n, pool, workers, bases, slowMs,
    onCase: (r, t) => {
      if (FAILURES.has(r.outcome.kind)) {
        const sig = failureSignature(r.outcome);
        const count = (written.get(sig) ?? 0) + 1;
        written.set(sig, count);
        process.stderr.write(`case ${r.index}: ${sig}\n`);
        if (count <= 20) writeFileSync(join(out, `case-${r.index}.yaml`), reproducerFile(replayOf(seed, String(r.index)), r.outcome, r.yaml, r.fuzzCase));
      }
      if (Date.now() - lastPrint >= 5000 || t.cases === n) {
        lastPrint = Date.now();
        process.stderr.write(`${progressLine(t, n, started)}\n`);
      }
    },
  });
  const k = tally.byKind;
  const lines = [
    `cases ${tally.cases}  input errors ${k["input-error"]}  runs ${k.run}  guarded ${k.guarded}  crashes ${k.crash}  hangs ${k.hang}  out of memory ${k.oom}  invariant ${k.invariant}  bad diagnostics ${k["bad-diagnostic"]}  runaways ${k.runaway}  slow (> ${slowMs} ms) ${tally.slow.length}`,
    `wall ${((Date.now() - started) / 1000).toFixed(1)} s, seed ${seed}`,
  ];
  for (const s of tally.slow.slice(0, 10)) lines.push(`  slow: case ${s.index} ${s.ms} ms (${s.kind}); replay: ${replayOf(seed, String(s.index))}`);
  const causes = new Map<string, number[]>();
  for (const f of tally.failures) {
    const sig = failureSignature(f.outcome);
    causes.set(sig, [...(causes.get(sig) ?? []), f.index]);
  }
  let shrinkLeft = int("shrink", 0);
  for (const [sig, indexes] of causes) {
    lines.push(`  ${indexes.length} × ${sig}`, `      cases ${indexes.slice(0, 10).join(", ")}${indexes.length > 10 ? ", …" : ""}`);
    if (shrinkLeft-- <= 0) continue;
    const shrunk = await shrinkFailure({ seed, index: indexes[0] as number, pool, bases, timeLimitMs: 120_000 });
    if (shrunk === undefined) {
      lines.push("      (did not fail again on replay)");
      continue;
    }
    const file = join(out, `shrunk-${indexes[0]}.yaml`);
    writeFileSync(file, reproducerFile(replayOf(seed, shrunk.path), shrunk.outcome, shrunk.yaml, shrunk.fuzzCase));
    lines.push(`      shrunk: ${file} (path ${shrunk.path})`);
  }
  if (causes.size > 0) lines.push(`failing cases written to ${out}`);
  process.stdout.write(`${lines.join("\n")}\n`);
  return tally.failures.length > 0 ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`meshsim fuzz: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 2;
  },
);
