// `meshsim verify FILE|DIR|GLOB... --seeds N`: every scenario on seeds S..S+N−1 (the scenario's own
// seed is not used) on the sweep's worker threads, tallied per expectation against the seeds it
// must hold on (`seeds: {atLeast}`, default all). A directory means every scenario below it; a
// directory or a glob skips YAML that is not a scenario (manifests), by the rule `meshsim check`
// uses. Exit: 0 every expectation held often enough, 1 one did not, 2 bad input (the other files
// still run), 3 an invariant broke (a bug in meshsim); the worst wins.

import { writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { type Command, InvalidArgumentError } from "commander";
import { globSync } from "tinyglobby";
import { verifyJunitXml } from "../api/junit.js";
import { formatInputError, type InputError } from "../k8s/input-error.js";
import type { ExpectSpec } from "../mesh/spec.js";
import { formatVerifiedScenario, type SeedOutcome, seedRange, tallyScenario, type VerifiedScenario, verifyJson } from "../report/verify.js";
import { loadScenario } from "../scenario/load.js";
import { isScenario } from "./check-command.js";
import { fileReader, manifestsRoot } from "./files.js";
import { runsProgressBar } from "./progress.js";
import { commandLineError, EXIT, inputErrorsJson, parseSets, unwritable } from "./run-command.js";
import { runJobs } from "./sweep-command.js";
import type { PointJob } from "./sweep-worker.js";

export interface VerifyOptions {
  /** `--seeds N`: how many seeds each scenario runs on. Required. */
  seeds: number;
  /** `--from S`: the first seed; the seeds are S, S+1, …, S+N−1. Default 1. */
  from?: number;
  /** Worker threads; default os.availableParallelism(). 1 runs in this thread. The results do not depend on it. */
  workers?: number;
  /** Print one JSON object `{scenarios: [...], pass}` instead of the text report. */
  json?: boolean;
  /** Write a JUnit XML report (one testcase per scenario and expectation) to this file. */
  junit?: string;
  /** `--set name=value`, repeatable: param overrides applied to every scenario (as `run --set`). */
  set?: string[];
  /** `--manifests-root`: where the scenarios' manifests may come from. Absent ⇒ each scenario's own directory tree. */
  manifestsRoot?: string;
}

type Print = (line: string) => void;

/** A scenario file to verify, as the user named it, or the input errors that stop it. */
type Target = { shown: string; expect: readonly ExpectSpec[] } | { shown: string; errors: InputError[] };

const GLOB_CHARS = /[*?[\]{}]/;

/** Every file an argument names: a directory's YAML files (recursively), a glob's matches, or the file itself. */
function expand(arg: string): { files: string[]; onlyScenarios: boolean } {
  const dir = fileReader.filesInDirectory(resolve(arg), process.cwd());
  if (dir !== undefined) {
    const found = globSync("**/*.{yaml,yml}", { cwd: resolve(arg), onlyFiles: true, expandDirectories: false }).sort();
    return { files: found.map((f) => join(arg, f)), onlyScenarios: true };
  }
  if (GLOB_CHARS.test(arg)) {
    return { files: globSync(arg, { cwd: process.cwd(), absolute: isAbsolute(arg), onlyFiles: true, expandDirectories: false }).sort(), onlyScenarios: true };
  }
  return { files: [arg], onlyScenarios: false };
}

function looksLikeScenario(file: string): boolean {
  try {
    return isScenario(fileReader.read(resolve(file)));
  } catch {
    return true; // let loading say why it cannot be read
  }
}

interface LoadChoices {
  set: Record<string, string>;
  manifestsRoot?: string;
}

function targetsOf(args: readonly string[], choices: LoadChoices): Target[] {
  const targets: Target[] = [];
  for (const arg of args) {
    const { files, onlyScenarios } = expand(arg);
    const chosen = onlyScenarios ? files.filter(looksLikeScenario) : files;
    if (chosen.length === 0) {
      const message = `no scenario ${GLOB_CHARS.test(arg) ? "matches this pattern" : "in this directory"} (relative to ${process.cwd()}); nothing was simulated for it`;
      targets.push({ shown: arg, errors: [{ file: arg, line: 0, col: 0, path: "", message }] });
    }
    for (const file of chosen) {
      const loaded = loadScenario(resolve(file), fileReader, { displayAs: file, set: choices.set, ...manifestsRoot(choices.manifestsRoot) });
      targets.push(loaded.ok ? { shown: file, expect: loaded.spec.expect } : { shown: file, errors: loaded.errors });
    }
  }
  return targets;
}

export async function verifyCommand(args: readonly string[], opts: VerifyOptions, out: Print, err: Print): Promise<number> {
  if (opts.junit !== undefined) {
    const why = unwritable(opts.junit);
    if (why !== undefined) {
      const error = commandLineError(`--junit ${opts.junit}: cannot be written (${why}); nothing was simulated`);
      err(formatInputError(error));
      if (opts.json === true) out(inputErrorsJson([error]));
      return EXIT.badInput;
    }
  }
  const set = parseSets(opts.set);
  if (typeof set === "string") {
    err(set);
    if (opts.json === true) out(inputErrorsJson([commandLineError(set)]));
    return EXIT.badInput;
  }
  const root = manifestsRoot(opts.manifestsRoot).manifestsRoot;
  const from = opts.from ?? 1;
  const seeds = seedRange(from, opts.seeds);
  const targets = targetsOf(args, { set, ...(root === undefined ? {} : { manifestsRoot: root }) });
  const jobs: PointJob[] = [];
  const owners: number[] = [];
  for (const [t, target] of targets.entries()) {
    if ("errors" in target) continue;
    for (const seed of seeds) {
      owners.push(t);
      jobs.push({ file: target.shown, point: { index: jobs.length, set, seed: String(seed) }, ...(root === undefined ? {} : { manifestsRoot: root }) });
    }
  }
  let results;
  try {
    results = await runJobs(jobs, opts.workers ?? availableParallelism(), opts.json === true ? undefined : runsProgressBar("verify", jobs.length));
  } catch (e) {
    err(`meshsim verify: a worker failed (a bug in meshsim): ${e instanceof Error ? e.message : String(e)}`);
    return EXIT.invariant;
  }
  const scenarios: VerifiedScenario[] = targets.map((target, t): VerifiedScenario => {
    if ("errors" in target) return { file: target.shown, seeds: [], expectations: [], errors: target.errors };
    const mine = results.filter((_, k) => owners[k] === t);
    const failed = mine.filter((r) => r.error !== undefined);
    if (failed.length > 0) {
      const errors = failed.map((r): InputError => ({ file: target.shown, line: 0, col: 0, path: "", message: `seed ${r.seed}: ${r.error ?? ""}` }));
      return { file: target.shown, seeds: [], expectations: [], errors };
    }
    const outcomes = mine.map((r): SeedOutcome => ({ seed: Number(r.seed), expectations: r.expectations, invariantViolations: r.invariantViolations ?? 0 }));
    return tallyScenario(target.shown, target.expect, outcomes);
  });
  const code = Math.max(EXIT.ok, ...scenarios.map(exitCodeOf));
  const allErrors = scenarios.flatMap((s) => s.errors ?? []);
  for (const e of allErrors) err(formatInputError(e));
  if (opts.json === true) {
    out(JSON.stringify(verifyJson(scenarios), null, 2));
  } else {
    const loaded = scenarios.filter((s) => s.errors === undefined);
    out(loaded.map((s) => formatVerifiedScenario(s).join("\n")).join("\n\n"));
    const failing = loaded.filter((s) => exitCodeOf(s) !== EXIT.ok).length;
    out(`\n${loaded.length} scenario(s) on ${seeds.length} seed(s): ${failing === 0 ? "all held" : `${failing} failed`}${allErrors.length > 0 ? `; ${scenarios.length - loaded.length} file(s) not simulated (input errors above)` : ""}`);
  }
  if (opts.junit !== undefined) writeFileSync(opts.junit, verifyJunitXml(scenarios));
  return code;
}

function exitCodeOf(s: VerifiedScenario): number {
  if (s.errors !== undefined) return EXIT.badInput;
  if (s.invariantViolationSeeds !== undefined) return EXIT.invariant;
  return s.expectations.every((e) => e.pass) ? EXIT.ok : EXIT.expectationFailed;
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

export function registerVerify(program: Command, out: Print, err: Print): void {
  program
    .command("verify")
    .description("run scenarios on many seeds and count, per expectation, the seeds it held on (exit 0 held often enough, 1 did not, 2 bad input, 3 invariant broken)")
    .argument("<paths...>", "scenario files, directories (every scenario below them; manifests are skipped) or globs")
    .requiredOption("--seeds <n>", "run each scenario on n seeds (the scenario's own seed is not used)", positiveInteger)
    .option("--from <s>", "the first seed: seeds s..s+n-1 (default 1)", wholeNumber)
    .option("--workers <n>", "worker threads (default: available parallelism; 1 runs in-process); results are the same for any count", positiveInteger)
    .option("--json", "print {scenarios: [{file, seeds, expectations: [{name, held, of, required, pass, failingSeeds}]}], pass}")
    .option("--junit <file>", "write a JUnit XML report: one testcase per scenario and expectation, named with the seeds it held on")
    .option("--set <name=value>", "override a scenario param in every scenario (repeatable)", (value: string, previous: string[] = []) => [...previous, value])
    .option("--manifests-root <dir>", "let the scenarios' manifests come from anywhere below DIR (default: only below each scenario's own directory)")
    .action((paths: string[], opts: VerifyOptions) => {
      verifyCommand(paths, opts, out, err).then(
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
