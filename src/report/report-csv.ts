// The report's extra CSV files: one row per expectation, one per `viz edges` edge. RFC 4180
// quoting, so names with commas or quotes survive a spreadsheet import.

import type { Edge } from "../mesh/world.js";
import type { ExpectationResult } from "../scenario/expect.js";

export function csvField(v: string | number | boolean | null): string {
  if (v === null) return "";
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function csv(header: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number | boolean | null>>): string {
  return [header.join(","), ...rows.map((r) => r.map(csvField).join(","))].join("\n") + "\n";
}

export function expectationsCsv(expectations: readonly ExpectationResult[]): string {
  return csv(
    ["name", "pass", "measured", "expected", "detail"],
    expectations.map((e) => [e.name, e.pass, e.measured, e.expected, e.detail]),
  );
}

/** `secured` is `true` for mTLS; otherwise `no_tls_reason` says why, as `viz edges` would. */
export function edgesCsv(edges: readonly Edge[]): string {
  return csv(
    ["client", "server", "client_identity", "server_identity", "secured", "no_tls_reason", "requests"],
    edges.map((e) => [e.client, e.server, e.clientIdentity, e.serverIdentity, e.secured === "√", e.secured === "√" ? null : e.secured, e.requests]),
  );
}
