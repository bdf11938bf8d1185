// Quantized and half-precision weights: the packed layout, the f32 → f16 / bf16 conversions
// and the pack kernels (made once per weight, at load time). The products are in quant_gemm.ts.
//
// THE LAYOUT (int8, f16 and bf16 alike; src/ref/quant.ts is its plain-JS twin):
//   op(W) (K,N), the weight as the product uses it (flags bit 1: W stored (N,K), as nn.Linear),
//   is cut into ceil(N/8) slivers of 8 output columns over the whole height K, K padded to even
//   (Kp = K + (K & 1)). A sliver holds Kp/2 groups of 16 elements, one per pair of rows
//   (p, p+1) = (2t, 2t+1): columns 0-3 first, then 4-7, each column's two rows side by side:
//     element (p, r) of sliver s at  s·8·Kp + ⌊p/2⌋·16 + ⌊r/4⌋·8 + (r mod 4)·2 + (p mod 2)
//   elements of 1 byte (int8) or 2 bytes (f16, bf16; little-endian). Columns past N and the
//   padding row p = K (odd K) are zero. So one 8-byte int8 load, sign-extended to i16, is four
//   columns × one row pair — the operand of i32x4.dot_i16x8_s against a splat of two x values —
//   and one 16-byte f16/bf16 load is four columns × two rows, each 32-bit lane one column.
//   The sliver of a column band is one contiguous stream, as pack_weight_f32's are.
//
// int8 (symmetric, per output column): amax_n = max_p |W(p,n)|, scale_n = amax_n / 127,
//   q = clamp(roundeven(W · (127 / amax_n)), −127, 127) (f32 arithmetic); a column with
//   amax_n < 2^-121 (all zero, or so small that 127/amax_n would overflow) gets scale 0 and
//   q = 0. scales: ceil(N/8)·8 f32, zero past N.
// f16 / bf16: round to nearest, ties to even (IEEE), subnormals kept. NaN → a quiet NaN of the
//   same sign; ±inf and finite values whose rounding overflows saturate to ±max finite (f16
//   65504, bf16 3.3895e38). The op (src/ops/quant.ts) refuses such weights before packing.

/** Columns per sliver. */
export const QUANT_NR: i32 = 8;
/** Rows of the k loop per int8 accumulation block (see quant_gemm.ts: no i32 can overflow within one). */
export const QUANT_KB: i32 = 512;

const TRANS_B = 2;
/** Below this max |W| a column quantizes to zero (127 / amax would exceed the f32 range). */
const TINY_COLUMN: f32 = 3.76158192263132e-37;   // 2^-121

/** Elements of one sliver: 8 columns × K padded to even. */
// @ts-ignore: decorator
@inline export function sliver_elems(k: i32): usize {
  return <usize>((k + 1) & ~1) << 3;
}

/** Element index of (p, r) inside a sliver. */
// @ts-ignore: decorator
@inline function slot(p: i32, r: i32): usize {
  return (<usize>(p >> 1) << 4) + (<usize>(r >> 2) << 3) + (<usize>(r & 3) << 1) + <usize>(p & 1);
}

/** Byte address of W(p, j) (op(W) indices) in a weight stored (K,N) or, transposed, (N,K). */
// @ts-ignore: decorator
@inline function at(w: usize, ld: usize, trans: bool, p: i32, j: i32): usize {
  return w + ((trans ? <usize>j * ld + p : <usize>p * ld + j) << 2);
}

/** f32 → f16 bits, round to nearest even; NaN → quiet NaN, overflow and ±inf → ±65504. */
export function f32_to_f16(x: f32): u32 {
  const b = reinterpret<u32>(x), sign = (b >> 16) & 0x8000, a = b & 0x7fffffff;
  if (a > 0x7f800000) return sign | 0x7e00;
  if (a >= 0x477ff000) return sign | 0x7bff;                 // ≥ 65520 rounds to inf: saturate
  if (a >= 0x38800000) {                                     // normal f16: rebias, round 13 bits away
    const r = a - 0x38000000;
    return sign | ((r + 0xfff + ((r >> 13) & 1)) >> 13);
  }
  // zero or subnormal f16 (a carry to 0x400 gives the smallest normal): |x|·2^24 is exact
  return sign | <u32>nearest<f32>(reinterpret<f32>(a) * 16777216.0);
}

