import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { fixedRandom } from "../../src/policy/random.js";
import {
  GATEWAY_PROBE_TIMEOUT_US,
  INITIAL_WATCHER_GATEWAY_ALIVE,
  classifyProbeResponse,
  gatewaysRow,
  initialProbeWorkerState,
  nextProbeDelayUs,
  onProbeResult,
  watcherGatewayAlive,
} from "../../src/policy/gateway-probe.js";

const S = 1_000_000;
const MS = 1_000;

describe("gateway probe — vector 33", () => {
  it("vector 33: a 3 s period gives inter-probe delays in [3.0 s, 3.3 s)", () => {
    expect(nextProbeDelayUs(3 * S, fixedRandom([0]))).toBe(3 * S);
    expect(nextProbeDelayUs(3 * S, fixedRandom([0.5]))).toBe(3 * S + 0.15 * S);
    const top = nextProbeDelayUs(3 * S, fixedRandom([0.999999999]));
    expect(top).toBeGreaterThanOrEqual(3 * S);
    expect(top).toBeLessThan(3.3 * S);
  });

  it("vector 33: a 200 in 42 ms shows ALIVE true, LATENCY 42ms; a timed-out next probe shows ALIVE false, LATENCY still 42ms", () => {
    const first = onProbeResult(initialProbeWorkerState(), { ok: true, rttUs: 42 * MS }, 3 * S);
    expect(gatewaysRow(first.state)).toEqual({ alive: true, latencyMs: 42 });
    const timedOut = classifyProbeResponse({ elapsedUs: GATEWAY_PROBE_TIMEOUT_US });
    expect(timedOut).toEqual({ ok: false, reason: "timeout" });
    const second = onProbeResult(first.state, { ok: timedOut.ok, rttUs: GATEWAY_PROBE_TIMEOUT_US }, 56 * S);
    expect(gatewaysRow(second.state)).toEqual({ alive: false, latencyMs: 42 });
  });
});

describe("gateway probe — worker state machine", () => {
  it("the probe timeout is 50 s", () => {
    expect(GATEWAY_PROBE_TIMEOUT_US).toBe(50 * S);
  });

  it.each([
    [{ status: 200, elapsedUs: 10 * MS }, true, "status-200"],
    [{ status: 503, elapsedUs: 10 * MS }, false, "status-503"],
    [{ status: 204, elapsedUs: 10 * MS }, false, "status-204"],
    [{ elapsedUs: 10 * MS }, false, "transport-error"],
    [{ status: 200, elapsedUs: 50 * S }, false, "timeout"],
  ])("probe response %o ⇒ ok=%s (%s)", (resp, ok, reason) => {
    expect(classifyProbeResponse(resp)).toEqual({ ok, reason });
  });

  it("an initially unreachable gateway never signals false, so the watcher keeps it alive", () => {
    const t = onProbeResult(initialProbeWorkerState(), { ok: false, rttUs: 0 }, 0);
    expect(t.signal).toBeUndefined();
    expect(t.state.aliveGauge).toBe(0);
    expect(INITIAL_WATCHER_GATEWAY_ALIVE).toBe(true);
    expect(watcherGatewayAlive(INITIAL_WATCHER_GATEWAY_ALIVE, t.signal)).toBe(true);
  });

  it("liveness is signalled only on transitions: first success true, next failure false", () => {
    let s = initialProbeWorkerState();
    const signals: Array<boolean | undefined> = [];
    for (const ok of [true, true, false, false, true]) {
      const t = onProbeResult(s, { ok, rttUs: 5 * MS }, 0);
      signals.push(t.signal);
      s = t.state;
    }
    expect(signals).toEqual([true, undefined, false, undefined, true]);
  });

  it("a single failed probe flips liveness in 2.16 (no failure threshold)", () => {
    const alive = onProbeResult(initialProbeWorkerState(), { ok: true, rttUs: 1 * MS }, 0).state;
    const t = onProbeResult(alive, { ok: false, rttUs: 0 }, 3 * S);
    expect(t).toMatchObject({ signal: false, reason: "gateway-became-dead" });
    expect(t.state.alive).toBe(false);
  });

  it("with a failure threshold of 3 (later Link versions) two failures keep the gateway alive", () => {
    let s = onProbeResult(initialProbeWorkerState(), { ok: true, rttUs: 1 * MS }, 0).state;
    const reasons: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      const t = onProbeResult(s, { ok: false, rttUs: 0 }, 0, { failureThreshold: 3 });
      reasons.push(t.reason);
      s = t.state;
    }
    expect(reasons).toEqual(["failure-below-threshold", "failure-below-threshold", "gateway-became-dead"]);
  });

  it("latency is the truncated whole milliseconds of the last successful probe", () => {
    const t = onProbeResult(initialProbeWorkerState(), { ok: true, rttUs: 42_999 }, 0);
    expect(t.state.latencyGaugeMs).toBe(42);
  });

  it("the probes counter counts successes and failures", () => {
    let s = initialProbeWorkerState();
    for (const ok of [true, false, true, true]) s = onProbeResult(s, { ok, rttUs: 1 * MS }, 0).state;
    expect([s.probesSucceeded, s.probesFailed]).toEqual([3, 1]);
  });

  it("ALIVE is the last probe's result and LATENCY the last success's RTT, whatever the history", () => {
    const probe = fc.record({ ok: fc.boolean(), rttUs: fc.integer({ min: 0, max: 60 * S }) });
    fc.assert(
      fc.property(fc.array(probe, { minLength: 1, maxLength: 40 }), (probes) => {
        let s = initialProbeWorkerState();
        let watcher = INITIAL_WATCHER_GATEWAY_ALIVE;
        for (const p of probes) {
          const t = onProbeResult(s, p, 0);
          if (t.signal !== undefined) expect(t.signal).not.toBe(s.alive);
          watcher = watcherGatewayAlive(watcher, t.signal);
          s = t.state;
        }
        const last = probes[probes.length - 1];
        const lastOk = [...probes].reverse().find((p) => p.ok);
        expect(gatewaysRow(s).alive).toBe(last?.ok);
        expect(gatewaysRow(s).latencyMs).toBe(lastOk === undefined ? 0 : Math.floor(lastOk.rttUs / 1000));
        // The watcher agrees with the worker once any probe has succeeded.
        if (lastOk !== undefined) expect(watcher).toBe(last?.ok);
        else expect(watcher).toBe(true);
      }),
    );
  });

  it("probe delays always fall in [period, period + period/10)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 120 * S }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (p, u) => {
        const d = nextProbeDelayUs(p, fixedRandom([u]));
        expect(d).toBeGreaterThanOrEqual(p);
        if (p >= 10) expect(d).toBeLessThan(p + Math.floor(p / 10));
        else expect(d).toBe(p);
      }),
    );
  });
});
