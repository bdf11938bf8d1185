// The machine's own f32x4 peak, measured inside the benchmark run: this machine is shared
// and its speed drifts by up to 2× over minutes, so kernel throughput is reported next to
// (and as a share of) the peak measured in the same run, not against numbers from elsewhere.
import asc from 'assemblyscript/asc';
import type { BenchRow } from './lib.js';

type Loop = (iters: number, p: number) => number;
let peak: { mul_add: Loop; fma: Loop } | undefined;

async function build(): Promise<typeof peak> {
  const out: Record<string, Uint8Array> = {};
  const { error } = await asc.main(
    ['bench/assembly/peak.ts', '--runtime', 'stub', '-O3', '--enable', 'simd', '--enable', 'relaxed-simd', '--outFile', 'peak.wasm'],
    { writeFile: (name: string, contents: string | Uint8Array) => { if (typeof contents !== 'string') out[name] = contents; } },
  );
  if (error) throw error;
  // asc also reads asconfig.json, so the module imports its memory like the library's builds.
  const module = new WebAssembly.Module(out['peak.wasm'] as Uint8Array<ArrayBuffer>);
  const env = { memory: new WebAssembly.Memory({ initial: 1 }), abort: () => { throw new Error('peak.wasm aborted'); } };
  const instance = new WebAssembly.Instance(module, { env });
  const e = instance.exports as unknown as { peak_mul_add: Loop; peak_fma: Loop };
  new Float32Array(env.memory.buffer, 1024, 48).fill(1e-3); // operands at byte 1024
  return { mul_add: e.peak_mul_add, fma: e.peak_fma };
}

async function gflops(fn: Loop): Promise<number> {
  const iters = 1e6;
  // V8 runs a wasm function in its baseline tier until the optimised code is ready, and a
  // call already running never switches: warm up with short calls and give the compiler time.
  for (let i = 0; i < 20; i++) fn(1e4, 1024);
  await new Promise((resolve) => setTimeout(resolve, 50));
  let best = 0;
  for (let r = 0; r < 40; r++) {
    const t0 = performance.now();
    fn(iters, 1024);
    const s = (performance.now() - t0) / 1000;
    best = Math.max(best, (iters * 12 * 8) / s / 1e9); // 12 chains × 4 lanes × 2 flops
  }
  return best;
}

/** Rows `machine / f32x4 peak mul+add` and `… relaxed fma`, tagged with when they were taken. */
export async function run(when = 'start'): Promise<BenchRow[]> {
  peak ??= await build();
  const p = peak!;
  return [
    { suite: 'machine', case: `f32x4 peak mul+add (${when})`, impl: 'wasm', metric: 'gflops', value: await gflops(p.mul_add), unit: 'GFLOP/s' },
    { suite: 'machine', case: `f32x4 peak relaxed fma (${when})`, impl: 'wasm', metric: 'gflops', value: await gflops(p.fma), unit: 'GFLOP/s' },
  ];
}
