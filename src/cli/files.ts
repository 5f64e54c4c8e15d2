// The file system as the loaders see it: the library's reader (reads and globs, nothing else).
export { diskReader as fileReader } from "../api/file-reader.js";

import { resolve } from "node:path";

/** `--manifests-root DIR` as a load option (absolute); absent ⇒ the scenario's own directory. */
export function manifestsRoot(dir: string | undefined): { manifestsRoot?: string } {
  return dir === undefined ? {} : { manifestsRoot: resolve(dir) };
}
