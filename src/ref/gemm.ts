// Plain-JS twin of assembly/gemm.ts: the oracle for its tests, the baseline for its benchmark
// and the fallback where a runtime has no wasm SIMD. Three loops, no cleverness; sums in f64.
// Same convention and argument order as the kernel (minus `work`); each array is a view that
// begins where the kernel's pointer would point:
//   C (M,N; row stride ldc) = alpha · op(A) (M,K) · op(B) (K,N) + beta · C + bias (N, broadcast over rows)

import { geluBackward, geluForward } from './activation.js';
import { GEMM_GELU, GEMM_GELU_GRAD, GEMM_TRANS_A, GEMM_TRANS_B, PACK_NR, packedIndex, packedPanelRows } from '../wasm/gemm-layout.js';

export { GEMM_GELU, GEMM_GELU_GRAD, GEMM_TRANS_A, GEMM_TRANS_B, PACK_NR, packedWeightSize } from '../wasm/gemm-layout.js';

/**
 * C = alpha·op(A)·op(B) + beta·C + bias, row-major. beta = 0 never reads C.
 * @example
 * // (2,3)·(3,2)
 * const c = new Float32Array(4);
 * gemmF32(c, new Float32Array([1, 2, 3, 4, 5, 6]), new Float32Array([1, 0, 0, 1, 1, 1]), null,
 *         2, 2, 3, 3, 2, 2, 0, 1, 0); // c = [4, 5, 10, 11]
 */
export function gemmF32(c: Float32Array, a: Float32Array, b: Float32Array, bias: Float32Array | null,
  m: number, n: number, k: number, lda: number, ldb: number, ldc: number, flags: number,
  alpha: number, beta: number): void {
  const transA = (flags & GEMM_TRANS_A) !== 0, transB = (flags & GEMM_TRANS_B) !== 0;
  const aRow = transA ? 1 : lda, aCol = transA ? lda : 1;   // element (i,p) of op(A) at i*aRow + p*aCol
  const bRow = transB ? 1 : ldb, bCol = transB ? ldb : 1;   // element (p,j) of op(B) at p*bRow + j*bCol
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let p = 0; p < k; p++) sum += a[i * aRow + p * aCol]! * b[p * bRow + j * bCol]!;
      let v = alpha * sum;
      if (beta !== 0) v += beta * c[i * ldc + j]!;
      if (bias) v += bias[j]!;
      c[i * ldc + j] = v;
    }
  }
}

/**
 * The block C[i0:i1, j0:j1] of gemmF32's product (the kernel's unit of work for a worker pool);
 * elements outside the block are left as they are.
 * @example
 * // the right column of (2,3)·(3,2)
 * const c = new Float32Array(4);
 * gemmBlockF32(c, new Float32Array([1, 2, 3, 4, 5, 6]), new Float32Array([1, 0, 0, 1, 1, 1]), null,
 *              2, 2, 3, 3, 2, 2, 0, 1, 0, 0, 2, 1, 2); // c = [0, 5, 0, 11]
 */
export function gemmBlockF32(c: Float32Array, a: Float32Array, b: Float32Array, bias: Float32Array | null,
  m: number, n: number, k: number, lda: number, ldb: number, ldc: number, flags: number,
  alpha: number, beta: number, i0: number, i1: number, j0: number, j1: number): void {
  if (i1 <= i0 || j1 <= j0) return;
  const transA = (flags & GEMM_TRANS_A) !== 0, transB = (flags & GEMM_TRANS_B) !== 0;
  gemmF32(c.subarray(i0 * ldc + j0), a.subarray(transA ? i0 : i0 * lda), b.subarray(transB ? j0 * ldb : j0),
    bias ? bias.subarray(j0) : null, Math.min(i1, m) - i0, Math.min(j1, n) - j0, k, lda, ldb, ldc, flags, alpha, beta);
}

/** Rows of B per chunk of the one-row A·B (assembly/gemm_ukernel.ts GEMV_KC; checked equal by the kernel test). */
export const GEMV_KC = 128;

/**
 * Row q of parts (chunks, ldp) = Σ over rows [q·GEMV_KC, min(k, (q+1)·GEMV_KC)) of a[p·as]·B[p,:],
 * n columns, for q ∈ [q0, q1): the pool's chunks of a one-row A·B.
 */
