import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  BackendQueue,
  INBOUND_QUEUE_DEFAULTS,
  OUTBOUND_QUEUE_DEFAULTS,
  initialBackendQueueState,
  isQueueServiceReady,
  transitionBackendQueue,
  type BackendQueueAction,
  type BackendQueueConfig,
} from "../../src/policy/backend-queue.js";

const S = 1_000_000;
const kinds = (actions: readonly BackendQueueAction[]): string[] => actions.map((a) => a.kind);

describe("backend queue defaults", () => {
  it("outbound holds 10,000 requests and fails fast after 3 s; inbound after 1 s", () => {
    expect(OUTBOUND_QUEUE_DEFAULTS).toEqual({ capacity: 10_000, failFastTimeoutUs: 3 * S });
    expect(INBOUND_QUEUE_DEFAULTS).toEqual({ capacity: 10_000, failFastTimeoutUs: 1 * S });
  });
});

describe("backend queue — waiting and dispatch", () => {
  it("a request on a ready pool is dispatched at once", () => {
    const q = new BackendQueue(OUTBOUND_QUEUE_DEFAULTS, true);
    const step = q.enqueue(0);
    expect(kinds(step.actions)).toEqual(["enqueue", "dispatch-head"]);
    expect(q.state.queued).toBe(0);
  });

  it("the first request to wait on a not-ready pool arms the 3 s timer from its arrival", () => {
    const q = new BackendQueue(OUTBOUND_QUEUE_DEFAULTS, false);
    const step = q.enqueue(5 * S);
    expect(step.actions).toEqual([{ kind: "enqueue" }, { kind: "arm-timer", atUs: 8 * S }]);
    expect(q.state.failFast).toEqual({ kind: "waiting", sinceUs: 5 * S });
  });

  it("a pool going unready with nothing waiting arms no timer", () => {
    const q = new BackendQueue(OUTBOUND_QUEUE_DEFAULTS, true);
    expect(q.onPoolReadyChanged(false, 1 * S).actions).toEqual([]);
    expect(q.state.failFast.kind).toBe("open");
  });

  it("later arrivals do not restart the timer", () => {
    const q = new BackendQueue(OUTBOUND_QUEUE_DEFAULTS, false);
    q.enqueue(0);
    expect(q.enqueue(2 * S).actions).toEqual([{ kind: "enqueue" }]);
    expect(q.state.failFast).toEqual({ kind: "waiting", sinceUs: 0 });
  });

  it("the timer is cleared as soon as the pool becomes ready, and waiting requests go out one at a time", () => {
    const q = new BackendQueue(OUTBOUND_QUEUE_DEFAULTS, false);
    q.enqueue(0);
    q.enqueue(1);
    const ready = q.onPoolReadyChanged(true, 2 * S);
    expect(kinds(ready.actions)).toEqual(["cancel-timer", "dispatch-head"]);
    expect(q.state).toEqual({ failFast: { kind: "open" }, queued: 1, poolReady: true });
    // The caller reports readiness after each dispatch; still ready ⇒ the next one goes.
    expect(kinds(q.onPoolReadyChanged(true, 2 * S).actions)).toEqual(["dispatch-head"]);
    expect(q.state.queued).toBe(0);
    expect(q.onPoolReadyChanged(true, 2 * S).actions).toEqual([]);
  });

  it("if a dispatch leaves the pool unready, the next waiting request starts a fresh timer", () => {
    const q = new BackendQueue(OUTBOUND_QUEUE_DEFAULTS, false);
    q.enqueue(0);
    q.enqueue(0);
    q.onPoolReadyChanged(true, 1 * S);
    const step = q.onPoolReadyChanged(false, 1 * S);
    expect(step.actions).toEqual([{ kind: "arm-timer", atUs: 4 * S }]);
    expect(q.state.failFast).toEqual({ kind: "waiting", sinceUs: 1 * S });
    // The first timer (due at 3 s) is stale now.
    expect(q.onFailFastTimer(3 * S)).toMatchObject({ actions: [], reason: "stale-timer-ignored" });
    expect(q.state.failFast.kind).toBe("waiting");
  });
});

