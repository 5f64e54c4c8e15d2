// The terminal summary of a run, in the shapes Linkerd users read every day: `viz stat` per
// deployment (inbound), `viz routes -o wide` per destination route (EFFECTIVE vs ACTUAL),
// `viz edges` with SECURED, then the expectations with what was measured. Also the `--json` shape.

import type { MeshMetrics, WindowStats } from "../mesh/metrics.js";
import type { ChangeRecord } from "../mesh/changes.js";
import type { CanaryRun } from "../mesh/flagger-controller.js";
import type { FailureRow } from "../mesh/failure-book.js";
import type { Edge } from "../mesh/world.js";
import { formatMeasured } from "../scenario/expect.js";
import type { FindingsJson } from "../scenario/findings.js";
import type { ScenarioRun } from "../scenario/run.js";
import { GRPC_CODE_NAMES } from "../policy/classify.js";
import { type EdgeRow, formatEdgesTable, formatFailuresTable, formatGatewaysTable, formatResponsesTable, formatRoutesTable, formatStatTable, type ResponseRow, type RouteRow, type StatRow } from "./tables.js";

/** The run-wide window after warmup, which the metrics answer exactly. */
export function wholeRun(run: ScenarioRun): [number, number] {
  return [run.spec.warmupUs, run.spec.durationUs];
}

export function statRows(metrics: MeshMetrics, window: [number, number], pods: ReadonlyMap<string, { meshed: number; running: number }>, cluster?: string): StatRow[] {
  const servers = [...new Set(metrics.labelSets("server").map((l) => l.server).filter((s): s is string => s !== undefined))].filter(
    (s) => cluster === undefined || s.startsWith(`${cluster}/`),
  );
  return servers.map((server) => {
    const [, namespace, name] = server.split("/") as [string, string, string];
    const s = metrics.query({ server }, window);
    const count = pods.get(server) ?? { meshed: 0, running: 0 };
    return {
      namespace,
      name,
      meshedPods: count.meshed,
      runningPods: count.running,
      metrics: { requests: s.serverRequests, successRate: s.serverSuccessRate, rps: s.serverRps, latencyUs: s.serverLatencyUs },
    };
  });
}

