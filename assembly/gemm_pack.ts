// GEMM packing: copies a block of op(A) or op(B) into contiguous slivers the micro-kernel
// streams through. A block (mc,kc) -> ceil(mc/MR) slivers, each (kc,MR): element (i,p) at p·MR+i.
// B block (kc,nc) -> ceil(nc/NR) slivers, each (kc,NR): element (p,j) at p·NR+j.
// Rows/columns past the edge of a sliver are zero, so the micro-kernel always runs a full tile.
// The transposed storage forms cost only here: the micro-kernel never sees them.
import { MR, NR } from "./gemm_ukernel";

/** Packs op(A) (mc,kc) into MR-row slivers. A is (mc,kc) row stride lda, or stored (kc,mc) if trans. */
export function pack_a(dst: usize /* (ceil(mc/MR), kc, MR) */, a: usize /* op(A) block origin */,
  lda: i32, trans: bool, mc: i32, kc: i32): void {
  const ld = <usize>lda << 2;
  if (trans) { pack_a_t(dst, a, ld, mc, kc); return; }
  for (let i0 = 0; i0 < mc; i0 += MR) {
    const mr = min(MR, mc - i0);
    if (mr == MR && MR == 6) pack_a_sliver6_n(dst, a + <usize>i0 * ld, ld, kc);
    else if (mr == MR && MR == 4) pack_a_sliver4_n(dst, a + <usize>i0 * ld, ld, kc);
    else pack_edge_rows(dst, a + <usize>i0 * ld, ld, kc, mr, MR);
    dst += <usize>kc * MR << 2;
  }
}

/** Packs op(B) (kc,nc) into NR-column slivers. B is (kc,nc) row stride ldb, or stored (nc,kc) if trans. */
export function pack_b(dst: usize /* (ceil(nc/NR), kc, NR) */, b: usize /* op(B) block origin */,
  ldb: i32, trans: bool, kc: i32, nc: i32): void {
  const ld = <usize>ldb << 2;
  if (!trans) { pack_b_n(dst, b, ld, kc, nc); return; }
  for (let j0 = 0; j0 < nc; j0 += NR) {
    const nr = min(NR, nc - j0);
    if (nr == NR) pack_b_sliver_t(dst, b + <usize>j0 * ld, ld, kc);
    else pack_edge_rows(dst, b + <usize>j0 * ld, ld, kc, nr, NR);
    dst += <usize>kc * NR << 2;
  }
}

// Sources whose rows run along the slivers (A stored (M,K), B stored transposed (N,K)) are
// packed sliver by sliver with 4×4 transposes. Sources whose rows run across the slivers
// (A stored transposed (K,M), B stored (K,N)) are read row by row, in storage order, and each
// row is scattered over the slivers: the source (often in L3) streams, the panel (in L2) takes
// the strided writes.

/** One full sliver of A stored (6, >=kc): 4 k at a time, six rows of 4 transposed into 24 floats. */
function pack_a_sliver6_n(dst: usize /* (kc,6) */, a: usize /* (6,kc), row stride ld bytes */, ld: usize, kc: i32): void {
  let p = 0;
  for (; p + 4 <= kc; p += 4) {
    const src = a + (<usize>p << 2);
    const r0 = v128.load(src), r1 = v128.load(src + ld), r2 = v128.load(src + 2 * ld);
    const r3 = v128.load(src + 3 * ld), r4 = v128.load(src + 4 * ld), r5 = v128.load(src + 5 * ld);
    const lo01 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5), lo23 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
    const hi01 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7), hi23 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
    const lo45 = v128.shuffle<f32>(r4, r5, 0, 4, 1, 5), hi45 = v128.shuffle<f32>(r4, r5, 2, 6, 3, 7);
    const t0 = v128.shuffle<f32>(lo01, lo23, 0, 1, 4, 5), t1 = v128.shuffle<f32>(lo01, lo23, 2, 3, 6, 7);
    const t2 = v128.shuffle<f32>(hi01, hi23, 0, 1, 4, 5), t3 = v128.shuffle<f32>(hi01, hi23, 2, 3, 6, 7);
    v128.store(dst, t0);                                          // rows 0-3 at k
    v128.store(dst, v128.shuffle<f32>(lo45, t1, 0, 1, 4, 5), 16); // rows 4-5 at k, 0-1 at k+1
    v128.store(dst, v128.shuffle<f32>(t1, lo45, 2, 3, 6, 7), 32); // rows 2-3 at k+1, 4-5 at k+1
    v128.store(dst, t2, 48);
    v128.store(dst, v128.shuffle<f32>(hi45, t3, 0, 1, 4, 5), 64);
    v128.store(dst, v128.shuffle<f32>(t3, hi45, 2, 3, 6, 7), 80);
    dst += 96;
  }
  if (p < kc) pack_edge_rows(dst, a + (<usize>p << 2), ld, kc - p, 6, MR);
}

