// Position encodings. Learned positions are an Embedding (wpe); the sinusoidal table of
// "Attention Is All You Need" (PE(pos, 2i) = sin(pos / 10000^(2i/d)), PE(pos, 2i+1) = cos(…))
// is a constant, computed once in f64 and stored as f32. `positionIds` builds the lookup ids.
import type { Runtime } from '../runtime.js';
import type { Tensor } from '../tensor.js';

/**
 * The (positions, dim) sinusoidal table, row-major.
 * @example
 * ```ts
 * const pe = sinusoidalTable(64, 128); // pe[pos * 128 + j]
 * ```
 */
export function sinusoidalTable(positions: number, dim: number): Float32Array {
  const out = new Float32Array(positions * dim);
  for (let pos = 0; pos < positions; pos++) {
    for (let i = 0; i < dim; i += 2) {
      const angle = pos / Math.pow(10000, i / dim);
      out[pos * dim + i] = Math.sin(angle);
      if (i + 1 < dim) out[pos * dim + i + 1] = Math.cos(angle);
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
