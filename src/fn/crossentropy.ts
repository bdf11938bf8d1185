// Fused softmax cross-entropy, differentiable: the forward saves one log-sum-exp per row,
// not the (N, V) probabilities; the backward recomputes them while adding
// (softmax − smoothed one-hot) · dloss / count into the logits' gradient.
import { DTypeError, ShapeError, TokenError, ValueError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import type { Tensor } from '../tensor.js';
import { expectF32, rowsCols } from '../ops/check.js';
import { gradOf } from '../autograd/tape.js';

export interface CrossEntropyOptions {
  /** Targets equal to this id add nothing to the loss or its count (default −100, as PyTorch). */
  ignoreIndex?: number;
  /** Label smoothing ε in [0, 1): the target distribution is (1 − ε)·one-hot + ε/V (default 0). */
  smoothing?: number;
}

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
  expectF32(op, 'logits', logits);
  if (targets.dtype !== 'i32') throw new DTypeError(`${op}: targets is ${targets.describe()}, expected dtype i32`);
  const [n, v] = rowsCols(logits);
  if (targets.size !== n) {
    throw new ShapeError(`${op}: targets [${targets.shape.join(', ')}] has ${targets.size} entries, logits [${logits.shape.join(', ')}] has ${n} rows`);
  }
  const ignore = opts.ignoreIndex ?? -100;
  const smoothing = opts.smoothing ?? 0;
  if (!(smoothing >= 0 && smoothing < 1)) throw new ValueError(`${op}: smoothing is ${smoothing}, expected 0 ≤ ε < 1`);
  if (!Number.isInteger(ignore)) throw new ValueError(`${op}: ignoreIndex is ${ignore}, expected an integer`);
  const t = targets.i32();
  let count = 0;
  for (let i = 0; i < n; i++) {
    const id = t[i]!;
    if (id === ignore) continue;
    if (id < 0 || id >= v) throw new TokenError(`${op}: target ${id} at position ${i} is outside [0, ${v}) and is not the ignore index ${ignore}`);
    count++;
  }
  if (count === 0) throw new ValueError(`${op}: all ${n} targets equal the ignore index ${ignore}; the mean loss is undefined`);
  const losses = rt.empty([n], { arena: 'step' });
  const lse = rt.empty([n], { arena: 'step' });
  rt.kernels.crossentropy_forward(losses.ptr, lse.ptr, logits.ptr, targets.ptr, n, v, smoothing, ignore);
  const l = losses.f32();
  let sum = 0;
  for (let i = 0; i < n; i++) sum += l[i]!;
  const loss = rt.tensor([sum / count], [1], { arena: 'step' });
  if (rt.tape.needsGrad(logits)) {
    rt.tape.record(op, loss, () => {
      if (!loss.grad) return;
      // dlogits += dloss / count · (softmax(logits) − target distribution)
      const scale = loss.grad.item() / count;
      rt.kernels.crossentropy_backward(gradOf(rt, logits).ptr, logits.ptr, lse.ptr, targets.ptr, n, v, smoothing, ignore, scale);
    });
  }
  return loss;
}