export function gemvChunksF32(parts: Float32Array, a: Float32Array, b: Float32Array,
  n: number, k: number, as: number, ldb: number, ldp: number, q0: number, q1: number): void {
  for (let q = q0; q < q1; q++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let p = q * GEMV_KC; p < Math.min(k, (q + 1) * GEMV_KC); p++) sum += a[p * as]! * b[p * ldb + j]!;
      parts[q * ldp + j] = sum;
    }
  }
}

/** c (n) = alpha·Σ_q parts[q,:] + beta·c + bias; row 0 of parts becomes the sum. */
export function gemvSumF32(c: Float32Array, parts: Float32Array, bias: Float32Array | null,
  n: number, chunks: number, ldp: number, alpha: number, beta: number): void {
  for (let j = 0; j < n; j++) {
    let total = 0;
    for (let q = 0; q < chunks; q++) total += parts[q * ldp + j]!;
    parts[j] = total;
    let v = alpha * total;
    if (beta !== 0) v += beta * c[j]!;
    if (bias) v += bias[j]!;
    c[j] = v;
  }
}

/**
 * `batch` independent products; A, B and C advance by strideA, strideB, strideC elements
 * (0 shares the operand across the batch), `outer` times, the groups outerA, outerB, outerC
 * apart (product (o, t) reads A at o·outerA + t·strideA); bias is shared.
 * @example
 * // two (1,2)·(2,1) products sharing B
 * const c = new Float32Array(2);
 * gemmBatchedF32(c, new Float32Array([1, 2, 3, 4]), new Float32Array([1, 1]), null,
 *                1, 1, 2, 2, 1, 1, 0, 1, 0, 2, 2, 0, 1); // c = [3, 7]
 */
export function gemmBatchedF32(c: Float32Array, a: Float32Array, b: Float32Array, bias: Float32Array | null,
  m: number, n: number, k: number, lda: number, ldb: number, ldc: number, flags: number,
  alpha: number, beta: number, batch: number, strideA: number, strideB: number, strideC: number,
  outer = 1, outerA = 0, outerB = 0, outerC = 0): void {
  for (let o = 0; o < outer; o++) {
    for (let t = 0; t < batch; t++) {
      gemmF32(c.subarray(o * outerC + t * strideC), a.subarray(o * outerA + t * strideA), b.subarray(o * outerB + t * strideB), bias,
        m, n, k, lda, ldb, ldc, flags, alpha, beta);
    }
  }
}


/**
 * Packs the slivers [s0, s1) of op(B) (K,N) (flags bit 1: B stored transposed (N,K)) into `dst`,
 * the whole packed weight: element (p, j) at `packedIndex(p, j, n, k)` (for K ≤ 1024 one panel:
 * ⌊j/8⌋·8K + 8p + j mod 8), columns past N zero.
 * @example
 * // B (2,3) → two slivers of (2, 8)
 * const dst = new Float32Array(packedWeightSize(3, 2));
 * packWeightF32(dst, new Float32Array([1, 2, 3, 4, 5, 6]), 3, 2, 3, 0, 0, 1); // dst[0..2] = [1, 2, 3], dst[8..10] = [4, 5, 6]
 */
export function packWeightF32(dst: Float32Array, b: Float32Array, n: number, k: number, ldb: number, flags: number, s0: number, s1: number): void {
  const transB = (flags & GEMM_TRANS_B) !== 0;
  const rows = packedPanelRows(k);
  for (let s = s0; s < Math.min(s1, Math.ceil(n / PACK_NR)); s++) {
    for (let p0 = 0; p0 < k; p0 += rows) {
      const at = packedIndex(p0, s * PACK_NR, n, k);   // the sliver's first row in this panel, rows PACK_NR apart
      for (let p = p0; p < Math.min(k, p0 + rows); p++) {
        for (let r = 0; r < PACK_NR; r++) {
          const j = s * PACK_NR + r;
          dst[at + (p - p0) * PACK_NR + r] = j < n ? b[transB ? j * ldb + p : p * ldb + j]! : 0;
        }
      }
    }
  }
}

