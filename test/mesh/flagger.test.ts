// Flagger in the simulated cluster (src/mesh/flagger-controller.ts): its writes go through the API
// server to the workload controllers, the SMI adaptor (or the policy controller, for an HTTPRoute)
// and the proxies, so the canary's weight shows in the per-backend metrics; its verdicts reach the
// summary, `--json` and `canary:` expectations; what it cannot act on is said out loud.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { metric } from "../../src/api/query.js";
import { runScenarioText } from "../../src/api/run-scenario.js";
import { formatSummary } from "../../src/report/summary.js";

type Obj = Record<string, unknown>;
const CANARY_DIR = join(import.meta.dirname, "..", "..", "scenarios", "canary");
const promotes = readFileSync(join(CANARY_DIR, "flagger-promotes.yaml"), "utf8");

function run(yaml: string) {
  const r = runScenarioText(yaml, CANARY_DIR);
  if (!r.ok) throw new Error(r.errors.map((e) => `${e.path}: ${e.message}`).join("\n"));
  return r;
}

describe("Flagger with the Linkerd provider", () => {
  const r = run(promotes.replace(/^expect:[\s\S]*$/m, "").replace("duration: 12m", "duration: 6m30s"));

  it("shifts the canary's share of the apex's traffic as its TrafficSplit says, within binomial bounds", () => {
    // At 10 % (set at 150 s, every proxy has it by 150.34 s) and 50 % (270 s): the canary pods'
    // share of what both Deployments serve is binomial in the window's ≈ 2 900 requests:
    // σ = √(p(1 − p)/2 900) = 0.0056 at 10 %, 0.0093 at 50 %; ±4σ.
    const share = (from: string, to: string): number => {
      const canary = metric(r.run, "requests", { server: "c/shop/web" }, [from, to]) ?? 0;
      const primary = metric(r.run, "requests", { server: "c/shop/web-primary" }, [from, to]) ?? 0;
      return canary / (canary + primary);
    };
    expect(share("151s", "180s")).toBeGreaterThan(0.1 - 4 * 0.0056);
    expect(share("151s", "180s")).toBeLessThan(0.1 + 4 * 0.0056);
    expect(share("271s", "300s")).toBeGreaterThan(0.5 - 4 * 0.0093);
    expect(share("271s", "300s")).toBeLessThan(0.5 + 4 * 0.0093);
    // Before the revision the canary has no pods, after the promotion none again.
    expect(metric(r.run, "requests", { server: "c/shop/web" }, ["60s", "105s"])).toBeNull();
    expect(metric(r.run, "requests", { server: "c/shop/web" }, ["370s", "390s"])).toBeNull();
  });

  it("records each run of the job that did something, with the weights and the analysis", () => {
    const canary = r.run.world.canaries[0];
    expect(canary).toMatchObject({ cluster: "c", canary: "shop/web", target: "web", phase: "Succeeded", progressingAtUs: 120_000_000, promotedAtUs: 360_000_000 });
    expect(canary?.ticks.map((t) => [t.atUs / 1e6, t.phase, t.canaryWeight])).toEqual([
      [0, "", 0],
      [30, "Initialized", 0],
      [120, "Progressing", 0],
      [150, "Progressing", 10],
      [180, "Progressing", 20],
      [210, "Progressing", 30],
      [240, "Progressing", 40],
      [270, "Progressing", 50],
      [300, "Promoting", 50],
      [330, "Finalising", 0],
      [360, "Succeeded", 0],
    ]);
    expect(canary?.ticks[4]?.analysis?.map((a) => [a.metric, a.ok])).toEqual([
      ["request-success-rate", true],
      ["request-duration", true],
    ]);
  });

  it("shows the timeline in the summary and in --json", () => {
    const text = formatSummary(r.run, r.run.world.workloads, { wallSeconds: 0, reproduce: "" });
    expect(text).toMatch(/^canaries \(Flagger: each analysis, the weights it set, and its verdict\)$/m);
    expect(text).toMatch(/^ {2}c Canary shop\/web → web: promoted at 360s$/m);
    expect(text).toMatch(/^ +180s {2}Progressing {2}canary {2}20% {2}failed 0 {2}request-success-rate \d+\.\d\d% ≥ 99 ok; request-duration \d+ms ≤ 500 ok; Advance web\.shop canary weight 20$/m);
    const json = r.result["canaries"] as Array<Record<string, unknown>>;
    expect(json[0]).toMatchObject({ canary: "shop/web", phase: "Succeeded", promotedAt: 360, rolledBackAt: null });
    expect((json[0]?.["timeline"] as unknown[]).length).toBe(11);
  });
});

