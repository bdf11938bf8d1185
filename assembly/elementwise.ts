// Flat elementwise kernels over f32 buffers: residual adds, gating products, scaling, the
// optimizer's axpy, zero-grad's fill, copies, and column sums for bias gradients. Any n ≥ 0,
// pointers need 4-byte alignment only. An output may be exactly one of its inputs (in place);
// partial overlaps are not allowed, except in copy_f32 which behaves like memmove.
import { madd } from "./simd_math";

const ADD = 0;
const MUL = 1;

/** a + b or a ⊙ b per lane; `op` is a compile-time constant at every call, so one branch remains. */
// @ts-ignore: decorator
@inline function apply4(op: i32, x: v128, y: v128): v128 {
  return op == ADD ? f32x4.add(x, y) : f32x4.mul(x, y);
}

// @ts-ignore: decorator
@inline function apply1(op: i32, x: f32, y: f32): f32 {
  return op == ADD ? x + y : x * y;
}

/** out (n) = a `op` b, 16 then 4 then 1 lanes at a time. out may equal a or b. */
// @ts-ignore: decorator
@inline function binary(op: i32, out: usize, a: usize, b: usize, n: i32): void {
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const o = <usize>i << 2;
    const y0 = apply4(op, v128.load(a + o), v128.load(b + o));
    const y1 = apply4(op, v128.load(a + o, 16), v128.load(b + o, 16));
    const y2 = apply4(op, v128.load(a + o, 32), v128.load(b + o, 32));
    const y3 = apply4(op, v128.load(a + o, 48), v128.load(b + o, 48));
    v128.store(out + o, y0); v128.store(out + o, y1, 16); v128.store(out + o, y2, 32); v128.store(out + o, y3, 48);
  }
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, apply4(op, v128.load(a + o), v128.load(b + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, apply1(op, load<f32>(a + o), load<f32>(b + o)));
  }
}

/** out (n) = a + b. out may equal a or b. */
export function add_f32(out: usize /* (n) */, a: usize /* (n) */, b: usize /* (n) */, n: i32): void {
  binary(ADD, out, a, b, n);
}

/** out (n) = a ⊙ b. out may equal a or b. */
export function mul_f32(out: usize /* (n) */, a: usize /* (n) */, b: usize /* (n) */, n: i32): void {
  binary(MUL, out, a, b, n);
}

/** out (n) = s · a. out may equal a. */
export function scale_f32(out: usize /* (n) */, a: usize /* (n) */, s: f32, n: i32): void {
  const sv = f32x4.splat(s);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const o = <usize>i << 2;
    const y0 = f32x4.mul(v128.load(a + o), sv),     y1 = f32x4.mul(v128.load(a + o, 16), sv);
    const y2 = f32x4.mul(v128.load(a + o, 32), sv), y3 = f32x4.mul(v128.load(a + o, 48), sv);
    v128.store(out + o, y0); v128.store(out + o, y1, 16); v128.store(out + o, y2, 32); v128.store(out + o, y3, 48);
  }
  for (; i + 4 <= n; i += 4) v128.store(out + (<usize>i << 2), f32x4.mul(v128.load(a + (<usize>i << 2)), sv));
  for (; i < n; i++) store<f32>(out + (<usize>i << 2), load<f32>(a + (<usize>i << 2)) * s);
}

/** y (n) += alpha · x (n). y may equal x (then y = (1 + alpha)·y up to rounding). */
export function axpy_f32(y: usize /* (n) */, x: usize /* (n) */, alpha: f32, n: i32): void {
  const av = f32x4.splat(alpha);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const o = <usize>i << 2;
    const y0 = madd(v128.load(x + o), av, v128.load(y + o));
    const y1 = madd(v128.load(x + o, 16), av, v128.load(y + o, 16));
    const y2 = madd(v128.load(x + o, 32), av, v128.load(y + o, 32));
    const y3 = madd(v128.load(x + o, 48), av, v128.load(y + o, 48));
    v128.store(y + o, y0); v128.store(y + o, y1, 16); v128.store(y + o, y2, 32); v128.store(y + o, y3, 48);
  }
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, madd(v128.load(x + o), av, v128.load(y + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, load<f32>(y + o) + alpha * load<f32>(x + o));
  }
}

/** out (n) = value. */
export function fill_f32(out: usize /* (n) */, value: f32, n: i32): void {
  const v = f32x4.splat(value);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const o = out + (<usize>i << 2);
    v128.store(o, v); v128.store(o, v, 16); v128.store(o, v, 32); v128.store(o, v, 48);
  }
  for (; i + 4 <= n; i += 4) v128.store(out + (<usize>i << 2), v);
  for (; i < n; i++) store<f32>(out + (<usize>i << 2), value);
}

