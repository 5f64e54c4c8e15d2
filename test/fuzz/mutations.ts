// Structural mutations of a scenario, as data, and how they apply: a short list of them (drawn in
// draw.ts) is applied in order to a copy of a corpus scenario, and the result is written as YAML,
// then a few line edits may break the YAML itself. Every mutation names its target by a number
// taken modulo what exists when it is applied, so any draw applies to any scenario, the same draw
// always gives the same text, and shrinking (fewer mutations, plainer values, lower numbers)
// stays meaningful.

import { stringify } from "yaml";
import type { Doc } from "./corpus.js";
import { resolveRefs } from "./names.js";

export type Seg = string | number;

export type Mutation =
  /** Replace the `at`-th node of the document (any node, container or scalar). */
  | { op: "replace"; at: number; value: unknown }
  /** Replace the `at`-th number, or text that reads as a number, duration or rate. */
  | { op: "replaceNumber"; at: number; value: unknown }
  /** Delete the `at`-th mapping key or list element (required ones included). */
  | { op: "delete"; at: number }
  /** Add a key (unknown, a near-miss spelling, or a prototype name) to the `at`-th mapping. */
  | { op: "addKey"; at: number; key: string; value: unknown }
  /** Append a copy of the `at`-th list element to its list (duplicate names, duplicate entries). */
  | { op: "duplicate"; at: number }
  /** Change the `at`-th node's type: a scalar into a list of it, a list into its first element, a mapping into text. */
  | { op: "retype"; at: number }
  /** Set a field by its path from the top; a number in the path picks an element modulo (list length + 1), the last appending. */
  | { op: "set"; path: Seg[]; value: unknown }
  /** Set a field of the `at`-th inline Kubernetes object, by its path inside the object. */
  | { op: "object"; at: number; path: Seg[]; value: unknown }
  /** Add a Kubernetes object to the `cluster`-th cluster. */
  | { op: "addObject"; cluster: number; object: Doc }
  /** Append a fault. */
  | { op: "fault"; fault: Doc }
  /** Append a configuration change (`changes:`). */
  | { op: "change"; change: Doc };

/** An edit of the YAML text after the structural mutations: what breaks the YAML itself. */
export interface TextMutation {
  line: number;
  edit: "duplicate" | "drop" | "prefix" | "truncate";
  text: string;
}

export interface FuzzCase {
  /** Index into the corpus, modulo its length. */
  base: number;
  mutations: Mutation[];
  text: TextMutation[];
}

// ---- applying -------------------------------------------------------------------------------

type Container = Record<string, unknown> | unknown[];

interface NodeAt {
  parent: Container;
  key: string | number;
  value: unknown;
}

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isContainer = (v: unknown): v is Container => typeof v === "object" && v !== null;

/** Every node below the root, depth first, in key order. */
function nodesOf(root: Container): NodeAt[] {
  const out: NodeAt[] = [];
  const walk = (c: Container): void => {
    const entries: Array<[string | number, unknown]> = Array.isArray(c) ? c.map((v, i) => [i, v]) : Object.keys(c).map((k) => [k, c[k]]);
    for (const [key, value] of entries) {
      out.push({ parent: c, key, value });
      if (isContainer(value)) walk(value);
    }
  };
  walk(root);
  return out;
}

/** Set a key, `__proto__` included, as an own property (never the prototype). */
function setKey(c: Container, key: string | number, value: unknown): void {
  if (Array.isArray(c) && typeof key === "number") c[key] = value;
  else Object.defineProperty(c, String(key), { value, enumerable: true, writable: true, configurable: true });
}

function removeKey(c: Container, key: string | number): void {
  if (Array.isArray(c)) c.splice(key as number, 1);
  else delete c[key as string];
}

const NUMBERISH_TEXT = /^[+-]?(\d|\.\d)|\d(us|ms|s|m|h)$|\/[smh]$/;

function nth<T>(items: readonly T[], n: number): T | undefined {
  return items.length === 0 ? undefined : items[n % items.length];
}

