// Pointwise activations, differentiable: GELU (tanh form, GPT-2/BERT) and ReLU (the paper) for
// feed-forward layers, tanh for BERT's pooler, over the checked launchers of src/ops/activation.ts.
import { ValueError, preview } from '../errors.js';
import type { Runtime } from '../runtime.js';
import type { Tensor } from '../tensor.js';
import { gelu, geluBackward, geluErf, geluErfBackward, relu, reluBackward, tanh, tanhBackward } from '../ops/activation.js';
import { gradOf } from './grad.js';

/**
 * Which nonlinearity a layer uses: 'gelu' is the tanh approximation (GPT-2, the original BERT;
 * transformers' "gelu_new"), 'gelu_erf' the exact x·Φ(x) (transformers' "gelu": Hugging Face
 * BERT and ViT checkpoints).
 */
export type Activation = 'gelu' | 'gelu_erf' | 'relu' | 'tanh';

const FORWARD = { gelu, gelu_erf: geluErf, relu, tanh };

/**
 * Throws ValueError unless `value` is one of `allowed` (a config's activation field).
 * @example
 * ```ts
 * checkActivation('GPT config', cfg.activation, ['gelu', 'gelu_erf', 'relu']);
 * ```
 */
export function checkActivation(where: string, value: unknown, allowed: readonly Activation[]): void {
  if (!allowed.includes(value as Activation)) throw new ValueError(`${where}: activation is ${preview(value)}, expected ${allowed.map((a) => `'${a}'`).join(', ')}`);
}

/**
 * out = gelu(x), relu(x) or tanh(x), elementwise.
 * @example
 * ```ts
 * const h = activation(rt, 'gelu', linear(rt, x, cFc.weight, cFc.bias));
 * const pooled = activation(rt, 'tanh', linear(rt, cls, pooler.weight, pooler.bias, 'out,in'));
 * ```
 */
export function activation(rt: Runtime, kind: Activation, x: Tensor): Tensor {
  const out = FORWARD[kind](rt, x);
  if (rt.tape.needsGrad(x)) {
    rt.tape.record(kind, out, () => {
      if (!out.grad) return;
      // gelu' needs the input; relu' only the sign of the output; tanh' = 1 − out²
      if (kind === 'gelu') geluBackward(rt, gradOf(rt, x), out.grad, x);
      else if (kind === 'gelu_erf') geluErfBackward(rt, gradOf(rt, x), out.grad, x);
      else if (kind === 'relu') reluBackward(rt, gradOf(rt, x), out.grad, out);
      else tanhBackward(rt, gradOf(rt, x), out.grad, out);
    });
  }
  return out;
}
