// The sequence-to-sequence task of the encoder–decoder example: reverse a string of 1 … maxLen
// decimal digits ("31415" → "51413"). It needs attention: output position t must find input
// position S−1−t, whose distance from t changes with every length. Examples are generated on
// the fly; a fixed 10% of all strings (by a hash of the string) is held out, never trained on.
import { Rng } from '../../src/random.js';

export const PAD = 0, BOS = 1, EOS = 2;
/** Digits d are ids 3 + d. */
export const VOCAB = 13;

/** One example: source digits and target digits as token ids (no BOS/EOS). */
export interface Pair {
  src: number[];
  tgt: number[];
}

/** A padded batch, row-major i32 data: src (B, S); tgtIn = BOS + target (B, T); tgtOut = target + EOS (B, T). */
export interface Batch {
  B: number;
  S: number;
  T: number;
  src: Int32Array;
  tgtIn: Int32Array;
  tgtOut: Int32Array;
}

export const encodeDigits = (s: string): number[] => [...s].map((c) => 3 + c.charCodeAt(0) - 48);
export const decodeDigits = (ids: readonly number[]): string => ids.map((i) => (i >= 3 && i < 13 ? String(i - 3) : '?')).join('');

/** FNV-1a of the digit string: the held-out 10% are the strings whose hash is 0 mod 10. */
export function isHeldOut(digits: readonly number[]): boolean {
  let h = 0x811c9dc5;
  for (const d of digits) h = Math.imul(h ^ d, 0x01000193) >>> 0;
  return h % 10 === 0;
}

/** Draws examples of length 1 … maxLen (uniform) from one side of the split. */
export class ReverseTask {
  readonly rng: Rng;
  constructor(readonly maxLen: number, seed: number) {
    this.rng = new Rng(seed);
  }

  /** One example of `split`, drawn from `rng` (default the task's own). */
  sample(split: 'train' | 'test', rng = this.rng): Pair {
    for (;;) {
      const n = 1 + rng.int(this.maxLen);
      const src = Array.from({ length: n }, () => 3 + rng.int(10));
      if (isHeldOut(src) === (split === 'test')) return { src, tgt: [...src].reverse() };
    }
  }

  batch(B: number, split: 'train' | 'test' = 'train', rng = this.rng): Batch {
    return padBatch(Array.from({ length: B }, () => this.sample(split, rng)));
  }
}

/** Right-pads pairs into one batch. */
export function padBatch(pairs: Pair[]): Batch {
  const B = pairs.length;
  const S = Math.max(...pairs.map((p) => p.src.length));
  const T = Math.max(...pairs.map((p) => p.tgt.length)) + 1;
  const src = new Int32Array(B * S).fill(PAD), tgtIn = new Int32Array(B * T).fill(PAD), tgtOut = new Int32Array(B * T).fill(PAD);
  pairs.forEach((p, b) => {
    src.set(p.src, b * S);
    tgtIn.set([BOS, ...p.tgt], b * T);
    tgtOut.set([...p.tgt, EOS], b * T);
  });
  return { B, S, T, src, tgtIn, tgtOut };
}
