// GEMM packing: copies a block of op(A) or op(B) into contiguous slivers the micro-kernel
// streams through. A block (mc,kc) -> ceil(mc/MR) slivers, each (kc,MR): element (i,p) at p·MR+i.
// B block (kc,nc) -> ceil(nc/NR) slivers, each (kc,NR): element (p,j) at p·NR+j.
// Rows/columns past the edge of a sliver are zero, so the micro-kernel always runs a full tile.
// The transposed storage forms cost only here: the micro-kernel never sees them.
import { MR, NR } from "./gemm_ukernel";

/** Packs op(A) (mc,kc) into MR-row slivers. A is (mc,kc) row stride lda, or stored (kc,mc) if trans. */
export function pack_a(dst: usize /* (ceil(mc/MR), kc, MR) */, a: usize /* op(A) block origin */,
  lda: i32, trans: bool, mc: i32, kc: i32): void {
  const rs: usize = trans ? 4 : <usize>lda << 2;   // bytes between rows i of op(A)
  const ks: usize = trans ? <usize>lda << 2 : 4;   // bytes between columns p of op(A)
  for (let i0 = 0; i0 < mc; i0 += MR) {
    const mr = min(MR, mc - i0);
    const row0 = a + <usize>i0 * rs;
    for (let p = 0; p < kc; p++) {
      let src = row0 + <usize>p * ks;
      let r = 0;
      for (; r < mr; r++) { store<f32>(dst, load<f32>(src)); src += rs; dst += 4; }
      for (; r < MR; r++) { store<f32>(dst, 0); dst += 4; }
    }
  }
}

/** Packs op(B) (kc,nc) into NR-column slivers. B is (kc,nc) row stride ldb, or stored (nc,kc) if trans. */
export function pack_b(dst: usize /* (ceil(nc/NR), kc, NR) */, b: usize /* op(B) block origin */,
  ldb: i32, trans: bool, kc: i32, nc: i32): void {
  const ld = <usize>ldb << 2;
  for (let j0 = 0; j0 < nc; j0 += NR) {
    const nr = min(NR, nc - j0);
    if (nr < NR) pack_b_edge(dst, b + (trans ? <usize>j0 * ld : <usize>j0 << 2), ld, trans, kc, nr);
    else if (trans) pack_b_sliver_t(dst, b + <usize>j0 * ld, ld, kc);
    else pack_b_sliver_n(dst, b + (<usize>j0 << 2), ld, kc);
    dst += <usize>kc * NR << 2;
  }
}

/** One full sliver of B stored (kc, >=8): eight contiguous floats per k. */
function pack_b_sliver_n(dst: usize /* (kc,8) */, b: usize /* (kc,8), row stride ld bytes */, ld: usize, kc: i32): void {
  for (let p = 0; p < kc; p++) {
    v128.store(dst, v128.load(b));
    v128.store(dst, v128.load(b, 16), 16);
    b += ld; dst += 32;
  }
}

/** One full sliver of B stored transposed (8, kc): 4×4 transposes of eight rows, then a scalar k tail. */
function pack_b_sliver_t(dst: usize /* (kc,8) */, b: usize /* (8,kc), row stride ld bytes */, ld: usize, kc: i32): void {
  let p = 0;
  for (; p + 4 <= kc; p += 4) {
    const src = b + (<usize>p << 2);
    transpose_4x4_store(dst, src, ld);
    transpose_4x4_store(dst + 16, src + 4 * ld, ld);
    dst += 128;
  }
  for (; p < kc; p++) {
    let src = b + (<usize>p << 2);
    for (let j = 0; j < 8; j++) { store<f32>(dst, load<f32>(src)); src += ld; dst += 4; }
  }
}

/** Reads 4 rows × 4 floats at src (row stride ld bytes), writes them transposed to 4 rows 32 bytes apart. */
// @ts-ignore: decorator
@inline function transpose_4x4_store(dst: usize, src: usize, ld: usize): void {
  const r0 = v128.load(src), r1 = v128.load(src + ld);
  const r2 = v128.load(src + 2 * ld), r3 = v128.load(src + 3 * ld);
  const lo01 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5), lo23 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
  const hi01 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7), hi23 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
  v128.store(dst, v128.shuffle<f32>(lo01, lo23, 0, 1, 4, 5));
  v128.store(dst, v128.shuffle<f32>(lo01, lo23, 2, 3, 6, 7), 32);
  v128.store(dst, v128.shuffle<f32>(hi01, hi23, 0, 1, 4, 5), 64);
  v128.store(dst, v128.shuffle<f32>(hi01, hi23, 2, 3, 6, 7), 96);
}

/** A partial sliver (nr < NR columns), zero-padded to NR. */
function pack_b_edge(dst: usize /* (kc,NR) */, b: usize, ld: usize, trans: bool, kc: i32, nr: i32): void {
  const ks: usize = trans ? 4 : ld;   // bytes between k
  const js: usize = trans ? ld : 4;   // bytes between columns j
  for (let p = 0; p < kc; p++) {
    const src = b + <usize>p * ks;
    let j = 0;
    for (; j < nr; j++) store<f32>(dst + (<usize>j << 2), load<f32>(src + <usize>j * js));
    for (; j < NR; j++) store<f32>(dst + (<usize>j << 2), 0);
    dst += NR << 2;
  }
}
