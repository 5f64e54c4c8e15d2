// JUnit XML for `meshsim run --junit FILE`, so CI systems show each expectation as a test: one
// <testsuite> per scenario file, one <testcase> per expectation. A scenario that failed to load is
// one testcase with an <error> carrying the formatted input errors; a broken invariant (a bug in
// meshsim, not a failed budget) is an <error> too. Pure: the CLI writes the text to the file.

import { formatInputError, type InputError } from "../k8s/input-error.js";
import { type ExpectationResult, formatMeasured } from "../scenario/expect.js";
import type { ScenarioRun } from "../scenario/run.js";

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
  const built = suites.map((s) => ({ suite: s, cases: casesOf(s) }));
  const count = (cases: readonly Case[], key: "failure" | "error") => cases.filter((c) => c[key] !== undefined).length;
  const all = built.flatMap((b) => b.cases);
  const out = ['<?xml version="1.0" encoding="UTF-8"?>'];
  out.push(`<testsuites name="meshsim" tests="${all.length}" failures="${count(all, "failure")}" errors="${count(all, "error")}" time="0">`);
  for (const { suite, cases } of built) {
    out.push(`  <testsuite name="${escapeAttribute(suite.file)}" tests="${cases.length}" failures="${count(cases, "failure")}" errors="${count(cases, "error")}" skipped="0" time="0">`);
    if (suite.outcome.ok) {
      const { spec, world } = suite.outcome.run;
      out.push("    <properties>");
      out.push(`      <property name="seed" value="${escapeAttribute(spec.seed)}"/>`);
      out.push(`      <property name="digest" value="${escapeAttribute(world.digest)}"/>`);
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
    const body = outcome.errors.map(formatInputError).join("\n");
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
