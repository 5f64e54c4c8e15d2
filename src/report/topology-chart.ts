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

export function topologyChart(edges: readonly Edge[], traffic: readonly TrafficSpec[], metrics: MeshMetrics, window: [number, number]): ReportChart | undefined {
  if (edges.length === 0) return undefined;
  const sources = traffic.map((t) => `${t.from.cluster}/${t.from.namespace}/${t.from.deployment}`);
  const nodes = layoutTopology(edges, sources);
  const at = new Map(nodes.map((n) => [n.id, n]));
  const lines = topologyEdges(edges, metrics, window).map((e) => {
    const a = at.get(e.client) as TopologyNode;
    const b = at.get(e.server) as TopologyNode;
    const rate = e.successRate === null ? "n/a" : `${(e.successRate * 100).toFixed(2)}%`;
    return {
      x: a.layer, y: a.row, x2: b.layer, y2: b.row, mx: (a.layer + b.layer) / 2, my: (a.row + b.row) / 2,
      successRate: e.successRate, secured: e.secured ? "mTLS" : "not secured", label: `${rate} ${e.secured ? "mTLS" : "no TLS"}`,
    };
  });
  const layers = Math.max(...nodes.map((n) => n.layer)) + 1;
  const rowsMax = Math.max(...nodes.map((n) => n.row)) + 1;
  const x = { type: "quantitative", axis: null, scale: { domain: [-0.5, layers - 0.5] } };
  const y = { type: "quantitative", axis: null, scale: { domain: [rowsMax - 0.5, -0.5] } };
  const spec: VegaLiteSpec = {
    title: "Topology (edges coloured by success rate; dashed = not mTLS)",
    width: Math.max(320, layers * 220),
    height: Math.max(120, rowsMax * 80),
    config: { background: "white", view: { stroke: null } },
    layer: [
      {
        data: { values: lines },
        mark: { type: "rule", strokeWidth: 3 },
        encoding: {
          x: { field: "x", ...x }, y: { field: "y", ...y }, x2: { field: "x2" }, y2: { field: "y2" },
          color: {
            condition: { test: "datum.successRate === null", value: "#999999" },
            field: "successRate", type: "quantitative", title: "success rate",
            scale: { domain: [0.9, 1], clamp: true, scheme: "redyellowgreen" },
          },
          strokeDash: { field: "secured", type: "nominal", title: "SECURED", scale: { domain: ["mTLS", "not secured"], range: [[1, 0], [6, 4]] } },
        },
      },
      { data: { values: lines }, mark: { type: "text", dy: -8, fontSize: 10 }, encoding: { x: { field: "mx", ...x }, y: { field: "my", ...y }, text: { field: "label" } } },
      { data: { values: nodes }, mark: { type: "point", filled: true, size: 220, color: "#4c78a8" }, encoding: { x: { field: "layer", ...x }, y: { field: "row", ...y } } },
      { data: { values: nodes }, mark: { type: "text", dy: 18, fontSize: 11 }, encoding: { x: { field: "layer", ...x }, y: { field: "row", ...y }, text: { field: "label" } } },
    ],
  };
  return { name: "topology", title: "Topology", spec };
}
