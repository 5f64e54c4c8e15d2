// The report writer renders real SVG with Vega and writes the whole report directory.

import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { renderSvg, writeReport } from "../src/cli/report-writer.js";
import { runCommand } from "../src/cli/run-command.js";
import { faultLayers, timeChart } from "../src/report/charts.js";
import { edgesCsv, expectationsCsv } from "../src/report/report-csv.js";
import { controlPlaneDownRun } from "./report/report-fixture.js";

describe("the report writer", () => {
  it("renders a Vega-Lite spec to an SVG with drawn marks", async () => {
    const faults = [{ startS: 1, endS: 2, fault: "partition" }];
    const data = [0, 1, 2, 3].map((t) => ({ tS: t, traffic: "calls", series: "effective", value: t * 10 }));
    const svg = await renderSvg(timeChart("test", data, "RPS", faults));
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toMatch(/<path[^>]* d="M/); // the line
    expect(faultLayers(faults)[0]?.mark).toMatchObject({ type: "rect" });
    expect(svg).toContain(">partition</text>"); // the fault is named on the chart
  });

  it("writes HTML, Markdown, charts, JSON and CSVs into the directory", async () => {
    const run = controlPlaneDownRun();
    const dir = join(mkdtempSync(join(tmpdir(), "meshsim-report-")), "out");
    const written = await writeReport(dir, { run, json: { scenario: run.spec.name }, summary: "the summary" });
    const charts = ["rps", "success-rate", "latency", "topology"].map((n) => `charts/${n}.svg`);
    expect(written).toEqual(["result.json", "summary.txt", "timeline.csv", "expectations.csv", "edges.csv", ...charts, "report.md", "report.html"]);
    for (const f of written) expect(existsSync(join(dir, f)), f).toBe(true);

    const html = readFileSync(join(dir, "report.html"), "utf8");
    expect(html).not.toMatch(/<script/i);
    expect(html.match(/<svg/g)?.length).toBe(charts.length);
    expect(html).toContain(run.world.digest);

    const md = readFileSync(join(dir, "report.md"), "utf8");
    for (const c of charts) expect(md).toContain(`](${c})`);
    expect(readFileSync(join(dir, "charts/topology.svg"), "utf8")).toMatch(/^<svg/);
    expect(readFileSync(join(dir, "expectations.csv"), "utf8")).toBe(expectationsCsv(run.expectations));
    expect(readFileSync(join(dir, "edges.csv"), "utf8")).toBe(edgesCsv(run.world.edges));
  });
});

describe("meshsim run --out", () => {
  it("exits with the run's code at once and writes the report when the pending write settles", async () => {
    const dir = join(mkdtempSync(join(tmpdir(), "meshsim-out-")), "report");
    const pending: Array<Promise<void>> = [];
    const file = join(import.meta.dirname, "fixtures", "mesh", "control-plane-down.yaml");
    const code = runCommand([file], { json: true, out: dir, onReportWritten: (p) => pending.push(p) }, () => undefined, () => undefined);
    expect(code).toBe(0);
    expect(pending).toHaveLength(1);
    await Promise.all(pending);
    expect(readFileSync(join(dir, "report.html"), "utf8")).toMatch(/<h1>control-plane-down <span class="verdict pass">PASS<\/span><\/h1>/);
    expect(JSON.parse(readFileSync(join(dir, "result.json"), "utf8"))).toMatchObject({ scenario: "control-plane-down", pass: true });
  });
});

describe("two runs of one scenario and seed", () => {
  it("write byte-identical report directories; only timing.json holds the wall time", async () => {
    const file = join(import.meta.dirname, "fixtures", "mesh", "control-plane-down.yaml");
    const dirs = [0, 1].map(() => join(mkdtempSync(join(tmpdir(), "meshsim-same-")), "report"));
    const pending: Array<Promise<void>> = [];
    for (const dir of dirs) runCommand([file], { out: dir, onReportWritten: (p) => pending.push(p) }, () => undefined, () => undefined);
    await Promise.all(pending);
    const files = (dir: string): string[] => readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name))).sort();
    const [a, b] = dirs as [string, string];
    expect(files(a)).toEqual(files(b));
    expect(files(a)).toContain("timing.json");
    for (const f of files(a).filter((f) => f !== "timing.json")) expect(readFileSync(join(a, f)).equals(readFileSync(join(b, f))), f).toBe(true);
    expect(readFileSync(join(a, "summary.txt"), "utf8")).not.toMatch(/wall/);
    expect(JSON.parse(readFileSync(join(a, "result.json"), "utf8"))).not.toHaveProperty("wallSeconds");
    expect(JSON.parse(readFileSync(join(a, "timing.json"), "utf8"))).toMatchObject({ wallSeconds: expect.any(Number), events: expect.any(Number) });
  });
});

describe("the report CSVs", () => {
  it("one row per expectation, quoting fields with commas", () => {
    const csv = expectationsCsv([{ name: "a, b", pass: false, measured: null, expected: 'say "x"', detail: "d" }]);
    expect(csv).toBe('name,pass,measured,expected,detail\n"a, b",false,,"say ""x""",d\n');
  });

  it("edges say secured, or why not", () => {
    const csv = edgesCsv([
      { client: "c/a/x", server: "c/a/y", clientIdentity: "x.a", serverIdentity: "y.a", secured: "√", requests: 3 },
      { client: "c/a/z", server: "c/a/y", clientIdentity: "", serverIdentity: "y.a", secured: "Not Provided By Remote", requests: 1 },
    ]);
    expect(csv.split("\n")).toEqual([
      "client,server,client_identity,server_identity,secured,no_tls_reason,requests",
      "c/a/x,c/a/y,x.a,y.a,true,,3",
      "c/a/z,c/a/y,,y.a,false,Not Provided By Remote,1",
      "",
    ]);
  });
});
