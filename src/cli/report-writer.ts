// Writes the run report directory: result.json, summary.txt, the CSVs, charts/<name>.svg,
// report.md and a self-contained report.html. Charts are rendered server-side by Vega (no
// browser, no canvas); the specs themselves come from the pure `src/report/charts.ts`.

import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { TopLevelSpec } from "vega-lite";
import { reportCharts, type VegaLiteSpec } from "../report/charts.js";
import { renderHtml, reportPage, type RenderedChart } from "../report/html.js";
import { renderMarkdown } from "../report/markdown.js";
import { edgesCsv, expectationsCsv } from "../report/report-csv.js";
import { timelineCsv } from "../report/summary.js";
import type { ScenarioRun } from "../scenario/run.js";

/** Render one Vega-Lite spec to standalone SVG markup. */
export async function renderSvg(spec: VegaLiteSpec): Promise<string> {
  // Loaded on first use: Vega takes about half a second to import, which `check` should not pay.
  const [vega, vl] = await Promise.all([import("vega"), import("vega-lite")]);
  const compiled = vl.compile(spec as unknown as TopLevelSpec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export interface ReportInputs {
  run: ScenarioRun;
  /** The `--json` object, written as result.json. */
  json: Record<string, unknown>;
  /** The terminal summary, written as summary.txt and shown in the pages. */
  summary: string;
  /** Wall-clock figures of the run, written apart as timing.json so every other file is the same for the same scenario and seed. */
  timing?: { wallSeconds: number; events: number };
}

/** The files written, relative to `dir`, in writing order. */
export async function writeReport(dir: string, inputs: ReportInputs): Promise<string[]> {
  const { run, json, summary } = inputs;
  await mkdir(join(dir, "charts"), { recursive: true });
  const files: Array<[string, string]> = [
    ["result.json", JSON.stringify(json, null, 2) + "\n"],
    ["summary.txt", summary + "\n"],
    ["timeline.csv", timelineCsv(run)],
    ["expectations.csv", expectationsCsv(run.expectations)],
    ["edges.csv", edgesCsv(run.world.edges)],
  ];
  // Sequential on purpose: Vega views are cheap, and the order keeps the output reproducible.
  const charts: RenderedChart[] = [];
  for (const c of reportCharts(run)) charts.push({ name: c.name, title: c.title, svg: await renderSvg(c.spec) });
  for (const c of charts) files.push([`charts/${c.name}.svg`, c.svg]);
  const page = reportPage(run, summary);
  files.push(["report.md", renderMarkdown(page, charts.map((c) => ({ title: c.title, path: `charts/${c.name}.svg` })))]);
  files.push(["report.html", renderHtml(page, charts)]);
  if (inputs.timing !== undefined) {
    const { wallSeconds, events } = inputs.timing;
    files.push(["timing.json", JSON.stringify({ wallSeconds, events, eventsPerWallSecond: wallSeconds > 0 ? Math.round(events / wallSeconds) : null }, null, 2) + "\n"]);
  }
  for (const [name, text] of files) await writeFile(join(dir, name), text);
  return files.map(([name]) => name);
}
