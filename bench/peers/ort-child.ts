// Child process for the ONNX Runtime Web benchmarks (spawned by ort.ts, one per thread count,
// because ORT fixes its thread pool per process). Argument: a JSON request; output: one result
// line (lib.ts's `reply`). Every timing is of `session.run`, i.e. including its copies in and out.
import { configureOrt, gpt2Run, gpt2Session, matmulSession, ort, type Step } from './ort-session.js';
import { GPT2_SMALL } from './gpt2-onnx.js';
import { randomNormal, reply, request, timeCalls, type Shape } from './lib.js';

export type OrtRequest =
  | { task: 'matmul'; threads: number; shapes: Shape[]; budgetMs: number }
  | { task: 'gpt2'; threads: number; promptTokens: number; decodeTokens: number; budgetMs: number };

export interface OrtMatmulRow extends Shape { gflops: number; calls: number; cpuPerWall: number }

export interface OrtGpt2Result {
  /** ONNX bytes generated in JS or read from the cache file (not ORT's cost), then InferenceSession.create from them. */
  buildMs: number; cached: boolean; createMs: number;
  prefillTokensPerS: number; prefillCalls: number; prefillCpuPerWall: number;
  decodeTokensPerS: number; decodeCalls: number; decodeCpuPerWall: number; decodeContext: number;
}

async function matmul(shapes: Shape[], budgetMs: number): Promise<OrtMatmulRow[]> {
  const rows: OrtMatmulRow[] = [];
  for (const { m, k, n, transA = false, transB = false } of shapes) {
    const session = await matmulSession(k, n, { transA, transB });
    const A = new ort.Tensor('float32', randomNormal(m * k, 3), transA ? [k, m] : [m, k]);
    const t = await timeCalls(() => session.run({ A }), budgetMs, 2, 3);
    rows.push({ m, k, n, transA, transB, gflops: (2 * m * k * n) / t.seconds / 1e9, calls: t.calls, cpuPerWall: t.cpuPerWall });
    await session.release();
  }
  return rows;
}

/** Greedy next token from the last row of logits (S, V). */
function argmaxLast(logits: Float32Array, vocab: number): number {
  const last = logits.subarray(logits.length - vocab);
  let best = 0;
  for (let v = 1; v < vocab; v++) if (last[v]! > last[best]!) best = v;
  return best;
}

async function gpt2(promptTokens: number, decodeTokens: number, budgetMs: number): Promise<OrtGpt2Result> {
  const s = await gpt2Session(GPT2_SMALL);
  const V = GPT2_SMALL.vocab;
  const prompt = Array.from({ length: promptTokens }, (_, i) => (i * 7919 + 13) % V);
  // Prefill: all logits of the prompt in one run (about 32 GFLOP: one warm-up, then at least 3
  // timed); the last run's cache seeds the decode steps.
  let prefill!: Step;
  const p = await timeCalls(async () => { prefill = await gpt2Run(s, prompt); }, budgetMs / 2, 0, 3);
  // Decode: one token per run, each from the prompt's cache (past P = promptTokens), so every
  // step attends over promptTokens + 1 positions; the token is the previous step's greedy pick.
  let token = argmaxLast(prefill.logits, V);
  let context = 0;
  const d = await timeCalls(async () => {
    const step = await gpt2Run(s, [token], prefill.cache);
    token = argmaxLast(step.logits, V);
    context = step.cache[0]![0]!.dims[2]!;
  }, budgetMs / 2, 8, decodeTokens);
  await s.session.release();
  return {
    buildMs: s.buildMs, cached: s.cached, createMs: s.createMs,
    prefillTokensPerS: promptTokens / p.seconds, prefillCalls: p.calls, prefillCpuPerWall: p.cpuPerWall,
    decodeTokensPerS: 1 / d.seconds, decodeCalls: d.calls, decodeCpuPerWall: d.cpuPerWall,
    decodeContext: context,
  };
}

const req = request<OrtRequest>();
configureOrt(req.threads);
reply(req.task === 'matmul'
  ? await matmul(req.shapes, req.budgetMs)
  : await gpt2(req.promptTokens, req.decodeTokens, req.budgetMs));
process.exit(0);
