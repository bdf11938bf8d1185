// Fused multi-head attention ("flash" attention): softmax(scale·Q·Kᵀ)·V and its backward without
// ever storing the Tq×Tk probabilities. The forward walks blocks of ATTN_BK keys with an online
// softmax (running row max m and sum l; earlier partial outputs rescaled by exp(m_old − m_new)),
// and keeps one number per query row, lse = m + ln l, from which the backward recomputes every
// probability exactly as the forward produced it. Causal attention skips the key blocks a query
// block cannot see (half the work at Tq = Tk), and only the blocks on the diagonal mask per row.
//
// Views: Q, K, V, Y and their gradients are strided head views, as in src/ops/attention.ts: row i
// of head h of sequence b starts at float b·bs + i·ld + h·hs of its pointer. The key mask (i32,
// 0 = hidden) has one row of keys per sequence, maskLd apart (0: one row shared by all). Which
// keys a query sees besides (causal, sliding window, global tokens): "Which keys a query sees"
// below; key blocks no row of a query block sees are skipped. A query that sees no key gets a
// zero output and lse = +∞ (so every recomputed probability is exp(−∞) = 0). An optional relative
// position bias (ALiBi, T5) is added to the scores; its gradient is summed per relative position
// in the backward.
//
// Decoding (Tq < 4) takes its own forward (forward_rows): every score first, then each block of
// ATTN_ROWS_BK keys' softmax sums and output sums, relative to the block's max, then their weighted
// sum in block order; K and V each read once in storage order for all of a sequence's heads.
//
// Work units, each independent (the threads split [u0, u1)): the forward's unit is one block of
// ATTN_BQ query rows of one head of one sequence; the backward's is one head of one sequence (its
// dQ sums over key blocks, so the unit owns all its query rows). Decoding one sequence splits over
// its key blocks instead (attention_rows_split), with the same bits. The scratch lives in `work`
// (gemm_workspace_bytes(): ≥ 970 KB; the backward's tiles take ≤ 442 KB at hs = ATTN_MAX_HS,
// plus one float per query row: src/ops/attention.ts caps the rows at FUSED_MAX_QUERIES).
//
// The products are small register-tiled loops (4 rows × 8 columns of f32x4 accumulators, as the
// GEMM micro-kernel) on packed tiles: Kᵀ and Vᵀ (hs, BK) for the scores and dP, K and V rows
// (BK, hp) and Q and dY rows (BQ, hp) for the rest, hp = hs rounded up to 8 with zero columns.
import { madd, hsum, exp4Nonpos, exp1Nonpos } from "./simd_math";

/** Query rows per block. */
export const ATTN_BQ: i32 = 32;
/** Keys per block. */
export const ATTN_BK: i32 = 64;
/** Largest head size the fused kernels take (their scratch must fit the GEMM workspace). */
export const ATTN_MAX_HS: i32 = 256;

const BQ = ATTN_BQ, BK = ATTN_BK;

// @ts-ignore: decorator
@inline function ceil8(x: i32): i32 { return (x + 7) & ~7; }
// @ts-ignore: decorator
@inline function f4(i: i32): usize { return <usize>i << 2; }

// ---------------------------------------------------------------------------------------------
// Packing

/** dst (hs, BK) ← rows j < n of src (n, hs; row stride ld floats) transposed; columns n … np−1 zero.
 *  Blocks of 4 keys × 4 dimensions go through registers (four loads, eight shuffles, four stores). */
function pack_t(dst: usize, src: usize, ld: i32, n: i32, np: i32, hs: i32): void {
  let j = 0;
  const h4 = hs & ~3;
  for (; j + 4 <= n; j += 4) {
    const s0 = src + f4(j * ld), s1 = s0 + f4(ld), s2 = s1 + f4(ld), s3 = s2 + f4(ld);
    let d = 0;
    for (; d < h4; d += 4) {
      const o = f4(d);
      const r0 = v128.load(s0 + o), r1 = v128.load(s1 + o), r2 = v128.load(s2 + o), r3 = v128.load(s3 + o);
      const t0 = i32x4.shuffle(r0, r1, 0, 4, 1, 5), t1 = i32x4.shuffle(r2, r3, 0, 4, 1, 5);   // (r0d0 r1d0 r0d1 r1d1), (r2…r3…)
      const t2 = i32x4.shuffle(r0, r1, 2, 6, 3, 7), t3 = i32x4.shuffle(r2, r3, 2, 6, 3, 7);
      const out = dst + f4(d * BK + j);
      v128.store(out, i64x2.shuffle(t0, t1, 0, 2));
      v128.store(out + f4(BK), i64x2.shuffle(t0, t1, 1, 3));
      v128.store(out + f4(2 * BK), i64x2.shuffle(t2, t3, 0, 2));
      v128.store(out + f4(3 * BK), i64x2.shuffle(t2, t3, 1, 3));
    }
    for (; d < hs; d++) {
      const out = dst + f4(d * BK + j), o = f4(d);
      store<f32>(out, load<f32>(s0 + o)); store<f32>(out, load<f32>(s1 + o), 4);
      store<f32>(out, load<f32>(s2 + o), 8); store<f32>(out, load<f32>(s3 + o), 12);
    }
  }
  for (; j < n; j++) {
    const s = src + f4(j * ld);
    for (let d = 0; d < hs; d++) store<f32>(dst + f4(d * BK + j), load<f32>(s + f4(d)));
  }
  for (let d = 0; d < hs; d++) for (let jj = n; jj < np; jj++) store<f32>(dst + f4(d * BK + jj), 0);
}

/** dst (n, hp) ← src (n, hs; row stride ld floats); columns hs … hp−1 zero. */
function pack_rows(dst: usize, src: usize, ld: i32, n: i32, hs: i32, hp: i32): void {
  for (let j = 0; j < n; j++) {
    const s = src + f4(j * ld), o = dst + f4(j * hp);
    let c = 0;
    for (; c + 4 <= hs; c += 4) v128.store(o + f4(c), v128.load(s + f4(c)));
    for (; c < hs; c++) store<f32>(o + f4(c), load<f32>(s + f4(c)));
    for (; c < hp; c++) store<f32>(o + f4(c), 0);
  }
}

/** n floats at p ← 0. */
function zero(p: usize, n: i32): void {
  const z = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(p + f4(i), z);
  for (; i < n; i++) store<f32>(p + f4(i), 0);
}

// ---------------------------------------------------------------------------------------------
// The three products

/** s (R, BK) = A (R, hs; row stride lda) · kt (hs, BK), columns 0 … np−1 (np a multiple of 8). */
function mm_nt(s: usize, a: usize, lda: i32, kt: usize, rows: i32, hs: i32, np: i32): void {
  let i = 0;
  for (; i + 4 <= rows; i += 4) {
    const a0 = a + f4(i * lda), a1 = a0 + f4(lda), a2 = a1 + f4(lda), a3 = a2 + f4(lda);
    for (let j = 0; j < np; j += 8) {
      let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
      let b = kt + f4(j);
      for (let d = 0; d < hs; d++) {
        const b0 = v128.load(b), b1 = v128.load(b, 16);
        const o = f4(d);
        let x = v128.load32_splat(a0 + o);
        c00 = madd(x, b0, c00); c01 = madd(x, b1, c01);
        x = v128.load32_splat(a1 + o);
        c10 = madd(x, b0, c10); c11 = madd(x, b1, c11);
        x = v128.load32_splat(a2 + o);
        c20 = madd(x, b0, c20); c21 = madd(x, b1, c21);
        x = v128.load32_splat(a3 + o);
        c30 = madd(x, b0, c30); c31 = madd(x, b1, c31);
        b += f4(BK);
      }
      const out = s + f4(i * BK + j);
      v128.store(out, c00);              v128.store(out, c01, 16);
      v128.store(out + f4(BK), c10);     v128.store(out + f4(BK), c11, 16);
      v128.store(out + f4(2 * BK), c20); v128.store(out + f4(2 * BK), c21, 16);
      v128.store(out + f4(3 * BK), c30); v128.store(out + f4(3 * BK), c31, 16);
    }
  }
  for (; i < rows; i++) {
    const a0 = a + f4(i * lda);
    for (let j = 0; j < np; j += 8) {
      let c00 = f32x4.splat(0), c01 = c00;
      let b = kt + f4(j);
      for (let d = 0; d < hs; d++) {
        const x = v128.load32_splat(a0 + f4(d));
        c00 = madd(x, v128.load(b), c00); c01 = madd(x, v128.load(b, 16), c01);
        b += f4(BK);
      }
      const out = s + f4(i * BK + j);
      v128.store(out, c00); v128.store(out, c01, 16);
    }
  }
}

