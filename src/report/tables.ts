// The terminal tables Linkerd users already read: `linkerd viz stat`, `linkerd viz routes -o wide`,
// `linkerd viz edges` and `linkerd multicluster gateways`. Pure formatters over plain rows, laid out
// byte for byte as the CLI does: viz tables go through Go's tabwriter (right-aligned, padding 3,
// name columns pre-padded left, first padding stripped; linkerd2 `viz/cmd/{stat,routes,edges}.go`),
// gateways through linkerd2 `cli/table` (fixed minimum widths, two-space spacing after every column).

/** Golden metrics of one row in WindowStats units. No requests ⇒ the row prints dashes. */
export interface GoldenMetrics {
  requests: number;
  /** 0..1; NaN without requests. */
  successRate: number;
  rps: number;
  /** Latency quantiles, µs (NaN prints as 0ms, as the CLI does for an empty quantile). */
  latencyUs: { p50: number; p95: number; p99: number };
}

export interface StatRow {
  namespace: string;
  /** Resource name, e.g. the deployment. */
  name: string;
  meshedPods: number;
  runningPods: number;
  metrics: GoldenMetrics;
  /** Open connections, for TCP_CONN; absent prints 0. */
  tcpConnections?: number;
}

export interface StatTableOptions {
  /** Lead with a NAMESPACE column, as `--all-namespaces` does. Default false. */
  allNamespaces?: boolean;
  /** Show TCP_CONN. Default false: only meaningful when the caller counts open edges. */
  tcpConnections?: boolean;
}

export interface RouteRow {
  /** Route name, or `[DEFAULT]` for requests no route matched. */
  route: string;
  /** The SERVICE (or AUTHORITY) column. */
  service: string;
  /** Logical requests, after retries (EFFECTIVE_*; latency comes from these). */
  effective: GoldenMetrics;
  /** Attempts (ACTUAL_*). */
  actual: { requests: number; successRate: number; rps: number };
}

export interface RoutesTableOptions {
  /** `-o wide` (EFFECTIVE vs ACTUAL columns). Default true. */
  wide?: boolean;
  /** Header of the second column: SERVICE for `--to svc/...`, AUTHORITY for authorities. Default SERVICE. */
  authorityHeader?: "SERVICE" | "AUTHORITY";
}

export interface EdgeRow {
  src: string;
  dst: string;
  srcNamespace: string;
  dstNamespace: string;
  /** Full identities, e.g. `web.emojivoto.serviceaccount.identity.linkerd.cluster.local` (wide only). */
  clientId?: string;
  serverId?: string;
  /** Why the connection is not mTLS, as text ("Not Provided By Service Discovery"); absent or "" ⇒ secured. */
  noTlsReason?: string;
}

export interface GatewayRow {
  cluster: string;
  /** The last probe succeeded. */
  alive: boolean;
  /** Mirrored services from this cluster. */
  numSvc: number;
  /** Round trip of the last successful probe, ms; absent (never succeeded) prints "-". */
  latencyMs?: number;
}

const TABWRITER_PADDING = 3;
const SECURED = "√";

/** `linkerd viz stat`: NAME MESHED SUCCESS RPS LATENCY_P50 LATENCY_P95 LATENCY_P99 [TCP_CONN]. */
export function formatStatTable(rows: readonly StatRow[], opts: StatTableOptions = {}): string {
  if (rows.length === 0) return "No traffic found.\n";
  const sorted = sortedBy(rows, (r) => `${r.namespace}/${r.name}`);
  const nameWidth = Math.max(4, ...rows.map((r) => width(r.name)));
  const nsWidth = Math.max(9, ...rows.map((r) => width(r.namespace)));
  const lead = (ns: string, name: string) => (opts.allNamespaces ? [padRight(ns, nsWidth)] : []).concat(padRight(name, nameWidth));
  const header = [...lead("NAMESPACE", "NAME"), "MESHED", "SUCCESS", "RPS", "LATENCY_P50", "LATENCY_P95", "LATENCY_P99"];
  if (opts.tcpConnections) header.push("TCP_CONN");
  const body = sorted.map((r) => {
    const m = r.metrics;
    const cells = [...lead(r.namespace, r.name), `${r.meshedPods}/${r.runningPods}`];
    if (m.requests === 0) return cells.concat(Array<string>(opts.tcpConnections ? 6 : 5).fill("-"));
    cells.push(formatPercent(m.successRate), formatRps(m.rps), ...latencyCells(m.latencyUs));
    if (opts.tcpConnections) cells.push(String(r.tcpConnections ?? 0));
    return cells;
  });
  return tabwriteRight([header, ...body]);
}

