// Elementwise ops over whole tensors of one shape: add (residual), mul, scale, axpy,
// fill, copy; and colsum, the row reduction that bias gradients need.
import type { Runtime } from '../runtime.js';
import type { Tensor } from '../tensor.js';
import { expectF32, expectFinite, expectShape, outputLike, rowsCols } from './check.js';

function binary(rt: Runtime, op: string, a: Tensor, b: Tensor, out: Tensor | undefined): Tensor {
  expectF32(op, 'a', a);
  expectF32(op, 'b', b);
  expectShape(op, 'b', b, a.shape);
  return outputLike(rt, op, out, a.shape);
}

/** out = a + b (same shapes; `out` may be `a` or `b`). */
export function add(rt: Runtime, a: Tensor, b: Tensor, opts: { out?: Tensor } = {}): Tensor {
  const out = binary(rt, 'add', a, b, opts.out);
  rt.kernels.add_f32(out.ptr, a.ptr, b.ptr, a.size);
  return out;
}

/** out = a ⊙ b (same shapes; `out` may be `a` or `b`). */
export function mul(rt: Runtime, a: Tensor, b: Tensor, opts: { out?: Tensor } = {}): Tensor {
  const out = binary(rt, 'mul', a, b, opts.out);
  rt.kernels.mul_f32(out.ptr, a.ptr, b.ptr, a.size);
  return out;
}

/** out = s · a (`out` may be `a`). */
export function scale(rt: Runtime, a: Tensor, s: number, opts: { out?: Tensor } = {}): Tensor {
  expectF32('scale', 'a', a);
  expectFinite('scale', 's', s);
  const out = outputLike(rt, 'scale', opts.out, a.shape);
  rt.kernels.scale_f32(out.ptr, a.ptr, s, a.size);
  return out;
}

/** y += alpha · x, in place. */
export function axpy(rt: Runtime, y: Tensor, x: Tensor, alpha: number): Tensor {
  expectF32('axpy', 'y', y);
  expectF32('axpy', 'x', x);
  expectShape('axpy', 'x', x, y.shape);
  expectFinite('axpy', 'alpha', alpha);
  rt.kernels.axpy_f32(y.ptr, x.ptr, alpha, y.size);
  return y;
}

/** Sets every element of `t` to `value`. */
export function fill(rt: Runtime, t: Tensor, value: number): Tensor {
  expectF32('fill', 't', t);
  rt.kernels.fill_f32(t.ptr, value, t.size);
  return t;
}

/** Copies `src` into `out` (or into a new step tensor). */
export function copy(rt: Runtime, src: Tensor, opts: { out?: Tensor } = {}): Tensor {
  expectF32('copy', 'src', src);
  const out = outputLike(rt, 'copy', opts.out, src.shape);
  rt.kernels.copy_f32(out.ptr, src.ptr, src.size);
  return out;
}

/** out (C) += Σ over rows of x (…, C): the bias gradient of a linear layer. */
export function colsum(rt: Runtime, out: Tensor, x: Tensor): Tensor {
  expectF32('colsum', 'out', out);
  expectF32('colsum', 'x', x);
  const [rows, cols] = rowsCols(x);
  expectShape('colsum', 'out', out, [cols]);
  rt.kernels.colsum_f32(out.ptr, x.ptr, rows, cols, cols);
  return out;
}
