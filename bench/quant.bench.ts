// Decode-time products on quantized weights (src/ops/quant.ts) against the f32 packed path
// (src/ops/packed.ts), GPT-2-small shapes at M = 1 (one token) and M = 4, each format at 1 and
// 2 threads: GB/s of weight bytes read and the speed-up over f32 in the same runtime and run.
// Weights are streamed from memory as in a model's decode: each case cycles through enough
// copies of its weight that the f32 copies hold ≥ 512 MiB (GPT-2 small's packed f32 weights are
// 497 MB), every format the same number of copies. The memory read bandwidth of this run
// (bench/bandwidth.ts, 1 and 2 threads) is the bound to compare with. Also: the time to make
// each format from a 768×3072 f32 weight. Executed directly it prints a table:
//   node --experimental-wasm-relaxed-simd --import tsx bench/quant.bench.ts [case filter] [variant]
import { pathToFileURL } from 'node:url';
import { budget, settle, threadsImpl, type BenchRow } from './lib.js';
import { timeCalls } from './peers/lib.js';
import { readBandwidth } from './bandwidth.js';
import { createRuntime, type Runtime, type Tensor } from '../src/index.js';
import { Tracked } from '../src/tensor.js';
import { packedWeight, matmulPacked, type PackedWeight } from '../src/ops/packed.js';
import { quantizeWeight, matmulQuantized, type QuantizedWeight, type QuantDType } from '../src/ops/quant.js';

const SUITE = 'quant';
export const THREADS = [1, 2] as const;
const FORMATS = ['f32', 'int8', 'f16', 'bf16'] as const;
type Format = (typeof FORMATS)[number];
/** f32 bytes every case streams through (per pass over its copies). */
const STREAM_BYTES = 512 << 20;

/** A weight as GPT-2 small stores it: (K,N) used as x·W (Conv1D), or (N,K) used as x·Wᵀ (the tied head). */
interface Case { name: string; k: number; n: number; transB: boolean; m: number }
const SHAPES = [
  { name: 'c_attn 768×2304', k: 768, n: 2304, transB: false },
  { name: 'attn c_proj 768×768', k: 768, n: 768, transB: false },
  { name: 'c_fc 768×3072', k: 768, n: 3072, transB: false },
  { name: 'mlp c_proj 3072×768', k: 3072, n: 768, transB: false },
  { name: 'lm_head 50257×768ᵀ', k: 768, n: 50257, transB: true },
];
export const CASES: Case[] = [1, 4].flatMap((m) => SHAPES.map((s) => ({ ...s, m })));
const caseName = (c: Case) => `M=${c.m} ${c.name}`;

/** Deterministic N(0, 0.02²) weights (GPT-2's initialisation scale: f16 meets its subnormals as real weights do). */
function weights(size: number, seed: number): Float32Array {
  const out = new Float32Array(size);
  let s = seed >>> 0 || 1;
  const u = () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return (s + 0.5) / 4294967296; };
  for (let i = 0; i < size; i += 2) {
    const r = Math.sqrt(-2 * Math.log(u())) * 0.02, t = 2 * Math.PI * u();
    out[i] = r * Math.cos(t);
    if (i + 1 < size) out[i + 1] = r * Math.sin(t);
  }
  return out;
}

/** Bytes of weight one product reads in `format` (packed sizes: slivers of 8 columns, K even, the int8 scales). */
function weightBytes(format: Format, k: number, n: number): number {
  const n8 = Math.ceil(n / 8) * 8, kp = k + (k & 1);
  if (format === 'f32') return 4 * n8 * k;
  return format === 'int8' ? n8 * kp + 4 * n8 : 2 * n8 * kp;
}

/** The copies of one case's weight in one format, and a product on copy i. */
interface Copies { call(i: number): void; free(): void }

function makeCopies(rt: Runtime, format: Format, w: Tensor, c: Case, x: Tensor, out: Tensor, copies: number): Copies {
  if (format === 'f32') {
    const pws: PackedWeight[] = [];
    for (let i = 0; i < copies; i++) pws.push(packedWeight(rt, w.track(new Tracked()), c.transB)!);
    return { call: (i) => { matmulPacked(rt, x, pws[i % copies]!, null, out); }, free: () => pws.forEach((p) => rt.free(p.tensor)) };
  }
  const qws: QuantizedWeight[] = [];
  for (let i = 0; i < copies; i++) qws.push(quantizeWeight(rt, w, { dtype: format as QuantDType, transB: c.transB }));
  return { call: (i) => { matmulQuantized(rt, x, qws[i % copies]!, null, out); }, free: () => qws.forEach((q) => q.dispose()) };
}

