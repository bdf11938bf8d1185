// Plain-JS twin of assembly/layernorm.ts: the oracle for its tests, the baseline for its
// benchmark and the fallback where a runtime has no wasm SIMD. Same arguments in the same
// order as the kernel; arrays are views starting where the kernel's pointers point.
// Arithmetic is in f64 (JS numbers); two-pass statistics.
import type { Floats } from './softmax.js';

/**
 * out (n, c) = (inp − mean)·rstd·weight + bias per row; saves mean (n) and
 * rstd (n) = 1/sqrt(var + eps), with the biased variance.
 * @example layernormForward(out, mean, rstd, x, ones, zeros, 2, 768, 1e-5)
 */
export function layernormForward(out: Floats, mean: Floats, rstd: Floats, inp: Floats,
  weight: Floats, bias: Floats, n: number, c: number, eps: number): void {
  for (let r = 0; r < n; r++) {
    const o = r * c;
    let sum = 0;
    for (let j = 0; j < c; j++) sum += inp[o + j]!;
    const m = sum / c;
    let sq = 0;
    for (let j = 0; j < c; j++) sq += (inp[o + j]! - m) ** 2;
    const s = 1 / Math.sqrt(sq / c + eps);
    for (let j = 0; j < c; j++) out[o + j] = (inp[o + j]! - m) * s * weight[j]! + bias[j]!;
    mean[r] = m;
    rstd[r] = s;
  }
}

/**
 * Adds the gradients of layernormForward into dinp (n, c), dweight (c), dbias (c).
 * With norm = (inp − mean)·rstd and dnorm = weight·dout: dbias += dout, dweight += norm·dout,
 * dinp += rstd·(dnorm − mean_j dnorm − norm·mean_j(dnorm·norm)).
 */
export function layernormBackward(dinp: Floats, dweight: Floats | null, dbias: Floats | null, dout: Floats,
  inp: Floats, weight: Floats, mean: Floats, rstd: Floats, n: number, c: number): void {
  for (let r = 0; r < n; r++) {
    const o = r * c, m = mean[r]!, s = rstd[r]!;
    let sdn = 0, sdnn = 0;
    for (let j = 0; j < c; j++) {
      const dn = weight[j]! * dout[o + j]!;
      sdn += dn;
      sdnn += dn * (inp[o + j]! - m) * s;
    }
    for (let j = 0; j < c; j++) {
      const norm = (inp[o + j]! - m) * s;
      if (dweight && dbias) {
        dbias[j] = dbias[j]! + dout[o + j]!;
        dweight[j] = dweight[j]! + norm * dout[o + j]!;
      }
      dinp[o + j] = dinp[o + j]! + s * (weight[j]! * dout[o + j]! - sdn / c - norm * (sdnn / c));
    }
  }
}

/** The parameter gradients of layernormBackward alone, on the first c columns of rows ld apart. */
export function layernormBackwardParams(dweight: Floats, dbias: Floats, dout: Floats, inp: Floats,
  mean: Floats, rstd: Floats, n: number, c: number, ld: number): void {
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < c; j++) {
      const g = dout[r * ld + j]!;
      dbias[j] = dbias[j]! + g;
      dweight[j] = dweight[j]! + (inp[r * ld + j]! - mean[r]!) * rstd[r]! * g;
    }
  }
}
