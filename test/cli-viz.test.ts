// `meshsim stat|routes|edges RESULT.json`: a finished run's report asked what viz would have shown
// over a window. The figures must be the run's own for the same window (its timeline buckets, as
// the summary's metrics read any window that was not registered in advance).

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { runCommand } from "../src/cli/run-command.js";
import { vizCommand, type VizCommandOptions } from "../src/cli/viz-command.js";
import { runScenario } from "../src/index.js";

const dir = join(mkdtempSync(join(tmpdir(), "meshsim-viz-")), "report");
const result = join(dir, "result.json");

function viz(kind: "stat" | "routes" | "edges", opts: VizCommandOptions, file = result): { code: number; out: string; err: string } {
  const out: string[] = [];
  const err: string[] = [];
  const code = vizCommand(kind, file, opts, (s) => out.push(s), (s) => err.push(s));
  return { code, out: out.join("\n"), err: err.join("\n") };
}

beforeAll(async () => {
  const pending: Array<Promise<void>> = [];
  runCommand(["scenarios/payments/auth-loss.yaml"], { out: dir, onReportWritten: (p) => pending.push(p) }, () => undefined, () => undefined);
  await Promise.all(pending);
}, 60_000);

describe("meshsim stat|routes|edges on a finished run", () => {
  const r = runScenario("scenarios/payments/auth-loss.yaml");
  if (!r.ok) throw new Error("auth-loss should load");
  const m = r.run.world.metrics;

  it("stat: the minute before 4m is the west region's, with the run's own figures", () => {
    const j = JSON.parse(viz("stat", { window: "1m", at: "4m", json: true }).out) as { window: number[]; rows: Array<{ namespace: string; name: string; metrics: { requests: number; successRate: number; rps: number } }> };
    expect(j.window).toEqual([180, 240]);
    const mine = m.query({ server: "us-west-2/payments/auth" }, [180e6, 240e6]);
    const west = j.rows.filter((x) => x.namespace === "payments" && x.name === "auth" && x.metrics.requests > 0);
    expect(west).toHaveLength(1); // the east auth pods are gone by then
    expect(west[0]?.metrics.requests).toBe(mine.serverRequests);
    expect(west[0]?.metrics.successRate).toBeCloseTo(mine.serverSuccessRate, 12);
    expect(west[0]?.metrics.rps).toBeCloseTo(mine.serverRequests / 60, 9);
    const text = viz("stat", { window: "1m", at: "4m" }).out;
    expect(text).toMatch(/^\$ linkerd --context=us-west-2 viz stat deploy -A$/m);
  });

  it("routes: the client's routes over a window, effective and actual", () => {
    const j = JSON.parse(viz("routes", { from: "deploy/checkout", namespace: "payments", window: "30s", at: "2m", json: true }).out) as { rows: Array<{ route: string; effective: { requests: number }; actual: { requests: number } }> };
    const verify = j.rows.find((x) => x.route === "GET /verify");
    const mine = m.query({ client: "us-east-1/payments/checkout", service: "auth", route: "GET /verify" }, [90e6, 120e6]);
    expect(verify?.effective.requests).toBe(mine.requests);
    expect(verify?.actual.requests).toBe(mine.attempts);
  });

  it("edges: who called whom in the window, before and after the loss", () => {
    const before = JSON.parse(viz("edges", { window: "1m", at: "1m", json: true }).out) as { rows: Array<{ src: string; dst: string }> };
    expect(before.rows.map((e) => `${e.src}→${e.dst}`)).toEqual(["checkout→auth"]);
    const after = JSON.parse(viz("edges", { window: "1m", at: "4m", json: true }).out) as { rows: Array<{ src: string; dst: string; srcNamespace: string }> };
    expect(after.rows.map((e) => `${e.srcNamespace}/${e.src}→${e.dst}`).sort()).toEqual(["linkerd-multicluster/linkerd-gateway→auth", "payments/checkout→linkerd-gateway"]);
  });

  it("refuses what it cannot answer: stat --from, a file without series, an empty window", () => {
    expect(viz("stat", { from: "deploy/checkout" })).toMatchObject({ code: 2, err: expect.stringMatching(/use meshsim routes/) });
    const bare = join(dir, "..", "bare.json");
    writeFileSync(bare, JSON.stringify({ scenario: "x" }));
    expect(viz("stat", {}, bare)).toMatchObject({ code: 2, err: expect.stringMatching(/has no series/) });
    expect(viz("stat", { at: "0s" }).code).toBe(2);
  });
});
