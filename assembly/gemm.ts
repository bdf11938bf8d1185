// GEMM driver: cache blocking over N (NC), K (KC) and M (MC) around packed panels and a
// register-tiled micro-kernel (gemm_ukernel.ts, gemm_pack.ts), plus a no-packing path for
// small M that streams B once (decode-time matrix–vector).
//
// THE GEMM CONVENTION (every gemm export, and src/ref/gemm.ts, follows it):
//   C (M,N; row stride ldc) = alpha · op(A) (M,K) · op(B) (K,N) + beta · C + bias (N; broadcast over rows)
//   Row-major. flags bit 0 (GEMM_TRANS_A): A is stored transposed, (K,M) with row stride lda,
//   else (M,K) with row stride lda. flags bit 1 (GEMM_TRANS_B): B stored transposed, (N,K) with
//   row stride ldb, else (K,N) with row stride ldb. bias pointer 0 = no bias.
//   beta == 0: C is write-only (NaN or garbage in C never propagates).
//   Pointers are byte addresses, sizes i32, strides in elements. `work` is a scratch area of
//   gemm_workspace_bytes() bytes, 64-byte aligned, owned by the caller. Kernels trust their
//   arguments: no checks, no allocation, no throwing.
import { MR, NR, GEMV_NB, GEMV_KC, SR, PANEL_FIRST, PANEL_LAST, ukernel, store_tile, store_tile_edge, gemv_n, gemv_t, gemv_rows, gemv_store, add_row, gemv_sliver,
  ukernel_small_4x8_n, ukernel_small_2x4_t, gemv_row } from "./gemm_ukernel";
import { pack_a, pack_b } from "./gemm_pack";
import { gelu_forward, gelu_grad_scale } from "./activation";

/** Micro-kernel tile: rows and columns. */
export const GEMM_MR: i32 = MR;
export const GEMM_NR: i32 = NR;
/** K block: a packed B sliver (KC,NR) and A sliver (KC,MR) stay in L1 while the B sliver meets
 *  every A sliver of the M block: at most 24 KB, headroom in a 32 KB L1 — 512 with 4-row tiles
 *  (simd: 24 KB), 384 with 6-row tiles (relaxed: 21 KB). Measured: 384 and 512 beat 256 by 2–5%
 *  on the large cases (fewer passes over C); simd 1 thread, paired, 512 against 384 at K = 512
 *  (one K block instead of two): 512³ A·B +3.4%, A·Bᵀ +4.9%, Aᵀ·B +5.4%; K = 768 alike. */
export const GEMM_KC: i32 = MR == 4 ? 512 : 384;
/** M block (a multiple of MR): its packed A (MC,KC) stays in L2, each A sliver streams to L1. */
export const GEMM_MC: i32 = 120;
/** N block: the packed B panel (KC,NC), 768 KB (relaxed) or 1 MB (simd), stays in L2 (MC = 60, NC = 1024 measured no better). */
export const GEMM_NC: i32 = 512;
/** A packed weight more than GEMM_PANEL_MAX rows of K tall is stored in panels of GEMM_PANEL rows
 *  (pack_weight_f32), and every product splits K at the panels' edges. A one-row product streams
 *  each sliver top to bottom; over K = 3072 (GPT-2's second MLP product) a sliver is 96 KB, more
 *  than L1, and pushes the row of A (12 KB) out of it between slivers. Panel by panel the row's
 *  part (3 KB) stays in L1 while the panel streams as one run, the sliver sums parked between
 *  panels. Measured on 3072×768 from memory, one thread, the one-row loop against the plain read
 *  in the same run: 0.72–0.76 in one panel, 0.85–0.87 in panels of 768 (1024: 0.82–0.86; 1536:
 *  0.74–0.76; 384: 0.85), 0.86–0.90 for K = 768. */
export const GEMM_PANEL_MAX: i32 = 1024;
export const GEMM_PANEL: i32 = 768;