/** f32 → bf16 bits, round to nearest even; NaN → quiet NaN, overflow and ±inf → ±max finite. */
export function f32_to_bf16(x: f32): u32 {
  const b = reinterpret<u32>(x), a = b & 0x7fffffff;
  if (a > 0x7f800000) return (b >> 16) | 0x40;
  if (a >= 0x7f7f8000) return ((b >> 16) & 0x8000) | 0x7f7f;
  return (b + 0x7fff + ((b >> 16) & 1)) >> 16;
}

// The pack kernels convert whole slivers with v128 (eight columns: two vectors per row of W stored
// (K,N); eight rows, four k at a time, for W stored (N,K)), with the arithmetic of the scalar
// conversions above lane by lane; an edge sliver (fewer than 8 columns) and the k tails go element
// by element. Measured on one core, 768×3072, (K,N) / (N,K): int8 3.3 / 4.3 ms, f16 1.8 / 2.1,
// bf16 1.1 / 1.5 (element by element: 23, 17, 16).

/** f32_to_f16 on four lanes (f32 in, the f16 codes in i32 lanes out). */
// @ts-ignore: decorator
@inline function f16x4(v: v128): v128 {
  const sign = v128.and(i32x4.shr_u(v, 16), i32x4.splat(0x8000)), a = v128.and(v, i32x4.splat(0x7fffffff));
  const r = i32x4.sub(a, i32x4.splat(0x38000000));
  const normal = i32x4.shr_u(i32x4.add(i32x4.add(r, i32x4.splat(0xfff)), v128.and(i32x4.shr_u(r, 13), i32x4.splat(1))), 13);
  const small = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(a, f32x4.splat(16777216.0))));
  let h = v128.bitselect(normal, small, i32x4.ge_s(a, i32x4.splat(0x38800000)));
  h = v128.bitselect(i32x4.splat(0x7bff), h, i32x4.ge_s(a, i32x4.splat(0x477ff000)));
  h = v128.bitselect(i32x4.splat(0x7e00), h, i32x4.gt_s(a, i32x4.splat(0x7f800000)));
  return v128.or(h, sign);
}

/** f32_to_bf16 on four lanes. */
// @ts-ignore: decorator
@inline export function bf16x4(v: v128): v128 {
  const a = v128.and(v, i32x4.splat(0x7fffffff)), top = i32x4.shr_u(v, 16);
  let h = i32x4.shr_u(i32x4.add(i32x4.add(v, i32x4.splat(0x7fff)), v128.and(top, i32x4.splat(1))), 16);
  h = v128.bitselect(v128.or(v128.and(top, i32x4.splat(0x8000)), i32x4.splat(0x7f7f)), h, i32x4.ge_s(a, i32x4.splat(0x7f7f8000)));
  return v128.bitselect(v128.or(top, i32x4.splat(0x40)), h, i32x4.gt_s(a, i32x4.splat(0x7f800000)));
}

/** One weight quantized: clamp(roundeven(w · inv), ±127) (NaN → 0). */
// @ts-ignore: decorator
@inline function q8(w: f32, inv: f32): i32 {
  return <i32>min<f32>(127, max<f32>(-127, nearest<f32>(w * inv)));
}

/** q8 on four lanes (i32 lanes out). */
// @ts-ignore: decorator
@inline function q8x4(v: v128, inv: v128): v128 {
  return i32x4.trunc_sat_f32x4_s(f32x4.min(f32x4.splat(127), f32x4.max(f32x4.splat(-127), f32x4.nearest(f32x4.mul(v, inv)))));
}

/** The int8 sliver s (columns j0 … j0+7) element by element: any edge, either storage. */
function pack_i8_scalar(d: usize, scales: usize, w: usize, ld: usize, trans: bool, n: i32, k: i32, j0: i32): void {
  const kp = (k + 1) & ~1;
  for (let r = 0; r < 8; r++) {
    const j = j0 + r;
    let amax: f32 = 0;
    if (j < n) for (let p = 0; p < k; p++) amax = max<f32>(amax, abs<f32>(load<f32>(at(w, ld, trans, p, j))));
    const zero = !(amax >= TINY_COLUMN);
    const inv: f32 = zero ? 0 : <f32>127 / amax;
    store<f32>(scales + (<usize>j << 2), zero ? 0 : amax / <f32>127);
    for (let p = 0; p < kp; p++) store<i8>(d + slot(p, r), <i8>(j < n && p < k ? q8(load<f32>(at(w, ld, trans, p, j)), inv) : 0));
  }
}

