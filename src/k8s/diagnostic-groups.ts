// Repeated diagnostics said once. Real manifests produce the same finding many times over (one per
// route of a ServiceProfile generated from a .proto), and a hundred near-identical paragraphs hide
// the one finding that differs. So `check` and `run` print one line per severity and code, with a
// count and the first few places, then the first one's position and message; `--verbose` lists
// every diagnostic in full, one after the other, as they are sorted.

import type { Severity } from "../policy/diagnostics.js";
import type { PositionedDiagnostic } from "./check.js";

/** A diagnostic, and the scenario cluster whose objects it is about (absent for plain manifests). */
export interface ClusterDiagnostic extends PositionedDiagnostic {
  cluster?: string;
}

/** Every diagnostic of one severity and code, in the order they were given. */
export interface DiagnosticGroup {
  severity: Severity;
  code: string;
  diagnostics: ClusterDiagnostic[];
}

export interface GroupFormatOptions {
  /** Print every diagnostic in full instead of one line per group. Default false. */
  verbose?: boolean;
  /** Places a group line names before "and N more". Default 3. */
  shown?: number;
}

const SEVERITY_RANK: Record<Severity, number> = { error: 0, warning: 1, info: 2 };
const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Errors first, then warnings, then notes; within one severity by code. */
export function groupDiagnostics(diags: readonly ClusterDiagnostic[]): DiagnosticGroup[] {
  const groups = new Map<string, DiagnosticGroup>();
  for (const d of diags) {
    const id = `${d.severity}\u0000${d.code}`;
    const group = groups.get(id) ?? { severity: d.severity, code: d.code, diagnostics: [] };
    group.diagnostics.push(d);
    groups.set(id, group);
  }
  return [...groups.values()].sort((a, b) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] || cmp(a.code, b.code));
}

function where(d: ClusterDiagnostic): string {
  return d.source === undefined ? "" : `${d.source.file}:${d.source.line}:${d.source.col}: `;
}

function cluster(d: ClusterDiagnostic): string {
  return d.cluster === undefined ? "" : `[${d.cluster}] `;
}

/** One diagnostic in full: `file:line:col: severity code: [cluster] object field`, then its message. */
export function formatDiagnostic(d: ClusterDiagnostic): string[] {
  return [`${where(d)}${d.severity} ${d.code}: ${cluster(d)}${d.object} ${d.field}`, `    ${d.message}`];
}

/**
 * The places a group line names. A place that is in the same object as the one before it names
 * only its field, so a profile's routes read `ServiceProfile a/b spec.routes[0], spec.routes[1]`.
 */
function places(diags: readonly ClusterDiagnostic[]): string[] {
  let previous = "";
  return diags.map((d) => {
    const object = `${cluster(d)}${d.object}`;
    const text = object === previous ? d.field : `${object} ${d.field}`;
    previous = object;
    return text;
  });
}

/** One group: its line with the count and first places, then where the first is and what it says. */
export function formatGroup(g: DiagnosticGroup, shown = 3): string[] {
  const n = g.diagnostics.length;
  const first = g.diagnostics[0];
  if (first === undefined) return [];
  const named = places(g.diagnostics.slice(0, shown));
  const more = n > shown ? `, and ${n - shown} more` : "";
  const count = n > 1 ? ` ×${n}` : "";
  return [`${g.severity} ${g.code}${count}: ${named.join(", ")}${more}`, `    ${where(first)}${first.message}`];
}

/** Grouped lines (or, verbose, every diagnostic in full); no lines for no diagnostics. */
export function formatDiagnostics(diags: readonly ClusterDiagnostic[], opts: GroupFormatOptions = {}): string[] {
  if (opts.verbose === true) return diags.flatMap(formatDiagnostic);
  return groupDiagnostics(diags).flatMap((g) => formatGroup(g, opts.shown ?? 3));
}

/** Whether grouping left some diagnostics unnamed (so `--verbose` would show more). */
export function groupingHidesSome(diags: readonly ClusterDiagnostic[], shown = 3): boolean {
  return groupDiagnostics(diags).some((g) => g.diagnostics.length > shown);
}

/** `2 errors, 1 warning, 3 notes`, leaving out severities with none; "" for no diagnostics. */
export function countDiagnostics(diags: readonly ClusterDiagnostic[]): string {
  const count = (s: Severity): number => diags.filter((d) => d.severity === s).length;
  const parts: Array<[number, string]> = [[count("error"), "error"], [count("warning"), "warning"], [count("info"), "note"]];
  return parts.filter(([n]) => n > 0).map(([n, word]) => `${n} ${word}${n === 1 ? "" : "s"}`).join(", ");
}
