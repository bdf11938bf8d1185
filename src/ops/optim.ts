// Optimizer updates over flat f32 buffers (a model's parameters are one allocation, so one call
// updates a whole group) and the sum of squares behind gradient clipping. The AdamW update is
// PyTorch's: β and 1 − β each rounded once from f64, bias corrections 1 − β^t from the same β in f64.
import { ValueError } from '../errors.js';
import { portablePowInt } from '../math.js';
import type { Runtime } from '../runtime.js';
import type { Tensor } from '../tensor.js';
import { expectF32, expectShape } from './check.js';

/** Hyper-parameters of one AdamW update. */
export interface AdamWUpdate {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** 1-based step number t (the bias corrections use it). */
  step: number;
  /** Multiplies every gradient first (global-norm clipping). */
  gradScale: number;
}

/** Checks that every buffer is f32 and shaped like `param`. */
function sameLayout(op: string, buffers: Record<string, Tensor>, param: Tensor): void {
  for (const [name, t] of Object.entries(buffers)) {
    expectF32(op, name, t);
    expectShape(op, name, t, param.shape);
  }
}

function expectIn(op: string, name: string, x: number, ok: boolean, range: string): void {
  if (!ok) throw new ValueError(`${op}: ${name} is ${x}, expected ${range}`);
}

/**
 * One AdamW step in place over param, with moments m and v (same shapes):
 *   g = grad·gradScale;  m = β1·m + (1−β1)·g;  v = β2·v + (1−β2)·g²
 *   param −= lr·(weightDecay·param + (m / (1 − β1^t)) / (sqrt(v / (1 − β2^t)) + eps))
 * β^t by repeated squaring (the same bits in every JavaScript engine).
 * @example
 * ```ts
 * adamwUpdate(rt, { param, grad, m, v }, { lr: 1e-3, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1, step: 1, gradScale: 1 });
 * ```
 */
export function adamwUpdate(rt: Runtime, s: { param: Tensor; grad: Tensor; m: Tensor; v: Tensor }, h: AdamWUpdate): void {
  const op = 'adamw';
  sameLayout(op, s, s.param);
  expectIn(op, 'beta1', h.beta1, h.beta1 >= 0 && h.beta1 < 1, '0 ≤ β < 1');
  expectIn(op, 'beta2', h.beta2, h.beta2 >= 0 && h.beta2 < 1, '0 ≤ β < 1');
  expectIn(op, 'step', h.step, Number.isInteger(h.step) && h.step >= 1, 'an integer ≥ 1');
  for (const k of ['lr', 'eps', 'weightDecay', 'gradScale'] as const) expectIn(op, k, h[k], h[k] >= 0 && Number.isFinite(h[k]), 'a finite number ≥ 0');
  const bc1 = 1 - portablePowInt(h.beta1, h.step), bc2 = 1 - portablePowInt(h.beta2, h.step);
  rt.kernels.adamw_f32(s.param.ptr, s.grad.ptr, s.m.ptr, s.v.ptr, s.param.size,
    h.lr, h.beta1, h.beta2, 1 - h.beta1, 1 - h.beta2, h.eps, h.weightDecay, bc1, bc2, h.gradScale);
}

/** Hyper-parameters of one SGD update. */
export interface SgdUpdate {
  lr: number;
  momentum: number;
  weightDecay: number;
  nesterov: boolean;
  gradScale: number;
}

/**
 * One SGD step in place (PyTorch's): g = grad·gradScale + weightDecay·param; buf = μ·buf + g;
 * param −= lr·(nesterov ? g + μ·buf : buf). With momentum 0 `buf` is not touched (may be null).
 * @example
 * ```ts
 * sgdUpdate(rt, { param, grad, buf }, { lr: 0.1, momentum: 0.9, weightDecay: 0, nesterov: false, gradScale: 1 });
 * ```
 */
export function sgdUpdate(rt: Runtime, s: { param: Tensor; grad: Tensor; buf: Tensor | null }, h: SgdUpdate): void {
  const op = 'sgd';
  sameLayout(op, s.buf ? { grad: s.grad, buf: s.buf } : { grad: s.grad }, s.param);
  expectIn(op, 'momentum', h.momentum, h.momentum >= 0 && h.momentum < 1, '0 ≤ μ < 1');
  if (h.momentum !== 0 && !s.buf) throw new ValueError(`${op}: momentum ${h.momentum} needs a momentum buffer`);
  for (const k of ['lr', 'weightDecay', 'gradScale'] as const) expectIn(op, k, h[k], h[k] >= 0 && Number.isFinite(h[k]), 'a finite number ≥ 0');
  rt.kernels.sgd_f32(s.param.ptr, s.grad.ptr, s.buf ? s.buf.ptr : 0, s.param.size, h.lr, h.momentum, h.weightDecay, h.nesterov ? 1 : 0, h.gradScale);
}

/**
 * Σ x² over every element of x (f64 inside the kernel's lanes): NaN or ±Inf anywhere gives a
 * non-finite result.
 * @example
 * ```ts
 * const norm = Math.sqrt(sumOfSquares(rt, params.grads));
 * ```
 */
export function sumOfSquares(rt: Runtime, x: Tensor): number {
  expectF32('sumOfSquares', 'x', x);
  const out = rt.empty([1], { arena: 'step' });
  rt.kernels.sumsq_f32(out.ptr, x.ptr, x.size);
  return out.item();
}
