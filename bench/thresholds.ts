// Where splitting a kernel call across two threads starts to pay: times GEMMs and row-wise
// kernels of growing size on one thread and on two with every call split (limits set to 0),
// and prints the ratio. SPLIT_LIMITS in src/wasm/parallel.ts are taken from such a run:
//   node --experimental-wasm-relaxed-simd --import tsx bench/thresholds.ts
// Run on a quiet machine (check `uptime`): the crossover moves with the second core's load.
import { add, colsum, createRuntime, fill, gelu, layernorm, layernormBackward, matmul, type Runtime } from '../src/index.js';
import { setSplitLimits } from '../src/wasm/parallel.js';
import { secondsPerCall } from './lib.js';

type Case = { name: string; work: number; unit: string; setup(rt: Runtime): () => void };

const gemm = (s: number): Case => ({
  name: `gemm ${s}³`, work: 2 * s ** 3, unit: 'flop',
  setup(rt) {
    const a = rt.randn([s, s], { seed: 1 }), b = rt.randn([s, s], { seed: 2 }), out = rt.empty([s, s]);
    return () => void matmul(rt, a, b, { out });
  },
});
const rows = (kind: 'gelu' | 'layernorm', n: number, c = 256): Case => ({
  name: `${kind} ${n}×${c}`, work: 8 * n * c, unit: 'B',
  setup(rt) {
    const x = rt.randn([n, c], { seed: 3 }), out = rt.empty([n, c]), w = rt.randn([c], { seed: 4 }), b = rt.randn([c], { seed: 5 });
    return kind === 'gelu' ? () => void gelu(rt, x, { out }) : () => { rt.step.reset(); layernorm(rt, x, w, b, { out }); };
  },
});

// memory-bound kernels: little work per byte, so a second thread pays only on larger calls
const memory = (kind: 'add' | 'fill' | 'colsum' | 'layernorm backward', n: number, c = 512): Case => ({
  name: `${kind} ${n}×${c}`, work: (kind === 'fill' ? 4 : kind === 'add' ? 12 : kind === 'colsum' ? 4 : 20) * n * c, unit: 'B',
  setup(rt) {
    const x = rt.randn([n, c], { seed: 6 }), y = rt.randn([n, c], { seed: 7 }), out = rt.empty([n, c]), s = rt.zeros([c]);
    if (kind === 'add') return () => void add(rt, x, y, { out });
    if (kind === 'fill') return () => void fill(rt, out, 0);
    if (kind === 'colsum') return () => void colsum(rt, s, x);
    const w = rt.randn([c], { seed: 8 }), b = rt.zeros([c]), fwd = layernorm(rt, x, w, b);
    const dx = rt.zeros([n, c]), dw = rt.zeros([c]), db = rt.zeros([c]);
    return () => layernormBackward(rt, dx, dw, db, y, x, w, fwd.mean, fwd.rstd);
  },
});

const only = process.argv[2];
const cases = [...[16, 24, 32, 48, 64, 96, 128].map(gemm), ...[16, 64, 128, 256, 512, 1024].flatMap((n) => [rows('gelu', n), rows('layernorm', n)]),
  ...[128, 256, 768, 2048, 8192].flatMap((n) => (['add', 'fill', 'colsum', 'layernorm backward'] as const).map((k) => memory(k, n)))]
  .filter((c) => !only || c.name.startsWith(only));
const rts = [await createRuntime({ variant: 'relaxed', threads: 1 }), await createRuntime({ variant: 'relaxed', threads: 2 })];
setSplitLimits({ gemmMinFlops: 0, gemmTaskFlops: 0, rowwiseMinBytes: 0, rowwiseTaskBytes: 0 });
console.log('case                 work          1 thread µs   2 threads µs   speedup');
for (const c of cases) {
  const us = [];
  for (const rt of rts) {
    rt.step.reset();
    us.push(1e6 * (await secondsPerCall(c.setup(rt), 200)));
  }
  const work = c.work >= 1e6 ? `${(c.work / 1e6).toFixed(2)} M${c.unit}` : `${(c.work / 1e3).toFixed(1)} k${c.unit}`;
  console.log(`${c.name.padEnd(20)} ${work.padEnd(13)} ${us[0]!.toFixed(1).padStart(11)} ${us[1]!.toFixed(1).padStart(14)} ${(us[0]! / us[1]!).toFixed(2).padStart(9)}`);
}
for (const rt of rts) rt.dispose();