/** Walk `path` from `root`, creating what is missing, and set the last segment to `value`. */
function setPath(root: Container, path: readonly Seg[], value: unknown): void {
  let c: Container = root;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i] as Seg;
    const last = i === path.length - 1;
    let key: string | number = seg;
    if (typeof seg === "number") {
      if (!Array.isArray(c)) return;
      key = seg % (c.length + 1);
    } else if (Array.isArray(c)) return;
    if (last) {
      setKey(c, key, value);
      return;
    }
    const next = (c as Record<string | number, unknown>)[key];
    const wantList = typeof path[i + 1] === "number";
    if (isContainer(next) && Array.isArray(next) === wantList) c = next;
    else {
      const fresh: Container = wantList ? [] : {};
      setKey(c, key, fresh);
      c = fresh;
    }
  }
}

/** Inline Kubernetes objects of every cluster, in order. */
function objectsOf(doc: Doc): Container[] {
  const clusters = Array.isArray(doc["clusters"]) ? doc["clusters"] : [];
  return clusters.flatMap((c) => (isMap(c) && Array.isArray(c["objects"]) ? c["objects"].filter(isContainer) : []));
}

function retyped(v: unknown): unknown {
  if (Array.isArray(v)) return v[0] ?? null;
  if (isMap(v)) return JSON.stringify(v);
  return [v];
}

function applyMutation(doc: Doc, m: Mutation, value: unknown): void {
  switch (m.op) {
    case "set":
      setPath(doc, m.path, value);
      return;
    case "object": {
      const o = nth(objectsOf(doc), m.at);
      if (o !== undefined) setPath(o, m.path, value);
      return;
    }
    case "addObject": {
      const clusters = Array.isArray(doc["clusters"]) ? doc["clusters"].filter(isMap) : [];
      const c = nth(clusters, m.cluster);
      if (c === undefined) return;
      if (!Array.isArray(c["objects"])) c["objects"] = [];
      (c["objects"] as unknown[]).push(value);
      return;
    }
    case "fault":
    case "change": {
      const section = m.op === "fault" ? "faults" : "changes";
      if (!Array.isArray(doc[section])) doc[section] = [];
      (doc[section] as unknown[]).push(value);
      return;
    }
    default:
      applyAtNode(doc, m, value);
  }
}

function applyAtNode(doc: Doc, m: Extract<Mutation, { at: number }>, value: unknown): void {
  const all = nodesOf(doc);
  const target = m.op === "replaceNumber"
    ? nth(all.filter((n) => typeof n.value === "number" || (typeof n.value === "string" && NUMBERISH_TEXT.test(n.value))), m.at)
    : m.op === "addKey" ? nth(all.filter((n) => isMap(n.value)), m.at)
    : m.op === "duplicate" ? nth(all.filter((n) => Array.isArray(n.parent)), m.at)
    : nth(all, m.at);
  if (target === undefined) return;
  switch (m.op) {
    case "replace":
    case "replaceNumber":
      setKey(target.parent, target.key, value);
      return;
    case "delete":
      removeKey(target.parent, target.key);
      return;
    case "addKey":
      setKey(target.value as Container, m.key, value);
      return;
    case "duplicate":
      (target.parent as unknown[]).push(structuredClone(target.value));
      return;
    case "retype":
      setKey(target.parent, target.key, retyped(target.value));
      return;
  }
}

function applyText(text: string, t: TextMutation): string {
  const lines = text.split("\n");
  const i = t.line % lines.length;
  const line = lines[i] as string;
  switch (t.edit) {
    case "duplicate":
      lines.splice(i, 0, line);
      break;
    case "drop":
      lines.splice(i, 1);
      break;
    case "prefix": {
      const indent = /^\s*(- )?/.exec(line)?.[0] ?? "";
      lines[i] = indent + t.text + line.slice(indent.length);
      break;
    }
    case "truncate":
      return lines.slice(0, i).join("\n") + "\n" + line.slice(0, Math.floor(line.length / 2));
  }
  return lines.join("\n");
}

/** The case's scenario as YAML: the base scenario, mutated in order, written out, text-edited. */
export function renderCase(c: FuzzCase, bases: readonly Doc[]): string {
  const doc = structuredClone(bases[c.base % bases.length] as Doc);
  for (const m of c.mutations) {
    const value = "value" in m ? m.value : m.op === "addObject" ? m.object : m.op === "fault" ? m.fault : m.op === "change" ? m.change : undefined;
    applyMutation(doc, m, resolveRefs(structuredClone(value), doc));
  }
  let text = stringify(doc, { aliasDuplicateObjects: false, lineWidth: 0 });
  for (const t of c.text) text = applyText(text, t);
  return text;
}