/** out (n) = src (n). Overlap-safe (memmove): one bulk-memory `memory.copy`. */
export function copy_f32(out: usize /* (n) */, src: usize /* (n) */, n: i32): void {
  if (n > 0) memory.copy(out, src, <usize>n << 2);
}

/**
 * out (cols) += Σ_i inp[i, :] over rows (bias gradients); inp's rows are ld ≥ cols elements
 * apart, so a band of columns can be summed on its own (each column's sum is the same). Four rows
 * are added per sweep of out, so out is read and written rows/4 times. out may not overlap inp.
 */
export function colsum_f32(out: usize /* (cols) */, inp: usize /* (rows, ld) */, rows: i32, cols: i32, ld: i32): void {
  const stride = <usize>ld << 2;
  let r = 0;
  for (; r + 4 <= rows; r += 4) {
    const p0 = inp + <usize>r * stride, p1 = p0 + stride, p2 = p1 + stride, p3 = p2 + stride;
    let j = 0;
    for (; j + 4 <= cols; j += 4) {
      const o = <usize>j << 2;
      const s01 = f32x4.add(v128.load(p0 + o), v128.load(p1 + o));
      const s23 = f32x4.add(v128.load(p2 + o), v128.load(p3 + o));
      v128.store(out + o, f32x4.add(v128.load(out + o), f32x4.add(s01, s23)));
    }
    for (; j < cols; j++) {
      const o = <usize>j << 2;
      const s = (load<f32>(p0 + o) + load<f32>(p1 + o)) + (load<f32>(p2 + o) + load<f32>(p3 + o));
      store<f32>(out + o, load<f32>(out + o) + s);
    }
  }
  for (; r < rows; r++) {
    const p = inp + <usize>r * stride;
    let j = 0;
    for (; j + 4 <= cols; j += 4) {
      const o = <usize>j << 2;
      v128.store(out + o, f32x4.add(v128.load(out + o), v128.load(p + o)));
    }
    for (; j < cols; j++) store<f32>(out + (<usize>j << 2), load<f32>(out + (<usize>j << 2)) + load<f32>(p + (<usize>j << 2)));
  }
}

/**
 * out (i32 × 2) ← [the first index of x's largest element (0 when none exceeds −∞), 1 if x holds a
 * NaN else 0]: greedy decoding's pick from a row of logits without copying it out. NaN elements
 * take no part in the maximum; ±0 count as equal. Eight lanes each keep their first maximum (a
 * strict >), then the lanes' maxima meet, ties going to the lowest index: the first maximum of x.
 */
export function argmax_f32(out: usize /* i32 (2) */, x: usize /* (n) */, n: i32): void {
  let m0 = f32x4.splat(-Infinity), m1 = m0, i0 = i32x4.splat(0), i1 = i0, nan = i32x4.splat(0);
  let at0 = i32x4(0, 1, 2, 3), at1 = i32x4(4, 5, 6, 7);
  const eight = i32x4.splat(8);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const p = x + (<usize>i << 2), a = v128.load(p), b = v128.load(p, 16);
    const ga = f32x4.gt(a, m0), gb = f32x4.gt(b, m1);
    m0 = v128.bitselect(a, m0, ga); i0 = v128.bitselect(at0, i0, ga);
    m1 = v128.bitselect(b, m1, gb); i1 = v128.bitselect(at1, i1, gb);
    nan = v128.or(nan, v128.or(f32x4.ne(a, a), f32x4.ne(b, b)));
    at0 = i32x4.add(at0, eight); at1 = i32x4.add(at1, eight);
  }
  // the two vectors' lanes meet, then the four lanes: the greater, ties to the lower index
  const take = v128.or(f32x4.gt(m1, m0), v128.and(f32x4.eq(m1, m0), i32x4.lt_s(i1, i0)));
  const m = v128.bitselect(m1, m0, take), ix = v128.bitselect(i1, i0, take);
  let top = f32x4.extract_lane(m, 0), best = i32x4.extract_lane(ix, 0);
  let v = f32x4.extract_lane(m, 1), vi = i32x4.extract_lane(ix, 1);
  if (v > top || (v == top && vi < best)) { top = v; best = vi; }
  v = f32x4.extract_lane(m, 2); vi = i32x4.extract_lane(ix, 2);
  if (v > top || (v == top && vi < best)) { top = v; best = vi; }
  v = f32x4.extract_lane(m, 3); vi = i32x4.extract_lane(ix, 3);
  if (v > top || (v == top && vi < best)) { top = v; best = vi; }
  if (top == -Infinity) best = 0;   // no element above −∞ (so far)
  let bad = v128.any_true(nan) ? 1 : 0;
  for (; i < n; i++) {   // the tail comes after every lane's element: strictly greater only
    const y = load<f32>(x + (<usize>i << 2));
    if (y > top) { top = y; best = i; }
    if (y != y) bad = 1;
  }
  store<i32>(out, best);
  store<i32>(out, bad, 4);
}
