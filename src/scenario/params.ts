// Scenario parameters for sweeps: `params: {rate: 1500/s}` declares them, `${rate}` uses them in any
// scalar value below, and `--set rate=3000/s` overrides them. Substitution rewrites the YAML nodes
// in place before anything else reads the document, so every later error still points at the
// line that holds the reference. A scalar that is exactly one reference takes the parameter's own
// type (a number stays a number); references inside longer text are spliced in as text. `$${`
// writes a literal `${`. Map keys are never substituted. An override keeps the declared param's
// type: `--set limit=3` on a param declared `"3"` is the text "3" (an annotation value must stay a
// string), and on one declared `3` must be a number, so a sweep never silently changes a type.

import { isMap, isPair, isScalar, isSeq, type Pair, parse as parseYamlText, type Scalar, visit } from "yaml";
import type { InputError } from "../k8s/input-error.js";
import { suggest } from "../k8s/suggest.js";
import { keyPositionAt, makeError, positionAt, type YamlSource } from "./yaml-source.js";

export type ParamValue = string | number | boolean;

export interface ParamsResult {
  /** The values in effect (declared, then overridden by --set), in declaration order. */
  values: Record<string, ParamValue>;
  errors: InputError[];
}

const REFERENCE = /\$\$\{|\$\{([^}]*)\}|\$\{/g;
const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Resolve `params:` and `--set`, then substitute every `${name}` in the document. */
export function applyParams(src: YamlSource, set: Readonly<Record<string, string>> = {}): ParamsResult {
  const errors: InputError[] = [];
  const pair = paramsPair(src);
  const values = declaredParams(src, pair, errors);
  for (const [name, text] of Object.entries(set)) {
    if (Object.prototype.hasOwnProperty.call(values, name)) {
      const typed = overrideAs(values[name] as ParamValue, text);
      if (typed.ok) {
        values[name] = typed.value;
      } else {
        const message = `--set ${name}=${text}: ${name} is declared as a ${typed.type} (${JSON.stringify(values[name])}), and "${text}" is not one`;
        errors.push(makeError(positionAt(src, ["params", name]), ["params", name], message, { expected: typed.expected }));
      }
      continue;
    }
    const declared = Object.keys(values);
    const where = pair === undefined ? positionAt(src, []) : keyPositionAt(src, ["params"]);
    const message = declared.length === 0 ? `--set ${name}: the scenario declares no params` : `--set ${name}: the scenario declares no param "${name}"`;
    errors.push(makeError(where, ["params", name], message, { expected: declared.length > 0 ? `one of ${declared.join(", ")}` : undefined, suggestion: suggest(name, declared) }));
  }
  if (errors.length > 0) return { values, errors };
  visit(src.doc, {
    Pair(_key, node) {
      if (node === pair) return visit.SKIP;
      return undefined;
    },
    Scalar(key, node, ancestors) {
      if (key === "key" || typeof node.value !== "string" || !node.value.includes("${")) return;
      substitute(src, node as Scalar<string>, fieldPathOf(ancestors, node), values, errors);
    },
  });
  return { values, errors };
}

/** The top-level `params:` pair, if any. */
function paramsPair(src: YamlSource): Pair | undefined {
  const top = src.doc.contents;
  if (!isMap(top)) return undefined;
  return top.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === "params");
}

function declaredParams(src: YamlSource, pair: Pair | undefined, errors: InputError[]): Record<string, ParamValue> {
  const values: Record<string, ParamValue> = {};
  if (pair === undefined || pair.value === null) return values;
  if (!isMap(pair.value)) {
    errors.push(makeError(positionAt(src, ["params"]), ["params"], "params must be a mapping of names to values", { expected: "{rate: 1500/s, replicas: 3}" }));
    return values;
  }
  for (const item of pair.value.items) {
    const name = isScalar(item.key) ? String(item.key.value) : "";
    const value = isScalar(item.value) ? item.value.value : undefined;
    if (!PARAM_NAME.test(name)) {
      errors.push(makeError(keyPositionAt(src, ["params", name]), ["params", name], `"${name}" is not a usable param name`, { expected: "letters, digits and _, not starting with a digit" }));
    } else if (typeof value !== "string" && typeof value !== "number" && typeof value !== "boolean") {
      errors.push(makeError(positionAt(src, ["params", name]), ["params", name], "a param value must be a single string, number or boolean"));
    } else {
      values[name] = value;
    }
  }
  return values;
}

/**
 * `--set` text as a value of the declared param's type. Text stays exactly as written (reading
 * `3` as a number would turn an annotation value into a number the API server refuses); a number
 * or boolean is read as the scenario file would read it (`1e3`, `0x10`, `True`), and anything
 * else is refused rather than quietly becoming text.
 */
function overrideAs(declared: ParamValue, text: string): { ok: true; value: ParamValue } | { ok: false; type: string; expected: string } {
  if (typeof declared === "string") return { ok: true, value: text };
  const read = readScalar(text);
  if (typeof declared === "number") return typeof read === "number" && Number.isFinite(read) ? { ok: true, value: read } : { ok: false, type: "number", expected: "a number" };
  return typeof read === "boolean" ? { ok: true, value: read } : { ok: false, type: "boolean", expected: "true or false" };
}

function readScalar(text: string): unknown {
  try {
    // logLevel "error": the yaml package would print its warnings (an unknown tag) to the terminal.
    return parseYamlText(text, { logLevel: "error" });
  } catch {
    return undefined;
  }
}

/** The field path of a node from the ancestors `visit` hands over. */
function fieldPathOf(ancestors: readonly unknown[], node: unknown): Array<string | number> {
  const path: Array<string | number> = [];
  const chain = [...ancestors, node];
  chain.forEach((n, i) => {
    const child = chain[i + 1];
    if (isPair(n)) path.push(isScalar(n.key) ? String(n.key.value) : "?");
    else if (isSeq(n) && child !== undefined) path.push(n.items.indexOf(child as never));
  });
  return path;
}

function substitute(src: YamlSource, node: Scalar<string>, path: Array<string | number>, values: Record<string, ParamValue>, errors: InputError[]): void {
  const text = node.value;
  const whole = /^\$\{([^}]*)\}$/.exec(text.trim());
  const at = () => {
    const start = node.range?.[0];
    const { line, col } = src.lines.linePos(start ?? 0);
    return { file: src.file, line, col };
  };
  const lookup = (name: string): ParamValue | undefined => {
    if (Object.prototype.hasOwnProperty.call(values, name)) return values[name];
    const declared = Object.keys(values);
    errors.push(
      makeError(at(), path, `\${${name}} refers to no declared param`, {
        expected: declared.length > 0 ? `one of ${declared.join(", ")} (declare it under params:)` : "a name declared under params:",
        suggestion: suggest(name, declared),
      }),
    );
    return undefined;
  };
  if (whole !== null) {
    const value = lookup((whole[1] as string).trim());
    if (value !== undefined) (node as Scalar<ParamValue>).value = value;
    return;
  }
  let failed = false;
  const out = text.replace(REFERENCE, (match: string, name: string | undefined) => {
    if (match === "$${") return "${";
    if (name === undefined) {
      errors.push(makeError(at(), path, `unclosed \${ in "${text}"`, { expected: "${name}, or $${ for a literal ${" }));
      failed = true;
      return match;
    }
    const value = lookup(name.trim());
    if (value === undefined) failed = true;
    return value === undefined ? match : String(value);
  });
  if (!failed) node.value = out;
}
