// Bad input, said precisely: file:line:col, the field path, what was wrong, what was expected and a
// "did you mean". Input errors end a run with exit code 2 and are printed, never thrown as a stack
// trace; `InputErrors` carries a batch of them through code that can only throw. Also the two
// directions between field paths as arrays (`["spec", "routes", 0]`) and as text (`spec.routes[0]`).

/** One problem with the user's input. */
export interface InputError {
  /** File as the user would name it (relative to the scenario when it lies below it). */
  file: string;
  /** 1-based line; 0 ⇒ unknown (then `col` is ignored). */
  line: number;
  /** 1-based column; 0 ⇒ unknown. */
  col: number;
  /** Field path, e.g. `behavior[0].latency.p99` or `spec.routes[0].timeout`; "" ⇒ the whole document or file. */
  path: string;
  /** What is wrong, as a sentence without a trailing period. */
  message: string;
  /** What would have been accepted, e.g. `an integer ≥ 0`; absent ⇒ not said. */
  expected?: string;
  /** A close, valid spelling of what was written; absent ⇒ nothing close enough. */
  suggestion?: string;
}

/** Longest stretch of a message shown; a value quoted from the input is cut to fit. */
const MESSAGE_CHARS_MAX = 300;

/**
 * `scenario.yaml:12:7: behavior[0].latency.p99: <message> (expected <expected>) — did you mean "p95"?`
 * Always one line: a message quoting a multi-line value from the input shows its first line only,
 * and at most 300 characters of it, so an error never reproduces a file's contents.
 */
export function formatInputError(e: InputError): string {
  const where = e.line > 0 ? `${e.file}:${e.line}${e.col > 0 ? `:${e.col}` : ""}` : e.file;
  let text = where === "" ? "" : `${where}: `;
  if (e.path !== "") text += `${e.path}: `;
  text += oneLine(e.message);
  if (e.expected !== undefined) text += ` (expected ${oneLine(e.expected)})`;
  if (e.suggestion !== undefined) text += ` — did you mean "${oneLine(e.suggestion)}"?`;
  return text;
}

/**
 * The same error for a JUnit XML file, which CI systems publish: where it is and what was expected,
 * with every quoted value from the input replaced by `"…"`, so no part of an input file travels
 * into a published artifact.
 */
export function formatInputErrorRedacted(e: InputError): string {
  return formatInputError({ ...e, message: redactQuoted(e.message) });
}

function oneLine(text: string): string {
  const first = text.split(/\r?\n/, 1)[0] ?? "";
  const cut = first.length > MESSAGE_CHARS_MAX ? `${first.slice(0, MESSAGE_CHARS_MAX)}…` : first;
  return cut.length < text.length && !cut.endsWith("…") ? `${cut} …` : cut;
}

function redactQuoted(text: string): string {
  // A quote may span lines (a block scalar); one left open runs to the end of the message.
  return text.replace(/"(?:[^"\\]|\\.)*(?:"|$)|`[^`]*(?:`|$)/g, (q) => {
    const mark = q[0] as string;
    return q.length > 1 && q.endsWith(mark) ? `${mark}…${mark}` : `${mark}…`;
  });
}

/** A batch of input errors, for code paths that can only report by throwing. */
export class InputErrors extends Error {
  readonly errors: InputError[];

  constructor(errors: readonly InputError[]) {
    super(errors.map(formatInputError).join("\n"));
    this.name = "InputErrors";
    this.errors = [...errors];
  }
}

/** Segment of a field path: a map key or a list index. */
export type PathSegment = string | number;

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** `["spec", "routes", 0, "timeout"]` ⇒ `spec.routes[0].timeout`; odd keys are quoted: `metadata.annotations["a.b/c"]`. */
export function formatPath(path: ReadonlyArray<PathSegment>): string {
  let text = "";
  for (const seg of path) {
    if (typeof seg === "number") text += `[${seg}]`;
    else if (PLAIN_KEY.test(seg)) text += text === "" ? seg : `.${seg}`;
    else text += `[${JSON.stringify(seg)}]`;
  }
  return text;
}

/**
 * The inverse of `formatPath`, for the field strings policy diagnostics carry. An index written
 * `[]` (any element) ends the path there, so positions fall back to the list itself.
 */
export function parseFieldPath(field: string): PathSegment[] {
  const out: PathSegment[] = [];
  let i = 0;
  while (i < field.length) {
    const c = field[i];
    if (c === ".") {
      i += 1;
    } else if (c === "[") {
      const close = readBracket(field, i);
      if (close === undefined || close.segment === undefined) return out;
      out.push(close.segment);
      i = close.end;
    } else {
      let j = i;
      while (j < field.length && field[j] !== "." && field[j] !== "[") j += 1;
      out.push(field.slice(i, j));
      i = j;
    }
  }
  return out;
}

/** `[3]` ⇒ 3, `["a.b"]` ⇒ "a.b", `[]` or anything malformed ⇒ undefined segment. */
function readBracket(field: string, start: number): { segment: PathSegment | undefined; end: number } | undefined {
  if (field[start + 1] === '"') {
    let j = start + 2;
    while (j < field.length && field[j] !== '"') j += field[j] === "\\" ? 2 : 1;
    if (field[j + 1] !== "]") return undefined;
    try {
      return { segment: JSON.parse(field.slice(start + 1, j + 1)) as string, end: j + 2 };
    } catch {
      return undefined;
    }
  }
  const close = field.indexOf("]", start);
  if (close < 0) return undefined;
  const inner = field.slice(start + 1, close);
  return { segment: /^[0-9]+$/.test(inner) ? Number(inner) : undefined, end: close + 1 };
}
