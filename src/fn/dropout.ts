// dropout, differentiable and seeded: each call draws one 32-bit seed from the given Rng;
// the kernel keeps element i when a hash of (seed, i) clears the threshold, so the mask is
// never stored and the backward regenerates it. Identity when p = 0 or not training.
import { ValueError } from '../errors.js';
import type { Rng } from '../random.js';
import type { Runtime } from '../runtime.js';
import type { Tensor } from '../tensor.js';
import { expectF32 } from '../ops/check.js';
import { dropoutMasked, dropoutMaskedBackward, type DropoutMask } from '../ops/dropout.js';
import { gradOf } from './grad.js';

/**
 * out = x · mask / (1 − p), mask ~ Bernoulli(1 − p); `x` itself when p = 0 or `training` is false.
 * @example
 * ```ts
 * const h = dropout(rt, x, 0.1, rng, model.training);
 * ```
 */
export function dropout(rt: Runtime, x: Tensor, p: number, rng: Rng, training: boolean): Tensor {
  if (!(p >= 0 && p < 1)) throw new ValueError(`dropout: p is ${p}, expected 0 ≤ p < 1`);
  if (p === 0 || !training) return x;
  expectF32('dropout', 'x', x);
  const mask: DropoutMask = { seed: rng.nextU32(), p };
  const out = dropoutMasked(rt, rt.empty(x.shape, { arena: 'step' }), x, mask);
  if (rt.tape.needsGrad(x)) {
    rt.tape.record('dropout', out, () => {
      if (out.grad) dropoutMaskedBackward(rt, gradOf(rt, x), out.grad, mask);
    });
  }
  return out;
}
