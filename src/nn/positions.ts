// Position encodings. Learned positions are an Embedding (wpe); the sinusoidal table of
// "Attention Is All You Need" (PE(pos, 2i) = sin(pos / 10000^(2i/d)), PE(pos, 2i+1) = cos(…))
// is a constant, computed once in f64 and stored as f32. `positionIds` builds the lookup ids.
import type { Runtime } from '../runtime.js';
import type { Tensor } from '../tensor.js';

/**
 * How a sinusoidal table lays out its sines and cosines: 'interleaved' as the paper (column 2i
 * sin, 2i+1 cos of the same frequency), 'halves' as Hugging Face's Marian ([sin | cos]: column i
 * sin, ⌈dim/2⌉ + i cos). The same numbers, columns permuted.
 */
export type SinusoidLayout = 'interleaved' | 'halves';

/**
 * The (positions, dim) sinusoidal table, row-major: frequency i (i < ⌈dim/2⌉) is 1/10000^(2i/dim).
 * @example
 * ```ts
 * const pe = sinusoidalTable(64, 128);              // pe[pos * 128 + j]
 * const marian = sinusoidalTable(64, 128, 'halves');
 * ```
 */
export function sinusoidalTable(positions: number, dim: number, layout: SinusoidLayout = 'interleaved'): Float32Array {
  const out = new Float32Array(positions * dim);
  const half = Math.ceil(dim / 2);
  for (let pos = 0; pos < positions; pos++) {
    for (let i = 0; 2 * i < dim; i++) {
      const angle = pos / Math.pow(10000, (2 * i) / dim);
      const [s, c] = layout === 'halves' ? [i, half + i] : [2 * i, 2 * i + 1];
      out[pos * dim + s] = Math.sin(angle);
      if (c < dim) out[pos * dim + c] = Math.cos(angle);
    }
  }
  return out;
}

/**
 * Position ids i32 (B, T) in the step arena: start, start + 1, … start + T − 1 for every
 * sequence — the lookup ids of a learned or sinusoidal position table.
 * @example
 * ```ts
 * const pos = positionIds(rt, 2, 3, 5);   // [[5, 6, 7], [5, 6, 7]]
 * const posEmb = embedding(rt, pos, wpe); // (2, 3, C)
 * ```
 */
export function positionIds(rt: Runtime, B: number, T: number, start = 0): Tensor {
  const ids = rt.empty([B, T], { dtype: 'i32', arena: 'step' });
  const p = ids.i32();
  for (let i = 0; i < B * T; i++) p[i] = start + (i % T);
  return ids;
}