/** C (R, hp; row stride ldc) (+)= P (R, BK; first n columns) · B (n, hp; row stride ldb): acc ≠ 0 adds, else overwrites. */
function mm_nn(c: usize, ldc: i32, p: usize, b: usize, ldb: i32, rows: i32, n: i32, hp: i32, acc: i32): void {
  let i = 0;
  for (; i + 4 <= rows; i += 4) {
    const p0 = p + f4(i * BK), p1 = p0 + f4(BK), p2 = p1 + f4(BK), p3 = p2 + f4(BK);
    for (let col = 0; col < hp; col += 8) {
      let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
      let bp = b + f4(col);
      for (let j = 0; j < n; j++) {
        const b0 = v128.load(bp), b1 = v128.load(bp, 16);
        const o = f4(j);
        let x = v128.load32_splat(p0 + o);
        c00 = madd(x, b0, c00); c01 = madd(x, b1, c01);
        x = v128.load32_splat(p1 + o);
        c10 = madd(x, b0, c10); c11 = madd(x, b1, c11);
        x = v128.load32_splat(p2 + o);
        c20 = madd(x, b0, c20); c21 = madd(x, b1, c21);
        x = v128.load32_splat(p3 + o);
        c30 = madd(x, b0, c30); c31 = madd(x, b1, c31);
        bp += f4(ldb);
      }
      const r0 = c + f4(i * ldc + col), r1 = r0 + f4(ldc), r2 = r1 + f4(ldc), r3 = r2 + f4(ldc);
      if (acc != 0) {
        c00 = f32x4.add(c00, v128.load(r0)); c01 = f32x4.add(c01, v128.load(r0, 16));
        c10 = f32x4.add(c10, v128.load(r1)); c11 = f32x4.add(c11, v128.load(r1, 16));
        c20 = f32x4.add(c20, v128.load(r2)); c21 = f32x4.add(c21, v128.load(r2, 16));
        c30 = f32x4.add(c30, v128.load(r3)); c31 = f32x4.add(c31, v128.load(r3, 16));
      }
      v128.store(r0, c00); v128.store(r0, c01, 16);
      v128.store(r1, c10); v128.store(r1, c11, 16);
      v128.store(r2, c20); v128.store(r2, c21, 16);
      v128.store(r3, c30); v128.store(r3, c31, 16);
    }
  }
  for (; i < rows; i++) {
    const p0 = p + f4(i * BK);
    for (let col = 0; col < hp; col += 8) {
      let c00 = f32x4.splat(0), c01 = c00;
      let bp = b + f4(col);
      for (let j = 0; j < n; j++) {
        const x = v128.load32_splat(p0 + f4(j));
        c00 = madd(x, v128.load(bp), c00); c01 = madd(x, v128.load(bp, 16), c01);
        bp += f4(ldb);
      }
      const r0 = c + f4(i * ldc + col);
      if (acc != 0) {
        c00 = f32x4.add(c00, v128.load(r0)); c01 = f32x4.add(c01, v128.load(r0, 16));
      }
      v128.store(r0, c00); v128.store(r0, c01, 16);
    }
  }
}

/** C (n, hp) += Pᵀ (n, R) · B (R, hp), P (R, BK) by rows: the key-side gradients dV and dK. */
function mm_tn(c: usize, p: usize, b: usize, rows: i32, n: i32, hp: i32): void {
  let j = 0;
  for (; j + 4 <= n; j += 4) {
    for (let col = 0; col < hp; col += 8) {
      let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
      let bp = b + f4(col), pp = p + f4(j);
      for (let i = 0; i < rows; i++) {
        const b0 = v128.load(bp), b1 = v128.load(bp, 16);
        let x = v128.load32_splat(pp);
        c00 = madd(x, b0, c00); c01 = madd(x, b1, c01);
        x = v128.load32_splat(pp, 4);
        c10 = madd(x, b0, c10); c11 = madd(x, b1, c11);
        x = v128.load32_splat(pp, 8);
        c20 = madd(x, b0, c20); c21 = madd(x, b1, c21);
        x = v128.load32_splat(pp, 12);
        c30 = madd(x, b0, c30); c31 = madd(x, b1, c31);
        bp += f4(hp); pp += f4(BK);
      }
      const r0 = c + f4(j * hp + col), r1 = r0 + f4(hp), r2 = r1 + f4(hp), r3 = r2 + f4(hp);
      v128.store(r0, f32x4.add(c00, v128.load(r0))); v128.store(r0, f32x4.add(c01, v128.load(r0, 16)), 16);
      v128.store(r1, f32x4.add(c10, v128.load(r1))); v128.store(r1, f32x4.add(c11, v128.load(r1, 16)), 16);
      v128.store(r2, f32x4.add(c20, v128.load(r2))); v128.store(r2, f32x4.add(c21, v128.load(r2, 16)), 16);
      v128.store(r3, f32x4.add(c30, v128.load(r3))); v128.store(r3, f32x4.add(c31, v128.load(r3, 16)), 16);
    }
  }
  for (; j < n; j++) {
    for (let col = 0; col < hp; col += 8) {
      let c00 = f32x4.splat(0), c01 = c00;
      let bp = b + f4(col), pp = p + f4(j);
      for (let i = 0; i < rows; i++) {
        const x = v128.load32_splat(pp);
        c00 = madd(x, v128.load(bp), c00); c01 = madd(x, v128.load(bp, 16), c01);
        bp += f4(hp); pp += f4(BK);
      }
      const r0 = c + f4(j * hp + col);
      v128.store(r0, f32x4.add(c00, v128.load(r0))); v128.store(r0, f32x4.add(c01, v128.load(r0, 16)), 16);
    }
  }
}

// Decoding (fewer than 4 query rows in a block): K and V are read where they lie, no packing.
// Each key's score is its own chain of f32x4 multiply-adds over d, summed across lanes at the
// end (another order than mm_nt's, within the same bound); four keys run side by side. The
// output takes every column's sum over the keys in order, as mm_nn does, with up to eight
// independent chains per pass instead of mm_nn's two: the same bits as mm_nn.

