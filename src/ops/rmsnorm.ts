// RMSNorm over the last dimension (T5's scale-only LayerNorm, Llama's RMSNorm), saving rstd per
// row for the backward, and its backward: dx by rows, then dweight by columns (two kernels, so a
// worker pool splits both without changing a bit).
import { ValueError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import { exact, type Tensor } from '../tensor.js';
import { expectF32, expectShape, outputLike, rowsCols } from './check.js';

/** What rmsnorm returns: the output and the per-row statistic the backward needs. */
export interface RmsnormResult {
  /** (…, C) */
  out: Tensor;
  /** (rows) 1 / sqrt(mean(x²) + eps) of each row */
  rstd: Tensor;
}

/**
 * out (…, C) = x / sqrt(mean(x²) + eps) · weight, per row of the last dimension.
 * @example
 * ```ts
 * const { out, rstd } = rmsnorm(rt, x, norm.weight, { eps: 1e-6 }); // x (B, T, C), weight (C)
 * ```
 */
export function rmsnorm(rt: Runtime, x: Tensor, weight: Tensor, opts: { eps?: number; out?: Tensor } = {}): RmsnormResult {
  const op = 'rmsnorm';
  expectF32(op, 'x', x);
  expectF32(op, 'weight', weight);
  const [rows, cols] = rowsCols(x);
  expectShape(op, 'weight', weight, [cols]);
  const eps = opts.eps ?? 1e-6;
  if (!(eps > 0) || !Number.isFinite(eps)) throw new ValueError(`${op}: eps is ${eps}, expected a finite number > 0`);
  const out = outputLike(rt, op, opts.out, x.shape);
  const rstd = exact(rt.empty([rows], { arena: 'step' }));
  rt.kernels.rmsnorm_forward(out.ptr, rstd.ptr, x.ptr, weight.ptr, rows, cols, eps);
  return { out, rstd };
}

/**
 * Adds the gradients of `rmsnorm` into dx (…, C) and dweight (C); either may be null (not
 * wanted). With norm = x·rstd and dnorm = weight·dout:
 *   dx += rstd·(dnorm − norm·mean(dnorm·norm));  dweight += Σ_rows norm·dout.
 * @example
 * ```ts
 * rmsnormBackward(rt, gradOf(rt, x), gradOf(rt, weight), out.grad, x, weight, rstd);
 * ```
 */
export function rmsnormBackward(rt: Runtime, dx: Tensor | null, dweight: Tensor | null,
  dout: Tensor, x: Tensor, weight: Tensor, rstd: Tensor): void {
  const op = 'rmsnormBackward';
  const all = { dout, x, weight, rstd, ...(dx ? { dx } : {}), ...(dweight ? { dweight } : {}) };
  for (const [name, t] of Object.entries(all)) expectF32(op, name, t);
  const [rows, cols] = rowsCols(x);
  expectShape(op, 'dout', dout, x.shape);
  expectShape(op, 'weight', weight, [cols]);
  expectShape(op, 'rstd', rstd, [rows]);
  if (dx) expectShape(op, 'dx', dx, x.shape);
  if (dweight) expectShape(op, 'dweight', dweight, [cols]);
  if (dx) rt.kernels.rmsnorm_backward(dx.ptr, dout.ptr, x.ptr, weight.ptr, rstd.ptr, rows, cols);
  if (dweight) rt.kernels.rmsnorm_backward_params(dweight.ptr, dout.ptr, x.ptr, rstd.ptr, rows, cols, cols);
}
