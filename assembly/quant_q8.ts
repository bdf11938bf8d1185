// The product on int8 weights (layout and packing: quant_pack.ts):
//   Y[i0:i1, j0:j1] of  Y (M,N; row stride ldy) = X (M,K; row stride ldx) · Wq + bias (N or 0),
// f32 activations and outputs. Blocks: j0 a multiple of 8 (or j1 = N), any rows; every element
// is computed by the same instructions whatever the block, the number of rows or the thread, so
// any split gives the bits of the whole call (and a row alone those of the row in a batch).
// `work` is a gemm_workspace_bytes() scratch area per thread. K ≤ 65536 (the op checks it).
//
// Each row of X is quantized on the fly to i16 with its own scale: sx = amax/32767,
// xq = roundeven(x · (32767/amax)) (|x − sx·xq| ≤ sx/2 + 3u·amax ≈ 2^-16·amax, within 2^-15 of the
// row max; u = 2^-24); then i32x4.dot_i16x8_s on the weights sign-extended to i16 (v128.load8x8_s: four
// columns × one pair of k per 8 bytes) against splats of the pair's two xq, into i32 lanes.
// Measured against the alternatives on one Zen 5 core (M = 1, 768×3072, weights streamed from
// memory): this 28–30 G weights/s; int8 → f32 conversion and f32 multiply-add 9–11; the relaxed
// build's i32x4.relaxed_dot_i8x16_i7x16_add_s 16–22 — it needs one operand in 7 bits, so x would
// go in two 7-bit halves (two dots) at 14 bits of precision: slower and less exact, not used.
// Overflow: |xq| ≤ 32767 (|x·inv| ≤ 32767·(1 + 2^-22) before rounding) and |w| ≤ 128 (≤ 127 in
// a packed weight), so one i32 lane adds at most 2 · 128 · 32767 = 8,388,352 per pair; over
// QUANT_KB = 512 rows (256 pairs) at most 2,147,418,112 < 2^31 − 1. After each block of 512 k the
// exact i32 sums are converted to f32 (exact below 2^24, else rounded once) and added in block
// order, so the result is the twin's bit for bit, in every build:
//   y = fl(fl(Σ_blocks fl(block sum)) · fl(sx · scale_n)) + bias   (plain f32 mul and add)
// A row of X holding NaN or ±inf gives NaN in every output of the row; a row with max |x| < 2^-96
// counts as zero (its outputs are the bias).
import { sliver_elems, fill_rows, store_sliver } from "./quant_pack";
import { gemm_workspace_bytes, epilogue, ACT_GELU } from "./gemm";

/** Pairs of k per int8 accumulation block (QUANT_KB / 2). */
const BLOCK_PAIRS = 256;
/** Max |x| of a row below which it is quantized as zero (sx stays a normal f32). */
const TINY_ROW: f32 = 1.2621774483536189e-29;   // 2^-96

/** Quantizes row x (k) into dst (i16, `bytes` long: zero past k); returns sx (0 for a tiny row, NaN for a non-finite one). */
function quantize_row(dst: usize, x: usize, k: i32, bytes: usize): f32 {
  let vmax = f32x4.splat(0);
  let p = 0;
  for (; p + 4 <= k; p += 4) vmax = f32x4.max(vmax, f32x4.abs(v128.load(x + (<usize>p << 2))));
  let amax = max<f32>(max<f32>(f32x4.extract_lane(vmax, 0), f32x4.extract_lane(vmax, 1)),
    max<f32>(f32x4.extract_lane(vmax, 2), f32x4.extract_lane(vmax, 3)));
  for (; p < k; p++) amax = max<f32>(amax, abs<f32>(load<f32>(x + (<usize>p << 2))));
  memory.fill(dst, 0, bytes);
  if (amax != amax || amax == Infinity) return NaN;
  if (!(amax >= TINY_ROW)) return 0;
  const inv: f32 = <f32>32767 / amax, vinv = f32x4.splat(inv);
  p = 0;
  for (; p + 8 <= k; p += 8) {
    const q = x + (<usize>p << 2);
    const a = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(q), vinv)));
    const b = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(q, 16), vinv)));
    v128.store(dst + (<usize>p << 1), i16x8.narrow_i32x4_s(a, b));
  }
  for (; p < k; p++) store<i16>(dst + (<usize>p << 1), <i16><i32>nearest<f32>(load<f32>(x + (<usize>p << 2)) * inv));
  return amax / <f32>32767;
}

