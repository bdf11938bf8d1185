// y = s·x for a constant s (the √d_model embedding scale of the original Transformer), with its
// backward dx += s·dy.
import type { Runtime } from '../runtime.js';
import type { Tensor } from '../tensor.js';
import { expectF32 } from '../ops/check.js';
import { gradOf } from '../autograd/tape.js';

/**
 * y (…) = s · x (…). Records its backward when gradients are on.
 * @example
 * ```ts
 * const x = scaled(rt, embedding(rt, ids, table), Math.sqrt(512)); // (B, T, 512)
 * ```
 */
export function scaled(rt: Runtime, x: Tensor, s: number): Tensor {
  expectF32('scaled', 'x', x);
  const y = rt.empty(x.shape, { arena: 'step' });
  rt.kernels.scale_f32(y.ptr, x.ptr, s, x.size);
  if (rt.tape.needsGrad(x)) {
    rt.tape.record('scaled', y, () => {
      if (y.grad) rt.kernels.axpy_f32(gradOf(rt, x).ptr, y.grad.ptr, s, x.size);
    });
  }
  return y;
}
