// The only source of randomness policy code may use. The simulator hands each policy object a
// stream forked by label from the scenario seed; tests hand it a fixed sequence. Policy code
// never reaches for an ambient generator, so every decision is reproducible.

/** A uniform random source. `next()` returns a float in [0, 1). */
export interface RandomSource {
  next(): number;
}

/** Draw an integer uniformly from 0..n-1 (n ≥ 1). */
export function randomIndex(rng: RandomSource, n: number): number {
  return Math.min(n - 1, Math.floor(rng.next() * n));
}

/** A RandomSource that replays a fixed list of values, cycling; for tests and worked examples. */
export function fixedRandom(values: readonly number[]): RandomSource {
  let i = 0;
  return {
    next(): number {
      const v = values[i % values.length];
      i += 1;
      if (v === undefined) throw new Error("fixedRandom needs at least one value");
      return v;
    },
  };
}
