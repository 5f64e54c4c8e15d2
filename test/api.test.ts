// The library API as a user's own test suite meets it: runScenario returns data (never exits,
// prints or throws on bad input), and the query helpers measure exactly what `expect:` measures.

import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { expectation, metric, runScenario, runScenarioText, timeline, type ScenarioResult } from "../src/index.js";
import { jsonSummary } from "../src/report/summary.js";
import { findingsJson } from "../src/scenario/findings.js";
import { smallScenario } from "./support/small-scenario.js";

const EMOJIVOTO = resolve(import.meta.dirname, "../scenarios/emojivoto.yaml");

const SMALL = smallScenario();

function okRun(r: ScenarioResult) {
  if (!r.ok) throw new Error(`expected the scenario to load: ${r.errors.map((e) => e.message).join("; ")}`);
  return r;
}

const emojivoto = okRun(runScenario(EMOJIVOTO));
const run = emojivoto.run;

describe("runScenario", () => {
  it("runs emojivoto, meets its expectations and returns the --json summary without wall time", () => {
    expect(emojivoto.result["scenario"]).toBe("emojivoto");
    expect(emojivoto.result["pass"]).toBe(true);
    expect(emojivoto.result).not.toHaveProperty("wallSeconds");
    const { wallSeconds: _, ...expected } = jsonSummary(run, 0, findingsJson(emojivoto.findings));
    expect(emojivoto.result).toEqual(expected);
  });

  it("returns what `meshsim check` finds and what is not simulated, in the result as in `run --json`", () => {
    expect(emojivoto.findings.diagnostics).toEqual([]);
    expect(emojivoto.findings.notSimulated.entries).toEqual([]);
    expect(emojivoto.result["diagnostics"]).toEqual([]);
    expect(emojivoto.result["ignoredKinds"]).toEqual([{ kind: "ServiceAccount", count: 3, objects: ["ServiceAccount emojivoto/emoji", "ServiceAccount emojivoto/voting", "ServiceAccount emojivoto/web"] }]);
    const shapes = okRun(runScenario(resolve(import.meta.dirname, "fixtures/real-shapes/unsupported-kinds/scenario.yaml")));
    // Flagger's Canary is simulated; its autoscalerRef is not, and says so.
    expect(shapes.findings.diagnostics.map((d) => [d.severity, d.code])).toEqual([["warning", "canary-not-simulated"], ...Array.from({ length: 5 }, () => ["warning", "retry-non-idempotent"])]);
    expect(shapes.findings.notSimulated.entries.map((e) => e.kind ?? e.field)).toContain("Server");
    expect(shapes.result["notSimulated"]).toEqual(shapes.findings.notSimulated.entries);
  });

  it("gives the same digest and summary when run again with the same seed", () => {
    const again = okRun(runScenario(EMOJIVOTO));
    expect(again.result["digest"]).toBe(run.world.digest);
    expect(again.result).toEqual(emojivoto.result);
  });

  it("takes a seed override, which changes the run", () => {
    const a = okRun(runScenarioText(SMALL, import.meta.dirname));
    const b = okRun(runScenarioText(SMALL, import.meta.dirname, { seed: "2" }));
    expect([a.result["seed"], b.result["seed"]]).toEqual(["1", "2"]);
    expect(b.result["digest"]).not.toBe(a.result["digest"]);
  });

  it.each([
    ["a misspelt key", SMALL.replace("duration: 5s", "duration: 5s\nwarmpu: 1s"), /warmpu/],
    ["a bad duration", SMALL.replace("duration: 5s", "duration: 5 seconds"), /duration/],
    ["YAML that does not parse", "name: [unclosed", /./],
  ])("returns errors instead of throwing for %s", (_what, text, mentions) => {
    const r = runScenarioText(text, import.meta.dirname);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.length).toBeGreaterThan(0);
    expect(r.errors.map((e) => `${e.path} ${e.message}`).join("\n")).toMatch(mentions);
    expect(r.errors.every((e) => e.file === "scenario.yaml")).toBe(true);
  });

  it("returns an error for a file that does not exist", () => {
    const r = runScenario(resolve(import.meta.dirname, "no-such-scenario.yaml"));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors[0]?.message).toMatch(/cannot read the scenario/);
  });

  it("rejects a --set of an undeclared param as input, not as a throw", () => {
    const r = runScenarioText(SMALL, import.meta.dirname, { set: { nope: "1" } });
    expect(r.ok).toBe(false);
  });
});

describe("metric", () => {
  const metricExpectations = run.spec.expect.flatMap((e) => (e.kind === "metric" ? [e] : []));

  it("has metric expectations in emojivoto to compare against", () => {
    expect(metricExpectations.length).toBeGreaterThanOrEqual(4);
  });

  it.each(metricExpectations.map((e) => [e.name, e] as const))("measures what the expectation measured: %s", (name, e) => {
    expect(metric(run, e.metric, e.where, e.window)).toBe(expectation(run, name).measured);
    expect(metric(run, e.metric, e.where)).toBe(expectation(run, name).measured);
  });

  it("reads window bounds as human durations or microseconds (emojivoto: warmup 10s, duration 5m)", () => {
    const byDefault = metric(run, "successRate", { traffic: "vote" });
    expect(metric(run, "successRate", { traffic: "vote" }, ["10s", "5m"])).toBe(byDefault);
    expect(metric(run, "successRate", { traffic: "vote" }, [10_000_000, 300_000_000])).toBe(byDefault);
  });

  it("answers a later window with fewer requests than the whole run", () => {
    const whole = metric(run, "requests", { traffic: "list" }) as number;
    const lastMinute = metric(run, "requests", { traffic: "list" }, ["4m", "5m"]) as number;
    expect(lastMinute).toBeGreaterThan(0);
    expect(lastMinute).toBeLessThan(whole / 3);
  });

  it.each([
    [["5m", "1m"], /empty/],
    [["10 s", "5m"], /window bound/],
    [["1", "5m"], /no unit/],
  ] as const)("throws on the mistaken window %j", (window, message) => {
    expect(() => metric(run, "requests", {}, window)).toThrow(message);
  });
});

describe("timeline and expectation", () => {
  it("splits vote-bot's timeline by traffic: list and vote add up to all it sent", () => {
    const client = "demo/emojivoto/vote-bot";
    const sum = (where: Parameters<typeof timeline>[1]) => timeline(run, where).reduce((n, p) => n + p.requests, 0);
    expect(sum({ client, traffic: "list" }) + sum({ client, traffic: "vote" })).toBe(sum({ client }));
    expect(sum({ client, traffic: "list" })).toBeGreaterThanOrEqual(metric(run, "requests", { client, traffic: "list" }) as number);
    expect(timeline(run)[0]?.startUs).toBe(0);
  });

  it("finds an expectation by name and names the others when it cannot", () => {
    expect(expectation(run, "no vote is ever retried")).toMatchObject({ pass: true, measured: 0 });
    expect(() => expectation(run, "no vote is retried")).toThrow(/no expectation named "no vote is retried".*\n.*no vote is ever retried/s);
  });
});
