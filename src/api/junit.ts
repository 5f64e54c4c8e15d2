// JUnit XML for `meshsim run --junit FILE` and `meshsim verify --junit FILE`, so CI systems show
// each expectation as a test: one <testsuite> per scenario file, one <testcase> per expectation
// (for verify, named with the seeds it held on). A scenario that failed to load is
// one testcase with an <error> carrying the formatted input errors; a broken invariant (a bug in
// meshsim, not a failed budget) is an <error> too. Pure: the CLI writes the text to the file.

import { formatInputErrorRedacted, type InputError } from "../k8s/input-error.js";
import { type ExpectationResult, formatMeasured } from "../scenario/expect.js";
import type { ScenarioRun } from "../scenario/run.js";
import { reproduceCommand, type VerifiedScenario } from "../report/verify.js";

/** One scenario file's outcome, as JUnit reports it. */
export interface JunitSuite {
  /** The file as the user named it; the <testsuite> name. */
  file: string;
  outcome: { ok: true; run: ScenarioRun } | { ok: false; errors: readonly InputError[] };
}

interface Case {
  name: string;
  classname: string;
  failure?: { message: string; body: string };
  error?: { message: string; body: string };
}

/** The whole report: a <testsuites> element holding one <testsuite> per file, in order. */
export function junitXml(suites: readonly JunitSuite[]): string {
  return document(
    suites.map((s) => ({
      name: s.file,
      properties: s.outcome.ok ? { seed: s.outcome.run.spec.seed, digest: s.outcome.run.world.digest } : {},
      cases: casesOf(s),
    })),
  );
}

/**
 * `meshsim verify`'s report: one <testsuite> per scenario file, one <testcase> per expectation named
 * `NAME (held 12/20 seeds)`, failing when it held on fewer seeds than it requires.
 */
export function verifyJunitXml(scenarios: readonly VerifiedScenario[]): string {
  return document(
    scenarios.map((s) => {
      const first = s.seeds[0];
      const last = s.seeds[s.seeds.length - 1];
      return { name: s.file, properties: first === undefined ? {} : { seeds: `${first}..${last}` }, cases: verifyCasesOf(s) };
    }),
  );
}

function verifyCasesOf(s: VerifiedScenario): Case[] {
  if (s.errors !== undefined) {
    const message = `${s.errors.length} input error(s); nothing was simulated`;
    return [{ name: "load scenario", classname: s.file, error: { message, body: s.errors.map(formatInputErrorRedacted).join("\n") } }];
  }
  const cases = s.expectations.map((e): Case => {
    const name = `${e.name} (held ${e.held}/${e.of} seeds)`;
    if (e.pass) return { name, classname: s.file };
    const message = `held on ${e.held} of ${e.of} seeds, needs ${e.required}`;
    const body = `failing seeds: ${e.failingSeeds.join(", ")}\nreproduce: ${reproduceCommand(s.file, e.failingSeeds[0] as number)}`;
    return { name, classname: s.file, failure: { message, body } };
  });
  const broken = s.invariantViolationSeeds;
  if (broken !== undefined) {
    const message = `invariant violations on ${broken.length} seed(s): a bug in meshsim`;
    cases.push({ name: "meshsim invariants", classname: s.file, error: { message, body: `seeds: ${broken.join(", ")}\nreproduce: ${reproduceCommand(s.file, broken[0] as number)}` } });
  }
  return cases;
}

function document(suites: readonly { name: string; properties: Record<string, string>; cases: Case[] }[]): string {
  const count = (cases: readonly Case[], key: "failure" | "error") => cases.filter((c) => c[key] !== undefined).length;
  const all = suites.flatMap((b) => b.cases);
  const out = ['<?xml version="1.0" encoding="UTF-8"?>'];
  out.push(`<testsuites name="meshsim" tests="${all.length}" failures="${count(all, "failure")}" errors="${count(all, "error")}" time="0">`);
  for (const { name, properties, cases } of suites) {
    out.push(`  <testsuite name="${escapeAttribute(name)}" tests="${cases.length}" failures="${count(cases, "failure")}" errors="${count(cases, "error")}" skipped="0" time="0">`);
    const entries = Object.entries(properties);
    if (entries.length > 0) {
      out.push("    <properties>");
      for (const [k, v] of entries) out.push(`      <property name="${escapeAttribute(k)}" value="${escapeAttribute(v)}"/>`);
      out.push("    </properties>");
    }
    for (const c of cases) out.push(...testcase(c));
    out.push("  </testsuite>");
  }
  out.push("</testsuites>");
  return out.join("\n") + "\n";
}

function casesOf(suite: JunitSuite): Case[] {
  const { outcome } = suite;
  if (!outcome.ok) {
    const body = outcome.errors.map(formatInputErrorRedacted).join("\n");
    const message = `${outcome.errors.length} input error(s); nothing was simulated`;
    return [{ name: "load scenario", classname: suite.file, error: { message, body } }];
  }
  const classname = outcome.run.spec.name;
  const cases = outcome.run.expectations.map((e): Case => (e.pass ? { name: e.name, classname } : { name: e.name, classname, failure: failureOf(e) }));
  const violations = outcome.run.world.invariantViolations;
  if (violations.length > 0) {
    const message = `${violations.length} invariant violation(s): a bug in meshsim`;
    cases.push({ name: "meshsim invariants", classname, error: { message, body: violations.join("\n") } });
  }
  return cases;
}

function failureOf(e: ExpectationResult): { message: string; body: string } {
  return { message: `measured ${formatMeasured(e)}, expected ${e.expected}`, body: e.detail };
}

function testcase(c: Case): string[] {
  const open = `    <testcase name="${escapeAttribute(c.name)}" classname="${escapeAttribute(c.classname)}" time="0"`;
  const inner = c.failure ?? c.error;
  if (inner === undefined) return [`${open}/>`];
  const tag = c.failure !== undefined ? "failure" : "error";
  return [`${open}>`, `      <${tag} message="${escapeAttribute(inner.message)}">${escapeXml(inner.body)}</${tag}>`, "    </testcase>"];
}

/**
 * Text safe as XML element content. Characters XML 1.0 cannot carry at all (most C0 controls, lone
 * surrogates) become U+FFFD, so a parser never rejects the file; `>` is escaped too, for `]]>`.
 */
export function escapeXml(text: string): string {
  return text
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, "\uFFFD")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/\r/g, "&#13;");
}

/** Text safe inside a double- or single-quoted attribute; line breaks and tabs survive normalisation. */
export function escapeAttribute(text: string): string {
  return escapeXml(text).replace(/"/g, "&quot;").replace(/'/g, "&apos;").replace(/\n/g, "&#10;").replace(/\t/g, "&#9;");
}
