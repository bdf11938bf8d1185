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
  const [seed, threshold, scale] = checked('dropout', { out, x }, mask);
  rt.kernels.dropout_forward(out.ptr, x.ptr, x.size, seed, threshold, scale);
  return out;
}

/** dx += dout through the same mask as the forward (the backward of `dropoutMasked`). */
export function dropoutMaskedBackward(rt: Runtime, dx: Tensor, dout: Tensor, mask: DropoutMask): Tensor {
  const [seed, threshold, scale] = checked('dropoutBackward', { dx, dout }, mask);
  rt.kernels.dropout_backward(dx.ptr, dout.ptr, dx.size, seed, threshold, scale);
  return dx;
}

/** Checks the mask and that both tensors are f32 of one shape; returns the kernel's parameters. */
function checked(op: string, tensors: Record<string, Tensor>, mask: DropoutMask): [seed: number, threshold: number, scale: number] {
  const entries = Object.entries(tensors);
  const shape = entries[0]![1].shape;
  for (const [name, t] of entries) {
    expectF32(op, name, t);
    expectShape(op, name, t, shape);
  }
  return params(op, mask);
}