/** A full int8 sliver of W stored (K,N): columns two vectors wide, pairs of rows interleaved by one byte shuffle. */
function pack_i8_n(d: usize, scales: usize, w: usize, ld: usize, k: i32): void {
  let m0 = f32x4.splat(0), m1 = m0;
  for (let p = 0; p < k; p++) {
    const row = w + <usize>p * ld;
    m0 = f32x4.max(m0, f32x4.abs(v128.load(row))); m1 = f32x4.max(m1, f32x4.abs(v128.load(row, 16)));
  }
  const tiny = f32x4.splat(TINY_COLUMN), c127 = f32x4.splat(127);
  const z0 = v128.not(f32x4.ge(m0, tiny)), z1 = v128.not(f32x4.ge(m1, tiny));
  const i0 = v128.andnot(f32x4.div(c127, m0), z0), i1 = v128.andnot(f32x4.div(c127, m1), z1);
  v128.store(scales, v128.andnot(f32x4.div(m0, c127), z0)); v128.store(scales, v128.andnot(f32x4.div(m1, c127), z1), 16);
  const none = i32x4.splat(0);
  for (let p = 0; p < k; p += 2) {
    const row = w + <usize>p * ld, next = row + ld;
    const a = i16x8.narrow_i32x4_s(q8x4(v128.load(row), i0), q8x4(v128.load(row, 16), i1));
    const b = p + 1 < k ? i16x8.narrow_i32x4_s(q8x4(v128.load(next), i0), q8x4(v128.load(next, 16), i1)) : none;
    const bytes = i8x16.narrow_i16x8_s(a, b);                   // columns 0-7 of row p, then of row p+1
    v128.store(d + (<usize>p << 3), i8x16.shuffle(bytes, bytes, 0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15));
  }
}

/** A full int8 sliver of W stored (N,K): eight rows (= columns of op(W)), four k at a time. */
function pack_i8_t(d: usize, scales: usize, w: usize, ld: usize, k: i32): void {
  const k4 = k & ~3;
  for (let r = 0; r < 8; r++) {                            // scales[r] = amax of row r, for now
    const row = w + <usize>r * ld;
    let mv = f32x4.splat(0);
    for (let p = 0; p < k4; p += 4) mv = f32x4.max(mv, f32x4.abs(v128.load(row + (<usize>p << 2))));
    let amax = max<f32>(max<f32>(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1)), max<f32>(f32x4.extract_lane(mv, 2), f32x4.extract_lane(mv, 3)));
    for (let p = k4; p < k; p++) amax = max<f32>(amax, abs<f32>(load<f32>(row + (<usize>p << 2))));
    store<f32>(scales + (<usize>r << 2), amax);
  }
  const v0 = inv_splat(scales, 0), v1 = inv_splat(scales, 1), v2 = inv_splat(scales, 2), v3 = inv_splat(scales, 3);
  const v4 = inv_splat(scales, 4), v5 = inv_splat(scales, 5), v6 = inv_splat(scales, 6), v7 = inv_splat(scales, 7);
  for (let p = 0; p < k4; p += 4) {
    const q = w + (<usize>p << 2);
    const c01 = i16x8.narrow_i32x4_s(q8x4(v128.load(q), v0), q8x4(v128.load(q + ld), v1));
    const c23 = i16x8.narrow_i32x4_s(q8x4(v128.load(q + 2 * ld), v2), q8x4(v128.load(q + 3 * ld), v3));
    const c45 = i16x8.narrow_i32x4_s(q8x4(v128.load(q + 4 * ld), v4), q8x4(v128.load(q + 5 * ld), v5));
    const c67 = i16x8.narrow_i32x4_s(q8x4(v128.load(q + 6 * ld), v6), q8x4(v128.load(q + 7 * ld), v7));
    const x = i8x16.narrow_i16x8_s(c01, c23), y = i8x16.narrow_i16x8_s(c45, c67);   // columns 0-3 (4 k each), 4-7
    v128.store(d + (<usize>p << 3), i8x16.shuffle(x, y, 0, 1, 4, 5, 8, 9, 12, 13, 16, 17, 20, 21, 24, 25, 28, 29));
    v128.store(d + (<usize>p << 3), i8x16.shuffle(x, y, 2, 3, 6, 7, 10, 11, 14, 15, 18, 19, 22, 23, 26, 27, 30, 31), 16);
  }
  const kp = (k + 1) & ~1;
  for (let r = 0; r < 8; r++) {                            // the k tail, then scales[r] = amax / 127
    const row = w + <usize>r * ld, amax = load<f32>(scales + (<usize>r << 2)), zero = !(amax >= TINY_COLUMN);
    const inv: f32 = zero ? 0 : <f32>127 / amax;
    for (let p = k4; p < kp; p++) store<i8>(d + slot(p, r), <i8>(p < k ? q8(load<f32>(row + (<usize>p << 2)), inv) : 0));
    store<f32>(scales + (<usize>r << 2), zero ? 0 : amax / <f32>127);
  }
}

