// Route selection on the client-policy stack: which HTTPRoute/GRPCRoute rule a request takes, or
// none (the proxy answers 404 NoRoute). Mirrors linkerd2-proxy `linkerd/http-route/src/{lib.rs,
// http/match/*.rs,grpc/match.rs}` @ release/v2.246.0 and the policy controller's route order
// (`policy-controller/grpc/src/outbound.rs::timestamp_then_name` @ version-2.16).
// Differences: regexes run on the engine the route parser was given (upstream: Rust `regex`);
// PathPrefix follows the Gateway API trailing-slash rules (`/` matches everything, a trailing `/`
// is ignored).
//
// Exact precedence, highest first (every comparison is "greater wins", ties go to the earlier):
//  0. Route order: routes with a creationTimestamp first, oldest first; then name; then namespace
//     (the namespace tie-break is ours: upstream leaves that order unspecified).
//  1. Host: exact hostname (longer name wins) > wildcard `*.suffix` (more suffix characters wins)
//     > a route with no hostnames. A route whose hostnames all miss is skipped.
//  2. HTTP: path match length in characters, whatever the kind: Exact = path length,
//     RegularExpression = whole request path length, PathPrefix = prefix length without trailing
//     `/` (`/` counts 1). So an Exact and a PathPrefix of the same text TIE (no kind bonus).
//     gRPC: service-name length, then method-name length.
//  3. Number of header matches.  4. HTTP: number of query-param matches.  5. HTTP: method given.
//  6. Ties: earliest route, then earliest rule in it, then earliest match in the rule.

import type { RegexMatcher } from "./regex-engine.js";

/** How a path is compared. */
export type PathMatchType = "Exact" | "PathPrefix" | "RegularExpression";
/** How a header or query-param value is compared. */
export type ValueMatchType = "Exact" | "RegularExpression";

/** A RegularExpression condition: the pattern as written and what the parser compiled from it. */
export interface RegexCondition {
  type: "RegularExpression";
  value: string;
  /** Must find a match spanning the whole value; `NEVER_MATCHES` when the pattern did not compile. */
  matcher: RegexMatcher;
}

export type PathMatch = { type: "Exact" | "PathPrefix"; value: string } | RegexCondition;

/** Exact values are case-sensitive. */
export type ValueMatch = { type: "Exact"; value: string } | RegexCondition;

/** `name` is lower-cased (header names are case-insensitive). */
export type HeaderMatch = ValueMatch & { name: string };

/** `name` is case-sensitive. */
export type QueryParamMatch = ValueMatch & { name: string };

/** One HTTPRoute `matches[]` entry; every present condition must hold. */
export interface HttpRequestMatch {
  kind: "http";
  path: PathMatch;
  headers: HeaderMatch[];
  queryParams: QueryParamMatch[];
  /** HTTP method, compared exactly; absent ⇒ any method. */
  method?: string;
}

/** One GRPCRoute `matches[]` entry, matched against the path `/service/method`, POST only. */
export interface GrpcRequestMatch {
  kind: "grpc";
  /** Fully qualified service (`pkg.Service`), compared exactly; absent ⇒ any. */
  service?: string;
  /** Method name, compared exactly; absent ⇒ any. */
  method?: string;
  headers: HeaderMatch[];
}

export type RequestMatch = HttpRequestMatch | GrpcRequestMatch;

/** The parts of a request that route matching looks at. */
export interface RouteRequest {
  /** Authority host, optionally with `:port`; absent ⇒ routes with hostnames never match. */
  host?: string;
  /** URI path without the query string. */
  path: string;
  method: string;
  /** Header names in any case; one value per name. */
  headers: Readonly<Record<string, string>>;
  /** Decoded query parameters; absent ⇒ none. */
  query?: Readonly<Record<string, string>>;
}

export interface MatchableRule {
  /** Empty ⇒ the rule matches every request (implicit PathPrefix `/`). */
  matches: readonly RequestMatch[];
}

