// Defaults the world uses where a scenario says nothing. The scenario loader fills the same values
// into `meshsim explain` output, so what is printed is what runs.

import type { BehaviorSpec } from "./spec.js";

/** Behaviour of a deployment no `behavior:` entry selects: a fast, healthy, roomy service. */
export const DEFAULT_BEHAVIOR: BehaviorSpec = {
  select: {},
  concurrency: 32,
  queueLimit: 512,
  latency: { dist: "constant", valueUs: 1_000 },
  routes: [],
  errors: { rate: 0, status: 500 },
  calls: [],
  callMode: "sequential",
};

/** Time from a pod being created (replacement or scale-up) to its container running. */
export const POD_START_US = 2_000_000;
