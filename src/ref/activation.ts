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
