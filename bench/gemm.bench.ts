// GEMM throughput (GFLOP/s = 2·M·N·K / s) of each wasm build at 1 and 2 threads, the plain-JS
// twin, and, on the headline shapes, TensorFlow.js wasm and ONNX Runtime Web at 1 and 2 threads
// (bench/peers, each in a child process), all timed case by case, back to back. M = 1 (decode)
// cases also report the bytes of B streamed per second. Executed directly it prints the rows:
//   node --experimental-wasm-relaxed-simd --import tsx bench/gemm.bench.ts [case filter]
// (the flag is needed on Node 20 for the relaxed build; BENCH_QUICK=1 shortens every budget).
import { pathToFileURL } from 'node:url';
import { ORT_NAME, QUICK, TFJS_NAME, budget, settle, threadsImpl, type BenchRow } from './lib.js';
import { timeCalls } from './peers/lib.js';
import { ortMatmulGflops } from './peers/ort.js';
import { tfjsMatmulGflops } from './peers/tfjs.js';
import { createRuntime, matmul, type Runtime, type Tensor } from '../src/index.js';
import { Tracked } from '../src/tensor.js';
import { packedWeight, matmulPacked } from '../src/ops/packed.js';
import { gemmF32, GEMM_TRANS_A, GEMM_TRANS_B } from '../src/ref/gemm.js';

const SUITE = 'gemm';

/** Our builds, each at these thread counts (threads > 1 loads the shared-memory build). */
export const ISAS = ['simd', 'relaxed'] as const;
export const THREADS = [1, 2] as const;

/** packed: B is a packed weight (src/ops/packed.ts), as inference reads model weights; ours only. */
export interface Case { m: number; k: number; n: number; flags: number; headline?: boolean; packed?: boolean }
export const FORM_NAME: Record<number, string> = { 0: 'A·B', [GEMM_TRANS_B]: 'A·Bᵀ', [GEMM_TRANS_A]: 'Aᵀ·B' };
const H = true;

/** The shapes (headline: timed against the peers too), then sizes and small-M cases of ours and the JS twin only. */
export const CASES: Case[] = [
  ...[0, GEMM_TRANS_B, GEMM_TRANS_A].map((flags) => ({ m: 512, k: 512, n: 512, flags, headline: H })),
  ...[0, GEMM_TRANS_B, GEMM_TRANS_A].map((flags) => ({ m: 512, k: 768, n: 3072, flags, headline: H })),
  { m: 64, k: 768, n: 768, flags: 0, headline: H },
  { m: 1, k: 768, n: 3072, flags: 0, headline: H },
  { m: 1, k: 768, n: 3072, flags: GEMM_TRANS_B, headline: H },
  { m: 1, k: 768, n: 50257, flags: GEMM_TRANS_B, headline: H }, // GPT-2's tied LM head, one decode step
  ...[64, 128, 256, 1024].map((s) => ({ m: s, k: s, n: s, flags: 0 })),
  { m: 512, k: 128, n: 512, flags: 0 },
  ...[4, 8, 16].flatMap((m) => [{ m, k: 768, n: 3072, flags: 0 }, { m, k: 768, n: 3072, flags: GEMM_TRANS_B }]),
  // the decode shapes on packed weights (what a model without gradients reads)
  { m: 1, k: 768, n: 3072, flags: 0, packed: true },
  { m: 1, k: 768, n: 3072, flags: GEMM_TRANS_B, packed: true },
  { m: 1, k: 768, n: 50257, flags: GEMM_TRANS_B, packed: true },
  { m: 16, k: 768, n: 3072, flags: 0, packed: true },
];

export const caseName = (c: Case) => `${c.m}x${c.k}x${c.n} ${FORM_NAME[c.flags]}${c.packed ? ' packed' : ''}`;
const flops = (c: Case) => 2 * c.m * c.n * c.k;
/** Timing budget per implementation and case (a quarter of it is warm-up, as in bench/peers). */
const budgetMs = (c: Case) => budget(flops(c) > 1e9 ? 800 : 400, 80);
/** Metric of the M = 1 rows: bytes of B (K·N f32) read per second. */
export const STREAM = 'B streamed';

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

/** One of our runtimes and its row name. */
interface Ours { rt: Runtime; impl: string; isa: string; threads: number }

/** Seconds per `matmul` (src/ops: checks, then the kernel, split across the runtime's threads) and CPU time per wall time. */
async function timeOurs(o: Ours, c: Case, a: Float32Array, b: Float32Array) {
  const { rt } = o;
  const { lda, ldb } = dims(c);
  rt.step.reset();
  const ta: Tensor = rt.tensor(a, [a.length / lda, lda], { arena: 'step' });
  const tb: Tensor = rt.tensor(b, [b.length / ldb, ldb], { arena: 'step' });
  const out = rt.empty([c.m, c.n], { arena: 'step' });
  const opts = { transA: (c.flags & GEMM_TRANS_A) !== 0, transB: (c.flags & GEMM_TRANS_B) !== 0, out };
  try {
    if (c.packed) {   // B as model weights: tracked memory, packed once (not timed), then read by every call
      const pw = packedWeight(rt, tb.track(new Tracked()), opts.transB)!;
      return await timeCalls(() => { matmulPacked(rt, ta, pw, null, out); }, budgetMs(c), 3, 5);
    }
    return await timeCalls(() => { matmul(rt, ta, tb, opts); }, budgetMs(c), 3, 5);
  } finally {
    rt.step.reset();
  }
}

/** JS twin budget: ~0.1–1 GFLOP/s, so bigger cases are timed on their first rows only. */
const JS_FLOPS = QUICK ? 1e7 : 3e7;

