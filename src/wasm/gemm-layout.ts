// The GEMM kernels' flag bits and the packed-weight layout, as assembly/gemm.ts defines them:
// what the ops pass and what the plain-JS twins (src/ref/gemm.ts) read. Checked against the
// module's own constants by the kernel tests.

/** flags bit 0: A is stored transposed, (K,M) with row stride lda. */
export const GEMM_TRANS_A = 1;
/** flags bit 1: B is stored transposed, (N,K) with row stride ldb (the nn.Linear weight layout). */
export const GEMM_TRANS_B = 2;
/** flags bit 2 of gemm_gelu_f32: the backward epilogue. */
export const GEMM_GELU_GRAD = 4;
/** gemm_packed_f32's flags bit 2: C = gelu(product) in place (assembly/gemm.ts PACKED_GELU); the quantized products' `act` = 1 alike. */
export const GEMM_GELU = 4;

/** Columns per sliver of a packed weight (assembly GEMM_NR; checked equal by the kernel test). */
export const PACK_NR = 8;

/** A packed weight taller than this many rows of K is stored in panels (assembly GEMM_PANEL_MAX). */
export const PACK_PANEL_MAX = 1024;
/** Rows of K per panel of a taller packed weight, the last panel holding the rest (assembly GEMM_PANEL). */
export const PACK_PANEL = 768;

/** Floats a packed weight of op(B) (K,N) takes: ceil(N/8) slivers of (K, 8), in panels of K. */
export function packedWeightSize(n: number, k: number): number {
  return Math.ceil(n / PACK_NR) * PACK_NR * k;
}

/** Rows of K per panel of a packed weight of height K (the last panel may hold fewer). */
export function packedPanelRows(k: number): number {
  return k <= PACK_PANEL_MAX ? k : PACK_PANEL;
}

/**
 * Where element (p, j) of op(B) (K,N) lies in its packed weight: in the panel of rows from p0
 * (panels of PACK_PANEL rows when K > PACK_PANEL_MAX, else one), h rows tall, sliver j/8 of that
 * panel, row p − p0 of the sliver, lane j mod 8.
 */
export function packedIndex(p: number, j: number, n: number, k: number): number {
  const rows = packedPanelRows(k);
  const p0 = p - (p % rows), h = Math.min(rows, k - p0);
  return p0 * Math.ceil(n / PACK_NR) * PACK_NR + Math.floor(j / PACK_NR) * PACK_NR * h + (p - p0) * PACK_NR + (j % PACK_NR);
}
