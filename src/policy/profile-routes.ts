// ServiceProfile routes as the proxy holds them, how a request picks one (list order, first match,
// else the implicit default route), and the conversion of route conditions with its diagnostics.
// Mirrors linkerd2-proxy `linkerd/service-profiles/src/{http.rs,proto.rs}` @ release/v2.246.0 and
// linkerd2 `profile_translator.go` / `pkg/profiles/profiles.go` validation @ version-2.16.
// Difference: path regexes compile with the engine the caller passes (upstream: Rust `regex`).

import type { Diagnostic, Severity } from "./diagnostics.js";
import { type RegexEngine, type RegexMatcher, hasTopLevelAlternation } from "./regex-engine.js";

/** A request condition after conversion by the proxy (children that failed are already gone). */
export type RequestMatch =
  | { kind: "all"; matches: RequestMatch[] }
  | { kind: "any"; matches: RequestMatch[] }
  | { kind: "not"; match: RequestMatch }
  /** `pattern` is the anchored pattern the proxy compiles, e.g. `^/api/.*$`; `matcher` is it compiled. */
  | { kind: "path"; pattern: string; matcher: RegexMatcher }
  /** Upper-case method name; compared exactly with the request's method. */
  | { kind: "method"; method: string };

/** A response condition after conversion by the proxy. Status bounds are inclusive. */
export type ResponseMatch =
  | { kind: "all"; matches: ResponseMatch[] }
  | { kind: "any"; matches: ResponseMatch[] }
  | { kind: "not"; match: ResponseMatch }
  | { kind: "status"; min: number; max: number };

export interface ResponseClass {
  condition: ResponseMatch;
  /** `isFailure` from the ServiceProfile; absent in YAML ⇒ false (a success class). */
  isFailure: boolean;
}

export interface ProfileRoute {
  /** `name` from the ServiceProfile (the `route` metrics label). */
  name: string;
  condition: RequestMatch;
  /** Response classes that survived conversion; empty ⇒ the default classifier. */
  responseClasses: ResponseClass[];
  /** `isRetryable` as written; default false. */
  isRetryable: boolean;
  /** What the proxy does: `isRetryable` AND the profile's retry budget is valid. */
  retriesEnabled: boolean;
  /** Whole-request timeout including retries, µs; absent ⇒ no timeout (there is no default). */
  timeoutUs?: number;
}

/** The catch-all route the proxy appends after the ServiceProfile's routes. */
export const DEFAULT_PROFILE_ROUTE: ProfileRoute = {
  name: "[DEFAULT]",
  condition: { kind: "all", matches: [] },
  responseClasses: [],
  isRetryable: false,
  retriesEnabled: false,
};

export interface ProfileRequest {
  /** HTTP method as sent, e.g. `GET`. */
  method: string;
  /** Request path; anything from the first `?` or `#` on is ignored. */
  path: string;
}

export interface ProfileRouteDecision {
  route: ProfileRoute;
  /** Position in the profile's route list; undefined ⇒ the implicit default route. */
  index: number | undefined;
  reason: string;
}

