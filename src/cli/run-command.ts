// `meshsim run FILE...`: load, say what `meshsim check` finds and what is not simulated, simulate,
// print the summary (or JSON), write a trace if asked, and exit 0 (all met), 1 (an expectation
// failed, or under --strict any error or warning check finds), 2 (bad input) or 3 (an invariant
// broke: a bug).

import { accessSync, constants, createWriteStream, existsSync, readdirSync, statSync, writeFileSync, type WriteStream } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { globSync } from "tinyglobby";
import { junitXml, type JunitSuite } from "../api/junit.js";
import { countDiagnostics } from "../k8s/diagnostic-groups.js";
import { formatInputError, type InputError } from "../k8s/input-error.js";
import { loadScenario } from "../scenario/load.js";
import { runWorldSpec } from "../scenario/run.js";
import { formatFindings } from "../report/findings.js";
import { DEFAULT_OPENMETRICS_EPOCH_MS, DEFAULT_SCRAPE_INTERVAL_US, openMetrics } from "../report/openmetrics.js";
import { resultSeries } from "../report/result-series.js";
import { formatSummary, jsonSummary } from "../report/summary.js";
import { parseDurationUs } from "../sim/time.js";
import { findingsJson, scenarioFindings } from "../scenario/findings.js";
import { formatShort, Trace } from "../sim/trace.js";
import { fileReader, manifestsRoot } from "./files.js";
import { progressReporter } from "./progress.js";
import { type ReportInputs, writeReport } from "./report-writer.js";

export interface RunOptions {
  /** `--seed`: overrides the scenario's seed. */
  seed?: string;
  /** `--set name=value` overrides of declared params. */
  set?: string[];
  /** One JSON object per scenario on stdout; input errors as `{"ok":false,"errors":[...]}`. */
  json?: boolean;
  /** Write the decision trace to this file. */
  trace?: string;
  /** The trace as JSON lines (default) or one short line per record. */
  traceFormat?: "json" | "short";
  /** Directory for the run report: report.html, report.md, charts/*.svg, result.json, summary.txt and CSVs. */
  out?: string;
  /** Receives the pending report write for each run with `out` (it never rejects); absent ⇒ nobody waits but the process. */
  onReportWritten?: (done: Promise<void>) => void;
  /** Write a JUnit XML report (one testsuite per file, one testcase per expectation) to this file. */
  junit?: string;
  /** Write the proxies' metrics as an OpenMetrics time series (Linkerd's names) to this file. */
  openmetrics?: string;
  /** Scrape interval of `openmetrics`, e.g. `10s` (the default). */
  scrapeInterval?: string;
  /** Wall-clock instant simulated time 0 maps to in `openmetrics`, RFC 3339; default 2026-01-01T00:00:00Z. */
  openmetricsEpoch?: string;
  /** `openmetrics` (every scrape, the default) or `prometheus` (the last scrape, as a proxy's /metrics serves it). */
  openmetricsFormat?: string;
  /** Print every `meshsim check` diagnostic and not-simulated object in full, not one line per code. */
  verbose?: boolean;
  /** Exit 1 when `meshsim check` finds any error or warning in the scenario, even if every expectation holds. */
  strict?: boolean;
  /** `--manifests-root`: where the scenario's manifests may come from. Absent ⇒ the scenario's own directory tree. */
  manifestsRoot?: string;
  /** `--force`: write the report into a directory that holds other files. Default false. */
  force?: boolean;
}

export const EXIT = { ok: 0, expectationFailed: 1, badInput: 2, invariant: 3 } as const;

/** What `--json` prints for input errors: `{"ok":false,"errors":[{file, line, col, path, message, ...}]}`. */
export function inputErrorsJson(errors: readonly InputError[]): string {
  return JSON.stringify({ ok: false, errors });
}

/** An error in the command line itself (no file to point at). */
export function commandLineError(message: string): InputError {
  return { file: "", line: 0, col: 0, path: "", message };
}

export function parseSets(sets: readonly string[] | undefined): Record<string, string> | string {
  const out: Record<string, string> = {};
  for (const s of sets ?? []) {
    const i = s.indexOf("=");
    if (i <= 0) return `--set ${s}: expected name=value`;
    out[s.slice(0, i)] = s.slice(i + 1);
  }
  return out;
}

