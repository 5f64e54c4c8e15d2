// The run digest is what users compare ("run twice, compare digests"), so it must cover what they
// compare: every request's completion instant and outcome, not only the trace records.

import { describe, expect, it } from "vitest";
import { World } from "../../src/mesh/world.js";
import { specFromText } from "../support/spec-from-text.js";

function digest(serviceTime: string): string {
  const text = `name: d
seed: 1
duration: 2s
clusters:
  - name: c
    services:
      - {name: api, namespace: app}
      - {name: client, namespace: app}
behavior:
  - select: {deployment: api}
    latency: {dist: constant, value: ${serviceTime}}
traffic:
  - {name: calls, from: {namespace: app, deployment: client}, to: "http://api.app.svc.cluster.local/", arrivals: constant, rate: 10/s}
`;
  return new World(specFromText(text, "digest.yaml")).run().digest;
}

describe("the run digest", () => {
  it("is the same for the same scenario and seed", () => {
    expect(digest("1ms")).toBe(digest("1ms"));
  });

  it("changes when one service time changes by 1 µs, though every request still succeeds", () => {
    expect(digest("1001us")).not.toBe(digest("1ms"));
  });
});
