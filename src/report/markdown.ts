// The report as Markdown: the same content as the HTML page, with each chart referenced as an SVG
// file (`charts/<name>.svg`) written next to it, so it renders on GitHub and in CI job summaries.
// Pure: the caller writes the files.

import type { ReportPage } from "./html.js";

/** A chart as the Markdown page links it. */
export interface LinkedChart {
  title: string;
  /** Relative path from the Markdown file, e.g. `charts/rps.svg`. */
  path: string;
}

/** `|` and line breaks would split a table cell; escape the one and flatten the other. */
function cell(s: string): string {
  return s.replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
}

export function renderMarkdown(page: ReportPage, charts: readonly LinkedChart[]): string {
  const out: string[] = [];
  out.push(`# ${page.scenario} — ${page.pass ? "PASS" : "FAIL"}`, "");
  out.push(`seed \`${page.seed}\` · digest \`${page.digest}\``, "");
  if (page.description !== "") out.push(page.description.trim(), "");
  out.push("## Expectations", "");
  if (page.expectations.length === 0) out.push("This scenario states no expectations.", "");
  else {
    out.push("| | expectation | measured | expected | detail |", "|---|---|---|---|---|");
    for (const e of page.expectations) out.push(`| ${e.pass ? "PASS" : "FAIL"} | ${cell(e.name)} | ${cell(e.measured)} | ${cell(e.expected)} | ${cell(e.detail)} |`);
    out.push("");
  }
  if (charts.length > 0) {
    out.push("## Charts", "");
    for (const c of charts) out.push(`### ${c.title}`, "", `![${c.title}](${c.path})`, "");
  }
  // A fence longer than any backtick run inside keeps the summary verbatim.
  const longest = Math.max(2, ...[...page.summaryText.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = "`".repeat(longest + 1);
  out.push("## Summary", "", fence, page.summaryText, fence, "");
  return out.join("\n");
}
