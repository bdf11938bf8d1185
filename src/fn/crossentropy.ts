// Fused softmax cross-entropy, differentiable: the forward saves one log-sum-exp per row,
// not the (N, V) probabilities; the backward recomputes them while adding
// (softmax − smoothed one-hot) · dloss / count into the logits' gradient.
import type { Runtime } from '../runtime.js';
import type { Tensor } from '../tensor.js';
import { crossEntropyRows, crossEntropyRowsBackward, type CrossEntropyRule } from '../ops/crossentropy.js';
import { gradOf } from './grad.js';

/** Options of `crossEntropy`: label smoothing and the ignored target id. */
export type CrossEntropyOptions = CrossEntropyRule;

/**
 * loss (1) = mean over the non-ignored rows of −log softmax(logits)[target] (with label smoothing,
 * PyTorch's definition). logits (…, V) f32, targets (…) i32.
 * @example
 * ```ts
 * const loss = crossEntropy(rt, logits, targets);   // logits (B, T, V), targets (B, T)
 * loss.item();                                      // e.g. 4.17 ≈ ln 65 at initialisation
 * ```
 */
export function crossEntropy(rt: Runtime, logits: Tensor, targets: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  const op = 'crossEntropy';
  const { losses, lse, count } = crossEntropyRows(rt, logits, targets, opts, op);
  const l = losses.f32(), n = l.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += l[i]!;
  const loss = rt.tensor([sum / count], [1], { arena: 'step' });
  if (rt.tape.needsGrad(logits)) {
    rt.tape.record(op, loss, () => {
      if (!loss.grad) return;
      // dlogits += dloss / count · (softmax(logits) − target distribution)
      const scale = loss.grad.item() / count;
      crossEntropyRowsBackward(rt, gradOf(rt, logits), logits, lse, targets, opts, scale, op);
    });
  }
  return loss;
}