/** s (R, first np columns; row stride ls) = A (R, hs; row stride lda) · K (n, hs; row stride ldk)ᵀ, R < 4; columns n … np − 1 zero. */
function mm_nt_rows(s: usize, ls: i32, a: usize, lda: i32, kb: usize, ldk: i32, rows: i32, hs: i32, n: i32, np: i32): void {
  const h4 = hs & ~3;
  for (let i = 0; i < rows; i++) {
    const ai = a + f4(i * lda), si = s + f4(i * ls);
    let j = 0;
    for (; j + 4 <= n; j += 4) {
      const k0 = kb + f4(j * ldk), k1 = k0 + f4(ldk), k2 = k1 + f4(ldk), k3 = k2 + f4(ldk);
      let c0 = f32x4.splat(0), c1 = c0, c2 = c0, c3 = c0;
      for (let d = 0; d < h4; d += 4) {
        const x = v128.load(ai + f4(d)), o = f4(d);
        c0 = madd(x, v128.load(k0 + o), c0); c1 = madd(x, v128.load(k1 + o), c1);
        c2 = madd(x, v128.load(k2 + o), c2); c3 = madd(x, v128.load(k3 + o), c3);
      }
      for (let d = h4; d < hs; d++) {
        const x = v128.load32_zero(ai + f4(d)), o = f4(d);
        c0 = madd(x, v128.load32_zero(k0 + o), c0); c1 = madd(x, v128.load32_zero(k1 + o), c1);
        c2 = madd(x, v128.load32_zero(k2 + o), c2); c3 = madd(x, v128.load32_zero(k3 + o), c3);
      }
      store<f32>(si + f4(j), hsum(c0)); store<f32>(si + f4(j + 1), hsum(c1));
      store<f32>(si + f4(j + 2), hsum(c2)); store<f32>(si + f4(j + 3), hsum(c3));
    }
    for (; j < n; j++) {
      const kj = kb + f4(j * ldk);
      let c0 = f32x4.splat(0);
      for (let d = 0; d < h4; d += 4) c0 = madd(v128.load(ai + f4(d)), v128.load(kj + f4(d)), c0);
      for (let d = h4; d < hs; d++) c0 = madd(v128.load32_zero(ai + f4(d)), v128.load32_zero(kj + f4(d)), c0);
      store<f32>(si + f4(j), hsum(c0));
    }
    for (; j < np; j++) store<f32>(si + f4(j), 0);
  }
}

/** C (R, hp) += P (R, first n columns; row stride lp) · V (n, hs; row stride ldv), R < 4, columns hs … hp − 1 untouched (zero). */
function mm_nn_rows(c: usize, hp: i32, p: usize, lp: i32, vb: usize, ldv: i32, rows: i32, n: i32, hs: i32): void {
  for (let i = 0; i < rows; i++) {
    const pi = p + f4(i * lp), ci = c + f4(i * hp);
    let col = 0;
    for (; col + 32 <= hs; col += 32) {
      let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
      let vp = vb + f4(col);
      for (let j = 0; j < n; j++) {
        const x = v128.load32_splat(pi + f4(j));
        a0 = madd(x, v128.load(vp), a0); a1 = madd(x, v128.load(vp, 16), a1);
        a2 = madd(x, v128.load(vp, 32), a2); a3 = madd(x, v128.load(vp, 48), a3);
        a4 = madd(x, v128.load(vp, 64), a4); a5 = madd(x, v128.load(vp, 80), a5);
        a6 = madd(x, v128.load(vp, 96), a6); a7 = madd(x, v128.load(vp, 112), a7);
        vp += f4(ldv);
      }
      const r = ci + f4(col);
      v128.store(r, f32x4.add(a0, v128.load(r)));            v128.store(r, f32x4.add(a1, v128.load(r, 16)), 16);
      v128.store(r, f32x4.add(a2, v128.load(r, 32)), 32);    v128.store(r, f32x4.add(a3, v128.load(r, 48)), 48);
      v128.store(r, f32x4.add(a4, v128.load(r, 64)), 64);    v128.store(r, f32x4.add(a5, v128.load(r, 80)), 80);
      v128.store(r, f32x4.add(a6, v128.load(r, 96)), 96);    v128.store(r, f32x4.add(a7, v128.load(r, 112)), 112);
    }
    for (; col < hs; col += 4) {
      const w = min(4, hs - col);
      let a0 = f32x4.splat(0);
      let vp = vb + f4(col);
      for (let j = 0; j < n; j++) {
        const x = v128.load32_splat(pi + f4(j));
        a0 = madd(x, w == 4 ? v128.load(vp) : load_part(vp, w), a0);
        vp += f4(ldv);
      }
      const r = ci + f4(col);
      v128.store(r, f32x4.add(a0, v128.load(r)));         // columns past hs stay 0 + 0
    }
  }
}

/** s (R, BK) ← the unscaled scores of R query rows (a, row stride lda) against keys j < n (kb, row stride
 *  ldk): read in place for R < 4 (decoding), else through Kᵀ packed into kt. The forward and
 *  attention_fused_probs both call this, so their scores are the same numbers. */
function scores(s: usize, kt: usize, a: usize, lda: i32, kb: usize, ldk: i32, rows: i32, hs: i32, n: i32, np: i32): void {
  if (rows < 4) {
    mm_nt_rows(s, BK, a, lda, kb, ldk, rows, hs, n, np);
  } else {
    pack_t(kt, kb, ldk, n, np, hs);
    mm_nt(s, a, lda, kt, rows, hs, np);
  }
}

/** The first w < 4 floats at p, the other lanes zero. */
function load_part(p: usize, w: i32): v128 {
  let v = v128.load32_zero(p);
  if (w > 1) v = f32x4.replace_lane(v, 1, load<f32>(p, 4));
  if (w > 2) v = f32x4.replace_lane(v, 2, load<f32>(p, 8));
  return v;
}

// ---------------------------------------------------------------------------------------------
// Which keys a query sees
//
// Query row r has the absolute position a = r + tk − tq (its keys are positions 0 … tk − 1). It
// sees key j when the key mask allows j and
//   - causal: j ≤ a;
//   - with a window W > 0: |a − j| ≤ W (causal: a − W ≤ j ≤ a), the Longformer pattern, except that
//   - the first G positions are global: a global query sees every key, a global key is seen by
//     every query (both still under the causal rule).
// One call's pattern, set on entry (module globals are per instance, so per thread).

let P_CAUSAL: i32 = 0, P_WIN: i32 = 0, P_GLOB: i32 = 0, P_OFF: i32 = 0, P_TK: i32 = 0;

// @ts-ignore: decorator
@inline function set_pattern(flags: i32, window: i32, globals: i32, tq: i32, tk: i32): void {
  P_CAUSAL = flags & 1; P_WIN = window; P_GLOB = globals; P_OFF = tk - tq; P_TK = tk;
}

/** First key row r sees outside the global keys. */
// @ts-ignore: decorator
@inline function row_lo(r: i32): i32 {
  const a = r + P_OFF;
  return a < P_GLOB || P_WIN == 0 ? 0 : max(0, a - P_WIN);
}

/** Last key row r sees (−1 or less: none). */
// @ts-ignore: decorator
@inline function row_hi(r: i32): i32 {
  const a = r + P_OFF;
  if (P_CAUSAL != 0) return min(a, P_TK - 1);
  return a < P_GLOB || P_WIN == 0 ? P_TK - 1 : min(P_TK - 1, a + P_WIN);
}

/** Whether any row of [r0, r0 + rows) sees any key of [j0, j0 + n). */
function block_sees(r0: i32, rows: i32, j0: i32, n: i32): bool {
  const r1 = r0 + rows - 1;
  const hi = max(row_hi(r0), row_hi(r1));                 // hi is monotone in r but for the global rows first
  if (j0 <= hi && j0 + n - 1 >= row_lo(r0)) return true;
  return j0 < P_GLOB && j0 <= (P_CAUSAL != 0 ? r1 + P_OFF : P_TK - 1);
}

