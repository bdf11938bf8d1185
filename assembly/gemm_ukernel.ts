// GEMM micro-kernels: one MR×NR tile of C from a packed A sliver and a packed B sliver
// (layouts in gemm_pack.ts), accumulators held in f32x4 registers, alpha/beta/bias applied
// in the store epilogue. The tile shape is chosen per build (see GEMM_MR in gemm.ts).
// Contract: kc >= 0; a and b hold kc·MR and kc·NR floats; c is a full MR×NR tile.

/** Rows of the register tile: 6×8 needs 12 accumulators + 2 B + 1 splat = 15 xmm with fused
 *  multiply-add; mul+add needs one more temporary, so the simd build uses 5×8 (14). */
export const MR: i32 = ASC_FEATURE_RELAXED_SIMD ? 6 : 5;
/** Columns of the register tile: two f32x4. */
export const NR: i32 = 8;

/** The micro-kernel of this build: C (MR,NR) = alpha·A sliver·B sliver + beta·C + bias. */
// @ts-ignore: decorator
@inline export function ukernel(kc: i32, a: usize /* packed (kc,MR) */, b: usize /* packed (kc,NR) */,
  c: usize /* (MR,NR), row stride ldc */, ldc: i32, alpha: f32, beta: f32, bias: usize /* (NR) or 0 */): void {
  if (MR == 6) ukernel_6x8(kc, a, b, c, ldc, alpha, beta, bias);
  else if (MR == 5) ukernel_5x8(kc, a, b, c, ldc, alpha, beta, bias);
  else ukernel_4x8(kc, a, b, c, ldc, alpha, beta, bias);
}

/** a·b + c: one fused multiply-add in the relaxed build, mul then add otherwise. */
// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/** Stores one 8-wide row of a tile: c = alpha·acc + beta·c + bias (beta == 0: c not read). */
// @ts-ignore: decorator
@inline function store_row_8(c: usize /* (8) */, acc0: v128, acc1: v128, alpha: v128, beta: f32,
  bias0: v128, bias1: v128): void {
  let v0 = madd(acc0, alpha, bias0);
  let v1 = madd(acc1, alpha, bias1);
  if (beta != 0) {
    const vb = f32x4.splat(beta);
    v0 = madd(v128.load(c), vb, v0);
    v1 = madd(v128.load(c, 16), vb, v1);
  }
  v128.store(c, v0);
  v128.store(c, v1, 16);
}

/** C tile (6,8) = alpha · A sliver (6,kc) · B sliver (kc,8) + beta·C + bias. */
export function ukernel_6x8(kc: i32, a: usize /* packed (kc,6) */, b: usize /* packed (kc,8) */,
  c: usize /* (6,8), row stride ldc */, ldc: i32, alpha: f32, beta: f32, bias: usize /* (8) or 0 */): void {
  let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  let c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(b), b1 = v128.load(b, 16);
    let s = v128.load32_splat(a);
    c00 = madd(s, b0, c00); c01 = madd(s, b1, c01);
    s = v128.load32_splat(a, 4);
    c10 = madd(s, b0, c10); c11 = madd(s, b1, c11);
    s = v128.load32_splat(a, 8);
    c20 = madd(s, b0, c20); c21 = madd(s, b1, c21);
    s = v128.load32_splat(a, 12);
    c30 = madd(s, b0, c30); c31 = madd(s, b1, c31);
    s = v128.load32_splat(a, 16);
    c40 = madd(s, b0, c40); c41 = madd(s, b1, c41);
    s = v128.load32_splat(a, 20);
    c50 = madd(s, b0, c50); c51 = madd(s, b1, c51);
    a += 24; b += 32;
  }
  const va = f32x4.splat(alpha);
  let bias0 = f32x4.splat(0), bias1 = bias0;
  if (bias) { bias0 = v128.load(bias); bias1 = v128.load(bias, 16); }
  const rs = <usize>ldc << 2;
  store_row_8(c, c00, c01, va, beta, bias0, bias1); c += rs;
  store_row_8(c, c10, c11, va, beta, bias0, bias1); c += rs;
  store_row_8(c, c20, c21, va, beta, bias0, bias1); c += rs;
  store_row_8(c, c30, c31, va, beta, bias0, bias1); c += rs;
  store_row_8(c, c40, c41, va, beta, bias0, bias1); c += rs;
  store_row_8(c, c50, c51, va, beta, bias0, bias1);
}