export function runCommand(files: readonly string[], opts: RunOptions, out: (s: string) => void, err: (s: string) => void): number {
  const set = parseSets(opts.set);
  if (typeof set === "string") {
    err(set);
    if (opts.json === true) out(inputErrorsJson([commandLineError(set)]));
    return EXIT.badInput;
  }
  const unusable = outputProblems(opts);
  if (unusable.length > 0) {
    for (const e of unusable) err(formatInputError(e));
    if (opts.json === true) out(inputErrorsJson(unusable));
    return EXIT.badInput;
  }
  let worst: number = EXIT.ok;
  const suites: JunitSuite[] = [];
  for (const arg of files) {
    // Shells on Windows, npm scripts and CI `with:` fields pass patterns unexpanded, so expand here.
    // An absolute pattern yields absolute names, so the files are shown as the user wrote them.
    const paths = /[*?[\]{}]/.test(arg) ? globSync(arg, { cwd: process.cwd(), absolute: isAbsolute(arg), onlyFiles: true, expandDirectories: false }).sort() : [arg];
    if (paths.length === 0) {
      // Like a missing file: an input error for this argument, the others still run.
      const error: InputError = { file: arg, line: 0, col: 0, path: "", message: `no file matches this pattern (relative to ${process.cwd()}); nothing was simulated for it` };
      suites.push({ file: arg, outcome: { ok: false, errors: [error] } });
      err(formatInputError(error));
      if (opts.json === true) out(inputErrorsJson([error]));
      worst = Math.max(worst, EXIT.badInput);
    }
    for (const file of paths) {
      const code = runOne(resolve(file), file, set, opts, out, err, (s) => suites.push(s));
      worst = Math.max(worst, code);
    }
  }
  if (opts.junit !== undefined) writeFileSync(opts.junit, junitXml(suites));
  return worst;
}

/**
 * Output paths that cannot be used, found before anything is simulated: a --trace or --junit file
 * that cannot be written, and an --out directory holding something other than a meshsim report
 * (which the report would overwrite) unless --force.
 */
function outputProblems(opts: RunOptions): InputError[] {
  const problems: InputError[] = [];
  for (const [flag, file] of [["--trace", opts.trace], ["--junit", opts.junit], ["--openmetrics", opts.openmetrics]] as const) {
    if (file === undefined) continue;
    const why = unwritable(file);
    if (why !== undefined) problems.push(commandLineError(`${flag} ${file}: cannot be written (${why}); nothing was simulated`));
  }
  if (opts.scrapeInterval !== undefined) {
    const d = parseDurationUs(opts.scrapeInterval);
    if (!d.ok || d.us <= 0) problems.push(commandLineError(`--scrape-interval ${opts.scrapeInterval}: expected a positive duration such as 10s`));
  }
  if (opts.openmetricsFormat !== undefined && opts.openmetricsFormat !== "openmetrics" && opts.openmetricsFormat !== "prometheus") {
    problems.push(commandLineError(`--openmetrics-format ${opts.openmetricsFormat}: expected openmetrics or prometheus`));
  }
  if (opts.openmetricsEpoch !== undefined && !Number.isFinite(Date.parse(opts.openmetricsEpoch))) {
    problems.push(commandLineError(`--openmetrics-epoch ${opts.openmetricsEpoch}: expected an RFC 3339 instant such as 2026-01-01T00:00:00Z`));
  }
  if (opts.out !== undefined && opts.force !== true) {
    const foreign = foreignEntries(opts.out);
    if (foreign.length > 0) {
      problems.push(commandLineError(`--out ${opts.out}: the directory holds ${foreign.slice(0, 3).join(", ")}${foreign.length > 3 ? ", ..." : ""}, which is not a meshsim report; choose an empty or new directory, or add --force to write into it anyway`));
    }
  }
  return problems;
}

/** Why `file` cannot be written (an errno code, or "not a regular file"); undefined when it can. */
export function unwritable(file: string): string | undefined {
  try {
    if (existsSync(file)) {
      if (!statSync(file).isFile()) return "not a regular file";
      accessSync(file, constants.W_OK);
    } else {
      accessSync(dirname(resolve(file)), constants.W_OK);
    }
    return undefined;
  } catch (e) {
    return e instanceof Error && "code" in e ? String((e as NodeJS.ErrnoException).code) : "not writable";
  }
}

/** What a report writes: anything else in the directory is the user's. */
const REPORT_ENTRY = /^(report\.html|report\.md|result\.json|summary\.txt|timing\.json|charts|[a-z0-9-]+\.csv)$/;

function foreignEntries(dir: string): string[] {
  try {
    if (!statSync(dir).isDirectory()) return [dir];
    return readdirSync(dir).filter((name) => !REPORT_ENTRY.test(name)).sort();
  } catch {
    return [];
  }
}