/** Rows of K per panel of a packed weight (at least 1, so K = 0 divides). */
// @ts-ignore: decorator
@inline export function panel_rows(k: i32): i32 {
  return k <= GEMM_PANEL_MAX ? max(k, 1) : GEMM_PANEL;
}

/** Where the panel of a packed weight (n columns) that starts at row p0 begins; its slivers follow,
 *  each (h, NR) for a panel h rows tall. */
// @ts-ignore: decorator
@inline export function panel_at(bp: usize, n: i32, p0: i32): usize {
  return bp + (<usize>p0 * <usize>((n + NR - 1) / NR * NR) << 2);
}

/** Up to this many rows of C, B is streamed unpacked (no packing), several rows of A sharing
 *  each load of B (gemm_small_n / gemm_small_t). Measured at K = 768, N = 3072: from M = 4 to 16
 *  this beats packing B; from M = 20 on, packing B and 6-row tiles are as fast or faster. */
export const GEMM_SMALL_M: i32 = 16;
/** K block of the small-M A·B path: the rows of B in one block stream together (one pass over
 *  C per block), instead of walking B's full height 12 KB apart per strip (TLB- and prefetch-bound). */
export const GEMM_SMALL_KC: i32 = 64;
/** Rows of A per pass of the small-M A·B kernel (A·Bᵀ takes rows in pairs). */
export const GEMM_SMALL_R: i32 = SR;
/** Rows of B per chunk of gemv_n (chunk sums added in order: see gemm_ukernel.ts). */
export const GEMM_GEMV_KC: i32 = GEMV_KC;
/** Columns per pass of gemv_n, the one-row A·B kernel (its accumulator rows live in `work`). */
export const GEMM_GEMV_NB: i32 = GEMV_NB;

const TRANS_A = 1;
const TRANS_B = 2;
/** gemm_gelu_f32's flags bit 2: the backward epilogue (C = product ⊙ gelu'(pre)). */
const GELU_GRAD = 4;
/** gemm_packed_f32's flags bit 2: C = gelu(product), in place as each block is final (inference: no pre kept). */
export const GEMM_PACKED_GELU = 4;
/** Epilogues of gemm_range: none, GELU (C = gelu(product), pre = product), GELU's gradient. */
export const ACT_NONE = 0, ACT_GELU = 1, ACT_GELU_GRAD = 2;

// Layout of `work`: packed B panel | packed A block | one accumulator tile. The small-M path
// uses its start instead as gemv_n's accumulator rows (2·GEMV_NB floats) or as the gathered rows
// of A (M,K), and the tile as is.
const WORK_B_BYTES: usize = <usize>GEMM_KC * GEMM_NC * 4;
const WORK_A_BYTES: usize = <usize>GEMM_KC * GEMM_MC * 4;
const WORK_TILE_BYTES: usize = 64 * 4;
const WORK_BYTES: usize = WORK_B_BYTES + WORK_A_BYTES + WORK_TILE_BYTES;
/** Small M on a packed weight in panels: `work` holds store_8's tile (16 floats), then from here
 *  each sliver's sums parked between panels (gemv_row: 64 bytes, gemv_sliver: 192 per row group). */
const SMALL_PARK_AT: usize = 256;

/** Bytes of scratch `work` that gemm_f32 / gemm_batched_f32 need. */
export function gemm_workspace_bytes(): usize {
  return WORK_BYTES;
}

/** C = alpha·op(A)·op(B) + beta·C + bias (see the convention above). */
export function gemm_f32(c: usize /* (M,N) */, a: usize /* (M,K) or (K,M) */, b: usize /* (K,N) or (N,K) */,
  bias: usize /* (N) or 0 */, m: i32, n: i32, k: i32, lda: i32, ldb: i32, ldc: i32, flags: i32,
  alpha: f32, beta: f32, work: usize): void {
  gemm_block_f32(c, a, b, bias, m, n, k, lda, ldb, ldc, flags, alpha, beta, work, 0, m, 0, n);
}

/** 1 if gemm_f32 takes the small-M path for this problem (B streamed from its storage, no
 *  packing; split only by columns), else 0 (packed panels; split by rows and columns). */