/** `linkerd viz routes [-o wide]`: ROUTE SERVICE EFFECTIVE_SUCCESS EFFECTIVE_RPS ACTUAL_SUCCESS ACTUAL_RPS LATENCY_P50/95/99. */
export function formatRoutesTable(rows: readonly RouteRow[], opts: RoutesTableOptions = {}): string {
  const wide = opts.wide ?? true;
  const sorted = sortedBy(rows, (r) => r.service + r.route);
  // Upstream pads routes to the longest route only, not to the header: short routes end up right-aligned.
  const routeWidth = Math.max(0, ...rows.map((r) => width(r.route)));
  const rates = wide ? ["EFFECTIVE_SUCCESS", "EFFECTIVE_RPS", "ACTUAL_SUCCESS", "ACTUAL_RPS"] : ["SUCCESS", "RPS"];
  const header = [padRight("ROUTE", routeWidth), opts.authorityHeader ?? "SERVICE", ...rates, "LATENCY_P50", "LATENCY_P95", "LATENCY_P99"];
  const body = sorted.map((r) => {
    const cells = [padRight(r.route, routeWidth), r.service];
    if (r.effective.requests === 0 && r.actual.requests === 0) return cells.concat(Array<string>(rates.length + 3).fill("-"));
    cells.push(formatPercent(r.effective.successRate), formatRps(r.effective.rps));
    if (wide) cells.push(formatPercent(r.actual.successRate), formatRps(r.actual.rps));
    return cells.concat(latencyCells(r.effective.latencyUs));
  });
  return tabwriteRight([header, ...body]) + "\n";
}

/** Logical requests with one set of the proxy's `response_total` labels, on one route. */
export interface ResponseRow {
  route: string;
  service: string;
  classification: "success" | "failure";
  /** HTTP status (`status_code`). */
  status: number;
  /** `grpc_status`; absent ⇒ the response carried none (the label is empty). */
  grpcStatus?: number;
  requests: number;
}

/**
 * `response_total` by route, classification, status_code and grpc_status, as Prometheus holds it
 * (viz's tables show only the success rate derived from `classification`). gRPC statuses print
 * as their number and name, an empty label as `-`.
 */
export function formatResponsesTable(rows: readonly ResponseRow[], grpcName: (code: number) => string): string {
  const sorted = [...rows].sort((a, b) => compare(a.service + a.route, b.service + b.route));
  const routeWidth = Math.max(width("ROUTE"), ...rows.map((r) => width(r.route)));
  const header = [padRight("ROUTE", routeWidth), "SERVICE", "CLASSIFICATION", "STATUS_CODE", "GRPC_STATUS", "REQUESTS"];
  const body = sorted.map((r) => [
    padRight(r.route, routeWidth),
    r.service,
    r.classification,
    String(r.status),
    r.grpcStatus === undefined ? "-" : `${r.grpcStatus} (${grpcName(r.grpcStatus)})`,
    String(r.requests),
  ]);
  return tabwriteRight([header, ...body]);
}