/** C tile (5,8) = alpha · A sliver (5,kc) · B sliver (kc,8) + beta·C + bias. */
export function ukernel_5x8(kc: i32, a: usize /* packed (kc,5) */, b: usize /* packed (kc,8) */,
  c: usize /* (5,8), row stride ldc */, ldc: i32, alpha: f32, beta: f32, bias: usize /* (8) or 0 */): void {
  let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  let c30 = c00, c31 = c00, c40 = c00, c41 = c00;
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(b), b1 = v128.load(b, 16);
    let s = v128.load32_splat(a);
    c00 = madd(s, b0, c00); c01 = madd(s, b1, c01);
    s = v128.load32_splat(a, 4);
    c10 = madd(s, b0, c10); c11 = madd(s, b1, c11);
    s = v128.load32_splat(a, 8);
    c20 = madd(s, b0, c20); c21 = madd(s, b1, c21);
    s = v128.load32_splat(a, 12);
    c30 = madd(s, b0, c30); c31 = madd(s, b1, c31);
    s = v128.load32_splat(a, 16);
    c40 = madd(s, b0, c40); c41 = madd(s, b1, c41);
    a += 20; b += 32;
  }
  const va = f32x4.splat(alpha);
  let bias0 = f32x4.splat(0), bias1 = bias0;
  if (bias) { bias0 = v128.load(bias); bias1 = v128.load(bias, 16); }
  const rs = <usize>ldc << 2;
  store_row_8(c, c00, c01, va, beta, bias0, bias1); c += rs;
  store_row_8(c, c10, c11, va, beta, bias0, bias1); c += rs;
  store_row_8(c, c20, c21, va, beta, bias0, bias1); c += rs;
  store_row_8(c, c30, c31, va, beta, bias0, bias1); c += rs;
  store_row_8(c, c40, c41, va, beta, bias0, bias1);
}

/** C tile (4,8) = alpha · A sliver (4,kc) · B sliver (kc,8) + beta·C + bias. */
export function ukernel_4x8(kc: i32, a: usize /* packed (kc,4) */, b: usize /* packed (kc,8) */,
  c: usize /* (4,8), row stride ldc */, ldc: i32, alpha: f32, beta: f32, bias: usize /* (8) or 0 */): void {
  let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00;
  let c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(b), b1 = v128.load(b, 16);
    let s = v128.load32_splat(a);
    c00 = madd(s, b0, c00); c01 = madd(s, b1, c01);
    s = v128.load32_splat(a, 4);
    c10 = madd(s, b0, c10); c11 = madd(s, b1, c11);
    s = v128.load32_splat(a, 8);
    c20 = madd(s, b0, c20); c21 = madd(s, b1, c21);
    s = v128.load32_splat(a, 12);
    c30 = madd(s, b0, c30); c31 = madd(s, b1, c31);
    a += 16; b += 32;
  }
  const va = f32x4.splat(alpha);
  let bias0 = f32x4.splat(0), bias1 = bias0;
  if (bias) { bias0 = v128.load(bias); bias1 = v128.load(bias, 16); }
  const rs = <usize>ldc << 2;
  store_row_8(c, c00, c01, va, beta, bias0, bias1); c += rs;
  store_row_8(c, c10, c11, va, beta, bias0, bias1); c += rs;
  store_row_8(c, c20, c21, va, beta, bias0, bias1); c += rs;
  store_row_8(c, c30, c31, va, beta, bias0, bias1);
}

// Small-M kernels (decode-time matrix–vector): one row of C, B streamed straight from its
// storage with no packing, since each B element is used once per row of A.