/** tile (8) = Σ over the sliver of one quantized row: i32 blocks of BLOCK_PAIRS pairs, two pairs per step. */
function q8_row1(tile: usize, x: usize /* i16 (2·pairs) */, w: usize /* sliver */, pairs: i32): void {
  let f0 = f32x4.splat(0), f1 = f0;
  for (let b = 0; b < pairs; b += BLOCK_PAIRS) {
    const e = min(pairs, b + BLOCK_PAIRS);
    let a0 = i32x4.splat(0), a1 = a0, c0 = a0, c1 = a0;
    let p = b;
    for (; p + 2 <= e; p += 2) {
      const q = w + (<usize>p << 4), xp = x + (<usize>p << 2);
      const xs = v128.load32_splat(xp), xt = v128.load32_splat(xp, 4);
      a0 = i32x4.add(a0, i32x4.dot_i16x8_s(v128.load8x8_s(q), xs));
      a1 = i32x4.add(a1, i32x4.dot_i16x8_s(v128.load8x8_s(q, 8), xs));
      c0 = i32x4.add(c0, i32x4.dot_i16x8_s(v128.load8x8_s(q, 16), xt));
      c1 = i32x4.add(c1, i32x4.dot_i16x8_s(v128.load8x8_s(q, 24), xt));
    }
    if (p < e) {
      const q = w + (<usize>p << 4), xs = v128.load32_splat(x + (<usize>p << 2));
      a0 = i32x4.add(a0, i32x4.dot_i16x8_s(v128.load8x8_s(q), xs));
      a1 = i32x4.add(a1, i32x4.dot_i16x8_s(v128.load8x8_s(q, 8), xs));
    }
    f0 = f32x4.add(f0, f32x4.convert_i32x4_s(i32x4.add(a0, c0)));
    f1 = f32x4.add(f1, f32x4.convert_i32x4_s(i32x4.add(a1, c1)));
  }
  v128.store(tile, f0); v128.store(tile, f1, 16);
}

/** tile rows 0-3 (4,8) = Σ over the sliver of four quantized rows (xs bytes apart): each block's
 *  i32 sums converted and added to the tile (zeroed first), so each row gets q8_row1's value. */
function q8_rows4(tile: usize, x: usize, xs: usize, w: usize, pairs: i32): void {
  memory.fill(tile, 0, 128);
  const x1 = x + xs, x2 = x1 + xs, x3 = x2 + xs;
  for (let b = 0; b < pairs; b += BLOCK_PAIRS) {
    const e = min(pairs, b + BLOCK_PAIRS);
    let a0 = i32x4.splat(0), a1 = a0, b0 = a0, b1 = a0, c0 = a0, c1 = a0, d0 = a0, d1 = a0;
    for (let p = b; p < e; p++) {
      const q = w + (<usize>p << 4), o = <usize>p << 2;
      const w0 = v128.load8x8_s(q), w1 = v128.load8x8_s(q, 8);
      let s = v128.load32_splat(x + o);
      a0 = i32x4.add(a0, i32x4.dot_i16x8_s(w0, s)); a1 = i32x4.add(a1, i32x4.dot_i16x8_s(w1, s));
      s = v128.load32_splat(x1 + o);
      b0 = i32x4.add(b0, i32x4.dot_i16x8_s(w0, s)); b1 = i32x4.add(b1, i32x4.dot_i16x8_s(w1, s));
      s = v128.load32_splat(x2 + o);
      c0 = i32x4.add(c0, i32x4.dot_i16x8_s(w0, s)); c1 = i32x4.add(c1, i32x4.dot_i16x8_s(w1, s));
      s = v128.load32_splat(x3 + o);
      d0 = i32x4.add(d0, i32x4.dot_i16x8_s(w0, s)); d1 = i32x4.add(d1, i32x4.dot_i16x8_s(w1, s));
    }
    add_block(tile, a0, a1); add_block(tile + 32, b0, b1);
    add_block(tile + 64, c0, c1); add_block(tile + 96, d0, d1);
  }
}

