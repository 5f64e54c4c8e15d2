// A proxy queue in virtual time: the policy's BackendQueue state machine decides, this keeps the
// FIFO of waiting items, the fail-fast timer and the last readiness it reported, and carries out
// each step's actions through the owner's callbacks. The outbound concrete backend (in front of
// P2C) and the inbound proxy (in front of the container) are both this, with their own limits.

import { BackendQueue, type BackendQueueAction, type BackendQueueConfig, type BackendQueueStep } from "../policy/backend-queue.js";
import type { EventId, Owner } from "../sim/event-queue.js";
import { Priority } from "../sim/priority.js";
import type { MeshContext } from "./context.js";

/** What the queue's owner does with its items. */
export interface QueueGateHandlers<T> {
  /** Whether what the queue feeds can take one more item now (the pool, the container). */
  ready(): boolean;
  /** Send `item` on. Return false to keep it at the head (nothing could take it after all). */
  dispatch(item: T): boolean;
  /** The queue service refused the arriving item (gate shut or queue full): LoadShed, 503. */
  reject(item: T, status: number): void;
  /** An item waited through the fail-fast timeout, or arrived at a queue failing fast: 504. */
  failFast(item: T, status: number): void;
  /** Trace one of the queue's own events: `load-shed`, `fail-fast`, `gate-shut`, `gate-opened`. */
  emit(event: string, fields: { reason: string; failed?: number }): void;
}

export class QueueGate<T> {
  private readonly queue: BackendQueue;
  private readonly waiting: T[] = [];
  private failFastTimer: EventId | undefined;
  private reportedReady: boolean;

  constructor(
    config: BackendQueueConfig,
    initiallyReady: boolean,
    private readonly ctx: MeshContext,
    /** Whose timers these are: they die with it. */
    private readonly owner: Owner,
    private readonly handlers: QueueGateHandlers<T>,
  ) {
    this.queue = new BackendQueue(config, initiallyReady);
    this.reportedReady = initiallyReady;
  }

  /** What LoadShed and distribution in front of the queue see: not failing fast and not full. */
  isReady(): boolean {
    return this.queue.isReady();
  }

  /** Items waiting, including ones their sender gave up on. */
  get queued(): number {
    return this.waiting.length;
  }

  /** Whether the queue last reported what it feeds as ready. */
  get lastReady(): boolean {
    return this.reportedReady;
  }

  submit(item: T): void {
    this.apply(this.queue.enqueue(this.ctx.sim.nowUs), item);
  }

  /** Tell the queue when readiness changed; it may dispatch or start failing fast. */
  refresh(): void {
    const ready = this.handlers.ready();
    if (ready === this.reportedReady && !(ready && this.waiting.length > 0)) return;
    this.reportedReady = ready;
    this.apply(this.queue.onPoolReadyChanged(ready, this.ctx.sim.nowUs), undefined);
  }

  /** Everything still waiting leaves (its owner is gone); the timer stops. */
  drain(): T[] {
    this.cancelFailFast();
    return this.waiting.splice(0);
  }

  private apply(step: BackendQueueStep, arriving: T | undefined): void {
    let current: BackendQueueStep | undefined = step;
    let arrivingItem = arriving;
    while (current !== undefined) {
      let dispatched = false;
      const actions = current.actions;
      for (let a = 0; a < actions.length; a += 1) {
        const action = actions[a] as BackendQueueAction;
        switch (action.kind) {
          case "reject":
            this.handlers.emit("load-shed", { reason: current.reason });
            if (arrivingItem !== undefined) this.handlers.reject(arrivingItem, action.status);
            break;
          case "enqueue":
            if (arrivingItem !== undefined) this.waiting.push(arrivingItem);
            arrivingItem = undefined;
            break;
          case "dispatch-head":
            this.dispatchHead();
            dispatched = true;
            break;
          case "fail-queued":
            this.handlers.emit("fail-fast", { failed: action.count, reason: current.reason });
            for (const item of this.waiting.splice(0, action.count)) this.handlers.failFast(item, action.status);
            break;
          case "arm-timer":
            this.armFailFast(action.atUs);
            break;
          case "cancel-timer":
            this.cancelFailFast();
            break;
          case "gate-shut":
          case "gate-opened":
            this.handlers.emit(action.kind, { reason: current.reason });
            break;
        }
      }
      if (!dispatched) return;
      // After each dispatch the queue asks again whether another item can go.
      const ready = this.handlers.ready();
      this.reportedReady = ready;
      current = this.waiting.length > 0 || !ready ? this.queue.onPoolReadyChanged(ready, this.ctx.sim.nowUs) : undefined;
    }
  }

  private dispatchHead(): void {
    const item = this.waiting.shift();
    if (item !== undefined && !this.handlers.dispatch(item)) this.waiting.unshift(item);
  }

  private armFailFast(atUs: number): void {
    this.cancelFailFast();
    this.failFastTimer = this.ctx.sim.scheduleAt(atUs, () => {
      this.failFastTimer = undefined;
      this.apply(this.queue.onFailFastTimer(this.ctx.sim.nowUs), undefined);
    }, undefined, Priority.Timeout, this.owner);
  }

  private cancelFailFast(): void {
    if (this.failFastTimer !== undefined) this.ctx.sim.cancel(this.failFastTimer);
    this.failFastTimer = undefined;
  }
}
