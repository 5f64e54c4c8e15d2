// Seeded random streams. Every stream is forked *by label* from the scenario seed, so adding an
// entity never shifts another entity's draws: `workload/checkout` gets the same numbers whether or
// not `workload/auth` exists. xor4096 with `.double()` gives 53-bit uniforms.

import seedrandom from "seedrandom";

/** A uniform source on [0, 1); structurally the same as policy's `RandomSource`. */
export interface Rng {
  next(): number;
  readonly label: string;
}

class Xor4096Stream implements Rng {
  private readonly gen: seedrandom.PRNG;
  constructor(seed: string, readonly label: string) {
    this.gen = seedrandom.xor4096(`${seed}|${label}`);
  }
  next(): number {
    return this.gen.double();
  }
}

/** One stream for `(seed, label)`. The seed is a string on purpose: seedrandom treats 42 and "42" differently. */
export function forkRng(seed: string | number, label: string): Rng {
  return new Xor4096Stream(String(seed), label);
}

/**
 * Hands out streams by label and refuses to hand out the same label twice, so two entities can
 * never silently share (and correlate) a stream.
 */
export class RngRegistry {
  private readonly issued = new Set<string>();
  constructor(readonly seed: string) {}

  fork(label: string): Rng {
    if (this.issued.has(label)) {
      throw new Error(`rng stream "${label}" was already forked; labels must be unique per run`);
    }
    this.issued.add(label);
    return forkRng(this.seed, label);
  }

  /** Labels handed out so far, sorted, for the run summary. */
  labels(): string[] {
    return [...this.issued].sort();
  }
}
