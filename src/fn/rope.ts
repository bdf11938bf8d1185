// Rotary position embeddings (RoPE, GPT-NeoX / Llama "rotate half"), differentiable: the
// forward rotates each head's first rotaryDim elements by position, the backward rotates the
// gradient back (angle −p·θ) into the input's own columns (e.g. Q or K inside a fused qkv).
import type { Runtime } from '../runtime.js';
import type { Tensor } from '../tensor.js';
import { ropeForward, ropeBackward, type RopeOptions } from '../ops/rope.js';
import type { ColumnRange } from '../ops/swiglu.js';
import { gradOf } from './grad.js';

/**
 * x (B, T, NH·hs) — a tensor or a column slice `{ t, col, width }` of one (attention's
 * ColumnSlice) — with every head rotated by position: element i pairs with i + rd/2 and turns
 * by p·θ_i, θ_i = base^(−2i/rd), p = pos0 + t or positions[b, t]. Returns a new contiguous
 * (B, T, NH·hs) tensor. Throws ShapeError for an odd head size, ValueError for a bad option.
 * @example
 * ```ts
 * const qkv = linear(rt, x, wQKV, null, 'out,in');                    // (B, T, 3C)
 * const q = rope(rt, { t: qkv, col: 0, width: C }, nHead);            // (B, T, C), positions 0 … T−1
 * const k = rope(rt, { t: qkv, col: C, width: C }, nHead, { pos0 }); // decoding from position pos0
 * ```
 */
export function rope(rt: Runtime, x: Tensor | ColumnRange, nHead: number, opts: RopeOptions = {}): Tensor {
  const { out, state } = ropeForward(rt, x, nHead, opts);
  const src = 't' in x ? x.t : x;
  if (rt.tape.needsGrad(src)) {
    rt.tape.record('rope', out, () => {
      if (!out.grad) return;
      // out = R(p·θ)·x  →  dx += R(−p·θ)·dout, in x's columns
      ropeBackward(rt, gradOf(rt, src), out.grad, state);
    });
  }
  return out;
}
