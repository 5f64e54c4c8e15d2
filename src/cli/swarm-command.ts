// `meshsim swarm --seeds N [--from S]`: swarm testing in the style of TigerBeetle's VOPR. Each
// seed generates a random but valid scenario (src/swarm/generate.ts), which runs briefly; a seed
// fails when its scenario does not load (a generator bug), a run throws, an online invariant
// breaks, or a run exceeds its event budget (a hang). The first failure of each kind of failure is
// shrunk to a small scenario that fails the same way, printed as YAML with the command that
// reproduces it, and written to `--out DIR` as a file `meshsim run` accepts.
// Cases run on worker threads (`--workers`) and are gathered by seed, so the output is the same for
// any worker count.
// Exit: 0 every seed ok, 1 any failed, 2 bad input.

import { existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { type Command, InvalidArgumentError } from "commander";
import { formatInputError } from "../k8s/input-error.js";
import { DEFAULT_GENERATE, generateCase } from "../swarm/generate.js";
import { scenarioYaml } from "../swarm/run-case.js";
import { distinctFailures, formatSwarmSummary, reproducerYaml, type SeedOutcome, shrinkSeed, summarize, type SwarmOptions } from "../swarm/swarm.js";
import { runsProgressBar } from "./progress.js";
import { commandLineError, EXIT, inputErrorsJson } from "./run-command.js";
import { runOnWorkers } from "./worker-pool.js";

export interface SwarmCommandOptions {
  /** `--seeds N`: how many seeds to run. Required. */
  seeds: number;
  /** `--from S`: the first seed; the seeds are S..S+N−1. Default 1. */
  from?: number;
  /** Accepted for parity with `verify`; cases run in this thread whatever it says, so results never depend on it. */
  workers?: number;
  /** Print one JSON object instead of the text summary. */
  json?: boolean;
  /** Directory for the shrunk reproducers (`swarm-<seed>.yaml`). */
  out?: string;
  /** Longest simulated run of a generated case, seconds. Default 20. */
  maxDuration?: number;
  /** `--no-shrink`: report failures without shrinking them. */
  shrink?: boolean;
  /** Print each seed's generated scenario as YAML instead of running it. */
  print?: boolean;
  /** Kernel events a case may take before it counts as a hang; default 20 per estimated event, at least 500,000; a quarter of it in any twentieth of the run. */
  eventBudget?: number;
  /** Wall-clock seconds to spend shrinking each failure; default 120. */
  shrinkSeconds?: number;
}

type Print = (line: string) => void;

/** Why `dir` cannot take the reproducers, or undefined when it can (it is created if missing). */
function outProblem(dir: string): string | undefined {
  try {
    if (existsSync(dir) && !statSync(dir).isDirectory()) return "it exists and is not a directory";
    mkdirSync(dir, { recursive: true });
    return undefined;
  } catch (e) {
    return e instanceof Error && "code" in e ? String((e as NodeJS.ErrnoException).code) : "it cannot be created";
  }
}

function reproduceLine(seed: number, opts: SwarmCommandOptions): string {
  const duration = opts.maxDuration !== undefined && opts.maxDuration !== DEFAULT_GENERATE.maxDurationS ? ` --max-duration ${opts.maxDuration}` : "";
  const budget = opts.eventBudget === undefined ? "" : ` --event-budget ${opts.eventBudget}`;
  return `reproduce: meshsim swarm --seeds 1 --from ${seed}${duration}${budget}`;
}

interface Shrunk {
  seed: number;
  kind: string;
  message: string;
  reproduce: string;
  attempts: number;
  minimal: boolean;
  yaml: string;
  file?: string;
}

export async function swarmCommand(opts: SwarmCommandOptions, out: Print, err: Print): Promise<number> {
  if (opts.out !== undefined) {
    const why = outProblem(opts.out);
    if (why !== undefined) {
      const error = commandLineError(`--out ${opts.out}: cannot hold the reproducers (${why}); nothing was run`);
      err(formatInputError(error));
      if (opts.json === true) out(inputErrorsJson([error]));
      return EXIT.badInput;
    }
  }
  const from = opts.from ?? 1;
  const options: SwarmOptions = {
    baseDir: process.cwd(),
    generate: { maxDurationS: opts.maxDuration ?? DEFAULT_GENERATE.maxDurationS },
    ...(opts.eventBudget === undefined ? {} : { eventBudget: opts.eventBudget }),
  };
  if (opts.print === true) {
    for (let seed = from; seed < from + opts.seeds; seed++) out(`---\n${scenarioYaml(generateCase(seed, options.generate).scenario).trimEnd()}`);
    return EXIT.ok;
  }
  const bar = opts.json === true ? undefined : runsProgressBar("swarm", opts.seeds);
  const jobs = Array.from({ length: opts.seeds }, (_, i) => ({ seed: from + i, options }));
  const outcomes: SeedOutcome[] = await runOnWorkers("swarm", jobs, opts.workers ?? availableParallelism(), bar);
  const summary = summarize(from, outcomes);
  const shrunk: Shrunk[] = [];
  if (opts.shrink !== false) {
    for (const f of distinctFailures(summary)) {
      const deadline = Date.now() + (opts.shrinkSeconds ?? 120) * 1000;
      const r = shrinkSeed(f.seed, options, { keepGoing: () => Date.now() < deadline });
      const reproduce = reproduceLine(f.seed, opts);
      const yaml = reproducerYaml(f.seed, f, r.scenario, reproduce);
      const entry: Shrunk = { seed: f.seed, kind: f.kind, message: f.message, reproduce, attempts: r.attempts, minimal: r.minimal, yaml };
      if (opts.out !== undefined) {
        entry.file = join(opts.out, `swarm-${f.seed}.yaml`);
        writeFileSync(entry.file, yaml);
      }
      shrunk.push(entry);
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
  if (opts.json === true) {
    const failures = summary.failures.map((f) => ({ ...f, reproduce: reproduceLine(f.seed, opts) }));
    out(JSON.stringify({ ...summary, failures, shrunk, pass: summary.failures.length === 0 }, null, 2));
  } else {
    for (const line of formatSwarmSummary(summary)) out(line);
    for (const s of shrunk) {
      out(`\nseed ${s.seed} (${s.kind}), shrunk in ${s.attempts} runs${s.minimal ? "" : " (time or attempt budget spent: smaller may exist)"}${s.file === undefined ? "" : `, written to ${s.file}`}:`);
      out(s.yaml.trimEnd());
      out(s.reproduce);
    }
    if (summary.failures.length > 0 && shrunk.length === 0) out(reproduceLine((summary.failures[0] as { seed: number }).seed, opts));
  }
  return summary.failures.length === 0 ? EXIT.ok : EXIT.expectationFailed;
}

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError("expected a positive whole number");
  return n;
}

function wholeNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError("expected a whole number (0 or more)");
  return n;
}

export function registerSwarm(program: Command, out: Print, err: Print): void {
  program
    .command("swarm")
    .description("generate random valid scenarios from seeds, run each briefly and check invariants, crashes and hangs; shrink failures (exit 0 all ok, 1 a seed failed, 2 bad input)")
    .requiredOption("--seeds <n>", "run n seeds", positiveInteger)
    .option("--from <s>", "the first seed: seeds s..s+n-1 (default 1)", wholeNumber)
    .option("--workers <n>", "worker threads (default: available parallelism; 1 runs in-process); results are the same for any count", positiveInteger)
    .option("--json", "print {seeds, ok, failures: [{seed, kind, message, reproduce}], byKind, features, shrunk, pass}")
    .option("--out <dir>", "write each shrunk reproducer to DIR/swarm-<seed>.yaml (a scenario meshsim run accepts)")
    .option("--max-duration <seconds>", `longest simulated run of a generated case (default ${DEFAULT_GENERATE.maxDurationS})`, positiveInteger)
    .option("--event-budget <n>", "kernel events a case may take before it counts as a hang (default: 20 per estimated event, at least 500,000); a quarter of it spent within a twentieth of the run also counts", positiveInteger)
    .option("--shrink-seconds <s>", "wall-clock time to spend shrinking each distinct failure (default 120)", positiveInteger)
    .option("--no-shrink", "report failing seeds without shrinking them")
    .option("--print", "print each seed's generated scenario as YAML and run nothing")
    .action((opts: SwarmCommandOptions) => {
      swarmCommand(opts, out, err).then(
        (code) => {
          process.exitCode = code;
        },
        (e: unknown) => {
          err(`meshsim: internal error: ${e instanceof Error ? e.message : String(e)}`);
          process.exitCode = EXIT.invariant;
        },
      );
    });
}
