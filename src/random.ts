// A seeded random number generator that gives the same numbers in every JavaScript
// runtime: integer arithmetic (xoshiro128**, seeded through splitmix32), and for normals
// the Marsaglia polar method with a logarithm written here from + − × ÷ only, so no
// engine-specific Math.log/Math.cos rounding can creep in (Math.sqrt is correctly rounded).
import { ValueError, preview } from './errors.js';
import { portableLog } from './math.js';

/** A snapshot of an Rng (see `Rng.getState`). */
export interface RngState {
  s: number[];
  spare: number | null;
}

/** A seeded stream of random numbers. The same seed gives the same stream everywhere. */
export class Rng {
  #s0 = 0;
  #s1 = 0;
  #s2 = 0;
  #s3 = 0;
  #spare: number | null = null;

  /** @param seed any integer (taken modulo 2^32) */
  constructor(seed: number) {
    let x = seed >>> 0;
    const next = (): number => {
      // splitmix32
      x = (x + 0x9e3779b9) | 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.#s0 = next();
    this.#s1 = next();
    this.#s2 = next();
    this.#s3 = next();
  }

  /**
   * The generator of item `i` (an integer 0 … 2^53 − 1) of a sequence seeded by `seed`: a fresh
   * Rng per item, so item i is a function of (seed, i) and a sequence restarts anywhere in O(1).
   * @example
   * ```ts
   * Rng.at(7, 1000).int(10) === Rng.at(7, 1000).int(10);   // true, without drawing items 0 … 999
   * ```
   */
  static at(seed: number, i: number): Rng {
    // i's low and high 32-bit words both enter the seed (splitmix32 in the constructor mixes them)
    const lo = i >>> 0, hi = Math.floor(i / 4294967296) >>> 0;
    return new Rng((seed ^ Math.imul(lo, 0x9e3779b9) ^ Math.imul(hi + 1, 0x85ebca6b)) >>> 0);
  }

  /** The generator's position, JSON-serialisable: `setState` continues the identical stream (checkpoints). */
  getState(): RngState {
    return { s: [this.#s0 >>> 0, this.#s1 >>> 0, this.#s2 >>> 0, this.#s3 >>> 0], spare: this.#spare };
  }

  /** Restores a position from `getState`. @throws ValueError (changing nothing) for a malformed state. */
  setState(state: RngState): this {
    Rng.checkState(state);
    [this.#s0, this.#s1, this.#s2, this.#s3] = state.s.map((w) => w | 0) as [number, number, number, number];
    this.#spare = state.spare;
    return this;
  }

  /** Throws ValueError unless `state` is a position `setState` accepts. */
  static checkState(state: unknown): asserts state is RngState {
    const s = (state as Partial<RngState> | null)?.s;
    if (!Array.isArray(s) || s.length !== 4 || s.some((w) => !Number.isInteger(w) || w < 0 || w > 0xffffffff) || s.every((w) => w === 0)) {
      throw new ValueError(`Rng.setState: expected four 32-bit words, not all zero, got ${preview(s)}`);
    }
    const spare = (state as RngState).spare;
    if (spare !== null && !(typeof spare === 'number' && Number.isFinite(spare))) throw new ValueError(`Rng.setState: spare must be a finite number or null, got ${preview(spare)}`);
  }

  /** A uniform 32-bit unsigned integer (xoshiro128**). */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.#s1, 5), 7), 9) >>> 0;
    const t = this.#s1 << 9;
    this.#s2 ^= this.#s0;
    this.#s3 ^= this.#s1;
    this.#s1 ^= this.#s2;
    this.#s0 ^= this.#s3;
    this.#s2 ^= t;
    this.#s3 = rotl(this.#s3, 11);
    return result;
  }

  /** A uniform number in [0, 1) with 24 random bits: exactly representable as an f32. */
  uniform(): number {
    return (this.nextU32() >>> 8) * 5.9604644775390625e-8; // 2^-24
  }

  /** A uniform integer in [0, n). */
  int(n: number): number {
    // Rejection sampling keeps every value equally likely for any n ≤ 2^32.
    const limit = 4294967296 - (4294967296 % n);
    let u = this.nextU32();
    while (u >= limit) u = this.nextU32();
    return u % n;
  }

  /** A standard normal number (mean 0, standard deviation 1). */
  normal(): number {
    if (this.#spare !== null) {
      const s = this.#spare;
      this.#spare = null;
      return s;
    }
    for (;;) {
      // 53-bit uniforms in (-1, 1) for the polar method.
      const u = this.#signedUnit();
      const v = this.#signedUnit();
      const s = u * u + v * v;
      if (s >= 1 || s === 0) continue;
      const f = Math.sqrt((-2 * portableLog(s)) / s);
      this.#spare = v * f;
      return u * f;
    }
  }

  #signedUnit(): number {
    const hi = this.nextU32() >>> 5; // 27 bits
    const lo = this.nextU32() >>> 6; // 26 bits
    return ((hi * 67108864 + lo) / 9007199254740992) * 2 - 1;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
