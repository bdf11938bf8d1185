// The baby-GPT training step's kernel calls grouped by kernel and shape, timed on 1 and 2
// threads: which calls the pool speeds up and which it does not. Run on a quiet machine:
//   node --experimental-wasm-relaxed-simd --import tsx bench/step-calls.ts [simd|relaxed]
import { AdamW, GPT, createRuntime, train, type Runtime } from '../src/index.js';
import { KERNELS, type KernelName, type Kernels } from '../src/wasm/abi.js';
import { BABY_GPT } from './gpt.bench.js';
import { settle } from './lib.js';

const variant = (process.argv[2] ?? 'relaxed') as 'simd' | 'relaxed';
const STEPS = { warmup: 5, timed: 20 };
const tokens = Int32Array.from({ length: 100_000 }, (_, i) => (i * 7919 + 13) % 65);

/** A call's key: kernel name and its size arguments (pointers left out). */
function key(name: KernelName, a: number[]): string {
  if (name === 'gemm_f32') return `gemm ${a[4]}×${a[5]}×${a[6]} f${a[10]}`;
  if (name === 'gemm_gelu_f32') return `gemm_gelu ${a[5]}×${a[6]}×${a[7]} f${a[11]}`;
  if (name === 'gemm_batched_f32') return `batched ${a[18]}×${a[14]}×(${a[4]}×${a[5]}×${a[6]}) f${a[10]}`;
  if (name === 'gemm_packed_f32') return `packed ${a[4]}×${a[5]}×${a[6]}`;
  return name;
}

async function profile(threads: number): Promise<{ step: number; calls: Map<string, { ms: number; n: number }> }> {
  const rt: Runtime = await createRuntime({ variant, threads, onThreadsUnavailable: 'error' });
  const model = new GPT(rt, BABY_GPT, { seed: 1337 });
  const optimizer = new AdamW(model.params, { betas: [0.9, 0.99], weightDecay: 0.1 });
  const calls = new Map<string, { ms: number; n: number }>();
  let on = false;
  const original = rt.kernels;
  const wrapped = {} as Record<KernelName, (...args: number[]) => void>;
  for (const name of Object.keys(KERNELS) as KernelName[]) {
    const fn = original[name] as (...args: number[]) => void;
    wrapped[name] = (...args: number[]) => {
      if (!on) return fn(...args);
      const t0 = performance.now();
      fn(...args);
      const k = key(name, args), e = calls.get(k) ?? { ms: 0, n: 0 };
      e.ms += performance.now() - t0; e.n++;
      calls.set(k, e);
    };
  }
  Object.defineProperty(rt, 'kernels', { value: { ...original, ...wrapped } as Kernels, configurable: true, writable: true });
  const stepMs: number[] = [];
  await train({
    model, optimizer, data: { train: tokens, batchSize: 12, blockSize: 64 }, steps: STEPS.warmup + STEPS.timed, lr: 1e-3, clip: 1,
    onStep: async (info) => {
      if (info.step >= STEPS.warmup) stepMs.push(info.elapsedMs);
      if (info.step === STEPS.warmup - 1) { await settle(); on = true; }
    },
  });
  rt.dispose();
  return { step: stepMs.reduce((a, b) => a + b) / stepMs.length, calls };
}

const one = await profile(1);
await settle();
const two = await profile(2);
console.log(`${variant}: step ${one.step.toFixed(1)} → ${two.step.toFixed(1)} ms (${(one.step / two.step).toFixed(2)}×)`);
const rows = [...one.calls].map(([k, v]) => ({ k, n: v.n / STEPS.timed, t1: v.ms / STEPS.timed, t2: (two.calls.get(k)?.ms ?? NaN) / STEPS.timed }));
rows.sort((a, b) => b.t1 - a.t1);
for (const r of rows) console.log(`${r.k.padEnd(44)} ${r.n.toFixed(0).padStart(4)} calls  ${r.t1.toFixed(2).padStart(7)} → ${r.t2.toFixed(2).padStart(7)} ms  ${(r.t1 / r.t2).toFixed(2)}×  saved ${(r.t1 - r.t2).toFixed(2)}`);
