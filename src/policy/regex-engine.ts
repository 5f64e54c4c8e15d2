// The regular-expression engine the route parsers are handed: the two operations of Rust's
// `regex::Regex` that Linkerd uses — `is_match` (linkerd2-proxy `linkerd/service-profiles/src/
// http.rs`, ServiceProfile paths) and `find` (`linkerd/http-route/src/http/match/*.rs`, HTTPRoute
// and GRPCRoute matches) @ release/v2.246.0. Difference: policy holds no engine of its own; the
// caller passes one to every parser, so this folder stays free of packages.

/** A half-open span `[start, end)` of the value, in the value's own (UTF-16) indices. */
export interface RegexSpan {
  start: number;
  end: number;
}

/** A compiled pattern. Both operations must run in time linear in the value's length. */
export interface RegexMatcher {
  /** Rust `Regex::is_match`: whether the pattern matches anywhere in `value` (not anchored). */
  isMatch(value: string): boolean;
  /** Rust `Regex::find`: the leftmost-first match (Perl-style alternation order), or undefined. */
  find(value: string): RegexSpan | undefined;
}

export type RegexCompileResult =
  | { ok: true; matcher: RegexMatcher }
  | {
      ok: false;
      /**
       * `invalid`: Linkerd's regex engine (Rust `regex`) refuses the pattern too.
       * `unsupported`: Linkerd accepts it, but this engine cannot run it as Linkerd would.
       */
      problem: "invalid" | "unsupported";
      /** What is wrong, in regex terms, with a suggestion where there is an obvious one. */
      reason: string;
    };

export interface RegexEngine {
  /** The syntax the engine implements, for messages, e.g. `RE2`. */
  readonly dialect: string;
  compile(pattern: string): RegexCompileResult;
}

/** Stored for a pattern that did not compile: its route or condition is already refused. */
export const NEVER_MATCHES: RegexMatcher = Object.freeze({
  isMatch: () => false,
  find: () => undefined,
});

/**
 * Whether `pattern` has a `|` outside every group and character class — the case where gluing
 * `^` and `$` onto its ends binds them to the first and last alternative only. Reads the syntax
 * RE2 and Rust `regex` share: `\` escapes the next character, `[...]` classes may start with a
 * literal `]` and hold `[:name:]` items, `\Q...\E` quotes (RE2 only; harmless to skip).
 */
export function hasTopLevelAlternation(pattern: string): boolean {
  let depth = 0;
  let i = 0;
  while (i < pattern.length) {
    const c = pattern.charAt(i);
    if (c === "\\" && pattern.charAt(i + 1) === "Q") {
      const end = pattern.indexOf("\\E", i + 2);
      i = end < 0 ? pattern.length : end + 2;
    } else if (c === "\\") {
      i += 2;
    } else if (c === "[") {
      i = skipClass(pattern, i);
    } else {
      if (c === "(") depth += 1;
      else if (c === ")") depth = Math.max(0, depth - 1);
      else if (c === "|" && depth === 0) return true;
      i += 1;
    }
  }
  return false;
}

const POSIX_ITEM = /^\[:\^?[a-z]+:\]/;

/** Index just past the class opening at `start`; a nested `[...]` is a nested class, as in Rust. */
function skipClass(pattern: string, start: number): number {
  let i = start + 1;
  if (pattern.charAt(i) === "^") i += 1;
  if (pattern.charAt(i) === "]") i += 1;
  while (i < pattern.length) {
    const c = pattern.charAt(i);
    if (c === "]") return i + 1;
    if (c === "\\") i += 2;
    else if (c === "[") {
      const posix = POSIX_ITEM.exec(pattern.slice(i));
      i = posix === null ? skipClass(pattern, i) : i + posix[0].length;
    } else i += 1;
  }
  return pattern.length;
}