describe("backend queue — fail-fast", () => {
  function failedFast(): BackendQueue {
    const q = new BackendQueue(OUTBOUND_QUEUE_DEFAULTS, false);
    q.enqueue(0);
    q.enqueue(1 * S);
    q.enqueue(2 * S);
    return q;
  }

  it("after 3 s without a ready endpoint every waiting request fails with 504 and the gate shuts", () => {
    const q = failedFast();
    const step = q.onFailFastTimer(3 * S);
    expect(step.reason).toBe("entered-fail-fast");
    expect(step.actions).toEqual([
      { kind: "gate-shut" },
      { kind: "fail-queued", count: 3, error: "fail-fast", status: 504 },
    ]);
    expect(q.state).toEqual({ failFast: { kind: "fail-fast", sinceUs: 0 }, queued: 0, poolReady: false });
  });

  it("in fail-fast new requests are load-shed with 503 and the queue service reports not ready", () => {
    const q = failedFast();
    q.onFailFastTimer(3 * S);
    expect(q.isReady()).toBe(false);
    const step = q.enqueue(4 * S);
    expect(step.actions).toEqual([{ kind: "reject", error: "load-shed", status: 503 }]);
    expect(step.reason).toBe("gate-shut-in-fail-fast");
  });

  it("fail-fast exits as soon as any endpoint becomes ready", () => {
    const q = failedFast();
    q.onFailFastTimer(3 * S);
    expect(q.onPoolReadyChanged(true, 10 * S).actions).toEqual([{ kind: "gate-opened" }]);
    expect(q.isReady()).toBe(true);
    expect(kinds(q.enqueue(10 * S).actions)).toEqual(["enqueue", "dispatch-head"]);
  });

  it("the timer does not fire early", () => {
    const q = failedFast();
    expect(q.onFailFastTimer(3 * S - 1).reason).toBe("stale-timer-ignored");
    expect(q.state.queued).toBe(3);
  });

  it("inbound queues fail fast after 1 s", () => {
    const q = new BackendQueue(INBOUND_QUEUE_DEFAULTS, false);
    expect(q.enqueue(0).actions).toContainEqual({ kind: "arm-timer", atUs: 1 * S });
    expect(q.onFailFastTimer(1 * S).reason).toBe("entered-fail-fast");
  });
});

describe("backend queue — capacity", () => {
  it("a full queue load-sheds with 503 (capacity plus the one request the worker holds)", () => {
    const config: BackendQueueConfig = { capacity: 2, failFastTimeoutUs: 3 * S };
    const q = new BackendQueue(config, false);
    for (let i = 0; i < 3; i += 1) expect(kinds(q.enqueue(i).actions)).toContain("enqueue");
    expect(q.isReady()).toBe(false);
    const step = q.enqueue(3);
    expect(step.actions).toEqual([{ kind: "reject", error: "load-shed", status: 503 }]);
    expect(step.reason).toBe("queue-full");
    q.onPoolReadyChanged(true, 4);
    expect(q.isReady()).toBe(true);
  });
});

describe("backend queue — properties", () => {
  type Ev = { kind: "arrive" } | { kind: "ready"; ready: boolean } | { kind: "timer" };
  const evArb = fc.record({
    ev: fc.oneof(
      fc.constant<Ev>({ kind: "arrive" }),
      fc.boolean().map<Ev>((ready) => ({ kind: "ready", ready })),
      fc.constant<Ev>({ kind: "timer" }),
    ),
    advanceUs: fc.integer({ min: 0, max: 2 * S }),
  });

  it("every request is dispatched, failed, rejected or still queued; the queue never exceeds capacity + 1", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4 }), fc.array(evArb, { maxLength: 80 }), (capacity, events) => {
        const config: BackendQueueConfig = { capacity, failFastTimeoutUs: 3 * S };
        let state = initialBackendQueueState(false);
        let nowUs = 0;
        let timerAtUs: number | undefined;
        const tally = { arrived: 0, dispatched: 0, failed: 0, rejected: 0, fifo: 0 };
        for (const { ev, advanceUs } of events) {
          nowUs += advanceUs;
          if (ev.kind === "timer" && (timerAtUs === undefined || nowUs < timerAtUs)) continue;
          const event =
            ev.kind === "arrive"
              ? ({ kind: "request-arrived", nowUs } as const)
              : ev.kind === "ready"
                ? ({ kind: "pool-readiness", ready: ev.ready, nowUs } as const)
                : ({ kind: "fail-fast-timer", nowUs } as const);
          if (ev.kind === "arrive") tally.arrived += 1;
          if (ev.kind === "timer") timerAtUs = undefined;
          const step = transitionBackendQueue(state, event, config);
          for (const a of step.actions) {
            if (a.kind === "enqueue") tally.fifo += 1;
            if (a.kind === "dispatch-head") (tally.fifo -= 1), (tally.dispatched += 1);
            if (a.kind === "fail-queued") (tally.fifo -= a.count), (tally.failed += a.count);
            if (a.kind === "reject") tally.rejected += 1;
            if (a.kind === "arm-timer") timerAtUs = a.atUs;
            if (a.kind === "cancel-timer") timerAtUs = undefined;
          }
          state = step.state;
          expect(tally.fifo).toBe(state.queued);
          expect(state.queued).toBeLessThanOrEqual(capacity + 1);
          expect(tally.arrived).toBe(tally.dispatched + tally.failed + tally.rejected + state.queued);
          // A ready pool is never waiting or failing fast.
          if (state.poolReady) expect(state.failFast.kind).toBe("open");
          expect(isQueueServiceReady(state, config)).toBe(state.failFast.kind !== "fail-fast" && state.queued <= capacity);
          // Requests wait only with the fail-fast clock running.
          if (state.queued > 0 && !state.poolReady) expect(state.failFast.kind).toBe("waiting");
        }
      }),
    );
  });
});