/** tile rows 0-1 (2,8): q8_rows4 for two rows, two pairs per step. */
function q8_rows2(tile: usize, x: usize, xs: usize, w: usize, pairs: i32): void {
  memory.fill(tile, 0, 64);
  const x1 = x + xs;
  for (let b = 0; b < pairs; b += BLOCK_PAIRS) {
    const e = min(pairs, b + BLOCK_PAIRS);
    let a0 = i32x4.splat(0), a1 = a0, b0 = a0, b1 = a0, c0 = a0, c1 = a0, d0 = a0, d1 = a0;
    let p = b;
    for (; p + 2 <= e; p += 2) {
      const q = w + (<usize>p << 4), o = <usize>p << 2;
      let w0 = v128.load8x8_s(q), w1 = v128.load8x8_s(q, 8);
      let s = v128.load32_splat(x + o), t = v128.load32_splat(x1 + o);
      a0 = i32x4.add(a0, i32x4.dot_i16x8_s(w0, s)); a1 = i32x4.add(a1, i32x4.dot_i16x8_s(w1, s));
      b0 = i32x4.add(b0, i32x4.dot_i16x8_s(w0, t)); b1 = i32x4.add(b1, i32x4.dot_i16x8_s(w1, t));
      w0 = v128.load8x8_s(q, 16); w1 = v128.load8x8_s(q, 24);
      s = v128.load32_splat(x + o, 4); t = v128.load32_splat(x1 + o, 4);
      c0 = i32x4.add(c0, i32x4.dot_i16x8_s(w0, s)); c1 = i32x4.add(c1, i32x4.dot_i16x8_s(w1, s));
      d0 = i32x4.add(d0, i32x4.dot_i16x8_s(w0, t)); d1 = i32x4.add(d1, i32x4.dot_i16x8_s(w1, t));
    }
    if (p < e) {
      const q = w + (<usize>p << 4), o = <usize>p << 2;
      const w0 = v128.load8x8_s(q), w1 = v128.load8x8_s(q, 8);
      const s = v128.load32_splat(x + o), t = v128.load32_splat(x1 + o);
      a0 = i32x4.add(a0, i32x4.dot_i16x8_s(w0, s)); a1 = i32x4.add(a1, i32x4.dot_i16x8_s(w1, s));
      b0 = i32x4.add(b0, i32x4.dot_i16x8_s(w0, t)); b1 = i32x4.add(b1, i32x4.dot_i16x8_s(w1, t));
    }
    add_block(tile, i32x4.add(a0, c0), i32x4.add(a1, c1));
    add_block(tile + 32, i32x4.add(b0, d0), i32x4.add(b1, d1));
  }
}

/** One tile row (8 f32) += the block's exact i32 sums, converted. */
// @ts-ignore: decorator
@inline function add_block(row: usize, lo: v128, hi: v128): void {
  v128.store(row, f32x4.add(v128.load(row), f32x4.convert_i32x4_s(lo)));
  v128.store(row, f32x4.add(v128.load(row, 16), f32x4.convert_i32x4_s(hi)), 16);
}

/** y (nb ≤ 8) = sums · (sx · scale) + bias, plain mul and add (the same bits in every build); nb < 8 through tmp (16 floats). */
function q8_store(y: usize, sums: usize, sx: f32, scales: usize /* (8) */, bias: usize /* (nb) or 0 */, nb: i32, tmp: usize): void {
  const vs = f32x4.splat(sx);
  const lo = f32x4.mul(v128.load(sums), f32x4.mul(vs, v128.load(scales)));
  const hi = f32x4.mul(v128.load(sums, 16), f32x4.mul(vs, v128.load(scales, 16)));
  store_sliver(y, lo, hi, nb, bias, tmp);
}

/** Bytes of one quantized row of K values (i16, in pairs), rounded up to 16. */
// @ts-ignore: decorator
@inline function row_bytes(k: i32): usize {
  return (<usize>((k + 1) >> 1) << 2) + 15 & ~15;
}

/** Where the quantized rows begin after the scales of m rows (64-byte aligned). */
// @ts-ignore: decorator
@inline function rows_at(pre: usize, m: i32): usize {
  return pre + ((<usize>m << 2) + 63 & ~63);
}

/** Bytes quant_rows_q8 writes for m rows of K values. */
export function quant_rows_bytes(m: i32, k: i32): usize {
  return rows_at(0, m) + <usize>m * row_bytes(k);
}

/**
 * Rows [0, m) of X (row stride ldx) quantized once for gemm_q8_f32's `pre`: each row's sx (m
 * floats) at pre, then its i16 values from rows_at(pre, m), row_bytes(k) apart — what every
 * product task would otherwise make for itself from the same rows, by the same arithmetic.
 */
