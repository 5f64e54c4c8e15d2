// The command line as users meet it: exit codes, precise errors without stack traces, the --json
// shape, and `check` stating Linkerd's real behaviour.

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { checkCommand } from "../src/cli/check-command.js";
import { runCommand } from "../src/cli/run-command.js";
import { smallScenario } from "./support/small-scenario.js";

function capture(fn: (out: (s: string) => void, err: (s: string) => void) => number): { code: number; out: string; err: string } {
  const out: string[] = [];
  const err: string[] = [];
  const code = fn((s) => out.push(s), (s) => err.push(s));
  return { code, out: out.join("\n"), err: err.join("\n") };
}

const scratch = mkdtempSync(join(tmpdir(), "meshsim-cli-"));
function scenario(name: string, text: string): string {
  const file = join(scratch, name);
  writeFileSync(file, text);
  return file;
}

const SMALL = smallScenario();

describe("meshsim run", () => {
  it("exits 0 when every expectation holds and prints the viz-shaped summary", () => {
    const r = capture((o, e) => runCommand([scenario("ok.yaml", SMALL)], {}, o, e));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/linkerd viz stat/);
    expect(r.out).toMatch(/SECURED/);
    expect(r.out).toMatch(/PASS {2}all succeed/);
  });

  it("exits 1 on a failed expectation and says how to reproduce", () => {
    const file = scenario("fail.yaml", SMALL.replace("equals: 1", "equals: 2"));
    const r = capture((o, e) => runCommand([file], {}, o, e));
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/FAIL {2}all succeed/);
    expect(r.out).toMatch(/reproduce: meshsim run .*fail\.yaml --seed 1/);
  });

  it("exits 2 on bad input with file:line:col, the path and a suggestion, and no stack trace", () => {
    const file = scenario("bad.yaml", SMALL.replace("duration: 5s", "duration: 5s\nwarmpu: 1s"));
    const r = capture((o, e) => runCommand([file], {}, o, e));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/bad\.yaml:4:1: /);
    expect(r.err).toMatch(/did you mean "warmup"/);
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it("prints one JSON object with the documented keys under --json", () => {
    const r = capture((o, e) => runCommand([scenario("json.yaml", SMALL)], { json: true }, o, e));
    const j = JSON.parse(r.out) as Record<string, unknown>;
    for (const key of ["scenario", "seed", "digest", "simulatedSeconds", "wallSeconds", "events", "requests", "expectations"]) expect(j).toHaveProperty(key);
    expect(j["expectations"]).toEqual([{ name: "all succeed", pass: true, measured: 1, expected: "successRate = 1", detail: "traffic=calls [0s, 5s)" }]);
  });

  it("gives the same digest for the same seed and a different one for another seed", () => {
    const file = scenario("seeded.yaml", SMALL);
    const digest = (seed?: string) => {
      const r = capture((o, e) => runCommand([file], { json: true, ...(seed === undefined ? {} : { seed }) }, o, e));
      return (JSON.parse(r.out) as { digest: string }).digest;
    };
    expect(digest()).toBe(digest());
    expect(digest("2")).not.toBe(digest());
  });

  it("exits with the worst code over several files", () => {
    const ok = scenario("ok2.yaml", SMALL);
    const bad = scenario("bad2.yaml", "name: x\n");
    expect(capture((o, e) => runCommand([ok, bad], {}, o, e)).code).toBe(2);
  });
});

describe("meshsim check", () => {
  const fixtures = resolve("test/fixtures/k8s");

  it("states that a status list with a space makes Linkerd reject the route", () => {
    const r = capture((o, e) => checkCommand([join(fixtures, "retry-space.yaml")], {}, o, e));
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/retry-space\.yaml:\d+:\d+: error/);
    expect(r.out).toMatch(/rejects the whole route/);
  });

  it("prints {diagnostics: [...]} under --json", () => {
    const r = capture((o, e) => checkCommand([join(fixtures, "profile-budget-ttl.yaml")], { json: true }, o, e));
    const j = JSON.parse(r.out) as { diagnostics: Array<{ severity: string; code: string; object: string; field: string; message: string }> };
    expect(j.diagnostics.length).toBeGreaterThan(0);
    expect(j.diagnostics.some((d) => /no retries/.test(d.message))).toBe(true);
  });

  it("checks the clusters of a scenario file", () => {
    const r = capture((o, e) => checkCommand([resolve("scenarios/emojivoto.yaml")], {}, o, e));
    expect(r.code).toBe(0);
  });
});
