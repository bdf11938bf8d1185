// The GPT suite: nanoGPT's baby GPT (the shakespeare_char laptop recipe) trained and run on 1 and
// 2 threads. Training: what `train()` does per step (forward, backward, clip, AdamW) in tokens/s on
// each wasm build at each thread count and on the plain-JS backend, then where the step's time goes
// (best build), per kernel family, with the GFLOP/s the GEMMs reach inside it. Inference: generation
// with and without the KV cache, and a batched no-grad forward. Executed directly it prints the rows:
//   node --experimental-wasm-relaxed-simd --import tsx bench/gpt.bench.ts   (BENCH_QUICK=1: short)
import { pathToFileURL } from 'node:url';
import { QUICK, median, settle, threadsImpl, type BenchRow } from './lib.js';
import { torchPython, torchStep } from './peers/pytorch.js';
import { AdamW, GPT, createRuntime, generate, train, type Backend, type GPTConfig, type Runtime } from '../src/index.js';
import { KERNELS, type KernelName, type Kernels } from '../src/wasm/abi.js';

const SUITE = 'gpt';

/** nanoGPT's config/train_shakespeare_char.py with its laptop overrides. */
export const BABY_GPT: Partial<GPTConfig> = {
  vocabSize: 65, blockSize: 64, nLayer: 4, nHead: 4, dModel: 128, dFF: 512, dropout: 0, bias: true, tieWeights: true,
};
const B = 12;                 // batch
const T = 64;                 // sequence length = blockSize
const ADAMW = { betas: [0.9, 0.99] as [number, number], weightDecay: 0.1 };
const LR = 1e-3;
const CLIP = 1.0;

/**
 * Reference points quoted in issue 11 for this machine type and this config (measured there):
 * PyTorch 1.13 + OpenBLAS on 1 and 2 threads, TensorFlow.js wasm. The bar: 2 threads, best
 * build ≥ PyTorch on one thread; the goal beyond: PyTorch on 2 threads. Where a Python with
 * torch is found, the suite times PyTorch itself in the same rounds (`PYTORCH`) and the summary
 * uses those figures; the quoted ones only stand in when it is not.
 */
export const QUOTED = { pytorch1TokensPerSecond: 13194, pytorch2TokensPerSecond: 20158, tfjsWasmTokensPerSecond: 527 };

/**
 * Steps timed. The wasm builds are warmed up, then timed in alternating rounds (this shared
 * machine's speed drifts over minutes). The JS backend takes ~20 s a step: one warm-up, one timed.
 */
const WASM_WARMUP = QUICK ? 3 : 10;
const WASM_ROUNDS = QUICK ? 2 : 3;
const WASM_STEPS_PER_ROUND = QUICK ? 3 : 10;
const JS_STEPS = { warmup: 1, timed: 1 };   // skipped in a quick run
const PROFILE_STEPS = { warmup: 3, timed: QUICK ? 5 : 20 };
/** Thread counts of the wasm builds. */
const THREADS = [1, 2] as const;

type Family = (typeof KERNELS)[KernelName]['family'];
export const FAMILIES: Family[] = [...new Set(Object.values(KERNELS).map((k) => k.family))];

/** A synthetic token stream: the step's speed does not depend on the text. */
function tokenStream(n: number, seed = 1): Int32Array {
  const out = new Int32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s >>> 8) % 65;
  }
  return out;
}
const TOKENS = tokenStream(200_000);

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** One model and optimizer on one runtime (each runtime is its own wasm memory), and its row name. */
interface Setup { rt: Runtime; model: GPT; opt: AdamW; impl: string }

function setUp(rt: Runtime, impl: string): Setup {
  const model = new GPT(rt, BABY_GPT, { seed: 1337 });
  return { rt, model, opt: new AdamW(model.params, ADAMW), impl };
}

