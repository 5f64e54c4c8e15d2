#!/usr/bin/env node
// Entry point installed as `meshsim`; the CLI itself is compiled from src/cli (npm ci builds it).
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const main = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "src", "cli", "main.js");
if (!existsSync(main)) {
  process.stderr.write("meshsim is not built yet: run `npm ci` (or `npm run build`) in the meshsim folder first.\n");
  process.exit(2);
}
await import(main);