/**
 * The block C[i0:i1, j0:j1] of C = alpha·op(A)·B + beta·C + bias with B a packed weight (packWeightF32);
 * flags bit 2 (GEMM_GELU): C = gelu(…) of the same values (geluBlock after the product).
 * @example
 * // (1,2)·(2,3) with B packed
 * const bp = new Float32Array(packedWeightSize(3, 2));
 * packWeightF32(bp, new Float32Array([1, 2, 3, 4, 5, 6]), 3, 2, 3, 0, 0, 1);
 * const c = new Float32Array(3);
 * gemmPackedF32(c, new Float32Array([1, 1]), bp, null, 1, 3, 2, 2, 3, 0, 1, 0, 0, 1, 0, 3); // c = [5, 7, 9]
 */
export function gemmPackedF32(c: Float32Array, a: Float32Array, bp: Float32Array, bias: Float32Array | null,
  m: number, n: number, k: number, lda: number, ldc: number, flags: number, alpha: number, beta: number,
  i0: number, i1: number, j0: number, j1: number): void {
  const transA = (flags & GEMM_TRANS_A) !== 0, rows = packedPanelRows(k);
  for (let i = i0; i < Math.min(i1, m); i++) {
    for (let j = j0; j < Math.min(j1, n); j++) {
      let sum = 0;
      for (let p0 = 0; p0 < k; p0 += rows) {
        const at = packedIndex(p0, j, n, k);             // column j's first row in this panel, rows PACK_NR apart
        for (let p = p0; p < Math.min(k, p0 + rows); p++) sum += a[transA ? p * lda + i : i * lda + p]! * bp[at + (p - p0) * PACK_NR]!;
      }
      let v = alpha * sum;
      if (beta !== 0) v += beta * c[i * ldc + j]!;
      if (bias) v += bias[j]!;
      c[i * ldc + j] = v;
    }
  }
  if (flags & GEMM_GELU) geluBlock(c, ldc, i0, Math.min(i1, m), j0, Math.min(j1, n));
}

/** c[i0:i1, j0:j1] (row stride ldc) ← gelu of itself: the fused products' GELU epilogue. */
export function geluBlock(c: Float32Array, ldc: number, i0: number, i1: number, j0: number, j1: number): void {
  for (let i = i0; i < i1; i++) {
    const row = c.subarray(i * ldc + j0, i * ldc + Math.max(j0, j1));
    geluForward(row, row, row.length);
  }
}

/**
 * GELU fused into the GEMM store, block C[i0:i1, j0:j1]: forward (flags bit 2 clear) pre =
 * op(A)·op(B) + bias and C = gelu(pre); backward (bit 2 set) C = (op(A)·op(B) + bias)·gelu'(pre).
 * pre has C's row stride.
 * @example
 * // (1,2)·(2,1) = 1, then gelu: pre = [1], c = [0.8412]
 * const c = new Float32Array(1), pre = new Float32Array(1);
 * gemmGeluF32(c, pre, new Float32Array([1, 0]), new Float32Array([1, 1]), null, 1, 1, 2, 2, 1, 1, 0, 0, 1, 0, 1);
 */
export function gemmGeluF32(c: Float32Array, pre: Float32Array, a: Float32Array, b: Float32Array, bias: Float32Array | null,
  m: number, n: number, k: number, lda: number, ldb: number, ldc: number, flags: number,
  i0: number, i1: number, j0: number, j1: number): void {
  gemmBlockF32(c, a, b, bias, m, n, k, lda, ldb, ldc, flags & 3, 1, 0, i0, i1, j0, j1);
  const one = new Float32Array(1);
  for (let i = i0; i < Math.min(i1, m); i++) {
    for (let j = j0; j < Math.min(j1, n); j++) {
      const e = i * ldc + j;
      if (flags & GEMM_GELU_GRAD) {
        one[0] = 0;
        geluBackward(one, c.subarray(e, e + 1), pre.subarray(e, e + 1), 1);
        c[e] = one[0]!;
      } else {
        pre[e] = c[e]!;
        geluForward(c.subarray(e, e + 1), pre.subarray(e, e + 1), 1);
      }
    }
  }
}
