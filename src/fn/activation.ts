// Pointwise activations, differentiable: GELU (tanh form, GPT-2/BERT) and ReLU (the paper).
import type { Runtime } from '../runtime.js';
import type { Tensor } from '../tensor.js';
import { expectF32 } from '../ops/check.js';
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
  expectF32(kind, 'x', x);
  const out = rt.empty(x.shape, { arena: 'step' });
  const k = rt.kernels;
  if (kind === 'gelu') k.gelu_forward(out.ptr, x.ptr, x.size);
  else k.relu_forward(out.ptr, x.ptr, x.size);
  if (rt.tape.needsGrad(x)) {
    rt.tape.record(kind, out, () => {
      if (!out.grad) return;
      const dx = gradOf(rt, x);
      // gelu' needs the input; relu' only the sign of the output
      if (kind === 'gelu') k.gelu_backward(dx.ptr, out.grad.ptr, x.ptr, x.size);
      else k.relu_backward(dx.ptr, out.grad.ptr, out.ptr, x.size);
    });
  }
  return out;
}
