// `meshsim run` expands glob arguments itself (for shells, npm scripts and CI steps that pass them
// unexpanded): matches sorted, files only, relative to the current directory; an unmatched pattern
// is an input error (exit 2).

import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { runCommand } from "../src/cli/run-command.js";
import { smallScenario } from "./support/small-scenario.js";

function capture(fn: (out: (s: string) => void, err: (s: string) => void) => number): { code: number; out: string[]; err: string } {
  const out: string[] = [];
  const err: string[] = [];
  const code = fn((s) => out.push(s), (s) => err.push(s));
  return { code, out, err: err.join("\n") };
}

const small = (name: string): string => smallScenario({ name, duration: "1s", rate: "10/s" });

// Written in reverse order, next to a file and a directory the pattern must not pick up.
const dir = join(mkdtempSync(join(tmpdir(), "meshsim-globs-")), "fixtures", "xyz");
mkdirSync(join(dir, "nested.yaml"), { recursive: true });
writeFileSync(join(dir, "b-second.yaml"), small("second"));
writeFileSync(join(dir, "a-first.yaml"), small("first"));
writeFileSync(join(dir, "notes.txt"), "not a scenario\n");

const scenariosRun = (out: readonly string[]): string[] => out.map((line) => (JSON.parse(line) as { scenario: string }).scenario);

describe("meshsim run with glob arguments", () => {
  it("runs every file an absolute pattern matches, in sorted order, and no directory", () => {
    const r = capture((o, e) => runCommand([join(dir, "*.yaml")], { json: true }, o, e));
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(scenariosRun(r.out)).toEqual(["first", "second"]);
  });

  it("expands a pattern relative to the current directory", () => {
    const r = capture((o, e) => runCommand([join(relative(process.cwd(), dir), "{b,a}-*.y?ml")], { json: true }, o, e));
    expect(r.code).toBe(0);
    expect(scenariosRun(r.out)).toEqual(["first", "second"]);
  });

  it("exits 2 on a pattern that matches nothing, naming it (under --json, as the errors object)", () => {
    const pattern = join(dir, "*.yml");
    const r = capture((o, e) => runCommand([pattern], { json: true }, o, e));
    expect(r.code).toBe(2);
    expect(r.out.map((line) => JSON.parse(line) as unknown)).toEqual([
      { ok: false, errors: [{ file: pattern, line: 0, col: 0, path: "", message: `no file matches this pattern (relative to ${process.cwd()}); nothing was simulated for it` }] },
    ]);
    expect(r.err).toContain(`${pattern}: no file matches this pattern`);
  });

  it("still runs the other arguments, and exits 2, when one pattern matches nothing", () => {
    const r = capture((o, e) => runCommand([join(dir, "missing-*.yaml"), join(dir, "a-first.yaml")], { json: true }, o, e));
    expect(r.code).toBe(2);
    expect(r.out.map((line) => (JSON.parse(line) as { ok?: boolean }).ok)).toEqual([false, undefined]);
    expect(scenariosRun(r.out.slice(1))).toEqual(["first"]);
  });
});
