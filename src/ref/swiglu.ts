// Plain-JS twin of assembly/swiglu.ts (oracle, baseline, fallback): out = silu(gate) ⊙ up
// (SwiGLU) or gelu(gate) ⊙ up (GeGLU, tanh GELU) and their backwards, gate and up rows ld apart,
// out and dout contiguous. Arithmetic in f64.
import type { Floats } from './softmax.js';
import { geluBackward, geluForward } from './activation.js';

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

const one = new Float64Array(1), two = new Float64Array(1), three = new Float64Array(1);

/**
 * out (n, c) = gelu(gate) · up (the tanh GELU of geluForward); gate and up (n, c) rows ld apart.
 * @example gegluForward(out, gate, up, 4, 1024, 1024) // T5 v1.1's wi_0 and wi_1 outputs
 */
export function gegluForward(out: Floats, gate: Floats, up: Floats, n: number, c: number, ld: number): void {
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < c; j++) {
      one[0] = gate[r * ld + j]!;
      geluForward(two, one, 1);
      out[r * c + j] = two[0]! * up[r * ld + j]!;
    }
  }
}

/** dgate += dout·up·gelu'(gate); dup += dout·gelu(gate) (geluBackward's and geluForward's formulas). */
export function gegluBackward(dgate: Floats, dup: Floats, dout: Floats, gate: Floats, up: Floats, n: number, c: number, ld: number): void {
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < c; j++) {
      const i = r * ld + j, g = dout[r * c + j]!;
      one[0] = gate[i]!;
      two[0] = 0;
      three[0] = g * up[i]!;
      geluBackward(two, three, one, 1);              // two = gelu'(gate)·dout·up
      dgate[i] = dgate[i]! + two[0]!;
      geluForward(three, one, 1);
      dup[i] = dup[i]! + g * three[0]!;
    }
  }
}
