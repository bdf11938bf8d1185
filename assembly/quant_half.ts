// The products on f16 and bf16 weights (layout and packing: quant_pack.ts):
//   Y[i0:i1, j0:j1] of  Y (M,N; row stride ldy) = X (M,K; row stride ldx) · Wh + bias (N or 0),
// f32 activations and outputs. Blocks: j0 a multiple of 8 (or j1 = N); up to GEMM_SMALL_M rows
// any rows, beyond on gemm_packed_f32's tile grid (i0, i1 multiples of GEMM_MR, or i1 = M); any
// such split gives the bits of the whole call. `work`: a gemm_workspace_bytes() area per thread;
// K ≤ 65536 (the op checks it).
//
// Each weight is converted exactly to f32 in registers — bf16: a 16-bit shift or mask; f16:
// shift and mask give w·2^-112 as f32 bits, exact for every finite f16 (subnormals included),
// with X read pre-scaled by 2^40 (into `work`) and the sums scaled back by 2^72: powers of two,
// so these are the bits of f32 arithmetic on the true values, unless a product falls below 2^-54
// in magnitude (its error then stays below 2^-78); |x| must stay below 2^88. Then f32
// multiply-adds (fused in the relaxed build), in an order fixed per row (half_row), so up to
// GEMM_SMALL_M rows a row's bits do not depend on the other rows (a batch of decodes = each
// decode alone). From GEMM_SMALL_M + 1 rows (prefill) bands of slivers are converted to a packed
// f32 weight and gemm_packed_f32 runs on them: its 6×8 / 4×8 tiles and its bits (measured at
// M = 64 and 256: as fast as f32 packed weights; the per-row kernels reached 0.6× of that).
// The simd build has no fused multiply-add: an f16 weight that is subnormal (|w| < 6.1e-5) then
// meets a multiply with a subnormal operand, which this CPU serves slowly (GPT-2-like weights,
// 0.24% subnormal: M = 1 about 30% slower than without them; bf16 has no such values in practice).
import { sliver_elems, fill_rows, store_sliver } from "./quant_pack";
import { gemm_workspace_bytes, gemm_packed_f32, panel_rows, panel_at, epilogue, ACT_GELU, GEMM_PACKED_GELU, GEMM_KC, GEMM_NC, GEMM_SMALL_M } from "./gemm";
import { madd } from "./gemm_ukernel";

/** f16 path: X is multiplied by 2^40, the sums by 2^72 (2^40 · 2^72 · 2^-112 = 1). */
const F16_X: f32 = 1099511627776.0;              // 2^40
const F16_Y: f32 = 4.722366482869645e21;         // 2^72
/** f16 weights converted for gemm_packed_f32 are scaled back by 2^112 (w·2^-112 · 2^112: exact). */
const F16_W: f32 = 5.192296858534828e33;         // 2^112

/** The even-k elements of four 32-bit lanes (low halves) as f32: bf16 exactly; f16 as w·2^-112. */
// @ts-ignore: decorator
@inline function half_lo(v: v128, f16: bool): v128 {
  if (f16) return v128.and(i32x4.shr_s(i32x4.shl(v, 16), 3), i32x4.splat(0x8fffffff));
  return i32x4.shl(v, 16);
}

/** The odd-k elements (high halves) as f32, as half_lo. */
// @ts-ignore: decorator
@inline function half_hi(v: v128, f16: bool): v128 {
  if (f16) return v128.and(i32x4.shr_s(v, 3), i32x4.splat(0x8fffe000));
  return v128.and(v, i32x4.splat(0xffff0000));
}

/** acc + x[p]·W(p, ·) + x[p+1]·W(p+1, ·) for the four columns of lane pairs v: even k first. */
// @ts-ignore: decorator
@inline function pair_madd(acc: v128, v: v128, xp: usize, f16: bool): v128 {
  return madd(v128.load32_splat(xp, 4), half_hi(v, f16), madd(v128.load32_splat(xp), half_lo(v, f16), acc));
}

// The sums of one row, the same whatever the number of rows: per four columns, A over the even
// pairs (k = 0-1, 4-5, …) and B over the odd ones (k = 2-3, 6-7, …), the odd-K tail (even k only)
// counted as pair ⌊K/2⌋ in the one its parity names; each pair adds its even k, then its odd k;
// the result is A + B. One row runs A and B interleaved: four chains over one forward stream
// (two streams, one per half of a sliver, ran at half the speed from memory; eight chains, pairs
// mod 4, measured no faster); several rows run the A pass, then the B pass, four rows at a time
// (eight accumulators), each pass reading every other pair of the sliver.

