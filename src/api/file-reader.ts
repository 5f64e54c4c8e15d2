// The file system as the loaders see it — reads and globs, nothing else — shared by the library
// and the CLI; `textReader` serves one scenario from memory and the rest from disk.

import { readFileSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { globSync } from "tinyglobby";
import type { SourceReader } from "../k8s/load.js";

/** Reads and globs on the real file system; patterns without glob characters name one file. */
export const diskReader: SourceReader = {
  read(path: string): string {
    return readFileSync(path, "utf8");
  },
  glob(pattern: string, baseDir: string): string[] {
    if (!/[*?[\]{}]/.test(pattern)) {
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
};

/** `diskReader`, except that reading `path` returns `text` (the scenario never has to exist on disk). */
export function textReader(path: string, text: string): SourceReader {
  return {
    read: (p) => (p === path ? text : diskReader.read(p)),
    glob: (pattern, baseDir) => diskReader.glob(pattern, baseDir),
  };
}
