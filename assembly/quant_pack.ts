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

/**
 * Packs the slivers [s0, s1) of op(W) (K,N) as int8 with per-column scales (layout above):
 * dst holds the whole packed weight (ceil(n/8)·8·Kp bytes), scales ceil(n/8)·8 floats. flags
 * bit 1: W stored transposed (N,K), row stride ldw. Sliver ranges are independent (a pool packs
 * disjoint ones at once).
 */
export function quant_pack_i8(dst: usize, scales: usize, w: usize, n: i32, k: i32, ldw: i32, flags: i32, s0: i32, s1: i32): void {
  const trans = (flags & TRANS_B) != 0, ld = <usize>ldw, kp = (k + 1) & ~1;
  for (let s = s0; s < s1; s++) {
    const j0 = s << 3, d = dst + <usize>s * sliver_elems(k);
    for (let r = 0; r < 8; r++) {
      const j = j0 + r;
      let amax: f32 = 0;
      if (j < n) for (let p = 0; p < k; p++) amax = max<f32>(amax, abs<f32>(load<f32>(at(w, ld, trans, p, j))));
      const zero = !(amax >= TINY_COLUMN);
      const inv: f32 = zero ? 0 : <f32>127 / amax;
      store<f32>(scales + (<usize>j << 2), zero ? 0 : amax / <f32>127);
      for (let p = 0; p < kp; p++) {
        let q: i32 = 0;
        if (j < n && p < k) q = <i32>min<f32>(127, max<f32>(-127, nearest<f32>(load<f32>(at(w, ld, trans, p, j)) * inv)));
        store<i8>(d + slot(p, r), <i8>q);
      }
    }
  }
}

/** Packs the slivers [s0, s1) of op(W) as f16 (`bf16` 0) or bf16 (1): 2-byte elements, layout above. */
function pack_half(dst: usize, w: usize, n: i32, k: i32, ldw: i32, flags: i32, s0: i32, s1: i32, bf16: bool): void {
  const trans = (flags & TRANS_B) != 0, ld = <usize>ldw, kp = (k + 1) & ~1;
  for (let s = s0; s < s1; s++) {
    const j0 = s << 3, d = dst + (<usize>s * sliver_elems(k) << 1);
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
