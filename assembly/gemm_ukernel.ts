// GEMM micro-kernels: one MR×NR tile of op(A)·op(B) from a packed A sliver and a packed B
// sliver (layouts in gemm_pack.ts), accumulators held in f32x4 registers; then the store
// epilogue (store_tile) writes alpha·tile + beta·C + bias into C. Plus the small-M kernels.
// Contract: kc >= 0; a and b hold kc·MR and kc·NR floats; nothing is read outside them.

/** Rows of the register tile, per build. V8 (x64) allocates 15 xmm registers (xmm15 is its
 *  scratch). Relaxed: 6×8 keeps 12 accumulators + 2 B vectors + 1 splat in those 15. Plain SIMD
 *  needs one more temporary per product (mul, then add): 6×8 spills accumulators inside the loop,
 *  and so does 5×8 (V8's scheduler hoists all five broadcasts of a k step ahead of their uses:
 *  10 + 2 + 5 live vectors); 4×8 fits (8 + 2 + 4 + 1). Measured alone on one Zen 5 core
 *  (Node 20, TurboFan): 4×8 52 GFLOP/s, 5×8 25, 6×8 30 with mul+add. */
export const MR: i32 = ASC_FEATURE_RELAXED_SIMD ? 6 : 4;
/** Columns of the register tile: two f32x4. */
export const NR: i32 = 8;

/** a·b + c: one fused multiply-add in the relaxed build, mul then add otherwise. */
// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

// Why the micro-kernel ends in plain stores to a small tile instead of applying alpha, beta
// and bias on its registers: any extra v128 value after the loop (even a splat of alpha)
// made V8 (Node 20) spill accumulators inside the loop, a third of the speed. The round trip
// through L1 costs 2·MR stores and loads per tile. The driver must also keep it out of line.

/** The micro-kernel of this build: acc (MR,8) = A sliver (MR,kc) · B sliver (kc,8). */
// @ts-ignore: decorator
@inline export function ukernel(kc: i32, a: usize /* packed (kc,MR) */, b: usize /* packed (kc,8) */, acc: usize /* (MR,8) */): void {
  if (MR == 6) ukernel_6x8(kc, a, b, acc);
  else ukernel_4x8(kc, a, b, acc);
}

/** acc (4,8) = A sliver (4,kc) · B sliver (kc,8): the plain-SIMD build's tile. */
export function ukernel_4x8(kc: i32, a: usize /* packed (kc,4) */, b: usize /* packed (kc,8) */,
  acc: usize /* (4,8) contiguous */): void {
  let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
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
  v128.store(acc, c00, 0);   v128.store(acc, c01, 16);
  v128.store(acc, c10, 32);  v128.store(acc, c11, 48);
  v128.store(acc, c20, 64);  v128.store(acc, c21, 80);
  v128.store(acc, c30, 96);  v128.store(acc, c31, 112);
}

/** acc (6,8) = A sliver (6,kc) · B sliver (kc,8): the relaxed build's tile. */
export function ukernel_6x8(kc: i32, a: usize /* packed (kc,6) */, b: usize /* packed (kc,8) */,
  acc: usize /* (6,8) contiguous */): void {
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
  v128.store(acc, c00, 0);   v128.store(acc, c01, 16);
  v128.store(acc, c10, 32);  v128.store(acc, c11, 48);
  v128.store(acc, c20, 64);  v128.store(acc, c21, 80);
  v128.store(acc, c30, 96);  v128.store(acc, c31, 112);
  v128.store(acc, c40, 128); v128.store(acc, c41, 144);
  v128.store(acc, c50, 160); v128.store(acc, c51, 176);
}