export interface MatchableRoute {
  /** `GRPCRoute` ⇒ a rule without matches scores as a gRPC match; anything else ⇒ HTTP. */
  kind?: string;
  name: string;
  namespace: string;
  /** RFC 3339 UTC timestamp as Kubernetes writes it; absent ⇒ sorts after all timestamped routes. */
  creationTimestamp?: string;
  hostnames: readonly string[];
  rules: readonly MatchableRule[];
  /** false ⇒ Linkerd never applied this route; it is skipped. Absent ⇒ applied. */
  accepted?: boolean;
}

/** How well a route's hostnames matched; `length` is compared within one kind. */
export interface HostMatch {
  kind: "exact" | "suffix";
  length: number;
}

/** Everything precedence compares, in order: host, then `request` lexicographically. */
export interface MatchSummary {
  host: HostMatch | undefined;
  /** HTTP: [pathLength, headers, queryParams, method ? 1 : 0]; gRPC: [serviceLength, methodLength, headers]. */
  request: number[];
}

export type RouteSelection<R extends MatchableRoute> =
  | {
      matched: true;
      route: R;
      rule: R["rules"][number];
      ruleIndex: number;
      /** The winning match of the rule; undefined when the rule has no matches (matches all). */
      match: RequestMatch | undefined;
      summary: MatchSummary;
      reason: string;
    }
  | { matched: false; status: 404; reason: "no-route" };

/**
 * Whole-value regex test, as upstream does it: the pattern is not anchored, but its leftmost-first
 * match must span the whole value, so `/foo|/foo/bar` misses `/foo/bar` (`find` stops at `/foo`).
 */
export function regexMatchesWhole(matcher: RegexMatcher, value: string): boolean {
  const span = matcher.find(value);
  return span !== undefined && span.start === 0 && span.end === value.length;
}

function trimTrailingSlashes(s: string): string {
  let end = s.length;
  while (end > 0 && s[end - 1] === "/") end -= 1;
  return s.slice(0, end);
}

/** Characters matched by a path match, or undefined when it does not match. */
export function pathMatchLength(m: PathMatch, path: string): number | undefined {
  if (m.type === "Exact") return m.value === path ? m.value.length : undefined;
  if (m.type === "RegularExpression") return regexMatchesWhole(m.matcher, path) ? path.length : undefined;
  if (m.value === "/") return 1;
  const prefix = trimTrailingSlashes(m.value);
  const trimmed = trimTrailingSlashes(path);
  if (!trimmed.startsWith(prefix)) return undefined;
  const rest = trimmed.slice(prefix.length);
  // Whole segments only: `/foo` must not match `/foobar`.
  return rest === "" || rest.startsWith("/") ? prefix.length : undefined;
}

function valueMatches(m: ValueMatch, value: string): boolean {
  return m.type === "Exact" ? m.value === value : regexMatchesWhole(m.matcher, value);
}

function headerMatches(m: HeaderMatch, headers: Readonly<Record<string, string>>): boolean {
  // Several spellings of one name act like repeated headers: any value may satisfy the match.
  return Object.keys(headers).some((k) => k.toLowerCase() === m.name && valueMatches(m, headers[k] ?? ""));
}

function queryMatches(m: QueryParamMatch, query: Readonly<Record<string, string>> | undefined): boolean {
  const v = query === undefined || !Object.hasOwn(query, m.name) ? undefined : query[m.name];
  return v !== undefined && valueMatches(m, v);
}

function summarizeHttp(m: HttpRequestMatch, req: RouteRequest): number[] | undefined {
  if (m.method !== undefined && m.method !== req.method) return undefined;
  const pathLength = pathMatchLength(m.path, req.path);
  if (pathLength === undefined) return undefined;
  if (!m.headers.every((h) => headerMatches(h, req.headers))) return undefined;
  if (!m.queryParams.every((q) => queryMatches(q, req.query))) return undefined;
  return [pathLength, m.headers.length, m.queryParams.length, m.method === undefined ? 0 : 1];
}