function runOne(path: string, shown: string, set: Record<string, string>, opts: RunOptions, out: (s: string) => void, err: (s: string) => void, report: (s: JunitSuite) => void): number {
  const loaded = loadScenario(path, fileReader, { set, ...(opts.seed === undefined ? {} : { seed: opts.seed }), displayAs: shown, ...manifestsRoot(opts.manifestsRoot) });
  if (!loaded.ok) {
    report({ file: shown, outcome: { ok: false, errors: loaded.errors } });
    for (const e of loaded.errors) err(formatInputError(e));
    err(`${loaded.errors.length} error(s) in ${shown}; nothing was simulated`);
    if (opts.json === true) out(inputErrorsJson(loaded.errors));
    return EXIT.badInput;
  }
  for (const w of loaded.warnings) err(`warning: ${formatInputError(w)}`);
  const findings = scenarioFindings(loaded.spec);
  if (opts.json !== true) for (const line of formatFindings(findings, { verbose: opts.verbose === true })) out(line);
  let stream: WriteStream | undefined;
  let trace: Trace | undefined;
  if (opts.trace !== undefined) {
    const s = createWriteStream(opts.trace);
    stream = s;
    const short = opts.traceFormat === "short";
    trace = new Trace((line) => s.write((short ? formatShort(line) : line) + "\n"));
  }
  const progress = opts.json === true ? undefined : progressReporter(shown);
  const started = process.hrtime.bigint();
  const run = runWorldSpec(loaded.spec, { ...(trace === undefined ? {} : { trace }), ...(progress === undefined ? {} : { onProgress: progress.onProgress }) });
  const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  progress?.stop();
  report({ file: shown, outcome: { ok: true, run } });
  stream?.end();
  const reproduce = `meshsim run ${shown} --seed ${loaded.spec.seed}${Object.entries(set).map(([k, v]) => ` --set ${k}=${v}`).join("")}`;
  const json = { ...jsonSummary(run, wallSeconds, findingsJson(findings)), ...(run.pass ? {} : { reproduce }) };
  const summary = formatSummary(run, run.world.workloads, { wallSeconds, reproduce });
  if (opts.json === true) out(JSON.stringify(json));
  else out(summary);
  if (opts.out !== undefined) {
    // The report's copies leave the wall time out (it goes to timing.json), so two runs of the
    // same scenario and seed write the same files.
    const reportJson = {
      ...jsonSummary(run, undefined, findingsJson(findings)),
      ...(run.pass ? {} : { reproduce }),
      // What `meshsim stat|routes|edges result.json` answer from.
      series: resultSeries(run.world.metrics, run.world.simulatedUs, run.world.workloads, run.world.edges),
    };
    const reportSummary = formatSummary(run, run.world.workloads, { reproduce });
    startReport(opts.out, { run, json: reportJson, summary: reportSummary, timing: { wallSeconds, events: run.world.events } }, err, opts.onReportWritten);
  }
  if (opts.openmetrics !== undefined) {
    const scrape = opts.scrapeInterval === undefined ? undefined : parseDurationUs(opts.scrapeInterval);
    writeFileSync(opts.openmetrics, openMetrics(run, {
      scrapeIntervalUs: scrape?.ok === true ? scrape.us : DEFAULT_SCRAPE_INTERVAL_US,
      epochMs: opts.openmetricsEpoch === undefined ? DEFAULT_OPENMETRICS_EPOCH_MS : Date.parse(opts.openmetricsEpoch),
      format: opts.openmetricsFormat === "prometheus" ? "prometheus" : "openmetrics",
    }));
  }
  if (run.world.invariantViolations.length > 0) return EXIT.invariant;
  if (opts.strict === true && findings.diagnostics.length > 0) {
    err(`--strict: ${shown} fails on what meshsim check finds (${countDiagnostics(findings.diagnostics)})`);
    return EXIT.expectationFailed;
  }
  return run.pass ? EXIT.ok : EXIT.expectationFailed;
}

/**
 * The report renders asynchronously (Vega's toSVG); the process stays alive until it is written.
 * A failed write raises the exit code to "bad input" (an unusable --out) once it is known, which is
 * why the CLI sets process.exitCode rather than calling process.exit.
 */
function startReport(dir: string, inputs: ReportInputs, err: (s: string) => void, onWritten: ((done: Promise<void>) => void) | undefined): void {
  const done = writeReport(dir, inputs).then(
    () => undefined,
    (e: unknown) => {
      err(`error: could not write the report to ${dir}: ${e instanceof Error ? e.message : String(e)}`);
      process.exitCode = Math.max(Number(process.exitCode ?? 0), EXIT.badInput);
    },
  );
  onWritten?.(done);
}
