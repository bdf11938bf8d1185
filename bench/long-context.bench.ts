// The long-context suite (issue 14): the baby GPT's training step (forward, backward, clip,
// AdamW) at T = 64, 256, 1024 and 4096 with 1024 tokens per step (4096 at T = 4096, batch 1),
// three ways — the dense attention path (T×T probabilities kept for the backward), the fused
// kernels, and fused + gradient checkpointing of every layer — reporting the step arena's peak,
// the wasm memory after the step, and tokens/s, all in one run; and attention alone (forward +
// backward of one layer's causal attention, B 1, 4 heads of 32) dense vs fused at T = 1024 and 4096.
// Executed directly it prints the rows:
//   node --expose-gc --experimental-wasm-relaxed-simd --import tsx bench/long-context.bench.ts   (BENCH_QUICK=1: short)
import { QUICK, median, printWhenMain, settle, threadsImpl, type BenchRow } from './lib.js';
import { BABY_GPT } from './gpt.bench.js';
import {
  AdamW, GPT, attendBackward, attendForward, attendFusedBackward, attendFusedForward, createRuntime, trainStep,
  type AttentionDims, type GradView, type HeadView, type Runtime,
} from '../src/index.js';

const SUITE = 'long-context';
const LENGTHS = [64, 256, 1024, 4096] as const;
const TOKENS_PER_STEP = 1024;
const MODES = ['dense', 'fused', 'fused+checkpoint'] as const;
type Mode = (typeof MODES)[number];
const STEPS = { warmup: QUICK ? 1 : 2, timed: QUICK ? 2 : 4 };

const tokens = (n: number, seed: number) => Array.from({ length: n }, (_, i) => (Math.imul(i + seed, 2654435761) >>> 24) % 65);

/** One configuration's step: peak step-arena bytes, wasm memory after, median tokens/s; or the error that stopped it. */
async function stepRun(rt: Runtime, T: number, mode: Mode): Promise<{ peak: number; memory: number; tps: number } | { error: string }> {
  const B = Math.max(1, TOKENS_PER_STEP / T);
  let model: GPT | null = null, opt: AdamW | null = null;
  try {
    model = new GPT(rt, { ...BABY_GPT, blockSize: T }, { seed: 1337, attention: mode === 'dense' ? 'dense' : 'fused', checkpoint: mode === 'fused+checkpoint' ? 1 : 0 });
    opt = new AdamW(model.params, { betas: [0.9, 0.99], weightDecay: 0.1 });
    const m = model, o = opt;
    const times: number[] = [];
    let peak = 0;
    for (let step = 0; step < STEPS.warmup + STEPS.timed; step++) {
      if (step === STEPS.warmup) await settle();
      rt.step.reset();
      rt.step.resetPeak();
      const x = tokens(B * T, step), y = tokens(B * T, step + 1);
      const t0 = performance.now();
      trainStep(m, o, () => m.forward(rt.tensor(x, [B, T], { dtype: 'i32', arena: 'step' }), rt.tensor(y, [B, T], { dtype: 'i32', arena: 'step' })).loss!, { step, lr: 1e-3, clip: 1 });
      if (step >= STEPS.warmup) times.push(performance.now() - t0);
      peak = Math.max(peak, rt.memoryReport().step.peakBytes);
    }
    return { peak, memory: rt.memoryReport().memoryBytes, tps: (B * T) / (median(times) / 1000) };
  } catch (e) {
    return { error: (e as Error).message.split('\n')[0]!.slice(0, 160) };
  } finally {
    rt.step.reset();
    model?.dispose();
    opt?.dispose();
  }
}