/** ms to make each format from a 768×3072 f32 weight (one copy; f32 = the packed copy of inference). */
async function packTimes(rt: Runtime, row: (c: string, metric: string, value: number, unit: string) => void): Promise<void> {
  const w = rt.tensor(weights(768 * 3072, 7), [768, 3072]);
  for (const format of FORMATS) {
    const times: number[] = [];
    for (let r = 0; r < 5; r++) {
      const t0 = performance.now();
      const made = makeCopies(rt, format, w, { name: '', k: 768, n: 3072, transB: false, m: 1 }, w, w, 1);
      times.push(performance.now() - t0);
      made.free();
    }
    row(`make 768×3072 ${format}`, 'ms', Math.min(...times), 'ms');
  }
  rt.free(w);
}

/**
 * Rows: per runtime (variant at 1 and 2 threads) and case, GB/s of weight read per format and the
 * speed-up of each format over f32; the memory read bandwidth of 1 and 2 threads; pack times.
 */
export async function run(filter = '', variant: 'relaxed' | 'simd' = 'relaxed'): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const bw = await readBandwidth();
  rows.push({ suite: SUITE, case: 'read bandwidth', impl: 'memory', metric: 'GB/s', value: bw.one, unit: 'GB/s' });
  rows.push({ suite: SUITE, case: 'read bandwidth', impl: 'memory 2t', metric: 'GB/s', value: bw.two, unit: 'GB/s' });
  for (const threads of THREADS) {
    let rt: Runtime;
    try {
      rt = await createRuntime({ variant, threads, onThreadsUnavailable: 'error', memory: { initialBytes: 64 << 20 } });
    } catch { continue; }
    const impl = threadsImpl(variant, threads);
    const row = (c: string, metric: string, value: number, unit: string, format = '') =>
      rows.push({ suite: SUITE, case: c, impl: format ? `${impl} ${format}` : impl, metric, value, unit });
    try {
      if (!filter || 'make'.includes(filter)) await packTimes(rt, (c, m, v, u) => row(c, m, v, u));
      for (const c of CASES.filter((c) => caseName(c).includes(filter))) {
        const copies = Math.max(1, Math.ceil(STREAM_BYTES / weightBytes('f32', c.k, c.n)));
        const w = rt.tensor(weights(c.k * c.n, c.k + c.n), c.transB ? [c.n, c.k] : [c.k, c.n]);
        const x = rt.randn([c.m, c.k], { seed: 3 }), out = rt.empty([c.m, c.n]);
        const seconds: Partial<Record<Format, number>> = {};
        for (const format of FORMATS) {
          const made = makeCopies(rt, format, w, c, x, out, copies);
          await settle();
          let i = 0;
          const t = await timeCalls(() => made.call(i++), budget(1200, 200), 2 * copies, 5);
          made.free();
          seconds[format] = t.seconds;
          row(caseName(c), 'weight GB/s', weightBytes(format, c.k, c.n) / t.seconds / 1e9, 'GB/s', format);
          row(caseName(c), 'µs', t.seconds * 1e6, 'µs', format);
          if (format !== 'f32') row(caseName(c), 'speed-up over f32', seconds.f32! / t.seconds, 'x', format);
        }
        rt.free(w); rt.free(x); rt.free(out);
      }
    } finally {
      rt.dispose();
    }
  }
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const variant = (process.argv[3] ?? 'relaxed') as 'relaxed' | 'simd';
  const rows = await run(process.argv[2] ?? '', variant);
  for (const r of rows.filter((r) => r.case === 'read bandwidth' || r.case.startsWith('make'))) console.log(`${r.case} ${r.impl}: ${r.value.toFixed(1)} ${r.unit}`);
  const table = new Map<string, Record<string, string>>();
  for (const r of rows) {
    if (r.metric !== 'weight GB/s' && r.metric !== 'speed-up over f32') continue;
    const [threads, format] = [r.impl.split(' ').slice(0, -1).join(' '), r.impl.split(' ').at(-1)!];
    const key = `${r.case} ${threads}`;
    const line = table.get(key) ?? {};
    line[format] = (line[format] ?? '') + (r.metric === 'weight GB/s' ? `${r.value.toFixed(1)} GB/s` : ` ${r.value.toFixed(2)}×`);
    table.set(key, line);
  }
  console.log(`GB/s of weight read and speed-up over f32 (${variant})`);
  console.table(Object.fromEntries(table));
}