function summarizeGrpc(m: GrpcRequestMatch, req: RouteRequest): number[] | undefined {
  if (req.method !== "POST") return undefined;
  const parts = req.path.split("/");
  const [lead, service, method] = parts;
  // `/svc` alone has no method segment, so even a match-anything rpc misses it (as upstream).
  if (lead !== "" || service === undefined || method === undefined) return undefined;
  if (m.service !== undefined && m.service !== service) return undefined;
  if (m.method !== undefined && m.method !== method) return undefined;
  if (!m.headers.every((h) => headerMatches(h, req.headers))) return undefined;
  return [m.service?.length ?? 0, m.method?.length ?? 0, m.headers.length];
}

/** The precedence vector of one match against a request, or undefined when it does not match. */
export function summarizeMatch(m: RequestMatch, req: RouteRequest): number[] | undefined {
  return m.kind === "http" ? summarizeHttp(m, req) : summarizeGrpc(m, req);
}

/** The summary of a rule with no matches: what upstream's `RequestMatch::default()` scores. */
export function implicitSummary(kind: RequestMatch["kind"]): number[] {
  return kind === "http" ? [1, 0, 0, 0] : [0, 0, 0];
}

function stripHostPort(host: string): string {
  if (host.startsWith("[")) {
    const close = host.indexOf("]");
    return close < 0 ? host : host.slice(0, close + 1);
  }
  const colon = host.lastIndexOf(":");
  return colon >= 0 && /^[0-9]+$/.test(host.slice(colon + 1)) ? host.slice(0, colon) : host;
}

function stripSuffixIgnoreCase(s: string, suffix: string): string | undefined {
  if (s.length < suffix.length) return undefined;
  const head = s.slice(0, s.length - suffix.length);
  return s.slice(head.length).toLowerCase() === suffix.toLowerCase() ? head : undefined;
}

/** Match one route hostname (`foo.example.com` or `*.example.com`) against the request host. */
export function matchHostname(pattern: string, requestHost: string | undefined): HostMatch | undefined {
  if (requestHost === undefined || requestHost === "") return undefined;
  let host = stripHostPort(requestHost);
  if (!pattern.startsWith("*.")) {
    if (!pattern.endsWith(".") && host.endsWith(".")) host = host.slice(0, -1);
    return pattern.toLowerCase() === host.toLowerCase() ? { kind: "exact", length: pattern.length } : undefined;
  }
  const labels = pattern.slice(2).split(".").reverse();
  if (labels[0] !== "" && host.endsWith(".")) host = host.slice(0, -1);
  let length = 0;
  let rest: string | undefined = host;
  for (const label of labels) {
    rest = stripSuffixIgnoreCase(rest, label);
    // The wildcard needs at least one more label before the suffix: `example.com` misses `*.example.com`.
    rest = rest?.endsWith(".") ? rest.slice(0, -1) : undefined;
    if (rest === undefined) return undefined;
    length += label.length + 1;
  }
  return { kind: "suffix", length };
}

function compareHost(a: HostMatch | undefined, b: HostMatch | undefined): number {
  const rank = (h: HostMatch | undefined): number => (h === undefined ? 0 : h.kind === "suffix" ? 1 : 2);
  const byKind = rank(a) - rank(b);
  if (byKind !== 0 || a === undefined || b === undefined) return byKind;
  return a.length - b.length;
}

function compareVectors(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i += 1) {
    const d = (a[i] ?? -1) - (b[i] ?? -1);
    if (d !== 0) return d;
  }
  return 0;
}

/** Positive when `a` takes precedence over `b`, 0 on a tie. */
export function compareSummaries(a: MatchSummary, b: MatchSummary): number {
  return compareHost(a.host, b.host) || compareVectors(a.request, b.request);
}

/** The policy controller's route order: timestamped routes first, oldest first, then by name. */
export function compareRouteAge(a: MatchableRoute, b: MatchableRoute): number {
  const ta = a.creationTimestamp;
  const tb = b.creationTimestamp;
  if (ta !== undefined && tb === undefined) return -1;
  if (ta === undefined && tb !== undefined) return 1;
  if (ta !== undefined && tb !== undefined && ta !== tb) return ta < tb ? -1 : 1;
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  if (a.namespace !== b.namespace) return a.namespace < b.namespace ? -1 : 1;
  return 0;
}

