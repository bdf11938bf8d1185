// softmax over the last dimension, with a scale and an optional causal mask, and its backward.
import type { Runtime } from '../runtime.js';
import type { Tensor } from '../tensor.js';
import { expectF32, expectFinite, expectShape, outputLike, rowsCols } from './check.js';

export interface SoftmaxOptions {
  /** Multiplies the inputs first (attention uses 1/√head_size). Default 1. */
  scale?: number;
  /**
   * Causal mask over the last two dimensions (…, Tq, Tk): query q sees keys j ≤ q + Tk − Tq,
   * which is the usual mask when Tq = Tk and the KV-cache mask when the queries are the last
   * Tq of Tk positions. Masked entries are 0; a row with nothing visible is all 0 (not NaN).
   */
  causal?: boolean;
  out?: Tensor;
}

/**
 * out (…, C) = softmax(scale · x) along the last dimension.
 * @example
 * ```ts
 * const att = softmax(rt, scores, { scale: 1 / Math.sqrt(64), causal: true }); // (B, NH, T, T)
 * ```
 */
export function softmax(rt: Runtime, x: Tensor, opts: SoftmaxOptions = {}): Tensor {
  expectF32('softmax', 'x', x);
  const scale = opts.scale ?? 1;
  expectFinite('softmax', 'scale', scale);
  const [rows, cols] = rowsCols(x);
  const block = x.shape.length >= 2 ? x.shape[x.shape.length - 2]! : 1;
  const out = outputLike(rt, 'softmax', opts.out, x.shape);
  rt.kernels.softmax_forward(out.ptr, x.ptr, rows, cols, block, scale, opts.causal ? 1 : 0);
  return out;
}

/** dx (…, C) += scale · out ⊙ (dout − Σ dout ⊙ out), the gradient of `softmax` given its output. */
export function softmaxBackward(rt: Runtime, dx: Tensor, dout: Tensor, out: Tensor, opts: { scale?: number } = {}): void {
  const op = 'softmaxBackward';
  for (const [name, t] of [['dx', dx], ['dout', dout], ['out', out]] as const) expectF32(op, name, t);
  expectShape(op, 'dout', dout, out.shape);
  expectShape(op, 'dx', dx, out.shape);
  const scale = opts.scale ?? 1;
  expectFinite(op, 'scale', scale);
  const [rows, cols] = rowsCols(out);
  rt.kernels.softmax_backward(dx.ptr, dout.ptr, out.ptr, rows, cols, scale);
}
