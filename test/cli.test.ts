// The command line as users meet it: exit codes, precise errors without stack traces, the --json
// shape (input errors included), `--version`, and `check` stating Linkerd's real behaviour.

import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { checkCommand } from "../src/cli/check-command.js";
import { runCommand } from "../src/cli/run-command.js";
import { sweepCommand } from "../src/cli/sweep-command.js";
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
    expect(r.out).toMatch(/^error retry-http-invalid: HTTPRoute shop\/orders-get metadata\.annotations\["retry\.linkerd\.io\/http"\]\n {4}\S*retry-space\.yaml:\d+:\d+: /);
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

describe("meshsim --version", () => {
  it("prints meshsim's version from its package.json and the Linkerd version it simulates", () => {
    const pkg = JSON.parse(readFileSync("package.json", "utf8")) as { version: string };
    const r = spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", "--version"], { encoding: "utf8", timeout: 60_000 });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`meshsim ${pkg.version} (simulates Linkerd 2.16)\n`);
    expect(r.stderr).toBe("");
  });
});

describe("--json input errors", () => {
  /** The one object on stdout; anything else there fails the test. */
  const only = (out: string): unknown => {
    expect(out.split("\n")).toHaveLength(1);
    return JSON.parse(out);
  };

  it("run: a scenario with a mistake is {ok: false, errors} with file:line:col and the suggestion, exit 2", () => {
    const file = scenario("json-bad.yaml", SMALL.replace("duration: 5s", "duration: 5s\nwarmpu: 1s"));
    const r = capture((o, e) => runCommand([file], { json: true }, o, e));
    expect(r.code).toBe(2);
    expect(only(r.out)).toEqual({ ok: false, errors: [expect.objectContaining({ file, line: 4, col: 1, suggestion: "warmup" })] });
  });

  it("run: a missing file", () => {
    const file = join(scratch, "missing.yaml");
    const r = capture((o, e) => runCommand([file], { json: true }, o, e));
    expect(r.code).toBe(2);
    expect(only(r.out)).toEqual({ ok: false, errors: [{ file, line: 0, col: 0, path: "", message: expect.stringMatching(/^cannot read the scenario: ENOENT/) }] });
  });

  it("run: a bad --set", () => {
    const r = capture((o, e) => runCommand([scenario("json-set.yaml", SMALL)], { json: true, set: ["rate"] }, o, e));
    expect(r.code).toBe(2);
    expect(only(r.out)).toEqual({ ok: false, errors: [{ file: "", line: 0, col: 0, path: "", message: "--set rate: expected name=value" }] });
  });

  it("check: a missing file, and an unrendered Helm template at its first action", () => {
    const missing = capture((o, e) => checkCommand([join(scratch, "nope.yaml")], { json: true }, o, e));
    expect(missing.code).toBe(2);
    expect(only(missing.out)).toEqual({ ok: false, errors: [{ file: join(scratch, "nope.yaml"), line: 0, col: 0, path: "", message: "cannot read this file" }] });
    const helm = capture((o, e) => checkCommand(["test/fixtures/real-shapes/helm-template/podinfo/templates/deployment.yaml"], { json: true }, o, e));
    expect(helm.code).toBe(2);
    expect(only(helm.out)).toEqual({
      ok: false,
      errors: [
        {
          file: "test/fixtures/real-shapes/helm-template/podinfo/templates/deployment.yaml",
          line: 4,
          col: 9,
          path: "",
          message: 'an unrendered Helm template: {{ template "podinfo.fullname" . }} is a template action, not YAML',
          expected: "the manifests Helm renders: run `helm template RELEASE test/fixtures/real-shapes/helm-template/podinfo -f VALUES` and load its output",
        },
      ],
    });
  });

  it("sweep: a missing scenario is reported once, before any point runs", async () => {
    const file = join(scratch, "missing-sweep.yaml");
    const out: string[] = [];
    const code = await sweepCommand(file, { vary: ["rate=10/s,20/s"], workers: 1, json: true }, (s) => out.push(s), () => {});
    expect(code).toBe(2);
    expect(only(out.join("\n"))).toEqual({ ok: false, errors: [{ file, line: 0, col: 0, path: "", message: expect.stringMatching(/^cannot read the scenario/) }] });
  });
});

describe("manifest directories and skipped input", () => {
  const patches = "test/fixtures/real-shapes/json-patch";
  const skipped = (file: string, line: number) => `warning: ${file}:${line}:1: a JSON patch, not an object: skipped; apply it with kubectl patch and load the result`;

  it("check: a directory argument is its manifests; a JSON patch in it is a warning on stderr, not an error", () => {
    const r = capture((o, e) => checkCommand([patches], {}, o, e));
    expect(r.code).toBe(0);
    expect(r.err.split("\n")).toEqual([skipped(`${patches}/inject-annotation.yaml`, 2), skipped(`${patches}/retry-annotation.json`, 1)]);
  });

  it("run: the warnings of a scenario's manifests are printed, and the run goes on", () => {
    const file = scenario("with-patches.yaml", SMALL.replace("  - name: c\n", `  - name: c\n    manifests: [${resolve(patches)}]\n`));
    // The scenario lies in a scratch directory and names the fixtures by absolute path, so they
    // are allowed explicitly (a scenario reads only below its own directory by default).
    const r = capture((o, e) => runCommand([file], { json: true, manifestsRoot: resolve(patches) }, o, e));
    expect(r.code).toBe(0);
    expect(r.err).toContain(skipped(`${resolve(patches)}/inject-annotation.yaml`, 2));
    expect((JSON.parse(r.out) as { ok?: boolean; digest?: string }).digest).toBeDefined();
  });
});
