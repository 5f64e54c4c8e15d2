// JUnit XML as CI systems read it: one testsuite per scenario file, one testcase per expectation,
// failures saying what was measured against what was expected, input errors as <error>, and text
// escaped so names with `<&"` neither break the file nor change meaning.

import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { escapeAttribute, escapeXml } from "../src/api/junit.js";
import { runCommand } from "../src/cli/run-command.js";
import { junitXml, runScenarioText, type JunitSuite, type ScenarioResult } from "../src/index.js";
import { smallScenario } from "./support/small-scenario.js";

const SMALL = smallScenario({
  expect: [`{name: 'calls < 1s & "fast"', metric: latencyP99, where: {traffic: calls}, atMost: 1000}`, "{name: every request ends once, invariant: requests-end-once}"],
});
const FAILING = SMALL.replace("equals: 1", "equals: 2");
const BAD = SMALL.replace("duration: 5s", "duration: 5s\nwarmpu: 1s");

/** Just enough XML checking for our own output: tags balance, attributes are quoted, no raw `<` or `&`. */
function checkWellFormed(xml: string): void {
  const body = xml.replace(/^<\?xml[^?]*\?>\n/, "");
  const tag = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<&]*(?:&(?:amp|lt|gt|quot|apos|#\d+);[^"<&]*)*")*)\s*(\/?)>/g;
  const open: string[] = [];
  let last = 0;
  for (const m of body.matchAll(tag)) {
    const text = body.slice(last, m.index);
    expect(text, `text before <${m[2]}>`).not.toMatch(/<|&(?!(?:amp|lt|gt|quot|apos|#\d+);)/);
    last = m.index + m[0].length;
    if (m[1] === "/") expect(open.pop(), `closing </${m[2]}>`).toBe(m[2]);
    else if (m[4] !== "/") open.push(m[2] as string);
  }
  expect(body.slice(last).trim()).toBe("");
  expect(open).toEqual([]);
}

const count = (xml: string, element: string) => xml.match(new RegExp(`<${element}[\\s>/]`, "g"))?.length ?? 0;

function suite(file: string, r: ScenarioResult): JunitSuite {
  return { file, outcome: r.ok ? { ok: true, run: r.run } : { ok: false, errors: r.errors } };
}

const passing = runScenarioText(SMALL, import.meta.dirname);
const failing = runScenarioText(FAILING, import.meta.dirname);
const bad = runScenarioText(BAD, import.meta.dirname);

describe("junitXml", () => {
  it("writes one passing testcase per expectation of a passing run, classed under the scenario", () => {
    const xml = junitXml([suite("small.yaml", passing)]);
    checkWellFormed(xml);
    expect([count(xml, "testsuite"), count(xml, "testcase"), count(xml, "failure"), count(xml, "error")]).toEqual([1, 3, 0, 0]);
    expect(xml).toMatch(/<testsuite name="small.yaml" tests="3" failures="0" errors="0"/);
    expect(xml).toMatch(/<testcase name="all succeed" classname="small" time="0"\/>/);
    expect(xml).toMatch(/<property name="seed" value="1"\/>/);
  });

  it("gives a failed expectation a <failure> with the measured value, the bound and how it was measured", () => {
    const xml = junitXml([suite("fail.yaml", failing)]);
    checkWellFormed(xml);
    expect([count(xml, "testcase"), count(xml, "failure")]).toEqual([3, 1]);
    expect(xml).toMatch(/<testcase name="all succeed" classname="small" time="0">\n\s*<failure message="measured 1, expected successRate = 2">traffic=calls \[0s, 5s\)<\/failure>/);
  });

  it("turns input errors into one testcase with an <error> listing them with file:line:col", () => {
    const xml = junitXml([suite("bad.yaml", bad)]);
    checkWellFormed(xml);
    expect([count(xml, "testcase"), count(xml, "failure"), count(xml, "error")]).toEqual([1, 0, 1]);
    expect(xml).toMatch(/<error message="1 input error\(s\); nothing was simulated">scenario\.yaml:\d+:\d+: [^<]*warmpu/);
  });

  it("escapes names so < & \" survive as text", () => {
    const xml = junitXml([suite("a<b>&\"c\".yaml", passing)]);
    checkWellFormed(xml);
    expect(xml).toContain('name="calls &lt; 1s &amp; &quot;fast&quot;"');
    expect(xml).toContain('<testsuite name="a&lt;b&gt;&amp;&quot;c&quot;.yaml"');
  });

  it("reports broken invariants as an <error>: a bug in meshsim, not a missed budget", () => {
    if (!passing.ok) throw new Error("SMALL must load");
    const broken = { ...passing.run, world: { ...passing.run.world, invariantViolations: ["request 7 <ended> twice & more"] } };
    const xml = junitXml([{ file: "small.yaml", outcome: { ok: true, run: broken } }]);
    checkWellFormed(xml);
    expect(xml).toMatch(/<testcase name="meshsim invariants" classname="small" time="0">\n\s*<error message="1 invariant violation\(s\): a bug in meshsim">request 7 &lt;ended&gt; twice &amp; more<\/error>/);
  });

  it("sums the totals over every suite on <testsuites>", () => {
    const xml = junitXml([suite("small.yaml", passing), suite("fail.yaml", failing), suite("bad.yaml", bad)]);
    checkWellFormed(xml);
    expect(xml).toMatch(/<testsuites name="meshsim" tests="7" failures="1" errors="1" time="0">/);
  });
});

describe("escaping", () => {
  it.each([
    ["a < b & c > d", "a &lt; b &amp; c &gt; d", "a &lt; b &amp; c &gt; d"],
    ['say "hi" it\'s', 'say "hi" it\'s', "say &quot;hi&quot; it&apos;s"],
    ["line\nbreak\ttab", "line\nbreak\ttab", "line&#10;break&#9;tab"],
    ["bell\u0007 and nul\u0000", "bell\uFFFD and nul\uFFFD", "bell\uFFFD and nul\uFFFD"],
    ["already &amp;", "already &amp;amp;", "already &amp;amp;"],
  ])("escapes %j for content and attributes", (raw, content, attribute) => {
    expect(escapeXml(raw)).toBe(content);
    expect(escapeAttribute(raw)).toBe(attribute);
  });
});

describe("meshsim run --junit", () => {
  it("writes one testsuite per file, whatever each file's outcome", () => {
    const dir = mkdtempSync(join(tmpdir(), "meshsim-junit-"));
    const files = [["ok.yaml", SMALL], ["fail.yaml", FAILING], ["bad.yaml", BAD]].map(([name, text]) => {
      const file = join(dir, name as string);
      writeFileSync(file, text as string);
      return file;
    });
    const report = join(dir, "junit.xml");
    const code = runCommand(files, { json: true, junit: report }, () => {}, () => {});
    expect(code).toBe(2);
    const xml = readFileSync(report, "utf8");
    checkWellFormed(xml);
    expect([count(xml, "testsuite"), count(xml, "testcase"), count(xml, "failure"), count(xml, "error")]).toEqual([3, 7, 1, 1]);
    expect([...xml.matchAll(/<testsuite name="([^"]*)"/g)].map((m) => m[1])).toEqual(files);
  });
});