export function gemm_small_path(m: i32, k: i32, flags: i32): i32 {
  return m <= GEMM_SMALL_M && ((flags & TRANS_B) == 0 || (flags & TRANS_A) == 0 || <usize>m * k * 4 <= WORK_BYTES) ? 1 : 0;
}

/**
 * The block C[i0:i1, j0:j1] of gemm_f32's product, each element computed by the same
 * instructions as in the whole call: the unit a worker pool splits (disjoint blocks, one `work`
 * per thread). Block edges must lie on the tile grid: i0, i1 multiples of GEMM_MR (or i1 = m),
 * j0, j1 multiples of GEMM_NR (or j1 = n); on the small-M path (gemm_small_path) the block
 * must span every row (i0 = 0, i1 = m). Empty blocks do nothing.
 */
export function gemm_block_f32(c: usize, a: usize, b: usize, bias: usize, m: i32, n: i32, k: i32,
  lda: i32, ldb: i32, ldc: i32, flags: i32, alpha: f32, beta: f32, work: usize,
  i0: i32, i1: i32, j0: i32, j1: i32): void {
  if (m <= 0 || j1 <= j0) return;
  if (gemm_small_path(m, k, flags)) {
    const b_off: usize = (flags & TRANS_B) != 0 ? <usize>j0 * ldb : <usize>j0;
    gemm_small_m(c + (<usize>j0 << 2), a, b + (b_off << 2), bias ? bias + (<usize>j0 << 2) : 0, m, j1 - j0, k,
      lda, ldb, ldc, flags, alpha, beta, work);
  } else if (i1 > i0) {
    gemm_range(c, a, b, false, bias, n, k, lda, ldb, ldc, flags, alpha, beta, work, i0, i1, j0, j1, ACT_NONE, 0);
  }
}

/**
 * GELU fused into the GEMM store, the block C[i0:i1, j0:j1] (gemm_block_f32's block rules) of
 *   forward (flags bit 2 clear): pre = op(A)·op(B) + bias, C = gelu(pre);
 *   backward (flags bit 2 set):  C = (op(A)·op(B) + bias) ⊙ gelu'(pre)   (pre read);
 * pre has C's row stride. Each block of C gets its activation while it is still in cache (per
 * MC×NC block on the packed path), with gelu_forward's / gelu_backward's own arithmetic, so the
 * bits are those of gemm_f32 followed by the separate activation kernel.
 */
export function gemm_gelu_f32(c: usize, pre: usize, a: usize, b: usize, bias: usize, m: i32, n: i32, k: i32,
  lda: i32, ldb: i32, ldc: i32, flags: i32, work: usize, i0: i32, i1: i32, j0: i32, j1: i32): void {
  if (m <= 0 || j1 <= j0) return;
  const act = (flags & GELU_GRAD) != 0 ? ACT_GELU_GRAD : ACT_GELU;
  flags &= TRANS_A | TRANS_B;
  if (gemm_small_path(m, k, flags)) {
    gemm_block_f32(c, a, b, bias, m, n, k, lda, ldb, ldc, flags, 1, 0, work, 0, m, j0, j1);
    epilogue(c, pre, ldc, 0, m, j0, j1, act);
  } else if (i1 > i0) {
    gemm_range(c, a, b, false, bias, n, k, lda, ldb, ldc, flags, 1, 0, work, i0, i1, j0, j1, act, pre);
  }
}

/** The activation epilogue over C[r0:r1, j0:j1] (row stride ldc; pre the same; pre = 0 with GELU:
 *  in place, nothing kept). gelu_forward's per-element arithmetic whatever the block's edges. */
export function epilogue(c: usize, pre: usize, ldc: i32, r0: i32, r1: i32, j0: i32, j1: i32, act: i32): void {
  const nb = j1 - j0;
  for (let r = r0; r < r1; r++) {
    const o: usize = (<usize>r * ldc + j0) << 2;
    if (act == ACT_GELU) {
      if (pre) memory.copy(pre + o, c + o, <usize>nb << 2);
      gelu_forward(c + o, pre ? pre + o : c + o, nb);
    } else {
      gelu_grad_scale(c + o, pre + o, nb);
    }
  }
}

