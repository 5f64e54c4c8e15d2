// Params: `${name}` references are resolved in place in the YAML, keeping the param's type when
// a scalar is exactly one reference, splicing text otherwise; `--set` overrides declared params.

import { describe, expect, it } from "vitest";
import { applyParams } from "../../src/scenario/params.js";
import { parseYamlSource, toPlainData } from "../../src/scenario/yaml-source.js";
import { positionOf } from "./memory-reader.js";

function resolve(yaml: string, set?: Record<string, string>) {
  const { source } = parseYamlSource("s.yaml", yaml);
  const r = applyParams(source, set);
  const plain = toPlainData(source);
  return { ...r, data: plain.ok ? (plain.value as Record<string, unknown>) : undefined };
}

const PARAMS = "params: {rate: 1500/s, replicas: 3, meshed: false, ns: payments}\n";

describe("params", () => {
  it.each([
    ["a number", "v: ${replicas}", 3],
    ["a boolean", "v: ${meshed}", false],
    ["a string", "v: ${rate}", "1500/s"],
    ["a quoted whole reference (still the param's type)", 'v: "${replicas}"', 3],
    ["text around a reference (spliced as text)", "v: http://auth.${ns}.svc/x", "http://auth.payments.svc/x"],
    ["two references in one scalar", "v: ${ns}-${replicas}", "payments-3"],
    ["an escaped reference (literal)", "v: $${ns}", "${ns}"],
  ])("substitutes %s", (_what, line, want) => {
    const r = resolve(`${PARAMS}${line}\n`);
    expect(r.errors).toEqual([]);
    expect(r.data?.["v"]).toEqual(want);
  });

  it("substitutes inside lists and nested mappings, but never in keys", () => {
    const r = resolve(`${PARAMS}a: [{b: "\${replicas}"}]\n\${ns}: 1\n`);
    expect(r.data?.["a"]).toEqual([{ b: 3 }]);
    expect(r.data?.["${ns}"]).toBe(1);
  });

  it("substitutes inside an anchored node, so its aliases see the value", () => {
    const r = resolve(`${PARAMS}a: &x\n  n: \${replicas}\nb: *x\n`);
    expect(r.data?.["b"]).toEqual({ n: 3 });
  });

  it("hints that a reference inside a flow mapping must be quoted (YAML reads its braces)", () => {
    const { errors } = parseYamlSource("s.yaml", `${PARAMS}a: {n: \${replicas}}\n`);
    expect(errors[0]?.expected).toMatch(/quoted reference/);
  });

  it("leaves the params block itself alone", () => {
    const r = resolve("params: {a: 1, b: '${a}'}\n");
    expect(r.errors).toEqual([]);
    expect(r.data?.["params"]).toEqual({ a: 1, b: "${a}" });
  });

  it("--set overrides, each value read as the declared param's type", () => {
    const r = resolve(`${PARAMS}a: \${replicas}\nb: \${rate}\nc: \${meshed}\n`, { replicas: "5", rate: "3000/s", meshed: "true" });
    expect(r.errors).toEqual([]);
    expect([r.data?.["a"], r.data?.["b"], r.data?.["c"]]).toEqual([5, "3000/s", true]);
    expect(r.values).toEqual({ rate: "3000/s", replicas: 5, meshed: true, ns: "payments" });
  });

  it("--set keeps a param declared as text as the text written, even when it looks like a number", () => {
    const r = resolve('params: {limit: "3", flag: "true"}\na: ${limit}\nb: "${limit}"\nc: ${flag}\n', { limit: "5", flag: "false" });
    expect(r.errors).toEqual([]);
    expect(r.values).toEqual({ limit: "5", flag: "false" });
    expect([r.data?.["a"], r.data?.["b"], r.data?.["c"]]).toEqual(["5", "5", "false"]);
  });

  it.each([
    ["a decimal", "2.5", 2.5],
    ["an exponent", "1e3", 1000],
    ["a negative number", "-4", -4],
  ])("--set reads %s for a param declared as a number", (_what, text, want) => {
    const r = resolve("params: {n: 3}\nv: ${n}\n", { n: text });
    expect(r.errors).toEqual([]);
    expect(r.data?.["v"]).toBe(want);
  });

  it("refuses --set of text for a param declared as a number, at the param's value", () => {
    const yaml = "name: x\nparams:\n  rate: 1500/s\n  n: 3\nv: ${n}\n";
    const { errors } = resolve(yaml, { n: "three" });
    expect(errors).toEqual([
      { file: "s.yaml", ...positionOf(yaml, "3\n"), path: "params.n", message: '--set n=three: n is declared as a number (3), and "three" is not one', expected: "a number" },
    ]);
  });

  it("refuses --set of anything but true or false for a param declared as a boolean", () => {
    const yaml = "params: {meshed: false}\n";
    const { errors } = resolve(yaml, { meshed: "1" });
    expect(errors).toEqual([
      { file: "s.yaml", ...positionOf(yaml, "false"), path: "params.meshed", message: '--set meshed=1: meshed is declared as a boolean (false), and "1" is not one', expected: "true or false" },
    ]);
  });

  it("refuses --set of an undeclared param with a suggestion, at the params key", () => {
    const yaml = `name: x\n${PARAMS}`;
    const [e] = resolve(yaml, { replica: "5" }).errors;
    expect(e).toMatchObject({ path: "params.replica", suggestion: "replicas", ...positionOf(yaml, "params") });
  });

  it("refuses --set when the scenario declares no params", () => {
    const [e] = resolve("name: x\n", { rate: "5/s" }).errors;
    expect(e?.message).toMatch(/declares no params/);
  });

  it("reports an unresolved reference at the scalar, with its field path", () => {
    const yaml = `${PARAMS}traffic:\n  - rate: \${rates}\n`;
    const [e] = resolve(yaml).errors;
    expect(e).toMatchObject({ path: "traffic[0].rate", suggestion: "rate", ...positionOf(yaml, "${rates}") });
  });

  it("reports an unclosed reference", () => {
    const [e] = resolve(`${PARAMS}v: abc\${ns\n`).errors;
    expect(e?.message).toMatch(/unclosed \$\{/);
  });

  it("refuses params that are not single values", () => {
    const [e] = resolve("params: {a: [1, 2]}\n").errors;
    expect(e).toMatchObject({ path: "params.a", message: expect.stringMatching(/single string, number or boolean/) });
  });
});
