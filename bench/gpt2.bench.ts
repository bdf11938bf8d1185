// GPT-2-small-shaped inference (124M random f32 weights, no training): creation time, a 128-token
// prefill and greedy decoding with the KV cache, on the relaxed and simd builds at 1 and 2 threads,
// beside ONNX Runtime Web at 1 and 2 threads (bench/peers: the same shapes, random weights, f32)
// in the same run. One model in memory at a time. Executed directly it prints the rows:
//   node --experimental-wasm-relaxed-simd --import tsx bench/gpt2.bench.ts   (BENCH_QUICK=1: short)
import { ORT_NAME, QUICK, budget, settle, threadsImpl, printWhenMain, type BenchRow } from './lib.js';
import { timeCalls } from './peers/lib.js';
import { ortGpt2 } from './peers/ort.js';
import { GPT, createRuntime, generateTokens, type GPTConfig } from '../src/index.js';

const SUITE = 'gpt2';

/** GPT-2 small: the shapes of bench/peers/gpt2-onnx.ts's GPT2_SMALL. */
export const GPT2_SMALL: Partial<GPTConfig> = { vocabSize: 50257, blockSize: 1024, nLayer: 12, nHead: 12, dModel: 768 };
export const PROMPT_TOKENS = 128;
/** Tokens generated after the prompt's first: each one forward of one position through the KV cache. */
export const DECODE_TOKENS = QUICK ? 8 : 32;

export const CREATE_CASE = 'create the model (random init)';
export const PREFILL_CASE = `prefill ${PROMPT_TOKENS} tokens`;
export const DECODE_CASE = `decode with KV cache, context ${PROMPT_TOKENS}+`;

/** The prompt bench/peers/ort-child.ts feeds ORT. */
const PROMPT = Array.from({ length: PROMPT_TOKENS }, (_, i) => (i * 7919 + 13) % 50257);

type Row = (c: string, impl: string, metric: string, value: number, unit: string) => void;

/**
 * One build at one thread count: `new GPT` with seed 1 (ms; allocation and seeded init of the
 * 124M parameters), then in eval mode:
 * - prefill: `forwardCached` of the 128-token prompt into an empty KV cache, all 128 × 50257
 *   logits out (what ORT's prefill returns); tokens/s = 128 / median seconds (bench/peers's
 *   timing: warm-up for a quarter of the budget, a pause, at least 3 timed);
 * - decode: `generateTokens` greedy after the prompt (its first token comes from the prefill and
 *   is not timed), DECODE_TOKENS more, each one position through the cache at contexts 129 …;
 *   tokens/s = DECODE_TOKENS / their wall time, the better of two generations after a warm-up one.
 */
async function ours(isa: 'simd' | 'relaxed', threads: number, row: Row): Promise<void> {
  let rt;
  try {
    rt = await createRuntime({ variant: isa, threads, onThreadsUnavailable: 'error' });
  } catch {
    return; // this build or thread count cannot run here: no rows
  }
  const impl = threadsImpl(isa, threads);
  try {
    const t0 = performance.now();
    const model = new GPT(rt, GPT2_SMALL, { seed: 1 });
    row(CREATE_CASE, impl, 'ms', performance.now() - t0, 'ms');
    model.eval();
    const cache = model.createCache(1);
    const r = rt;
    const prefill = () => r.step.scope(() => {
      const idx = r.tensor(PROMPT, [1, PROMPT_TOKENS], { dtype: 'i32', arena: 'step' });
      model.forwardCached(idx, cache, 0);
    });
    const p = await timeCalls(prefill, budget(4000, 1500), 0, 3);
    row(PREFILL_CASE, impl, 'tokens/s', PROMPT_TOKENS / p.seconds, 'tokens/s');
    row(PREFILL_CASE, impl, 'cpu/wall', p.cpuPerWall, 'x');

    const decode = (n: number) => {
      let first = 0, count = -1;
      const cpu0 = process.cpuUsage();
      for (const _ of generateTokens(model, PROMPT, { maxNewTokens: n + 1, temperature: 0 })) {
        if (++count === 0) first = performance.now();
      }
      const wall = (performance.now() - first) / 1000;
      const cpu = process.cpuUsage(cpu0); // includes the prefill: an upper bound
      return { tokensPerS: count / wall, cpuPerWall: (cpu.user + cpu.system) / 1e6 / wall };
    };
    decode(8);
    await settle();
    const d = [decode(DECODE_TOKENS), ...(QUICK ? [] : [decode(DECODE_TOKENS)])].sort((a, b) => b.tokensPerS - a.tokensPerS)[0]!;
    row(DECODE_CASE, impl, 'tokens/s', d.tokensPerS, 'tokens/s');
    row('peak wasm memory', impl, 'MiB', rt.memoryReport().peakBytes / 2 ** 20, 'MiB');
  } finally {
    rt.dispose();
  }
}

/** ONNX Runtime Web on `threads`: its own child process (bench/peers/ort.ts), one at a time. */
async function ort(threads: 1 | 2, row: Row): Promise<void> {
  const impl = threadsImpl(ORT_NAME, threads);
  try {
    const r = await ortGpt2({ threads, promptTokens: PROMPT_TOKENS, decodeTokens: QUICK ? 8 : 16, budgetMs: budget(8000, 3000) });
    row(CREATE_CASE, impl, 'ms', r.createMs, 'ms');
    row(PREFILL_CASE, impl, 'tokens/s', r.prefillTokensPerS, 'tokens/s');
    row(PREFILL_CASE, impl, 'cpu/wall', r.prefillCpuPerWall, 'x');
    row(DECODE_CASE, impl, 'tokens/s', r.decodeTokensPerS, 'tokens/s');
    row(DECODE_CASE, impl, 'cpu/wall', r.decodeCpuPerWall, 'x');
  } catch (err) {
    console.error(`gpt2: ${impl} failed: ${(err as Error).message.slice(0, 800)}`);
  }
}

/** Rows for relaxed and simd at 1 and 2 threads, then ORT at 1 and 2 threads (3–4 minutes). */
export async function run(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const row: Row = (c, impl, metric, value, unit) => rows.push({ suite: SUITE, case: c, impl, metric, value, unit });
  for (const isa of ['relaxed', 'simd'] as const) {
    for (const threads of [1, 2]) {
      await ours(isa, threads, row);
      (globalThis as { gc?: () => void }).gc?.(); // the last model's memory, when run with --expose-gc
      await settle();
    }
  }
  for (const threads of [1, 2] as const) await ort(threads, row);
  return rows;
}

await printWhenMain(import.meta.url, run);
