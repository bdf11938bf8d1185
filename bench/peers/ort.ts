// ONNX Runtime Web 1.30 (wasm backend, SIMD, 1 or 2 threads) as a benchmark peer. Each call
// spawns ort-child.ts in a fresh `node --experimental-wasm-relaxed-simd --import tsx` process,
// because ORT's thread count is fixed per process; the child times `session.run` (copies of
// inputs into and outputs out of the wasm heap included) and reports JSON. Importing does nothing.
import { runChild, type Shape } from './lib.js';
import type { OrtGpt2Result, OrtMatmulRow, OrtRequest } from './ort-child.js';

const child = new URL('./ort-child.ts', import.meta.url);

/** The shapes the GEMM comparison uses. */
export const MATMUL_SHAPES: Shape[] = [
  { m: 512, k: 512, n: 512 }, { m: 512, k: 768, n: 3072 }, { m: 64, k: 768, n: 768 }, { m: 1, k: 768, n: 3072 },
];

/**
 * GFLOP/s (2·M·N·K / s, median `session.run` after warm-up) of an ONNX model with one MatMul,
 * Y (M, N) = A (M, K) · B (K, N): B is an initializer (a weight ORT may pre-pack when the session
 * is created), A the input fed on every run. Also returns calls timed and process CPU time per
 * wall time over them (≈ threads when every thread is busy).
 *
 *   const rows = await ortMatmulGflops(MATMUL_SHAPES, 2, 1000);
 */
export async function ortMatmulGflops(shapes: Shape[], threads: 1 | 2, budgetMs: number): Promise<OrtMatmulRow[]> {
  const req: OrtRequest = { task: 'matmul', threads, shapes, budgetMs };
  return runChild<OrtMatmulRow[]>(child, req);
}

/**
 * A GPT-2-small-shaped decoder (124M random f32 weights; gpt2-onnx.ts) in ORT: session creation
 * time; prefill tokens/s (promptTokens / seconds of one run returning all prompt logits and the
 * KV cache); decode tokens/s (1 / seconds of one run with a new token and a cache of
 * promptTokens, returning its logits and the cache of promptTokens + 1). The budget is split
 * between the two; prefill times at least 3 runs (~2 s each on this VM), decode at least
 * `decodeTokens` steps. Building the 0.5 GB model also takes a few seconds (`buildMs`).
 *
 *   const r = await ortGpt2({ threads: 1, promptTokens: 128, decodeTokens: 16, budgetMs: 4000 });
 */
export async function ortGpt2(opts: { threads: 1 | 2; promptTokens: 128; decodeTokens: number; budgetMs: number }): Promise<OrtGpt2Result> {
  const req: OrtRequest = { task: 'gpt2', ...opts };
  return runChild<OrtGpt2Result>(child, req);
}

export type { OrtGpt2Result, OrtMatmulRow };