/** splat(127 / amax), amax = scales[r] (0 for a tiny or zero column, as pack_i8_scalar). */
// @ts-ignore: decorator
@inline function inv_splat(scales: usize, r: usize): v128 {
  const amax = load<f32>(scales + (r << 2));
  return f32x4.splat(amax >= TINY_COLUMN ? <f32>127 / amax : 0);
}

/** The f16 / bf16 sliver element by element: any edge, either storage. */
function pack_half_scalar(d: usize, w: usize, ld: usize, trans: bool, n: i32, k: i32, j0: i32, bf16: bool): void {
  const kp = (k + 1) & ~1;
  for (let p = 0; p < kp; p++) {
    for (let r = 0; r < 8; r++) {
      const j = j0 + r;
      let h: u32 = 0;
      if (j < n && p < k) {
        const v = load<f32>(at(w, ld, trans, p, j));
        h = bf16 ? f32_to_bf16(v) : f32_to_f16(v);
      }
      store<u16>(d + (slot(p, r) << 1), <u16>h);
    }
  }
}

/** Four lanes converted to f16 or bf16 codes (i32 lanes). */
// @ts-ignore: decorator
@inline function halfx4(v: v128, bf16: bool): v128 {
  return bf16 ? bf16x4(v) : f16x4(v);
}

/** A full f16 / bf16 sliver of W stored (K,N): per pair of rows, each 32-bit lane = row p's code | row p+1's << 16. */
// @ts-ignore: decorator
@inline function pack_half_n(d: usize, w: usize, ld: usize, k: i32, bf16: bool): void {
  for (let p = 0; p < k; p += 2) {
    const row = w + <usize>p * ld, next = row + ld, o = d + (<usize>p << 4);
    let lo = halfx4(v128.load(row), bf16), hi = halfx4(v128.load(row, 16), bf16);
    if (p + 1 < k) {
      lo = v128.or(lo, i32x4.shl(halfx4(v128.load(next), bf16), 16));
      hi = v128.or(hi, i32x4.shl(halfx4(v128.load(next, 16), bf16), 16));
    }
    v128.store(o, lo); v128.store(o, hi, 16);
  }
}

/** A full f16 / bf16 sliver of W stored (N,K): eight rows, four k at a time, codes narrowed to 16 bits and regrouped by pairs. */
// @ts-ignore: decorator
@inline function pack_half_t(d: usize, w: usize, ld: usize, k: i32, bf16: bool): void {
  const k4 = k & ~3;
  for (let p = 0; p < k4; p += 4) {
    const q = w + (<usize>p << 2), o = d + (<usize>p << 4);
    // c01: the codes of columns 0 and 1 at k p … p+3, as 16-bit lanes: 32-bit lanes (p,p+1 | p+2,p+3) of column 0, then of 1
    const c01 = i16x8.narrow_i32x4_u(halfx4(v128.load(q), bf16), halfx4(v128.load(q + ld), bf16));
    const c23 = i16x8.narrow_i32x4_u(halfx4(v128.load(q + 2 * ld), bf16), halfx4(v128.load(q + 3 * ld), bf16));
    const c45 = i16x8.narrow_i32x4_u(halfx4(v128.load(q + 4 * ld), bf16), halfx4(v128.load(q + 5 * ld), bf16));
    const c67 = i16x8.narrow_i32x4_u(halfx4(v128.load(q + 6 * ld), bf16), halfx4(v128.load(q + 7 * ld), bf16));
    v128.store(o, i32x4.shuffle(c01, c23, 0, 2, 4, 6)); v128.store(o, i32x4.shuffle(c45, c67, 0, 2, 4, 6), 16);
    v128.store(o, i32x4.shuffle(c01, c23, 1, 3, 5, 7), 32); v128.store(o, i32x4.shuffle(c45, c67, 1, 3, 5, 7), 48);
  }
  const kp = (k + 1) & ~1;
  for (let p = k4; p < kp; p++) {
    for (let r = 0; r < 8; r++) {
      const h = p < k ? (bf16 ? f32_to_bf16(load<f32>(w + <usize>r * ld + (<usize>p << 2))) : f32_to_f16(load<f32>(w + <usize>r * ld + (<usize>p << 2)))) : 0;
      store<u16>(d + (slot(p, r) << 1), <u16>h);
    }
  }
}

