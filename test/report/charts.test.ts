// The report's charts are plain Vega-Lite specs built from a run: one per kind of data present,
// every time chart shading the fault windows, and a topology laid out in call-depth layers.

import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runScenario } from "../../src/api/run-scenario.js";
import type { Edge } from "../../src/mesh/world.js";
import { FAULT_INSTANTS, FAULT_LABELS, FAULT_LAYER, faultWindows, reportCharts, type VegaLiteSpec } from "../../src/report/charts.js";
import { type LabelBox, layoutTopology, topologyLabels } from "../../src/report/topology-chart.js";
import type { ScenarioRun } from "../../src/scenario/run.js";
import { controlPlaneDownRun } from "./report-fixture.js";

let authLossRun: ScenarioRun | undefined;
/** scenarios/payments/auth-loss.yaml, run once for the tests that need a multi-cluster, multi-route run. */
function authLoss(): ScenarioRun {
  if (authLossRun !== undefined) return authLossRun;
  const r = runScenario(join(import.meta.dirname, "..", "..", "scenarios", "payments", "auth-loss.yaml"));
  if (!r.ok) throw new Error("auth-loss should load");
  authLossRun = r.run;
  return r.run;
}

const TIME_CHARTS = ["rps", "success-rate", "latency", "retries", "split-weights"];
const layers = (spec: VegaLiteSpec) => spec.layer as VegaLiteSpec[];
const values = (layer: VegaLiteSpec) => (layer.data as { values: Array<Record<string, unknown>> }).values;

function withSplitUpdates(run: ScenarioRun): ScenarioRun {
  const weights = (primary: number) => [{ service: "api", weight: primary }, { service: "api-remote", weight: 1000 - primary }];
  const update = (atUs: number, primary: number) => ({ atUs, cluster: "c", split: "app/api", primary: "api", primaryShare: primary / 1000, previousPrimaryShare: 1, weights: weights(primary), reason: "test" });
  return { ...run, world: { ...run.world, splitUpdates: [update(20_000_000, 500), update(30_000_000, 0)] } };
}