/** Writes four outputs: c = alpha·acc + beta·c + bias (beta == 0: c not read). */
// @ts-ignore: decorator
@inline function store_4(c: usize /* (4) */, acc: v128, alpha: f32, beta: f32, bias: usize /* (4) or 0 */): void {
  let v = f32x4.mul(acc, f32x4.splat(alpha));
  if (beta != 0) v = madd(v128.load(c), f32x4.splat(beta), v);
  if (bias) v = f32x4.add(v, v128.load(bias));
  v128.store(c, v);
}

/** Writes one output: c = alpha·acc + beta·c + bias (beta == 0: c not read). */
// @ts-ignore: decorator
@inline function store_1(c: usize, acc: f32, alpha: f32, beta: f32, bias: usize /* (1) or 0 */): void {
  let v = alpha * acc;
  if (beta != 0) v += beta * load<f32>(c);
  if (bias) v += load<f32>(bias);
  store<f32>(c, v);
}

/** c (n) = alpha · a (k) · B (k,n) + beta·c + bias; a's elements are `as` bytes apart.
 *  Vectorized over n: 32 columns at a time in 8 accumulators, one splat of a per k. */
export function gemv_n(c: usize /* (n) */, a: usize /* (k), stride as bytes */, as: usize,
  b: usize /* (k,n), row stride ldb */, ldb: i32, n: i32, k: i32,
  alpha: f32, beta: f32, bias: usize /* (n) or 0 */): void {
  const ld = <usize>ldb << 2;
  let j = 0;
  for (; j + 32 <= n; j += 32) {
    let x0 = f32x4.splat(0), x1 = x0, x2 = x0, x3 = x0, x4 = x0, x5 = x0, x6 = x0, x7 = x0;
    let bp = b + (<usize>j << 2), ap = a;
    for (let p = 0; p < k; p++) {
      const s = v128.load32_splat(ap);
      x0 = madd(s, v128.load(bp), x0);       x1 = madd(s, v128.load(bp, 16), x1);
      x2 = madd(s, v128.load(bp, 32), x2);   x3 = madd(s, v128.load(bp, 48), x3);
      x4 = madd(s, v128.load(bp, 64), x4);   x5 = madd(s, v128.load(bp, 80), x5);
      x6 = madd(s, v128.load(bp, 96), x6);   x7 = madd(s, v128.load(bp, 112), x7);
      bp += ld; ap += as;
    }
    const cj = c + (<usize>j << 2), bj = bias ? bias + (<usize>j << 2) : 0;
    store_4(cj, x0, alpha, beta, bj);              store_4(cj + 16, x1, alpha, beta, bj ? bj + 16 : 0);
    store_4(cj + 32, x2, alpha, beta, bj ? bj + 32 : 0);   store_4(cj + 48, x3, alpha, beta, bj ? bj + 48 : 0);
    store_4(cj + 64, x4, alpha, beta, bj ? bj + 64 : 0);   store_4(cj + 80, x5, alpha, beta, bj ? bj + 80 : 0);
    store_4(cj + 96, x6, alpha, beta, bj ? bj + 96 : 0);   store_4(cj + 112, x7, alpha, beta, bj ? bj + 112 : 0);
  }
  for (; j + 4 <= n; j += 4) {
    let x = f32x4.splat(0);
    let bp = b + (<usize>j << 2), ap = a;
    for (let p = 0; p < k; p++) { x = madd(v128.load32_splat(ap), v128.load(bp), x); bp += ld; ap += as; }
    store_4(c + (<usize>j << 2), x, alpha, beta, bias ? bias + (<usize>j << 2) : 0);
  }
  for (; j < n; j++) {
    let x: f32 = 0;
    let bp = b + (<usize>j << 2), ap = a;
    for (let p = 0; p < k; p++) { x += load<f32>(ap) * load<f32>(bp); bp += ld; ap += as; }
    store_1(c + (<usize>j << 2), x, alpha, beta, bias ? bias + (<usize>j << 2) : 0);
  }
}

