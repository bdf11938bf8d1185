// TensorFlow.js 4.22 wasm backend (XNNPACK) as a benchmark peer: 1 thread (the simd build Node
// gets by default) or 2 threads (the threaded-simd build, which needs the start-up steps in
// tfjs-child.ts). Each call spawns tfjs-child.ts in a fresh `node --import tsx` process, as
// tfjs's thread pool is fixed when the backend starts. Importing does nothing.
import { runChild } from './lib.js';
import type { TfjsMatmulRow, TfjsRequest, TfjsShape } from './tfjs-child.js';

const child = new URL('./tfjs-child.ts', import.meta.url);

/** The GEMM comparison's shapes, plus A·Bᵀ at 512×768×3072 (tfjs's transposed path). */
export const TFJS_MATMUL_SHAPES: TfjsShape[] = [
  { m: 512, k: 512, n: 512 }, { m: 512, k: 768, n: 3072 }, { m: 512, k: 768, n: 3072, transB: true },
  { m: 64, k: 768, n: 768 }, { m: 1, k: 768, n: 3072 },
];

/**
 * GFLOP/s (2·M·N·K / s, median after warm-up) of `tf.matMul(a, b, false, transB)` on 2-D tensors
 * already in wasm memory (the result tensor is allocated and disposed each call). Each row also
 * carries `threadsCount` (tfjs's getThreadsCount()), the build used, the number of timed calls and
 * process CPU time per wall time over them (≈ 2 when both threads are busy).
 *
 *   const rows = await tfjsMatmulGflops(TFJS_MATMUL_SHAPES, 2, 1000);
 */
export async function tfjsMatmulGflops(shapes: TfjsShape[], threads: 1 | 2, budgetMs: number): Promise<TfjsMatmulRow[]> {
  const req: TfjsRequest = { threads, shapes, budgetMs };
  return runChild<TfjsMatmulRow[]>(child, req);
}

export type { TfjsMatmulRow, TfjsShape };
