// A scenario from a pull request runs in CI: it may read manifests only inside its own directory
// tree (unless the caller widens it), only regular files, and only files of a sane size.

import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runScenario } from "../src/api/run-scenario.js";

const SERVICE = "apiVersion: v1\nkind: Service\nmetadata: {name: api}\nspec: {selector: {app: api}, ports: [{port: 80}]}\n";

function tree(manifest: string): { dir: string; scenario: string } {
  const dir = mkdtempSync(join(tmpdir(), "meshsim-untrusted-"));
  mkdirSync(join(dir, "pr"));
  writeFileSync(join(dir, "outside.yaml"), SERVICE);
  writeFileSync(join(dir, "pr", "inside.yaml"), SERVICE);
  const scenario = join(dir, "pr", "scenario.yaml");
  writeFileSync(scenario, `name: t\nseed: 1\nduration: 1s\nclusters:\n  - name: c\n    manifests: [${JSON.stringify(manifest)}]\n`);
  return { dir, scenario };
}

function errorsOf(scenario: string, manifestsRoot?: string): string[] {
  const r = runScenario(scenario, manifestsRoot === undefined ? {} : { manifestsRoot });
  return r.ok ? [] : r.errors.map((e) => `${e.line}:${e.col} ${e.path}: ${e.message}`);
}

describe("manifests of an untrusted scenario", () => {
  it("a file inside the scenario's directory loads", () => {
    expect(errorsOf(tree("inside.yaml").scenario)).toEqual([]);
  });

  it("a `..` escape is refused at the manifests entry", () => {
    const errors = errorsOf(tree("../outside.yaml").scenario);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^6:17 clusters\[0\]\.manifests\[0\]: ".*\/outside\.yaml" lies outside .*pr once links are resolved/);
  });

  it("an absolute path outside is refused", () => {
    const { dir, scenario } = tree("/etc/hostname");
    writeFileSync(scenario, `name: t\nseed: 1\nduration: 1s\nclusters:\n  - name: c\n    manifests: [${JSON.stringify(join(dir, "outside.yaml"))}]\n`);
    expect(errorsOf(scenario)[0]).toMatch(/lies outside/);
  });

  it("a symbolic link inside that points outside is refused", () => {
    const { dir, scenario } = tree("link.yaml");
    symlinkSync(join(dir, "outside.yaml"), join(dir, "pr", "link.yaml"));
    expect(errorsOf(scenario)[0]).toMatch(/"link\.yaml" lies outside/);
  });

  it("--manifests-root widens the tree", () => {
    const { dir, scenario } = tree("../outside.yaml");
    expect(errorsOf(scenario, dir)).toEqual([]);
  });

  it("a FIFO is refused without being opened", () => {
    const { dir, scenario } = tree("pipe.yaml");
    execFileSync("mkfifo", [join(dir, "pr", "pipe.yaml")]);
    // A glob or plain path matches only regular files, so the FIFO is no manifest at all.
    expect(errorsOf(scenario)[0]).toMatch(/matches no file/);
  });

  it("a file over 32 MiB is refused", () => {
    const { dir, scenario } = tree("big.yaml");
    writeFileSync(join(dir, "pr", "big.yaml"), `# ${"x".repeat(33 * 1024 * 1024)}\n`);
    expect(errorsOf(scenario)[0]).toMatch(/cannot read: larger than 32 MiB/);
  });
});

describe("manifests read through another reader", () => {
  it("a `..` escape is refused even when the reader resolves no links", async () => {
    const { loadScenario } = await import("../src/scenario/load.js");
    const { memoryReader } = await import("./scenario/memory-reader.js");
    const scenario = "name: t\nseed: 1\nduration: 1s\nclusters:\n  - name: c\n    manifests: [../x.yaml]\n";
    const r = loadScenario("/s/scenario.yaml", memoryReader({ "/s/scenario.yaml": scenario, "/s/../x.yaml": SERVICE }));
    expect(r.ok ? [] : r.errors.map((e) => e.message)).toEqual([expect.stringContaining('lies outside /s once links are resolved')]);
  });
});