/** Median ms of forward + backward of one causal self-attention over qkv (1, T, 3·128), 4 heads, dense or fused. */
async function attentionMs(rt: Runtime, T: number, path: 'dense' | 'fused'): Promise<number> {
  const C = 128, nHead = 4;
  rt.step.reset();
  const qkv = rt.randn([1, T, 3 * C], { seed: 1, arena: 'step' }), dqkv = rt.empty([1, T, 3 * C], { arena: 'step' });
  const y = rt.empty([1, T, C], { arena: 'step' }), dy = rt.randn([1, T, C], { seed: 2, arena: 'step' });
  const v = (t: typeof qkv, col: number): HeadView => ({ t, at: col, ld: 3 * C, batchStride: T * 3 * C });
  const g = (col: number): GradView => ({ ...v(dqkv, col), beta: 0 });
  const yv: HeadView = { t: y, at: 0, ld: C, batchStride: T * C }, dyv: HeadView = { t: dy, at: 0, ld: C, batchStride: T * C };
  const d: AttentionDims = { B: 1, Tq: T, Tk: T, nHead, hs: C / nHead, causal: true };
  const probs = path === 'dense' ? rt.empty([1, nHead, T, T], { arena: 'step' }) : null;
  const lse = rt.empty([1, nHead, T], { arena: 'step' });
  const once = () => {
    const mark = rt.step.mark();
    if (probs) {
      attendForward(rt, yv, probs, v(qkv, 0), v(qkv, C), v(qkv, 2 * C), d);
      attendBackward(rt, dyv, g(0), g(C), g(2 * C), probs, v(qkv, 0), v(qkv, C), v(qkv, 2 * C), d);
    } else {
      attendFusedForward(rt, yv, lse, v(qkv, 0), v(qkv, C), v(qkv, 2 * C), d);
      attendFusedBackward(rt, dyv, yv, g(0), g(C), g(2 * C), lse, v(qkv, 0), v(qkv, C), v(qkv, 2 * C), d);
    }
    rt.step.release(mark);
  };
  once();
  await settle();
  const times: number[] = [];
  for (let i = 0; i < (QUICK ? 3 : 7); i++) {
    const t0 = performance.now();
    once();
    times.push(performance.now() - t0);
  }
  rt.step.reset();
  return median(times);
}

export async function run(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const row = (c: string, impl: string, metric: string, value: number, unit: string) => rows.push({ suite: SUITE, case: c, impl, metric, value, unit });
  // a fresh runtime per configuration: wasm memory never shrinks, so its size after the step is that configuration's alone
  const fresh = (threads: number) => createRuntime({ variant: 'relaxed', threads });
  for (const threads of [1, 2]) {
    for (const T of LENGTHS) {
      const c = `baby GPT step T=${T} B=${Math.max(1, TOKENS_PER_STEP / T)}`;
      for (const mode of MODES) {
        const impl = threadsImpl(`relaxed ${mode}`, threads);
        if (mode === 'dense' && T === 4096) { row(c, impl, 'fits', 0, 'no: > 4 GiB of probabilities and their gradients'); continue; }
        const rt = await fresh(threads);
        const r = await stepRun(rt, T, mode);
        rt.dispose();
        if ('error' in r) { row(c, impl, 'error', 0, r.error); continue; }
        row(c, impl, 'step peak', r.peak / 2 ** 20, 'MiB');
        row(c, impl, 'wasm memory', r.memory / 2 ** 20, 'MiB');
        row(c, impl, 'tokens/s', r.tps, 'tokens/s');
      }
    }
    const rt = await fresh(threads);
    for (const T of [1024, 4096]) {
      const dense = T <= 1024 ? await attentionMs(rt, T, 'dense') : NaN, fused = await attentionMs(rt, T, 'fused');
      const c = `causal attention fwd+bwd T=${T} (4 heads of 32)`;
      if (!Number.isNaN(dense)) row(c, threadsImpl('relaxed dense', threads), 'time', dense, 'ms');
      row(c, threadsImpl('relaxed fused', threads), 'time', fused, 'ms');
      if (!Number.isNaN(dense)) row(c, threadsImpl('relaxed fused vs dense', threads), 'speed-up', dense / fused, 'x');
    }
    rt.dispose();
  }
  return rows;
}

await printWhenMain(import.meta.url, run);
