// Two threads against one, GEMM only, every form: a quick check of the worker pool's scaling
// (the full run, bench/gemm.bench.ts, interleaves peers and takes minutes, so a busy minute on
// the shared host can hide the ratio). Run on a quiet machine (check `uptime`):
//   node --experimental-wasm-relaxed-simd --import tsx bench/scaling.ts [simd|relaxed]
import { createRuntime, matmul } from '../src/index.js';
import { median, settle } from './lib.js';

const variant = (process.argv[2] ?? 'relaxed') as 'simd' | 'relaxed';
const shapes: [number, number, number][] = [[512, 512, 512], [512, 768, 3072], [64, 768, 768]];
for (const [m, k, n] of shapes) {
  for (const form of ['A·B', 'A·Bᵀ', 'Aᵀ·B'] as const) {
    const gflops: number[] = [];
    for (const threads of [1, 2]) {
      const rt = await createRuntime({ variant, threads });
      const transA = form === 'Aᵀ·B', transB = form === 'A·Bᵀ';
      const a = transA ? rt.randn([k, m], { seed: 1 }) : rt.randn([m, k], { seed: 1 });
      const b = transB ? rt.randn([n, k], { seed: 2 }) : rt.randn([k, n], { seed: 2 });
      const opts = { transA, transB, out: rt.empty([m, n]) };
      for (let i = 0; i < 30; i++) matmul(rt, a, b, opts);
      await settle();
      const ms: number[] = [];
      for (let i = 0; i < 30; i++) {
        const t0 = performance.now();
        matmul(rt, a, b, opts);
        ms.push(performance.now() - t0);
      }
      gflops.push((2 * m * n * k) / median(ms) / 1e6);
      rt.dispose();
    }
    console.log(`${variant} ${m}×${k}×${n} ${form}: ${gflops[0]!.toFixed(1)} → ${gflops[1]!.toFixed(1)} GFLOP/s (${(gflops[1]! / gflops[0]!).toFixed(2)}×)`);
  }
}