/** The store epilogue of a tile of full width: C (mr,NR) = alpha·acc + beta·C + bias (beta == 0: C not read). */
export function store_tile(c: usize /* (mr,NR), row stride ldc */, ldc: i32, acc: usize /* (MR,NR) */,
  mr: i32, alpha: f32, beta: f32, bias: usize /* (NR) or 0 */): void {
  const rs = <usize>ldc << 2;
  const va = f32x4.splat(alpha), vb = f32x4.splat(beta);
  let bias0 = f32x4.splat(0), bias1 = bias0;
  if (bias) { bias0 = v128.load(bias); bias1 = v128.load(bias, 16); }
  for (let i = 0; i < mr; i++) {
    let v0 = madd(v128.load(acc), va, bias0);
    let v1 = madd(v128.load(acc, 16), va, bias1);
    if (beta != 0) { v0 = madd(v128.load(c), vb, v0); v1 = madd(v128.load(c, 16), vb, v1); }
    v128.store(c, v0); v128.store(c, v1, 16);
    c += rs; acc += NR << 2;
  }
}

/** The store epilogue of an edge tile: its top-left (mr,nr) only (mr <= MR, nr <= NR). */
export function store_tile_edge(c: usize /* (mr,nr), row stride ldc */, ldc: i32, acc: usize /* (MR,NR) */,
  mr: i32, nr: i32, alpha: f32, beta: f32, bias: usize /* (nr) or 0 */): void {
  for (let i = 0; i < mr; i++) {
    for (let j = 0; j < nr; j++) {
      const o = <usize>j << 2;
      let v = alpha * load<f32>(acc + o);
      if (beta != 0) v += beta * load<f32>(c + o);
      if (bias) v += load<f32>(bias + o);
      store<f32>(c + o, v);
    }
    c += <usize>ldc << 2; acc += NR << 2;
  }
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

/** Columns per pass of gemv_n: its accumulator rows (2 × 16 KB) stay in L1 while B streams by. */
export const GEMV_NB: i32 = 4096;
/**
 * Rows of B per chunk of gemv_n. Each chunk's sum is formed on its own, from zero, and the chunk
 * sums are added in order: a worker pool can then give whole chunks — long contiguous runs of B —
 * to different threads (gemv_chunks_f32, gemv_sum_f32) and still compute the same bits as one thread.
 */
export const GEMV_KC: i32 = 128;

/** part (nb) = Σ_{p ∈ [p0, p1)} a[p]·B[p,:]: eight rows at a time, then four, then one. */
export function gemv_rows(part: usize /* (nb) */, a: usize /* (k), stride as bytes */, as: usize,
  b: usize /* (k,nb), row stride ld bytes */, ld: usize, nb: i32, p0: i32, p1: i32): void {
  for (let o: usize = 0; o < <usize>nb << 2; o += 4) store<f32>(part + o, 0);
  let p = p0;
  for (; p + 8 <= p1; p += 8) axpy_rows8(part, b + <usize>p * ld, ld, a + <usize>p * as, as, nb);
  for (; p + 4 <= p1; p += 4) axpy_rows4(part, b + <usize>p * ld, ld, a + <usize>p * as, as, nb);
  for (; p < p1; p++) axpy_row(part, b + <usize>p * ld, load<f32>(a + <usize>p * as), nb);
}

/** c (nb) = alpha·total + beta·c + bias: four lanes at a time while four remain, then one. */
export function gemv_store(c: usize /* (nb) */, total: usize /* (nb) */, nb: i32, alpha: f32, beta: f32, bias: usize /* (nb) or 0 */): void {
  let o: usize = 0;
  for (; o + 16 <= <usize>nb << 2; o += 16) store_4(c + o, v128.load(total + o), alpha, beta, bias ? bias + o : 0);
  for (; o < <usize>nb << 2; o += 4) store_1(c + o, load<f32>(total + o), alpha, beta, bias ? bias + o : 0);
}

/** total (nb) += part (nb). */
export function add_row(total: usize /* (nb) */, part: usize /* (nb) */, nb: i32): void {
  let o: usize = 0;
  for (; o + 16 <= <usize>nb << 2; o += 16) v128.store(total + o, f32x4.add(v128.load(total + o), v128.load(part + o)));
  for (; o < <usize>nb << 2; o += 4) store<f32>(total + o, load<f32>(total + o) + load<f32>(part + o));
}

/** c (n) = alpha · a (k) · B (k,n) + beta·c + bias; a's elements are `as` bytes apart. B is read
 *  once in storage order, by chunks of GEMV_KC rows, each summed from zero into the second half of
 *  `acc` and added to the total in the first half (the first chunk straight into it). */
export function gemv_n(c: usize /* (n) */, a: usize /* (k), stride as bytes */, as: usize,
  b: usize /* (k,n), row stride ldb */, ldb: i32, n: i32, k: i32,
  alpha: f32, beta: f32, bias: usize /* (n) or 0 */, acc: usize /* (2·GEMV_NB) */): void {
  const ld = <usize>ldb << 2;
  const part = acc + (<usize>GEMV_NB << 2);
  for (let j0 = 0; j0 < n; j0 += GEMV_NB) {
    const nb = min(GEMV_NB, n - j0);
    const bj = b + (<usize>j0 << 2);
    gemv_rows(acc, a, as, bj, ld, nb, 0, min(k, GEMV_KC));
    for (let p0 = GEMV_KC; p0 < k; p0 += GEMV_KC) {
      gemv_rows(part, a, as, bj, ld, nb, p0, min(k, p0 + GEMV_KC));
      add_row(acc, part, nb);
    }
    gemv_store(c + (<usize>j0 << 2), acc, nb, alpha, beta, bias ? bias + (<usize>j0 << 2) : 0);
  }
}

/** acc (nb) += Σ_{r<8} a[r]·B[r,:]: eight rows of B streamed at once (more streams in flight than
 *  four: the one-row products are memory-bound; measured on 768×50256, 17.3 → 19.9 GB/s). B rows
 *  ld bytes apart, a's elements `as` bytes apart. */
function axpy_rows8(acc: usize /* (nb) */, b: usize /* (8,nb) */, ld: usize, a: usize /* (8) */, as: usize, nb: i32): void {
  const s0 = v128.load32_splat(a), s1 = v128.load32_splat(a + as), s2 = v128.load32_splat(a + 2 * as), s3 = v128.load32_splat(a + 3 * as);
  const s4 = v128.load32_splat(a + 4 * as), s5 = v128.load32_splat(a + 5 * as), s6 = v128.load32_splat(a + 6 * as), s7 = v128.load32_splat(a + 7 * as);
  const nv = <usize>(nb & ~3) << 2, end = <usize>nb << 2;
  let o: usize = 0;
  for (; o < nv; o += 16) {
    const q = b + o;
    let x = madd(s0, v128.load(q), v128.load(acc + o));
    let y = f32x4.mul(s1, v128.load(q + ld));
    x = madd(s2, v128.load(q + 2 * ld), x); y = madd(s3, v128.load(q + 3 * ld), y);
    x = madd(s4, v128.load(q + 4 * ld), x); y = madd(s5, v128.load(q + 5 * ld), y);
    x = madd(s6, v128.load(q + 6 * ld), x); y = madd(s7, v128.load(q + 7 * ld), y);
    v128.store(acc + o, f32x4.add(x, y));
  }
  for (; o < end; o += 4) {
    const q = b + o;
    let x = f32x4.extract_lane(s0, 0) * load<f32>(q) + load<f32>(acc + o);
    let y = f32x4.extract_lane(s1, 0) * load<f32>(q + ld);
    x = f32x4.extract_lane(s2, 0) * load<f32>(q + 2 * ld) + x; y = f32x4.extract_lane(s3, 0) * load<f32>(q + 3 * ld) + y;
    x = f32x4.extract_lane(s4, 0) * load<f32>(q + 4 * ld) + x; y = f32x4.extract_lane(s5, 0) * load<f32>(q + 5 * ld) + y;
    x = f32x4.extract_lane(s6, 0) * load<f32>(q + 6 * ld) + x; y = f32x4.extract_lane(s7, 0) * load<f32>(q + 7 * ld) + y;
    store<f32>(acc + o, x + y);
  }
}

/** acc (nb) += a[0]·B[0,:] + a[1]·B[1,:] + a[2]·B[2,:] + a[3]·B[3,:]; B rows ld bytes apart,
 *  a's elements `as` bytes apart. */
function axpy_rows4(acc: usize /* (nb) */, b: usize /* (4,nb) */, ld: usize, a: usize /* (4) */, as: usize, nb: i32): void {
  const s0 = v128.load32_splat(a), s1 = v128.load32_splat(a + as);
  const s2 = v128.load32_splat(a + 2 * as), s3 = v128.load32_splat(a + 3 * as);
  const b1 = b + ld, b2 = b1 + ld, b3 = b2 + ld;
  const nv = <usize>(nb & ~3) << 2, end = <usize>nb << 2;
  let o: usize = 0;
  for (; o < nv; o += 16) {
    let x = madd(s0, v128.load(b + o), v128.load(acc + o));
    const y = madd(s2, v128.load(b2 + o), f32x4.mul(s1, v128.load(b1 + o)));
    x = madd(s3, v128.load(b3 + o), x);
    v128.store(acc + o, f32x4.add(x, y));
  }
  for (; o < end; o += 4) {
    const t = f32x4.extract_lane(s0, 0) * load<f32>(b + o) + f32x4.extract_lane(s1, 0) * load<f32>(b1 + o)
      + f32x4.extract_lane(s2, 0) * load<f32>(b2 + o) + f32x4.extract_lane(s3, 0) * load<f32>(b3 + o);
    store<f32>(acc + o, load<f32>(acc + o) + t);
  }
}

/** acc (nb) += s·B[0,:]. */
function axpy_row(acc: usize /* (nb) */, b: usize /* (nb) */, s: f32, nb: i32): void {
  const vs = f32x4.splat(s);
  const nv = <usize>(nb & ~3) << 2, end = <usize>nb << 2;
  let o: usize = 0;
  for (; o < nv; o += 16) v128.store(acc + o, madd(vs, v128.load(b + o), v128.load(acc + o)));
  for (; o < end; o += 4) store<f32>(acc + o, load<f32>(acc + o) + s * load<f32>(b + o));
}

/** The four horizontal sums (x0, x1, x2, x3 each summed over its lanes), by a 4×4 transpose-add. */
// @ts-ignore: decorator
@inline function hsum_4x4(x0: v128, x1: v128, x2: v128, x3: v128): v128 {
  const t01 = f32x4.add(v128.shuffle<f32>(x0, x1, 0, 4, 1, 5), v128.shuffle<f32>(x0, x1, 2, 6, 3, 7));
  const t23 = f32x4.add(v128.shuffle<f32>(x2, x3, 0, 4, 1, 5), v128.shuffle<f32>(x2, x3, 2, 6, 3, 7));
  return f32x4.add(v128.shuffle<f32>(t01, t23, 0, 1, 4, 5), v128.shuffle<f32>(t01, t23, 2, 3, 6, 7));
}

/** Four floats ld bytes apart (one column of four rows), as one vector. */
// @ts-ignore: decorator
@inline function load_column_4(b: usize /* (4,1), row stride ld bytes */, ld: usize): v128 {
  return f32x4.replace_lane(f32x4.replace_lane(f32x4.replace_lane(
    f32x4.splat(load<f32>(b)), 1, load<f32>(b + ld)), 2, load<f32>(b + 2 * ld)), 3, load<f32>(b + 3 * ld));
}

/** c (n) = alpha · B (n,k) · a (k) + beta·c + bias, a contiguous: dot products with eight rows of
 *  B at a time (one accumulator each over k; eight streams in flight: measured on 50256×768,
 *  15.9 → 18.5 GB/s against four rows), then four, reduced by 4×4 transpose-adds. */
export function gemv_t(c: usize /* (n) */, a: usize /* (k) */, b: usize /* (n,k), row stride ldb */,
  ldb: i32, n: i32, k: i32, alpha: f32, beta: f32, bias: usize /* (n) or 0 */): void {
  const ld = <usize>ldb << 2;
  let j = 0;
  const k4 = <usize>(k & ~3) << 2, kb = <usize>k << 2;
  for (; j + 8 <= n; j += 8) {
    const b0 = b + <usize>j * ld;
    let x0 = f32x4.splat(0), x1 = x0, x2 = x0, x3 = x0, x4 = x0, x5 = x0, x6 = x0, x7 = x0;
    let o: usize = 0;
    for (; o < k4; o += 16) {
      const a0 = v128.load(a + o), q = b0 + o;
      x0 = madd(a0, v128.load(q), x0); x1 = madd(a0, v128.load(q + ld), x1);
      x2 = madd(a0, v128.load(q + 2 * ld), x2); x3 = madd(a0, v128.load(q + 3 * ld), x3);
      x4 = madd(a0, v128.load(q + 4 * ld), x4); x5 = madd(a0, v128.load(q + 5 * ld), x5);
      x6 = madd(a0, v128.load(q + 6 * ld), x6); x7 = madd(a0, v128.load(q + 7 * ld), x7);
    }
    let lo = hsum_4x4(x0, x1, x2, x3), hi = hsum_4x4(x4, x5, x6, x7);
    for (; o < kb; o += 4) {
      const s = f32x4.splat(load<f32>(a + o));
      lo = madd(s, load_column_4(b0 + o, ld), lo);
      hi = madd(s, load_column_4(b0 + 4 * ld + o, ld), hi);
    }
    const cj = c + (<usize>j << 2), bj = bias ? bias + (<usize>j << 2) : 0;
    store_4(cj, lo, alpha, beta, bj);
    store_4(cj + 16, hi, alpha, beta, bias ? bj + 16 : 0);
  }
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
    let sum = hsum_4x4(f32x4.add(x0, y0), f32x4.add(x1, y1), f32x4.add(x2, y2), f32x4.add(x3, y3));
    for (; o < kb; o += 4) sum = madd(f32x4.splat(load<f32>(a + o)), load_column_4(b0 + o, ld), sum);
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

// Small-M kernels over several rows of A (2 <= M <= GEMM_SMALL_M): B still streamed in place,
// but each element of B loaded into a register serves SR (A·B) or two (A·Bᵀ) rows of A. The
// driver runs a block of B (a column strip, or four rows) against every row group in turn, so
// B comes from memory once and from L1 for the other groups.

/** Rows of A per call of ukernel_small_4x8_n. 4×8 keeps 8 accumulators + 2 B vectors + 1 splat
 *  in registers, with the mul+add temporary to spare. */
export const SR: i32 = 4;

/** acc (4,8) = A rows (4,k) · B strip (k,8), B read in place. Row r of A holds A(r,p) at
 *  a_r + p·as bytes (as = 4 for A stored (M,K), lda·4 for A stored transposed). k >= 0. */
export function ukernel_small_4x8_n(k: i32, a0: usize /* (k), stride as */, a1: usize, a2: usize, a3: usize,
  as: usize, b: usize /* (k,8), row stride ld bytes */, ld: usize, acc: usize /* (4,NR) of (MR,NR) */): void {
  let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  for (let p = 0; p < k; p++) {
    const b0 = v128.load(b), b1 = v128.load(b, 16);
    let s = v128.load32_splat(a0);
    c00 = madd(s, b0, c00); c01 = madd(s, b1, c01);
    s = v128.load32_splat(a1);
    c10 = madd(s, b0, c10); c11 = madd(s, b1, c11);
    s = v128.load32_splat(a2);
    c20 = madd(s, b0, c20); c21 = madd(s, b1, c21);
    s = v128.load32_splat(a3);
    c30 = madd(s, b0, c30); c31 = madd(s, b1, c31);
    a0 += as; a1 += as; a2 += as; a3 += as; b += ld;
  }
  v128.store(acc, c00, 0);  v128.store(acc, c01, 16);
  v128.store(acc, c10, 32); v128.store(acc, c11, 48);
  v128.store(acc, c20, 64); v128.store(acc, c21, 80);
  v128.store(acc, c30, 96); v128.store(acc, c31, 112);
}

/** C rows 0 and 1 (4 columns each) = alpha · A rows (2,k) · B rows (4,k)ᵀ + beta·C + bias:
 *  f32x4 dot products over k (8 accumulators), then horizontal sums. A rows contiguous; an odd
 *  last row passes c1 == c0 and a1 == a0 (the same work; one row stored). beta == 0: C not read. k >= 0. */
export function ukernel_small_2x4_t(c0: usize /* (4) */, c1: usize /* (4) */, a0: usize /* (k) */, a1: usize /* (k) */,
  b: usize /* (4,k), row stride ld bytes */, ld: usize, k: i32, alpha: f32, beta: f32, bias: usize /* (4) or 0 */): void {
  const b1 = b + ld, b2 = b1 + ld, b3 = b2 + ld;
  let x0 = f32x4.splat(0), x1 = x0, x2 = x0, x3 = x0, y0 = x0, y1 = x0, y2 = x0, y3 = x0;
  const k4 = <usize>(k & ~3) << 2, kb = <usize>k << 2;
  let o: usize = 0;
  for (; o < k4; o += 16) {
    const u = v128.load(a0 + o), v = v128.load(a1 + o);
    let w = v128.load(b + o);
    x0 = madd(u, w, x0); y0 = madd(v, w, y0);
    w = v128.load(b1 + o);
    x1 = madd(u, w, x1); y1 = madd(v, w, y1);
    w = v128.load(b2 + o);
    x2 = madd(u, w, x2); y2 = madd(v, w, y2);
    w = v128.load(b3 + o);
    x3 = madd(u, w, x3); y3 = madd(v, w, y3);
  }
  let sx = hsum_4x4(x0, x1, x2, x3), sy = hsum_4x4(y0, y1, y2, y3);
  for (; o < kb; o += 4) {
    const col = load_column_4(b + o, ld);
    sx = madd(f32x4.splat(load<f32>(a0 + o)), col, sx);
    sy = madd(f32x4.splat(load<f32>(a1 + o)), col, sy);
  }
  store_4(c0, sx, alpha, beta, bias);
  if (c1 != c0) store_4(c1, sy, alpha, beta, bias);
}

// Rows of A times packed weights (gemm.ts, pack_weight_f32): slivers of NR = 8 columns, each (k,8)
// k-major and contiguous within a panel of k rows. A weight in several panels is summed panel by
// panel: each sliver's sums start from zero in the first (mode PANEL_FIRST), are parked in `park`
// between panels and reloaded (the same additions in the same order as in one pass, so the same
// bits), and are stored in the last (PANEL_LAST).

/** gemv_row / gemv_sliver modes: the sums start from zero (else from `park`); they are final (else parked). */
export const PANEL_FIRST: i32 = 1, PANEL_LAST: i32 = 2;

/**
 * One row of A (`as` bytes between its elements) times the packed slivers of columns [j0, j1) of
 * one panel (bp; its slivers k rows tall), the sums from zero or `park` and to `c` or `park` (mode):
 * c (j1 − j0) = alpha · a · B + beta · c + bias, each sliver's sums in gemv_sliver's two halves
 * (so a row gets the same arithmetic here as in a group there). This loop is decode's: four rows
 * of B (128 bytes) per step, walked by pointers, the sums kept in registers to the store, one
 * stream through all the slivers. gemv_sliver's loop (index arithmetic, two rows of B a step, a
 * call per sliver) issues more instructions than memory leaves time for when the bus is free:
 * GPT-2's 768×50264 head on one thread streamed at 22–23 GB/s where the plain read did 39 and
 * this loop (scratch module) 34–35. Alternating call by call with that loop in one process: 0.99–
 * 1.11× (read 24–28 GB/s: both then wait on memory). `tmp`: 16 floats.
 */
export function gemv_row(c: usize, a: usize, as: usize, bp: usize /* a panel: (ceil(n/8), k, 8) */, k: i32, j0: i32, j1: i32,
  alpha: f32, beta: f32, bias: usize, tmp: usize, park: usize /* (ceil((j1 − j0)/8), 16) */, mode: i32): void {
  const sliver: usize = <usize>k << 5, k4: usize = <usize>(k & ~3) << 5;
  const as2 = as << 1, as3 = as2 + as, as4 = as << 2;
  let bs = bp + <usize>(j0 >> 3) * sliver;
  for (let j = j0, pk = park; j < j1; j += 8, bs += sliver, pk += 64) {
    let e0 = f32x4.splat(0), e1 = e0, o0 = e0, o1 = e0;   // even and odd rows of B, columns 0-3 and 4-7
    if ((mode & PANEL_FIRST) == 0) { e0 = v128.load(pk); e1 = v128.load(pk, 16); o0 = v128.load(pk, 32); o1 = v128.load(pk, 48); }
    let q = bs, ap = a;
    const end4 = bs + k4;
    if (as == 4) {
      for (; q < end4; q += 128, ap += 16) {
        let s = v128.load32_splat(ap);
        e0 = madd(s, v128.load(q), e0); e1 = madd(s, v128.load(q, 16), e1);
        s = v128.load32_splat(ap, 4);
        o0 = madd(s, v128.load(q, 32), o0); o1 = madd(s, v128.load(q, 48), o1);
        s = v128.load32_splat(ap, 8);
        e0 = madd(s, v128.load(q, 64), e0); e1 = madd(s, v128.load(q, 80), e1);
        s = v128.load32_splat(ap, 12);
        o0 = madd(s, v128.load(q, 96), o0); o1 = madd(s, v128.load(q, 112), o1);
      }
    } else {
      for (; q < end4; q += 128, ap += as4) {
        let s = v128.load32_splat(ap);
        e0 = madd(s, v128.load(q), e0); e1 = madd(s, v128.load(q, 16), e1);
        s = v128.load32_splat(ap + as);
        o0 = madd(s, v128.load(q, 32), o0); o1 = madd(s, v128.load(q, 48), o1);
        s = v128.load32_splat(ap + as2);
        e0 = madd(s, v128.load(q, 64), e0); e1 = madd(s, v128.load(q, 80), e1);
        s = v128.load32_splat(ap + as3);
        o0 = madd(s, v128.load(q, 96), o0); o1 = madd(s, v128.load(q, 112), o1);
      }
    }
    for (let p = k & ~3; p < k; p++, q += 32, ap += as) {   // the last k mod 4 rows, into their halves
      const s = v128.load32_splat(ap);
      if ((p & 1) == 0) { e0 = madd(s, v128.load(q), e0); e1 = madd(s, v128.load(q, 16), e1); }
      else { o0 = madd(s, v128.load(q), o0); o1 = madd(s, v128.load(q, 16), o1); }
    }
    if ((mode & PANEL_LAST) == 0) { v128.store(pk, e0); v128.store(pk, e1, 16); v128.store(pk, o0, 32); v128.store(pk, o1, 48); continue; }
    store_8(c + (<usize>j << 2), f32x4.add(e0, o0), f32x4.add(e1, o1), min(8, j1 - j), alpha, beta, bias ? bias + (<usize>j << 2) : 0, tmp);
  }
}

/**
 * Up to three rows r: c_r (nb <= 8) = alpha · a_r (k) · one sliver b (k,8) + beta·c_r + bias. Each
 * row's sum runs in two interleaved halves (even rows p of B, odd rows; an odd last row into the
 * even half), added at the end: every row gets the same arithmetic whether it comes alone or in a
 * group, so a row's result depends on nothing else in the call. Rows: `rows` (1, 2 or 3); one
 * row goes to gemv_row (the same sums); a group of two is computed as three with the second row
 * repeated (stored once). Three rows keep 12 accumulators, two B vectors and a broadcast in V8's
 * 15 registers while the sliver streams by once. Lanes past nb are computed on the sliver's zero padding and not stored; a partial sliver
 * goes through `tmp` (16 floats) so every lane gets store_4's arithmetic. Measured on 768×50256,
 * one Zen 5 thread, one row: a sliver as one stream 30–36 GB/s, two slivers at once (two streams
 * 24 KB apart) 16.9; the plain read 35–43.
 */
export function gemv_sliver(rows: i32, c0: usize /* (nb) */, c1: usize, c2: usize, a0: usize /* (k), stride as bytes */,
  a1: usize, a2: usize, as: usize, b: usize /* (k,8) */, k: i32, nb: i32, alpha: f32, beta: f32,
  bias: usize /* (nb) or 0 */, tmp: usize /* (16) */, park: usize /* (12, 4) */, mode: i32): void {
  const k2 = k & ~1;
  let e0 = f32x4.splat(0), e1 = e0, o0 = e0, o1 = e0;      // row 0: even and odd halves, columns 0-3 and 4-7
  if (rows == 1) {
    gemv_row(c0, a0, as, b, k, 0, nb, alpha, beta, bias, tmp, park, mode);
    return;
  }
  if (rows == 2) { a2 = a1; c2 = c1; }
  let f0 = e0, f1 = e0, g0 = e0, g1 = e0;                   // row 1: even and odd halves
  let h0 = e0, h1 = e0, i0 = e0, i1 = e0;                   // row 2
  if ((mode & PANEL_FIRST) == 0) {
    e0 = v128.load(park); e1 = v128.load(park, 16); o0 = v128.load(park, 32); o1 = v128.load(park, 48);
    f0 = v128.load(park, 64); f1 = v128.load(park, 80); g0 = v128.load(park, 96); g1 = v128.load(park, 112);
    h0 = v128.load(park, 128); h1 = v128.load(park, 144); i0 = v128.load(park, 160); i1 = v128.load(park, 176);
  }
  for (let p = 0; p < k2; p += 2) {
    const q = b + (<usize>p << 5), off = <usize>p * as;
    let b0 = v128.load(q), b1 = v128.load(q, 16);
    let s = v128.load32_splat(a0 + off);
    e0 = madd(s, b0, e0); e1 = madd(s, b1, e1);
    s = v128.load32_splat(a1 + off);
    f0 = madd(s, b0, f0); f1 = madd(s, b1, f1);
    s = v128.load32_splat(a2 + off);
    h0 = madd(s, b0, h0); h1 = madd(s, b1, h1);
    b0 = v128.load(q, 32); b1 = v128.load(q, 48);
    s = v128.load32_splat(a0 + off + as);
    o0 = madd(s, b0, o0); o1 = madd(s, b1, o1);
    s = v128.load32_splat(a1 + off + as);
    g0 = madd(s, b0, g0); g1 = madd(s, b1, g1);
    s = v128.load32_splat(a2 + off + as);
    i0 = madd(s, b0, i0); i1 = madd(s, b1, i1);
  }
  if (k2 < k) {
    const q = b + (<usize>k2 << 5), off = <usize>k2 * as;
    const b0 = v128.load(q), b1 = v128.load(q, 16);
    let s = v128.load32_splat(a0 + off);
    e0 = madd(s, b0, e0); e1 = madd(s, b1, e1);
    s = v128.load32_splat(a1 + off);
    f0 = madd(s, b0, f0); f1 = madd(s, b1, f1);
    s = v128.load32_splat(a2 + off);
    h0 = madd(s, b0, h0); h1 = madd(s, b1, h1);
  }
  if ((mode & PANEL_LAST) == 0) {
    v128.store(park, e0); v128.store(park, e1, 16); v128.store(park, o0, 32); v128.store(park, o1, 48);
    v128.store(park, f0, 64); v128.store(park, f1, 80); v128.store(park, g0, 96); v128.store(park, g1, 112);
    v128.store(park, h0, 128); v128.store(park, h1, 144); v128.store(park, i0, 160); v128.store(park, i1, 176);
    return;
  }
  store_8(c0, f32x4.add(e0, o0), f32x4.add(e1, o1), nb, alpha, beta, bias, tmp);
  store_8(c1, f32x4.add(f0, g0), f32x4.add(f1, g1), nb, alpha, beta, bias, tmp);
  if (rows == 3) store_8(c2, f32x4.add(h0, i0), f32x4.add(h1, i1), nb, alpha, beta, bias, tmp);
}

/** c (nb <= 8) = alpha·[lo, hi] + beta·c + bias by store_4; nb < 8 through tmp (16 floats). */
function store_8(c: usize, lo: v128, hi: v128, nb: i32, alpha: f32, beta: f32, bias: usize, tmp: usize): void {
  if (nb == 8) {
    store_4(c, lo, alpha, beta, bias);
    store_4(c + 16, hi, alpha, beta, bias ? bias + 16 : 0);
    return;
  }
  const nbytes = <usize>nb << 2;
  memory.fill(tmp, 0, 64);
  if (beta != 0) memory.copy(tmp, c, nbytes);
  if (bias) memory.copy(tmp + 32, bias, nbytes);
  store_4(tmp, lo, alpha, beta, bias ? tmp + 32 : 0);
  store_4(tmp + 16, hi, alpha, beta, bias ? tmp + 48 : 0);
  memory.copy(c, tmp, nbytes);
}
