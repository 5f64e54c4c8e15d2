// The topology picture of the report: workloads as nodes, `viz edges` as lines coloured by the
// server's inbound success rate and dashed when not mTLS. Inbound series carry no client label,
// so, like the viz dashboard's graph, every edge into a workload shows that workload's rate. The layout is computed here — a layer per
// longest call depth from the traffic sources, names sorted within a layer — so it is the same for
// the same run, and drawn with ordinary Vega-Lite point/rule/text marks.

import type { MeshMetrics } from "../mesh/metrics.js";
import type { TrafficSpec } from "../mesh/spec.js";
import type { Edge } from "../mesh/world.js";
import type { ReportChart, VegaLiteSpec } from "./charts.js";

export interface TopologyNode {
  /** `cluster/namespace/deployment`. */
  id: string;
  label: string;
  /** Call depth from a source (0 for traffic sources and unreached callers). */
  layer: number;
  /** Position within the layer, 0 first. */
  row: number;
}

export interface TopologyEdge {
  client: string;
  server: string;
  /** The server workload's inbound success rate over the whole run; null when it served nothing. */
  successRate: number | null;
  secured: boolean;
  requests: number;
}

/** Layered layout: depth by longest path, capped so that cycles cannot loop forever. */
export function layoutTopology(edges: readonly Edge[], sources: readonly string[]): TopologyNode[] {
  const ids = [...new Set([...sources, ...edges.flatMap((e) => [e.client, e.server])])].sort();
  const depth = new Map(ids.map((id) => [id, 0]));
  const cap = Math.max(0, ids.length - 1);
  for (let pass = 0; pass < ids.length; pass += 1) {
    let changed = false;
    for (const e of edges) {
      if (e.client === e.server) continue;
      const d = Math.min(cap, (depth.get(e.client) ?? 0) + 1);
      if (d > (depth.get(e.server) ?? 0)) {
        depth.set(e.server, d);
        changed = true;
      }
    }
    if (!changed) break;
  }
  const clusters = new Set(ids.map((id) => id.split("/")[0]));
  const rowsUsed = new Map<number, number>();
  return ids.map((id) => {
    const layer = depth.get(id) ?? 0;
    const row = rowsUsed.get(layer) ?? 0;
    rowsUsed.set(layer, row + 1);
    return { id, label: clusters.size > 1 ? id : id.split("/").slice(1).join("/"), layer, row };
  });
}

export function topologyEdges(edges: readonly Edge[], metrics: MeshMetrics, window: [number, number]): TopologyEdge[] {
  return edges.map((e) => {
    const rate = metrics.query({ server: e.server }, window).serverSuccessRate;
    return { client: e.client, server: e.server, successRate: Number.isFinite(rate) ? rate : null, secured: e.secured === "√", requests: e.requests };
  });
}

/** Node label font size, and the width one character takes at it (an estimate for layout). */
const LABEL_FONT = 11;
const CHAR_PX = 6.4;
const ROW_PX = 100;
const PAD_PX = 40;

/** A text's box on the picture, px (centre x, top y, width, height). */
export interface LabelBox {
  text: string;
  x: number;
  y: number;
  w: number;
  h: number;
}

/** Node positions in pixels: layers left to right, each layer's nodes centred vertically. */
export function topologyPositions(nodes: readonly TopologyNode[]): { at: Map<string, { x: number; y: number }>; width: number; height: number; colPx: number } {
  const layers = Math.max(...nodes.map((n) => n.layer)) + 1;
  const counts = new Map<number, number>();
  for (const n of nodes) counts.set(n.layer, (counts.get(n.layer) ?? 0) + 1);
  const rowsMax = Math.max(...counts.values());
  // A column is as wide as its widest label plus a gap, so labels of adjacent layers never meet.
  const colPx = Math.max(220, Math.max(...nodes.map((n) => n.label.length)) * CHAR_PX + 100);
  const at = new Map<string, { x: number; y: number }>();
  for (const n of nodes) {
    const offset = (rowsMax - (counts.get(n.layer) ?? 1)) / 2;
    at.set(n.id, { x: PAD_PX + colPx / 2 + n.layer * colPx, y: PAD_PX + (n.row + offset) * ROW_PX });
  }
  return { at, width: layers * colPx + 2 * PAD_PX, height: (rowsMax - 1) * ROW_PX + 2 * PAD_PX, colPx };
}

/** A node's name goes above its dot in the upper half of its layer, below it in the lower half. */
export function labelAbove(n: TopologyNode, nodes: readonly TopologyNode[]): boolean {
  const count = nodes.filter((m) => m.layer === n.layer).length;
  return n.row < count / 2;
}

