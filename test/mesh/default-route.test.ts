// Linkerd's `viz routes` names requests on no user-defined route `[DEFAULT]`; meshsim's tables,
// JSON and metric labels spell it the same way, and a filter may write it in any case.

import { describe, expect, it } from "vitest";
import { metric, runScenarioText } from "../../src/index.js";
import { smallScenario } from "../support/small-scenario.js";

describe("the default route", () => {
  const r = runScenarioText(smallScenario({ duration: "2s", rate: "10/s" }), "/tmp");
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join("\n"));

  it("is [DEFAULT] in the routes table of a Service without routes", () => {
    expect((r.result["routes"] as Array<{ route: string }>).map((row) => row.route)).toEqual(["[DEFAULT]"]);
  });

  it("is selected by a filter written [DEFAULT] or [default]", () => {
    const all = metric(r.run, "requests", {});
    expect(all).toBeGreaterThan(0);
    expect(metric(r.run, "requests", { route: "[DEFAULT]" })).toBe(all);
    expect(metric(r.run, "requests", { route: "[default]" })).toBe(all);
  });
});
