// Softmax cross-entropy over the rows of logits, fused: the forward writes each row's loss and
// log-sum-exp (not the (N, V) probabilities); the backward recomputes the probabilities from
// the log-sum-exp and adds scale · (softmax − smoothed one-hot) into the logits' gradient.
// Targets are checked against the vocabulary before a kernel runs.
import { DTypeError, ShapeError, TokenError, ValueError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import type { Tensor } from '../tensor.js';
import { expectF32, expectShape, rowsCols } from './check.js';

/** Label smoothing ε and the target id that counts for nothing. */
export interface CrossEntropyRule {
  /** Targets equal to this id add nothing to the loss or its count (default −100, as PyTorch). */
  ignoreIndex?: number;
  /** Label smoothing ε in [0, 1): the target distribution is (1 − ε)·one-hot + ε/V (default 0). */
  smoothing?: number;
}

/** Checks logits (…, V) against targets (N = rows) and the rule; returns (N, V, ε, ignore, counted targets). */
function checkRule(op: string, logits: Tensor, targets: Tensor, rule: CrossEntropyRule) {
  expectF32(op, 'logits', logits);
  if (targets.dtype !== 'i32') throw new DTypeError(`${op}: targets is ${targets.describe()}, expected dtype i32`);
  const [n, v] = rowsCols(logits);
  if (targets.size !== n) {
    throw new ShapeError(`${op}: targets [${targets.shape.join(', ')}] has ${targets.size} entries, logits [${logits.shape.join(', ')}] has ${n} rows`);
  }
  const ignore = rule.ignoreIndex ?? -100;
  const smoothing = rule.smoothing ?? 0;
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
  return { n, v, smoothing, ignore, count };
}

/** What `crossEntropyRows` returns. */
export interface CrossEntropyRows {
  /** (N) each row's loss, 0 where the target is ignored. */
  losses: Tensor;
  /** (N) each row's log-sum-exp, for the backward. */
  lse: Tensor;
  /** How many targets count (the mean's denominator), ≥ 1. */
  count: number;
}

/**
 * The losses of logits (…, V) against targets (N = rows, i32): loss_i = lse_i − Σ_j q_ij ·
 * logit_ij with q the smoothed one-hot, and each row's lse (new step tensors). Throws before
 * any work if a target is outside [0, V) or every target is ignored (the mean is undefined).
 * @example
 * ```ts
 * const { losses, lse, count } = crossEntropyRows(rt, logits, targets, { smoothing: 0.1 }); // logits (B, T, V), targets (B, T)
 * ```
 */
export function crossEntropyRows(rt: Runtime, logits: Tensor, targets: Tensor, rule: CrossEntropyRule = {}, op = 'crossEntropy'): CrossEntropyRows {
  const { n, v, smoothing, ignore, count } = checkRule(op, logits, targets, rule);
  if (count === 0) throw new ValueError(`${op}: all ${n} targets equal the ignore index ${ignore}; the mean loss is undefined`);
  const losses = rt.empty([n], { arena: 'step' });
  const lse = rt.empty([n], { arena: 'step' });
  rt.kernels.crossentropy_forward(losses.ptr, lse.ptr, logits.ptr, targets.ptr, n, v, smoothing, ignore);
  return { losses, lse, count };
}

/**
 * dlogits (…, V) += scale · (softmax(logits) − q) row by row, from the forward's lse (N).
 * @example
 * ```ts
 * crossEntropyRowsBackward(rt, gradOf(rt, logits), logits, lse, targets, rule, dloss / count);
 * ```
 */
export function crossEntropyRowsBackward(rt: Runtime, dlogits: Tensor, logits: Tensor, lse: Tensor, targets: Tensor,
  rule: CrossEntropyRule, scale: number, op = 'crossEntropy'): void {
  const { n, v, smoothing, ignore } = checkRule(op, logits, targets, rule);
  expectF32(op, 'dlogits', dlogits);
  expectShape(op, 'dlogits', dlogits, logits.shape);
  expectShape(op, 'lse', lse, [n]);
  if (!Number.isFinite(scale)) throw new ValueError(`${op}: the loss gradient scale is ${scale}, expected a finite number`);
  rt.kernels.crossentropy_backward(dlogits.ptr, logits.ptr, lse.ptr, targets.ptr, n, v, smoothing, ignore, scale);
}
