import { describe, expect, it } from "vitest";
import fc from "fast-check";
import type { FailureAccrualConfig } from "../../src/policy/config.js";
import { FailureAccrual } from "../../src/policy/failure-accrual.js";
import { fixedRandom } from "../../src/policy/random.js";

const S = 1_000_000;
const MS = 1_000;

/** `consecutive_failures.rs::transitions`: max_failures 2, backoff 1s..100s, jitter 0. */
const UPSTREAM_TEST: FailureAccrualConfig = { maxFailures: 2, minPenaltyUs: 1 * S, maxPenaltyUs: 100 * S, jitterRatio: 0 };
/** Linkerd's defaults for `balancer.linkerd.io/failure-accrual: consecutive`. */
const DEFAULTS: FailureAccrualConfig = { maxFailures: 7, minPenaltyUs: 1 * S, maxPenaltyUs: 60 * S, jitterRatio: 0.5 };

describe("FailureAccrual — upstream vector", () => {
  it("vector 23: two 502s shut, probation after 1 s, a failed probe shuts for 2 s, a good probe opens", () => {
    const fa = new FailureAccrual(UPSTREAM_TEST, fixedRandom([0.5]));

    expect(fa.onResponse(true, 0).reason).toBe("failure-counted");
    expect(fa.isReady()).toBe(true);
    const shut = fa.onResponse(true, 0);
    expect(shut.reason).toBe("max-consecutive-failures");
    expect(shut.actions).toEqual([{ kind: "gate-shut" }, { kind: "arm-timer", atUs: 1 * S }]);
    expect(fa.isReady()).toBe(false);

    // +0.5 s: still shut.
    expect(fa.onTimer(500 * MS).reason).toBe("stale-timer-ignored");
    expect(fa.state.kind).toBe("shut");
    expect(fa.permits()).toBe(0);

    // +1 s: limited to a single request.
    expect(fa.onTimer(1 * S).actions).toEqual([{ kind: "gate-limited", permits: 1 }]);
    expect(fa.permits()).toBe(1);
    expect(fa.admit()).toEqual({ admitted: true, reason: "probation-permit-taken" });
    expect(fa.permits()).toBe(0);

    // The probe fails: shut again, now for 2 s.
    const reshut = fa.onResponse(true, 1 * S);
    expect(reshut.reason).toBe("probe-failed");
    expect(reshut.actions).toEqual([{ kind: "gate-shut" }, { kind: "arm-timer", atUs: 3 * S }]);

    // +1 s into that: still shut, and a straggling 200 is ignored.
    expect(fa.onTimer(2 * S).reason).toBe("stale-timer-ignored");
    expect(fa.onResponse(false, 2 * S).reason).toBe("ignored-while-shut");
    expect(fa.isReady()).toBe(false);

    // +2 s: probation again; the probe succeeds and the breaker opens.
    fa.onTimer(3 * S);
    expect(fa.permits()).toBe(1);
    fa.admit();
    const open = fa.onResponse(false, 3 * S);
    expect(open.reason).toBe("probe-succeeded");
    expect(open.actions).toEqual([{ kind: "gate-opened" }]);
    expect(fa.state).toEqual({ kind: "open", failures: 0 });

    // Counter reset: one failure does not shut, a second does.
    expect(fa.onResponse(true, 4 * S).reason).toBe("failure-counted");
    expect(fa.onResponse(true, 4 * S).reason).toBe("max-consecutive-failures");
  });
});

describe("FailureAccrual — penalties", () => {
  /** Shut with defaults, then fail `probes` probes; returns the penalty of each shut. */
  function penaltiesUs(u: number, probes: number): number[] {
    const fa = new FailureAccrual(DEFAULTS, fixedRandom([u]));
    let nowUs = 0;
    const out: number[] = [];
    for (let i = 0; i < DEFAULTS.maxFailures; i += 1) fa.onResponse(true, nowUs);
    for (let p = 0; p <= probes; p += 1) {
      const s = fa.state;
      if (s.kind !== "shut") throw new Error("expected shut");
      out.push(s.penaltyUs);
      nowUs = s.untilUs;
      fa.onTimer(nowUs);
      fa.admit();
      fa.onResponse(true, nowUs);
    }
    return out;
  }

  it("with defaults the penalties double from 1 s within [base, base·1.5] and cap at 60 s", () => {
    for (const u of [0, 0.3, 0.999]) {
      const got = penaltiesUs(u, 8);
      got.forEach((penaltyUs, i) => {
        const baseUs = Math.min(1 * S * 2 ** i, 60 * S);
        const maxJitterUs = Math.min(0.5 * baseUs, 60 * S - baseUs);
        expect(penaltyUs).toBeGreaterThanOrEqual(baseUs);
        expect(penaltyUs).toBeLessThanOrEqual(baseUs + maxJitterUs);
      });
    }
  });

  it("with no jitter drawn the schedule is 1, 2, 4, 8, 16, 32, 60, 60 s", () => {
    expect(penaltiesUs(0, 7)).toEqual([1, 2, 4, 8, 16, 32, 60, 60].map((s) => s * S));
  });

  it("each ejection episode starts again at the first penalty", () => {
    const fa = new FailureAccrual(UPSTREAM_TEST, fixedRandom([0]));
    fa.onResponse(true, 0);
    fa.onResponse(true, 0);
    fa.onTimer(1 * S);
    fa.onResponse(true, 1 * S); // probe fails: 2 s
    fa.onTimer(3 * S);
    fa.onResponse(false, 3 * S); // probe succeeds: open
    fa.onResponse(true, 4 * S);
    const shut = fa.onResponse(true, 4 * S);
    expect(shut.actions).toContainEqual({ kind: "arm-timer", atUs: 5 * S });
  });
});