/** bias[0 … np) ← 0 for the keys j0 + j the key mask lets through (j < n), −∞ for the rest; returns how many pass. */
function key_bias(bias: usize, mrow: usize, j0: i32, n: i32, np: i32): i32 {
  let seen = 0;
  for (let j = 0; j < np; j++) {
    const on = j < n && (mrow == 0 || load<i32>(mrow + f4(j0 + j)) != 0);
    store<f32>(bias + f4(j), on ? 0 : -Infinity);
    seen += <i32>on;
  }
  return seen;
}

/**
 * Row s of scores for keys j0 … j0 + np − 1 of query row r ← scale·s + bias (the key mask), + rel
 * (a relative position bias row for these keys, or 0), and −∞ where the pattern hides the key.
 */
function scale_mask_row(s: usize, bias: usize, np: i32, n: i32, scale: f32, r: i32, j0: i32, rel: usize): void {
  const sv = f32x4.splat(scale);
  for (let j = 0; j < np; j += 4) v128.store(s + f4(j), madd(v128.load(s + f4(j)), sv, v128.load(bias + f4(j))));
  if (rel != 0) {
    let j = 0;
    for (; j + 4 <= n; j += 4) v128.store(s + f4(j), f32x4.add(v128.load(s + f4(j)), v128.load(rel + f4(j))));
    for (; j < n; j++) store<f32>(s + f4(j), load<f32>(s + f4(j)) + load<f32>(rel + f4(j)));
  }
  const lo = row_lo(r) - j0, hi = row_hi(r) - j0;
  if (lo <= 0 && hi >= np - 1) return;
  const hiG = (P_CAUSAL != 0 ? r + P_OFF : P_TK - 1) - j0;  // global keys (j0 + j < G) seen up to here
  const g = P_GLOB - j0;
  for (let j = 0; j < min(np, lo); j++) if (!(j < g && j <= hiG)) store<f32>(s + f4(j), -Infinity);
  for (let j = max(0, hi + 1); j < np; j++) if (!(j < g && j <= hiG)) store<f32>(s + f4(j), -Infinity);
}

// ---------------------------------------------------------------------------------------------
// Forward

/** The largest of the np scores at s (−∞ for none, pmax keeping the other operand of a −∞). */
function tile_max(s: usize, np: i32): f32 {
  let mx = f32x4.splat(-Infinity);
  for (let j = 0; j < np; j += 4) mx = f32x4.pmax(mx, v128.load(s + f4(j)));
  return max(max(f32x4.extract_lane(mx, 0), f32x4.extract_lane(mx, 1)), max(f32x4.extract_lane(mx, 2), f32x4.extract_lane(mx, 3)));
}

/** A query row's result from its output sums orow (hs), max m and sum l: y = O / l, lse = m + ln l
 *  (a row that saw no key: l = 0, y = 0 and lse = +∞). */
function finish_row(yr: usize, lse: usize, orow: usize, m: f32, l: f32, hs: i32): void {
  const inv: f32 = l > 0 ? 1 / l : 0;
  for (let c = 0; c < hs; c++) store<f32>(yr + f4(c), load<f32>(orow + f4(c)) * inv);
  store<f32>(lse, l > 0 ? m + <f32>Math.log(<f64>l) : Infinity);
}

/**
 * y (B, tq, NH·hs view) = softmax(scale·Q·Kᵀ + rel + masks)·V per head; lse (B, NH, tq) ← each
 * row's log Σ exp (+∞ for a row that sees no key). flags bit 0: causal. rel: 0, or a relative
 * position bias (NH, tq + tk − 1), entry (h, j − r + tq − 1) added to the score of query r, key j
 * (ALiBi, T5). Units [u0, u1) of B·NH·⌈tq/BQ⌉ (query blocks).
 */
