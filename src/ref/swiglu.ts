// Plain-JS twin of assembly/swiglu.ts (oracle, baseline, fallback): out = silu(gate) ⊙ up and its
// backward, gate and up rows ld apart, out and dout contiguous. Arithmetic in f64.
import type { Floats } from './softmax.js';

/** sigmoid(a) in f64 (exp overflows to Infinity for a < −709, giving 0, as it should). */
const sigmoid = (a: number): number => 1 / (1 + Math.exp(-a));

/**
 * out (n, c) = silu(gate) · up, silu(a) = a·sigmoid(a); gate and up (n, c) rows ld apart.
 * @example swigluForward(out, gateUp, gateUp.subarray(512), 4, 512, 1024) // halves of one (4, 1024)
 */
export function swigluForward(out: Floats, gate: Floats, up: Floats, n: number, c: number, ld: number): void {
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < c; j++) {
      const a = gate[r * ld + j]!;
      out[r * c + j] = a * sigmoid(a) * up[r * ld + j]!;
    }
  }
}

/** dgate += dout·up·silu'(gate), silu' = σ·(1 + a·(1 − σ)); dup += dout·silu(gate). */
export function swigluBackward(dgate: Floats, dup: Floats, dout: Floats, gate: Floats, up: Floats, n: number, c: number, ld: number): void {
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < c; j++) {
      const i = r * ld + j, a = gate[i]!, s = sigmoid(a), g = dout[r * c + j]!;
      dgate[i] = dgate[i]! + g * up[i]! * s * (1 + a * sigmoid(-a));    // 1 − σ(a) = σ(−a), no cancellation
      dup[i] = dup[i]! + g * a * s;
    }
  }
}
