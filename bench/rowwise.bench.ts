// Benchmarks of the row-wise and elementwise kernels (softmax, layernorm, activations, flat
// elementwise ops), forward and backward, on each wasm build (one thread; relaxed also on 2,
// where calls big enough are split) and the plain-JS twin. Reports GB/s (bytes read + written
// per call / seconds per call) and the speedup over the twin.
// Run: node --experimental-wasm-relaxed-simd --import tsx bench/rowwise.bench.ts [case filter]
// (the flag is required on Node 20 for the relaxed build).
import { pathToFileURL } from 'node:url';
import { budget, secondsPerCall, threadsImpl, type BenchRow } from './lib';
import { createRuntime, type Runtime } from '../src/index';
import { softmaxForward, softmaxBackward } from '../src/ref/softmax';
import { layernormForward, layernormBackward } from '../src/ref/layernorm';
import { geluForward, geluBackward, reluForward, reluBackward } from '../src/ref/activation';
import { addF32, mulF32, scaleF32, axpyF32, fillF32, copyF32, colsumF32 } from '../src/ref/elementwise';

type K = Record<string, (...args: number[]) => number>;

/** A runtime's kernels called on raw pointers from its step arena, as src/ops calls them. */
interface Harness { impl: string; rt: Runtime; k: K; alloc(n: number, init?: ArrayLike<number>): number; reset(): void }

/** Builds and thread counts measured (threads > 1 loads the shared-memory build and splits big calls). */
const WASM = [['simd', 1], ['relaxed', 1], ['relaxed', 2]] as const;

async function harnesses(): Promise<Harness[]> {
  const out: Harness[] = [];
  for (const [variant, threads] of WASM) {
    let rt: Runtime;
    try {
      rt = await createRuntime({ variant, threads, onThreadsUnavailable: 'error' });
    } catch {
      continue; // not available in this JavaScript runtime: no rows
    }
    out.push({
      impl: threadsImpl(variant, threads), rt, k: rt.kernels as unknown as K,
      alloc(n, init) {
        const ptr = rt.step.alloc(n * 4);
        if (init) rt.heap.f32.set(init, ptr >>> 2);
        return ptr;
      },
      reset: () => rt.step.reset(),
    });
  }
  return out;
}
/** One benchmark case: buffer lengths, bytes moved per call, and the same call for wasm and JS. */
interface Case {
  name: string;
  sizes: number[];
  bytes: number;
  wasm: (k: K, p: number[]) => void;
  js: (a: Float32Array[]) => void;
}

