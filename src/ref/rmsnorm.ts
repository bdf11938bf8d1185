// Plain-JS twin of assembly/rmsnorm.ts: the oracle for its tests, the baseline for its
// benchmark and the fallback where a runtime has no wasm SIMD. Same arguments in the same
// order as the kernels; arrays are views starting where the kernel's pointers point.
// Arithmetic is in f64 (JS numbers).
import type { Floats } from './softmax.js';

/**
 * out (n, c) = inp · rstd · weight per row; saves rstd (n) = 1 / sqrt(mean_j inp² + eps).
 * @example rmsnormForward(out, rstd, x, ones, 2, 768, 1e-6)
 */
export function rmsnormForward(out: Floats, rstd: Floats, inp: Floats, weight: Floats, n: number, c: number, eps: number): void {
  for (let r = 0; r < n; r++) {
    const o = r * c;
    let sq = 0;
    for (let j = 0; j < c; j++) sq += inp[o + j]! ** 2;
    const s = 1 / Math.sqrt(sq / c + eps);
    for (let j = 0; j < c; j++) out[o + j] = inp[o + j]! * s * weight[j]!;
    rstd[r] = s;
  }
}

/**
 * Adds the input gradient of rmsnormForward into dinp (n, c). With norm = inp·rstd and
 * dnorm = weight·dout: dinp += rstd·(dnorm − norm·mean_j(dnorm·norm)).
 */
export function rmsnormBackward(dinp: Floats, dout: Floats, inp: Floats, weight: Floats, rstd: Floats, n: number, c: number): void {
  for (let r = 0; r < n; r++) {
    const o = r * c, s = rstd[r]!;
    let sdnn = 0;
    for (let j = 0; j < c; j++) sdnn += weight[j]! * dout[o + j]! * inp[o + j]! * s;
    for (let j = 0; j < c; j++) {
      const norm = inp[o + j]! * s;
      dinp[o + j] = dinp[o + j]! + s * (weight[j]! * dout[o + j]! - norm * (sdnn / c));
    }
  }
}

/** The weight gradient of rmsnormForward on the first c columns of rows ld apart: dweight += Σ_rows inp·rstd·dout. */
export function rmsnormBackwardParams(dweight: Floats, dout: Floats, inp: Floats, rstd: Floats, n: number, c: number, ld: number): void {
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < c; j++) dweight[j] = dweight[j]! + inp[r * ld + j]! * rstd[r]! * dout[r * ld + j]!;
  }
}
