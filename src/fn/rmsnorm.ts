// RMSNorm over the last dimension, differentiable: the forward saves rstd per row (step arena)
// for the backward, which adds into dx and dweight (only those that need gradients).
import type { Runtime } from '../runtime.js';
import type { Tensor } from '../tensor.js';
import { rmsnorm as rmsnormOp, rmsnormBackward } from '../ops/rmsnorm.js';
import { gradOf } from './grad.js';

/**
 * out (…, C) = x / sqrt(mean(x²) + eps) · weight, per row (T5's LayerNorm, Llama's RMSNorm).
 * @example
 * ```ts
 * const h = rmsNorm(rt, x, norm.weight, 1e-6); // x (B, T, C), weight (C)
 * ```
 */
export function rmsNorm(rt: Runtime, x: Tensor, weight: Tensor, eps = 1e-6): Tensor {
  const { out, rstd } = rmsnormOp(rt, x, weight, { eps });
  if (rt.tape.needsGrad(x, weight)) {
    rt.tape.record('rmsNorm', out, () => {
      if (!out.grad) return;
      // out = x · rstd · weight  →  dx += rstd·(dnorm − norm·mean(dnorm·norm)),  dweight += Σ norm·dout
      rmsnormBackward(rt, x.requiresGrad ? gradOf(rt, x) : null, weight.requiresGrad ? gradOf(rt, weight) : null,
        out.grad, x, weight, rstd);
    });
  }
  return out;
}
