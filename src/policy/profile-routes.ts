// ServiceProfile routes as the proxy holds them, how a request picks one (list order, first match,
// else the implicit default route), and the conversion of route conditions with its diagnostics.
// Mirrors linkerd2-proxy `linkerd/service-profiles/src/{http.rs,proto.rs}` @ release/v2.246.0 and
// linkerd2 `profile_translator.go` / `pkg/profiles/profiles.go` validation @ version-2.16.
// Difference: path regexes run on JavaScript after translating the Rust `regex` syntax JS spells
// differently (see `compilePathRegex`); `\d`, `\w` are ASCII-only here, Unicode-aware upstream.

import type { Diagnostic, Severity } from "./diagnostics.js";

/** A request condition after conversion by the proxy (children that failed are already gone). */
export type RequestMatch =
  | { kind: "all"; matches: RequestMatch[] }
  | { kind: "any"; matches: RequestMatch[] }
  | { kind: "not"; match: RequestMatch }
  /** `pattern` is the anchored pattern the proxy compiles, e.g. `^/api/.*$`. */
  | { kind: "path"; pattern: string; regex: RegExp }
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
      return match.regex.test(requestPath(req.path));
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
  const compiled = compilePathRegex(raw);
  if (!compiled.ok) {
    report(ctx, "error", "profile-route-regex-invalid", field,
      `pathRegex "${raw}" (compiled as "${compiled.pattern}") cannot be used: ${compiled.error}. The proxy discards a condition whose regex does not compile (meshsim compiles a JavaScript translation of Linkerd's Rust regex syntax; an exotic but valid Rust regex may be misreported here).`);
    return undefined;
  }
  if (compiled.anchorSplitsAlternation) {
    report(ctx, "warning", "profile-route-regex-alternation", field,
      `the proxy anchors pathRegex "${raw}" by gluing on ^ and $, giving "${compiled.pattern}": the ^ binds only the first alternative and the $ only the last, so it matches paths that merely start or end with them. Wrap the alternatives in a group, e.g. "(${raw.trim()})".`);
  }
  return { kind: "path", pattern: compiled.pattern, regex: compiled.regex };
}


export type PathRegexResult =
  | {
      ok: true;
      /** The pattern after the proxy's anchoring, as the proxy compiles it. */
      pattern: string;
      regex: RegExp;
      /** A top-level `|` met the added anchors: `a|b` became `^a|b$`. */
      anchorSplitsAlternation: boolean;
    }
  | { ok: false; pattern: string; error: string };

/**
 * The proxy's `convert_req_match` for a path: trim, add `^` / `$` only where missing, compile.
 * Quirk kept: the anchors are glued on textually, so `/a|/b` becomes `^/a|/b$`.
 */
export function compilePathRegex(raw: string): PathRegexResult {
  const trimmed = raw.trim();
  const head = trimmed.startsWith("^") ? "" : "^";
  const tail = trimmed.endsWith("$") ? "" : "$";
  const pattern = `${head}${trimmed}${tail}`;
  const translated = translateRustRegex(pattern);
  if (typeof translated === "string") return { ok: false, pattern, error: translated };
  try {
    const flags = [...new Set(`u${translated.flags}`)].join("");
    const regex = new RegExp(translated.source, flags);
    const anchorSplitsAlternation = (head !== "" || tail !== "") && translated.topLevelAlternation;
    return { ok: true, pattern, regex, anchorSplitsAlternation };
  } catch (err) {
    return { ok: false, pattern, error: err instanceof Error ? err.message : String(err) };
  }
}

interface Translated {
  source: string;
  flags: string;
  topLevelAlternation: boolean;
}

// Rust's `regex` lets any ASCII punctuation be escaped (`\-`, `\#`, `\~`, ...); JavaScript's `u`
// mode only its own syntax characters, so the others become hex escapes.
const JS_ESCAPABLE = "^$\\.*+?()[]{}|/";

function hexEscape(c: string): string {
  return `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`;
}

const POSIX_CLASSES: Readonly<Record<string, string>> = {
  alnum: "0-9A-Za-z", alpha: "A-Za-z", ascii: "\\x00-\\x7f", blank: "\\t ", cntrl: "\\x00-\\x1f\\x7f",
  digit: "0-9", graph: "!-~", lower: "a-z", print: " -~", punct: "!-\\/:-@\\[-`{-~",
  space: "\\t\\n\\v\\f\\r ", upper: "A-Z", word: "0-9A-Za-z_", xdigit: "0-9A-Fa-f",
};

/**
 * Rewrites the Rust `regex` syntax JavaScript spells differently. A string result is an error in
 * Rust's own terms (look-around and backreferences do not exist there) or a construct this
 * translation does not cover; both mean the simulator cannot use the pattern.
 */