/** One row: y (nb) = alpha · x (k) · sliver + bias, converting in registers. */
// @ts-ignore: decorator
@inline function half_row(y: usize, x: usize, w: usize, k: i32, nb: i32, alpha: f32, bias: usize, tmp: usize, f16: bool): void {
  const pairs = k >> 1, p2 = pairs & ~1;
  let a0 = f32x4.splat(0), a1 = a0, b0 = a0, b1 = a0;
  for (let t = 0; t < p2; t += 2) {
    const q = w + (<usize>t << 5), o = x + (<usize>t << 3);
    a0 = pair_madd(a0, v128.load(q), o, f16); a1 = pair_madd(a1, v128.load(q, 16), o, f16);
    b0 = pair_madd(b0, v128.load(q, 32), o + 8, f16); b1 = pair_madd(b1, v128.load(q, 48), o + 8, f16);
  }
  if (p2 < pairs) {                                        // an odd number of pairs: the last one is even, A's
    const q = w + (<usize>p2 << 5), o = x + (<usize>p2 << 3);
    a0 = pair_madd(a0, v128.load(q), o, f16); a1 = pair_madd(a1, v128.load(q, 16), o, f16);
  }
  if (k & 1) {                                             // the tail, as pair `pairs`
    const q = w + (<usize>pairs << 5), s = v128.load32_splat(x + (<usize>(k - 1) << 2));
    const l0 = half_lo(v128.load(q), f16), l1 = half_lo(v128.load(q, 16), f16);
    if (pairs & 1) { b0 = madd(s, l0, b0); b1 = madd(s, l1, b1); } else { a0 = madd(s, l0, a0); a1 = madd(s, l1, a1); }
  }
  half_store(y, f32x4.add(a0, b0), f32x4.add(a1, b1), nb, alpha, bias, tmp);
}

/** Four rows x0 … x3, every other pair from t0 below t1, then (if `tail`) the even k of pair t1: sums into acc (4 rows × 8 floats). */
// @ts-ignore: decorator
@inline function half_pass4(acc: usize, x0: usize, x1: usize, x2: usize, x3: usize, w: usize, t0: i32, t1: i32, tail: i32, f16: bool): void {
  let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  for (let t = t0; t < t1; t += 2) {
    const q = w + (<usize>t << 5), o = <usize>t << 3;
    const v = v128.load(q), u = v128.load(q, 16);
    const lv = half_lo(v, f16), lu = half_lo(u, f16);
    let s = v128.load32_splat(x0 + o);
    c00 = madd(s, lv, c00); c01 = madd(s, lu, c01);
    s = v128.load32_splat(x1 + o);
    c10 = madd(s, lv, c10); c11 = madd(s, lu, c11);
    s = v128.load32_splat(x2 + o);
    c20 = madd(s, lv, c20); c21 = madd(s, lu, c21);
    s = v128.load32_splat(x3 + o);
    c30 = madd(s, lv, c30); c31 = madd(s, lu, c31);
    const hv = half_hi(v, f16), hu = half_hi(u, f16);
    s = v128.load32_splat(x0 + o, 4);
    c00 = madd(s, hv, c00); c01 = madd(s, hu, c01);
    s = v128.load32_splat(x1 + o, 4);
    c10 = madd(s, hv, c10); c11 = madd(s, hu, c11);
    s = v128.load32_splat(x2 + o, 4);
    c20 = madd(s, hv, c20); c21 = madd(s, hu, c21);
    s = v128.load32_splat(x3 + o, 4);
    c30 = madd(s, hv, c30); c31 = madd(s, hu, c31);
  }
  if (tail) {
    const q = w + (<usize>t1 << 5), o = <usize>t1 << 3;
    const lv = half_lo(v128.load(q), f16), lu = half_lo(v128.load(q, 16), f16);
    let s = v128.load32_splat(x0 + o);
    c00 = madd(s, lv, c00); c01 = madd(s, lu, c01);
    s = v128.load32_splat(x1 + o);
    c10 = madd(s, lv, c10); c11 = madd(s, lu, c11);
    s = v128.load32_splat(x2 + o);
    c20 = madd(s, lv, c20); c21 = madd(s, lu, c21);
    s = v128.load32_splat(x3 + o);
    c30 = madd(s, lv, c30); c31 = madd(s, lu, c31);
  }
  v128.store(acc, c00, 0);  v128.store(acc, c01, 16);  v128.store(acc, c10, 32);  v128.store(acc, c11, 48);
  v128.store(acc, c20, 64); v128.store(acc, c21, 80);  v128.store(acc, c30, 96);  v128.store(acc, c31, 112);
}

// half_pass4 with the format fixed at compile time (one copy of the loop per format).
function half_pass4_f16(acc: usize, x0: usize, x1: usize, x2: usize, x3: usize, w: usize, t0: i32, t1: i32, tail: i32): void {
  half_pass4(acc, x0, x1, x2, x3, w, t0, t1, tail, true);
}
function half_pass4_bf16(acc: usize, x0: usize, x1: usize, x2: usize, x3: usize, w: usize, t0: i32, t1: i32, tail: i32): void {
  half_pass4(acc, x0, x1, x2, x3, w, t0, t1, tail, false);
}