/** The path the proxy matches regexes against: `uri.path()`, i.e. without query or fragment. */
export function requestPath(path: string): string {
  const cut = path.search(/[?#]/);
  return cut < 0 ? path : path.slice(0, cut);
}

/** Whether a request condition matches. An empty `all` matches everything, an empty `any` nothing. */
export function requestMatches(match: RequestMatch, req: ProfileRequest): boolean {
  switch (match.kind) {
    case "method":
      return req.method === match.method;
    case "path":
      // `is_match`: a search, anchored only by the `^`/`$` the proxy glued on.
      return match.matcher.isMatch(requestPath(req.path));
    case "not":
      return !requestMatches(match.match, req);
    case "all":
      return match.matches.every((m) => requestMatches(m, req));
    case "any":
      return match.matches.some((m) => requestMatches(m, req));
  }
}

/** First route in list order whose condition matches; otherwise the implicit default route. */
export function matchProfileRoute(routes: readonly ProfileRoute[], req: ProfileRequest): ProfileRouteDecision {
  for (const [index, route] of routes.entries()) {
    if (requestMatches(route.condition, req)) {
      const earlier = index === 0 ? "" : ` (the ${index} earlier route(s) did not match)`;
      return { route, index, reason: `${req.method} ${requestPath(req.path)} matched route "${route.name}"${earlier}` };
    }
  }
  const tried = routes.length === 0 ? "the profile has no routes" : `none of the ${routes.length} route(s) matched`;
  return {
    route: DEFAULT_PROFILE_ROUTE,
    index: undefined,
    reason: `${req.method} ${requestPath(req.path)} took the default route: ${tried} (no retries, no timeout, default classification)`,
  };
}

// === Conversion from the ServiceProfile object ===

export type Rec = Record<string, unknown>;

/** Diagnostics sink for one object, plus the two whole-object verdicts. */
export interface ProfileContext {
  object: string;
  diagnostics: Diagnostic[];
  /** Compiles `pathRegex` (Linkerd: the proxy's Rust `regex`). */
  regexEngine: RegexEngine;
  rejected: boolean;
  admissionRejected: boolean;
}

export const NO_UPDATE =
  "the destination controller fails to translate the ServiceProfile and sends no profile update at all, so proxies keep the previous profile (or none)";
export const WEBHOOK_REFUSES = "the linkerd-sp-validator webhook refuses the object, so `kubectl apply` fails";

export interface Verdict {
  /** `kubectl apply` fails. */
  admission?: boolean;
  /** The destination controller sends no update. */
  controller?: boolean;
}

export function report(ctx: ProfileContext, severity: Severity, code: string, field: string, message: string, verdict: Verdict = {}): void {
  ctx.diagnostics.push({ severity, code, object: ctx.object, field, message });
  if (verdict.admission === true) ctx.admissionRejected = true;
  if (verdict.controller === true) ctx.rejected = true;
}

export function asRecord(v: unknown): Rec | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Rec) : undefined;
}

export function warnUnknownKeys(ctx: ProfileContext, rec: Rec, allowed: readonly string[], field: string): void {
  for (const key of Object.keys(rec)) {
    if (allowed.includes(key)) continue;
    report(ctx, "warning", "profile-unknown-field", `${field}.${key}`,
      `"${key}" is not a ServiceProfile field (expected one of ${allowed.join(", ")}): Kubernetes prunes it, or ${WEBHOOK_REFUSES}; either way it has no effect. Check the spelling.`);
  }
}

const REQUEST_KEYS = ["pathRegex", "method", "all", "any", "not"] as const;

/**
 * Controller validation (no field set ⇒ no profile update) then proxy conversion: several fields
 * in one object are wrapped in `all`; a child of `all`/`any` that fails conversion is dropped (so
 * `{method: GET, pathRegex: "("}` matches every GET); a `not` around an unconvertible condition is
 * itself unconvertible.
 */
export function convertRequestMatch(ctx: ProfileContext, raw: unknown, field: string): RequestMatch | undefined {
  const rec = asRecord(raw);
  if (rec === undefined) {
    report(ctx, "error", "profile-request-match-invalid", field, `a request condition must be an object: ${NO_UPDATE}.`, { admission: true, controller: true });
    return undefined;
  }
  warnUnknownKeys(ctx, rec, REQUEST_KEYS, field);
  const parts: { key: string; match: RequestMatch | undefined }[] = [];
  for (const key of ["all", "any"] as const) {
    const list = rec[key];
    if (list === undefined || list === null) continue;
    if (!Array.isArray(list)) {
      report(ctx, "error", "profile-request-match-invalid", `${field}.${key}`, `\`${key}\` must be a list of conditions: the API server rejects the object, and Linkerd could not decode it (${NO_UPDATE}).`, { admission: true, controller: true });
      parts.push({ key, match: undefined });
      continue;
    }
    const items: unknown[] = list;
    const kept = items.map((m: unknown, i) => convertRequestMatch(ctx, m, `${field}.${key}[${i}]`)).filter((m) => m !== undefined);
    if (kept.length < items.length) {
      const empty = key === "all" ? "an empty `all` matches every request" : "an empty `any` matches no request";
      report(ctx, "warning", "profile-request-match-child-dropped", `${field}.${key}`, `the proxy drops ${items.length - kept.length} unconvertible condition(s) from this \`${key}\` and keeps the rest${kept.length === 0 ? ` (${empty})` : ""}.`);
    }
    parts.push({ key, match: { kind: key, matches: kept } });
  }
  if (typeof rec["method"] === "string" && rec["method"] !== "") {
    const method = rec["method"].trim().toUpperCase();
    if (method === "") report(ctx, "error", "profile-method-invalid", `${field}.method`, "the method is blank: the proxy cannot convert it.");
    parts.push({ key: "method", match: method === "" ? undefined : { kind: "method", method } });
  }
  if (rec["not"] !== undefined && rec["not"] !== null) {
    const inner = convertRequestMatch(ctx, rec["not"], `${field}.not`);
    parts.push({ key: "not", match: inner === undefined ? undefined : { kind: "not", match: inner } });
  }
  if (typeof rec["pathRegex"] === "string" && rec["pathRegex"] !== "") {
    parts.push({ key: "pathRegex", match: convertPathRegex(ctx, rec["pathRegex"], `${field}.pathRegex`) });
  }
  if (parts.length === 0) {
    report(ctx, "error", "profile-request-match-empty", field, `the condition sets none of ${REQUEST_KEYS.join(", ")}: ${WEBHOOK_REFUSES}; if stored anyway, ${NO_UPDATE}.`, { admission: true, controller: true });
    return undefined;
  }
  if (parts.length === 1) return parts[0]?.match;
  const failed = parts.filter((p) => p.match === undefined).map((p) => p.key);
  if (failed.length > 0) {
    report(ctx, "warning", "profile-request-match-part-ignored", field,
      `the fields of this condition are ANDed, and the proxy silently skips the unconvertible ${failed.join(", ")}: the condition matches on the remaining fields alone (broader than intended).`);
  }
  return { kind: "all", matches: parts.flatMap((p) => (p.match === undefined ? [] : [p.match])) };
}

