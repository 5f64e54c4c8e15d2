// The identity scenarios and the mesh behaviour scenarios (see test/scenario-suite.ts), and the
// schedules behind the identity scenarios' counts: renewal attempts follow the proxy's refresh rule,
// handshake attempts the reconnect backoff, both recomputed here from the scenarios' settings.

import { describe, expect, it } from "vitest";
import type { WorldSpec } from "../src/mesh/spec.js";
import { POD_START_US } from "../src/mesh/defaults.js";
import { CONNECT_BACKOFF } from "../src/policy/config.js";
import { DEFAULT_CLOCK_SKEW_ALLOWANCE_US, DEFAULT_MIN_REFRESH_US } from "../src/policy/identity.js";
import type { DistributionSpec } from "../src/sim/distributions.js";
import { itRunsEveryScenario, loadSpec } from "./scenario-suite.js";

describe("identity scenarios", () => itRunsEveryScenario("scenarios/identity"));
describe("mesh behaviour scenarios", () => itRunsEveryScenario("test/fixtures/mesh"));

const S = 1_000_000;

function markBand(spec: WorldSpec, mark: string): [number, number] {
  const e = spec.expect.find((x) => x.kind === "reached" && x.mark === mark);
  if (e === undefined || e.kind !== "reached" || !("between" in e.bound)) throw new Error(`${spec.name}: no band on ${mark}`);
  return e.bound.between;
}

function faultAt(spec: WorldSpec, kind: string, nth = 0): number {
  const at = spec.faults.filter((f) => f.action.kind === kind)[nth]?.atUs;
  if (at === undefined) throw new Error(`${spec.name}: no ${kind} fault #${nth}`);
  return at;
}

function uniformUs(d: DistributionSpec): [number, number] {
  if (d.dist !== "uniform") throw new Error(`expected a uniform delay, got ${d.dist}`);
  return [d.minUs, d.maxUs];
}

/**
 * Renewals refused between `fromUs` and `untilUs` for a proxy whose leaf expires at `expiresUs`:
 * after each failure it waits 70 % of the remaining validity, at least the minimum refresh.
 */
function refusedRenewals(firstUs: number, expiresUs: number, untilUs: number): number {
  let count = 0;
  for (let t = firstUs; t < untilUs; count += 1) t += Math.max(DEFAULT_MIN_REFRESH_US, 0.7 * (expiresUs - t));
  return count;
}

/**
 * Handshakes tried on one endpoint from its discovery at `fromUs` until `untilUs`: one at once,
 * then one per reconnect backoff (100, 200, 400 ms with up to 10 % jitter, then 500 ms) plus the
 * connect's round trips (`connectUs`, TCP and TLS).
 */
function handshakes(fromUs: number, untilUs: number, connectUs: number, jitter: number): number {
  let count = 0;
  let t = fromUs + connectUs;
  for (let i = 0; t < untilUs; i += 1) {
    count += 1;
    const base = Math.min(CONNECT_BACKOFF.minUs * 2 ** i, CONNECT_BACKOFF.maxUs);
    t += base + Math.min(jitter * CONNECT_BACKOFF.jitterRatio * base, CONNECT_BACKOFF.maxUs - base) + connectUs;
  }
  return count;
}

/** The fewest and most handshakes: discovery 55–350 ms after `startUs`, round trips 0.5–2 ms, any jitter. */
function handshakeRange(spec: WorldSpec, startUs: number, untilUs: number): [number, number] {
  const [e0, e1] = uniformUs(spec.mesh.controlPlane.endpointsDelay);
  const [p0, p1] = uniformUs(spec.mesh.controlPlane.propagationDelay);
  return [handshakes(startUs + e1 + p1, untilUs, 2_000, 1), handshakes(startUs + e0 + p0, untilUs, 500, 0)];
}

describe("identity: the counts' schedules", () => {
  it("issuer-expiry: every renewal after the issuer's expiry is refused, on the refresh rule's schedule", () => {
    const spec = loadSpec("scenarios/identity/issuer-expiry.yaml");
    const expiresUs = spec.mesh.identity.leafLifetimeUs + DEFAULT_CLOCK_SKEW_ALLOWANCE_US;
    expect(faultAt(spec, "issuerExpire")).toBeLessThan(0.7 * expiresUs);
    const killUs = faultAt(spec, "killPods");
    const web = refusedRenewals(0.7 * expiresUs, expiresUs, spec.durationUs);
    const api = refusedRenewals(0.7 * expiresUs, expiresUs, killUs);
    // The replacements never hold a certificate: they ask every minimum refresh from their start.
    const replacement = Math.ceil((spec.durationUs - killUs - POD_START_US) / DEFAULT_MIN_REFRESH_US);
    const total = web + 2 * api + 2 * replacement;
    expect([web, api, replacement]).toEqual([62, 32, 30]);
    const band = markBand(spec, "identity.refresh-failed/issuer-expired");
    expect(band[0]).toBeLessThanOrEqual(total - 5);
    expect(band[1]).toBeGreaterThanOrEqual(total + 5);
    expect(band[1] - band[0]).toBeLessThanOrEqual(10);
  });

  it("issuer-expiry: web retries each replacement's handshake until the end", () => {
    const spec = loadSpec("scenarios/identity/issuer-expiry.yaml");
    const [lo, hi] = handshakeRange(spec, faultAt(spec, "killPods") + POD_START_US, spec.durationUs);
    const band = markBand(spec, "identity.handshake-failed");
    expect(band[0]).toBeLessThanOrEqual(2 * lo);
    expect(band[1]).toBeGreaterThanOrEqual(2 * hi);
    expect(band[1] - band[0]).toBeLessThanOrEqual(2 * (hi - lo) + 10);
  });

  it("anchor-rotation-skipped-restart: the old web retries the new api pods until it is replaced", () => {
    const spec = loadSpec("scenarios/identity/anchor-rotation-skipped-restart.yaml");
    const apiRestartUs = faultAt(spec, "restartPods", 0);
    const allRestartUs = faultAt(spec, "restartPods", 1);
    const webGoneUs = allRestartUs + POD_START_US;
    const [lo, hi] = handshakeRange(spec, apiRestartUs, webGoneUs);
    const [lateLo, lateHi] = handshakeRange(spec, allRestartUs, webGoneUs);
    const band = markBand(spec, "identity.handshake-failed");
    expect(band[0]).toBeLessThanOrEqual(2 * (lo + lateLo));
    expect(band[1]).toBeGreaterThanOrEqual(2 * (hi + lateHi));
    expect(band[1] - band[0]).toBeLessThanOrEqual(2 * (hi + lateHi - lo - lateLo) + 10);
  });
});
