import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { textReader } from "../../src/api/file-reader.js";
import { fileReader } from "../../src/cli/files.js";
import { DEFAULT_BEHAVIOR } from "../../src/mesh/defaults.js";
import type { BehaviorSpec } from "../../src/mesh/spec.js";
import { rateAt } from "../../src/mesh/traffic.js";
import { behaviorFor } from "../../src/mesh/world.js";
import { loadScenario } from "../../src/scenario/load.js";
import { runWorldSpec } from "../../src/scenario/run.js";

const behavior = (select: BehaviorSpec["select"], concurrency: number): BehaviorSpec => ({ ...DEFAULT_BEHAVIOR, select, concurrency });

describe("behaviour selection", () => {
  const entries = [behavior({}, 1), behavior({ deployment: "auth" }, 2), behavior({ namespace: "pay", deployment: "auth" }, 3), behavior({ deployment: "auth" }, 4)];
  it("picks the entry naming the most of cluster, namespace and deployment", () => {
    expect(behaviorFor(entries, "east", "pay", "auth").concurrency).toBe(3);
  });
  it("breaks ties by list order", () => {
    expect(behaviorFor(entries, "east", "other", "auth").concurrency).toBe(2);
  });
  it("falls back to the catch-all entry, then to the default", () => {
    expect(behaviorFor(entries, "east", "pay", "web").concurrency).toBe(1);
    expect(behaviorFor([], "east", "pay", "web")).toBe(DEFAULT_BEHAVIOR);
  });
});

describe("the default behaviour", () => {
  it("equals what the schema gives a behaviour entry that sets nothing", () => {
    const text = "name: d\nseed: 1\nduration: 1s\nclusters: [{name: c, services: [{name: api, namespace: app}]}]\nbehavior: [{}]\n";
    const file = resolve("in-memory.yaml");
    const loaded = loadScenario(file, textReader(file, text));
    if (!loaded.ok) throw new Error("should load");
    expect(loaded.spec.behavior[0]).toEqual(DEFAULT_BEHAVIOR);
  });
});

describe("rate schedules", () => {
  const schedule = [
    { atUs: 0, rateRps: 100 },
    { atUs: 10_000_000, rateRps: 100, rampToRps: 300, overUs: 10_000_000 },
    { atUs: 30_000_000, rateRps: 50 },
  ];
  it.each([
    [0, 100],
    [9_999_999, 100],
    [10_000_000, 100],
    [15_000_000, 200],
    [20_000_000, 300],
    [29_000_000, 300],
    [30_000_000, 50],
  ])("at %d µs the rate is %d/s", (atUs, rate) => {
    expect(rateAt(schedule, atUs)).toBe(rate);
  });
  it("is zero before the first point", () => {
    expect(rateAt([{ atUs: 5, rateRps: 10 }], 0)).toBe(0);
  });
});

describe("running in slices", () => {
  it("gives the same digest as one uninterrupted run", () => {
    const loaded = loadScenario(resolve(join("scenarios", "retry-storms", "fail-fast.yaml")), fileReader);
    if (!loaded.ok) throw new Error("fixture should load");
    const whole = runWorldSpec(loaded.spec);
    const fractions: number[] = [];
    const sliced = runWorldSpec(loaded.spec, { onProgress: (f) => fractions.push(f) });
    expect(sliced.world.digest).toBe(whole.world.digest);
    expect(fractions.length).toBe(200);
    expect(fractions[fractions.length - 1]).toBe(1);
  });
});
