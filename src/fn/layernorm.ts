// layernorm over the last dimension, differentiable: the forward saves mean and rstd per
// row (step arena) for the backward, which adds into dx, dweight and dbias in one kernel.
import type { Runtime } from '../runtime.js';
import type { Tensor } from '../tensor.js';
import { layernorm as layernormOp, layernormBackward } from '../ops/layernorm.js';
import { gradOf } from './grad.js';

/**
 * out (…, C) = (x − mean) / sqrt(var + eps) · weight + bias, per row.
 * @example
 * ```ts
 * const h = layerNorm(rt, x, ln1.weight, ln1.bias); // x (B, T, C)
 * ```
 */
export function layerNorm(rt: Runtime, x: Tensor, weight: Tensor, bias: Tensor, eps = 1e-5): Tensor {
  const { out, mean, rstd } = layernormOp(rt, x, weight, bias, { eps });
  if (rt.tape.needsGrad(x, weight, bias)) {
    rt.tape.record('layerNorm', out, () => {
      if (!out.grad) return;
      // The kernel always writes all three gradients; inputs that need none get scratch.
      const dx = x.requiresGrad ? gradOf(rt, x) : rt.zeros(x.shape, { arena: 'step' });
      const dw = weight.requiresGrad ? gradOf(rt, weight) : rt.zeros(weight.shape, { arena: 'step' });
      const db = bias.requiresGrad ? gradOf(rt, bias) : rt.zeros(bias.shape, { arena: 'step' });
      layernormBackward(rt, dx, dw, db, out.grad, x, weight, mean, rstd);
    });
  }
  return out;
}
