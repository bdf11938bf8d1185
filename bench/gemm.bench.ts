// GEMM throughput (GFLOP/s = 2·M·N·K / s) of each wasm build, single thread, against the plain-JS
// twin, for transformer-shaped cases. `run()` returns the rows; executed directly it prints them:
//   node --experimental-wasm-relaxed-simd --import tsx bench/gemm.bench.ts [case filter]
// (the flag is needed on Node 20 for the relaxed build; it must precede the first compile).
import { pathToFileURL } from 'node:url';
import { secondsPerCall, type BenchRow } from './lib.js';
import { harness, type Harness, type Variant } from '../test/helpers/harness.js';
import { gemmF32, GEMM_TRANS_A, GEMM_TRANS_B } from '../src/ref/gemm.js';
import { TFJS, tfjsMatmulSeconds } from './peers.bench.js';

const SUITE = 'gemm';
const WASM: Variant[] = ['simd', 'relaxed', 'threads'];

interface Case { m: number; k: number; n: number; flags: number }
const FORM_NAME: Record<number, string> = { 0: 'A·B', [GEMM_TRANS_B]: 'A·Bᵀ', [GEMM_TRANS_A]: 'Aᵀ·B' };

const CASES: Case[] = [
  ...[64, 128, 256, 512, 1024].map((s) => ({ m: s, k: s, n: s, flags: 0 })),
  { m: 512, k: 128, n: 512, flags: 0 },
  { m: 512, k: 768, n: 3072, flags: 0 },
  { m: 64, k: 768, n: 768, flags: 0 },
  { m: 1, k: 768, n: 3072, flags: 0 },
  { m: 1, k: 768, n: 3072, flags: GEMM_TRANS_B },
  ...[4, 8, 16].flatMap((m) => [{ m, k: 768, n: 3072, flags: 0 }, { m, k: 768, n: 3072, flags: GEMM_TRANS_B }]),
  ...[GEMM_TRANS_B, GEMM_TRANS_A].flatMap((flags) => [
    { m: 512, k: 512, n: 512, flags },
    { m: 512, k: 768, n: 3072, flags },
  ]),
];

const caseName = (c: Case) => `${c.m}x${c.k}x${c.n} ${FORM_NAME[c.flags]}`;
const flops = (c: Case) => 2 * c.m * c.n * c.k;
/** Timing budget per implementation and case. */
const budgetMs = (c: Case) => (flops(c) > 1e9 ? 600 : 300);

/** Leading dimensions of the stored operands of a case (dense). */
function dims(c: Case) {
  const lda = c.flags & GEMM_TRANS_A ? c.m : c.k;
  const ldb = c.flags & GEMM_TRANS_B ? c.k : c.n;
  return { lda, ldb, ldc: c.n };
}

function randomArray(n: number): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = Math.random() * 2 - 1;
  return x;
}

async function timeWasm(h: Harness, c: Case): Promise<number> {
  const { lda, ldb, ldc } = dims(c);
  h.reset();
  const a = h.alloc(c.m * c.k, randomArray(c.m * c.k));
  const b = h.alloc(c.k * c.n, randomArray(c.k * c.n));
  const out = h.alloc(c.m * c.n);
  const work = h.alloc(h.k.gemm_workspace_bytes!() / 4);
  const gemm = h.k.gemm_f32!;
  return secondsPerCall(() => { gemm(out, a, b, 0, c.m, c.n, c.k, lda, ldb, ldc, c.flags, 1, 0, work); }, budgetMs(c));
}

/** JS twin budget: ~0.1–1 GFLOP/s, so bigger cases are timed on their first rows only. */
const JS_FLOPS = 3e7;

/** The JS twin has no blocking, so the cost of a row of C does not depend on M: cases above
 *  JS_FLOPS are timed on their first rows (best of two calls) and reported per flop. */
async function timeJs(c: Case): Promise<number> {
  const rows = Math.max(1, Math.min(c.m, Math.floor(c.m * JS_FLOPS / flops(c))));
  const sub = { ...c, m: rows };
  const { lda, ldb, ldc } = dims(c);
  const a = randomArray(c.m * c.k), b = randomArray(c.k * c.n), out = new Float32Array(rows * c.n);
  const call = () => gemmF32(out, a, b, null, rows, c.n, c.k, lda, ldb, ldc, c.flags, 1, 0);
  let best = Infinity;
  for (let t = 0; t < 2; t++) {
    const t0 = performance.now();
    call();
    best = Math.min(best, (performance.now() - t0) / 1000);
  }
  return best * flops(c) / flops(sub);
}

/** GFLOP/s of every wasm build and of the JS twin per case, plus the speedup of each build over JS. */
export async function run(filter = ''): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const harnesses = new Map<Variant, Harness>();
  for (const v of WASM) {
    try { harnesses.set(v, harness(v)); } catch { /* variant not valid on this runtime: no rows */ }
  }
  for (const c of CASES.filter((c) => caseName(c).includes(filter))) {
    const name = caseName(c);
    const gflops = (s: number) => flops(c) / s / 1e9;
    const js = gflops(await timeJs(c));
    rows.push({ suite: SUITE, case: name, impl: 'js', metric: 'gflops', value: js, unit: 'GFLOP/s' });
    for (const [v, h] of harnesses) {
      const w = gflops(await timeWasm(h, c));
      rows.push({ suite: SUITE, case: name, impl: v, metric: 'gflops', value: w, unit: 'GFLOP/s' });
      rows.push({ suite: SUITE, case: name, impl: v, metric: 'speedup', value: w / js, unit: 'x' });
    }
    // The peer, timed right after ours on the same case.
    const tf = gflops(await tfjsMatmulSeconds(c.m, c.k, c.n, (c.flags & GEMM_TRANS_A) !== 0, (c.flags & GEMM_TRANS_B) !== 0, budgetMs(c)));
    rows.push({ suite: SUITE, case: name, impl: TFJS, metric: 'gflops', value: tf, unit: 'GFLOP/s' });
  }
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const rows = await run(process.argv[2] ?? '');
  const table = new Map<string, Record<string, string>>();
  for (const r of rows) {
    const line = table.get(r.case) ?? {};
    line[r.metric === 'gflops' ? r.impl : `${r.impl} x`] = r.value.toFixed(r.metric === 'gflops' ? 1 : 0);
    table.set(r.case, line);
  }
  console.log(`GFLOP/s (single thread) and speedup over the JS twin`);
  console.table(Object.fromEntries(table));
}
