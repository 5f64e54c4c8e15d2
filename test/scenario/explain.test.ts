// `meshsim explain`: the normalised scenario as plain data, every default filled in, in the
// scenario's own vocabulary — so complete that it loads back into the same world.

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { describeObject } from "../../src/k8s/object.js";
import type { WorldSpec } from "../../src/mesh/spec.js";
import { loadScenario } from "../../src/scenario/load.js";
import { filesBelow, memoryReader, positionOf } from "./memory-reader.js";

const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), "../fixtures/scenario/payments");

function loadOk(file: string, files: Record<string, string>) {
  const r = loadScenario(file, memoryReader(files));
  if (!r.ok) throw new Error(JSON.stringify(r.errors, null, 1));
  return r;
}

/** The world without object identities (positions differ between the two loads by design). */
function comparable(w: WorldSpec) {
  return { ...w, clusters: w.clusters.map((c) => ({ ...c, objects: c.objects.map((o) => [describeObject(o), o.raw]) })) };
}

describe("explain", () => {
  it("fills every default of a minimal scenario, durations and rates as text", () => {
    const yaml = "name: tiny\nseed: 3\nduration: 1m\nclusters: [{name: c, services: [{name: a}]}]\nbehavior: [{select: {deployment: a}}]\n";
    const { explain } = loadOk("/t/tiny.yaml", { "/t/tiny.yaml": yaml });
    const { line, col } = positionOf(yaml, "{name: a}");
    const at = `tiny.yaml:${line}:${col}`;
    expect(explain).toEqual({
      name: "tiny",
      description: "",
      seed: "3",
      duration: "1m",
      warmup: "0s",
      params: {},
      clusters: [{ name: "c", trustAnchor: "root", domain: "cluster.local", loaded: [`Namespace default (${at})`, `Deployment default/a (${at})`, `Service default/a (${at})`] }],
      mesh: {
        trustAnchor: "root",
        proxy: { latency: { dist: "constant", value: "150us" } },
        controlPlane: {
          endpointsDelay: { dist: "uniform", min: "5ms", max: "50ms" },
          watchDelay: { dist: "uniform", min: "1ms", max: "10ms" },
          smiAdaptorDelay: { dist: "uniform", min: "3ms", max: "30ms" },
          propagationDelay: { dist: "uniform", min: "50ms", max: "300ms" },
        },
        failover: { mode: "readiness", reconcileDelay: { dist: "uniform", min: "2ms", max: "20ms" }, successRate: { window: "10s", threshold: 0.9, step: 0.25, interval: "1s", minSamples: 20 } },
        identity: { issuerValidity: "8760h", leafLifetime: "24h" },
        gateway: { concurrency: 10_000 },
      },
      links: [],
      dns: [],
      network: { podToPod: { dist: "lognormal", median: "200us", p99: "1ms" }, between: [] },
      behavior: [
        {
          select: { deployment: "a" },
          concurrency: 32,
          queueLimit: 512,
          latency: { dist: "exponential", mean: "1ms" },
          routes: [],
          errors: { rate: 0, status: 500 },
          calls: [],
          callMode: "sequential",
        },
      ],
      traffic: [],
      faults: [],
      changes: [],
      expect: [],
      report: { timeline: "1s", charts: ["rps", "successRate", "latency", "retries"] },
    });
  });

  it("loads back into the same world (objects written inline)", () => {
    const files = filesBelow(FIXTURE);
    const first = loadOk(join(FIXTURE, "scenario.yaml"), files);
    const clusters = (first.explain["clusters"] as Array<Record<string, unknown>>).map(({ loaded: _loaded, ...c }, i) => ({
      ...c,
      objects: first.spec.clusters[i]?.objects.map((o) => o.raw),
    }));
    const again = loadOk("/r/explained.yaml", { "/r/explained.yaml": stringify({ ...first.explain, clusters }) });
    expect(comparable(again.spec)).toEqual(comparable(first.spec));
    expect(again.explain).toEqual({ ...first.explain, clusters: expect.any(Array) });
  });

  it("shows async calls, call probabilities and a latencyAbove threshold, and loads them back", () => {
    const yaml = `name: fire
seed: 1
duration: 1m
clusters: [{name: c, services: [{name: a}, {name: b}]}]
behavior:
  - select: {deployment: a}
    calls: [{to: "http://b.default.svc.cluster.local/", async: true, probability: 0.25}, {to: "http://b.default.svc.cluster.local/x"}]
expect:
  - {name: slow, metric: latencyAbove, threshold: 50ms, where: {server: c/default/b}, atMost: 0.1}
`;
    const first = loadOk("/t/fire.yaml", { "/t/fire.yaml": yaml });
    expect(first.spec.behavior[0]?.calls).toEqual([
      { to: "http://b.default.svc.cluster.local/", method: "GET", required: true, afterResponse: true, probability: 0.25 },
      { to: "http://b.default.svc.cluster.local/x", method: "GET", required: true },
    ]);
    const calls = (first.explain["behavior"] as Array<Record<string, unknown>>)[0]?.["calls"] as Array<Record<string, unknown>>;
    expect(calls.map((c) => [c["async"], c["probability"]])).toEqual([[true, 0.25], [false, 1]]);
    expect(first.explain["expect"]).toEqual([
      { name: "slow", metric: "latencyAbove", threshold: "50ms", where: { server: "c/default/b" }, window: ["0s", "1m"], atMost: 0.1, seeds: { atLeast: 1 } },
    ]);
    const again = loadOk("/t/again.yaml", { "/t/again.yaml": stringify({ ...first.explain, clusters: [{ name: "c", services: [{ name: "a" }, { name: "b" }] }] }) });
    expect(again.spec.behavior).toEqual(first.spec.behavior);
    expect(again.spec.expect).toEqual(first.spec.expect);
  });
});