/**
 * Runs `warmup + timed` steps of `train()` and returns the wall time of each timed step (ms),
 * as train() measures it: batch sampling, forward, backward, clip, AdamW. `atTimingStart`
 * runs once, after the warm-up, outside any step.
 */
async function trainSteps(s: Setup, steps: { warmup: number; timed: number }, atTimingStart?: () => void): Promise<number[]> {
  const ms: number[] = [];
  await train({
    model: s.model, optimizer: s.opt, data: { train: TOKENS, batchSize: B, blockSize: T },
    steps: steps.warmup + steps.timed, lr: LR, clip: CLIP,
    onStep: async (info) => {
      if (info.step >= steps.warmup) ms.push(info.elapsedMs);
      if (info.step === steps.warmup - 1) {
        await settle();
        atTimingStart?.();
      }
    },
  });
  s.rt.tape.clear();
  return ms;
}

/** Time and calls per kernel family and the GEMM flops, accumulated by `wrap`ped kernels. */
class KernelProfile {
  ms = {} as Record<Family, number>;
  calls = 0;
  gemmFlops = 0;

  constructor() {
    this.reset();
  }

  reset(): void {
    for (const f of FAMILIES) this.ms[f] = 0;
    this.calls = 0;
    this.gemmFlops = 0;
  }

  /** The same kernels, each call timed with performance.now() and added to its family. */
  wrap(kernels: Kernels): Kernels {
    const out = {} as Record<KernelName, (...args: number[]) => void>;
    for (const name of Object.keys(KERNELS) as KernelName[]) {
      const fn = kernels[name] as (...args: number[]) => void;
      const family = KERNELS[name].family;
      // gemm_f32(c, a, b, bias, m, n, k, …); gemm_batched_f32(…, m, n, k, lda, ldb, ldc, flags, alpha, beta, work, batch, …);
      // gemm_gelu_f32(c, pre, a, b, bias, m, n, k, …, i0, i1, j0, j1) and gemm_packed_f32(c, a, bp, bias, m, n, k, …, i0, i1, j0, j1)
      // (the ops call both on all of C)
      const flops = name === 'gemm_f32' ? (a: number[]) => 2 * a[4]! * a[5]! * a[6]!
        : name === 'gemm_batched_f32' ? (a: number[]) => 2 * a[4]! * a[5]! * a[6]! * a[14]! * a[18]!
        : name === 'gemm_gelu_f32' ? (a: number[]) => 2 * a[5]! * a[6]! * a[7]!
        : name === 'gemm_packed_f32' ? (a: number[]) => 2 * a[4]! * a[5]! * a[6]!
        : null;
      out[name] = (...args: number[]) => {
        const t0 = performance.now();
        fn(...args);
        this.ms[family] += performance.now() - t0;
        this.calls++;
        if (flops) this.gemmFlops += flops(args);
      };
    }
    return out as unknown as Kernels;
  }
}

/** Runs `fn` with `rt.kernels` replaced (every call site reads rt.kernels at call time). */
async function withKernels<R>(rt: Runtime, kernels: Kernels, fn: () => Promise<R>): Promise<R> {
  const original = rt.kernels;
  Object.defineProperty(rt, 'kernels', { value: kernels, configurable: true, writable: true });
  try {
    return await fn();
  } finally {
    Object.defineProperty(rt, 'kernels', { value: original, configurable: true, writable: true });
  }
}

/** Greedy generation of `n` tokens after a one-token prompt, tokens/s (median of `reps`). */
async function generationSpeed(model: GPT, useCache: boolean, n: number, reps: number): Promise<number> {
  const run = () => generate(model, [0], { maxNewTokens: n, temperature: 0, useCache });
  return n / ((await medianMs(run, reps)) / 1000);
}

/** Median milliseconds of `reps` calls of `run`, after 3 warm-up calls and a pause. */
async function medianMs(run: () => void, reps: number): Promise<number> {
  for (let i = 0; i < 3; i++) run();
  await settle();
  const ms: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    run();
    ms.push(performance.now() - t0);
  }
  return median(ms);
}

