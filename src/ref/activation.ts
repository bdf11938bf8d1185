// Plain-JS twin of assembly/activation.ts: the oracle for its tests, the baseline for its
// benchmark and the fallback where a runtime has no wasm SIMD. Same arguments in the same
// order as the kernel; arrays are views starting where the kernel's pointers point.
import type { Floats } from './softmax.js';

const K = Math.sqrt(2 / Math.PI);

/**
 * out (n) = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), the tanh GELU of GPT-2 and BERT.
 * @example geluForward(out, inp, inp.length)
 */
export function geluForward(out: Floats, inp: Floats, n: number): void {
  for (let i = 0; i < n; i++) {
    const x = inp[i]!;
    out[i] = 0.5 * x * (1 + Math.tanh(K * (x + 0.044715 * x * x * x)));
  }
}

/** dinp (n) += gelu'(inp)·dout, differentiating `out = 0.5·x·(1 + tanh(u))`. */
export function geluBackward(dinp: Floats, dout: Floats, inp: Floats, n: number): void {
  for (let i = 0; i < n; i++) {
    const x = inp[i]!;
    const t = Math.tanh(K * (x + 0.044715 * x * x * x));
    const du = K * (1 + 3 * 0.044715 * x * x);
    const grad = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du;
    dinp[i] = dinp[i]! + grad * dout[i]!;
  }
}

/**
 * erfc(z) in f64 for z ≥ 0, relative error ≲ 1e-14: 1 − erf from erf's Maclaurin series below
 * z = 1.5 (erfc ≥ 0.034 there, so the subtraction costs < 5 bits), the continued fraction
 * erfc(z) = e^(−z²)/√π · 1/(z + (1/2)/(z + 1/(z + (3/2)/(z + …)))) from there on, evaluated from
 * its 120th term back (measured: exact to 2e-16 at z = 1.5, 2, 2.5, 3).
 * @example erfcPositive(1) // 0.15729920705028513
 */
export function erfcPositive(z: number): number {
  if (Number.isNaN(z)) return NaN;
  if (z < 1.5) {
    let term = z, sum = z;                         // Σ (−1)^n z^(2n+1) / (n! (2n+1))
    for (let n = 1; n < 200; n++) {
      term *= (-z * z) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return 1 - (2 / Math.sqrt(Math.PI)) * sum;
  }
  let f = z;
  for (let k = 120; k >= 1; k--) f = z + k / 2 / f;
  return Math.exp(-z * z) / Math.sqrt(Math.PI) / f;
}

/** Φ(x), the standard normal CDF, in f64 from erfcPositive (no cancellation in either tail). */
function normalCdf(x: number): number {
  const w = 0.5 * erfcPositive(Math.abs(x) / Math.SQRT2);
  return x < 0 ? w : 1 - w;
}

/**
 * out (n) = x·Φ(x) = 0.5·x·(1 + erf(x/√2)), the erf GELU (transformers' "gelu", BERT and ViT checkpoints).
 * @example geluErfForward(out, inp, inp.length)
 */
export function geluErfForward(out: Floats, inp: Floats, n: number): void {
  for (let i = 0; i < n; i++) out[i] = inp[i]! * normalCdf(inp[i]!);
}

/** dinp (n) += (Φ(x) + x·φ(x))·dout, differentiating `out = x·Φ(x)`; x clamped to [−10, 10] like the kernel. */
export function geluErfBackward(dinp: Floats, dout: Floats, inp: Floats, n: number): void {
  for (let i = 0; i < n; i++) {
    const x = Math.min(Math.max(inp[i]!, -10), 10);
    const grad = Number.isNaN(inp[i]!) ? NaN : normalCdf(x) + x * Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
    dinp[i] = dinp[i]! + grad * dout[i]!;
  }
}

/** out (n) = max(inp, 0) (NaN gives 0). */
export function reluForward(out: Floats, inp: Floats, n: number): void {
  for (let i = 0; i < n; i++) out[i] = inp[i]! > 0 ? inp[i]! : 0;
}

/** dinp (n) += out > 0 ? dout : 0, differentiating `out = max(inp, 0)`. */
export function reluBackward(dinp: Floats, dout: Floats, out: Floats, n: number): void {
  for (let i = 0; i < n; i++) if (out[i]! > 0) dinp[i] = dinp[i]! + dout[i]!;
}

/**
 * out (n) = tanh(inp (n)) (BERT's pooler).
 * @example tanhForward(out, inp, inp.length)
 */
export function tanhForward(out: Floats, inp: Floats, n: number): void {
  for (let i = 0; i < n; i++) out[i] = Math.tanh(inp[i]!);
}

/** dinp (n) += (1 − out²)·dout, differentiating `out = tanh(inp)`. */
export function tanhBackward(dinp: Floats, dout: Floats, out: Floats, n: number): void {
  for (let i = 0; i < n; i++) {
    const y = out[i]!;
    dinp[i] = dinp[i]! + (1 - y) * (1 + y) * dout[i]!;
  }
}