/** Where the node labels and edge labels go (tests check that none overlap). */
export function topologyLabels(nodes: readonly TopologyNode[], lines: ReadonlyArray<{ lx: number; ly: number; label: string }>): LabelBox[] {
  const { at } = topologyPositions(nodes);
  const boxes: LabelBox[] = nodes.map((n) => {
    const p = at.get(n.id) as { x: number; y: number };
    const above = labelAbove(n, nodes);
    return { text: n.label, x: p.x, y: above ? p.y - 14 - LABEL_FONT : p.y + 12, w: n.label.length * CHAR_PX, h: LABEL_FONT + 2 };
  });
  for (const l of lines) boxes.push({ text: l.label, x: l.lx, y: l.ly - 14, w: l.label.length * CHAR_PX * (10 / LABEL_FONT), h: 12 });
  return boxes;
}

export function topologyChart(edges: readonly Edge[], traffic: readonly TrafficSpec[], metrics: MeshMetrics, window: [number, number]): ReportChart | undefined {
  if (edges.length === 0) return undefined;
  const sources = traffic.map((t) => `${t.from.cluster}/${t.from.namespace}/${t.from.deployment}`);
  const nodes = layoutTopology(edges, sources);
  const { at, width, height } = topologyPositions(nodes);
  const seconds = (window[1] - window[0]) / 1e6;
  const lines = topologyEdges(edges, metrics, window).map((e) => {
    const a = at.get(e.client) as { x: number; y: number };
    const b = at.get(e.server) as { x: number; y: number };
    const rate = e.successRate === null ? "n/a" : `${(e.successRate * 100).toFixed(2)}%`;
    const rps = e.requests / seconds;
    const len = Math.hypot(b.x - a.x, b.y - a.y) || 1;
    // The arrowhead sits just short of the server's dot; the label halfway along, above the line
    // (node names sit above their dots, clear of the lines leaving them).
    const back = Math.min(14, len / 2);
    return {
      x: a.x, y: a.y, x2: b.x, y2: b.y,
      ax: b.x - ((b.x - a.x) * back) / len, ay: b.y - ((b.y - a.y) * back) / len,
      angle: (Math.atan2(b.y - a.y, b.x - a.x) * 180) / Math.PI + 90,
      lx: (a.x + b.x) / 2, ly: (a.y + b.y) / 2,
      successRate: e.successRate, secured: e.secured ? "mTLS" : "not secured",
      label: `${rps < 10 ? rps.toFixed(2) : rps.toFixed(1)} rps · ${rate}${e.secured ? " · mTLS" : " · no TLS"}`,
    };
  });
  const points = nodes.map((n) => ({ ...n, ...(at.get(n.id) as { x: number; y: number }), dy: labelAbove(n, nodes) ? -18 : 18 }));
  const x = { type: "quantitative", axis: null, scale: { domain: [0, width], nice: false } };
  const y = { type: "quantitative", axis: null, scale: { domain: [height, 0], nice: false } };
  const colour = {
    condition: { test: "datum.successRate === null", value: "#999999" },
    field: "successRate", type: "quantitative", title: "success rate",
    scale: { domain: [0.9, 1], clamp: true, scheme: "redyellowgreen" },
  };
  const spec: VegaLiteSpec = {
    title: "Topology (arrows from client to server; colour = server's success rate; dashed = not mTLS)",
    width,
    height,
    config: { background: "white", view: { stroke: null }, legend: { labelLimit: 0, titleLimit: 0 } },
    layer: [
      {
        data: { values: lines },
        mark: { type: "rule", strokeWidth: 3 },
        encoding: {
          x: { field: "x", ...x }, y: { field: "y", ...y }, x2: { field: "x2" }, y2: { field: "y2" },
          color: colour,
          strokeDash: { field: "secured", type: "nominal", title: "SECURED", scale: { domain: ["mTLS", "not secured"], range: [[1, 0], [6, 4]] } },
        },
      },
      { data: { values: lines }, mark: { type: "text", dy: -8, fontSize: 10 }, encoding: { x: { field: "lx", ...x }, y: { field: "ly", ...y }, text: { field: "label" } } },
      { data: { values: points }, mark: { type: "point", filled: true, size: 220, color: "#4c78a8" }, encoding: { x: { field: "x", ...x }, y: { field: "y", ...y } } },
      { data: { values: points.filter((p) => p.dy < 0) }, mark: { type: "text", dy: -18, fontSize: LABEL_FONT }, encoding: { x: { field: "x", ...x }, y: { field: "y", ...y }, text: { field: "label" } } },
      { data: { values: points.filter((p) => p.dy > 0) }, mark: { type: "text", dy: 18, fontSize: LABEL_FONT }, encoding: { x: { field: "x", ...x }, y: { field: "y", ...y }, text: { field: "label" } } },
      {
        data: { values: lines },
        mark: { type: "point", shape: "triangle-up", filled: true, size: 90, opacity: 1 },
        encoding: { x: { field: "ax", ...x }, y: { field: "ay", ...y }, angle: { field: "angle", type: "quantitative", scale: null }, color: colour },
      },
    ],
  };
  return { name: "topology", title: "Topology", spec };
}
