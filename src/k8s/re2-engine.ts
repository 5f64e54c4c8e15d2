// The regex engine the simulator hands the policy parsers: RE2, through the pure-JavaScript
// `re2js` port. Linkerd compiles route regexes with Rust's `regex` crate (linkerd2-proxy for
// ServiceProfile paths and route matches; the policy controller's webhook and index for
// HTTPRoute/GRPCRoute matches). Both match in time linear in the input, so a pattern such as
// `(a+)+b` costs microseconds per request, and they share almost all syntax. Where they part,
// `compile` says so rather than run a different regex: syntax Rust accepts or reads differently
// is "unsupported"; syntax RE2 accepts and Rust refuses (octal escapes, `\Q...\E`, a `{` that
// starts no count) is "invalid". Difference kept: `\d`, `\w`, `\s`, `\b` are ASCII here,
// Unicode-aware in Rust, which only non-ASCII input can tell apart.

import { RE2JS } from "re2js";
import type { RegexCompileResult, RegexEngine, RegexMatcher } from "../policy/regex-engine.js";

type Refusal = Extract<RegexCompileResult, { ok: false }>;

const invalid = (reason: string): Refusal => ({ ok: false, problem: "invalid", reason });
const unsupported = (reason: string): Refusal => ({ ok: false, problem: "unsupported", reason });

/** RE2 (`re2js`) behind the policy layer's engine interface. Stateless: share it freely. */
export const re2Engine: RegexEngine = Object.freeze({
  dialect: "RE2",
  compile(pattern: string): RegexCompileResult {
    const divergence = findDivergence(pattern);
    if (divergence !== undefined) return divergence;
    let compiled: RE2JS;
    try {
      compiled = RE2JS.compile(pattern);
    } catch (err) {
      return explainRe2Error(pattern, err);
    }
    return { ok: true, matcher: matcherOf(compiled) };
  },
});

function matcherOf(re: RE2JS): RegexMatcher {
  return {
    isMatch: (value) => re.test(value),
    find: (value) => {
      const m = re.matcher(value);
      return m.find() ? { start: m.start(), end: m.end() } : undefined;
    },
  };
}

const POSIX_ITEM = /^\[:\^?[a-z]+:\]/;
const COUNT = /^\{[0-9]+(,[0-9]*)?\}/;
const LOOK_AROUND = /^\(\?(=|!|<=|<!)/;
const FLAGS = /^\(\?([a-zA-Z-]*)[:)]/;

/** The first construct that Rust `regex` and RE2 read differently, or that one of them refuses. */
function findDivergence(p: string): Refusal | undefined {
  let i = 0;
  while (i < p.length) {
    const c = p.charAt(i);
    let found: Refusal | undefined;
    if (c === "\\") {
      found = escapeDivergence(p, i, false);
      i += 2;
    } else if (c === "[") {
      const cls = classDivergence(p, i);
      found = cls.found;
      i = cls.next;
    } else {
      if (c === "{" && !COUNT.test(p.slice(i))) {
        found = invalid("a `{` must start a repetition count in Rust `regex` (`{2}`, `{2,}`, `{2,5}`; RE2 would read it as text): escape a literal brace as `\\{`");
      } else if (c === "(") {
        found = groupDivergence(p.slice(i));
      }
      i += 1;
    }
    if (found !== undefined) return found;
  }
  return undefined;
}

function groupDivergence(rest: string): Refusal | undefined {
  const look = LOOK_AROUND.exec(rest);
  if (look !== null) {
    return invalid(`\`${look[0]}\` is a look-around assertion, which Rust \`regex\` (like RE2) does not support because it guarantees linear-time matching: express the condition without it, e.g. with a narrower character class or a separate match`);
  }
  const flags = FLAGS.exec(rest);
  if (flags !== null && /[xRu]/.test(flags[1] ?? "")) {
    return unsupported(`\`${flags[0]}\` sets x (verbose), R (CRLF) or u (Unicode), inline flags Rust \`regex\` has and RE2 lacks: write the pattern without them`);
  }
  return undefined;
}

function escapeDivergence(p: string, i: number, inClass: boolean): Refusal | undefined {
  const c = p.charAt(i + 1);
  if (/[0-9]/.test(c)) {
    return invalid(`\`\\${c}\` is a backreference or an octal escape; Rust \`regex\` supports neither (it guarantees linear-time matching): repeat the group's pattern instead, or write a character as \`\\x{..}\``);
  }
  if (c === "Q" || c === "E") return invalid("`\\Q...\\E` quoting is RE2 syntax that Rust `regex` refuses: escape each metacharacter with `\\` instead");
  if (c === "u" || c === "U") return unsupported(`\`\\${c}\` Unicode escapes are Rust \`regex\` syntax RE2 lacks: write the character as \`\\x{..}\``);
  if (inClass) return undefined;
  if (c === "<" || c === ">" || ((c === "b" || c === "B") && p.charAt(i + 2) === "{")) {
    return unsupported(`\`\\${c}${c === "<" || c === ">" ? "" : "{"}\` is a Rust \`regex\` word-boundary assertion that RE2 would read as plain text: use \`\\b\``);
  }
  return undefined;
}

/** A bracket class from `start`: Rust nests `[...]` and has `&&`, `--`, `~~` set operations; RE2 reads them as text. */
function classDivergence(p: string, start: number): { found: Refusal | undefined; next: number } {
  let i = start + 1;
  if (p.charAt(i) === "^") i += 1;
  if (p.charAt(i) === "]") i += 1;
  while (i < p.length) {
    const c = p.charAt(i);
    if (c === "]") return { found: undefined, next: i + 1 };
    if (c === "\\") {
      const found = escapeDivergence(p, i, true);
      if (found !== undefined) return { found, next: i };
      i += 2;
      continue;
    }
    const posix = POSIX_ITEM.exec(p.slice(i));
    if (posix !== null) {
      i += posix[0].length;
      continue;
    }
    if (c === "[") {
      return { found: unsupported("a `[` inside a character class opens a nested class in Rust `regex` but is a literal `[` in RE2: escape it as `\\[`, or list the nested class's members directly"), next: i };
    }
    const op = ["&&", "--", "~~"].find((o) => p.startsWith(o, i));
    if (op !== undefined) {
      return { found: unsupported(`\`${op}\` inside a character class is a set operation in Rust \`regex\` but plain text in RE2: list the resulting characters directly`), next: i };
    }
    i += 1;
  }
  return { found: undefined, next: p.length }; // unterminated: RE2 reports it
}

/** RE2's own refusal, except where Rust `regex` would accept the pattern. */
function explainRe2Error(pattern: string, err: unknown): Refusal {
  const message = (err instanceof Error ? err.message : String(err)).replace(/^error parsing regexp: /, "");
  if (message.startsWith("invalid nested repetition operator")) {
    return unsupported(`${message}: Rust \`regex\` accepts stacked repetitions, RE2 does not: write a single repetition`);
  }
  const counts = [...pattern.matchAll(/\{([0-9]+)(?:,([0-9]*))?\}/g)].flatMap((m) => [Number(m[1]), Number(m[2] ?? 0)]);
  if (message.startsWith("invalid repeat count") && counts.some((n) => n > 1000)) {
    return unsupported(`${message}: Rust \`regex\` accepts repetition counts above RE2's limit of 1000 (up to its compiled-size limit)`);
  }
  return invalid(message);
}
