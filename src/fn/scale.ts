// y = s·x for a constant s (the √d_model embedding scale of the original Transformer), with its
// backward dx += s·dy.
import type { Runtime } from '../runtime.js';
import type { Tensor } from '../tensor.js';
import { axpy, scale } from '../ops/elementwise.js';
import { gradOf } from './grad.js';

/**
 * y (…) = s · x (…). Records its backward when gradients are on.
 * @example
 * ```ts
 * const x = scaled(rt, embedding(rt, ids, table), Math.sqrt(512)); // (B, T, 512)
 * ```
 */
export function scaled(rt: Runtime, x: Tensor, s: number): Tensor {
  const y = scale(rt, x, s);
  if (rt.tape.needsGrad(x)) {
    rt.tape.record('scaled', y, () => {
      if (y.grad) axpy(rt, gradOf(rt, x), y.grad, s);
    });
  }
  return y;
}
