// The `meshsim` command line. The only layer that touches the process, files and the console.

import { resolve } from "node:path";
import { Command, InvalidArgumentError } from "commander";
import { formatInputError } from "../k8s/input-error.js";
import { loadScenario } from "../scenario/load.js";
import { checkCommand } from "./check-command.js";
import { runMmcDemo } from "./demo.js";
import { fileReader, manifestsRoot } from "./files.js";
import { EXIT, parseSets, runCommand } from "./run-command.js";
import { registerMerge, registerSweep } from "./sweep-command.js";
import { registerPolicy } from "./policy-command.js";
import { registerTap } from "./tap-command.js";
import { registerViz } from "./viz-command.js";
import { registerSwarm } from "./swarm-command.js";
import { registerVerify } from "./verify-command.js";
import { versionLine } from "./version.js";

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError("expected a positive number");
  return n;
}

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError("expected a positive whole number");
  return n;
}

// A reader that stops early (`meshsim … | head`) closes the pipe: stop quietly, as Unix tools do.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(0);
    throw err;
  });
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];
const stdout = (line: string): void => {
  process.stdout.write(line + "\n");
};
const stderr = (line: string): void => {
  process.stderr.write(line + "\n");
};

const program = new Command()
  .name("meshsim")
  .description("Deterministic discrete-event simulator of a Linkerd service mesh")
  .version(versionLine(), "-V, --version", "print meshsim's version and the Linkerd version it simulates")
  .showHelpAfterError()
  .exitOverride((err) => {
    process.exit(err.exitCode === 0 ? EXIT.ok : EXIT.badInput);
  });

program
  .command("run")
  .description("simulate scenario files and check their expectations (exit 0 met, 1 failed, 2 bad input, 3 invariant broken)")
  .argument("<files...>", "scenario YAML files")
  .option("--seed <seed>", "override the scenario's seed")
  .option("--set <name=value>", "override a scenario param (repeatable)", collect)
  .option("--json", "print one JSON object per scenario; input errors as {ok: false, errors: [...]}")
  .option("--trace <file>", "write the decision trace as JSON lines")
  .option("--trace-format <format>", "json (default) or short", "json")
  .option("--out <dir>", "write report.html, report.md, charts/, result.json, summary.txt and CSVs into this directory")
  .option("--junit <file>", "write a JUnit XML report: one testcase per expectation")
  .option("--openmetrics <file>", "write the proxies' metrics as an OpenMetrics time series with Linkerd's names (for promtool tsdb create-blocks-from openmetrics)")
  .option("--scrape-interval <duration>", "with --openmetrics: one sample per this much simulated time (default 10s)")
  .option("--openmetrics-epoch <instant>", "with --openmetrics: the wall-clock instant simulated time 0 maps to (default 2026-01-01T00:00:00Z)")
  .option("--openmetrics-format <format>", "with --openmetrics: openmetrics (every scrape, timestamped; default) or prometheus (the last scrape, as a proxy's /metrics serves it)")
  .option("--verbose", "list every diagnostic and not-simulated object in full, not one line per code")
  .option("--strict", "exit 1 when meshsim check finds any error or warning in the scenario (notes never count)")
  .option("--force", "with --out: write into a directory that holds other files")
  .option("--manifests-root <dir>", "let the scenario's manifests come from anywhere below DIR (default: only below the scenario's own directory)")
  .action((files: string[], opts: { seed?: string; set?: string[]; json?: boolean; trace?: string; traceFormat?: string; out?: string; junit?: string; openmetrics?: string; scrapeInterval?: string; openmetricsEpoch?: string; openmetricsFormat?: string; verbose?: boolean; strict?: boolean; manifestsRoot?: string; force?: boolean }) => {
    process.exitCode = runCommand(files, { ...opts, traceFormat: opts.traceFormat === "short" ? "short" : "json" }, stdout, stderr);
  });

program
  .command("check")
  .description("report what Linkerd will actually do with the manifests (a scenario file or plain manifests)")
  .argument("<files...>", "scenario or manifest files")
  .option("--json", "print {diagnostics: [...]}; input errors as {ok: false, errors: [...]}")
  .option("--notes", "also explain how every retry annotation behaves (limit counts retries; no budget)")
  .option("--verbose", "list every diagnostic and not-simulated object in full, not one line per code")
  .option("--manifests-root <dir>", "let the scenario's manifests come from anywhere below DIR (default: only below the scenario's own directory)")
  .action((files: string[], opts: { json?: boolean; notes?: boolean; verbose?: boolean; manifestsRoot?: string }) => {
    process.exitCode = checkCommand(files, opts, stdout, stderr);
  });

program
  .command("explain")
  .description("print the normalised scenario with every default filled in")
  .argument("<file>", "scenario file")
  .option("--set <name=value>", "override a scenario param (repeatable)", collect)
  .option("--manifests-root <dir>", "let the scenario's manifests come from anywhere below DIR (default: only below the scenario's own directory)")
  .action((file: string, opts: { set?: string[]; manifestsRoot?: string }) => {
    const set = parseSets(opts.set);
    if (typeof set === "string") {
      stderr(set);
      process.exitCode = EXIT.badInput;
      return;
    }
    const loaded = loadScenario(resolve(file), fileReader, { set, displayAs: file, ...manifestsRoot(opts.manifestsRoot) });
    if (!loaded.ok) {
      for (const e of loaded.errors) stderr(formatInputError(e));
      process.exitCode = EXIT.badInput;
      return;
    }
    stdout(JSON.stringify(loaded.explain, null, 2));
  });

program
  .command("demo")
  .description("validation demos of the simulation kernel against closed forms")
  .command("mmc")
  .description("an M/M/c queue on the kernel, compared with Erlang C")
  .option("--servers <c>", "servers", positiveInteger, 2)
  .option("--lambda <rate>", "arrivals per second", positiveNumber, 1.6)
  .option("--mu <rate>", "services per second per server", positiveNumber, 1)
  .option("--customers <n>", "customers to simulate", positiveInteger, 400_000)
  .option("--seed <seed>", "seed (the same seed gives the same digest)", "1")
  .option("--json", "print one JSON object")
  .action((opts: { servers: number; lambda: number; mu: number; customers: number; seed: string; json?: boolean }) => {
    process.exitCode = runMmcDemo(opts, stdout);
  });

registerSweep(program, stdout, stderr);
registerMerge(program, stdout, stderr);
registerVerify(program, stdout, stderr);
registerSwarm(program, stdout, stderr);
registerPolicy(program, stdout, stderr);
registerViz(program, stdout, stderr);
registerTap(program, stdout, stderr);

try {
  program.parse(process.argv);
} catch (e) {
  // Anything thrown here is a bug in meshsim, not bad input: say so without a stack trace.
  stderr(`meshsim: internal error: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(EXIT.invariant);
}
