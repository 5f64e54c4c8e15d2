// Every scenario in scenarios/ holds its expectations on seeds other than its own: `meshsim verify
// scenarios --seeds 3 --from 101` as part of `npm test` (about a minute and a half here; `npm run
// verify:deep` runs 50 seeds). A claim that held on one seed only fails here, with the seeds.

import { join } from "node:path";
import { expect, it } from "vitest";
import { verifyCommand } from "../src/cli/verify-command.js";
import { root } from "./scenario-suite.js";

it("every scenario in scenarios/ holds on three more seeds", async () => {
  const out: string[] = [];
  const code = await verifyCommand([join(root, "scenarios")], { seeds: 3, from: 101, workers: 1 }, (s) => out.push(s), (s) => out.push(s));
  const failing = out.filter((l) => /^\s*FAIL|reproduce:|failing seeds/.test(l));
  expect(failing).toEqual([]);
  expect(code).toBe(0);
}, 600_000);
