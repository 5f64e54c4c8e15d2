// Overlapping faults combine as the physical events would: every active fault is one effect on
// its target, the target shows their combination, and a heal removes only its own effect. Each
// expected state is worked out by hand from the fault timeline written in the test.

import { describe, expect, it } from "vitest";
import { combineDegradations } from "../../src/mesh/faults.js";
import { World } from "../../src/mesh/world.js";
import { specFromText } from "../support/spec-from-text.js";

const S = 1_000_000;

function world(faults: string): World {
  const text = `name: f
seed: 1
duration: 12s
clusters:
  - name: c
    services:
      - {name: api, namespace: app, replicas: 3, readinessProbe: {httpGet: {port: 80}, periodSeconds: 1, failureThreshold: 1}}
      - {name: client, namespace: app}
  - name: d
faults:
${faults}`;
  return new World(specFromText(text, "faults.yaml"));
}

/** Run the world, reading `probe()` at each instant (seconds); returns the readings in order. */
function sampled<T>(w: World, atS: number[], probe: () => T): T[] {
  const out: T[] = [];
  for (const t of atS) w.sim.scheduleAt(t * S, () => out.push(probe()), undefined);
  w.run();
  return out;
}

const api = (w: World) => w.clusters.get("c")?.deployments.get("app/api");

describe("overlapping faults", () => {
  it("combine degradations as independent causes: failures 1 − Π(1 − rᵢ), factors multiply", () => {
    expect(combineDegradations([{ errorRate: 0.1, latencyFactor: 2 }, { errorRate: 0.2, latencyFactor: 3, capacityFactor: 0.5 }])).toEqual({
      errorRate: 1 - 0.9 * 0.8,
      latencyFactor: 6,
      capacityFactor: 0.5,
    });
    expect(combineDegradations([])).toEqual({});
  });

  it("two degrades overlap, and healing the first leaves the second", () => {
    const w = world(`  - {at: 1s, until: 5s, degrade: {select: {deployment: api}, errorRate: 0.1}}
  - {at: 3s, until: 7s, degrade: {select: {deployment: api}, errorRate: 0.2}}
`);
    const rates = sampled(w, [2, 4, 6, 8], () => api(w)?.degradation.errorRate);
    expect(rates[0]).toBeCloseTo(0.1, 12);
    expect(rates[1]).toBeCloseTo(0.28, 12);
    expect(rates[2]).toBeCloseTo(0.2, 12);
    expect(rates[3]).toBeUndefined();
  });

  it("readiness stays failed until the last overlapping readinessFail heals", () => {
    const w = world(`  - {at: 1s, until: 5s, readinessFail: {select: {deployment: api}}}
  - {at: 3s, until: 7s, readinessFail: {select: {deployment: api}}}
`);
    expect(sampled(w, [2, 4, 6, 8], () => api(w)?.probeForcedFail)).toEqual([true, true, true, false]);
  });

  it("the latest active scale decides; when all heal, the replica count from before returns", () => {
    const w = world(`  - {at: 1s, until: 5s, scale: {select: {deployment: api}, replicas: 5}}
  - {at: 3s, until: 7s, scale: {select: {deployment: api}, replicas: 1}}
`);
    expect(sampled(w, [2, 4, 6, 8], () => api(w)?.desiredReplicas)).toEqual([5, 1, 1, 3]);
  });

  it("the control plane comes back only when every outage has healed", () => {
    const w = world(`  - {at: 1s, until: 5s, controlPlaneDown: {cluster: c}}
  - {at: 3s, until: 7s, controlPlaneDown: {cluster: c}}
`);
    expect(sampled(w, [2, 4, 6, 8], () => w.clusters.get("c")?.controlPlaneUp)).toEqual([false, false, false, true]);
  });

  it("partitions nest: the network heals with the last", () => {
    const w = world(`  - {at: 1s, until: 5s, partition: {between: [c, d]}}
  - {at: 3s, until: 7s, partition: {between: [c, d]}}
`);
    expect(sampled(w, [2, 4, 6, 8], () => w.network.reachable("c", "d"))).toEqual([false, false, false, true]);
  });

  it("extra latencies add up and each heal takes away its own", () => {
    const w = world(`  - {at: 1s, until: 5s, latency: {between: [c, d], add: 10ms}}
  - {at: 3s, until: 7s, latency: {between: [c, d], add: 30ms}}
`);
    const extra = sampled(w, [2, 4, 6, 8], () => w.network.extraLatencyUs("c", "d"));
    expect(extra).toEqual([10_000, 40_000, 30_000, 0]);
  });

  it("two rollout restarts 1 s apart leave the deployment at its replica count", () => {
    const w = world(`  - {at: 1s, restartPods: {select: {deployment: api}}}
  - {at: 2s, restartPods: {select: {deployment: api}}}
`);
    expect(sampled(w, [11], () => api(w)?.pods.filter((p) => p.alive).length)).toEqual([3]);
  });

  it("eight restarts in a row still leave three pods", () => {
    const faults = Array.from({ length: 8 }, (_, i) => `  - {at: ${1 + i * 0.2}s, restartPods: {select: {deployment: api}}}\n`).join("");
    const w = world(faults);
    expect(sampled(w, [11.5], () => api(w)?.pods.filter((p) => p.alive).length)).toEqual([3]);
  });
});
