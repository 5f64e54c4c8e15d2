// The fuzzer's bounded slice in `npm test`: 2 000 mutated scenarios from `scenarios/`, each judged
// through the library in a worker under a watchdog. Every one must end as bad input with
// well-formed diagnostics, a run with no invariant broken, or a refusal by the event-count guard.
// The cases come from the suite's fast-check seed (FC_SEED), so CI explores the same ones each
// time; a failure prints fast-check's seed and path, the shrunk case as YAML, and the command that
// replays it (`npm run fuzz -- --seed S --path P ...`). `npm run fuzz` runs many more.

import fc from "fast-check";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fuzzBases, replayCommand } from "./fuzz.js";
import { fuzzCase } from "./draw.js";
import { renderCase } from "./mutations.js";
import { FAILURES, type OutcomeKind } from "./oracle.js";
import { CasePool } from "./pool.js";

/** Simulated seconds a case runs at most, and the event guard's limit: both keep a case to milliseconds. */
const DURATION_CAP_S = 0.5;
const MAX_EVENTS = 50_000;
const CASES = 2_000;

describe("2 000 structurally mutated scenarios", () => {
  const bases = fuzzBases(DURATION_CAP_S * 1e6);
  let pool: CasePool;
  beforeAll(() => {
    pool = new CasePool({ workers: 1, watchdogMs: 10_000, memoryMb: 1024, limits: { maxEvents: MAX_EVENTS, baseDir: mkdtempSync(join(tmpdir(), "meshsim-fuzz-")) } });
  });
  afterAll(async () => {
    await pool.close();
  });

  it("each end as bad input, a run with no invariant broken, or a refusal by the event guard", async () => {
    const seen: Partial<Record<OutcomeKind, number>> = {};
    const seed = fc.readConfigureGlobal().seed ?? 0;
    await fc.assert(
      fc.asyncProperty(fuzzCase(bases.length), async (c) => {
        const yaml = renderCase(c, bases);
        const outcome = await pool.run(yaml);
        seen[outcome.kind] = (seen[outcome.kind] ?? 0) + 1;
        if (FAILURES.has(outcome.kind)) {
          throw new Error(
            `${outcome.kind}: ${outcome.detail}\nreplay the path fast-check prints below with: ${replayCommand(seed, "PATH", DURATION_CAP_S, MAX_EVENTS)}\n` +
              `--- scenario.yaml ---\n${yaml}`,
          );
        }
      }),
      { numRuns: CASES },
    );
    // The slice reaches every kind of acceptable end, so a generator that only ever produced
    // unloadable YAML (or only valid scenarios) would fail here.
    expect(seen["input-error"] ?? 0).toBeGreaterThan(CASES / 4);
    expect(seen.run ?? 0).toBeGreaterThan(CASES / 10);
    expect(seen.guarded ?? 0).toBeGreaterThan(0);
  }, 300_000);
});