/** One line of the failure table: where requests failed, how, and why they were not retried. */
export interface FailureTableRow {
  client: string;
  service: string;
  route: string;
  status: string;
  cause: string;
  notRetried: string;
  count: number;
  first: string;
  last: string;
}

/** The summary's failure table: CLIENT SERVICE ROUTE STATUS CAUSE NOT_RETRIED COUNT FIRST LAST. */
export function formatFailuresTable(rows: readonly FailureTableRow[]): string {
  const header = ["CLIENT", "SERVICE", "ROUTE", "STATUS", "CAUSE", "NOT_RETRIED", "COUNT", "FIRST", "LAST"];
  const body = rows.map((r) => [r.client, r.service, r.route, r.status, r.cause, r.notRetried, String(r.count), r.first, r.last]);
  // Names read left-aligned, counts and instants right-aligned.
  const lines = [header, ...body];
  const widths = header.map((_, i) => Math.max(...lines.map((l) => width(l[i] as string))));
  const numeric = (i: number): boolean => i >= 6;
  return lines.map((l) => l.map((c, i) => (numeric(i) ? padLeft(c, widths[i] as number) : padRight(c, widths[i] as number))).join("   ").trimEnd()).join("\n") + "\n";
}

/** `linkerd viz edges [-o wide]`: SRC DST SRC_NS DST_NS [CLIENT_ID SERVER_ID] SECURED. */
export function formatEdgesTable(rows: readonly EdgeRow[], opts: { wide?: boolean } = {}): string {
  if (rows.length === 0) return "No edges found.\n";
  const view = sortedBy(rows, (r) => r.srcNamespace + r.dstNamespace + r.src + r.dst).map((r) => [
    r.src,
    r.dst,
    r.srcNamespace,
    r.dstNamespace,
    ...(opts.wide ? [shortIdentity(r.clientId ?? ""), shortIdentity(r.serverId ?? "")] : []),
    r.noTlsReason === undefined || r.noTlsReason === "" ? SECURED : r.noTlsReason,
  ]);
  const header = ["SRC", "DST", "SRC_NS", "DST_NS", ...(opts.wide ? ["CLIENT_ID", "SERVER_ID"] : []), "SECURED"];
  // Every column is padded left-aligned to its widest cell before the right-aligning tabwriter sees it.
  const widths = header.map((h, i) => Math.max(width(h), ...view.map((cells) => width(cells[i] ?? ""))));
  const pad = (cells: string[]) => cells.map((c, i) => padRight(c, widths[i] ?? 0));
  return tabwriteRight([pad(header), ...view.map(pad)]);
}

/** `linkerd multicluster gateways`: CLUSTER ALIVE NUM_SVC LATENCY. */
export function formatGatewaysTable(rows: readonly GatewayRow[]): string {
  const cells = rows.map((r) => [r.cluster, r.alive ? "True" : "False", String(r.numSvc), r.latencyMs === undefined ? "-" : `${roundHalfAway(r.latencyMs)}ms`]);
  const data = [...cells].sort((a, b) => compare(a[0] ?? "", b[0] ?? "") || compare(a[1] ?? "", b[1] ?? ""));
  const columns = [
    { header: "CLUSTER", width: 7, flexible: true, left: true },
    { header: "ALIVE", width: 5, flexible: true, left: true },
    { header: "NUM_SVC", width: 9, flexible: false, left: false },
    { header: "LATENCY", width: 11, flexible: false, left: false },
  ];
  const widths = columns.map((c, i) => (c.flexible ? Math.max(c.width, ...data.map((r) => width(r[i] ?? ""))) : c.width));
  const line = (row: string[]) =>
    columns
      .map((c, i) => {
        const w = widths[i] ?? 0;
        const v = truncate(row[i] ?? "", w);
        return (c.left ? padRight(v, w) : padLeft(v, w)) + "  ";
      })
      .join("") + "\n";
  return [columns.map((c) => c.header), ...data].map(line).join("");
}

