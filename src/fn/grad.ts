// Gradient buffers for the differentiable ops' backward closures: where each op adds (or
// writes) its input gradients. Separate from the tape itself, which only records and replays.
import type { Runtime } from '../runtime.js';
import type { Tensor } from '../tensor.js';
import { add, copy, fill } from '../ops/elementwise.js';

/**
 * The gradient buffer of `t`, zero-filled in the step arena on first use: ops whose backward
 * kernels add (`+=`) write into it.
 */
export function gradOf(rt: Runtime, t: Tensor): Tensor {
  if (!t.grad) {
    t.grad = fill(rt, rt.empty(t.shape, { arena: 'step' }), 0);
  }
  return t.grad;
}

/**
 * The gradient buffer of `t` for a GEMM to write into, and the beta to use: 0 when the buffer
 * is new (uninitialised, so the GEMM overwrites it and no zero fill is needed), 1 otherwise.
 */
export function gradSlot(rt: Runtime, t: Tensor): [grad: Tensor, beta: number] {
  if (t.grad) return [t.grad, 1];
  t.grad = rt.empty(t.shape, { arena: 'step' });
  return [t.grad, 0];
}

/**
 * Adds `g` into `t`'s gradient. With `handOver`, a `t` that has no gradient yet takes `g`
 * itself (no copy): only for a `g` that no one reads or aliases afterwards, i.e. the gradient
 * of the output being differentiated now (its consumers all ran before: the tape runs newest
 * first), handed to one input at most.
 */
export function passGrad(rt: Runtime, t: Tensor, g: Tensor, handOver: boolean): void {
  if (!t.requiresGrad) return;
  if (!t.grad && handOver) {
    t.grad = g.size === t.size && g.shape.length === t.shape.length ? g : g.view(t.shape);
  } else if (!t.grad) {
    t.grad = copy(rt, g.view(t.shape));
  } else {
    add(rt, t.grad, g.view(t.shape), { out: t.grad });
  }
}