/** One full sliver of A stored (4, >=kc): 4 k at a time, one 4×4 transpose. */
function pack_a_sliver4_n(dst: usize /* (kc,4) */, a: usize /* (4,kc), row stride ld bytes */, ld: usize, kc: i32): void {
  let p = 0;
  for (; p + 4 <= kc; p += 4) {
    transpose_4x4_store(dst, a + (<usize>p << 2), ld, 16);
    dst += 64;
  }
  if (p < kc) pack_edge_rows(dst, a + (<usize>p << 2), ld, kc - p, 4, MR);
}

/** A sliver of `rows` source rows (rows, >=kc), row stride ld bytes, stored k-major as (kc, width),
 *  zero-padded to `width` (MR for A, NR for Bᵀ): the edge slivers and the k tails of both packers. */
function pack_edge_rows(dst: usize /* (kc,width) */, src0: usize /* (rows,kc) */, ld: usize, kc: i32, rows: i32, width: i32): void {
  for (let p = 0; p < kc; p++) {
    let src = src0 + (<usize>p << 2);
    let r = 0;
    for (; r < rows; r++) { store<f32>(dst, load<f32>(src)); src += ld; dst += 4; }
    for (; r < width; r++) { store<f32>(dst, 0); dst += 4; }
  }
}

/** All slivers of A stored transposed (kc, >=mc), one row of storage (one k) at a time. */
function pack_a_t(dst: usize /* (ceil(mc/MR), kc, MR) */, a: usize /* (kc,mc), row stride ld bytes */, ld: usize, mc: i32, kc: i32): void {
  const full = mc / MR, mr = mc - full * MR;
  const step = <usize>kc * MR << 2;                       // bytes between slivers
  for (let p = 0; p < kc; p++) {
    let src = a + <usize>p * ld, d = dst + <usize>(p * MR << 2);
    for (let s = 0; s < full; s++) {
      v128.store(d, v128.load(src));
      if (MR == 6) store<u64>(d, load<u64>(src, 16), 16);                 // floats 4 and 5
      src += MR << 2; d += step;
    }
    if (mr) {
      for (let r = 0; r < MR; r++) store<f32>(d + (<usize>r << 2), r < mr ? load<f32>(src + (<usize>r << 2)) : 0);
    }
  }
}

/** All slivers of B stored (kc, >=nc), one row of storage (one k) at a time. */
function pack_b_n(dst: usize /* (ceil(nc/NR), kc, NR) */, b: usize /* (kc,nc), row stride ld bytes */, ld: usize, kc: i32, nc: i32): void {
  const full = nc / NR, nr = nc - full * NR;
  const step = <usize>kc * NR << 2;                       // bytes between slivers
  for (let p = 0; p < kc; p++) {
    let src = b + <usize>p * ld, d = dst + <usize>(p * NR << 2);
    for (let s = 0; s < full; s++) {
      v128.store(d, v128.load(src));
      v128.store(d, v128.load(src, 16), 16);
      src += NR << 2; d += step;
    }
    if (nr) {
      for (let j = 0; j < NR; j++) store<f32>(d + (<usize>j << 2), j < nr ? load<f32>(src + (<usize>j << 2)) : 0);
    }
  }
}

/** One full sliver of B stored transposed (8, >=kc): 4×4 transposes of eight rows, then a scalar k tail. */
function pack_b_sliver_t(dst: usize /* (kc,8) */, b: usize /* (8,kc), row stride ld bytes */, ld: usize, kc: i32): void {
  let p = 0;
  for (; p + 4 <= kc; p += 4) {
    const src = b + (<usize>p << 2);
    transpose_4x4_store(dst, src, ld, 32);
    transpose_4x4_store(dst + 16, src + 4 * ld, ld, 32);
    dst += 128;
  }
  if (p < kc) pack_edge_rows(dst, b + (<usize>p << 2), ld, kc - p, 8, NR);
}

/** Reads 4 rows × 4 floats at src (row stride ld bytes), writes them transposed to 4 rows `ds` bytes apart. */
// @ts-ignore: decorator
@inline function transpose_4x4_store(dst: usize, src: usize, ld: usize, ds: usize): void {
  const r0 = v128.load(src), r1 = v128.load(src + ld);
  const r2 = v128.load(src + 2 * ld), r3 = v128.load(src + 3 * ld);
  const lo01 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5), lo23 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
  const hi01 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7), hi23 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
  v128.store(dst, v128.shuffle<f32>(lo01, lo23, 0, 1, 4, 5));
  v128.store(dst + ds, v128.shuffle<f32>(lo01, lo23, 2, 3, 6, 7));
  v128.store(dst + 2 * ds, v128.shuffle<f32>(hi01, hi23, 0, 1, 4, 5));
  v128.store(dst + 3 * ds, v128.shuffle<f32>(hi01, hi23, 2, 3, 6, 7));
}

