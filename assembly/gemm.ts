// CONTRACT (to be implemented):
// C (M,N; row stride ldc) = alpha * op(A) (M,K) · op(B) (K,N) + beta * C + bias (N, broadcast over rows; 0 = none)
// Row-major. flags bit 0: A is stored transposed, (K,M) with row stride lda; bit 1: B stored transposed, (N,K) with row stride ldb.
// beta == 0 means C is not read (so NaN/garbage in C does not propagate).
// work: scratch of gemm_workspace_bytes() bytes, 64-byte aligned, for packed panels.
export function gemm_f32(c: usize, a: usize, b: usize, bias: usize, m: i32, n: i32, k: i32,
  lda: i32, ldb: i32, ldc: i32, flags: i32, alpha: f32, beta: f32, work: usize): void {}
// The same for `batch` independent products; strides in elements between consecutive A, B, C (bias shared).
export function gemm_batched_f32(c: usize, a: usize, b: usize, bias: usize, m: i32, n: i32, k: i32,
  lda: i32, ldb: i32, ldc: i32, flags: i32, alpha: f32, beta: f32, work: usize,
  batch: i32, strideA: i32, strideB: i32, strideC: i32): void {}
export function gemm_workspace_bytes(): usize { return 0; }
