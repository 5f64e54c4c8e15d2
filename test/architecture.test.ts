// The layering and determinism rules of design/architecture.md, enforced by reading the source.
//   src/policy  imports nothing outside src/policy (no packages, no Node built-ins)
//   src/sim     imports only src/sim and seedrandom
//   src/k8s, src/mesh, src/scenario, src/report follow the arrows cli → scenario → mesh → policy/sim
//   outside src/cli: no Math.random, Date, performance.now, timers, process.hrtime
//   in sim/policy/mesh/api: no async/await or promises (api is the synchronous library front door)

import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const src = join(root, "src");

function tsFiles(dir: string): string[] {
  let out: string[] = [];
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out = out.concat(tsFiles(p));
    else if (e.name.endsWith(".ts")) out.push(p);
  }
  return out;
}

/** Strip comments and string contents so prose and messages do not trip the scanners. */
function codeOnly(text: string): string {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/(^|[^:\\])\/\/.*$/gm, "$1")
    .replace(/`(?:\\.|[^`\\])*`/g, "``")
    .replace(/"(?:\\.|[^"\\\n])*"/g, '""')
    .replace(/'(?:\\.|[^'\\\n])*'/g, "''");
}

function importsOf(text: string): string[] {
  const specs: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^;]*?\bfrom\s*["']([^"']+)["']/g)) specs.push(m[1] as string);
  for (const m of text.matchAll(/\bimport\s*\(\s*["']([^"']+)["']\s*\)/g)) specs.push(m[1] as string);
  for (const m of text.matchAll(/(?:^|\n)\s*import\s*["']([^"']+)["']/g)) specs.push(m[1] as string);
  return specs;
}

/** Layer of a file under src/ ("sim", "policy", ...). */
const layerOf = (file: string) => relative(src, file).split(sep)[0] as string;

/** Which layers (and packages) each layer may import. */
const ALLOWED: Record<string, { layers: string[]; packages: RegExp }> = {
  sim: { layers: ["sim"], packages: /^seedrandom$/ },
  policy: { layers: ["policy"], packages: /^$/ },
  k8s: { layers: ["k8s", "policy"], packages: /^(yaml|zod|re2js)$/ },
  mesh: { layers: ["mesh", "sim", "policy", "k8s"], packages: /^(hdr-histogram-js)$/ },
  scenario: { layers: ["scenario", "mesh", "sim", "policy", "k8s"], packages: /^(yaml|zod|d3-array)$/ },
  report: { layers: ["report", "scenario", "mesh", "sim", "policy", "k8s"], packages: /^(d3-array|vega|vega-lite)$/ },
  // The library's front door: like cli it reads files, but keeps the clock and async bans.
  api: { layers: ["api", "scenario", "report", "mesh", "sim", "policy", "k8s"], packages: /^(node:fs|node:path|tinyglobby)$/ },
  // Swarm testing: generates scenarios and runs them through the same calls as the library, synchronously.
  swarm: { layers: ["swarm", "api", "report", "scenario", "mesh", "sim", "policy", "k8s"], packages: /^(yaml|node:path)$/ },
  cli: { layers: ["cli", "swarm", "api", "report", "scenario", "mesh", "sim", "policy", "k8s"], packages: /.*/ },
};

const files = tsFiles(src);

function violations(check: (file: string, code: string, raw: string) => string[]): string[] {
  return files.flatMap((f) => {
    const raw = readFileSync(f, "utf8");
    return check(f, codeOnly(raw), raw).map((v) => `${relative(root, f)}: ${v}`);
  });
}

describe("architecture", () => {
  it("has source files to check", () => {
    expect(files.some((f) => layerOf(f) === "sim")).toBe(true);
    expect(files.some((f) => layerOf(f) === "policy")).toBe(true);
  });

  it("every layer imports only what the layer map allows", () => {
    const bad = violations((file, _code, raw) => {
      const layer = layerOf(file);
      if (!file.startsWith(src + sep) || relative(src, file).split(sep).length === 1) return []; // src/index.ts: the library's front door
      const rule = ALLOWED[layer];
      if (rule === undefined) return [`unknown layer "${layer}"`];
      return importsOf(raw).flatMap((spec) => {
        if (spec.startsWith(".")) {
          const target = resolve(dirname(file), spec);
          if (!target.startsWith(src + sep)) return [`imports ${spec} from outside src/`];
          const targetLayer = layerOf(target);
          return rule.layers.includes(targetLayer) ? [] : [`${layer} must not import ${targetLayer} (${spec})`];
        }
        const pkg = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : (spec.split("/")[0] as string);
        return rule.packages.test(pkg) ? [] : [`${layer} must not import package ${spec}`];
      });
    });
    expect(bad).toEqual([]);
  });

  it("nothing outside src/cli reads the wall clock, ambient randomness or timers", () => {
    const banned = /\bMath\.random\b|\bDate\b|\bperformance\.now\b|\bset(?:Timeout|Interval|Immediate)\b|\bprocess\.hrtime\b|\bqueueMicrotask\b/g;
    const bad = violations((file, code) =>
      layerOf(file) === "cli" ? [] : [...code.matchAll(banned)].map((m) => `uses ${m[0]}`),
    );
    expect(bad).toEqual([]);
  });

  it("sim, policy, mesh and api use no async/await or promises", () => {
    const banned = /\basync\b|\bawait\b|\bPromise\b|\.then\(/g;
    const bad = violations((file, code) =>
      ["sim", "policy", "mesh", "api"].includes(layerOf(file)) ? [...code.matchAll(banned)].map((m) => `uses ${m[0]}`) : [],
    );
    expect(bad).toEqual([]);
  });

  it("policy uses no Node built-ins or globals like process", () => {
    const bad = violations((file, code) =>
      layerOf(file) === "policy" ? [...code.matchAll(/\b(process|globalThis|require|Buffer)\b/g)].map((m) => `uses ${m[0]}`) : [],
    );
    expect(bad).toEqual([]);
  });

  it("the scanners catch what they are meant to catch", () => {
    expect(importsOf('import { x } from "../mesh/world.js";\nexport * from "./a.js";')).toEqual(["../mesh/world.js", "./a.js"]);
    expect(codeOnly('const s = "Math.random"; // Date.now\nMath.random();')).toMatch(/Math\.random\(\)/);
    expect(codeOnly('const s = "Math.random"; // Date.now')).not.toMatch(/Math\.random|Date/);
  });
});
