// The oracle: one case through the library, as `meshsim run` would take it, judged. A case may
// only end as bad input (diagnostics that each say where and what, with no internal error text),
// as a completed run with no invariant violated, or refused by the event-count guard. A throw, a
// diagnostic without a place or with a stack trace in it, a broken invariant (exit 3), and a run
// far beyond its own event estimate are failures. Wall time is measured here, in test tooling.

import { performance } from "node:perf_hooks";
import { runScenarioText } from "../../src/api/run-scenario.js";
import { formatInputError, type InputError } from "../../src/k8s/input-error.js";
import { formatFindings } from "../../src/report/findings.js";
import { formatSummary } from "../../src/report/summary.js";
import { estimateEvents } from "../../src/scenario/estimate.js";

export type OutcomeKind =
  /** Refused as bad input (exit 2), every diagnostic well formed. */
  | "input-error"
  /** Refused by the event-count guard (exit 2, naming the estimate). */
  | "guarded"
  /** Ran to the end (exit 0 or 1), no invariant violated. */
  | "run"
  /** The library threw. */
  | "crash"
  /** A diagnostic without a message or a place, or with internal error text in it. */
  | "bad-diagnostic"
  /** An invariant broke (exit 3). */
  | "invariant"
  /** The run took far more events than the guard estimated: the guard would not stop its like. */
  | "runaway"
  /** The per-case watchdog ended it (set by the pool, never here). */
  | "hang"
  /** The worker ran out of memory (set by the pool). */
  | "oom";

export const FAILURES: ReadonlySet<OutcomeKind> = new Set(["crash", "bad-diagnostic", "invariant", "runaway", "hang", "oom"]);

export interface Outcome {
  kind: OutcomeKind;
  /** What went wrong, or a one-line description of what happened. */
  detail: string;
  /** Wall milliseconds in the library. */
  ms: number;
  /** Kernel events a completed run took, and the guard's estimate for it. */
  events?: number;
  estimate?: number;
}

export interface OracleLimits {
  /** The event-count guard's limit for this harness (far below the CLI's 2e9, so cases stay quick). */
  maxEvents: number;
  /** Directory a case's manifest paths resolve against (and may not leave). */
  baseDir: string;
}

/** A run may exceed its estimate this many times over (plus a floor) before it counts as a runaway. */
export const RUNAWAY_FACTOR = 50;
export const RUNAWAY_FLOOR_EVENTS = 200_000;

const GUARD = /^this scenario would (take about|run) /;

/** Text that only an internal error puts into a message: a stack frame, an error class, a JS-ism. */
const INTERNAL_TEXT: ReadonlyArray<[RegExp, string]> = [
  [/\n\s*at \S+ \(|^\s*at .+:\d+:\d+\)?$/m, "a stack frame"],
  [/\b(TypeError|RangeError|ReferenceError|SyntaxError|EvalError|URIError|AggregateError)\b/, "a JavaScript error class"],
  [/^Error: /m, "an `Error:` prefix"],
  [/Cannot read propert(y|ies) of|is not a function|is not iterable|Maximum call stack|Invalid array length/, "a JavaScript runtime message"],
  [/\[object Object\]/, "[object Object]"],
];

/** Why one diagnostic is malformed, or undefined when it is fine. */
export function diagnosticProblem(e: InputError): string | undefined {
  if (typeof e.message !== "string" || e.message.trim() === "") return "has no message";
  if (typeof e.file !== "string" || e.file === "") return "names no file";
  if (!(Number.isInteger(e.line) && e.line >= 1 && Number.isInteger(e.col) && e.col >= 1)) return `has no line:col (${String(e.line)}:${String(e.col)})`;
  if (typeof e.path !== "string") return "has no field path";
  for (const text of [e.message, e.expected ?? "", e.suggestion ?? ""]) {
    for (const [re, what] of INTERNAL_TEXT) if (re.test(text)) return `carries ${what}`;
  }
  return undefined;
}

function firstLines(e: unknown): string {
  if (!(e instanceof Error)) return `threw a non-error: ${String(e)}`;
  const frames = (e.stack ?? "").split("\n").filter((l) => /^\s+at /.test(l)).slice(0, 6);
  return [`${e.name}: ${e.message}`, ...frames].join("\n");
}

/** Run one case's YAML through the library and judge the outcome. Never throws. */
export function judgeCase(yaml: string, limits: OracleLimits): Outcome {
  const started = performance.now();
  const ms = () => Math.round(performance.now() - started);
  try {
    const r = runScenarioText(yaml, limits.baseDir, { maxEvents: limits.maxEvents });
    if (!r.ok) {
      if (r.errors.length === 0) return { kind: "bad-diagnostic", detail: "refused with no diagnostic at all", ms: ms() };
      for (const e of r.errors) {
        const problem = diagnosticProblem(e);
        if (problem !== undefined) {
          return { kind: "bad-diagnostic", detail: `diagnostic at ${e.path === "" ? "(top)" : e.path} ${problem}: ${e.message}\n${JSON.stringify(e)}`, ms: ms() };
        }
        formatInputError(e);
      }
      const guarded = r.errors.every((e) => GUARD.test(e.message));
      return { kind: guarded ? "guarded" : "input-error", detail: formatInputError(r.errors[0] as InputError), ms: ms() };
    }
    const world = r.run.world;
    const events = world.events;
    const estimate = Math.round(estimateEvents(r.run.spec).events);
    if (world.invariantViolations.length > 0) {
      return { kind: "invariant", detail: `exit 3: ${world.invariantViolations.slice(0, 3).join("; ")}`, ms: ms(), events, estimate };
    }
    // What the CLI prints after a run must render too.
    JSON.stringify(r.result);
    formatFindings(r.findings, { verbose: true });
    formatSummary(r.run, world.workloads, { wallSeconds: 0, reproduce: "meshsim run scenario.yaml" });
    if (events > RUNAWAY_FACTOR * estimate + RUNAWAY_FLOOR_EVENTS) {
      return { kind: "runaway", detail: `${events} events against an estimate of ${estimate}`, ms: ms(), events, estimate };
    }
    return { kind: "run", detail: `exit ${r.run.pass ? 0 : 1}`, ms: ms(), events, estimate };
  } catch (e) {
    return { kind: "crash", detail: firstLines(e), ms: ms() };
  }
}

/** A short key that groups failures of one cause: the kind, the message with numbers and quotes blurred, the first frame in src/. */
export function failureSignature(o: Outcome): string {
  const lines = o.detail.split("\n");
  const head = (lines[0] ?? "")
    .replace(/"[^"]*"/g, '"…"')
    .replace(/\{.*\}/g, "{…}")
    .replace(/-?\d+(\.\d+)?(e[+-]?\d+)?/gi, "N")
    .slice(0, 160);
  const frame = lines.find((l) => /\/src\//.test(l))?.replace(/^.*\/src\//, "src/").replace(/\)$/, "") ?? "";
  return `${o.kind}: ${head}${frame === "" ? "" : ` @ ${frame}`}`;
}