// PACKED WEIGHTS: op(B) (K,N) copied once into the layout the micro-kernels read — ceil(N/NR)
// slivers of NR columns, each k-major, in panels of P rows of K (P = K up to GEMM_PANEL_MAX, else
// GEMM_PANEL; the last panel holds the rest, h = min(P, K − p0) rows): element (p,j), p in the
// panel starting at row p0, at p0·ceil(N/NR)·NR + (j/NR)·h·NR + (p − p0)·NR + j mod NR, columns
// past N zero. Each panel is gemm_f32's packed B panel without the N blocking, and gemm_f32 blocks
// K within the same panels, so from GEMM_SMALL_M + 1 rows on a product on it runs the same kernels
// on the same numbers: gemm_packed_f32 gives gemm_f32's bits exactly (either storage of B, any split).
// Up to GEMM_SMALL_M rows (decode) no call packs anything, each sliver is read as one forward
// stream, and every row is computed alike (gemv_sliver) whatever M is, so a row's result does not
// depend on the other rows (batched decode = one sequence at a time, bit for bit); its sums run
// in another order than gemm_f32's small-M kernels (within the GEMM error bound of the exact
// product; the same bits for any split of the columns).

/** Packs the slivers [s0, s1) of op(B) (K,N) into `dst`, which holds the whole packed weight
 *  (ceil(n/NR)·NR·k floats); flags bit 1: B stored transposed (N,K), row stride ldb. Sliver
 *  ranges are independent: a worker pool packs disjoint ones at once. */
export function pack_weight_f32(dst: usize /* packed (ceil(n/NR), k, NR) */, b: usize /* (k,n) or (n,k) */,
  n: i32, k: i32, ldb: i32, flags: i32, s0: i32, s1: i32): void {
  const j0 = s0 * NR, j1 = min(n, s1 * NR);
  if (j1 <= j0 || k <= 0) return;
  const trans = (flags & TRANS_B) != 0;
  const P = panel_rows(k);
  for (let p0 = 0; p0 < k; p0 += P) {
    const hc = min(P, k - p0);
    const off: usize = trans ? <usize>j0 * ldb + p0 : <usize>p0 * ldb + j0;
    pack_b(panel_at(dst, n, p0) + (<usize>j0 * hc << 2), b + (off << 2), ldb, trans, hc, j1 - j0);
  }
}

/**
 * The block C[i0:i1, j0:j1] of C = alpha·op(A)·B + beta·C + bias with B a packed weight
 * (pack_weight_f32; N, K its shape): the same convention and block rules as gemm_block_f32
 * (flags bit 0: A stored transposed; bit 1 is ignored, the packing already applied it; bit 2:
 * C = gelu(…) instead, gelu_forward applied to each block once it is final — the bits of this
 * product followed by gelu_forward). Up to GEMM_SMALL_M rows the block must span every row
 * (i0 = 0, i1 = m).
 */
export function gemm_packed_f32(c: usize, a: usize, bp: usize /* packed (ceil(n/NR), k, NR) */, bias: usize,
  m: i32, n: i32, k: i32, lda: i32, ldc: i32, flags: i32, alpha: f32, beta: f32, work: usize,
  i0: i32, i1: i32, j0: i32, j1: i32): void {
  if (m <= 0 || j1 <= j0) return;
  const act = (flags & GEMM_PACKED_GELU) != 0 ? ACT_GELU : ACT_NONE;
  flags &= TRANS_A | TRANS_B;
  if (m <= GEMM_SMALL_M) {
    gemm_small_packed(c, a, bp, bias, m, n, k, lda, ldc, flags, alpha, beta, work, j0, j1);
    if (act != ACT_NONE) epilogue(c, 0, ldc, 0, m, j0, j1, act);   // this band of columns, still in cache
  } else if (i1 > i0) {
    gemm_range(c, a, bp, true, bias, n, k, lda, 0, ldc, flags, alpha, beta, work, i0, i1, j0, j1, act, 0);
  }
}