/** c (n) = alpha · B (n,k) · a (k) + beta·c + bias, a contiguous: dot products with four
 *  rows of B at a time (8 accumulators over k), reduced by a 4×4 transpose-add. */
export function gemv_t(c: usize /* (n) */, a: usize /* (k) */, b: usize /* (n,k), row stride ldb */,
  ldb: i32, n: i32, k: i32, alpha: f32, beta: f32, bias: usize /* (n) or 0 */): void {
  const ld = <usize>ldb << 2;
  let j = 0;
  for (; j + 4 <= n; j += 4) {
    const b0 = b + <usize>j * ld, b1 = b0 + ld, b2 = b1 + ld, b3 = b2 + ld;
    let x0 = f32x4.splat(0), x1 = x0, x2 = x0, x3 = x0, y0 = x0, y1 = x0, y2 = x0, y3 = x0;
    let o: usize = 0;
    const k8 = <usize>(k & ~7) << 2, k4 = <usize>(k & ~3) << 2, kb = <usize>k << 2;
    for (; o < k8; o += 32) {
      const a0 = v128.load(a + o), a1 = v128.load(a + o, 16);
      x0 = madd(a0, v128.load(b0 + o), x0); y0 = madd(a1, v128.load(b0 + o, 16), y0);
      x1 = madd(a0, v128.load(b1 + o), x1); y1 = madd(a1, v128.load(b1 + o, 16), y1);
      x2 = madd(a0, v128.load(b2 + o), x2); y2 = madd(a1, v128.load(b2 + o, 16), y2);
      x3 = madd(a0, v128.load(b3 + o), x3); y3 = madd(a1, v128.load(b3 + o, 16), y3);
    }
    if (o < k4) {
      const a0 = v128.load(a + o);
      x0 = madd(a0, v128.load(b0 + o), x0); x1 = madd(a0, v128.load(b1 + o), x1);
      x2 = madd(a0, v128.load(b2 + o), x2); x3 = madd(a0, v128.load(b3 + o), x3);
      o += 16;
    }
    x0 = f32x4.add(x0, y0); x1 = f32x4.add(x1, y1); x2 = f32x4.add(x2, y2); x3 = f32x4.add(x3, y3);
    const t01 = f32x4.add(v128.shuffle<f32>(x0, x1, 0, 4, 1, 5), v128.shuffle<f32>(x0, x1, 2, 6, 3, 7));
    const t23 = f32x4.add(v128.shuffle<f32>(x2, x3, 0, 4, 1, 5), v128.shuffle<f32>(x2, x3, 2, 6, 3, 7));
    let sum = f32x4.add(v128.shuffle<f32>(t01, t23, 0, 1, 4, 5), v128.shuffle<f32>(t01, t23, 2, 3, 6, 7));
    for (; o < kb; o += 4) {
      const t = f32x4.splat(load<f32>(a + o));
      const col = f32x4.replace_lane(f32x4.replace_lane(f32x4.replace_lane(
        f32x4.splat(load<f32>(b0 + o)), 1, load<f32>(b1 + o)), 2, load<f32>(b2 + o)), 3, load<f32>(b3 + o));
      sum = madd(t, col, sum);
    }
    store_4(c + (<usize>j << 2), sum, alpha, beta, bias ? bias + (<usize>j << 2) : 0);
  }
  for (; j < n; j++) {
    const bj = b + <usize>j * ld;
    let x = f32x4.splat(0);
    let p = 0;
    for (; p + 4 <= k; p += 4) x = madd(v128.load(a + (<usize>p << 2)), v128.load(bj + (<usize>p << 2)), x);
    let s = f32x4.extract_lane(x, 0) + f32x4.extract_lane(x, 1) + f32x4.extract_lane(x, 2) + f32x4.extract_lane(x, 3);
    for (; p < k; p++) s += load<f32>(a + (<usize>p << 2)) * load<f32>(bj + (<usize>p << 2));
    store_1(c + (<usize>j << 2), s, alpha, beta, bias ? bias + (<usize>j << 2) : 0);
  }
}
