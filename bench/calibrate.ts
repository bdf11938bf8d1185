// The machine's own limits, measured inside the benchmark run: the f32x4 arithmetic peak of one
// core and the memory read bandwidth of one and two threads (bench/bandwidth.ts). This machine
// is shared and its speed drifts by up to 2× over minutes, so kernel throughput is reported next
// to (and as a share of) the limits measured in the same run, not against numbers from elsewhere.
import { readBandwidth, BUFFER_MIB } from './bandwidth.js';
import { budget, compileAsc, settle, type BenchRow } from './lib.js';

type Loop = (iters: number, p: number) => number;

/**
 * The probe loops of bench/assembly/peak.ts, each with the flops one iteration does: a 12×1
 * shape (12 accumulators, one loaded vector and one broadcast each) and the 4×8 GEMM tile
 * (8 accumulators fed by 2 loaded vectors × 4 broadcast scalars). With mul+add every product
 * needs a temporary register besides the accumulators, and which shape V8's register allocator
 * keeps out of memory differs by version and ISA, so both are measured and the better one is
 * the peak of its kind.
 */
interface Probe { kind: 'mul+add' | 'relaxed fma'; shape: string; fn: Loop; flopsPerIter: number }
let probes: Promise<Probe[]> | undefined;

async function build(): Promise<Probe[]> {
  const module = await compileAsc('bench/assembly/peak.ts', ['--enable', 'simd', '--enable', 'relaxed-simd']);
  const env = { memory: new WebAssembly.Memory({ initial: 1 }), abort: () => { throw new Error('peak.wasm aborted'); } };
  const e = new WebAssembly.Instance(module, { env }).exports as Record<string, Loop>;
  new Float32Array(env.memory.buffer, 1024, 48).fill(1e-3); // operands at byte 1024
  return [
    { kind: 'mul+add', shape: '12×1', fn: e.peak_mul_add!, flopsPerIter: 12 * 8 },
    { kind: 'mul+add', shape: '4×8', fn: e.peak_mul_add_4x8!, flopsPerIter: 8 * 8 },
    { kind: 'relaxed fma', shape: '12×1', fn: e.peak_fma!, flopsPerIter: 12 * 8 },
    { kind: 'relaxed fma', shape: '4×8', fn: e.peak_fma_4x8!, flopsPerIter: 8 * 8 },
  ];
}

/**
 * GFLOP/s of a probe's optimised (TurboFan) code. V8 runs a wasm function in its baseline tier
 * (Liftoff) first and compiles TurboFan code in the background once enough calls and loop
 * iterations have run; a call already running never switches tiers, so one long call would time
 * Liftoff (9 GFLOP/s here instead of 50). Hence: 400 short calls (1e4 iterations each), a pause
 * of 100 ms for the compiler, then the best of many calls of 1e6 iterations (~2 ms each).
 */
async function gflops(p: Probe): Promise<number> {
  for (let i = 0; i < 400; i++) p.fn(1e4, 1024);
  await settle();
  await settle();
  const iters = 1e6;
  let best = 0;
  for (let r = 0; r < budget(40, 10); r++) {
    const t0 = performance.now();
    p.fn(iters, 1024);
    const s = (performance.now() - t0) / 1000;
    best = Math.max(best, (iters * p.flopsPerIter) / s / 1e9);
  }
  return best;
}

/** Row name prefixes (bench/report.ts reads the rows by them). */
export const PEAK_MUL_ADD = 'f32x4 peak mul+add';
export const PEAK_FMA = 'f32x4 peak relaxed fma';
export const BANDWIDTH_1 = 'memory read bandwidth, 1 thread';
export const BANDWIDTH_2 = 'memory read bandwidth, 2 threads';

/**
 * Rows `machine / f32x4 peak mul+add (when)` and `… relaxed fma (when)` (the better probe shape
 * of each kind, GFLOP/s of one core), each probe shape's own figure, and the read bandwidth of
 * 1 and 2 threads over BUFFER_MIB MiB (GB/s), tagged with when they were taken (start, end).
 */
export async function run(when = 'start'): Promise<BenchRow[]> {
  probes ??= build();
  const rows: BenchRow[] = [];
  const row = (c: string, metric: string, value: number, unit: string) => rows.push({ suite: 'machine', case: `${c} (${when})`, impl: 'wasm', metric, value, unit });
  const best = { 'mul+add': 0, 'relaxed fma': 0 };
  const each: [Probe, number][] = [];
  for (const p of await probes) {
    const g = await gflops(p);
    best[p.kind] = Math.max(best[p.kind], g);
    each.push([p, g]);
  }
  row(PEAK_MUL_ADD, 'gflops', best['mul+add'], 'GFLOP/s');
  row(PEAK_FMA, 'gflops', best['relaxed fma'], 'GFLOP/s');
  for (const [p, g] of each) row(`f32x4 ${p.kind}, ${p.shape} accumulator tile`, 'gflops', g, 'GFLOP/s');
  const bw = await readBandwidth();
  row(`${BANDWIDTH_1} (${BUFFER_MIB} MiB)`, 'gbps', bw.one, 'GB/s');
  row(`${BANDWIDTH_2} (${BUFFER_MIB} MiB)`, 'gbps', bw.two, 'GB/s');
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.table((await run()).map((r) => ({ case: r.case, value: Number(r.value.toPrecision(4)), unit: r.unit })));
}
