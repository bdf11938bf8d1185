// Plain-JS twin of assembly/optim.ts: the oracle for its tests, the baseline for its
// benchmark and the fallback where a runtime has no wasm SIMD. Same arguments in the same
// order as the kernel; arrays are views starting where the kernel's pointers point.
// Arithmetic is in f64 (JS numbers); Float64Array state keeps it f64 across steps.
import type { Floats } from './softmax.js';

/**
 * One AdamW step over n elements: g = grad·gradScale; m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²;
 * param −= lr·(weightDecay·param + (m/biasCorrection1) / (sqrt(v/biasCorrection2) + eps)), with
 * 1 − β_k given (oneMinusBeta_k), as the kernel takes it.
 * @example adamwF32(p, g, m, v, p.length, 3e-4, 0.9, 0.95, 1 - 0.9, 1 - 0.95, 1e-8, 0.1, 1 - 0.9 ** t, 1 - 0.95 ** t, 1)
 */
export function adamwF32(param: Floats, grad: Floats, m: Floats, v: Floats, n: number, lr: number,
  beta1: number, beta2: number, oneMinusBeta1: number, oneMinusBeta2: number, eps: number, weightDecay: number,
  biasCorrection1: number, biasCorrection2: number, gradScale: number): void {
  for (let i = 0; i < n; i++) {
    const g = grad[i]! * gradScale;
    m[i] = beta1 * m[i]! + oneMinusBeta1 * g;
    v[i] = beta2 * v[i]! + oneMinusBeta2 * g * g;
    const step = (m[i]! / biasCorrection1) / (Math.sqrt(v[i]! / biasCorrection2) + eps);
    param[i] = param[i]! - lr * (weightDecay * param[i]! + step);
  }
}

/**
 * One SGD step over n elements: g = grad·gradScale + weightDecay·param; buf = momentum·buf + g;
 * param −= lr·(nesterov ? g + momentum·buf : buf). With momentum 0, param −= lr·g and
 * momentumBuf is not touched (it may be null).
 */
export function sgdF32(param: Floats, grad: Floats, momentumBuf: Floats | null, n: number, lr: number,
  momentum: number, weightDecay: number, nesterov: number, gradScale: number): void {
  for (let i = 0; i < n; i++) {
    const g = grad[i]! * gradScale + weightDecay * param[i]!;
    let d = g;
    if (momentum !== 0) {
      const buf = momentum * momentumBuf![i]! + g;
      momentumBuf![i] = buf;
      d = nesterov ? g + momentum * buf : buf;
    }
    param[i] = param[i]! - lr * d;
  }
}

/** out[0] = Σ_i x_i² (NaN or ±Inf in x give a non-finite sum). */
export function sumsqF32(out: Floats, x: Floats, n: number): void {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += x[i]! * x[i]!;
  out[0] = sum;
}
