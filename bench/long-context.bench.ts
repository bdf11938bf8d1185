// The long-context suite (issue 14): the baby GPT's training step (forward, backward, clip,
// AdamW) at T = 64, 256, 1024 and 4096 with 1024 tokens per step (4096 at T = 4096, batch 1),
// six ways — the dense attention path (T×T probabilities kept for the backward), the fused
// kernels, fused + gradient checkpointing of every layer, and of the first two layers only, and
// the fused kernels with mixed precision (bf16 activations), alone and with the first two layers
// checkpointed — reporting the step's peak memory (the step arena, plus mixed precision's
// activation stores),
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
const MODES = ['dense', 'fused', 'fused+checkpoint', 'fused+checkpoint 2 of 4', 'fused+bf16', 'fused+bf16+checkpoint 2 of 4'] as const;
type Mode = (typeof MODES)[number];
const STEPS = { warmup: QUICK ? 1 : 2, rounds: QUICK ? 2 : 3, perRound: QUICK ? 1 : 2 };

const tokens = (n: number, seed: number) => Array.from({ length: n }, (_, i) => (Math.imul(i + seed, 2654435761) >>> 24) % 65);

/** One configuration on its own runtime (wasm memory never shrinks, so its size is this configuration's alone). */
interface Setup { mode: Mode; rt: Runtime; model: GPT; opt: AdamW; peak: number; times: number[] }

async function setUp(threads: number, T: number, mode: Mode): Promise<Setup> {
  const rt = await createRuntime({ variant: 'relaxed', threads });
  const checkpoint = mode === 'fused+checkpoint' ? 1 : mode.endsWith('checkpoint 2 of 4') ? { every: 1, segments: 2 } : 0;
  const model = new GPT(rt, { ...BABY_GPT, blockSize: T }, { seed: 1337, attention: mode === 'dense' ? 'dense' : 'fused', checkpoint, precision: mode.includes('bf16') ? 'bf16' : 'f32' });
  return { mode, rt, model, opt: new AdamW(model.params, { betas: [0.9, 0.99], weightDecay: 0.1 }), peak: 0, times: [] };
}

/** `n` training steps of `s` at length T (batch for TOKENS_PER_STEP), timing each when `timed`; tracks the step's peak memory (from the second step: the first also makes the optimizer's moments). */
function steps(s: Setup, T: number, n: number, timed: boolean, step0: number): void {
  const { rt, model, opt } = s, B = Math.max(1, TOKENS_PER_STEP / T);
  for (let step = step0; step < step0 + n; step++) {
    rt.step.reset();
    rt.step.resetPeak();
    rt.persistent.resetPeak();
    const x = tokens(B * T, step), y = tokens(B * T, step + 1);
    const before = rt.memoryReport().persistent.usedBytes;
    const t0 = performance.now();
    trainStep(model, opt, () => model.forward(rt.tensor(x, [B, T], { dtype: 'i32', arena: 'step' }), rt.tensor(y, [B, T], { dtype: 'i32', arena: 'step' })).loss!, { step, lr: 1e-3, clip: 1 });
    if (timed) s.times.push(performance.now() - t0);
    // the step arena's peak plus the activation stores mixed precision keeps in the persistent store
    const m = rt.memoryReport();
    if (step > 0) s.peak = Math.max(s.peak, m.step.peakBytes + m.persistent.peakBytes - before);
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
  for (const threads of [1, 2]) {
    for (const T of LENGTHS) {
      const c = `baby GPT step T=${T} B=${Math.max(1, TOKENS_PER_STEP / T)}`;
      // every configuration set up side by side, then timed in alternating rounds (this shared
      // machine's speed drifts over minutes): the medians compare like with like
      const setups: Setup[] = [];
      for (const mode of MODES) {
        if (mode === 'dense' && T === 4096) { row(c, threadsImpl(`relaxed ${mode}`, threads), 'fits', 0, 'no: > 4 GiB of probabilities and their gradients'); continue; }
        const s = await setUp(threads, T, mode);
        steps(s, T, STEPS.warmup, false, 0);
        setups.push(s);
      }
      await settle();
      for (let round = 0; round < STEPS.rounds; round++) for (const s of setups) steps(s, T, STEPS.perRound, true, 100 + round * STEPS.perRound);
      for (const s of setups) {
        const impl = threadsImpl(`relaxed ${s.mode}`, threads), B = Math.max(1, TOKENS_PER_STEP / T);
        row(c, impl, 'step peak', s.peak / 2 ** 20, 'MiB');
        row(c, impl, 'wasm memory', s.rt.memoryReport().memoryBytes / 2 ** 20, 'MiB');
        row(c, impl, 'tokens/s', (B * T) / (median(s.times) / 1000), 'tokens/s');
        s.model.dispose(); s.opt.dispose(); s.rt.dispose();
      }
    }
    const rt = await createRuntime({ variant: 'relaxed', threads });
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