describe("FailureAccrual — open state", () => {
  it("a success resets the consecutive-failure counter", () => {
    const fa = new FailureAccrual(DEFAULTS, fixedRandom([0]));
    for (let i = 0; i < 6; i += 1) fa.onResponse(true, 0);
    expect(fa.onResponse(false, 0).reason).toBe("success-resets-failures");
    for (let i = 0; i < 6; i += 1) fa.onResponse(true, 0);
    expect(fa.state).toEqual({ kind: "open", failures: 6 });
    expect(fa.onResponse(true, 0).reason).toBe("max-consecutive-failures");
  });

  it("an open breaker admits everything", () => {
    const fa = new FailureAccrual(DEFAULTS, fixedRandom([0]));
    expect(fa.permits()).toBe(Number.POSITIVE_INFINITY);
    expect(fa.admit()).toEqual({ admitted: true, reason: "gate-open" });
  });

  it("failures while shut do not lengthen the penalty", () => {
    const fa = new FailureAccrual(UPSTREAM_TEST, fixedRandom([0]));
    fa.onResponse(true, 0);
    fa.onResponse(true, 0);
    expect(fa.onResponse(true, 100 * MS)).toMatchObject({ actions: [], reason: "ignored-while-shut" });
    expect(fa.onTimer(1 * S).reason).toBe("penalty-elapsed");
  });

  it("a shut breaker admits nothing and probation admits exactly one request", () => {
    const fa = new FailureAccrual(UPSTREAM_TEST, fixedRandom([0]));
    fa.onResponse(true, 0);
    fa.onResponse(true, 0);
    expect(fa.admit()).toEqual({ admitted: false, reason: "gate-shut" });
    fa.onTimer(1 * S);
    expect(fa.admit().admitted).toBe(true);
    expect(fa.isReady()).toBe(false);
    expect(fa.admit()).toEqual({ admitted: false, reason: "probation-permit-already-taken" });
  });

  it("a maxFailures below 1 is rejected", () => {
    expect(() => new FailureAccrual({ ...DEFAULTS, maxFailures: 0 }, fixedRandom([0]))).toThrow(/maxFailures/);
  });
});

describe("FailureAccrual — properties", () => {
  type Ev = { kind: "response"; failure: boolean } | { kind: "timer" } | { kind: "admit" };
  const evArb = fc.record({
    ev: fc.oneof(
      fc.boolean().map<Ev>((failure) => ({ kind: "response", failure })),
      fc.constant<Ev>({ kind: "timer" }),
      fc.constant<Ev>({ kind: "admit" }),
    ),
    advanceUs: fc.integer({ min: 0, max: 3 * S }),
  });

  it("never admits more than one request per probation, and nothing while shut", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.array(evArb, { maxLength: 100 }),
        (maxFailures, u, events) => {
          const config: FailureAccrualConfig = { maxFailures, minPenaltyUs: 1 * S, maxPenaltyUs: 10 * S, jitterRatio: 0.5 };
          const fa = new FailureAccrual(config, fixedRandom([u]));
          let nowUs = 0;
          let admittedThisProbation = 0;
          for (const { ev, advanceUs } of events) {
            nowUs += advanceUs;
            const before = fa.state.kind;
            if (ev.kind === "response") fa.onResponse(ev.failure, nowUs);
            if (ev.kind === "timer") fa.onTimer(nowUs);
            if (ev.kind === "admit") {
              const d = fa.admit();
              if (before === "shut") expect(d.admitted).toBe(false);
              if (before === "probation" && d.admitted) admittedThisProbation += 1;
            }
            if (fa.state.kind !== "probation") admittedThisProbation = 0;
            expect(admittedThisProbation).toBeLessThanOrEqual(1);
            expect(fa.isReady()).toBe(fa.permits() > 0);
            if (fa.state.kind === "shut") expect(fa.isReady()).toBe(false);
          }
        },
      ),
    );
  });
});
