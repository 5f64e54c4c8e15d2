// Defaults the world uses where a scenario says nothing. A deployment no `behavior:` entry selects
// behaves exactly like an entry that sets nothing (the schema's defaults; a test keeps them equal).

import type { BehaviorSpec } from "./spec.js";

/** Behaviour of a deployment no `behavior:` entry selects: a fast, healthy, roomy service. */
export const DEFAULT_BEHAVIOR: BehaviorSpec = {
  select: {},
  concurrency: 32,
  queueLimit: 512,
  latency: { dist: "exponential", meanUs: 1_000 },
  routes: [],
  errors: { rate: 0, status: 500 },
  calls: [],
  callMode: "sequential",
};

/** Time from a pod being created (replacement or scale-up) to its container running. */
export const POD_START_US = 2_000_000;