export function quant_rows_q8(pre: usize, x: usize, m: i32, k: i32, ldx: i32): void {
  const xsb = row_bytes(k), xq = rows_at(pre, m);
  for (let t = 0; t < m; t++) store<f32>(pre + (<usize>t << 2), quantize_row(xq + <usize>t * xsb, x + (<usize>t * ldx << 2), k, xsb));
}

/**
 * The block Y[i0:i1, j0:j1] of Y = X · Wq + bias, Wq int8 (quant_pack_i8) with its per-column
 * scales (ceil(n/8)·8 floats); act 1 (ACT_GELU): Y = gelu(…), gelu_forward applied to the block
 * once it is written (the bits of the product followed by gelu_forward). The rows of X come
 * quantized in `pre` (quant_rows_q8 of all m rows: one pass shared by every block a pool makes of
 * the call), or with pre = 0 are quantized here into `work`, in chunks that fit it. Per sliver,
 * rows four at a time (then two, then one), each sliver read from memory once per chunk.
 */
export function gemm_q8_f32(y: usize, x: usize, wq: usize, scales: usize, bias: usize, m: i32, n: i32, k: i32,
  ldx: i32, ldy: i32, work: usize, i0: i32, i1: i32, j0: i32, j1: i32, act: i32, pre: usize): void {
  i1 = min(i1, m); j1 = min(j1, n);
  if (i1 <= i0 || j1 <= j0) return;
  q8_block(y, x, wq, scales, bias, m, n, k, ldx, ldy, work, i0, i1, j0, j1, pre);
  if (act == ACT_GELU) epilogue(y, 0, ldy, i0, i1, j0, j1, act);   // the block, still in cache
}

function q8_block(y: usize, x: usize, wq: usize, scales: usize, bias: usize, m: i32, n: i32, k: i32,
  ldx: i32, ldy: i32, work: usize, i0: i32, i1: i32, j0: i32, j1: i32, pre: usize): void {
  if (k <= 0) { fill_rows(y, bias, ldy, i0, i1, j0, j1); return; }
  const pairs = (k + 1) >> 1, xsb = row_bytes(k);
  const tile = work, tmp = work + 128;
  // the rows' scales and values: all of them in pre, or a chunk at a time in work
  const chunk = pre ? i1 - i0 : <i32>min<usize>(<usize>(i1 - i0), (gemm_workspace_bytes() - 256) / (xsb + 4));
  const sliver = sliver_elems(k), ry: usize = <usize>ldy << 2, rx: usize = <usize>ldx << 2;
  for (let c0 = i0; c0 < i1; c0 += chunk) {
    const rows = min(chunk, i1 - c0);
    let sx = work + 192, xq = rows_at(sx, chunk);
    if (pre) {
      sx = pre + (<usize>c0 << 2);
      xq = rows_at(pre, m) + <usize>c0 * xsb;
    } else {
      for (let t = 0; t < rows; t++) {
        store<f32>(sx + (<usize>t << 2), quantize_row(xq + <usize>t * xsb, x + <usize>(c0 + t) * rx, k, xsb));
      }
    }
    for (let j = j0; j < j1; j += 8) {
      const w = wq + <usize>(j >> 3) * sliver, nb = min(8, j1 - j), sc = scales + (<usize>j << 2);
      const bj = bias ? bias + (<usize>j << 2) : 0, yj = y + <usize>c0 * ry + (<usize>j << 2);
      let t = 0;
      for (; t + 4 <= rows; t += 4) {
        q8_rows4(tile, xq + <usize>t * xsb, xsb, w, pairs);
        for (let r = 0; r < 4; r++) q8_store(yj + <usize>(t + r) * ry, tile + (<usize>r << 5), load<f32>(sx + (<usize>(t + r) << 2)), sc, bj, nb, tmp);
      }
      if (t + 2 <= rows) {
        q8_rows2(tile, xq + <usize>t * xsb, xsb, w, pairs);
        for (let r = 0; r < 2; r++) q8_store(yj + <usize>(t + r) * ry, tile + (<usize>r << 5), load<f32>(sx + (<usize>(t + r) << 2)), sc, bj, nb, tmp);
        t += 2;
      }
      if (t < rows) {
        q8_row1(tile, xq + <usize>t * xsb, w, pairs);
        q8_store(yj + <usize>t * ry, tile, load<f32>(sx + (<usize>t << 2)), sc, bj, nb, tmp);
      }
    }
  }
}
