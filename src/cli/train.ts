// `wasmformer train <text file>`: nanoGPT's "laptop" recipe on any text — a 4-layer, 4-head,
// 128-wide GPT with 64-token context, batch 12, 2000 AdamW steps (lr 1e-3 → 1e-4 by cosine after
// 100 warm-up steps, betas 0.9/0.99, weight decay 0.1, clip 1.0), 90/10 split, no dropout —
// on characters, or on a byte-level BPE trained on the same text (--tokenizer bpe). Shows a
// progress bar, evaluates every 250 steps, checkpoints atomically (tokenizer inside, so
// `wasmformer generate <out>/ckpt.safetensors` continues from it), samples at the end and
// writes the loss curve as CSV, JSON and SVG.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import cliProgress from 'cli-progress';
import { splitTokens } from '../data/batches.js';
import { generate } from '../generate/generate.js';
import { GPT } from '../models/gpt.js';
import { AdamW } from '../optim/adamw.js';
import { cosineWithWarmup } from '../optim/schedule.js';
import type { Runtime } from '../runtime.js';
import { trainBPE } from '../tokenizers/bpe-train.js';
import { CharTokenizer } from '../tokenizers/char.js';
import { evaluate, train, type EvalInfo } from '../train/train.js';
import { lossCurveSvg, toCsv } from '../viz/plot.js';
import { choice, num, parse, positionals, UsageError } from './args.js';

export const TRAIN_HELP = `usage: wasmformer train <text file> [options]
  --tokenizer char|bpe   characters (default) or a byte-level BPE trained on the text
  --vocab-size N         BPE vocabulary (default 2048)
  --steps N (2000)  --layers N (4)  --heads N (4)  --d-model N (128)  --block N (64)  --batch N (12)
  --lr X (1e-3)  --min-lr X (1e-4)  --warmup N (100, at most a tenth of --steps)  --weight-decay X (0.1)  --clip X (1)  --dropout X (0)
  --positions learned|rope|alibi (learned)  --window N (0: full attention)
  --checkpoint N         gradient checkpointing: recompute segments of N layers in the backward (0: off; 1: least memory)
  --attention fused|dense  attention kernels (fused: memory linear in --block; dense: stores block² probabilities)
  --precision f32|bf16   bf16: mixed precision, the layers' activations kept as bf16 for the backward (about half their memory)
  --eval-every N (250)  --eval-batches N (20)  --final-eval-batches N (200)  --sample-tokens N (500)
  --seed N (1337)  --out DIR (runs/<file name>)  --resume CHECKPOINT`;

const OPTIONS = Object.fromEntries([
  'tokenizer', 'vocab-size', 'steps', 'layers', 'heads', 'd-model', 'block', 'batch', 'lr', 'min-lr', 'warmup', 'weight-decay', 'clip', 'dropout',
  'eval-every', 'eval-batches', 'final-eval-batches', 'sample-tokens', 'seed', 'out', 'resume', 'positions', 'window', 'checkpoint', 'attention', 'precision',
].map((k) => [k, { type: 'string' as const }]));