function translateRustRegex(pattern: string): Translated | string {
  let out = "";
  let flags = "";
  let depth = 0;
  let topLevelAlternation = false;
  let i = 0;
  while (i < pattern.length) {
    const c = pattern.charAt(i);
    if (c === "\\") {
      const esc = translateEscape(pattern, i, false);
      if (typeof esc === "string") return esc;
      out += esc.text;
      i = esc.next;
    } else if (c === "[") {
      const cls = translateClass(pattern, i);
      if (typeof cls === "string") return cls;
      out += cls.text;
      i = cls.next;
    } else if (c === "(" && pattern.charAt(i + 1) === "?") {
      const group = translateGroupOpen(pattern, i, out);
      if (typeof group === "string") return group;
      if (group.flags !== undefined) flags += group.flags;
      else depth += 1;
      out += group.text;
      i = group.next;
    } else {
      if (c === "(") depth += 1;
      if (c === ")") depth -= 1;
      if (c === "|" && depth === 0) topLevelAlternation = true;
      out += c;
      i += 1;
    }
  }
  return { source: out, flags, topLevelAlternation };
}

function translateGroupOpen(p: string, i: number, before: string): { text: string; next: number; flags?: string } | string {
  const rest = p.slice(i);
  if (/^\(\?(=|!|<=|<!)/.test(rest)) return "look-around assertions are not supported by Linkerd's regex engine (Rust `regex`)";
  const named = /^\(\?P?<([A-Za-z_][A-Za-z0-9_]*)>/.exec(rest);
  if (named !== null) return { text: `(?<${named[1] ?? ""}>`, next: i + named[0].length };
  if (rest.startsWith("(?:")) return { text: "(?:", next: i + 3 };
  const inline = /^\(\?([a-zA-Z-]*)([:)])/.exec(rest);
  if (inline === null) return `unrecognised group syntax at "${rest.slice(0, 6)}"`;
  if (inline[2] === ":") return "scoped inline flags `(?flags:...)` are not supported by meshsim (JavaScript has no equivalent)";
  if (before !== "" && before !== "^") return "inline flags `(?flags)` are only supported by meshsim at the start of the pattern";
  const [on = "", off = ""] = (inline[1] ?? "").split("-");
  if (/[^imsu]/.test(on) || /[^imsuU]/.test(off)) return `inline flags "${inline[1] ?? ""}" are not supported by meshsim`;
  if (off.includes("u")) return "turning Unicode off with `(?-u)` is not supported by meshsim";
  return { text: "", next: i + inline[0].length, flags: on.replace(/u/g, "") };
}

function translateEscape(p: string, i: number, inClass: boolean): { text: string; next: number } | string {
  const c = p.charAt(i + 1);
  if (c === "") return "the pattern ends with a lone backslash";
  if (/[0-9]/.test(c)) return `\\${c}: backreferences and octal escapes are not supported by Linkerd's regex engine (Rust \`regex\`)`;
  if (!inClass && c === "A") return { text: "^", next: i + 2 };
  if (!inClass && c === "z") return { text: "$", next: i + 2 };
  if (c === "a") return { text: "\\x07", next: i + 2 };
  if (/[ -/:-@[-`{-~]/.test(c) && !JS_ESCAPABLE.includes(c)) return { text: hexEscape(c), next: i + 2 };
  if ((c === "p" || c === "P") && p.charAt(i + 2) !== "{") return { text: `\\${c}{${p.charAt(i + 2)}}`, next: i + 3 };
  if (c === "x" && p.charAt(i + 2) === "{") {
    const close = p.indexOf("}", i + 3);
    if (close < 0) return "unterminated \\x{...} escape";
    return { text: `\\u{${p.slice(i + 3, close)}}`, next: close + 1 };
  }
  return { text: `\\${c}`, next: i + 2 };
}

function translateClass(p: string, start: number): { text: string; next: number } | string {
  let out = "[";
  let i = start + 1;
  if (p.charAt(i) === "^") {
    out += "^";
    i += 1;
  }
  // Rust reads a `]` right after the opening bracket as a literal; JavaScript as an empty class.
  if (p.charAt(i) === "]") {
    out += "\\]";
    i += 1;
  }
  while (i < p.length) {
    const c = p.charAt(i);
    if (c === "]") return { text: `${out}]`, next: i + 1 };
    if (c === "\\") {
      const esc = translateEscape(p, i, true);
      if (typeof esc === "string") return esc;
      out += esc.text;
      i = esc.next;
      continue;
    }
    const posix = /^\[:(\^?)([a-z]+):\]/.exec(p.slice(i));
    if (posix !== null) {
      const set = POSIX_CLASSES[posix[2] ?? ""];
      if (set === undefined) return `unknown POSIX class [:${posix[2] ?? ""}:]`;
      if (posix[1] === "^") return "negated POSIX classes inside a bracket are not supported by meshsim";
      out += set;
      i += posix[0].length;
      continue;
    }
    if (c === "[") return "nested character classes are not supported by meshsim";
    if (/^(&&|--|~~)/.test(p.slice(i))) return "character class set operations (&&, --, ~~) are not supported by meshsim";
    out += c;
    i += 1;
  }
  return "unterminated character class";
}
