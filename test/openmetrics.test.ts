// A simulated run in the tools people already have: the proxies' metrics under Linkerd's names,
// parsed by a well-kept exposition parser, backfilled with `promtool tsdb create-blocks-from
// openmetrics` into a TSDB that a real Prometheus (Debian's `prometheus`; .ci/run installs it)
// serves, where the viz golden-metric queries return what meshsim's own figures say for the same
// window — the success rate and RPS exactly, p99 by the same histogram_quantile over Linkerd's
// buckets.

import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import parsePrometheus from "parse-prometheus-text-format";
import { describe, expect, it } from "vitest";
import { runScenario } from "../src/index.js";
import { DEFAULT_OPENMETRICS_EPOCH_MS, openMetrics } from "../src/report/openmetrics.js";
import type { ScenarioRun } from "../src/scenario/run.js";

const PROMTOOL = ["/usr/bin/promtool"].find((p) => existsSync(p));
const PROMETHEUS = ["/usr/bin/prometheus"].find((p) => existsSync(p));
const root = resolve(import.meta.dirname, "..");
const SCRAPE_US = 10_000_000;

function authLoss(): ScenarioRun {
  const r = runScenario(join(root, "scenarios/payments/auth-loss.yaml"));
  if (!r.ok) throw new Error("auth-loss should load");
  return r.run;
}

describe("the proxies' metrics under Linkerd's names", () => {
  const run = authLoss();
  const WEST_AUTH = "us-west-2/payments/auth";

  it("parse as the Prometheus text format a proxy's /metrics serves, with Linkerd's families and labels", () => {
    const families = parsePrometheus(openMetrics(run, { scrapeIntervalUs: SCRAPE_US, epochMs: DEFAULT_OPENMETRICS_EPOCH_MS, format: "prometheus" }));
    const byName = new Map(families.map((f) => [f.name, f]));
    expect([...byName.keys()].sort()).toEqual([
      "outbound_http_route_retry_requests_total",
      "request_total",
      "response_latency_ms",
      "response_total",
      "route_actual_request_total",
      "route_actual_response_total",
      "route_request_total",
      "route_response_latency_ms",
      "route_response_total",
    ]);
    expect(byName.get("request_total")?.type).toBe("COUNTER");
    expect(byName.get("response_latency_ms")?.type).toBe("HISTOGRAM");
    // The last scrape (at the end of the run) holds every request the west auth pods served.
    const west = byName.get("request_total")?.metrics.find((m) => m.labels?.["cluster"] === "us-west-2" && m.labels["deployment"] === "auth" && m.labels["direction"] === "inbound");
    expect(west?.labels).toEqual({ cluster: "us-west-2", namespace: "payments", deployment: "auth", direction: "inbound", tls: "true" });
    const served = run.world.metrics.query({ server: WEST_AUTH }, [0, run.world.simulatedUs]).serverRequests;
    expect(Number((west as { value: string }).value)).toBe(served);
    const outcomes = byName.get("response_total")?.metrics.filter((m) => m.labels?.["deployment"] === "auth" && m.labels["cluster"] === "us-west-2") ?? [];
    expect(outcomes.map((m) => m.labels?.["classification"]).sort()).toEqual(["failure", "success"]);
  });

  it("backfill with promtool, and a real Prometheus answers the viz queries as meshsim does", async () => {
    expect(PROMTOOL, "install Debian's prometheus package (apt-get install prometheus), which brings promtool").toBeDefined();
    expect(PROMETHEUS, "install Debian's prometheus package (apt-get install prometheus)").toBeDefined();
    const dir = mkdtempSync(join(tmpdir(), "meshsim-prom-"));
    const file = join(dir, "run.om");
    writeFileSync(file, openMetrics(run, { scrapeIntervalUs: SCRAPE_US, epochMs: DEFAULT_OPENMETRICS_EPOCH_MS }));
    const tsdb = join(dir, "tsdb");
    const backfill = spawnSync(PROMTOOL as string, ["tsdb", "create-blocks-from", "openmetrics", file, tsdb], { encoding: "utf8", timeout: 120_000 });
    expect(backfill.status, backfill.stderr).toBe(0);
    const port = await freePort();
    const config = join(dir, "prometheus.yml");
    writeFileSync(config, "global:\n  scrape_interval: 1m\n");
    const prom = spawn(PROMETHEUS as string, [`--config.file=${config}`, `--storage.tsdb.path=${tsdb}`, "--storage.tsdb.retention.time=100y", `--web.listen-address=127.0.0.1:${port}`], { stdio: "ignore" });
    try {
      await ready(port);
      const query = async (q: string, tUs: number): Promise<number> => {
        const url = `http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(q)}&time=${(DEFAULT_OPENMETRICS_EPOCH_MS * 1000 + tUs) / 1e6}`;
        const body = (await (await fetch(url)).json()) as { data: { result: Array<{ value: [number, string] }> } };
        return Number(body.data.result[0]?.value[1]);
      };
      const sel = 'direction="inbound",cluster="us-west-2",namespace="payments",deployment="auth"';
      // Before the loss (100 s) and after it (300 s), when the west region serves everything.
      let compared = 0;
      for (const tUs of [100_000_000, 300_000_000]) {
        const mine = run.world.metrics.query({ server: WEST_AUTH }, [tUs - SCRAPE_US, tUs]);
        const sr = await query(`sum(irate(response_total{classification="success",${sel}}[30s])) / sum(irate(response_total{${sel}}[30s]))`, tUs);
        const rps = await query(`sum(irate(request_total{${sel}}[30s]))`, tUs);
        const p99 = await query(`histogram_quantile(0.99, sum(irate(response_latency_ms_bucket{${sel}}[30s])) by (le))`, tUs);
        expect(rps).toBeCloseTo(mine.serverRequests / 10, 9);
        if (mine.serverRequests === 0) continue;
        expect(sr).toBeCloseTo(mine.serverSuccessRate, 9);
        // Both are histogram_quantile over the same Linkerd buckets: equal up to float rounding.
        expect(p99).toBeCloseTo(mine.serverLatencyUs.p99 / 1000, 6);
        compared += 1;
      }
      expect(compared).toBeGreaterThan(0);
    } finally {
      prom.kill("SIGTERM");
    }
  }, 120_000);
});

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const s = createServer();
    s.once("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const address = s.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      s.close(() => done(port));
    });
  });
}

async function ready(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/-/ready`);
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("prometheus did not become ready in 20 s");
}