/** Small M on packed slivers, columns [j0, j1), panel by panel (the sums parked in `work` between
 *  panels): one row (decode) through every sliver of a panel in one loop (gemv_row); more rows per
 *  sliver in groups of three (gemv_sliver; the last group of one or two), so each sliver comes from
 *  memory once and serves the other groups from cache. Every row gets the same arithmetic whatever
 *  M is, and the same as in one pass over K. */
function gemm_small_packed(c: usize, a: usize, bp: usize, bias: usize, m: i32, n: i32, k: i32,
  lda: i32, ldc: i32, flags: i32, alpha: f32, beta: f32, work: usize, j0: i32, j1: i32): void {
  const trans_a = (flags & TRANS_A) != 0;
  const as: usize = trans_a ? <usize>lda << 2 : 4;             // bytes between A(i,p) and A(i,p+1)
  const ai: usize = trans_a ? 4 : <usize>lda << 2;             // bytes between A(i,p) and A(i+1,p)
  const rc: usize = <usize>ldc << 2, P = panel_rows(k);
  const park = work + SMALL_PARK_AT, groups = (m + 2) / 3;
  // columns in runs whose sums fit the parking space (all of them, but for very wide weights)
  const run = <i32>(((<usize>WORK_BYTES - SMALL_PARK_AT) / (m == 1 ? 64 : <usize>groups * 192)) * NR);
  for (let r0 = j0; r0 < j1; r0 += run) {
    const r1 = min(j1, r0 + run);
    let p0 = 0;
    do {   // K by panels, each panel's slivers one run in memory (once for k = 0: C = beta·C + bias)
      const h = min(P, k - p0), mode = (p0 == 0 ? PANEL_FIRST : 0) | (p0 + h >= k ? PANEL_LAST : 0);
      const panel = panel_at(bp, n, p0), sliver: usize = <usize>h * NR << 2, ap = a + <usize>p0 * as;
      if (m == 1) gemv_row(c, ap, as, panel, h, r0, r1, alpha, beta, bias, work, park, mode);   // decode: one stream through the panel
      else for (let j = r0; j < r1; j += NR) {
        const bs = panel + <usize>(j / NR) * sliver, nb = min(NR, r1 - j), bias_j = bias ? bias + (<usize>j << 2) : 0;
        const pj = park + <usize>((j - r0) / NR * groups) * 192;
        for (let i = 0; i < m; i += 3) {
          const ci = c + <usize>i * rc + (<usize>j << 2), a_i = ap + <usize>i * ai;
          gemv_sliver(min(3, m - i), ci, ci + rc, ci + 2 * rc, a_i, a_i + ai, a_i + 2 * ai, as, bs, h, nb, alpha, beta, bias_j, work,
            pj + <usize>(i / 3) * 192, mode);
        }
      }
      p0 += h;
    } while (p0 < k);
  }
}

/** `outer` × `batch` independent products: product (o, i) reads A at o·outerA + i·strideA elements
 *  (B, C alike; a stride 0 shares the operand), bias is shared. Two levels, so attention's
 *  (sequence, head) products are one call: heads `stride` apart inside a row, sequences `outer` apart. */
export function gemm_batched_f32(c: usize, a: usize, b: usize, bias: usize, m: i32, n: i32, k: i32,
  lda: i32, ldb: i32, ldc: i32, flags: i32, alpha: f32, beta: f32, work: usize,
  batch: i32, strideA: i32, strideB: i32, strideC: i32, outer: i32, outerA: i32, outerB: i32, outerC: i32): void {
  for (let o = 0; o < outer; o++) {
    const co = c + (<usize>o * outerC << 2), ao = a + (<usize>o * outerA << 2), bo = b + (<usize>o * outerB << 2);
    for (let i = 0; i < batch; i++) {
      gemm_f32(co + (<usize>i * strideC << 2), ao + (<usize>i * strideA << 2), bo + (<usize>i * strideB << 2),
        bias, m, n, k, lda, ldb, ldc, flags, alpha, beta, work);
    }
  }
}

