// The HTML report stands alone: inline CSS and SVG, no scripts, nothing fetched from a URL, and it
// shows the scenario, seed, digest, the expectations with PASS/FAIL and the summary verbatim.

import { describe, expect, it } from "vitest";
import { escapeHtml, inlineSvg, renderHtml, reportPage, type ReportPage } from "../../src/report/html.js";
import { renderMarkdown } from "../../src/report/markdown.js";
import { controlPlaneDownRun } from "./report-fixture.js";

const SVG = `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="10" height="10"><rect width="10" height="10"/></svg>`;

const PAGE: ReportPage = {
  scenario: "tiny <one>",
  description: "calls http://api.app.svc.cluster.local/ & checks",
  seed: "7",
  digest: "abc123",
  pass: false,
  expectations: [
    { name: "all succeed", pass: true, measured: "1", expected: "successRate = 1", detail: "traffic=calls" },
    { name: "p99 | fast", pass: false, measured: "250", expected: "latencyP99 ≤ 100", detail: "traffic=calls" },
  ],
  summaryText: "scenario tiny  seed 7  digest abc123\n  PASS  all succeed",
};

/** Attribute values and CSS that would make a browser fetch or run something. */
const FETCHES = /\b(?:src|href|xmlns(?::\w+)?|action|srcset)\s*=\s*["']?\s*(?:https?:)?\/\/|url\(|@import/i;

describe("the HTML report", () => {
  const html = renderHtml(PAGE, [{ name: "rps", title: "Requests per second", svg: SVG }]);

  it("has no scripts and references no URL outside the text", () => {
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(FETCHES);
    // The only URL left is the one in the description, escaped as text.
    const urls = [...html.matchAll(/https?:\/\/[^\s<"]*/g)].map((m) => m[0]);
    expect(urls).toEqual(["http://api.app.svc.cluster.local/"]);
  });

  it("the scanner catches what it is meant to catch", () => {
    expect(`<img src="https://x/y.png">`).toMatch(FETCHES);
    expect(`<svg xmlns="http://www.w3.org/2000/svg">`).toMatch(FETCHES);
    expect(`a { background: url(x.png) }`).toMatch(FETCHES);
  });

  it("inlines the chart SVG without its namespace URLs", () => {
    expect(inlineSvg(SVG)).toBe(`<svg width="10" height="10"><rect width="10" height="10"/></svg>`);
    expect(html).toContain(`<svg width="10" height="10"><rect width="10" height="10"/></svg>`);
  });

  it("shows name, seed and digest, escaped", () => {
    expect(html).toContain("<title>meshsim report: tiny &lt;one&gt;</title>");
    expect(html).toMatch(/seed <code>7<\/code>/);
    expect(html).toMatch(/digest <code>abc123<\/code>/);
    expect(html).toContain("&amp; checks");
  });

  it("has one expectations row per expectation with its verdict", () => {
    const rows = [...html.matchAll(/<tr><td class="(PASS|FAIL)">\1<\/td><td>([^<]*)<\/td>/g)].map((m) => [m[1], m[2]]);
    expect(rows).toEqual([["PASS", "all succeed"], ["FAIL", "p99 | fast"]]);
  });

  it("shows the summary verbatim in a <pre>", () => {
    expect(html).toContain(`<pre>${escapeHtml(PAGE.summaryText)}</pre>`);
  });

  it("is self-contained for a real run too", () => {
    const run = controlPlaneDownRun();
    const page = reportPage(run, "summary");
    expect(page.expectations.map((e) => e.name)).toEqual(run.expectations.map((e) => e.name));
    const real = renderHtml(page, []);
    expect(real).not.toMatch(/<script/i);
    expect(real).not.toMatch(FETCHES);
    expect(real).toContain(run.world.digest);
  });
});

describe("the Markdown report", () => {
  const md = renderMarkdown(PAGE, [{ title: "Requests per second", path: "charts/rps.svg" }]);

  it("links each chart as a file next to it", () => {
    expect(md).toContain("![Requests per second](charts/rps.svg)");
  });

  it("tabulates the expectations, escaping pipes in cells", () => {
    expect(md).toContain("| PASS | all succeed | 1 | successRate = 1 | traffic=calls |");
    expect(md).toContain("| FAIL | p99 \\| fast | 250 | latencyP99 ≤ 100 | traffic=calls |");
  });

  it("fences the summary verbatim", () => {
    expect(md).toContain("```\n" + PAGE.summaryText + "\n```");
  });
});
