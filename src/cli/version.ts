// `meshsim --version`: meshsim's own version, read from its package.json at run time so that it is
// the installed package's, and the Linkerd version whose semantics it simulates.

import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { LINKERD_VERSION } from "../policy/linkerd-version.js";

/**
 * The `version` of the meshsim package.json above this module: two levels up from `src/cli/` when
 * run from source, three from `dist/src/cli/` when built. "unknown" when neither is readable.
 */
export function meshsimVersion(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const up of [2, 3]) {
    const file = join(here, ...Array<string>(up).fill(".."), "package.json");
    try {
      const pkg = JSON.parse(readFileSync(file, "utf8")) as { name?: unknown; version?: unknown };
      if (pkg.name === "meshsim" && typeof pkg.version === "string") return pkg.version;
    } catch {
      // Not this level: try the next.
    }
  }
  return "unknown";
}

/** `meshsim 0.1.0 (simulates Linkerd 2.16)`. */
export function versionLine(): string {
  return `meshsim ${meshsimVersion()} (simulates Linkerd ${LINKERD_VERSION})`;
}
