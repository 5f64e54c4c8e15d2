// Seeded random streams. Every stream is forked *by label* from the scenario seed, so adding an
// entity never shifts another entity's draws: `workload/checkout` gets the same numbers whether or
// not `workload/auth` exists. A stream is xoshiro128** (Blackman & Vigna, 2018: 128 bits of state,
// period 2^128 − 1), its state the first four 32-bit outputs of seedrandom's xor4096 seeded with
// `<seed>|<label>`; each uniform takes two outputs for 53 random bits. A run holds a stream per
// entity and purpose (over a thousand on a 30-service platform), drawn in no particular order:
// xor4096 keeps 4 KiB of state per stream and drew 23 M uniforms/s spread over 1 400 streams where
// xoshiro128** draws 60–190 M (docs/performance.md).

import seedrandom from "seedrandom";

/** A uniform source on [0, 1); structurally the same as policy's `RandomSource`. */
export interface Rng {
  next(): number;
  readonly label: string;
  /**
   * The second normal of the stream's last Box–Muller pair, not handed out yet (distributions.ts
   * `standardNormal`); kept on the stream so streams stay independent of each other. NaN or
   * absent: none (a stream keeps a number here, so V8 stores it in place instead of boxing each
   * new value).
   */
  spareNormal?: number | undefined;
}

/** xoshiro128** over the state (s0, s1, s2, s3); exported for its test vectors. */
export class Xoshiro128 {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  constructor(s0: number, s1: number, s2: number, s3: number) {
    // The all-zero state is the generator's one fixed point.
    if ((s0 | s1 | s2 | s3) === 0) s0 = 1;
    this.s0 = s0 | 0;
    this.s1 = s1 | 0;
    this.s2 = s2 | 0;
    this.s3 = s3 | 0;
  }

  /** The next 32-bit output, unsigned. */
  nextUint32(): number {
    const s1 = this.s1;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= s1;
    this.s1 = s1 ^ this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** A uniform on [0, 1) with 53 random bits: 27 from one output, 26 from the next. */
  nextDouble(): number {
    const hi = this.nextUint32() >>> 5;
    const lo = this.nextUint32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

class LabelledStream extends Xoshiro128 implements Rng {
  spareNormal = NaN;
  constructor(seed: string, readonly label: string) {
    const init = seedrandom.xor4096(`${seed}|${label}`);
    super(init.int32(), init.int32(), init.int32(), init.int32());
  }
  next(): number {
    return this.nextDouble();
  }
}

/** One stream for `(seed, label)`. The seed is a string on purpose: seedrandom treats 42 and "42" differently. */
export function forkRng(seed: string | number, label: string): Rng {
  return new LabelledStream(String(seed), label);
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