/**
 * Packs the slivers [s0, s1) of op(W) (K,N) as int8 with per-column scales (layout above):
 * dst holds the whole packed weight (ceil(n/8)·8·Kp bytes), scales ceil(n/8)·8 floats. flags
 * bit 1: W stored transposed (N,K), row stride ldw. Sliver ranges are independent (a pool packs
 * disjoint ones at once).
 */
export function quant_pack_i8(dst: usize, scales: usize, w: usize, n: i32, k: i32, ldw: i32, flags: i32, s0: i32, s1: i32): void {
  const trans = (flags & TRANS_B) != 0, ld = <usize>ldw << 2;
  for (let s = s0; s < s1; s++) {
    const j0 = s << 3, d = dst + <usize>s * sliver_elems(k), sc = scales + (<usize>j0 << 2);
    if (j0 + 8 > n || k <= 0) pack_i8_scalar(d, scales, w, <usize>ldw, trans, n, k, j0);
    else if (trans) pack_i8_t(d, sc, w + <usize>j0 * ld, ld, k);
    else pack_i8_n(d, sc, w + (<usize>j0 << 2), ld, k);
  }
}

/** Packs the slivers [s0, s1) of op(W) as f16 or bf16: 2-byte elements, layout above. */
// @ts-ignore: decorator
@inline function pack_half(dst: usize, w: usize, n: i32, k: i32, ldw: i32, flags: i32, s0: i32, s1: i32, bf16: bool): void {
  const trans = (flags & TRANS_B) != 0, ld = <usize>ldw << 2;
  for (let s = s0; s < s1; s++) {
    const j0 = s << 3, d = dst + (<usize>s * sliver_elems(k) << 1);
    if (j0 + 8 > n || k <= 0) pack_half_scalar(d, w, <usize>ldw, trans, n, k, j0, bf16);
    else if (trans) pack_half_t(d, w + <usize>j0 * ld, ld, k, bf16);
    else pack_half_n(d, w + (<usize>j0 << 2), ld, k, bf16);
  }
}

/** Packs the slivers [s0, s1) of op(W) (K,N) as f16 (layout above; dst ceil(n/8)·8·Kp·2 bytes). */
export function quant_pack_f16(dst: usize, w: usize, n: i32, k: i32, ldw: i32, flags: i32, s0: i32, s1: i32): void {
  pack_half(dst, w, n, k, ldw, flags, s0, s1, false);
}

/** Packs the slivers [s0, s1) of op(W) (K,N) as bf16 (layout above; dst ceil(n/8)·8·Kp·2 bytes). */
export function quant_pack_bf16(dst: usize, w: usize, n: i32, k: i32, ldw: i32, flags: i32, s0: i32, s1: i32): void {
  pack_half(dst, w, n, k, ldw, flags, s0, s1, true);
}

/** The products with K = 0: every output of the block is the bias (or zero). */
export function fill_rows(y: usize, bias: usize, ldy: i32, i0: i32, i1: i32, j0: i32, j1: i32): void {
  for (let i = i0; i < i1; i++) {
    const row = y + ((<usize>i * ldy + j0) << 2);
    if (bias) memory.copy(row, bias + (<usize>j0 << 2), <usize>(j1 - j0) << 2);
    else memory.fill(row, 0, <usize>(j1 - j0) << 2);
  }
}

/**
 * Stores the 8 results [lo, hi] of one sliver, plus bias (nb floats, or 0: none), at y: the first
 * nb (≤ 8) of them; a partial sliver goes through tmp (8 floats). Plain adds: the same bits in every build.
 */
// @ts-ignore: decorator
@inline export function store_sliver(y: usize, lo: v128, hi: v128, nb: i32, bias: usize, tmp: usize): void {
  if (nb == 8) {
    if (bias) { lo = f32x4.add(lo, v128.load(bias)); hi = f32x4.add(hi, v128.load(bias, 16)); }
    v128.store(y, lo); v128.store(y, hi, 16);
    return;
  }
  if (bias) {
    memory.fill(tmp, 0, 32);
    memory.copy(tmp, bias, <usize>nb << 2);
    lo = f32x4.add(lo, v128.load(tmp)); hi = f32x4.add(hi, v128.load(tmp, 16));
  }
  v128.store(tmp, lo); v128.store(tmp, hi, 16);
  memory.copy(y, tmp, <usize>nb << 2);
}