function cases(): Case[] {
  const out: Case[] = [];
  const R = 512;
  // softmax: (rows, cols, block, causal)
  for (const [rows, cols, block, causal, label] of [
    [R, 768, 768, 0, '512x768'], [R, 769, 769, 0, '512x769'],
    [4 * 4 * 64, 64, 64, 1, 'attn 4·4·64x64 causal'], [R, R, R, 1, 'attn 512x512 causal'],
  ] as const) {
    const n = rows * cols, s = 0.125;
    out.push({ name: `softmax_forward ${label}`, sizes: [n, n], bytes: 8 * n,
      wasm: (k, p) => k.softmax_forward!(p[0]!, p[1]!, rows, cols, block, s, causal),
      js: (a) => softmaxForward(a[0]!, a[1]!, rows, cols, block, s, causal) });
    out.push({ name: `softmax_backward ${label}`, sizes: [n, n, n], bytes: 16 * n,
      wasm: (k, p) => k.softmax_backward!(p[0]!, p[1]!, p[2]!, rows, cols, s),
      js: (a) => softmaxBackward(a[0]!, a[1]!, a[2]!, rows, cols, s) });
  }
  for (const c of [768, 769]) {
    const n = R * c, label = `${R}x${c}`;
    out.push({ name: `layernorm_forward ${label}`, sizes: [n, R, R, n, c, c], bytes: 8 * n + 8 * c + 8 * R,
      wasm: (k, p) => k.layernorm_forward!(p[0]!, p[1]!, p[2]!, p[3]!, p[4]!, p[5]!, R, c, 1e-5),
      js: (a) => layernormForward(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, R, c, 1e-5) });
    out.push({ name: `layernorm_backward ${label}`, sizes: [n, c, c, n, n, c, R, R], bytes: 16 * n + 20 * c + 8 * R,
      wasm: (k, p) => k.layernorm_backward!(p[0]!, p[1]!, p[2]!, p[3]!, p[4]!, p[5]!, p[6]!, p[7]!, R, c),
      js: (a) => layernormBackward(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!, a[7]!, R, c) });
    const acts = [['gelu', geluForward, geluBackward], ['relu', reluForward, reluBackward]] as const;
    for (const [act, fwd, bwd] of acts) {
      out.push({ name: `${act}_forward ${label}`, sizes: [n, n], bytes: 8 * n,
        wasm: (k, p) => k[`${act}_forward`]!(p[0]!, p[1]!, n), js: (a) => fwd(a[0]!, a[1]!, n) });
      out.push({ name: `${act}_backward ${label}`, sizes: [n, n, n], bytes: 16 * n,
        wasm: (k, p) => k[`${act}_backward`]!(p[0]!, p[1]!, p[2]!, n), js: (a) => bwd(a[0]!, a[1]!, a[2]!, n) });
    }
    out.push(
      { name: `add_f32 ${label}`, sizes: [n, n, n], bytes: 12 * n,
        wasm: (k, p) => k.add_f32!(p[0]!, p[1]!, p[2]!, n), js: (a) => addF32(a[0]!, a[1]!, a[2]!, n) },
      { name: `mul_f32 ${label}`, sizes: [n, n, n], bytes: 12 * n,
        wasm: (k, p) => k.mul_f32!(p[0]!, p[1]!, p[2]!, n), js: (a) => mulF32(a[0]!, a[1]!, a[2]!, n) },
      { name: `scale_f32 ${label}`, sizes: [n, n], bytes: 8 * n,
        wasm: (k, p) => k.scale_f32!(p[0]!, p[1]!, 0.5, n), js: (a) => scaleF32(a[0]!, a[1]!, 0.5, n) },
      { name: `axpy_f32 ${label}`, sizes: [n, n], bytes: 12 * n,
        wasm: (k, p) => k.axpy_f32!(p[0]!, p[1]!, 1e-3, n), js: (a) => axpyF32(a[0]!, a[1]!, 1e-3, n) },
      { name: `fill_f32 ${label}`, sizes: [n], bytes: 4 * n,
        wasm: (k, p) => k.fill_f32!(p[0]!, 0, n), js: (a) => fillF32(a[0]!, 0, n) },
      { name: `copy_f32 ${label}`, sizes: [n, n], bytes: 8 * n,
        wasm: (k, p) => k.copy_f32!(p[0]!, p[1]!, n), js: (a) => copyF32(a[0]!, a[1]!, n) },
      { name: `colsum_f32 ${label}`, sizes: [c, n], bytes: 4 * n + 8 * c,
        wasm: (k, p) => k.colsum_f32!(p[0]!, p[1]!, R, c, c), js: (a) => colsumF32(a[0]!, a[1]!, R, c) },
    );
  }
  return out;
}

/** Unit-scale data in (0, 1]: positive (valid rstd, softmax outputs), no overflow when accumulated. */
function data(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; a[i] = (s >>> 8) / 16777216 + 1e-3; }
  return a;
}

/** Measures every case whose name contains `filter` (all by default), about 4·timeMs each. */
export async function run(timeMs = budget(250), filter = ''): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const hs = await harnesses();
  try {
    await measure(hs, rows, timeMs, filter);
  } finally {
    for (const h of hs) h.rt.dispose();
  }
  return rows;
}

async function measure(hs: Harness[], rows: BenchRow[], timeMs: number, filter: string): Promise<void> {
  for (const c of cases().filter((c) => c.name.includes(filter))) {
    const row = (impl: string, metric: string, value: number, unit: string) =>
      rows.push({ suite: 'rowwise', case: c.name, impl, metric, value, unit });
    const arrays = c.sizes.map((n, i) => data(n, i + 1));
    const tJs = await secondsPerCall(() => c.js(arrays), timeMs);
    row('js', 'gbps', c.bytes / tJs / 1e9, 'GB/s');
    for (const h of hs) {
      h.reset();
      const ptrs = c.sizes.map((n, i) => h.alloc(n, arrays[i]));
      const t = await secondsPerCall(() => c.wasm(h.k, ptrs), timeMs);
      row(h.impl, 'gbps', c.bytes / t / 1e9, 'GB/s');
      row(h.impl, 'speedup', tJs / t, 'x');
    }
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rows = await run(budget(250), process.argv[2] ?? '');   // optional argument: a case-name filter
  const impls = [...new Set(rows.map((r) => r.impl))];
  const byCase = new Map<string, Map<string, number>>();
  for (const r of rows) {
    const m = byCase.get(r.case) ?? new Map<string, number>();
    m.set(`${r.impl} ${r.metric}`, r.value);
    byCase.set(r.case, m);
  }
  console.log(['case'.padEnd(34), ...impls.map((i) => `${i} GB/s`.padStart(22)), ...impls.slice(1).map((i) => `${i} ×`.padStart(20))].join(''));
  for (const [name, m] of byCase) {
    const gb = impls.map((i) => (m.get(`${i} gbps`) ?? NaN).toFixed(2).padStart(22));
    const sp = impls.slice(1).map((i) => (m.get(`${i} speedup`) ?? NaN).toFixed(1).padStart(20));
    console.log([name.padEnd(34), ...gb, ...sp].join(''));
  }
}
