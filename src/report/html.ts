// The report page as one self-contained HTML file: inline CSS and inline SVG, no scripts and no
// external URLs, so it can be mailed, attached to a CI run or opened offline. Pure: it takes the
// summary text and already-rendered SVG strings; `src/cli/report-writer.ts` supplies them.

import { formatMeasured } from "../scenario/expect.js";
import type { ScenarioRun } from "../scenario/run.js";

/** What the HTML and Markdown pages show, independent of how the charts are embedded. */
export interface ReportPage {
  scenario: string;
  description: string;
  seed: string;
  digest: string;
  pass: boolean;
  expectations: Array<{ name: string; pass: boolean; measured: string; expected: string; detail: string }>;
  /** The terminal summary (`formatSummary`), shown verbatim. */
  summaryText: string;
}

/** A chart ready for the page: its SVG markup (for HTML) and name (for `charts/<name>.svg`). */
export interface RenderedChart {
  name: string;
  title: string;
  svg: string;
}

export function reportPage(run: ScenarioRun, summaryText: string): ReportPage {
  return {
    scenario: run.spec.name,
    description: run.spec.description,
    seed: String(run.spec.seed),
    digest: run.world.digest,
    pass: run.pass,
    expectations: run.expectations.map((e) => ({ name: e.name, pass: e.pass, measured: formatMeasured(e), expected: e.expected, detail: e.detail })),
    summaryText,
  };
}

export function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

/**
 * SVG for inline use. HTML parses inline `<svg>` into the SVG namespace by itself, so the
 * `xmlns` declarations (URLs, though never fetched) are dropped to keep the page free of them.
 */
export function inlineSvg(svg: string): string {
  return svg.replace(/^<\?xml[^>]*>\s*/, "").replace(/\s+xmlns(?::\w+)?="[^"]*"/g, "");
}

const CSS = `
body { font: 14px/1.45 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 1100px; padding: 0 1em; color: #222; }
h1 { margin-bottom: .2em; }
.meta { color: #555; }
.meta code { background: #f3f3f3; padding: 0 .3em; }
.verdict { display: inline-block; padding: .2em .7em; border-radius: 4px; font-weight: bold; color: #fff; }
.pass { background: #2e7d32; } .fail { background: #c62828; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ddd; padding: .3em .6em; text-align: left; vertical-align: top; }
th { background: #f6f6f6; }
td.PASS { color: #2e7d32; font-weight: bold; } td.FAIL { color: #c62828; font-weight: bold; }
pre { background: #f7f7f7; border: 1px solid #e3e3e3; padding: 1em; overflow-x: auto; font-size: 12px; }
figure { margin: 1.5em 0; } figcaption { font-weight: bold; margin-bottom: .4em; }
`.trim();

export function renderHtml(page: ReportPage, charts: readonly RenderedChart[]): string {
  const verdict = page.pass ? `<span class="verdict pass">PASS</span>` : `<span class="verdict fail">FAIL</span>`;
  const parts = [
    "<!DOCTYPE html>",
    `<html lang="en"><head><meta charset="utf-8"><title>meshsim report: ${escapeHtml(page.scenario)}</title>`,
    `<style>\n${CSS}\n</style></head><body>`,
    `<h1>${escapeHtml(page.scenario)} ${verdict}</h1>`,
    `<p class="meta">seed <code>${escapeHtml(page.seed)}</code> · digest <code>${escapeHtml(page.digest)}</code></p>`,
    page.description === "" ? "" : `<p>${escapeHtml(page.description)}</p>`,
    expectationsHtml(page),
    charts.length === 0 ? "" : `<h2>Charts</h2>\n${charts.map(chartHtml).join("\n")}`,
    `<h2>Summary</h2>\n<pre>${escapeHtml(page.summaryText)}</pre>`,
    "</body></html>",
  ];
  return parts.filter((p) => p !== "").join("\n") + "\n";
}

function expectationsHtml(page: ReportPage): string {
  if (page.expectations.length === 0) return "<h2>Expectations</h2>\n<p>This scenario states no expectations.</p>";
  const rows = page.expectations.map((e) => {
    const verdict = e.pass ? "PASS" : "FAIL";
    return `<tr><td class="${verdict}">${verdict}</td><td>${escapeHtml(e.name)}</td><td>${escapeHtml(e.measured)}</td><td>${escapeHtml(e.expected)}</td><td>${escapeHtml(e.detail)}</td></tr>`;
  });
  return ["<h2>Expectations</h2>", "<table>", "<tr><th></th><th>expectation</th><th>measured</th><th>expected</th><th>detail</th></tr>", ...rows, "</table>"].join("\n");
}

function chartHtml(c: RenderedChart): string {
  return `<figure id="chart-${escapeHtml(c.name)}"><figcaption>${escapeHtml(c.title)}</figcaption>\n${inlineSvg(c.svg)}\n</figure>`;
}
