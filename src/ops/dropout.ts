// Inverted dropout by a counter-based hash: element i is kept when hash(seed, i) ≥ threshold
// and then scaled by 1 / (1 − p). The mask is never stored; the backward regenerates it.
import { ValueError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import type { Tensor } from '../tensor.js';
import { expectF32, expectShape } from './check.js';

/** One dropout draw: the seed, and p as the kernels take it. */
export interface DropoutMask {
  /** 32-bit seed of the hash (one per call). */
  seed: number;
  /** Drop probability, 0 ≤ p < 1. */
  p: number;
}

/** The kernel parameters of `mask`: threshold = ⌊p · 2³²⌋ and scale 1 / (1 − p) rounded to f32 (what the kernel holds, so the JS backend agrees). */
function params(op: string, mask: DropoutMask): [seed: number, threshold: number, scale: number] {
  const { seed, p } = mask;
  if (!(p >= 0 && p < 1)) throw new ValueError(`${op}: p is ${p}, expected 0 ≤ p < 1`);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new ValueError(`${op}: seed is ${seed}, expected an integer in [0, 2³²)`);
  return [seed, Math.floor(p * 4294967296), Math.fround(1 / (1 - p))];
}

/**
 * out = x with each element zeroed with probability p (by `mask`), the rest scaled by 1 / (1 − p).
 * @example
 * ```ts
 * dropoutMasked(rt, out, x, { seed: rng.nextU32(), p: 0.1 });
 * ```
 */
export function dropoutMasked(rt: Runtime, out: Tensor, x: Tensor, mask: DropoutMask): Tensor {
  const op = 'dropout';
  const [seed, threshold, scale] = params(op, mask);
  expectF32(op, 'x', x);
  expectF32(op, 'out', out);
  expectShape(op, 'out', out, x.shape);
  rt.kernels.dropout_forward(out.ptr, x.ptr, x.size, seed, threshold, scale);
  return out;
}

/** dx += dout through the same mask as the forward (the backward of `dropoutMasked`). */
export function dropoutMaskedBackward(rt: Runtime, dx: Tensor, dout: Tensor, mask: DropoutMask): Tensor {
  const op = 'dropoutBackward';
  const [seed, threshold, scale] = params(op, mask);
  expectF32(op, 'dx', dx);
  expectF32(op, 'dout', dout);
  expectShape(op, 'dout', dout, dx.shape);
  rt.kernels.dropout_backward(dx.ptr, dout.ptr, dx.size, seed, threshold, scale);
  return dx;
}
