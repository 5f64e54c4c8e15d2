// The file system as the loaders see it — reads, globs and directory listings, nothing else —
// shared by the library and the CLI; `textReader` serves one scenario from memory and the rest
// from disk.

import { readdirSync, readFileSync, realpathSync, statSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { globSync } from "tinyglobby";
import type { SourceReader } from "../k8s/load.js";

const GLOB_CHARS = /[*?[\]{}]/;

/** Reads and globs on the real file system; patterns without glob characters name one file. */
/** Larger files are refused: no manifest or scenario is this big, and reading one must stay cheap. */
export const MAX_INPUT_BYTES = 32 * 1024 * 1024;

export const diskReader: SourceReader = {
  read(path: string): string {
    // Only regular files: a device or a FIFO could block or never end.
    const info = statSync(path);
    if (!info.isFile()) throw new Error("not a regular file");
    if (info.size > MAX_INPUT_BYTES) throw new Error(`larger than ${MAX_INPUT_BYTES / 1024 / 1024} MiB`);
    return readFileSync(path, "utf8");
  },
  realPath(path: string): string {
    return realpathSync(path);
  },
  glob(pattern: string, baseDir: string): string[] {
    if (!GLOB_CHARS.test(pattern)) {
      const p = isAbsolute(pattern) ? pattern : resolve(baseDir, pattern);
      try {
        // stat, not read: opening a FIFO to test it would block.
        return statSync(p).isFile() ? [p] : [];
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
    realPath: (p) => (p === path ? p : diskReader.realPath?.(p) ?? p),
    glob: (pattern, baseDir) => diskReader.glob(pattern, baseDir),
    filesInDirectory: (p, baseDir) => diskReader.filesInDirectory(p, baseDir),
  };
}