export async function trainCommand(rt: Runtime, args: string[], io: { stdout: NodeJS.WritableStream }): Promise<void> {
  const log = (s: string) => io.stdout.write(s + '\n');
  const p = parse('train', args, OPTIONS);
  if (p.values.help) {
    log(TRAIN_HELP);
    return;
  }
  const [path] = positionals('train', p, ['text file']);
  const int = (k: string, fallback: number, min = 1) => num(p, k, { min, integer: true }) ?? fallback;
  const real = (k: string, fallback: number, min = 0) => num(p, k, { min }) ?? fallback;
  const steps = int('steps', 2000), evalEvery = int('eval-every', 250);
  const warmup = int('warmup', Math.min(100, Math.floor(steps / 10)), 0);   // the recipe's 100, or a tenth of a short run
  if (warmup >= steps) throw new UsageError(`--warmup ${warmup} must be below --steps ${steps} (for short runs try --warmup ${Math.floor(steps / 10)})`);
  const nHead = int('heads', 4), dModel = int('d-model', 128);
  if (dModel % nHead !== 0) throw new UsageError(`--d-model ${dModel} is not divisible by --heads ${nHead}; pick heads that divide it (e.g. ${[1, 2, 4, 8].filter((h) => dModel % h === 0).join(', ')})`);
  const kind = choice(p, 'tokenizer', ['char', 'bpe'] as const, 'char');
  const dropout = real('dropout', 0);
  if (dropout >= 1) throw new UsageError(`--dropout ${dropout} must be below 1`);
  const seed = int('seed', 1337, 0);
  const positions = choice(p, 'positions', ['learned', 'rope', 'alibi'] as const, 'learned');
  if (positions === 'rope' && (dModel / nHead) % 2 !== 0) throw new UsageError(`--positions rope needs an even head size; --d-model ${dModel} / --heads ${nHead} = ${dModel / nHead}`);
  const attention = choice(p, 'attention', ['fused', 'dense'] as const, 'fused');
  const precision = choice(p, 'precision', ['f32', 'bf16'] as const, 'f32');
  const window = int('window', 0, 0), checkpoint = int('checkpoint', 0, 0);

  let text: string;
  try {
    text = readFileSync(path!, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read '${path}': ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  const block = int('block', 64), batchSize = int('batch', 12);
  const tok = kind === 'char' ? CharTokenizer.fromText(text) : trainBPE(text, { vocabSize: int('vocab-size', 2048, 257), specialTokens: ['<|endoftext|>'] });
  const ids = tok.encode(text);
  if (ids.length < 20 * (block + 1)) throw new UsageError(`'${path}' has ${ids.length} tokens; training needs at least ${20 * (block + 1)} (20 windows of --block ${block} + 1); use more text or a smaller --block`);
  const { train: trainIds, val: valIds } = splitTokens(ids, 0.9);
  const out = (p.values.out as string | undefined) ?? join('runs', basename(path!).replace(/\.[^.]*$/, ''));
  mkdirSync(out, { recursive: true });

  const model = new GPT(rt, { vocabSize: tok.vocabSize, blockSize: block, nLayer: int('layers', 4), nHead, dModel, dropout, positions, window },
    { seed, checkpoint, attention, precision });
  const optimizer = new AdamW(model.params, { betas: [0.9, 0.99], weightDecay: real('weight-decay', 0.1) });
  const lr = cosineWithWarmup({ lr: real('lr', 1e-3, 1e-12), minLr: real('min-lr', 1e-4), warmupSteps: warmup, decaySteps: steps });
  log(`${basename(path!)}: ${text.length.toLocaleString()} characters, ${kind === 'char' ? 'character' : 'BPE'} vocabulary ${tok.vocabSize}, ` +
    `${trainIds.length.toLocaleString()} train / ${valIds.length.toLocaleString()} val tokens`);
  log(`backend ${rt.backend}${rt.notes.length ? ` (${rt.notes.join('; ')})` : ''}; ${(model.numParams() / 1e6).toFixed(2)}M parameters; ${JSON.stringify(model.config)}`);

  const bar = new cliProgress.SingleBar({ format: 'step {value}/{total} |{bar}| loss {loss} | lr {lr} | {tps} tok/s | eta {eta_formatted}', hideCursor: true, stream: io.stdout as NodeJS.WriteStream },
    cliProgress.Presets.shades_classic);
  const curve: { step: number; loss: number; lr: number }[] = [];
  const evals: EvalInfo[] = [];
  let smoothed = NaN, started = false;
  const t0 = performance.now();
  const result = await train({
    model, optimizer, steps, lr, clip: real('clip', 1), data: { train: trainIds, val: valIds, batchSize, seed },
    evalEvery, evalBatches: int('eval-batches', 20),
    checkpoint: { every: evalEvery, path: join(out, 'ckpt.safetensors'), tokenizer: tok },
    resume: p.values.resume as string | undefined,
    onStep: (s) => {
      if (!started) { bar.start(steps, s.step, { loss: '-', lr: '-', tps: '-' }); started = true; }
      smoothed = Number.isNaN(smoothed) ? s.loss : 0.9 * smoothed + 0.1 * s.loss;
      curve.push({ step: s.step, loss: s.loss, lr: s.lr });
      bar.update(s.step + 1, { loss: smoothed.toFixed(4), lr: s.lr.toExponential(2), tps: Math.round(s.tokensPerSecond) });
    },
    onEval: (e) => {
      evals.push(e);
      bar.stop();
      log(`step ${e.step}: train loss ${e.train!.toFixed(4)}, val loss ${e.val!.toFixed(4)}`);
      if (e.step < steps) bar.start(steps, e.step, { loss: smoothed.toFixed(4), lr: '-', tps: '-' });
    },
  });
  bar.stop();
  const trainSeconds = (performance.now() - t0) / 1000;
  const finalBatches = int('final-eval-batches', 200);
  const finalTrain = evaluate(model, trainIds, { batchSize, batches: finalBatches });
  const finalVal = evaluate(model, valIds, { batchSize, batches: finalBatches });
  const tokensPerSecond = ((result.steps - (curve[0]?.step ?? 0)) * batchSize * block) / trainSeconds;
  log(`\nfinal (${finalBatches} batches): train loss ${finalTrain.toFixed(4)}, val loss ${finalVal.toFixed(4)}`);
  const mem = rt.memoryReport();
  log(`wall time ${trainSeconds.toFixed(1)} s (${Math.round(tokensPerSecond)} tokens/s including evaluations), peak wasm memory ${(mem.peakBytes / 2 ** 20).toFixed(1)} MiB (step arena peak ${(mem.step.peakBytes / 2 ** 20).toFixed(1)} MiB)`);
  const start = tok.encode(text.includes('\n') ? '\n' : [...text][0]!);   // a newline, else the text's first character
  const sample = generate(model, start, { maxNewTokens: int('sample-tokens', 500, 0), temperature: 0.8, topK: 200, seed });
  const sampleText = tok.decode(sample.subarray(start.length));
  log(`\n--- sample (temperature 0.8, top-k 200) ---\n${sampleText}\n---`);
  writeFileSync(join(out, 'loss.json'), JSON.stringify({
    file: path, tokenizer: kind, config: model.config, params: model.numParams(), backend: rt.backend, steps: result.steps,
    finalTrainLoss: finalTrain, finalValLoss: finalVal, evalBatches: finalBatches, wallSeconds: trainSeconds, tokensPerSecond,
    peakBytes: mem.peakBytes, stepPeakBytes: mem.step.peakBytes, evals, curve,
  }, null, 1) + '\n');
  writeFileSync(join(out, 'loss.csv'), toCsv(curve.map((c) => ({ ...c, val: evals.find((e) => e.step === c.step + 1)?.val }))));
  writeFileSync(join(out, 'loss.svg'), lossCurveSvg([
    { name: 'train (per step)', points: curve.map((c) => ({ step: c.step + 1, value: c.loss })) },
    { name: 'train (eval)', points: evals.map((e) => ({ step: e.step, value: e.train! })) },
    { name: 'val (eval)', points: evals.map((e) => ({ step: e.step, value: e.val ?? NaN })) },
  ], { title: `${basename(path!)}: ${model.numParams().toLocaleString()}-parameter GPT`, xLabel: 'step', yLabel: 'cross-entropy (nats)' }));
  writeFileSync(join(out, 'sample.txt'), sampleText + '\n');
  log(`wrote ${out}/{ckpt.safetensors, loss.json, loss.csv, loss.svg, sample.txt}`);
  model.dispose();
  optimizer.dispose();
}
