// layernorm over the last dimension, saving mean and rstd for the backward, and its backward.
import { ValueError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import { exact, type Tensor } from '../tensor.js';
import { expectF32, expectShape, outputLike, rowsCols } from './check.js';

/** What layernorm returns: the output and the per-row statistics the backward needs. */
export interface LayernormResult {
  /** (…, C) */
  out: Tensor;
  /** (rows) mean of each row */
  mean: Tensor;
  /** (rows) 1 / sqrt(variance + eps) of each row */
  rstd: Tensor;
}

/**
 * out (…, C) = (x − mean) · rstd · weight + bias, per row of the last dimension.
 * @example
 * ```ts
 * const { out, mean, rstd } = layernorm(rt, x, ln.weight, ln.bias); // x (B, T, C)
 * ```
 */
export function layernorm(rt: Runtime, x: Tensor, weight: Tensor, bias: Tensor, opts: { eps?: number; out?: Tensor } = {}): LayernormResult {
  const op = 'layernorm';
  for (const [name, t] of [['x', x], ['weight', weight], ['bias', bias]] as const) expectF32(op, name, t);
  const [rows, cols] = rowsCols(x);
  expectShape(op, 'weight', weight, [cols]);
  expectShape(op, 'bias', bias, [cols]);
  const eps = opts.eps ?? 1e-5;
  if (!(eps > 0) || !Number.isFinite(eps)) throw new ValueError(`${op}: eps is ${eps}, expected a finite number > 0`);
  const out = outputLike(rt, op, opts.out, x.shape);
  const mean = exact(rt.empty([rows], { arena: 'step' }));
  const rstd = exact(rt.empty([rows], { arena: 'step' }));
  rt.kernels.layernorm_forward(out.ptr, mean.ptr, rstd.ptr, x.ptr, weight.ptr, bias.ptr, rows, cols, eps);
  return { out, mean, rstd };
}

/** Adds the gradients of `layernorm` into dx (…, C), dweight (C) and dbias (C). */
export function layernormBackward(
  rt: Runtime, dx: Tensor, dweight: Tensor, dbias: Tensor,
  dout: Tensor, x: Tensor, weight: Tensor, mean: Tensor, rstd: Tensor,
): void {
  const op = 'layernormBackward';
  const all = { dx, dweight, dbias, dout, x, weight, mean, rstd };
  for (const [name, t] of Object.entries(all)) expectF32(op, name, t);
  const [rows, cols] = rowsCols(x);
  expectShape(op, 'dx', dx, x.shape);
  expectShape(op, 'dout', dout, x.shape);
  for (const [name, t] of [['dweight', dweight], ['dbias', dbias], ['weight', weight]] as const) expectShape(op, name, t, [cols]);
  expectShape(op, 'mean', mean, [rows]);
  expectShape(op, 'rstd', rstd, [rows]);
  rt.kernels.layernorm_backward(dx.ptr, dweight.ptr, dbias.ptr, dout.ptr, x.ptr, weight.ptr, mean.ptr, rstd.ptr, rows, cols);
}