/** `rows` (2 … 4) rows rx bytes apart: half_row's sums for each (a missing row repeats the last, stored once). tiles: 2 × 128 bytes. */
// @ts-ignore: decorator
@inline function half_rows4(y: usize, ry: usize, x: usize, rx: usize, rows: i32, w: usize, k: i32, nb: i32, alpha: f32,
  bias: usize, tmp: usize, tiles: usize, f16: bool): void {
  const pairs = k >> 1, odd = k & 1, tailA = odd & ~pairs, tailB = odd & pairs;   // the tail joins its pair's parity
  const x1 = x + rx, x2 = rows > 2 ? x1 + rx : x1, x3 = rows > 3 ? x2 + rx : x2;
  if (f16) {
    half_pass4_f16(tiles, x, x1, x2, x3, w, 0, pairs, tailA);
    half_pass4_f16(tiles + 128, x, x1, x2, x3, w, 1, pairs, tailB);
  } else {
    half_pass4_bf16(tiles, x, x1, x2, x3, w, 0, pairs, tailA);
    half_pass4_bf16(tiles + 128, x, x1, x2, x3, w, 1, pairs, tailB);
  }
  for (let r = 0; r < rows; r++) {
    const a = tiles + (<usize>r << 5), b = a + 128;
    half_store(y + <usize>r * ry, f32x4.add(v128.load(a), v128.load(b)), f32x4.add(v128.load(a, 16), v128.load(b, 16)), nb, alpha, bias, tmp);
  }
}

/** y (nb ≤ 8) = alpha · [lo, hi] + bias, as gemv_sliver's store (mul, then add). */
function half_store(y: usize, lo: v128, hi: v128, nb: i32, alpha: f32, bias: usize, tmp: usize): void {
  const va = f32x4.splat(alpha);
  store_sliver(y, f32x4.mul(lo, va), f32x4.mul(hi, va), nb, bias, tmp);
}

/** Slivers [s0, s1) converted to f32 (the exact weights, unscaled) as a packed f32 weight of s1 − s0
 *  slivers at dst (pack_weight_f32's layout: panels of panel_rows(k) rows, each even when K is
 *  split, so a pair of rows never straddles two). */
// @ts-ignore: decorator
@inline function half_band(dst: usize, wh: usize, k: i32, s0: i32, s1: i32, f16: bool): void {
  const k2 = k & ~1, big = f32x4.splat(F16_W), P = panel_rows(k), ns = s1 - s0;
  for (let s = s0; s < s1; s++) {
    const w = wh + (<usize>s * sliver_elems(k) << 1);
    for (let p0 = 0; p0 < k; p0 += P) {
      const h = min(P, k - p0), d0 = panel_at(dst, ns << 3, p0) + (<usize>(s - s0) * h << 5);
      for (let p = p0; p < p0 + h; p += 2) {
        const q = w + (<usize>p << 4), d = d0 + (<usize>(p - p0) << 5);
        const v = v128.load(q), u = v128.load(q, 16);
        let a = half_lo(v, f16), b = half_lo(u, f16), c = half_hi(v, f16), e = half_hi(u, f16);
        if (f16) { a = f32x4.mul(a, big); b = f32x4.mul(b, big); c = f32x4.mul(c, big); e = f32x4.mul(e, big); }
        v128.store(d, a); v128.store(d, b, 16);
        if (p < k2) { v128.store(d, c, 32); v128.store(d, e, 48); }
      }
    }
  }
}

/** x (k) · 2^40 into dst (f32). */
function prescale_row(dst: usize, x: usize, k: i32): void {
  const s = f32x4.splat(F16_X);
  let p = 0;
  for (; p + 4 <= k; p += 4) v128.store(dst + (<usize>p << 2), f32x4.mul(v128.load(x + (<usize>p << 2)), s));
  for (; p < k; p++) store<f32>(dst + (<usize>p << 2), load<f32>(x + (<usize>p << 2)) * F16_X);
}

/**
 * The f16 / bf16 driver. Up to GEMM_SMALL_M rows (decode): rows in chunks (f16: pre-scaled into
 * work), per sliver four rows at a time (half_rows4), a last single row alone (half_row), the
 * weights converted in registers. More rows (prefill): bands of slivers converted into a packed
 * f32 weight in the part of `work` that gemm_packed_f32 leaves alone on packed weights (its B
 * panel, GEMM_KC·GEMM_NC floats), then gemm_packed_f32 on the band: its tiles and its bits (row
 * blocks on its tile grid). K above GEMM_KC·GEMM_NC/8 (24,576 relaxed, 32,768 simd), where not
 * even one sliver fits, runs the per-row kernels at any M.
 */
