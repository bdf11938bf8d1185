// Pointwise activations, differentiable: GELU (tanh form, GPT-2/BERT) and ReLU (the paper) for
// feed-forward layers, tanh for BERT's pooler, over the checked launchers of src/ops/activation.ts.
import type { Runtime } from '../runtime.js';
import type { Tensor } from '../tensor.js';
import { gelu, geluBackward, relu, reluBackward, tanh, tanhBackward } from '../ops/activation.js';
import { gradOf } from './grad.js';

/** Which nonlinearity a layer uses. */
export type Activation = 'gelu' | 'relu' | 'tanh';

/**
 * out = gelu(x), relu(x) or tanh(x), elementwise.
 * @example
 * ```ts
 * const h = activation(rt, 'gelu', linear(rt, x, cFc.weight, cFc.bias));
 * const pooled = activation(rt, 'tanh', linear(rt, cls, pooler.weight, pooler.bias, 'out,in'));
 * ```
 */
export function activation(rt: Runtime, kind: Activation, x: Tensor): Tensor {
  const out = kind === 'gelu' ? gelu(rt, x) : kind === 'relu' ? relu(rt, x) : tanh(rt, x);
  if (rt.tape.needsGrad(x)) {
    rt.tape.record(kind, out, () => {
      if (!out.grad) return;
      // gelu' needs the input; relu' only the sign of the output; tanh' = 1 − out²
      if (kind === 'gelu') geluBackward(rt, gradOf(rt, x), out.grad, x);
      else if (kind === 'relu') reluBackward(rt, gradOf(rt, x), out.grad, out);
      else tanhBackward(rt, gradOf(rt, x), out.grad, out);
    });
  }
  return out;
}