/** The block C[i_begin:i_end, j_begin:j_end] of the product on packed panels. Loops
 *  NC ⊃ KC ⊃ MC ⊃ NR ⊃ MR (BLIS order). `packed`: b is a packed weight (pack_weight_f32), whose
 *  slivers are read in place; else each (KC,NC) panel of B is packed into `work` first. */
function gemm_range(c: usize, a: usize, b: usize, packed: bool, bias: usize, n: i32, k: i32, lda: i32, ldb: i32, ldc: i32,
  flags: i32, alpha: f32, beta: f32, work: usize, i_begin: i32, i_end: i32, j_begin: i32, j_end: i32, act: i32, pre: usize): void {
  const trans_a = (flags & TRANS_A) != 0, trans_b = (flags & TRANS_B) != 0;
  const bp = work, ap = work + WORK_B_BYTES, tile = ap + WORK_A_BYTES;
  const P = panel_rows(k);
  for (let jc = j_begin; jc < j_end; jc += GEMM_NC) {
    const nc = min(GEMM_NC, j_end - jc);
    let pc = 0;
    do { // at least once, so that k == 0 still writes beta·C + bias
      // K by panels (the packed layout's; one panel up to GEMM_PANEL_MAX), each panel in equal
      // blocks of at most KC (rounded up to 4), so no thin last block costs a pass over C
      const p0 = pc / P * P, hc = min(P, k - p0);
      const blocks = max(1, (hc + GEMM_KC - 1) / GEMM_KC);
      const kc = min(min(GEMM_KC, (((hc + blocks - 1) / blocks) + 3) & ~3), p0 + hc - pc);
      const beta_p: f32 = pc == 0 ? beta : 1;                 // later K blocks accumulate
      const bias_p = pc == 0 && bias ? bias + (<usize>jc << 2) : 0;
      let panel = bp, sliver: usize = <usize>kc * NR << 2;       // bytes between the panel's slivers
      if (packed) {
        panel = panel_at(b, n, p0) + ((<usize>jc * hc + <usize>(pc - p0) * NR) << 2);
        sliver = <usize>hc * NR << 2;
      } else {
        const b_off = trans_b ? <usize>jc * ldb + pc : <usize>pc * ldb + jc;
        pack_b(bp, b + (b_off << 2), ldb, trans_b, kc, nc);
      }
      for (let ic = i_begin; ic < i_end; ic += GEMM_MC) {
        const mc = min(GEMM_MC, i_end - ic);
        const a_off = trans_a ? <usize>pc * lda + ic : <usize>ic * lda + pc;
        pack_a(ap, a + (a_off << 2), lda, trans_a, mc, kc);
        const cb = c + ((<usize>ic * ldc + jc) << 2);
        gemm_macro(cb, ap, panel, sliver, mc, nc, kc, ldc, alpha, beta_p, bias_p, tile);
        if (act != ACT_NONE && pc + kc >= k) epilogue(c, pre, ldc, ic, ic + mc, jc, jc + nc, act);   // the block is final and in cache
      }
      pc += kc;
    } while (pc < k);
  }
}

/** C block (mc,nc) from a packed A block and a packed B panel: per MR×NR tile, the
 *  micro-kernel into `tile`, then the store epilogue into C (partial at the edges). */
