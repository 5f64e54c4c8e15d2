// zod's validation issues turned into input errors a user can act on: file:line:col of the value
// (or of the misspelt key), the field path, what was expected and a "did you mean". Union issues
// are resolved to the branch the user evidently meant, so a bad `p99` inside a distribution
// mapping is reported at `p99`, not as "matches none of three shapes".

import type { z } from "zod";
import type { InputError } from "../k8s/input-error.js";
import { suggest } from "../k8s/suggest.js";
import { keysAllowedAt } from "./schema.js";
import { type FieldPath, keyPositionAt, makeError, positionAt, type YamlSource } from "./yaml-source.js";

type Issue = z.core.$ZodIssue;
type Path = Array<string | number>;

/** Issue codes that mean "this union branch is the wrong shape altogether". */
const SHAPE_MISMATCH: ReadonlySet<string> = new Set(["invalid_type", "invalid_union", "invalid_value"]);

export function issuesToErrors(issues: readonly Issue[], src: YamlSource, root?: z.ZodType): InputError[] {
  return issues.flatMap((issue) => issueToErrors(issue, plainPath(issue.path), src, root));
}

function plainPath(path: ReadonlyArray<PropertyKey>): Path {
  return path.map((p) => (typeof p === "number" ? p : String(p)));
}

function issueToErrors(issue: Issue, path: Path, src: YamlSource, root: z.ZodType | undefined): InputError[] {
  switch (issue.code) {
    case "invalid_union":
      return unionToErrors(issue, path, src, root);
    case "unrecognized_keys":
      return issue.keys.map((key) => unknownKey(key, path, src, root));
    case "invalid_type":
      if (!("input" in issue) || issue.input === undefined) return [missingKey(path, src, typeWords(issue.expected))];
      return [makeError(positionAt(src, path), path, `expected ${typeWords(issue.expected)}, got ${describeInput(issue.input)}`)];
    case "invalid_value": {
      const values = issue.values.map(String);
      const given = "input" in issue ? issue.input : undefined;
      const suggestion = typeof given === "string" ? suggest(given, values) : undefined;
      return [makeError(positionAt(src, path), path, `${describeInput(given)} is not allowed here`, { expected: `one of ${values.join(", ")}`, suggestion })];
    }
    case "too_small":
    case "too_big":
      return [makeError(positionAt(src, path), path, sizeMessage(issue))];
    case "custom": {
      const params = (issue.params ?? {}) as { expected?: string; suggestion?: string };
      return [makeError(positionAt(src, path), path, issue.message, { expected: params.expected, suggestion: params.suggestion })];
    }
    default:
      return [makeError(positionAt(src, path), path, issue.message)];
  }
}

/**
 * Pick the branch whose top-level shape fit (its issues are all deeper, or about keys or values
 * it parsed) and report that branch's issues; when no branch fit, report the union's own message.
 */
function unionToErrors(issue: z.core.$ZodIssueInvalidUnion, path: Path, src: YamlSource, root: z.ZodType | undefined): InputError[] {
  const fitting = issue.errors.filter((branch) => !branch.some((i) => i.path.length === 0 && SHAPE_MISMATCH.has(i.code)));
  if (fitting.length > 0) {
    const best = fitting.reduce((a, b) => (b.length < a.length ? b : a));
    return best.flatMap((i) => issueToErrors(i, [...path, ...plainPath(i.path)], src, root));
  }
  const given = "input" in issue ? issue.input : undefined;
  if (given === undefined) return [missingKey(path, src, issue.message.replace(/^expected /, ""))];
  const values = issue.errors.flat().flatMap((i) => (i.code === "invalid_value" && i.path.length === 0 ? i.values.map(String) : []));
  const suggestion = typeof given === "string" && values.length > 0 ? suggest(given, values) : undefined;
  return [makeError(positionAt(src, path), path, `${issue.message}; got ${describeInput(given)}`, { suggestion })];
}

function missingKey(path: Path, src: YamlSource, expected: string): InputError {
  const key = path[path.length - 1];
  return makeError(positionAt(src, path.slice(0, -1)), path, `missing required key "${String(key)}"`, { expected });
}

function unknownKey(key: string, path: Path, src: YamlSource, root: z.ZodType | undefined): InputError {
  const allowed = keysAllowedAt(path, root);
  const keyPath: FieldPath = [...path, key];
  return makeError(keyPositionAt(src, keyPath), keyPath, `unknown key "${key}"`, {
    expected: allowed.length > 0 ? `one of ${allowed.join(", ")}` : undefined,
    suggestion: suggest(key, allowed),
  });
}

function sizeMessage(issue: z.core.$ZodIssueTooSmall | z.core.$ZodIssueTooBig): string {
  const small = issue.code === "too_small";
  const limit = Number(small ? (issue as z.core.$ZodIssueTooSmall).minimum : (issue as z.core.$ZodIssueTooBig).maximum);
  const inclusive = issue.inclusive !== false;
  const got = "input" in issue && issue.input !== undefined ? ` (got ${describeInput(issue.input)})` : "";
  switch (issue.origin) {
    case "array":
    case "set":
      return small ? `needs at least ${limit} ${limit === 1 ? "entry" : "entries"}` : `allows at most ${limit} entries`;
    case "string":
      return small ? (limit === 1 ? "must not be empty" : `must be at least ${limit} characters`) : `must be at most ${limit} characters`;
    default: {
      const op = small ? (inclusive ? "≥" : ">") : inclusive ? "≤" : "<";
      return `must be ${op} ${limit}${got}`;
    }
  }
}

const TYPE_WORDS: Readonly<Record<string, string>> = {
  object: "a mapping",
  array: "a list",
  string: "a string",
  number: "a number",
  int: "a whole number",
  boolean: "true or false",
};

/** zod's type names in the words of a YAML file. */
function typeWords(expected: string): string {
  return TYPE_WORDS[expected] ?? expected;
}

/** A short description of a YAML value for messages. */
export function describeInput(v: unknown): string {
  if (v === null) return "an empty value";
  if (v === undefined) return "nothing";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? `${v.slice(0, 37)}...` : v);
  return String(v);
}