/** Routes in the order the policy controller sends them (stable sort on a copy). */
export function sortRoutes<R extends MatchableRoute>(routes: readonly R[]): R[] {
  return [...routes].sort(compareRouteAge);
}

function bestHost(route: MatchableRoute, req: RouteRequest): { host: HostMatch | undefined } | undefined {
  if (route.hostnames.length === 0) return { host: undefined };
  let best: HostMatch | undefined;
  for (const pattern of route.hostnames) {
    const h = matchHostname(pattern, req.host);
    if (h !== undefined && (best === undefined || compareHost(h, best) > 0)) best = h;
  }
  return best === undefined ? undefined : { host: best };
}

interface RuleHit {
  ruleIndex: number;
  match: RequestMatch | undefined;
  request: number[];
}

function bestRule(route: MatchableRoute, req: RouteRequest): RuleHit | undefined {
  let best: RuleHit | undefined;
  route.rules.forEach((rule, ruleIndex) => {
    let hit: RuleHit | undefined;
    if (rule.matches.length === 0) hit = { ruleIndex, match: undefined, request: implicitSummary(kindOf(route)) };
    for (const m of rule.matches) {
      const request = summarizeMatch(m, req);
      if (request !== undefined && (hit === undefined || compareVectors(request, hit.request) > 0)) {
        hit = { ruleIndex, match: m, request };
      }
    }
    if (hit !== undefined && (best === undefined || compareVectors(hit.request, best.request) > 0)) best = hit;
  });
  return best;
}

function kindOf(route: MatchableRoute): RequestMatch["kind"] {
  return route.kind === "GRPCRoute" ? "grpc" : "http";
}

function describe(route: MatchableRoute, hit: RuleHit, s: MatchSummary): string {
  const host = s.host === undefined ? "any host" : `${s.host.kind} host (${s.host.length} chars)`;
  const what =
    hit.match === undefined
      ? "implicit match-all"
      : hit.match.kind === "http"
        ? `${hit.match.path.type} ${hit.match.path.value} (${s.request[0]} chars), ${s.request[1]} header, ${s.request[2]} query, method ${s.request[3] === 1 ? "set" : "any"}`
        : `rpc service ${s.request[0]} chars, method ${s.request[1]} chars, ${s.request[2]} header`;
  return `${route.namespace}/${route.name} rule ${hit.ruleIndex}: ${host}, ${what}`;
}

/**
 * Pick the rule a request takes among the routes of one parent Service (linkerd `find`/`best`).
 * Routes are put in controller order first; Linkerd never falls back to a default route when
 * routes exist, so a miss is 404 NoRoute.
 */
export function findRoute<R extends MatchableRoute>(routes: readonly R[], req: RouteRequest): RouteSelection<R> {
  let best: { route: R; hit: RuleHit; summary: MatchSummary } | undefined;
  let ties = 0;
  for (const route of sortRoutes(routes)) {
    if (route.accepted === false) continue;
    const host = bestHost(route, req);
    if (host === undefined) continue;
    const hit = bestRule(route, req);
    if (hit === undefined) continue;
    const summary: MatchSummary = { host: host.host, request: hit.request };
    const cmp = best === undefined ? 1 : compareSummaries(summary, best.summary);
    if (cmp > 0) {
      best = { route, hit, summary };
      ties = 0;
    } else if (cmp === 0) {
      ties += 1;
    }
  }
  if (best === undefined) return { matched: false, status: 404, reason: "no-route" };
  const rule = best.route.rules[best.hit.ruleIndex] as R["rules"][number];
  const tieNote = ties > 0 ? `; tied with ${ties} later route(s), the earliest wins` : "";
  return {
    matched: true,
    route: best.route,
    rule,
    ruleIndex: best.hit.ruleIndex,
    match: best.hit.match,
    summary: best.summary,
    reason: `best match ${describe(best.route, best.hit, best.summary)}${tieNote}`,
  };
}
