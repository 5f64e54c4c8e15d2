// A scenario file parsed with positions: the YAML document, its line counter, and lookups from a
// field path (["behavior", 0, "latency", "p99"]) to file:line:col. The safety checks that must run
// before any value is built live here too: an alias cap against expansion bombs, and a ban on keys
// that could reach Object.prototype.

import { type Document, isAlias, isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument, visit } from "yaml";
import { formatPath, type InputError } from "../k8s/input-error.js";
import type { SourcePosition } from "../k8s/object.js";

export type FieldPath = ReadonlyArray<string | number>;

export interface YamlSource {
  file: string;
  doc: Document.Parsed;
  lines: LineCounter;
}

/** Alias nodes allowed in one file; also the expansion budget given to `yaml`'s own check. */
export const MAX_ALIASES = 100;

const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"]);

export function makeError(
  at: SourcePosition,
  path: FieldPath | string,
  message: string,
  extra: { expected?: string | undefined; suggestion?: string | undefined } = {},
): InputError {
  const e: InputError = { file: at.file, line: at.line, col: at.col, path: typeof path === "string" ? path : formatPath(path), message };
  if (extra.expected !== undefined) e.expected = extra.expected;
  if (extra.suggestion !== undefined) e.suggestion = extra.suggestion;
  return e;
}

