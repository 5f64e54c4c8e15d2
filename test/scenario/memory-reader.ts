// An in-memory SourceReader for scenario tests: files by absolute path, globs with `*`, `**` and
// `?`, directories as the paths their files lie below, and a loader that copies a fixture
// directory into memory so tests never glob the disk.

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { SourceReader } from "../../src/k8s/load.js";

export function memoryReader(files: Record<string, string>): SourceReader {
  return {
    read(path) {
      const text = files[path];
      if (text === undefined) throw new Error(`ENOENT: no such file ${path}`);
      return text;
    },
    glob(pattern, baseDir) {
      const full = pattern.startsWith("/") ? pattern : `${baseDir.replace(/\/$/, "")}/${pattern}`;
      const re = new RegExp(`^${full.split("**").map((part) => part.replace(/[.+^${}()|\\]/g, "\\$&").replace(/\*/g, "[^/]*").replace(/\?/g, "[^/]")).join(".*")}$`);
      return Object.keys(files).filter((f) => re.test(f)).sort();
    },
    filesInDirectory(path, baseDir) {
      const dir = (path.startsWith("/") ? path : `${baseDir.replace(/\/$/, "")}/${path}`).replace(/\/+$/, "").replace(/\/\.(?=\/|$)/g, "");
      const below = Object.keys(files).filter((f) => f.startsWith(`${dir}/`));
      if (below.length === 0) return undefined;
      return below.filter((f) => !f.slice(dir.length + 1).includes("/")).sort();
    },
  };
}

/** Every file below `dir`, keyed by absolute path. */
export function filesBelow(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) Object.assign(out, filesBelow(path));
    else out[path] = readFileSync(path, "utf8");
  }
  return out;
}

/** 1-based line and column of the `nth` (0-based) occurrence of `needle` in `text`. */
export function positionOf(text: string, needle: string, nth = 0): { line: number; col: number } {
  let at = -1;
  for (let i = 0; i <= nth; i++) {
    at = text.indexOf(needle, at + 1);
    if (at < 0) throw new Error(`"${needle}" occurs fewer than ${nth + 1} times`);
  }
  const before = text.slice(0, at);
  const line = before.split("\n").length;
  return { line, col: at - before.lastIndexOf("\n") };
}