/** model.forward of a (B, T) batch without gradients, tokens/s (median of `reps`). */
async function forwardSpeed(s: Setup, reps: number): Promise<number> {
  const { rt, model } = s;
  const ids = TOKENS.subarray(0, B * T);
  const run = () => rt.step.scope(() => {
    const idx = rt.tensor(ids, [B, T], { dtype: 'i32', arena: 'step' });
    rt.tape.noGrad(() => model.forward(idx));
  });
  model.eval();
  const ms = await medianMs(run, reps);
  model.train();
  return (B * T) / (ms / 1000);
}

/** The runtime of `variant` on `threads`, or null when this JavaScript runtime cannot run it. */
async function tryRuntime(variant: Backend, threads: number): Promise<Runtime | null> {
  try {
    return await createRuntime({ variant, threads, onThreadsUnavailable: 'error' });
  } catch {
    return null;
  }
}

export const TRAIN_CASE = `train step B=${B} T=${T}`;
export const GEN_NEW_TOKENS = 60;
export const GEN_CACHE_CASE = `generate 1+${GEN_NEW_TOKENS} tokens, KV cache`;
export const GEN_NOCACHE_CASE = `generate 1+${GEN_NEW_TOKENS} tokens, no cache`;
export const FORWARD_CASE = `forward B=${B} T=${T}, no grad`;
export const stepCase = (part: string) => `step time: ${part}`;
export const HOST = 'host (JS)';
/** The row name of PyTorch's step on `threads` threads (bench/peers/pytorch-step.py). */
export const PYTORCH = (threads: number) => threadsImpl('pytorch', threads);

export async function run(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const row = (c: string, impl: string, metric: string, value: number, unit: string) =>
    rows.push({ suite: SUITE, case: c, impl, metric, value, unit });
  const trainRows = (impl: string, ms: number[]) => {
    row(TRAIN_CASE, impl, 'tokens/s (median)', (B * T) / (median(ms) / 1000), 'tokens/s');
    row(TRAIN_CASE, impl, 'tokens/s (best)', (B * T) / (Math.min(...ms) / 1000), 'tokens/s');
    row(TRAIN_CASE, impl, 'ms/step', median(ms), 'ms');
  };

  const wasm: Setup[] = [];
  for (const variant of ['simd', 'relaxed'] as const) {
    for (const threads of THREADS) {
      const rt = await tryRuntime(variant, threads);
      if (rt) wasm.push(setUp(rt, threadsImpl(variant, threads)));
    }
  }
  try {
    await measure(wasm, rows, row, trainRows);
  } finally {
    for (const s of wasm) s.rt.dispose();
  }
  return rows;
}

type RowFn = (c: string, impl: string, metric: string, value: number, unit: string) => void;