export function attention_fused_forward(y: usize, lse: usize, q: usize, k: usize, v: usize, mask: usize, rel: usize,
  tq: i32, tk: i32, nHead: i32, hs: i32, ldq: i32, ldk: i32, ldv: i32, ldy: i32, bsq: i32, bsk: i32, bsv: i32, bsy: i32,
  maskLd: i32, scale: f32, flags: i32, window: i32, globals: i32, work: usize, u0: i32, u1: i32): void {
  set_pattern(flags, window, globals, tq, tk);
  if (tq < 4 && forward_rows(y, lse, q, k, v, mask, rel, tq, tk, nHead, hs, ldq, ldk, ldv, ldy, bsq, bsk, bsv, bsy, maskLd, scale, work, u0, u1)) return;
  const hp = ceil8(hs), relLd = tq + tk - 1;
  const kt = work, vp = kt + f4(hs * BK), s = vp + f4(BK * hp), o = s + f4(BQ * BK);
  const mv = o + f4(BQ * hp), lv = mv + f4(BQ), bias = lv + f4(BQ);
  const nqb = (tq + BQ - 1) / BQ;
  for (let u = u0; u < u1; u++) {
    const qb = u % nqb, bh = u / nqb, h = bh % nHead, b = bh / nHead;
    const i0 = qb * BQ, rows = min(BQ, tq - i0), direct = rows < 4;   // direct: decoding's few rows (above)
    const qp = q + f4(b * bsq + i0 * ldq + h * hs);
    const kh = k + f4(b * bsk + h * hs), vh = v + f4(b * bsv + h * hs);
    const mrow: usize = mask == 0 ? 0 : mask + f4(b * maskLd);
    const relh: usize = rel == 0 ? 0 : rel + f4(h * relLd + tq - 1);
    for (let r = 0; r < rows; r++) { store<f32>(mv + f4(r), -Infinity); store<f32>(lv + f4(r), 0); }
    zero(o, rows * hp);
    for (let j0 = 0; j0 < tk; j0 += BK) {
      const n = min(BK, tk - j0), np = ceil8(n);
      if (!block_sees(i0, rows, j0, n) || key_bias(bias, mrow, j0, n, np) == 0) continue;
      // V's rows as they are when whole vectors cover a head, else copied with zero columns
      let vb = vh + f4(j0 * ldv), ldvb = ldv;
      if (!direct && hp != hs) { pack_rows(vp, vb, ldv, n, hs, hp); vb = vp; ldvb = hp; }
      scores(s, kt, qp, ldq, kh + f4(j0 * ldk), ldk, rows, hs, n, np);
      for (let r = 0; r < rows; r++) {
        const sr = s + f4(r * BK);
        scale_mask_row(sr, bias, np, n, scale, i0 + r, j0, relh == 0 ? 0 : relh + f4(j0 - i0 - r));
        // the tile's row max (−∞ columns included: pmax keeps the other operand)
        const mt = tile_max(sr, np);
        if (mt == -Infinity) { zero(sr, np); continue; }
        const mold = load<f32>(mv + f4(r)), mnew = max(mold, mt);
        const alpha = exp1Nonpos(mold - mnew);         // 0 for the row's first visible tile
        const mvec = f32x4.splat(mnew);
        let sum = f32x4.splat(0);
        for (let j = 0; j < np; j += 4) {
          const e = exp4Nonpos(f32x4.sub(v128.load(sr + f4(j)), mvec));
          v128.store(sr + f4(j), e);
          sum = f32x4.add(sum, e);
        }
        store<f32>(lv + f4(r), load<f32>(lv + f4(r)) * alpha + hsum(sum));
        store<f32>(mv + f4(r), mnew);
        if (alpha != 1) {
          const av = f32x4.splat(alpha), orow = o + f4(r * hp);
          for (let c = 0; c < hp; c += 4) v128.store(orow + f4(c), f32x4.mul(v128.load(orow + f4(c)), av));
        }
      }
      if (direct) mm_nn_rows(o, hp, s, BK, vb, ldv, rows, n, hs);
      else mm_nn(o, hp, s, vb, ldvb, rows, n, hp, 1);
    }
    for (let r = 0; r < rows; r++) {
      finish_row(y + f4(b * bsy + (i0 + r) * ldy + h * hs), lse + f4(bh * tq + i0 + r), o + f4(r * hp), load<f32>(mv + f4(r)), load<f32>(lv + f4(r)), hs);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Decoding

/** Floats of `work` the decoding path may take (gemm_workspace_bytes() is at least 970 KB). */
const ROWS_SCRATCH: i32 = 192 * 1024;
/** Keys per block of the decoding forward. Each block's softmax sums and output sums are made on
 *  their own (from zero, relative to the block's max) and then added in block order, so a block is
 *  also the unit a split over the keys hands to a thread (attention_rows_split): small, so that a
 *  short context still splits evenly. */
export const ATTN_ROWS_BK: i32 = 16;
const RBK = ATTN_ROWS_BK;

// @ts-ignore: decorator
@inline function ceil16(x: i32): i32 { return (x + 15) & ~15; }

// The decoding scratch for nr score rows (head-major: row i is head h0 + i / tq, query row
// i % tq) and nb key blocks, in floats from its base, each part on whole cache lines:
//   seen (nb): 1 for a block holding a key some row sees (a finite score), else 0 (skipped);
//   s (nr × ls, ls = nb·RBK): the scores (−∞ for keys a row does not see), then exp(s − m_c);
//   maxima (nb × nr): each block's row maxima m_c (−∞: the row sees none of its keys);
//   sums (nb × nr): each block's row sums Σ exp(s − m_c);
//   acc (blocks × nr × hp): each block's output sums (one thread: one block's, reused).
// Module globals, set on entry by rows_layout (per instance, so per thread).
let R_SEEN: usize = 0, R_S: usize = 0, R_MAX: usize = 0, R_SUM: usize = 0, R_ACC: usize = 0;
let R_NB: i32 = 0, R_LS: i32 = 0, R_NR: i32 = 0, R_HP: i32 = 0, R_ROWSTEP: i32 = 0, R_ACCSTEP: i32 = 0;

/** Sets the decoding scratch's parts from `base` (see above); returns the floats it takes. */
function rows_layout(base: usize, nr: i32, tk: i32, hs: i32, accBlocks: i32): i32 {
  R_NB = (tk + RBK - 1) / RBK; R_LS = R_NB * RBK; R_NR = nr; R_HP = ceil8(hs);
  R_ROWSTEP = ceil16(nr); R_ACCSTEP = ceil16(nr * R_HP);
  const seen = ceil16(R_NB), s = nr * R_LS, perBlock = R_NB * R_ROWSTEP;
  R_SEEN = base; R_S = R_SEEN + f4(seen); R_MAX = R_S + f4(s); R_SUM = R_MAX + f4(perBlock); R_ACC = R_SUM + f4(perBlock);
  return seen + s + 2 * perBlock + accBlocks * R_ACCSTEP;
}

/**
 * Pass 1 over key blocks [c0, c1) for heads [h0, h1) of one sequence (qb, kb, mrow: its rows):
 * every score, scaled and masked (RBK columns a block, −∞ past the last key and for every key of
 * a block no row sees), each block's seen flag and row maxima.
 */
function rows_scores(qb: usize, kb: usize, mrow: usize, rel: usize, tq: i32, tk: i32, hs: i32, ldq: i32, ldk: i32,
  scale: f32, bias: usize, h0: i32, h1: i32, c0: i32, c1: i32): void {
  const rows = tq, nr = (h1 - h0) * rows, ls = R_LS, relLd = tq + tk - 1, h4 = hs & ~3, s = R_S;
  for (let c = c0; c < c1; c++) {
    const j0 = c * RBK, n = min(RBK, tk - j0), np = RBK, mc = R_MAX + f4(c * R_ROWSTEP);
    if (!block_sees(0, rows, j0, n) || key_bias(bias, mrow, j0, n, np) == 0) {
      for (let i = 0; i < nr; i++) { fill_neg_inf(s + f4(i * ls + j0), np); store<f32>(mc + f4(i), -Infinity); }
      store<f32>(R_SEEN + f4(c), 0);
      continue;
    }
    if (rows == 1 && h4 == hs && h1 - h0 >= 4) {
      // one key row at a time, four heads at once (four independent sums), the row read in order;
      // each score mm_nt_rows's dot product
      for (let j = 0; j < n; j++) {
        const kj = kb + f4((j0 + j) * ldk);
        let h = h0;
        for (; h + 4 <= h1; h += 4) {
          const ka = kj + f4(h * hs), qa = qb + f4(h * hs), sa = s + f4((h - h0) * ls + j0 + j);
          const o1 = f4(hs), o2 = f4(2 * hs), o3 = f4(3 * hs);
          let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
          for (let d = 0; d < hs; d += 4) {
            const e = f4(d);
            a0 = madd(v128.load(qa + e), v128.load(ka + e), a0); a1 = madd(v128.load(qa + o1 + e), v128.load(ka + o1 + e), a1);
            a2 = madd(v128.load(qa + o2 + e), v128.load(ka + o2 + e), a2); a3 = madd(v128.load(qa + o3 + e), v128.load(ka + o3 + e), a3);
          }
          store<f32>(sa, hsum(a0)); store<f32>(sa + f4(ls), hsum(a1)); store<f32>(sa + f4(2 * ls), hsum(a2)); store<f32>(sa + f4(3 * ls), hsum(a3));
        }
        for (; h < h1; h++) {
          const kh = kj + f4(h * hs), qh = qb + f4(h * hs);
          let a0 = f32x4.splat(0);
          for (let d = 0; d < hs; d += 4) a0 = madd(v128.load(qh + f4(d)), v128.load(kh + f4(d)), a0);
          store<f32>(s + f4((h - h0) * ls + j0 + j), hsum(a0));
        }
      }
    } else {
      for (let h = h0; h < h1; h++) {   // head by head, four key rows at a time
        mm_nt_rows(s + f4((h - h0) * rows * ls + j0), ls, qb + f4(h * hs), ldq, kb + f4(j0 * ldk + h * hs), ldk, rows, hs, n, np);
      }
    }
    let top: f32 = -Infinity;
    for (let i = 0; i < nr; i++) {
      const si = s + f4(i * ls + j0), h = h0 + i / rows, r = i % rows;
      for (let t = n; t < np; t++) store<f32>(si + f4(t), 0);
      scale_mask_row(si, bias, np, n, scale, r, j0, rel == 0 ? 0 : rel + f4(h * relLd + tq - 1 + j0 - r));
      const mt = tile_max(si, np);
      store<f32>(mc + f4(i), mt);
      top = max(top, mt);
    }
    store<f32>(R_SEEN + f4(c), top > -Infinity ? 1 : 0);
  }
}

/** p[0 … n) ← −∞. */
function fill_neg_inf(p: usize, n: i32): void {
  for (let t = 0; t < n; t++) store<f32>(p + f4(t), -Infinity);
}

/** Pass 2 over key blocks [c0, c1): p = exp(s − m_c) in place, m_c the block's row max (a row that
 *  sees none of the block's keys: every p zero), and each block's row sums. */
function rows_exp(c0: i32, c1: i32): void {
  for (let c = c0; c < c1; c++) {
    if (load<f32>(R_SEEN + f4(c)) == 0) continue;
    const mc = R_MAX + f4(c * R_ROWSTEP), sums = R_SUM + f4(c * R_ROWSTEP);
    for (let i = 0; i < R_NR; i++) {
      const m = load<f32>(mc + f4(i)), mvec = f32x4.splat(m), si = R_S + f4(i * R_LS + c * RBK);
      let sum = f32x4.splat(0);
      if (m == -Infinity) zero(si, RBK);
      else for (let t = 0; t < RBK; t += 4) {
        const e = exp4Nonpos(f32x4.sub(v128.load(si + f4(t)), mvec));
        v128.store(si + f4(t), e);
        sum = f32x4.add(sum, e);
      }
      store<f32>(sums + f4(i), hsum(sum));
    }
  }
}

/**
 * Pass 3 over key blocks [c0, c1): each block's output sums, value rows in order, each row's heads
 * side by side, built from zero in acc (one head: mm_nn_rows, the sums in registers — the same
 * additions). o ≠ 0 (one thread, the rows' maxima mv known): each block's sums are then folded
 * into o (nr × hp) and acc is reused; o = 0: they stay in acc's block c.
 */
function rows_out(vb: usize, ldv: i32, tq: i32, tk: i32, hs: i32, h0: i32, h1: i32, c0: i32, c1: i32, o: usize, mv: usize): void {
  const rows = tq, nr = R_NR, hp = R_HP, h4 = hs & ~3, s = R_S, ls = R_LS;
  for (let c = c0; c < c1; c++) {
    if (load<f32>(R_SEEN + f4(c)) == 0) continue;
    const j0 = c * RBK, n = min(RBK, tk - j0), acc = o != 0 ? R_ACC : R_ACC + f4(c * R_ACCSTEP);
    zero(acc, nr * hp);
    if (h1 - h0 == 1) mm_nn_rows(acc, hp, s + f4(j0), ls, vb + f4(j0 * ldv + h0 * hs), ldv, rows, n, hs);
    else for (let j = 0; j < n; j++) {
      const vj = vb + f4((j0 + j) * ldv);
      let i = 0;
      for (let h = h0; h < h1; h++) {
        const vh = vj + f4(h * hs);
        for (let r = 0; r < rows; r++, i++) {
          const x = v128.load32_splat(s + f4(i * ls + j0 + j)), ai = acc + f4(i * hp);
          let t = 0;
          for (; t + 16 <= h4; t += 16) {   // four vectors a step: the same multiply-add per column
            const a = ai + f4(t), w = vh + f4(t);
            v128.store(a, madd(x, v128.load(w), v128.load(a)));
            v128.store(a, madd(x, v128.load(w, 16), v128.load(a, 16)), 16);
            v128.store(a, madd(x, v128.load(w, 32), v128.load(a, 32)), 32);
            v128.store(a, madd(x, v128.load(w, 48), v128.load(a, 48)), 48);
          }
          for (; t < h4; t += 4) v128.store(ai + f4(t), madd(x, v128.load(vh + f4(t)), v128.load(ai + f4(t))));
          if (t < hs) v128.store(ai + f4(t), madd(x, load_part(vh + f4(t), hs - t), v128.load(ai + f4(t))));
        }
      }
    }
    if (o != 0) fold_block(o, acc, c, mv);
  }
}

/** Block c's weight for row i: exp(m_c − m), m the row's max over all blocks (0 where the row sees none of the block's keys). */
// @ts-ignore: decorator
@inline function block_weight(c: i32, i: i32, m: f32): f32 {
  const mc = load<f32>(R_MAX + f4(c * R_ROWSTEP + i));
  return mc == -Infinity ? 0 : exp1Nonpos(mc - m);
}

/** o (nr × hp) += block c's output sums acc (nr × hp), each row's weighted by block_weight. */
function fold_block(o: usize, acc: usize, c: i32, mv: usize): void {
  for (let i = 0; i < R_NR; i++) {
    const w = f32x4.splat(block_weight(c, i, load<f32>(mv + f4(i)))), oi = o + f4(i * R_HP), ai = acc + f4(i * R_HP);
    for (let t = 0; t < R_HP; t += 4) v128.store(oi + f4(t), madd(v128.load(ai + f4(t)), w, v128.load(oi + f4(t))));
  }
}

/** mv[i] ← row i's max over the blocks' maxima (−∞: the row sees no key). */
function rows_max(mv: usize): void {
  for (let i = 0; i < R_NR; i++) {
    let m: f32 = -Infinity;
    for (let c = 0; c < R_NB; c++) m = max(m, load<f32>(R_MAX + f4(c * R_ROWSTEP + i)));
    store<f32>(mv + f4(i), m);
  }
}

/** Each row's result from its output sums o (nr × hp) and max mv[i]: its sum l adds the seen
 *  blocks' row sums, weighted, in block order. y and lse of the heads [h0, h1) of one sequence
 *  (yb, lseb: its rows). */
function rows_finish(yb: usize, lseb: usize, ldy: i32, tq: i32, hs: i32, h0: i32, o: usize, mv: usize): void {
  for (let i = 0; i < R_NR; i++) {
    const m = load<f32>(mv + f4(i));
    let l: f32 = 0;
    for (let c = 0; c < R_NB; c++) if (load<f32>(R_SEEN + f4(c)) != 0) l += load<f32>(R_SUM + f4(c * R_ROWSTEP + i)) * block_weight(c, i, m);
    const h = h0 + i / tq, r = i % tq;
    finish_row(yb + f4(r * ldy + h * hs), lseb + f4(h * tq + r), o + f4(i * R_HP), m, l, hs);
  }
}

/**
 * The forward for decoding (tq < 4: one query block per head) in three passes over the keys
 * instead of the online softmax: every score (K read once), each block's row max and exp(s − m_c)
 * with its sum, then the output (V read once), each block's sums weighted by exp(m_c − m) as they
 * are added. The heads of a sequence go together as far as the scratch holds them (GPT-2's 12
 * heads of 64 up to about 13,800 keys), each key row of K, then of V, read once in storage order
 * for all of them: from memory that ran at 20 GB/s where one strided pass per head, or K and V
 * blocks alternating, ran at 14–16 (GPT-2's 12 heads of 64, one thread, context 150–930; the plain
 * read 29). A part of a sequence (threads split heads) goes head by head. Every sum is per head
 * and per key block, so the bits depend neither on the grouping nor on a split of the keys
 * (attention_rows_split): each score is mm_nt_rows's dot product, each block's sums are built
 * key by key from zero, and a row's blocks are added in block order. Returns false, having done
 * nothing, when one head's scratch does not fit (the online path runs instead).
 */
function forward_rows(y: usize, lse: usize, q: usize, k: usize, v: usize, mask: usize, rel: usize,
  tq: i32, tk: i32, nHead: i32, hs: i32, ldq: i32, ldk: i32, ldv: i32, ldy: i32, bsq: i32, bsk: i32, bsv: i32, bsy: i32,
  maskLd: i32, scale: f32, work: usize, u0: i32, u1: i32): bool {
  const hp = ceil8(hs), bias = work, base = work + f4(RBK);
  let group = nHead;   // the most heads whose scratch fits
  while (group > 0 && rows_work(group * tq, tk, hs) > ROWS_SCRATCH) group = group * 3 / 4;
  if (group == 0) return false;
  for (let b = u0 / nHead; b * nHead < u1; b++) {
    const a0 = max(u0, b * nHead) - b * nHead, a1 = min(u1, (b + 1) * nHead) - b * nHead;
    const step = a0 == 0 && a1 == nHead ? group : 1;
    const qb = q + f4(b * bsq), kb = k + f4(b * bsk), vb = v + f4(b * bsv), mrow: usize = mask == 0 ? 0 : mask + f4(b * maskLd);
    for (let h0 = a0; h0 < a1; h0 += step) {
      const h1 = min(a1, h0 + step), nr = (h1 - h0) * tq;
      const mv = base + f4(rows_layout(base, nr, tk, hs, 1)), o = mv + f4(ceil16(nr));
      rows_scores(qb, kb, mrow, rel, tq, tk, hs, ldq, ldk, scale, bias, h0, h1, 0, R_NB);
      rows_max(mv);
      rows_exp(0, R_NB);
      zero(o, nr * hp);
      rows_out(vb, ldv, tq, tk, hs, h0, h1, 0, R_NB, o, mv);
      rows_finish(y + f4(b * bsy), lse + f4(b * nHead * tq), ldy, tq, hs, h0, o, mv);
    }
  }
  return true;
}

/** Floats of `work` forward_rows needs for heads of nr score rows in all: the key bias, the scratch, the rows' maxima and output sums. */
function rows_work(nr: i32, tk: i32, hs: i32): i32 {
  return RBK + rows_layout(0, nr, tk, hs, 1) + ceil16(nr) + nr * ceil8(hs);
}

/**
 * Bytes of the shared scratch attention_rows_split takes for one sequence's tq rows of nHead heads
 * over tk keys; 0 where attention_fused_forward would not take the decoding path (tq ≥ 4, or one
 * head's scratch does not fit), whose bits the split must give.
 */
export function attention_split_bytes(tq: i32, tk: i32, nHead: i32, hs: i32): i32 {
  if (tq >= 4 || rows_work(tq, tk, hs) > ROWS_SCRATCH) return 0;
  return 4 * rows_layout(0, nHead * tq, tk, hs, (tk + RBK - 1) / RBK);
}

/**
 * Decoding attention (tq < 4 rows) for one sequence, split over its keys in two stages on a
 * scratch `sh` shared by the threads (attention_split_bytes):
 *   stage 0, key blocks [c0, c1) (tasks in any order, on any thread): the blocks' scores, row
 *     maxima, softmax sums and output sums (the three passes, each block's kept apart);
 *   stage 1 (one call, after every task of stage 0): each row's max, its blocks' sums weighted and
 *     added in block order, y and lse.
 * The same bits as attention_fused_forward. Pointers are the sequence's (y, q, k, v, mask: its
 * first row; lse: its first head), rel the whole bias (nHead, tq + tk − 1) or 0; the pattern as
 * attention_fused_forward's. Per thread, the workspace holds a block's key bias and (stage 1) the
 * rows' maxima and output sums. Each thread reads whole rows of K, then of V, for its blocks: a
 * split by heads had each thread read a strip of every row, slower from memory than one thread.
 */
export function attention_rows_split(stage: i32, sh: usize, y: usize, lse: usize, q: usize, k: usize, v: usize, mask: usize, rel: usize,
  tq: i32, tk: i32, nHead: i32, hs: i32, ldq: i32, ldk: i32, ldv: i32, ldy: i32, scale: f32, flags: i32, window: i32, globals: i32,
  work: usize, c0: i32, c1: i32): void {
  const nr = nHead * tq;
  rows_layout(sh, nr, tk, hs, (tk + RBK - 1) / RBK);
  if (stage == 0) {
    set_pattern(flags, window, globals, tq, tk);
    rows_scores(q, k, mask, rel, tq, tk, hs, ldq, ldk, scale, work, 0, nHead, c0, c1);
    rows_exp(c0, c1);
    rows_out(v, ldv, tq, tk, hs, 0, nHead, c0, c1, 0, 0);
    return;
  }
  const mv = work, o = mv + f4(ceil16(nr));
  rows_max(mv);
  zero(o, nr * R_HP);
  for (let c = 0; c < R_NB; c++) if (load<f32>(R_SEEN + f4(c)) != 0) fold_block(o, R_ACC + f4(c * R_ACCSTEP), c, mv);
  rows_finish(y, lse, ldy, tq, hs, 0, o, mv);
}

// ---------------------------------------------------------------------------------------------
// Probabilities on request

/**
 * p (B, NH, tq, tk) ← the probabilities attention_fused_forward used, from its lse: exp(s − lse)
 * for each key a query sees (its score s made as the forward made it: the same blocks, products
 * and masks), 0 for the others and for rows that see no key. For attention maps of the attention
 * that runs on the fused kernels only (ALiBi, T5's bias, windows). Units as the forward's.
 */
export function attention_fused_probs(p: usize, lse: usize, q: usize, k: usize, mask: usize, rel: usize,
  tq: i32, tk: i32, nHead: i32, hs: i32, ldq: i32, ldk: i32, bsq: i32, bsk: i32, maskLd: i32,
  scale: f32, flags: i32, window: i32, globals: i32, work: usize, u0: i32, u1: i32): void {
  set_pattern(flags, window, globals, tq, tk);
  const relLd = tq + tk - 1;
  const kt = work, s = kt + f4(hs * BK), bias = s + f4(BQ * BK);
  const nqb = (tq + BQ - 1) / BQ;
  for (let u = u0; u < u1; u++) {
    const qb = u % nqb, bh = u / nqb, h = bh % nHead, b = bh / nHead;
    const i0 = qb * BQ, rows = min(BQ, tq - i0);
    const qp = q + f4(b * bsq + i0 * ldq + h * hs), kh = k + f4(b * bsk + h * hs);
    const mrow: usize = mask == 0 ? 0 : mask + f4(b * maskLd);
    const relh: usize = rel == 0 ? 0 : rel + f4(h * relLd + tq - 1);
    const p0: usize = p + ((<usize>(bh * tq + i0) * <usize>tk) << 2);
    for (let j0 = 0; j0 < tk; j0 += BK) {
      const n = min(BK, tk - j0), np = ceil8(n);
      if (!block_sees(i0, rows, j0, n) || key_bias(bias, mrow, j0, n, np) == 0) {
        for (let r = 0; r < rows; r++) zero(p0 + ((<usize>r * tk + j0) << 2), n);
        continue;
      }
      scores(s, kt, qp, ldq, kh + f4(j0 * ldk), ldk, rows, hs, n, np);
      for (let r = 0; r < rows; r++) {
        const sr = s + f4(r * BK), pr = p0 + ((<usize>r * tk + j0) << 2);
        const l = load<f32>(lse + f4(bh * tq + i0 + r));
        if (l == Infinity) { zero(pr, n); continue; }
        scale_mask_row(sr, bias, np, n, scale, i0 + r, j0, relh == 0 ? 0 : relh + f4(j0 - i0 - r));
        const lv = f32x4.splat(l), z = f32x4.splat(0);
        let j = 0;
        for (; j + 4 <= n; j += 4) v128.store(pr + f4(j), exp4Nonpos(f32x4.min(f32x4.sub(v128.load(sr + f4(j)), lv), z)));
        for (; j < n; j++) store<f32>(pr + f4(j), exp1Nonpos(min<f32>(load<f32>(sr + f4(j)) - l, 0)));
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Backward

/**
 * Gradients of attention_fused_forward for the heads [u0, u1) of B·NH: dq, dk, dv (views with the
 * strides of q, k and v; pointer 0: not wanted) are written, or added to where flags bit 1 / 2 / 3
 * is set. drel (B·NH, tq + tk − 1), when not 0, is written with each relative position's Σ of
 * d loss / d score (the bias's gradient, per sequence). Scratch: the workspace (delta = Σ dy ⊙ y
 * per row after the tiles: tq floats).
 */
export function attention_fused_backward(dq: usize, dk: usize, dv: usize, drel: usize, dy: usize, y: usize, lse: usize,
  q: usize, k: usize, v: usize, mask: usize, rel: usize, tq: i32, tk: i32, nHead: i32, hs: i32, ldq: i32, ldk: i32, ldv: i32, ldy: i32,
  bsq: i32, bsk: i32, bsv: i32, bsy: i32, maskLd: i32, scale: f32, flags: i32, window: i32, globals: i32, work: usize, u0: i32, u1: i32): void {
  set_pattern(flags, window, globals, tq, tk);
  const hp = ceil8(hs), relLd = tq + tk - 1;
  const kt = work, vt = kt + f4(hs * BK), kp = vt + f4(hs * BK), dka = kp + f4(BK * hp), dva = dka + f4(BK * hp);
  const qp = dva + f4(BK * hp), dyp = qp + f4(BQ * hp), p = dyp + f4(BQ * hp), ds = p + f4(BQ * BK);
  const dqt = ds + f4(BQ * BK), bias = dqt + f4(BQ * hp), drow = bias + f4(BK);
  const sv = f32x4.splat(scale), zv = f32x4.splat(0);
  for (let bh = u0; bh < u1; bh++) {
    const h = bh % nHead, b = bh / nHead;
    const qh = q + f4(b * bsq + h * hs), kh = k + f4(b * bsk + h * hs), vh = v + f4(b * bsv + h * hs);
    const yh = y + f4(b * bsy + h * hs), dyh = dy + f4(b * bsy + h * hs);
    const dqh = dq == 0 ? <usize>0 : dq + f4(b * bsq + h * hs), dkh = dk == 0 ? <usize>0 : dk + f4(b * bsk + h * hs);
    const dvh = dv == 0 ? <usize>0 : dv + f4(b * bsv + h * hs);
    const mrow: usize = mask == 0 ? 0 : mask + f4(b * maskLd);
    const relh: usize = rel == 0 ? 0 : rel + f4(h * relLd + tq - 1);
    const drelh: usize = drel == 0 ? 0 : drel + f4(bh * relLd + tq - 1);
    if (drel != 0) zero(drel + f4(bh * relLd), relLd);
    const lrow = lse + f4(bh * tq);
    // delta_i = Σ_c dy_ic · y_ic
    for (let i = 0; i < tq; i++) {
      const a = dyh + f4(i * ldy), c2 = yh + f4(i * ldy);
      let acc = f32x4.splat(0);
      let c = 0;
      for (; c + 4 <= hs; c += 4) acc = madd(v128.load(a + f4(c)), v128.load(c2 + f4(c)), acc);
      let d = hsum(acc);
      for (; c < hs; c++) d += load<f32>(a + f4(c)) * load<f32>(c2 + f4(c));
      store<f32>(drow + f4(i), d);
    }
    if (dqh != 0 && (flags & 2) == 0) for (let i = 0; i < tq; i++) zero(dqh + f4(i * ldq), hs);
    for (let j0 = 0; j0 < tk; j0 += BK) {
      const n = min(BK, tk - j0), np = ceil8(n);
      const seen = key_bias(bias, mrow, j0, n, np);
      zero(dka, n * hp);
      zero(dva, n * hp);
      if (seen > 0) {
        pack_t(kt, kh + f4(j0 * ldk), ldk, n, np, hs);
        pack_t(vt, vh + f4(j0 * ldv), ldv, n, np, hs);
        let kb = kh + f4(j0 * ldk), ldkb = ldk;                        // K's rows for dQ += dS·K (as V's in the forward)
        if (hp != hs) { pack_rows(kp, kb, ldk, n, hs, hp); kb = kp; ldkb = hp; }
        for (let i0 = 0; i0 < tq; i0 += BQ) {
          const rows = min(BQ, tq - i0);
          if (!block_sees(i0, rows, j0, n)) continue;
          mm_nt(p, qh + f4(i0 * ldq), ldq, kt, rows, hs, np);       // S
          mm_nt(ds, dyh + f4(i0 * ldy), ldy, vt, rows, hs, np);     // dP = dY·Vᵀ
          for (let r = 0; r < rows; r++) {
            const pr = p + f4(r * BK), dr = ds + f4(r * BK);
            const l = load<f32>(lrow + f4(i0 + r));
            if (l == Infinity) { zero(pr, np); zero(dr, np); continue; }
            scale_mask_row(pr, bias, np, n, scale, i0 + r, j0, relh == 0 ? 0 : relh + f4(j0 - i0 - r));
            const lv = f32x4.splat(l), dv4 = f32x4.splat(load<f32>(drow + f4(i0 + r)));
            for (let j = 0; j < np; j += 4) {
              // P = exp(s − lse) (s ≤ lse up to rounding: clamp to the exp's domain); d loss / d s = P ⊙ (dP − delta)
              const e = exp4Nonpos(f32x4.pmin(f32x4.sub(v128.load(pr + f4(j)), lv), zv));
              v128.store(pr + f4(j), e);
              v128.store(dr + f4(j), f32x4.mul(e, f32x4.sub(v128.load(dr + f4(j)), dv4)));
            }
            if (drelh != 0) {
              const dd = drelh + f4(j0 - i0 - r);
              for (let j = 0; j < n; j++) store<f32>(dd + f4(j), load<f32>(dd + f4(j)) + load<f32>(dr + f4(j)));
            }
            for (let j = 0; j < np; j += 4) v128.store(dr + f4(j), f32x4.mul(v128.load(dr + f4(j)), sv));   // dS = scale · d loss / d s
          }
          if (dvh != 0) {
            pack_rows(dyp, dyh + f4(i0 * ldy), ldy, rows, hs, hp);
            mm_tn(dva, p, dyp, rows, n, hp);                          // dV += Pᵀ·dY
          }
          if (dkh != 0) {
            pack_rows(qp, qh + f4(i0 * ldq), ldq, rows, hs, hp);
            mm_tn(dka, ds, qp, rows, n, hp);                          // dK += dSᵀ·Q
          }
          if (dqh != 0) {                                             // dQ += dS·K
            if (hp == hs) mm_nn(dqh + f4(i0 * ldq), ldq, ds, kb, ldkb, rows, n, hp, 1);
            else {
              mm_nn(dqt, hp, ds, kb, ldkb, rows, n, hp, 0);
              for (let r = 0; r < rows; r++) {
                const dst = dqh + f4((i0 + r) * ldq), src = dqt + f4(r * hp);
                for (let c = 0; c < hs; c++) store<f32>(dst + f4(c), load<f32>(dst + f4(c)) + load<f32>(src + f4(c)));
              }
            }
          }
        }
      }
      // dK, dV rows j0 … j0+n−1: written or added (zero for keys no query sees)
      for (let j = 0; j < n; j++) {
        if (dkh != 0) store_row(dkh + f4((j0 + j) * ldk), dka + f4(j * hp), hs, flags & 4);
        if (dvh != 0) store_row(dvh + f4((j0 + j) * ldv), dva + f4(j * hp), hs, flags & 8);
      }
    }
  }
}

/** dst[0 … n) ← src (add = 0) or dst += src. */
function store_row(dst: usize, src: usize, n: i32, add: i32): void {
  let c = 0;
  if (add != 0) {
    for (; c + 4 <= n; c += 4) v128.store(dst + f4(c), f32x4.add(v128.load(dst + f4(c)), v128.load(src + f4(c))));
    for (; c < n; c++) store<f32>(dst + f4(c), load<f32>(dst + f4(c)) + load<f32>(src + f4(c)));
  } else {
    for (; c + 4 <= n; c += 4) v128.store(dst + f4(c), v128.load(src + f4(c)));
    for (; c < n; c++) store<f32>(dst + f4(c), load<f32>(src + f4(c)));
  }
}
