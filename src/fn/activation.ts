// Pointwise activations, differentiable: GELU (tanh form, GPT-2/BERT) and ReLU (the paper),
// over the checked launchers of src/ops/activation.ts.
import type { Runtime } from '../runtime.js';
import type { Tensor } from '../tensor.js';
import { gelu, geluBackward, relu, reluBackward } from '../ops/activation.js';
import { gradOf } from '../autograd/tape.js';

/** Which nonlinearity a feed-forward layer uses. */
export type Activation = 'gelu' | 'relu';

/**
 * out = gelu(x) or relu(x), elementwise.
 * @example
 * ```ts
 * const h = activation(rt, 'gelu', linear(rt, x, cFc.weight, cFc.bias));
 * ```
 */
export function activation(rt: Runtime, kind: Activation, x: Tensor): Tensor {
  const out = kind === 'gelu' ? gelu(rt, x) : relu(rt, x);
  if (rt.tape.needsGrad(x)) {
    rt.tape.record(kind, out, () => {
      if (!out.grad) return;
      // gelu' needs the input; relu' only the sign of the output
      if (kind === 'gelu') geluBackward(rt, gradOf(rt, x), out.grad, x);
      else reluBackward(rt, gradOf(rt, x), out.grad, out);
    });
  }
  return out;
}