function convertPathRegex(ctx: ProfileContext, raw: string, field: string): RequestMatch | undefined {
  const compiled = compilePathRegex(raw, ctx.regexEngine);
  if (!compiled.ok && compiled.problem === "unsupported") {
    report(ctx, "error", "profile-route-regex-unsupported", field,
      `pathRegex "${raw}" (compiled as "${compiled.pattern}") is valid for Linkerd's proxy (Rust \`regex\`), but meshsim's ${ctx.regexEngine.dialect} engine cannot run it faithfully: ${compiled.reason}. meshsim treats the condition as unconvertible, which Linkerd would not.`);
    return undefined;
  }
  if (!compiled.ok) {
    report(ctx, "error", "profile-route-regex-invalid", field,
      `pathRegex "${raw}" (compiled as "${compiled.pattern}") does not compile: ${compiled.reason}. Neither the linkerd-sp-validator webhook nor the destination controller checks it; the proxy fails to compile it (Rust \`regex\`) and discards the condition.`);
    return undefined;
  }
  if (compiled.anchorSplitsAlternation) {
    report(ctx, "warning", "profile-route-regex-alternation", field,
      `the proxy anchors pathRegex "${raw}" by gluing on ^ and $, giving "${compiled.pattern}": the ^ binds only the first alternative and the $ only the last, so it matches paths that merely start or end with them. Wrap the alternatives in a group, e.g. "(${raw.trim()})".`);
  }
  return { kind: "path", pattern: compiled.pattern, matcher: compiled.matcher };
}

export type PathRegexResult =
  | {
      ok: true;
      /** The pattern after the proxy's anchoring, as the proxy compiles it. */
      pattern: string;
      matcher: RegexMatcher;
      /** A top-level `|` met the added anchors: `a|b` became `^a|b$`. */
      anchorSplitsAlternation: boolean;
    }
  | { ok: false; pattern: string; problem: "invalid" | "unsupported"; reason: string };

/**
 * The proxy's `convert_req_match` for a path: trim, add `^` / `$` only where missing, compile.
 * Quirk kept: the anchors are glued on textually, so `/a|/b` becomes `^/a|/b$`.
 */
export function compilePathRegex(raw: string, engine: RegexEngine): PathRegexResult {
  const trimmed = raw.trim();
  const head = trimmed.startsWith("^") ? "" : "^";
  const tail = trimmed.endsWith("$") ? "" : "$";
  const pattern = `${head}${trimmed}${tail}`;
  const compiled = engine.compile(pattern);
  if (!compiled.ok) return { ok: false, pattern, problem: compiled.problem, reason: compiled.reason };
  const anchorSplitsAlternation = (head !== "" || tail !== "") && hasTopLevelAlternation(trimmed);
  return { ok: true, pattern, matcher: compiled.matcher, anchorSplitsAlternation };
}
