// The GEMM kernels' flag bits and the packed-weight layout, as assembly/gemm.ts defines them:
// what the ops pass and what the plain-JS twins (src/ref/gemm.ts) read. Checked against the
// module's own constants by the kernel tests.

/** flags bit 0: A is stored transposed, (K,M) with row stride lda. */
export const GEMM_TRANS_A = 1;
/** flags bit 1: B is stored transposed, (N,K) with row stride ldb (the nn.Linear weight layout). */
export const GEMM_TRANS_B = 2;
/** flags bit 2 of gemm_gelu_f32: the backward epilogue. */
export const GEMM_GELU_GRAD = 4;

/** Columns per sliver of a packed weight (assembly GEMM_NR; checked equal by the kernel test). */
export const PACK_NR = 8;

/** Floats a packed weight of op(B) (K,N) takes: ceil(N/8) slivers of (K, 8). */
export function packedWeightSize(n: number, k: number): number {
  return Math.ceil(n / PACK_NR) * PACK_NR * k;
}
