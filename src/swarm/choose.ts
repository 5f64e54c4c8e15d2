// The swarm generator's choices, drawn from the repo's labelled RNG streams. Each aspect of a
// scenario draws from its own stream (`swarm/features`, `swarm/topology/east`, `swarm/faults`, ...)
// forked from the swarm seed, so switching one feature on or off never shifts the draws of another.

import { forkRng, type Rng } from "../sim/rng.js";

/** The seed string every stream of one swarm case forks from (kept apart from scenario seeds). */
export function swarmSeed(seed: number): string {
  return `swarm-${seed}`;
}

export class Chooser {
  private readonly rng: Rng;

  constructor(seed: number, label: string) {
    this.rng = forkRng(swarmSeed(seed), `swarm/${label}`);
  }

  /** A uniform draw on [0, 1). */
  uniform(): number {
    return this.rng.next();
  }

  /** A whole number in [lo, hi], both inclusive. */
  int(lo: number, hi: number): number {
    if (!(Number.isInteger(lo) && Number.isInteger(hi) && hi >= lo)) throw new Error(`int: bad range [${lo}, ${hi}]`);
    return lo + Math.floor(this.rng.next() * (hi - lo + 1));
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.rng.next() < p;
  }

  /** One of `items` (which must not be empty). */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error("pick: nothing to pick from");
    return items[Math.floor(this.rng.next() * items.length)] as T;
  }

  /** Each item kept with probability `p`, in order. */
  subset<T>(items: readonly T[], p: number): T[] {
    return items.filter(() => this.rng.next() < p);
  }

  /** A number in [lo, hi) rounded to `digits` decimals, so the YAML stays readable. */
  real(lo: number, hi: number, digits = 2): number {
    const f = 10 ** digits;
    return Math.round((lo + this.rng.next() * (hi - lo)) * f) / f;
  }
}
