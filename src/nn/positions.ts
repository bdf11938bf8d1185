// Position encodings. Learned positions are an Embedding (wpe); the sinusoidal table of
// "Attention Is All You Need" (PE(pos, 2i) = sin(pos / 10000^(2i/d)), PE(pos, 2i+1) = cos(…))
// is a constant, computed once in f64 and stored as f32.

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