/** The proxy's `no_tls_reason` label as the CLI prints it: `not_provided_by_service_discovery` ⇒ "Not Provided By Service Discovery". */
export function formatNoTlsReason(label: string): string {
  return label
    .split("_")
    .filter((w) => w !== "")
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join(" ");
}

/** SUCCESS as the CLI prints it: `%.2f%%` (no requests ⇒ 0, like upstream `getSuccessRate`). */
export function formatPercent(rate: number): string {
  return `${formatFixed(Number.isNaN(rate) ? 0 : rate * 100, 2)}%`;
}

/** RPS as the CLI prints it: `%.1frps`. */
export function formatRps(rps: number): string {
  return `${formatFixed(rps, 1)}rps`;
}

/** A latency in µs as the CLI prints it: whole ms rounded half away from zero, NaN ⇒ 0 (`%dms`). */
export function formatLatencyMs(latencyUs: number): string {
  return `${Number.isNaN(latencyUs) ? 0 : roundHalfAway(latencyUs / 1000)}ms`;
}

/**
 * Go's `%.Nf`: correctly rounded from the exact binary value, ties to even. JS `toFixed` also
 * rounds the exact value but breaks exact ties upwards (0.125 → "0.13" where Go prints "0.12").
 */
export function formatFixed(x: number, digits: number): string {
  const plain = x.toFixed(digits);
  if (!Number.isFinite(x)) return plain;
  const exact = Math.abs(x).toFixed(Math.min(100, digits + 60));
  const cut = exact.indexOf(".") + 1 + digits;
  if (!/^50*$/.test(exact.slice(cut))) return plain;
  const down = (x < 0 ? "-" : "") + exact.slice(0, digits === 0 ? cut - 1 : cut);
  const lastDigit = Number(exact.charAt(digits === 0 ? cut - 2 : cut - 1));
  return lastDigit % 2 === 0 ? down : plain;
}

function latencyCells(l: GoldenMetrics["latencyUs"]): string[] {
  return [formatLatencyMs(l.p50), formatLatencyMs(l.p95), formatLatencyMs(l.p99)];
}

/**
 * Go tabwriter with AlignRight, padding 3, every cell tab-terminated, then the CLI's strip of the
 * first column's left padding. Each column is as wide as its widest cell plus the padding.
 */
function tabwriteRight(lines: readonly string[][]): string {
  const columns = Math.max(...lines.map((l) => l.length));
  const widths = Array.from({ length: columns }, (_, i) => Math.max(...lines.map((l) => width(l[i] ?? ""))) + TABWRITER_PADDING);
  return lines.map((l) => l.map((c, i) => padLeft(c, widths[i] ?? 0)).join("").slice(TABWRITER_PADDING) + "\n").join("");
}

/** Display width in code points (what Go's tabwriter and `%-Ns` count). */
function width(s: string): number {
  return [...s].length;
}

function padRight(s: string, w: number): string {
  return s + " ".repeat(Math.max(0, w - width(s)));
}

function padLeft(s: string, w: number): string {
  return " ".repeat(Math.max(0, w - width(s))) + s;
}

function truncate(s: string, w: number): string {
  return width(s) > w ? [...s].slice(0, w).join("") : s;
}

function roundHalfAway(x: number): number {
  return Math.sign(x) * Math.round(Math.abs(x));
}

/** Byte-order string comparison, as Go's `<` on strings (for ASCII names). */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Stable sort by a string key. */
function sortedBy<T>(rows: readonly T[], key: (r: T) => string): T[] {
  return [...rows].sort((a, b) => compare(key(a), key(b)));
}

/** `sa.ns.serviceaccount.identity.linkerd.cluster.local` ⇒ `sa.ns`, as `viz edges` shows identities. */
function shortIdentity(id: string): string {
  if (id === "") return "";
  const [sa, ns] = id.split(".");
  return ns === undefined ? id : `${sa}.${ns}`;
}
