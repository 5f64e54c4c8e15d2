// The run report as a person sees it: headless Chromium (Debian's `chromium`; .ci/run installs it)
// opens report.html from disk, the test reads back the rendered DOM and the console, checks every
// chart drew marks, and saves a screenshot to reports/.

import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { writeReport } from "../src/cli/report-writer.js";
import { formatSummary, jsonSummary } from "../src/report/summary.js";
import { runScenario } from "../src/index.js";

/** Runs in the page: waits for the topology's texts, then records every pair whose boxes intersect. */
const BBOX_PROBE = `(function check(n) {
  const svg = document.querySelector("#chart-topology svg");
  const texts = svg === null ? [] : [...svg.querySelectorAll("text")].filter((t) => t.textContent.trim() !== "");
  if (texts.length === 0 && n < 200) return setTimeout(() => check(n + 1), 50);
  const boxes = texts.map((t) => ({ text: t.textContent, r: t.getBoundingClientRect() }));
  const overlaps = [];
  for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
    const a = boxes[i].r, b = boxes[j].r;
    if (a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5) overlaps.push([boxes[i].text, boxes[j].text]);
  }
  const pre = document.createElement("pre");
  pre.id = "bbox-probe";
  pre.textContent = JSON.stringify({ labels: boxes.length, overlaps });
  document.body.appendChild(pre);
})(0);`;

const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));
const root = resolve(import.meta.dirname, "..");

function chromium(args: string[], profile: string): { stdout: string; stderr: string } {
  const r = spawnSync(
    CHROMIUM as string,
    [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      `--user-data-dir=${profile}`,
      "--enable-logging=stderr",
      "--v=0",
      ...args,
    ],
    { encoding: "utf8", timeout: 60_000, maxBuffer: 64 << 20 },
  );
  return { stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

describe("report.html in a real browser", () => {
  it("renders every chart with drawn content and no console errors", async () => {
    expect(CHROMIUM, "install Debian's chromium package (apt-get install chromium)").toBeDefined();
    const loaded = runScenario(join(root, "scenarios/payments/auth-loss.yaml"));
    if (!loaded.ok) throw new Error("scenario should load");
    const dir = mkdtempSync(join(tmpdir(), "meshsim-report-"));
    const summary = formatSummary(loaded.run, loaded.run.world.workloads, { wallSeconds: 0, reproduce: "" });
    await writeReport(dir, { run: loaded.run, json: jsonSummary(loaded.run, 0), summary });
    const page = `file://${join(dir, "report.html")}`;

    const dom = chromium(["--dump-dom", page], mkdtempSync(join(tmpdir(), "chromium-")));
    const figures = [...dom.stdout.matchAll(/<figure id="chart-([^"]+)">([\s\S]*?)<\/figure>/g)];
    const names = figures.map((f) => f[1]);
    expect(names).toEqual(expect.arrayContaining(["rps", "success-rate", "latency", "split-weights", "gateways", "topology"]));
    for (const [, name, body] of figures) {
      expect(body, `chart ${name} has an <svg>`).toMatch(/<svg/);
      expect(body, `chart ${name} drew marks`).toMatch(/<(path|rect|circle|line)\b[^>]*\b(d|x|cx|x1)="/);
    }
    const consoleErrors = dom.stderr.split("\n").filter((l) => /CONSOLE|Uncaught|SyntaxError/.test(l) && /error|Uncaught/i.test(l));
    expect(consoleErrors).toEqual([]);

    mkdirSync(join(root, "reports"), { recursive: true });
    const shot = join(root, "reports", "report-screenshot.png");
    chromium([`--screenshot=${shot}`, "--window-size=1280,2400", "--hide-scrollbars", page], mkdtempSync(join(tmpdir(), "chromium-")));
    expect(statSync(shot).size).toBeGreaterThan(20_000);
    const png = readFileSync(shot);
    expect(png.subarray(1, 4).toString()).toBe("PNG");
    // The IHDR chunk's width and height: the page rendered at the size asked for.
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([1280, 2400]);

    // No two texts of the topology overlap as the browser lays them out: a copy of the page
    // measures every label's box once the chart has drawn and writes what it found into the DOM.
    const probe = join(dir, "report-probe.html");
    writeFileSync(probe, readFileSync(join(dir, "report.html"), "utf8").replace("</body>", `<script>${BBOX_PROBE}</script></body>`));
    const probed = chromium(["--virtual-time-budget=10000", "--dump-dom", `file://${probe}`], mkdtempSync(join(tmpdir(), "chromium-")));
    const found = /<pre id="bbox-probe">([^<]*)<\/pre>/.exec(probed.stdout);
    expect(found, "the probe wrote its result").not.toBeNull();
    const result = JSON.parse((found?.[1] ?? "{}").replace(/&quot;/g, '"').replace(/&amp;/g, "&")) as { labels: number; overlaps: string[][] };
    expect(result.labels).toBeGreaterThan(4);
    expect(result.overlaps).toEqual([]);
  }, 120_000);
});