export function routeRows(metrics: MeshMetrics, window: [number, number], cluster?: string): RouteRow[] {
  const seen = new Set<string>();
  const rows: RouteRow[] = [];
  for (const l of metrics.labelSets("request")) {
    if (l.service === undefined || l.route === undefined || l.client === undefined) continue;
    if (cluster !== undefined && !l.client.startsWith(`${cluster}/`)) continue;
    const key = `${l.service}|${l.route}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const s: WindowStats = metrics.query({ service: l.service, route: l.route, ...(cluster === undefined ? {} : { client: `${cluster}/*` }) }, window);
    rows.push({
      route: l.route,
      service: l.service,
      effective: { requests: s.requests, successRate: s.successRate, rps: s.rps, latencyUs: s.latencyUs },
      actual: { requests: s.attempts, successRate: s.actualSuccessRate, rps: s.actualRps },
    });
  }
  return rows;
}

/**
 * Logical requests per route by the labels of the proxy's `response_total` (classification,
 * status_code, grpc_status). Only routes that saw a grpc-status, unless `all`.
 */
export function responseRows(metrics: MeshMetrics, window: [number, number], opts: { cluster?: string | undefined; all?: boolean } = {}): ResponseRow[] {
  const rows: ResponseRow[] = [];
  for (const r of routeRows(metrics, window, opts.cluster)) {
    const s = metrics.query({ service: r.service, route: r.route, ...(opts.cluster === undefined ? {} : { client: `${opts.cluster}/*` }) }, window);
    if (opts.all !== true && !s.responses.some((x) => x.grpcStatus !== undefined)) continue;
    for (const x of s.responses) {
      rows.push({ route: r.route, service: r.service, classification: x.classification, status: x.status, ...(x.grpcStatus === undefined ? {} : { grpcStatus: x.grpcStatus }), requests: x.count });
    }
  }
  return rows;
}

/** A gRPC status code's name as gRPC spells it. */
function grpcName(code: number): string {
  return GRPC_CODE_NAMES[code] ?? "UNKNOWN";
}

export function edgeRows(edges: readonly Edge[]): EdgeRow[] {
  return edges.map((e) => {
    const [, srcNs, src] = e.client.split("/") as [string, string, string];
    const [, dstNs, dst] = e.server.split("/") as [string, string, string];
    return { src, dst, srcNamespace: srcNs, dstNamespace: dstNs, clientId: e.clientIdentity, serverId: e.serverIdentity, noTlsReason: e.secured === "√" ? "" : e.secured };
  });
}

export interface SummaryOptions {
  /** Wall time of the run; absent ⇒ left out (the report's copy, which must not vary between runs). */
  wallSeconds?: number;
  reproduce: string;
}

export function formatSummary(run: ScenarioRun, pods: ReadonlyMap<string, { meshed: number; running: number }>, opts: SummaryOptions): string {
  const w = wholeRun(run);
  const out: string[] = [];
  const simS = run.world.simulatedUs / 1e6;
  out.push(`scenario ${run.spec.name}  seed ${run.spec.seed}  digest ${run.world.digest}`);
  out.push(`simulated ${simS}s${opts.wallSeconds === undefined ? "" : ` in ${opts.wallSeconds.toFixed(2)}s wall`}  ${run.world.events.toLocaleString("en-US")} events  ${run.world.requests.toLocaleString("en-US")} requests  window [${w[0] / 1e6}s, ${w[1] / 1e6}s)`);
  const clusters = run.spec.clusters.map((c) => c.name);
  for (const cluster of clusters) {
    const ctx = clusters.length > 1 ? ` --context=${cluster}` : "";
    const only = clusters.length > 1 ? cluster : undefined;
    out.push("", `$ linkerd${ctx} viz stat deploy -A (inbound)`, formatStatTable(statRows(run.world.metrics, w, pods, only), { allNamespaces: true }).trimEnd());
    const routes = routeRows(run.world.metrics, w, only);
    if (routes.length > 0) out.push("", `$ linkerd${ctx} viz routes -o wide (outbound, per destination)`, formatRoutesTable(routes).trimEnd());
    const grpc = responseRows(run.world.metrics, w, { cluster: only });
    if (grpc.length > 0) out.push("", "response_total by classification, status_code, grpc_status (outbound, routes that answered gRPC)", formatResponsesTable(grpc, grpcName).trimEnd());
    const edges = run.world.edges.filter((e) => only === undefined || e.client.startsWith(`${only}/`));
    if (edges.length > 0) out.push("", `$ linkerd${ctx} viz edges deploy -A`, formatEdgesTable(edgeRows(edges)).trimEnd());
    const gateways = run.world.gateways.filter((g) => g.from === cluster);
    if (gateways.length > 0) {
      out.push("", `$ linkerd${ctx} multicluster gateways`, formatGatewaysTable(gateways.map((g) => ({ cluster: g.cluster, alive: g.alive, numSvc: g.numSvc, ...(g.latencyMs > 0 || g.alive ? { latencyMs: g.latencyMs } : {}) }))).trimEnd());
    }
  }
  if (run.world.splitUpdates.length > 0) {
    out.push("", "failover (TrafficSplit weights over time)");
    for (const u of run.world.splitUpdates) {
      // The patch instant, then when the last proxy holding the split's Service had it.
      const switched = u.proxiesSwitchedAtUs === undefined ? "" : `, every proxy by ${(u.proxiesSwitchedAtUs / 1e6).toFixed(3)}s`;
      out.push(`  ${(u.atUs / 1e6).toFixed(3).padStart(9)}s  ${u.cluster} ${u.split}  ${u.weights.map((x) => `${x.service}=${x.weight}`).join(" ")}  (${u.reason}${switched})`);
    }
  }
  out.push(...failuresBlock(run.world.failures));
  out.push(...changesBlock(run.world.changes));
  out.push(...canariesBlock(run.world.canaries));
  if (run.world.invariantViolations.length > 0) {
    out.push("", "invariant violations (a bug in meshsim):", ...run.world.invariantViolations.map((v) => `  ${v}`));
  }
  if (run.world.warnings.length > 0) out.push("", "model warnings (please report them):", ...run.world.warnings.map((v) => `  ${v}`));
  if (run.expectations.length > 0) {
    out.push("", "expectations");
    for (const e of run.expectations) {
      out.push(`  ${e.pass ? "PASS" : "FAIL"}  ${e.name}`);
      out.push(`        measured ${formatMeasured(e)}, expected ${e.expected}  (${e.detail})`);
    }
    const failed = run.expectations.filter((e) => !e.pass).length;
    out.push("", failed === 0 ? `all ${run.expectations.length} expectations met` : `${failed} of ${run.expectations.length} expectations failed`);
  }
  if (!run.pass) out.push(`reproduce: ${opts.reproduce}`);
  return out.join("\n");
}

/**
 * The `--json` object: one line, stable key order. `findings` (what `meshsim check` finds in the
 * scenario's objects, and what is not simulated) come last when given.
 */
export function jsonSummary(run: ScenarioRun, wallSeconds: number | undefined, findings?: FindingsJson): Record<string, unknown> {
  const w = wholeRun(run);
  const all = run.world.metrics.query({}, w);
  return {
    scenario: run.spec.name,
    seed: run.spec.seed,
    digest: run.world.digest,
    simulatedSeconds: run.world.simulatedUs / 1e6,
    ...(wallSeconds === undefined ? {} : { wallSeconds }),
    events: run.world.events,
    requests: run.world.requests,
    pass: run.pass,
    expectations: run.expectations.map((e) => ({ name: e.name, pass: e.pass, measured: e.measured, ...(e.unit === undefined ? {} : { unit: e.unit }), expected: e.expected, detail: e.detail })),
    invariantViolations: run.world.invariantViolations,
    modelWarnings: run.world.warnings,
    totals: { requests: all.requests, successRate: nullIfNaN(all.successRate), attempts: all.attempts, retries: all.retries },
    routes: routeRows(run.world.metrics, w).map((r) => ({
      service: r.service,
      route: r.route,
      effectiveSuccessRate: nullIfNaN(r.effective.successRate),
      effectiveRps: nullIfNaN(r.effective.rps),
      actualSuccessRate: nullIfNaN(r.actual.successRate),
      actualRps: nullIfNaN(r.actual.rps),
      latencyMsP50: nullIfNaN(r.effective.latencyUs.p50 / 1000),
      latencyMsP99: nullIfNaN(r.effective.latencyUs.p99 / 1000),
      // The proxy's `response_total` labels; grpc_status is null when the response carried none.
      responses: run.world.metrics.query({ service: r.service, route: r.route }, w).responses.map((x) => ({
        classification: x.classification,
        status_code: x.status,
        grpc_status: x.grpcStatus ?? null,
        count: x.count,
      })),
    })),
    edges: run.world.edges.map((e) => ({ client: e.client, server: e.server, secured: e.secured, requests: e.requests })),
    changes: (run.world.changes ?? []).map((c) => ({
      at: c.atUs / 1e6,
      cluster: c.cluster,
      entry: c.entry,
      change: c.change,
      seenAt: c.seenAtUs === undefined ? null : c.seenAtUs / 1e6,
      proxiesUpdatedAt: c.proxiesUpdatedAtUs === undefined ? null : c.proxiesUpdatedAtUs / 1e6,
      rolloutCompletedAt: c.rolloutCompletedAtUs === undefined ? null : c.rolloutCompletedAtUs / 1e6,
      ...(c.pushDeferred === true ? { pushDeferred: true } : {}),
      ...(c.failed === undefined ? {} : { failed: c.failed }),
    })),
    failures: (run.world.failures ?? []).map((f) => ({
      ...(f.traffic === undefined ? {} : { traffic: f.traffic }),
      client: f.client,
      service: f.service,
      route: f.route,
      status: f.status,
      grpcStatus: f.grpcStatus ?? null,
      cause: f.cause,
      notRetried: f.retry,
      count: f.count,
      firstAt: f.firstUs / 1e6,
      lastAt: f.lastUs / 1e6,
    })),
    canaries: (run.world.canaries ?? []).map((c) => ({
      cluster: c.cluster,
      canary: c.canary,
      target: c.target,
      phase: c.phase,
      progressingAt: c.progressingAtUs === undefined ? null : c.progressingAtUs / 1e6,
      promotedAt: c.promotedAtUs === undefined ? null : c.promotedAtUs / 1e6,
      rolledBackAt: c.rolledBackAtUs === undefined ? null : c.rolledBackAtUs / 1e6,
      timeline: c.ticks.map((t) => ({
        at: t.atUs / 1e6,
        phase: t.phase,
        canaryWeight: t.canaryWeight,
        primaryWeight: t.primaryWeight,
        failedChecks: t.failedChecks,
        events: t.events,
        ...(t.analysis === undefined ? {} : { analysis: t.analysis.map((a) => ({ metric: a.metric, value: a.value, min: a.min ?? null, max: a.max ?? null, ok: a.ok })) }),
      })),
    })),
    ...(findings ?? {}),
  };
}

/**
 * The configuration changes, one line each: the instant the API server took it, what it was, and
 * when it took effect — when the last proxy whose configuration it changed had it, or when the
 * rollout it started was complete.
 */
function changesBlock(changes: readonly ChangeRecord[] | undefined): string[] {
  if (changes === undefined || changes.length === 0) return [];
  const s = (us: number): string => `${(us / 1e6).toFixed(3)}s`;
  const lines = changes.map((c) => {
    const effects = [
      c.entry,
      ...(c.failed !== undefined ? [`not made: ${c.failed}`] : []),
      ...(c.proxiesUpdatedAtUs !== undefined ? [`every proxy by ${s(c.proxiesUpdatedAtUs)}`] : []),
      ...(c.pushDeferred === true ? ["control plane down: proxies get it when it is back"] : []),
      ...(c.rolloutCompletedAtUs !== undefined ? [`rolled out by ${s(c.rolloutCompletedAtUs)}`] : []),
    ];
    return `  ${s(c.atUs).padStart(10)}  ${c.cluster}  ${c.change}  (${effects.join("; ")})`;
  });
  return ["", "changes (configuration the API server accepted, and when it took effect)", ...lines];
}

/** Rows the failure table shows at most; `--json` has them all. */
const FAILURE_ROWS = 20;

/** The retry layer's verdicts, in words: why a failed request was not retried (further). */
const NOT_RETRIED_BECAUSE: Readonly<Record<string, string>> = {
  "budget-exhausted": "the ServiceProfile's retry budget was exhausted",
  "limit-exceeded": "every retry retry.linkerd.io/limit allows was used",
  "not-retryable": "its status (or error) is not in the route's retry list",
  "error-not-retried": "a transport error or timeout: the ServiceProfile stack never retries those",
  "route-not-retryable": "the ServiceProfile route is not isRetryable (a ServiceProfile with routes also silences retry.linkerd.io annotations)",
  "no-retry-budget": "the route is isRetryable but the ServiceProfile's retryBudget is invalid, so nothing is retried",
  "body-too-large": "the request body is over 64 KiB, so it went without the retry layer",
  "body-capped": "the streamed body outgrew the 64 KiB retry buffer",
  unmeshed: "the client has no Linkerd proxy: kube-proxy never retries",
};

/**
 * Why requests failed: per client, service and route, the final status, its cause and the retry
 * layer's verdict, most failures first; then, in words, why failed requests were not retried.
 */
function failuresBlock(failures: readonly FailureRow[] | undefined): string[] {
  if (failures === undefined || failures.length === 0) return [];
  const s = (us: number): string => `${(us / 1e6).toFixed(1)}s`;
  const shown = failures.slice(0, FAILURE_ROWS).map((f) => ({
    client: f.client,
    service: f.service,
    route: f.route === "" ? "[DEFAULT]" : f.route,
    status: f.grpcStatus === undefined ? String(f.status) : `${f.status} grpc ${f.grpcStatus}`,
    cause: f.cause,
    notRetried: f.retry,
    count: f.count,
    first: s(f.firstUs),
    last: s(f.lastUs),
  }));
  const out = ["", "failures (in the window, by client, service and route: final status, cause, and why not retried)", formatFailuresTable(shown).trimEnd()];
  if (failures.length > FAILURE_ROWS) out.push(`  … ${failures.length - FAILURE_ROWS} more rows (--json lists every one)`);
  const why = new Map<string, Map<string, number>>();
  for (const f of failures) {
    const words = NOT_RETRIED_BECAUSE[f.retry];
    if (words === undefined) continue;
    const key = `${f.client} → ${f.service} ${f.route === "" ? "[DEFAULT]" : f.route}`;
    const byReason = why.get(key) ?? new Map<string, number>();
    byReason.set(words, (byReason.get(words) ?? 0) + f.count);
    why.set(key, byReason);
  }
  if (why.size > 0) {
    out.push("", "why failed requests were not retried");
    for (const [key, byReason] of why) {
      out.push(`  ${key}: ${[...byReason].sort((a, b) => b[1] - a[1]).map(([words, n]) => `${n} because ${words}`).join("; ")}`);
    }
  }
  return out;
}

/**
 * Each Flagger Canary: one line per run of its job that did something — the instant, the phase it
 * left, the weights on the routing object, failed checks, the analysis against its thresholds, and
 * what Flagger said (as `kubectl describe canary` lists its events).
 */
function canariesBlock(canaries: readonly CanaryRun[] | undefined): string[] {
  if (canaries === undefined || canaries.length === 0) return [];
  const out = ["", "canaries (Flagger: each analysis, the weights it set, and its verdict)"];
  for (const c of canaries) {
    const verdict =
      c.promotedAtUs !== undefined && (c.rolledBackAtUs === undefined || c.promotedAtUs > c.rolledBackAtUs)
        ? `promoted at ${(c.promotedAtUs / 1e6).toFixed(0)}s`
        : c.rolledBackAtUs !== undefined
          ? `rolled back at ${(c.rolledBackAtUs / 1e6).toFixed(0)}s`
          : `no verdict (phase ${c.phase === "" ? "not initialised" : c.phase})`;
    out.push(`  ${c.cluster} Canary ${c.canary} → ${c.target}: ${verdict}`);
    for (const t of c.ticks) {
      const checks = (t.analysis ?? []).map((a) => `${a.metric} ${a.value === null ? "no values" : a.metric === "request-success-rate" ? `${a.value.toFixed(2)}%` : `${a.value}ms`}${a.min === undefined ? "" : ` ≥ ${a.min}`}${a.max === undefined ? "" : ` ≤ ${a.max}`} ${a.ok ? "ok" : "FAIL"}`);
      const head = `${(t.atUs / 1e6).toFixed(0).padStart(6)}s  ${(t.phase === "" ? "-" : t.phase).padEnd(12)} canary ${String(t.canaryWeight).padStart(3)}%  failed ${t.failedChecks}`;
      out.push(`    ${head}  ${[...checks, ...t.events].join("; ")}`);
    }
  }
  return out;
}

function nullIfNaN(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

/** Per-bucket totals over the whole mesh, one CSV row per timeline bucket. */
export function timelineCsv(run: ScenarioRun): string {
  const header = "start_s,end_s,requests,success,failures,attempts,attempt_failures,retries,budget_exhausted,fail_fast,load_shed,latency_p50_ms,latency_p99_ms";
  const rows = run.world.metrics.timeline({}).map((p) =>
    [p.startUs / 1e6, p.endUs / 1e6, p.requests, p.success, p.failures, p.attempts, p.attemptFailures, p.retries, p.budgetExhausted, p.failFast, p.loadShed, msOrEmpty(p.latencyP50Us), msOrEmpty(p.latencyP99Us)].join(","),
  );
  return [header, ...rows].join("\n") + "\n";
}

function msOrEmpty(us: number): string {
  return Number.isFinite(us) ? String(us / 1000) : "";
}
