// Vega-Lite specs for the run report: RPS, success rate, latency, retries and TrafficSplit weights
// over time (fault windows shaded on each), and a topology picture of who called whom. Pure: plain
// JSON specs, no rendering — `src/cli/report-writer.ts` turns them into SVG. A chart with nothing
// to draw is left out rather than drawn empty.

import type { TimelinePoint } from "../mesh/metrics.js";
import type { FaultSpec } from "../mesh/spec.js";
import type { ScenarioRun } from "../scenario/run.js";
import { wholeRun } from "./summary.js";
import { topologyChart } from "./topology-chart.js";

/** A Vega-Lite spec as plain JSON; typed loosely so `src/report` needs no Vega-Lite import. */
export type VegaLiteSpec = Record<string, unknown>;

export interface ReportChart {
  /** File-safe name, e.g. `rps`; the SVG is written as `charts/<name>.svg`. */
  name: string;
  title: string;
  spec: VegaLiteSpec;
}

/** A shaded interval on the time axis, seconds. Instant faults have `endS === startS`. */
export interface FaultWindow {
  startS: number;
  endS: number;
  fault: string;
}

/** The chart area's width: the report page (1100 px) less the legend beside it. */
const WIDTH = 820;
const HEIGHT = 220;
/** Overlapping fault windows take turns of these shades (and label rows), so each stays readable. */
const FAULT_SHADES = ["#d62728", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2"];
/** Axes and legends for every chart: full legend labels, numbers without trailing zeros. */
const CHART_CONFIG = { background: "white", legend: { labelLimit: 0, titleLimit: 0 }, axis: { labelLimit: 0 }, axisY: { format: "~r" } };
/** The description that marks the fault layer of a time chart (tests and readers look for it). */
export const FAULT_LAYER = "fault windows";
/** The layer of one-shot faults, drawn as rules at their instant. */
export const FAULT_INSTANTS = "fault instants";
/** The layer naming each fault at its start. */
export const FAULT_LABELS = "fault labels";

// One-shot actions: their effect persists, but shading from then to the end would suggest an
// ongoing outage, so they are drawn as a line at the instant instead.
const INSTANT_FAULTS = new Set(["killPods", "scale", "restartPods", "issuerRotate", "anchorBundle", "anchorIssuer", "anchorDrop", "anchorReplace"]);

export function faultWindows(faults: readonly FaultSpec[], durationUs: number): FaultWindow[] {
  return faults.map((f) => {
    const endUs = f.untilUs ?? (INSTANT_FAULTS.has(f.action.kind) ? f.atUs : durationUs);
    return { startS: f.atUs / 1e6, endS: Math.min(endUs, durationUs) / 1e6, fault: f.action.kind };
  });
}

/** Every chart of the report that has data, in reading order. */
export function reportCharts(run: ScenarioRun): ReportChart[] {
  const faults = faultWindows(run.spec.faults, run.spec.durationUs);
  const series = trafficSeries(run);
  const charts: Array<ReportChart | undefined> = [
    rpsChart(series, faults),
    successRateChart(series, faults),
    latencyChart(series, faults),
    retriesChart(run.world.metrics.timeline({}), faults),
    ...routeCharts(run, faults),
    splitWeightsChart(run, faults),
    canaryChart(run, faults),
    gatewaysChart(run, faults),
    topologyChart(run.world.edges, run.spec.traffic, run.world.metrics, wholeRun(run)),
  ];
  return charts.filter((c): c is ReportChart => c !== undefined);
}

interface NamedTimeline {
  traffic: string;
  points: TimelinePoint[];
}

function trafficSeries(run: ScenarioRun): NamedTimeline[] {
  if (run.spec.traffic.length === 0) return [{ traffic: "all", points: run.world.metrics.timeline({}) }];
  return run.spec.traffic.map((t) => ({ traffic: t.name, points: run.world.metrics.timeline({ traffic: t.name }) }));
}

type Row = Record<string, string | number>;

/** Rows `{tS, traffic, series, value}` for each finite value `pick` returns. */
function rows(series: readonly NamedTimeline[], picks: ReadonlyArray<[string, (p: TimelinePoint) => number]>): Row[] {
  const out: Row[] = [];
  for (const s of series) {
    for (const p of s.points) {
      for (const [name, pick] of picks) {
        const value = pick(p);
        if (Number.isFinite(value)) out.push({ tS: p.startUs / 1e6, traffic: s.traffic, series: name, value });
      }
    }
  }
  return out;
}

const widthS = (p: TimelinePoint) => (p.endUs - p.startUs) / 1e6;
const ratio = (num: number, den: number) => (den > 0 ? num / den : NaN);

export function rpsChart(series: readonly NamedTimeline[], faults: readonly FaultWindow[]): ReportChart | undefined {
  const data = rows(series, [
    ["effective", (p) => p.requests / widthS(p)],
    ["actual (attempts)", (p) => p.attempts / widthS(p)],
  ]);
  if (!data.some((r) => (r.value as number) > 0)) return undefined;
  return { name: "rps", title: "Requests per second", spec: timeChart("Requests per second", data, "RPS", faults) };
}

export function successRateChart(series: readonly NamedTimeline[], faults: readonly FaultWindow[]): ReportChart | undefined {
  const data = rows(series, [
    ["effective", (p) => ratio(p.success, p.requests)],
    ["actual (attempts)", (p) => ratio(p.attempts - p.attemptFailures, p.attempts)],
  ]);
  if (data.length === 0) return undefined;
  return { name: "success-rate", title: "Success rate", spec: timeChart("Success rate (effective vs actual)", data, "success rate", faults) };
}

export function latencyChart(series: readonly NamedTimeline[], faults: readonly FaultWindow[]): ReportChart | undefined {
  const data = rows(series, [
    ["p50", (p) => p.latencyP50Us / 1000],
    ["p99", (p) => p.latencyP99Us / 1000],
  ]);
  if (data.length === 0) return undefined;
  return { name: "latency", title: "Latency p50 / p99", spec: timeChart("Latency p50 / p99 (ms)", data, "latency ms", faults) };
}

export function retriesChart(points: readonly TimelinePoint[], faults: readonly FaultWindow[]): ReportChart | undefined {
  const data = rows([{ traffic: "all", points: [...points] }], [
    ["retries/s", (p) => p.retries / widthS(p)],
    ["budget skips/s", (p) => p.budgetExhausted / widthS(p)],
  ]);
  if (!data.some((r) => (r.value as number) > 0)) return undefined;
  return { name: "retries", title: "Retries and retry-budget skips", spec: timeChart("Retries and retry-budget skips per second", data, "per second", faults) };
}

/** Routes drawn per chart at most: the busiest, so a route table of dozens stays readable. */
const MAX_ROUTES = 8;

/**
 * Per route (service and route, as `viz routes` lists them, the mesh's own multicluster traffic
 * aside): the effective success rate and the p99 over time, the busiest routes first. Left out when there is only one route (the traffic
 * charts already show it).
 */
export function routeCharts(run: ScenarioRun, faults: readonly FaultWindow[]): ReportChart[] {
  const m = run.world.metrics;
  const window = wholeRun(run);
  const keys = new Map<string, { service: string; route: string }>();
  for (const l of m.labelSets("request")) {
    // The multicluster gateway's forwarding and the service mirror's probes are the mesh's own.
    if (l.service === undefined || l.client?.split("/")[1] === "linkerd-multicluster") continue;
    const route = l.route ?? "";
    keys.set(`${l.service}|${route}`, { service: l.service, route });
  }
  if (keys.size < 2) return [];
  const ranked = [...keys.values()]
    .map((k) => ({ ...k, requests: m.query({ service: k.service, route: k.route }, window).requests }))
    .filter((k) => k.requests > 0)
    .sort((a, b) => b.requests - a.requests || (`${a.service} ${a.route}` < `${b.service} ${b.route}` ? -1 : 1))
    .slice(0, MAX_ROUTES);
  if (ranked.length < 2) return [];
  const series = ranked.map((k) => ({ traffic: `${k.service} ${k.route === "" ? "[DEFAULT]" : k.route}`, points: m.timeline({ service: k.service, route: k.route }) }));
  const success = rows(series, [["effective", (p) => ratio(p.success, p.requests)]]);
  const p99 = rows(series, [["p99", (p) => p.latencyP99Us / 1000]]);
  return [
    { name: "route-success-rate", title: "Success rate per route", spec: timeChart("Success rate per route (effective)", success, "success rate", faults) },
    { name: "route-latency", title: "p99 per route", spec: timeChart("Latency p99 per route (ms)", p99, "latency ms", faults) },
  ];
}

/** Weights as a step line per backend, each held until the next update and to the end of the run. */
export function splitWeightsChart(run: ScenarioRun, faults: readonly FaultWindow[]): ReportChart | undefined {
  const updates = run.world.splitUpdates;
  if (updates.length === 0) return undefined;
  const data: Row[] = [];
  const last = new Map<string, number>();
  for (const u of updates) {
    for (const w of u.weights) {
      const series = `${u.cluster} ${u.split} → ${w.service}`;
      data.push({ tS: u.atUs / 1e6, traffic: series, series: "weight", value: w.weight });
      last.set(series, w.weight);
    }
  }
  for (const [series, weight] of last) data.push({ tS: run.spec.durationUs / 1e6, traffic: series, series: "weight", value: weight });
  const spec = timeChart("TrafficSplit weights", data, "weight", faults, "step-after");
  return { name: "split-weights", title: "TrafficSplit weights", spec };
}

/**
 * Each Flagger Canary: the canary's weight (a step, held until the next run of the job) and the
 * success rate each analysis measured (percent, as Flagger compares it to `thresholdRange`).
 */
export function canaryChart(run: ScenarioRun, faults: readonly FaultWindow[]): ReportChart | undefined {
  const data: Row[] = [];
  for (const c of run.world.canaries ?? []) {
    const name = `${c.cluster} ${c.canary}`;
    for (const t of c.ticks) {
      data.push({ tS: t.atUs / 1e6, traffic: name, series: "canary weight %", value: t.canaryWeight });
      const sr = t.analysis?.find((a) => a.metric === "request-success-rate");
      if (sr?.value !== null && sr?.value !== undefined) data.push({ tS: t.atUs / 1e6, traffic: name, series: "analysed success rate %", value: sr.value });
    }
    const last = c.ticks.at(-1);
    if (last !== undefined) data.push({ tS: run.spec.durationUs / 1e6, traffic: name, series: "canary weight %", value: last.canaryWeight });
  }
  if (data.length === 0) return undefined;
  return { name: "canary", title: "Flagger canary weight and analysis", spec: timeChart("Flagger: canary weight and each analysis's success rate (%)", data, "percent", faults, "step-after") };
}

/** Gateway ALIVE (1/0) and probe LATENCY (ms) after every probe, per link, as `multicluster gateways` shows them. */
export function gatewaysChart(run: ScenarioRun, faults: readonly FaultWindow[]): ReportChart | undefined {
  const data: Row[] = [];
  for (const g of run.world.gatewayTimeline) {
    for (const p of g.points) {
      const link = `${g.from} → ${g.cluster}`;
      data.push({ tS: p.atUs / 1e6, traffic: link, series: "alive (1/0) × 100", value: p.alive ? 100 : 0 });
      data.push({ tS: p.atUs / 1e6, traffic: link, series: "latency ms", value: p.latencyMs });
    }
  }
  if (data.length === 0) return undefined;
  return { name: "gateways", title: "Gateway liveness and latency", spec: timeChart("Gateways: ALIVE (×100) and LATENCY (ms) after each probe", data, "ms / alive × 100", faults, "step-after") };
}

/**
 * A line chart over time: colour is the traffic (or backend), dash the series within it. The
 * fault layer comes first so the lines draw over the shading.
 */
export function timeChart(title: string, data: readonly Row[], yTitle: string, faults: readonly FaultWindow[], interpolate = "linear"): VegaLiteSpec {
  const line: VegaLiteSpec = {
    data: { values: data },
    mark: { type: "line", interpolate, point: false },
    encoding: {
      x: { field: "tS", type: "quantitative", title: "time (s)" },
      y: { field: "value", type: "quantitative", title: yTitle },
      color: { field: "traffic", type: "nominal", title: null },
      strokeDash: { field: "series", type: "nominal", title: null },
    },
  };
  const layer = faults.length > 0 ? [...faultLayers(faults), line] : [line];
  return { title, width: WIDTH, height: HEIGHT, layer, config: CHART_CONFIG };
}

/**
 * The fault layers of a time chart: each window shaded from its start to its heal (or the end),
 * each one-shot fault (a pod kill, a scale, a restart) a rule at its instant, and every fault
 * named at its start. Windows that overlap take different shades and label rows.
 */
export function faultLayers(faults: readonly FaultWindow[]): VegaLiteSpec[] {
  const laneEnds: number[] = [];
  const marked = [...faults]
    .map((f, i) => ({ ...f, i }))
    .sort((a, b) => a.startS - b.startS || a.i - b.i)
    .map((f) => {
      let lane = laneEnds.findIndex((end) => end < f.startS);
      if (lane === -1) lane = laneEnds.length;
      laneEnds[lane] = f.endS;
      return { startS: f.startS, endS: f.endS, fault: f.fault, lane, shade: FAULT_SHADES[lane % FAULT_SHADES.length] as string, labelY: 10 + 12 * lane };
    });
  const windows = marked.filter((f) => f.endS > f.startS);
  const instants = marked.filter((f) => f.endS === f.startS);
  const colour = { fill: { field: "shade", type: "nominal", scale: null, legend: null }, stroke: { field: "shade", type: "nominal", scale: null, legend: null } };
  const out: VegaLiteSpec[] = [
    {
      description: FAULT_LAYER,
      data: { values: windows },
      mark: { type: "rect", opacity: 0.14, strokeOpacity: 0.6, strokeWidth: 1 },
      encoding: { x: { field: "startS", type: "quantitative" }, x2: { field: "endS" }, ...colour, tooltip: { field: "fault", type: "nominal" } },
    },
  ];
  if (instants.length > 0) {
    out.push({
      description: FAULT_INSTANTS,
      data: { values: instants },
      mark: { type: "rule", strokeWidth: 2, strokeDash: [4, 2] },
      encoding: { x: { field: "startS", type: "quantitative" }, stroke: { field: "shade", type: "nominal", scale: null, legend: null }, tooltip: { field: "fault", type: "nominal" } },
    });
  }
  out.push({
    description: FAULT_LABELS,
    data: { values: marked },
    mark: { type: "text", align: "left", baseline: "middle", dx: 3, fontSize: 10, fontWeight: "bold" },
    encoding: { x: { field: "startS", type: "quantitative" }, y: { field: "labelY", type: "quantitative", scale: null }, text: { field: "fault" }, fill: { field: "shade", type: "nominal", scale: null, legend: null } },
  });
  return out;
}