/** Parse one YAML document; syntax errors come back with their positions. */
export function parseYamlSource(file: string, text: string): { source: YamlSource; errors: InputError[] } {
  const lines = new LineCounter();
  // logLevel "error": the yaml package must not print warnings to the terminal itself.
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true, logLevel: "error" });
  const source: YamlSource = { file, doc, lines };
  const errors: InputError[] = [];
  const textLines = text.split("\n");
  for (const e of doc.errors) {
    const at = positionOfOffset(source, e.pos[0]);
    // One error per line: the parser's follow-on complaints about the same line add nothing.
    if (errors.some((x) => x.line === at.line) || errors.length >= MAX_SYNTAX_ERRORS) continue;
    const line = textLines[at.line - 1] ?? "";
    const hint = /\$\{/.test(line) && /[[{]/.test(line) ? { expected: 'a quoted reference inside [...] or {...}, e.g. {n: "${replicas}"}' } : {};
    errors.push(makeError(at, "", yamlMessage(e.message), hint));
  }
  return { source, errors };
}

const MAX_SYNTAX_ERRORS = 10;

function yamlMessage(message: string): string {
  // yaml appends "at line N, column M" and a source excerpt; our errors carry the position already.
  return (message.split(/ at line \d+, column \d+/)[0] ?? message).trim();
}

export function positionOfOffset(src: YamlSource, offset: number): SourcePosition {
  const { line, col } = src.lines.linePos(offset);
  return { file: src.file, line, col };
}

function positionOfNode(src: YamlSource, node: Node | null | undefined): SourcePosition {
  const start = node?.range?.[0];
  return start === undefined ? { file: src.file, line: 1, col: 1 } : positionOfOffset(src, start);
}

function resolve(src: YamlSource, node: unknown): unknown {
  return isAlias(node) ? node.resolve(src.doc) : node;
}

/** The pair under `key` in a map node, following an alias to the map if need be. */
function pairIn(src: YamlSource, mapNode: unknown, key: string | number) {
  const map = resolve(src, mapNode);
  if (!isMap(map)) return undefined;
  return map.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(key));
}

/** The deepest node along `path`, and how many path elements it got through. */
export function nodeAt(src: YamlSource, path: FieldPath, from: unknown = src.doc.contents): { node: Node | undefined; depth: number } {
  let node = from as Node | undefined;
  let depth = 0;
  for (const part of path) {
    const here = resolve(src, node);
    let next: unknown;
    if (isSeq(here) && typeof part === "number") next = here.items[part];
    else next = pairIn(src, here, part)?.value;
    if (next === undefined || next === null) break;
    node = next as Node;
    depth++;
  }
  return { node, depth };
}

/**
 * Where the value at `path` was written, or its deepest written ancestor. A scalar is placed at its
 * value; a collection under a key at that key (the collection itself starts on a later line).
 */
export function positionAt(src: YamlSource, path: FieldPath): SourcePosition {
  let node: unknown = src.doc.contents;
  let offset = (node as Node | null)?.range?.[0] ?? 0;
  for (const part of path) {
    const here = resolve(src, node);
    if (isSeq(here) && typeof part === "number") {
      const item = here.items[part] as Node | undefined;
      const range = item?.range;
      if (range === undefined || range === null) break;
      offset = range[0];
      node = item;
      continue;
    }
    const pair = pairIn(src, here, part);
    if (pair === undefined) break;
    const value = pair.value as Node | null;
    const showValue = isScalar(value) && value.value !== null && value.range !== undefined;
    offset = showValue ? (value.range as [number, number, number])[0] : ((pair.key as Node | null)?.range?.[0] ?? offset);
    if (value === null) break;
    node = value;
  }
  return positionOfOffset(src, offset);
}

/** Where the key that ends `path` was written (for unknown keys), else as `positionAt`. */
export function keyPositionAt(src: YamlSource, path: FieldPath): SourcePosition {
  const parentPath = path.slice(0, -1);
  const last = path[path.length - 1];
  const parent = nodeAt(src, parentPath);
  if (last !== undefined && parent.depth === parentPath.length) {
    const pair = pairIn(src, parent.node, last);
    if (pair !== undefined && isScalar(pair.key)) return positionOfNode(src, pair.key);
  }
  return positionAt(src, path);
}

/** Too many aliases, keys that could pollute prototypes, and non-scalar keys. */
export function checkSafety(src: YamlSource): InputError[] {
  const errors: InputError[] = [];
  let aliases = 0;
  visit(src.doc, {
    Alias(_key, node) {
      aliases++;
      if (aliases === MAX_ALIASES + 1) {
        errors.push(makeError(positionOfNode(src, node), "", `more than ${MAX_ALIASES} aliases in one file`, { expected: `at most ${MAX_ALIASES} aliases` }));
      }
    },
    Pair(_key, pair) {
      if (!isPair(pair)) return;
      const key = pair.key;
      if (key !== null && !isScalar(key)) {
        errors.push(makeError(positionOfNode(src, key as Node), "", "mapping keys must be plain scalars"));
      } else if (isScalar(key) && FORBIDDEN_KEYS.has(String(key.value))) {
        errors.push(makeError(positionOfNode(src, key), "", `the key "${String(key.value)}" is not allowed`, { expected: "an ordinary key name" }));
      }
    },
  });
  return errors;
}

/** The document as plain data; refuses alias expansions that would blow up. */
export function toPlainData(src: YamlSource): { ok: true; value: unknown } | { ok: false; errors: InputError[] } {
  const unresolved: InputError[] = [];
  visit(src.doc, {
    Alias(_key, node) {
      if (node.resolve(src.doc) === undefined) {
        unresolved.push(makeError(positionOfNode(src, node), "", `*${node.source} refers to no anchor`, { expected: `an anchor &${node.source} defined earlier in the file` }));
      }
    },
  });
  if (unresolved.length > 0) return { ok: false, errors: unresolved };
  try {
    return { ok: true, value: src.doc.toJS({ maxAliasCount: MAX_ALIASES }) };
  } catch (e) {
    if (!(e instanceof ReferenceError)) throw e;
    let first: Node | undefined;
    visit(src.doc, {
      Alias(_key, node) {
        first = node;
        return visit.BREAK;
      },
    });
    return {
      ok: false,
      errors: [makeError(positionOfNode(src, first), "", `alias expansion is too large (${e.message})`, { expected: `aliases expanding to at most ${MAX_ALIASES} nodes` })],
    };
  }
}
