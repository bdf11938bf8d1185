// Plain-JS twin of assembly/crossentropy.ts: the oracle for its tests, the baseline for its
// benchmark and the fallback where a runtime has no wasm SIMD. Same arguments in the same
// order as the kernel; arrays are views starting where the kernel's pointers point.
// Arithmetic is in f64 (JS numbers); Float64Array arguments keep it f64 end to end (gradchecks).
import type { Floats } from './softmax.js';

/**
 * Per row i of logits z (n, v) with target t = targets[i] and label smoothing ε:
 * lse[i] = log Σ_j exp(z_ij); losses[i] = lse[i] − (1−ε)·z[i,t] − (ε/v)·Σ_j z_ij, or 0 when
 * t == ignoreIndex (lse is still written).
 * @example crossentropyForward(losses, lse, logits, targets, 8, 65, 0.1, -100)
 */
export function crossentropyForward(losses: Floats, lse: Floats, logits: Floats, targets: Int32Array,
  n: number, v: number, smoothing: number, ignoreIndex: number): void {
  for (let i = 0; i < n; i++) {
    const o = i * v;
    let max = -Infinity;
    for (let j = 0; j < v; j++) max = Math.max(max, logits[o + j]!);
    let sum = 0, zsum = 0;
    for (let j = 0; j < v; j++) {
      sum += Math.exp(logits[o + j]! - max);
      zsum += logits[o + j]!;
    }
    lse[i] = max + Math.log(sum);
    const t = targets[i]!;
    losses[i] = t === ignoreIndex ? 0 : max + Math.log(sum) - (1 - smoothing) * logits[o + t]! - (smoothing / v) * zsum;
  }
}

/**
 * dlogits (n, v) += scale·(exp(z_ij − lse_i) − (1−ε)·[j == t] − ε/v), differentiating
 * `losses[i] = lse[i] − (1−ε)·z[i,t] − (ε/v)·Σ_j z_ij`; rows with t == ignoreIndex are untouched.
 */
export function crossentropyBackward(dlogits: Floats, logits: Floats, lse: Floats, targets: Int32Array,
  n: number, v: number, smoothing: number, ignoreIndex: number, scale: number): void {
  for (let i = 0; i < n; i++) {
    const t = targets[i]!;
    if (t === ignoreIndex) continue;
    const o = i * v;
    for (let j = 0; j < v; j++) {
      const p = Math.exp(logits[o + j]! - lse[i]!);
      const y = (j === t ? 1 - smoothing : 0) + smoothing / v;
      dlogits[o + j] = dlogits[o + j]! + scale * (p - y);
    }
  }
}
