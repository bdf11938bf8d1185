// Plain-JS twin of assembly/embedding.ts: the oracle for its tests, the baseline for its
// benchmark and the fallback where a runtime has no wasm SIMD. Same arguments in the same
// order as the kernel; arrays are views starting where the kernel's pointers point.
import type { Floats } from './softmax.js';

/**
 * out (n, c) = weight[ids[i], :] for each row i; every id must be in [0, V).
 * @example embeddingForward(out, Int32Array.of(3, 0, 3), wte, 3, 768)
 */
export function embeddingForward(out: Floats, ids: Int32Array, weight: Floats, n: number, c: number): void {
  for (let i = 0; i < n; i++) {
    const row = ids[i]! * c;
    for (let j = 0; j < c; j++) out[i * c + j] = weight[row + j]!;
  }
}

/** dweight (V, c) += dout[i, :] at row ids[i], for i = 0..n−1 in order; differentiates `out[i, :] = weight[ids[i], :]`. */
export function embeddingBackward(dweight: Floats, dout: Floats, ids: Int32Array, n: number, c: number, ld = c): void {
  for (let i = 0; i < n; i++) {
    const row = ids[i]! * ld;
    for (let j = 0; j < c; j++) dweight[row + j] = dweight[row + j]! + dout[i * ld + j]!;
  }
}