function gemm_macro(c: usize /* (mc,nc), row stride ldc */, ap: usize /* packed (mc,kc) */,
  bp: usize /* packed slivers (kc,NR), `sliver` bytes apart */, sliver: usize, mc: i32, nc: i32, kc: i32, ldc: i32, alpha: f32, beta: f32,
  bias: usize /* (nc) or 0 */, tile: usize /* (MR,NR) */): void {
  for (let jr = 0; jr < nc; jr += NR) {
    const nr = min(NR, nc - jr);
    const bs = bp + <usize>(jr / NR) * sliver;
    const bias_j = bias ? bias + (<usize>jr << 2) : 0;
    for (let ir = 0; ir < mc; ir += MR) {
      const as = ap + (<usize>ir * kc << 2), ct = c + ((<usize>ir * ldc + jr) << 2);
      const mr = min(MR, mc - ir);
      // Two call sites keep binaryen from inlining the micro-kernel into this loop nest,
      // where V8 would run out of registers for it.
      if (mr == MR && nr == NR) {
        ukernel(kc, as, bs, tile);
        store_tile(ct, ldc, tile, MR, alpha, beta, bias_j);
      } else {
        ukernel(kc, as, bs, tile);
        store_tile_edge(ct, ldc, tile, mr, nr, alpha, beta, bias_j);
      }
    }
  }
}

/** Small M: B streamed from its storage (no packing). A·B: groups of SR rows with the multi-row
 *  kernel, the last m mod SR rows with gemv_n. A·Bᵀ: one row with gemv_t, more in pairs. With both
 *  operands transposed the rows of A are gathered into `work` first so they are read contiguously. */
function gemm_small_m(c: usize, a: usize, b: usize, bias: usize, m: i32, n: i32, k: i32,
  lda: i32, ldb: i32, ldc: i32, flags: i32, alpha: f32, beta: f32, work: usize): void {
  const trans_a = (flags & TRANS_A) != 0;
  const ap_stride: usize = trans_a ? <usize>lda << 2 : 4;      // bytes between A(i,p) and A(i,p+1)
  let ai_stride: usize = trans_a ? 4 : <usize>lda << 2;        // bytes between A(i,p) and A(i+1,p)
  if ((flags & TRANS_B) == 0) {
    const m4 = m & ~(SR - 1);
    if (m4 > 0) gemm_small_n(c, a, ap_stride, ai_stride, b, bias, m4, n, k, ldb, ldc, alpha, beta, work);
    for (let i = m4; i < m; i++) {   // the last m mod SR rows (fewer than a tile) row by row
      gemv_n(c + (<usize>i * ldc << 2), a + <usize>i * ai_stride, ap_stride, b, ldb, n, k, alpha, beta, bias, work);
    }
    return;
  }
  if (trans_a) {
    for (let i = 0; i < m; i++) {
      for (let p = 0; p < k; p++) {
        store<f32>(work + ((<usize>i * k + p) << 2), load<f32>(a + <usize>i * ai_stride + <usize>p * ap_stride));
      }
    }
    a = work; ai_stride = <usize>k << 2;
  }
  if (m == 1) gemv_t(c, a, b, ldb, n, k, alpha, beta, bias);
  else gemm_small_t(c, a, ai_stride, b, bias, m, n, k, ldb, ldc, alpha, beta);
}

/** Small M, B stored (K,N), m a multiple of SR: per block of SMALL_KC rows of B, per strip of
 *  NR columns, every group of SR rows of A (ukernel_small_4x8_n), later K blocks adding into C;
 *  the last N mod NR columns row by row with gemv_n. */
function gemm_small_n(c: usize /* (m,n) */, a: usize /* A(i,p) at i·ai + p·as bytes */, as: usize, ai: usize,
  b: usize /* (k,n) */, bias: usize /* (n) or 0 */, m: i32, n: i32, k: i32, ldb: i32, ldc: i32,
  alpha: f32, beta: f32, work: usize): void {
  const ld = <usize>ldb << 2, tile = work + WORK_B_BYTES + WORK_A_BYTES;
  const n8 = n & ~(NR - 1);
  let pc = 0;
  do { // at least once, so that k == 0 still writes beta·C + bias
    const kc = min(GEMM_SMALL_KC, k - pc);
    const beta_p: f32 = pc == 0 ? beta : 1;
    for (let j = 0; j < n8; j += NR) {
      const bj = b + <usize>pc * ld + (<usize>j << 2), bias_j = pc == 0 && bias ? bias + (<usize>j << 2) : 0;
      for (let i = 0; i < m; i += SR) {
        const a0 = a + <usize>i * ai + <usize>pc * as;
        ukernel_small_4x8_n(kc, a0, a0 + ai, a0 + 2 * ai, a0 + 3 * ai, as, bj, ld, tile);
        store_tile(c + ((<usize>i * ldc + j) << 2), ldc, tile, SR, alpha, beta_p, bias_j);
      }
    }
    pc += kc;
  } while (pc < k);
  if (n8 == n) return;
  for (let i = 0; i < m; i++) {
    gemv_n(c + ((<usize>i * ldc + n8) << 2), a + <usize>i * ai, as, b + (<usize>n8 << 2), ldb, n - n8, k,
      alpha, beta, bias ? bias + (<usize>n8 << 2) : 0, work);
  }
}

