// Output paths are checked before anything is simulated: an unwritable --trace or --junit file
// and an --out directory full of someone else's files are input errors (exit 2), and one failing
// file of several does not stop the others nor the JUnit report.

import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCommand, type RunOptions } from "../src/cli/run-command.js";
import { smallScenario } from "./support/small-scenario.js";

const scratch = mkdtempSync(join(tmpdir(), "meshsim-outputs-"));
const ok = join(scratch, "ok.yaml");
writeFileSync(ok, smallScenario());

function run(files: string[], opts: RunOptions): { code: number; out: string; err: string } {
  const out: string[] = [];
  const err: string[] = [];
  const code = runCommand(files, opts, (s) => out.push(s), (s) => err.push(s));
  return { code, out: out.join("\n"), err: err.join("\n") };
}

describe("output paths", () => {
  it.each([["--trace", { trace: join(scratch, "no-such-dir", "t.jsonl") }], ["--junit", { junit: join(scratch, "no-such-dir", "j.xml") }]] as const)(
    "an unwritable %s path is exit 2 before anything runs",
    (flag, opts) => {
      const r = run([ok], opts);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(new RegExp(`${flag} .*: cannot be written \\(ENOENT\\); nothing was simulated`));
      expect(r.out).not.toMatch(/linkerd viz stat/);
    },
  );

  it("--out refuses a directory holding other files, unless --force", () => {
    const dir = join(scratch, "home");
    mkdirSync(dir);
    writeFileSync(join(dir, "thesis.tex"), "precious");
    const r = run([ok], { out: dir, json: true });
    expect(r.code).toBe(2);
    expect(JSON.parse(r.out)).toMatchObject({ ok: false, errors: [{ message: expect.stringContaining("thesis.tex, which is not a meshsim report") }] });
    expect(readFileSync(join(dir, "thesis.tex"), "utf8")).toBe("precious");
  });

  it("--out accepts a previous report's directory", () => {
    const dir = join(scratch, "previous");
    mkdirSync(join(dir, "charts"), { recursive: true });
    for (const f of ["report.html", "report.md", "result.json", "summary.txt", "timeline.csv"]) writeFileSync(join(dir, f), "");
    expect(run([ok], { out: dir, json: true, onReportWritten: () => undefined }).code).toBe(0);
  });

  it("a missing file among several: the others run, the worst exit code wins, and the JUnit file is written", () => {
    const junit = join(scratch, "all.xml");
    const r = run([ok, join(scratch, "missing.yaml"), ok], { junit, json: true });
    expect(r.code).toBe(2);
    expect(r.out.split("\n").filter((l) => l.includes('"digest"'))).toHaveLength(2);
    const xml = readFileSync(junit, "utf8");
    expect((xml.match(/<testsuite /g) ?? []).length).toBe(3);
  });
});
