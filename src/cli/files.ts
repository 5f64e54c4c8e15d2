// The file system as the loaders see it: reads and globs, nothing else.

import { readFileSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { globSync } from "tinyglobby";
import type { SourceReader } from "../k8s/load.js";

export const fileReader: SourceReader = {
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