// @ts-ignore: decorator
@inline function gemm_half(y: usize, x: usize, wh: usize, bias: usize, m: i32, n: i32, k: i32, ldx: i32, ldy: i32,
  work: usize, i0: i32, i1: i32, j0: i32, j1: i32, f16: bool, act: i32): void {
  i1 = min(i1, m); j1 = min(j1, n);
  if (i1 <= i0 || j1 <= j0) return;
  // GELU: by gemm_packed_f32 on each of its blocks (prefill), else over the block once it is written
  if (!half_block(y, x, wh, bias, m, n, k, ldx, ldy, work, i0, i1, j0, j1, f16, act) && act == ACT_GELU) epilogue(y, 0, ldy, i0, i1, j0, j1, act);
}

/** The block without GELU, or (prefill, returning true) with GELU applied when act asks for it. */
// @ts-ignore: decorator
@inline function half_block(y: usize, x: usize, wh: usize, bias: usize, m: i32, n: i32, k: i32, ldx: i32, ldy: i32,
  work: usize, i0: i32, i1: i32, j0: i32, j1: i32, f16: bool, act: i32): bool {
  if (k <= 0) { fill_rows(y, bias, ldy, i0, i1, j0, j1); return false; }
  const band = (GEMM_KC * GEMM_NC) / (k << 3);            // slivers per converted band
  if (m > GEMM_SMALL_M && band > 0) {
    const flags = act == ACT_GELU ? GEMM_PACKED_GELU : 0;
    for (let j = j0; j < j1; j += band << 3) {
      const s = j >> 3, e = min(j1, j + (band << 3));
      half_band(work, wh, k, s, (e + 7) >> 3, f16);
      gemm_packed_f32(y + (<usize>j << 2), x, work, bias ? bias + (<usize>j << 2) : 0, m, e - j, k, ldx, ldy, flags, 1, 0, work, i0, i1, 0, e - j);
    }
    return true;
  }
  const tmp = work, tiles = work + 64, xw = work + 320, xrb: usize = (<usize>k << 2) + 63 & ~63;
  const chunk = f16 ? <i32>min<usize>(<usize>(i1 - i0), (gemm_workspace_bytes() - 320) / xrb) : i1 - i0;
  const alpha: f32 = f16 ? F16_Y : 1;
  const sliver: usize = sliver_elems(k) << 1, ry: usize = <usize>ldy << 2;
  for (let c0 = i0; c0 < i1; c0 += chunk) {
    const rows = min(chunk, i1 - c0);
    if (f16) for (let t = 0; t < rows; t++) prescale_row(xw + <usize>t * xrb, x + (<usize>(c0 + t) * ldx << 2), k);
    const x0 = f16 ? xw : x + (<usize>c0 * ldx << 2), rx: usize = f16 ? xrb : <usize>ldx << 2;
    for (let j = j0; j < j1; j += 8) {
      const w = wh + <usize>(j >> 3) * sliver, nb = min(8, j1 - j);
      const bj = bias ? bias + (<usize>j << 2) : 0, yj = y + <usize>c0 * ry + (<usize>j << 2);
      let t = 0;
      for (; t + 2 <= rows; t += 4) half_rows4(yj + <usize>t * ry, ry, x0 + <usize>t * rx, rx, min(4, rows - t), w, k, nb, alpha, bj, tmp, tiles, f16);
      if (t < rows) half_row(yj + <usize>t * ry, x0 + <usize>t * rx, w, k, nb, alpha, bj, tmp, f16);
    }
  }
  return false;
}

/** The block Y[i0:i1, j0:j1] of Y = X · Wh + bias, Wh f16 (quant_pack_f16); `work` holds 2^40·X, or (prefill) converted slivers;
 *  act 1 (ACT_GELU): Y = gelu(…), as gemm_q8_f32. */
export function gemm_f16_f32(y: usize, x: usize, wh: usize, bias: usize, m: i32, n: i32, k: i32,
  ldx: i32, ldy: i32, work: usize, i0: i32, i1: i32, j0: i32, j1: i32, act: i32): void {
  gemm_half(y, x, wh, bias, m, n, k, ldx, ldy, work, i0, i1, j0, j1, true, act);
}

/** The block Y[i0:i1, j0:j1] of Y = X · Wh + bias, Wh bf16 (quant_pack_bf16); X read in place, `work` holds (prefill) converted slivers;
 *  act as gemm_f16_f32's. */
export function gemm_bf16_f32(y: usize, x: usize, wh: usize, bias: usize, m: i32, n: i32, k: i32,
  ldx: i32, ldy: i32, work: usize, i0: i32, i1: i32, j0: i32, j1: i32, act: i32): void {
  gemm_half(y, x, wh, bias, m, n, k, ldx, ldy, work, i0, i1, j0, j1, false, act);
}