describe("Flagger with the Gateway API provider", () => {
  it("writes the weights into an HTTPRoute whose parent is the apex Service", () => {
    const canary = parse(readFileSync(join(CANARY_DIR, "manifests", "flagger", "canary.yaml"), "utf8")) as Obj;
    const spec = canary["spec"] as Obj;
    spec["provider"] = "gatewayapi:v1beta1";
    (spec["service"] as Obj)["gatewayRefs"] = [{ group: "core", kind: "Service", name: "web", port: 80 }];
    const scenario = parse(promotes) as Obj;
    const cluster = (scenario["clusters"] as Obj[])[0] as Obj;
    cluster["manifests"] = ["manifests/flagger/web.yaml", "manifests/flagger/loadgen.yaml"];
    cluster["objects"] = [canary];
    scenario["expect"] = [{ name: "promoted", canary: { promoted: true, after: "1m45s", atLeast: "255s", within: "285s" } }];
    const r = run(stringify(scenario));
    expect(r.run.expectations.map((e) => [e.name, e.pass])).toEqual([["promoted", true]]);
    // The canary's share at 50 % (set at 270 s), binomial as above.
    const share = (metric(r.run, "requests", { server: "c/shop/web" }, ["271s", "300s"]) ?? 0) / (metric(r.run, "requests", { traffic: "shoppers" }, ["271s", "300s"]) ?? 1);
    expect(share).toBeGreaterThan(0.5 - 4 * 0.0093);
    expect(share).toBeLessThan(0.5 + 4 * 0.0093);
  });
});

describe("canary: expectations and what check says", () => {
  it("refuses an expectation naming a Canary the scenario does not have, with a suggestion", () => {
    const yaml = promotes.replace(/^expect:[\s\S]*$/m, "expect:\n  - {name: x, canary: {name: shop/wbe, promoted: true}}\n");
    const r = runScenarioText(yaml, CANARY_DIR);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors[0]).toMatchObject({ path: "expect[0].canary.name", suggestion: "shop/web" });
    expect(r.errors[0]?.message).toBe("the scenario has no Canary shop/wbe");
  });

  it("refuses a canary expectation with two verdicts, or a time bound on one that must not happen", () => {
    for (const bad of ["{promoted: true, rolledBack: false}", "{promoted: false, within: 5m}"]) {
      const r = runScenarioText(promotes.replace(/^expect:[\s\S]*$/m, `expect:\n  - {name: x, canary: ${bad}}\n`), CANARY_DIR);
      expect(r.ok, bad).toBe(false);
    }
  });

  it("lists the parts of a Canary it does not simulate as findings of the run", () => {
    const scenario = parse(promotes) as Obj;
    ((scenario["clusters"] as Obj[])[0] as Obj)["objects"] = [
      { apiVersion: "flagger.app/v1beta1", kind: "Canary", metadata: { name: "api", namespace: "shop" }, spec: { targetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "api" }, service: { port: 80 }, analysis: { interval: "1m", webhooks: [{ name: "load-test", url: "http://flagger-loadtester.test/" }] } } },
    ];
    scenario["expect"] = [];
    const r = run(stringify(scenario));
    const codes = r.findings.diagnostics.map((d) => [d.code, d.field]);
    expect(codes).toContainEqual(["canary-not-simulated", "spec.analysis.webhooks"]);
    expect(codes).toContainEqual(["canary-target-not-found", "spec.targetRef.name"]);
  });
});