/** Small M, B stored transposed (N,K), A rows contiguous (ai bytes apart): per four rows of B,
 *  every pair of rows of A (ukernel_small_2x4_t); the last N mod 4 rows of B with gemv_t. */
function gemm_small_t(c: usize /* (m,n) */, a: usize /* (m,k), row stride ai bytes */, ai: usize,
  b: usize /* (n,k) */, bias: usize /* (n) or 0 */, m: i32, n: i32, k: i32, ldb: i32, ldc: i32,
  alpha: f32, beta: f32): void {
  const ld = <usize>ldb << 2, rc = <usize>ldc << 2;
  const n4 = n & ~3;
  for (let j = 0; j < n4; j += 4) {
    const bj = b + <usize>j * ld, bias_j = bias ? bias + (<usize>j << 2) : 0;
    for (let i = 0; i < m; i += 2) {
      const a0 = a + <usize>i * ai, c0 = c + <usize>i * rc + (<usize>j << 2);
      const last = i + 1 == m;
      ukernel_small_2x4_t(c0, last ? c0 : c0 + rc, a0, last ? a0 : a0 + ai, bj, ld, k, alpha, beta, bias_j);
    }
  }
  if (n4 == n) return;
  for (let i = 0; i < m; i++) {
    gemv_t(c + <usize>i * rc + (<usize>n4 << 2), a + <usize>i * ai, b + <usize>n4 * ld, ldb, n - n4, k,
      alpha, beta, bias ? bias + (<usize>n4 << 2) : 0);
  }
}

/**
 * One-row A·B by chunks of rows, for a worker pool: row q of parts (chunks, ldp) = Σ over the rows
 * [q·GEMV_KC, min(k, (q+1)·GEMV_KC)) of a[p]·B[p,:], n columns, for the chunks q ∈ [q0, q1). a's
 * elements are `as` elements apart (1, or lda for A stored transposed).
 */
export function gemv_chunks_f32(parts: usize /* (chunks, ldp) */, a: usize /* (k) */, b: usize /* (k,n) */,
  n: i32, k: i32, as: i32, ldb: i32, ldp: i32, q0: i32, q1: i32): void {
  for (let q = q0; q < q1; q++) {
    const p0 = q * GEMV_KC;
    gemv_rows(parts + (<usize>q * ldp << 2), a, <usize>as << 2, b, <usize>ldb << 2, n, p0, min(k, p0 + GEMV_KC));
  }
}

/**
 * The end of gemv_chunks_f32's product on n columns (any band of them): total = row 0 of parts
 * plus rows 1 … chunks−1 in order, then c = alpha·total + beta·c + bias, as gemv_n computes it, so
 * gemv_chunks_f32 + gemv_sum_f32 give gemm_f32's bits for one row of A·B. Row 0 becomes the total.
 */
export function gemv_sum_f32(c: usize /* (n) */, parts: usize /* (chunks, ldp) */, bias: usize /* (n) or 0 */,
  n: i32, chunks: i32, ldp: i32, alpha: f32, beta: f32): void {
  for (let q = 1; q < chunks; q++) add_row(parts, parts + (<usize>q * ldp << 2), n);
  gemv_store(c, parts, n, alpha, beta, bias);
}