describe("report charts", () => {
  it("fault windows run from `at` to `until`, and instant faults are a line at their instant", () => {
    const run = controlPlaneDownRun();
    expect(faultWindows(run.spec.faults, run.spec.durationUs)).toEqual([
      { startS: 10, endS: 40, fault: "controlPlaneDown" },
      { startS: 15, endS: 15, fault: "killPods" },
    ]);
    expect(faultWindows([{ atUs: 5e6, action: { kind: "clusterLoss", cluster: "c" } }], 60e6)).toEqual([{ startS: 5, endS: 60, fault: "clusterLoss" }]);
  });

  it("draws RPS, success rate, latency and topology, and skips retries and split weights when there are none", () => {
    const run = controlPlaneDownRun();
    expect(run.world.metrics.timeline({}).some((p) => p.retries > 0)).toBe(false); // the premise
    expect(reportCharts(run).map((c) => c.name)).toEqual(["rps", "success-rate", "latency", "topology"]);
  });

  it("every time chart has the fault layer first, with every fault in it", () => {
    const run = withSplitUpdates(controlPlaneDownRun());
    const timeCharts = reportCharts(run).filter((c) => TIME_CHARTS.includes(c.name));
    expect(timeCharts.map((c) => c.name)).toEqual(["rps", "success-rate", "latency", "split-weights"]);
    for (const c of timeCharts) {
      const first = layers(c.spec)[0] as VegaLiteSpec;
      expect(first.description, c.name).toBe(FAULT_LAYER);
      expect((first.mark as { type: string }).type).toBe("rect");
      // The window is shaded; the one-shot kill is a rule at its instant; both are named.
      expect(values(first).map((v) => v.fault)).toEqual(["controlPlaneDown"]);
      const instants = layers(c.spec).find((l) => l.description === FAULT_INSTANTS) as VegaLiteSpec;
      expect((instants.mark as { type: string }).type).toBe("rule");
      expect(values(instants).map((v) => [v.fault, v.startS])).toEqual([["killPods", 15]]);
      const labels = layers(c.spec).find((l) => l.description === FAULT_LABELS) as VegaLiteSpec;
      expect(values(labels).map((v) => v.fault)).toEqual(["controlPlaneDown", "killPods"]);
      // The kill lies inside the outage window: it takes the second shade and label row.
      expect(values(labels).map((v) => v.lane)).toEqual([0, 1]);
    }
  });

  it("a run without faults has no fault layer", () => {
    const run = controlPlaneDownRun();
    const calm: ScenarioRun = { ...run, spec: { ...run.spec, faults: [] } };
    for (const c of reportCharts(calm).filter((c) => TIME_CHARTS.includes(c.name))) {
      expect(layers(c.spec).some((l) => l.description === FAULT_LAYER)).toBe(false);
    }
  });

  it("RPS plots effective requests and attempts per second for each traffic", () => {
    const run = controlPlaneDownRun();
    const rps = reportCharts(run).find((c) => c.name === "rps");
    const line = layers(rps?.spec ?? {}).at(-1) as VegaLiteSpec;
    const rows = values(line);
    const points = run.world.metrics.timeline({ traffic: "calls" });
    const p = points[20];
    if (p === undefined) throw new Error("expected at least 21 buckets");
    const widthS = (p.endUs - p.startUs) / 1e6;
    const at = rows.filter((r) => r.tS === p.startUs / 1e6 && r.traffic === "calls");
    expect(at).toEqual([
      { tS: p.startUs / 1e6, traffic: "calls", series: "effective", value: p.requests / widthS },
      { tS: p.startUs / 1e6, traffic: "calls", series: "actual (attempts)", value: p.attempts / widthS },
    ]);
  });

  it("split weights are a step line per backend, held to the end of the run", () => {
    const run = withSplitUpdates(controlPlaneDownRun());
    const chart = reportCharts(run).find((c) => c.name === "split-weights");
    const line = layers(chart?.spec ?? {}).at(-1) as VegaLiteSpec;
    expect((line.mark as { interpolate: string }).interpolate).toBe("step-after");
    const api = values(line).filter((r) => r.traffic === "c app/api → api").map((r) => [r.tS, r.value]);
    expect(api).toEqual([[20, 500], [30, 0], [60, 0]]);
  });

  it("the topology colours each edge by the server's inbound success rate and marks mTLS", () => {
    const run = controlPlaneDownRun();
    const topo = reportCharts(run).find((c) => c.name === "topology");
    const [rules, , points] = layers(topo?.spec ?? {}) as [VegaLiteSpec, VegaLiteSpec, VegaLiteSpec];
    const window: [number, number] = [run.spec.warmupUs, run.spec.durationUs];
    const expected = run.world.metrics.query({ server: "c/app/api" }, window).serverSuccessRate;
    expect(expected).toBeGreaterThan(0); // the premise: api served requests
    expect(values(rules)).toMatchObject([{ successRate: expected, secured: "mTLS" }]);
    // client (layer 0) on the left, api (layer 1) to its right; the arrowhead points at api.
    const [edge] = values(rules) as Array<{ x: number; x2: number; y: number; y2: number; ax: number; angle: number; label: string }>;
    expect(edge?.x).toBeLessThan(edge?.x2 as number);
    expect(edge?.ax).toBeLessThan(edge?.x2 as number);
    expect(edge?.angle).toBe(90);
    // RPS on the edge: its requests over the window.
    const rps = (run.world.edges[0]?.requests as number) / ((window[1] - window[0]) / 1e6);
    expect(edge?.label.startsWith(`${rps < 10 ? rps.toFixed(2) : rps.toFixed(1)} rps · `)).toBe(true);
    expect(values(points).map((n) => n.label)).toEqual(["app/api", "app/client"]);
  });

  it("draws success rate and p99 per route, the busiest routes, when there is more than one", () => {
    const run = authLoss();
    const charts = reportCharts(run);
    const sr = charts.find((c) => c.name === "route-success-rate");
    const p99 = charts.find((c) => c.name === "route-latency");
    const routesOf = (c: typeof sr) => [...new Set(values(layers(c?.spec ?? {}).at(-1) as VegaLiteSpec).map((r) => r.traffic))].sort();
    expect(routesOf(sr)).toEqual(["auth GET /verify", "auth POST /capture"]);
    expect(routesOf(p99)).toEqual(["auth GET /verify", "auth POST /capture"]);
    // A run with one route has none: the traffic charts show it already.
    expect(reportCharts(controlPlaneDownRun()).some((c) => c.name.startsWith("route-"))).toBe(false);
  });

  it("places no label over another: node names and edge labels of the payments topology", () => {
    const run = authLoss();
    const topo = reportCharts(run).find((c) => c.name === "topology");
    const lines = values(layers(topo?.spec ?? {})[0] as VegaLiteSpec) as Array<{ lx: number; ly: number; label: string }>;
    const sources = run.spec.traffic.map((t) => `${t.from.cluster}/${t.from.namespace}/${t.from.deployment}`);
    const boxes = topologyLabels(layoutTopology(run.world.edges, sources), lines);
    const overlap = (a: LabelBox, b: LabelBox): boolean => Math.abs(a.x - b.x) * 2 < a.w + b.w && a.y < b.y + b.h && b.y < a.y + a.h;
    const clashes = boxes.flatMap((a, i) => boxes.slice(i + 1).filter((b) => overlap(a, b)).map((b) => `${a.text} / ${b.text}`));
    expect(clashes).toEqual([]);
  });

  it.each<[string, Array<[string, string]>, string[], Record<string, [number, number]>]>([
    ["a chain gets one layer per hop", [["c/a/web", "c/a/api"], ["c/a/api", "c/a/db"]], ["c/a/web"], { "c/a/web": [0, 0], "c/a/api": [1, 0], "c/a/db": [2, 0] }],
    ["a node takes its longest path", [["c/a/web", "c/a/api"], ["c/a/api", "c/a/db"], ["c/a/web", "c/a/db"]], [], { "c/a/web": [0, 0], "c/a/api": [1, 0], "c/a/db": [2, 0] }],
    ["siblings share a layer, sorted by name", [["c/a/web", "c/a/b"], ["c/a/web", "c/a/a"]], [], { "c/a/web": [0, 0], "c/a/a": [1, 0], "c/a/b": [1, 1] }],
    ["a cycle stops at the node count", [["c/a/x", "c/a/y"], ["c/a/y", "c/a/x"]], [], { "c/a/x": [1, 0], "c/a/y": [1, 1] }],
  ])("layout: %s", (_name, pairs, sources, expected) => {
    const edges: Edge[] = pairs.map(([client, server]) => ({ client, server, clientIdentity: "", serverIdentity: "", secured: "√", requests: 1 }));
    const got = Object.fromEntries(layoutTopology(edges, sources).map((n) => [n.id, [n.layer, n.row]]));
    expect(got).toEqual(expected);
  });
});
