// The file system as the loaders see it — reads, globs and directory listings, nothing else —
// shared by the library and the CLI; `textReader` serves one scenario from memory and the rest
// from disk.

import { readdirSync, readFileSync, statSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { globSync } from "tinyglobby";
import type { SourceReader } from "../k8s/load.js";

const GLOB_CHARS = /[*?[\]{}]/;

/** Reads and globs on the real file system; patterns without glob characters name one file. */
export const diskReader: SourceReader = {
  read(path: string): string {
    return readFileSync(path, "utf8");
  },
  glob(pattern: string, baseDir: string): string[] {
    if (!GLOB_CHARS.test(pattern)) {
      const p = isAbsolute(pattern) ? pattern : resolve(baseDir, pattern);
      try {
        readFileSync(p);
        return [p];
      } catch {
        return [];
      }
    }
    return globSync(pattern, { cwd: baseDir, absolute: true, onlyFiles: true, expandDirectories: false }).sort();
  },
  filesInDirectory(path: string, baseDir: string): string[] | undefined {
    const dir = isAbsolute(path) ? resolve(path) : resolve(baseDir, path);
    try {
      if (!statSync(dir).isDirectory()) return undefined;
    } catch {
      return undefined;
    }
    // A symbolic link counts as what it points at, as it does for kubectl, which opens it.
    return readdirSync(dir)
      .map((name) => join(dir, name))
      .filter((p) => {
        try {
          return statSync(p).isFile();
        } catch {
          return false;
        }
      })
      .sort();
  },
};

/** `diskReader`, except that reading `path` returns `text` (the scenario never has to exist on disk). */
export function textReader(path: string, text: string): SourceReader {
  return {
    read: (p) => (p === path ? text : diskReader.read(p)),
    glob: (pattern, baseDir) => diskReader.glob(pattern, baseDir),
    filesInDirectory: (p, baseDir) => diskReader.filesInDirectory(p, baseDir),
  };
}
