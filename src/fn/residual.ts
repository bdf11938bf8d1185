// residual add, differentiable: y = a + b. Its backward hands dy to `a` without a copy
// (the residual stream's gradient flows through every block untouched) and adds it to `b`.
import type { Runtime } from '../runtime.js';
import type { Tensor } from '../tensor.js';
import { add as addOp } from '../ops/elementwise.js';
import { passGrad } from './grad.js';

/**
 * y = a + b (same shapes).
 * @example
 * ```ts
 * x = residual(rt, x, attn.forward(ln1.forward(x)));
 * ```
 */
export function residual(rt: Runtime, a: Tensor, b: Tensor): Tensor {
  const y = addOp(rt, a, b);
  if (rt.tape.needsGrad(a, b)) {
    rt.tape.record('residual', y, () => {
      if (!y.grad) return;
      passGrad(rt, a, y.grad, true);
      passGrad(rt, b, y.grad, false);
    });
  }
  return y;
}
