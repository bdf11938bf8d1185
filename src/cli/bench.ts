// `wasmformer bench [model]`: what this machine does, measured now. Without a model: a 512³
// GEMM in GFLOP/s and the baby GPT's training step in tokens/s, on the runtime's threads.
// With a model (folder, URL or checkpoint of a GPT): load time, prefill and decode tokens/s.
import { generateTokens } from '../generate/generate.js';
import { GPT } from '../models/gpt.js';
import { AdamW } from '../optim/adamw.js';
import { matmul } from '../ops/gemm.js';
import type { Runtime } from '../runtime.js';
import { trainStep } from '../train/step.js';
import { num, parse, UsageError } from './args.js';
import { loadSource } from './source.js';

export const BENCH_HELP = `usage: wasmformer bench [model] [--tokens N] [--prompt N]
  without a model: a 512×512×512 GEMM (GFLOP/s) and the baby GPT's training step (tokens/s)
  with a GPT model (folder, URL or checkpoint): load time, prefill of --prompt tokens (default 64)
    and --tokens decoded tokens (default 64), greedy
  the global --threads N and --variant V choose the runtime`;

/** The median of `rounds` timings of fn, in ms. */
function median(rounds: number, fn: () => void): number {
  const t: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const s = performance.now();
    fn();
    t.push(performance.now() - s);
  }
  return t.sort((a, b) => a - b)[Math.floor(rounds / 2)]!;
}

export async function benchCommand(rt: Runtime, args: string[], io: { stdout: NodeJS.WritableStream }): Promise<void> {
  const log = (s: string) => io.stdout.write(s + '\n');
  const p = parse('bench', args, { tokens: { type: 'string' }, prompt: { type: 'string' } });
  if (p.values.help) {
    log(BENCH_HELP);
    return;
  }
  if (p.positionals.length > 1) throw new UsageError('wasmformer bench takes at most one model (see: wasmformer bench --help)');
  log(`backend ${rt.backend}, ${rt.threads} thread${rt.threads > 1 ? 's' : ''}${rt.notes.length ? ` (${rt.notes.join('; ')})` : ''}`);
  if (p.positionals.length === 0) {
    const n = 512;
    const a = rt.randn([n, n], { seed: 1 }), b = rt.randn([n, n], { seed: 2 }), c = rt.empty([n, n]);
    matmul(rt, a, b, { out: c });
    const ms = median(9, () => matmul(rt, a, b, { out: c }));
    log(`GEMM 512×512×512: ${(2 * n ** 3 / ms / 1e6).toFixed(1)} GFLOP/s (median of 9)`);
    for (const t of [a, b, c]) rt.free(t);
    const model = new GPT(rt, { vocabSize: 65, blockSize: 64, nLayer: 4, nHead: 4, dModel: 128 }, { seed: 1 });
    const opt = new AdamW(model.params, { weightDecay: 0.1 });
    const B = 12, T = 64;
    const x = Int32Array.from({ length: B * T }, (_, i) => (i * 7) % 65), y = Int32Array.from({ length: B * T }, (_, i) => (i * 7 + 1) % 65);
    let step = 0;
    const once = () => trainStep(model, opt, () => model.forward(rt.tensor(x, [B, T], { dtype: 'i32', arena: 'step' }), rt.tensor(y, [B, T], { dtype: 'i32', arena: 'step' })).loss!, { step: step++, lr: 1e-3, clip: 1 });
    for (let i = 0; i < 3; i++) once();
    const stepMs = median(9, once);
    log(`baby GPT training step (4 layers, d 128, 12×64 tokens): ${Math.round(B * T / stepMs * 1000).toLocaleString()} tokens/s (median of 9)`);
    model.dispose();
    opt.dispose();
    return;
  }
  const t0 = performance.now();
  const { model, source } = await loadSource(rt, p.positionals[0]!);
  const loadMs = performance.now() - t0;
  if (!(model instanceof GPT)) throw new UsageError(`${source} holds a ${model.family} model; bench measures GPT generation`);
  const P = num(p, 'prompt', { min: 1, max: model.config.blockSize - 1, integer: true }) ?? Math.min(64, model.config.blockSize - 1);
  const N = num(p, 'tokens', { min: 1, max: model.config.blockSize - P, integer: true }) ?? Math.min(64, model.config.blockSize - P);
  const prompt = Array.from({ length: P }, (_, i) => (i * 31) % model.config.vocabSize);
  log(`${source}: loaded in ${(loadMs / 1000).toFixed(2)} s, ${(model.numParams() / 1e6).toFixed(1)}M parameters`);
  for (let round = 0; round < 2; round++) {   // the first round packs the weights and warms up
    const it = generateTokens(model, prompt, { maxNewTokens: N, temperature: 0 });
    const s = performance.now();
    it.next();
    const prefillMs = performance.now() - s;
    let n = 0;
    const d = performance.now();
    while (!it.next().done) n++;
    const decodeMs = performance.now() - d;
    if (round === 1) log(`prefill ${P} tokens: ${Math.round(P / prefillMs * 1000)} tokens/s; decode ${n} tokens: ${(n / decodeMs * 1000).toFixed(1)} tokens/s (${(decodeMs / n).toFixed(1)} ms/token)`);
  }
  model.dispose();
}
