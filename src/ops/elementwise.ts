// Elementwise ops over whole tensors of one shape: add (residual), mul, scale, axpy,
// fill, copy; colsum, the row reduction that bias gradients need; and copyBlock / addBlock,
// strided blocks of rows at offsets (KV caches, parts of fused projections, concatenation).
import { ShapeError, ValueError } from '../errors.js';
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

/** Which elements maxIndex scans, and the names its errors use. */
export interface MaxIndexOptions {
  /** The first element (default 0) and how many (default: the rest of x). */
  at?: number;
  count?: number;
  /** The op and what the elements are, for error messages (default 'maxIndex', 'element'). */
  op?: string;
  item?: string;
}

/**
 * The first index of the largest of x's elements (f32, any shape; all its elements, or `count`
 * of them from `at`, the index then counted from `at`) and that element, found in wasm: greedy
 * decoding's pick from a row of logits without copying it out. NaN elements take no part, but one
 * is a ValueError naming its index (`item` names what the elements are); no element, or a range
 * outside x, is a ShapeError; every element −∞ gives index 0. The same index as `argmax` on the
 * same values.
 * @example
 * ```ts
 * const { index } = maxIndex(rt, logits);                          // logits (1, 1, V): the greedy token
 * const row2 = maxIndex(rt, batch, { at: 2 * V, count: V }).index;  // batch (B, 1, V): row 2's
 * ```
 */
export function maxIndex(rt: Runtime, x: Tensor, opts: MaxIndexOptions = {}): { index: number; value: number } {
  const op = opts.op ?? 'maxIndex', item = opts.item ?? 'element';
  expectF32(op, 'x', x);
  const at = opts.at ?? 0, count = opts.count ?? x.size - at;
  if (!Number.isInteger(at) || !Number.isInteger(count) || at < 0 || count < 0 || at + count > x.size) {
    throw new ShapeError(`${op}: ${count} ${item}s from ${at} lie outside ${x.describe()} (${x.size} elements)`);
  }
  if (count === 0) throw new ShapeError(`${op}: no ${item}s to scan in ${x.describe()} (at ${at}, count 0)`);
  const [index, nan] = rt.step.scope(() => {
    const out = rt.empty([2], { dtype: 'i32', arena: 'step' });
    rt.kernels.argmax_f32(out.ptr, x.ptr + 4 * at, count);
    return [...out.i32()] as [number, number];
  });
  const values = x.f32().subarray(at, at + count);
  if (nan) throw new ValueError(`${op}: ${item} ${values.findIndex(Number.isNaN)} of ${count} is NaN`);
  return { index, value: values[index]! };
}

/** A block of `rows` runs of `cols` floats, `ld` floats apart, starting `at` floats into a tensor. */
export interface Strided {
  at: number;
  ld: number;
}

/** Checks that rows × cols floats at `b` lie inside `t`; returns the byte address of its first float. */
function blockPtr(op: string, name: string, t: Tensor, b: Strided, rows: number, cols: number): number {
  expectF32(op, name, t);
  const last = b.at + (rows - 1) * b.ld + cols;
  if (!Number.isInteger(b.at) || !Number.isInteger(b.ld) || b.at < 0 || b.ld < cols || last > t.size) {
    throw new ShapeError(`${op}: ${name} block of ${rows} × ${cols} floats at ${b.at}, rows ${b.ld} apart, ends at ${last}, outside ${t.describe()} (${t.size} elements)`);
  }
  return t.ptr + 4 * b.at;
}

/** Runs `kernel` once per row of a rows × cols block (once in all when both sides are contiguous). */
function eachRow(rows: number, cols: number, dst: number, dstLd: number, src: number, srcLd: number, run: (d: number, s: number, n: number) => void): void {
  if (rows <= 0 || cols <= 0) return;
  if (dstLd === cols && srcLd === cols) return run(dst, src, rows * cols);
  for (let r = 0; r < rows; r++) run(dst + 4 * r * dstLd, src + 4 * r * srcLd, cols);
}

function checkCount(op: string, rows: number, cols: number): void {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0) throw new ShapeError(`${op}: block of ${rows} × ${cols} floats, expected integer counts ≥ 0`);
}

/**
 * Copies a rows × cols block of floats from `src` to `dst`, each side at its own offset and row
 * stride (in floats), bounds checked: a KV cache's rows, one part of a fused projection, a
 * sequence inside a batch. The blocks must not overlap.
 * @example
 * ```ts
 * // row t of k (B, T, 3C), columns C … 2C, into position pos + t of a (B, cap, C) cache
 * copyBlock(rt, cache, { at: (b * cap + pos) * C, ld: C }, qkv, { at: b * T * 3 * C + C, ld: 3 * C }, Tn, C);
 * ```
 */
export function copyBlock(rt: Runtime, dst: Tensor, d: Strided, src: Tensor, s: Strided, rows: number, cols: number): void {
  const op = 'copyBlock';
  checkCount(op, rows, cols);
  if (rows === 0 || cols === 0) return;
  const dp = blockPtr(op, 'dst', dst, d, rows, cols), sp = blockPtr(op, 'src', src, s, rows, cols);
  eachRow(rows, cols, dp, d.ld, sp, s.ld, (x, y, n) => rt.kernels.copy_f32(x, y, n));
}

/** dst block += src block, as `copyBlock` lays them out (the backward of a copy). */
export function addBlock(rt: Runtime, dst: Tensor, d: Strided, src: Tensor, s: Strided, rows: number, cols: number): void {
  const op = 'addBlock';
  checkCount(op, rows, cols);
  if (rows === 0 || cols === 0) return;
  const dp = blockPtr(op, 'dst', dst, d, rows, cols), sp = blockPtr(op, 'src', src, s, rows, cols);
  eachRow(rows, cols, dp, d.ld, sp, s.ld, (x, y, n) => rt.kernels.add_f32(x, x, y, n));
}