/** The JS twin has no blocking, so the cost of a row of C does not depend on M: cases above
 *  JS_FLOPS are timed on their first rows (best of two calls) and reported per flop. */
function timeJs(c: Case, a: Float32Array, b: Float32Array): number {
  const rows = Math.max(1, Math.min(c.m, Math.floor(c.m * JS_FLOPS / flops(c))));
  const sub = { ...c, m: rows };
  const { lda, ldb, ldc } = dims(c);
  const out = new Float32Array(rows * c.n);
  const call = () => gemmF32(out, a, b, null, rows, c.n, c.k, lda, ldb, ldc, c.flags, 1, 0);
  let best = Infinity;
  for (let t = 0; t < 2; t++) {
    const t0 = performance.now();
    call();
    best = Math.min(best, (performance.now() - t0) / 1000);
  }
  return best * flops(c) / flops(sub);
}

/**
 * Runs the GEMM paths once per runtime before any timing: V8 starts wasm functions in its
 * baseline tier, separately in every worker, and a call already running never switches to the
 * optimised code. A few dozen calls of each path (packed, and the small-M streaming one), then a
 * pause for the background compiler, keep the first case timed from being the slow one.
 */
async function warmUp(o: Ours): Promise<void> {
  const { rt } = o;
  rt.step.reset();
  for (const [m, k, n] of [[256, 256, 256], [1, 768, 768], [8, 256, 256]] as const) {
    const a = rt.randn([m, k], { arena: 'step', seed: 1 }), b = rt.randn([k, n], { arena: 'step', seed: 2 });
    const bt = rt.randn([n, k], { arena: 'step', seed: 3 }), at = rt.randn([k, m], { arena: 'step', seed: 4 });
    const out = rt.empty([m, n], { arena: 'step' });
    for (let i = 0; i < 40; i++) {
      matmul(rt, a, b, { out });
      matmul(rt, a, bt, { transB: true, out });
      matmul(rt, at, b, { transA: true, out });
    }
  }
  rt.step.reset();
  await settle();
  await settle();
}

/** Our runtimes: each build at each thread count (a build this JavaScript runtime cannot load gives no rows). */
async function ourRuntimes(): Promise<Ours[]> {
  const out: Ours[] = [];
  for (const isa of ISAS) {
    for (const threads of THREADS) {
      try {
        const rt = await createRuntime({ variant: isa, threads, onThreadsUnavailable: 'error' });
        const o = { rt, impl: threadsImpl(isa, threads), isa, threads };
        await warmUp(o);
        out.push(o);
      } catch { /* not available here */ }
    }
  }
  return out;
}

/**
 * Rows per case: GFLOP/s of the JS twin, of each build at 1 and 2 threads (with CPU time per
 * wall time: ≈ threads when all of them work), speedup of each one-thread build over JS, and on
 * headline cases the peers at 1 and 2 threads; for M = 1 also GB/s of B streamed.
 */
export async function run(filter = '', opts: { peers?: boolean } = {}): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const row = (c: string, impl: string, metric: string, value: number, unit: string) => rows.push({ suite: SUITE, case: c, impl, metric, value, unit });
  const ours = await ourRuntimes();
  try {
    for (const c of CASES.filter((c) => caseName(c).includes(filter))) {
      const name = caseName(c);
      const gflops = (s: number) => flops(c) / s / 1e9;
      const result = (impl: string, seconds: number, cpuPerWall?: number) => {
        row(name, impl, 'gflops', gflops(seconds), 'GFLOP/s');
        if (cpuPerWall !== undefined) row(name, impl, 'cpu/wall', cpuPerWall, 'x');
        if (c.m === 1 && impl !== 'js') row(name, impl, STREAM, (4 * c.k * c.n) / seconds / 1e9, 'GB/s');
      };
      const a = randomArray(c.m * c.k), b = randomArray(c.k * c.n);

      const js = timeJs(c, a, b);
      result('js', js);
      for (const o of ours) {
        await settle(); // an idle pool worker spins 0.2 ms before it sleeps: let the last one sleep
        const t = await timeOurs(o, c, a, b);
        result(o.impl, t.seconds, t.cpuPerWall);
        if (o.threads === 1) row(name, o.impl, 'speedup', js / t.seconds, 'x');
      }
      if (!c.headline || opts.peers === false) continue;
      // The peers, right after ours, on the same case, each in a child process at 1 and 2 threads.
      const shape = { m: c.m, k: c.k, n: c.n, transA: (c.flags & GEMM_TRANS_A) !== 0, transB: (c.flags & GEMM_TRANS_B) !== 0 };
      for (const threads of THREADS) {
        for (const [peer, time] of [[TFJS_NAME, tfjsMatmulGflops], [ORT_NAME, ortMatmulGflops]] as const) {
          try {
            const [r] = await time([shape], threads, budgetMs(c));
            result(threadsImpl(peer, threads), flops(c) / (r!.gflops * 1e9), r!.cpuPerWall);
          } catch (err) {
            console.error(`gemm: ${peer} at ${threads} thread(s) failed on ${name}: ${(err as Error).message.slice(0, 500)}`);
          }
        }
      }
    }
  } finally {
    for (const o of ours) o.rt.dispose();
  }
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const rows = await run(process.argv[2] ?? '', { peers: process.argv[3] !== 'no-peers' });
  const table = new Map<string, Record<string, string>>();
  for (const r of rows) {
    if (r.metric !== 'gflops' && r.metric !== STREAM) continue;
    const key = r.metric === STREAM ? `${r.case} (B GB/s)` : r.case;
    const line = table.get(key) ?? {};
    line[r.impl] = r.value.toFixed(1);
    table.set(key, line);
  }
  console.log('GFLOP/s (and for M = 1, GB/s of B streamed), 1 and 2 threads');
  console.table(Object.fromEntries(table));
}