async function measure(wasm: Setup[], rows: BenchRow[], row: RowFn, trainRows: (impl: string, ms: number[]) => void): Promise<void> {
  // 1. The training step on each wasm build.
  const stepMs = new Map<Setup, number[]>();
  for (const s of wasm) {
    await trainSteps(s, { warmup: WASM_WARMUP, timed: 0 });
    stepMs.set(s, []);
  }
  // PyTorch in the same rounds, when this machine has it (a fresh process per round: warm-up included)
  const python = torchPython();
  const torchMs = new Map<number, number[]>(THREADS.map((t) => [t, []]));
  for (let round = 0; round < WASM_ROUNDS; round++) {
    for (const s of wasm) {
      await settle(); // idle pool workers of the previous runtime go to sleep
      stepMs.get(s)!.push(...await trainSteps(s, { warmup: 0, timed: WASM_STEPS_PER_ROUND }));
    }
    if (!python) continue;
    await settle();
    for (const threads of THREADS) {
      const r = await torchStep(python, { threads, warmup: WASM_WARMUP, steps: WASM_STEPS_PER_ROUND, batch: B, block: T,
        vocab: BABY_GPT.vocabSize!, layers: BABY_GPT.nLayer!, heads: BABY_GPT.nHead!, d: BABY_GPT.dModel!, ff: BABY_GPT.dFF! });
      if (r.threads !== threads) throw new Error(`PyTorch ran ${r.threads} threads, asked for ${threads}`);
      torchMs.get(threads)!.push(...r.msPerStep);
    }
  }
  for (const s of wasm) trainRows(s.impl, stepMs.get(s)!);
  if (python) for (const [threads, ms] of torchMs) trainRows(PYTORCH(threads), ms);

  // 2. Where the step's time goes, on the best build (the last: relaxed on the most threads).
  const best = wasm.at(-1);
  if (best) {
    const profile = new KernelProfile();
    const ms = await withKernels(best.rt, profile.wrap(best.rt.kernels), () => trainSteps(best, PROFILE_STEPS, () => profile.reset()));
    const steps = ms.length;
    const wholeMs = mean(ms);
    const impl = best.impl;
    let kernelMs = 0;
    for (const f of FAMILIES) {
      const m = profile.ms[f] / steps;
      kernelMs += m;
      row(stepCase(f), impl, 'ms/step', m, 'ms');
      row(stepCase(f), impl, 'share of step', (100 * m) / wholeMs, '%');
    }
    row(stepCase(HOST), impl, 'ms/step', wholeMs - kernelMs, 'ms');
    row(stepCase(HOST), impl, 'share of step', (100 * (wholeMs - kernelMs)) / wholeMs, '%');
    row(stepCase('whole step, kernels timed'), impl, 'ms/step', wholeMs, 'ms');
    row(stepCase('kernel calls'), impl, 'calls/step', profile.calls / steps, 'calls');
    row('GEMM inside the step', impl, 'gflops', profile.gemmFlops / (profile.ms.gemm / 1000) / 1e9, 'GFLOP/s');
    row('GEMM inside the step', impl, 'GFLOP/step', profile.gemmFlops / steps / 1e9, 'GFLOP');
  }

  // 3. Inference on each wasm build, with the weights trained above; one case at a time on every build.
  for (const s of wasm) row(GEN_CACHE_CASE, s.impl, 'tokens/s', await generationSpeed(s.model, true, GEN_NEW_TOKENS, QUICK ? 3 : 10), 'tokens/s');
  for (const s of wasm) row(GEN_NOCACHE_CASE, s.impl, 'tokens/s', await generationSpeed(s.model, false, GEN_NEW_TOKENS, QUICK ? 2 : 5), 'tokens/s');
  for (const s of wasm) row(FORWARD_CASE, s.impl, 'tokens/s', await forwardSpeed(s, QUICK ? 5 : 15), 'tokens/s');

  // 4. The plain-JS backend: the baseline of the ratios (about 40 s; not in a quick run).
  if (QUICK) return;
  const js = await createRuntime({ variant: 'js' });
  const jsMs = await trainSteps(setUp(js, 'js'), JS_STEPS);
  trainRows('js', jsMs);
  for (const s of wasm) {
    const mine = rows.find((r) => r.case === TRAIN_CASE && r.impl === s.impl && r.metric === 'ms/step')!.value;
    row(TRAIN_CASE, s.impl, 'speedup over js', median(jsMs) / mine, 'x');
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rows = await run();
  if (!torchPython()) console.log(`baby GPT; no Python with torch found, quoted in issue 11 instead: PyTorch ${QUOTED.pytorch1TokensPerSecond} (1 thread), ${QUOTED.pytorch2TokensPerSecond} (2 threads), tfjs wasm ${QUOTED.tfjsWasmTokensPerSecond} tokens/s`);
  console.table(rows.map((r) => ({ case: r.case, impl: r.impl, metric: r.metric, value: Number(r.value.toPrecision(4)), unit: r.unit })));
}
