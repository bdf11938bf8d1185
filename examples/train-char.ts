// nanoGPT's "laptop" recipe on any text file, character level: a 4-layer, 4-head, 128-wide
// GPT with 64-token context, batch 12, 2000 AdamW steps (lr 1e-3 → 1e-4 by cosine after 100
// warm-up steps, betas 0.9/0.99, weight decay 0.1, clip 1.0), 90/10 split, no dropout.
// Shows a progress bar, evaluates every 250 steps, checkpoints atomically, samples at the end
// and saves the loss curve as CSV, JSON and SVG.
//
//   npm run train -- ../shared/data/tinyshakespeare.txt            (the full recipe)
//   npm run train -- my.txt --steps 500 --out runs/mine             (any text file)
//   npm run train -- --resume runs/mine/ckpt.safetensors my.txt     (continue a run)
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import {
  AdamW, CharTokenizer, cosineWithWarmup, createRuntime, evaluate, generate, GPT, lossCurveSvg, splitTokens, toCsv, train,
  type EvalInfo,
} from '../src/index.js';

const { values: opt, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    steps: { type: 'string', default: '2000' },
    layers: { type: 'string', default: '4' },
    heads: { type: 'string', default: '4' },
    'd-model': { type: 'string', default: '128' },
    block: { type: 'string', default: '64' },
    batch: { type: 'string', default: '12' },
    lr: { type: 'string', default: '1e-3' },
    'min-lr': { type: 'string', default: '1e-4' },
    warmup: { type: 'string', default: '100' },
    'weight-decay': { type: 'string', default: '0.1' },
    clip: { type: 'string', default: '1.0' },
    dropout: { type: 'string', default: '0' },
    'eval-every': { type: 'string', default: '250' },
    'eval-batches': { type: 'string', default: '20' },
    'final-eval-batches': { type: 'string', default: '200' },
    'sample-tokens': { type: 'string', default: '500' },
    seed: { type: 'string', default: '1337' },
    variant: { type: 'string', default: 'auto' },
    out: { type: 'string' },
    resume: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (opt.help || positionals.length !== 1) {
  console.log('usage: npm run train -- <text file> [--steps 2000] [--layers 4] [--heads 4] [--d-model 128] [--block 64] [--batch 12]\n' +
    '  [--lr 1e-3] [--min-lr 1e-4] [--warmup 100] [--weight-decay 0.1] [--clip 1] [--dropout 0] [--eval-every 250]\n' +
    '  [--eval-batches 20] [--final-eval-batches 200] [--sample-tokens 500] [--seed 1337] [--variant auto|simd|relaxed|js]\n' +
    '  [--out runs/<name>] [--resume <checkpoint>]');
  process.exit(opt.help ? 0 : 1);
}
const num = (k: keyof typeof opt): number => {
  const v = Number(opt[k]);
  if (!Number.isFinite(v)) throw new Error(`--${k} must be a number, got ${String(opt[k])}`);
  return v;
};

const path = positionals[0]!;
const text = readFileSync(path, 'utf8');
const tok = CharTokenizer.fromText(text);
const { train: trainIds, val: valIds } = splitTokens(tok.encode(text), 0.9);
const out = opt.out ?? join('runs', basename(path).replace(/\.[^.]*$/, ''));
mkdirSync(out, { recursive: true });

const rt = await createRuntime({ variant: opt.variant as 'auto' });
const steps = num('steps');
const model = new GPT(rt, {
  vocabSize: tok.vocabSize, blockSize: num('block'), nLayer: num('layers'), nHead: num('heads'), dModel: num('d-model'), dropout: num('dropout'),
}, { seed: num('seed') });
const optimizer = new AdamW(model.params, { betas: [0.9, 0.99], weightDecay: num('weight-decay') });
const lr = cosineWithWarmup({ lr: num('lr'), minLr: num('min-lr'), warmupSteps: num('warmup'), decaySteps: steps });
const batchSize = num('batch');

console.log(`${basename(path)}: ${text.length.toLocaleString()} characters, vocabulary ${tok.vocabSize}, ` +
  `${trainIds.length.toLocaleString()} train / ${valIds.length.toLocaleString()} val tokens`);
console.log(`backend ${rt.backend}${rt.notes.length ? ` (${rt.notes.join('; ')})` : ''}; ` +
  `${(model.numParams() / 1e6).toFixed(2)}M parameters; ${JSON.stringify(model.config)}`);

const bar = new cliProgress.SingleBar({
  format: 'step {value}/{total} |{bar}| loss {loss} | lr {lr} | {tps} tok/s | eta {eta_formatted}',
  hideCursor: true,
}, cliProgress.Presets.shades_classic);
const curve: { step: number; loss: number; lr: number }[] = [];
const evals: EvalInfo[] = [];
let smoothed = NaN;
let started = false;
const t0 = performance.now();
const result = await train({
  model, optimizer, steps, lr, clip: num('clip'),
  data: { train: trainIds, val: valIds, batchSize, seed: num('seed') },
  evalEvery: num('eval-every'), evalBatches: num('eval-batches'),
  checkpoint: { every: num('eval-every'), path: join(out, 'ckpt.safetensors'), tokenizer: tok },
  resume: opt.resume,
  onStep: (s) => {
    if (!started) {
      bar.start(steps, s.step, { loss: '-', lr: '-', tps: '-' });
      started = true;
    }
    smoothed = Number.isNaN(smoothed) ? s.loss : 0.9 * smoothed + 0.1 * s.loss;
    curve.push({ step: s.step, loss: s.loss, lr: s.lr });
    bar.update(s.step + 1, { loss: smoothed.toFixed(4), lr: s.lr.toExponential(2), tps: Math.round(s.tokensPerSecond) });
  },
  onEval: (e) => {
    evals.push(e);
    bar.stop();
    console.log(`step ${e.step}: train loss ${e.train!.toFixed(4)}, val loss ${e.val!.toFixed(4)}`);
    if (e.step < steps) bar.start(steps, e.step, { loss: smoothed.toFixed(4), lr: '-', tps: '-' });
  },
});
bar.stop();
const trainSeconds = (performance.now() - t0) / 1000;

const finalBatches = num('final-eval-batches');
const finalTrain = evaluate(model, trainIds, { batchSize, batches: finalBatches });
const finalVal = evaluate(model, valIds, { batchSize, batches: finalBatches });
const peakMiB = rt.memoryReport().peakBytes / 2 ** 20;
const tokensPerSecond = ((result.steps - (curve[0]?.step ?? 0)) * batchSize * model.config.blockSize) / trainSeconds;
console.log(`\nfinal (${finalBatches} batches): train loss ${finalTrain.toFixed(4)}, val loss ${finalVal.toFixed(4)}`);
console.log(`wall time ${trainSeconds.toFixed(1)} s (${Math.round(tokensPerSecond)} tokens/s including evaluations), ` +
  `peak wasm memory ${peakMiB.toFixed(1)} MiB (memory ${(rt.memoryReport().memoryBytes / 2 ** 20).toFixed(1)} MiB)`);

const sample = generate(model, tok.encode('\n'), { maxNewTokens: num('sample-tokens'), temperature: 0.8, topK: 200, seed: num('seed') });
console.log(`\n--- sample (temperature 0.8, top-k 200) ---\n${tok.decode(sample.subarray(1))}\n---`);

const summary = {
  file: path, config: model.config, params: model.numParams(), backend: rt.backend, steps: result.steps,
  finalTrainLoss: finalTrain, finalValLoss: finalVal, evalBatches: finalBatches, wallSeconds: trainSeconds,
  tokensPerSecond, peakBytes: rt.memoryReport().peakBytes, evals, curve,
};
writeFileSync(join(out, 'loss.json'), JSON.stringify(summary, null, 1) + '\n');
writeFileSync(join(out, 'loss.csv'), toCsv(curve.map((c) => ({ ...c, val: evals.find((e) => e.step === c.step + 1)?.val }))));
writeFileSync(join(out, 'loss.svg'), lossCurveSvg([
  { name: 'train (per step)', points: curve.map((c) => ({ step: c.step + 1, value: c.loss })) },
  { name: 'train (eval)', points: evals.map((e) => ({ step: e.step, value: e.train! })) },
  { name: 'val (eval)', points: evals.map((e) => ({ step: e.step, value: e.val ?? NaN })) },
], { title: `${basename(path)}: ${model.numParams().toLocaleString()}-parameter GPT`, xLabel: 'step', yLabel: 'cross-entropy (nats)' }));
writeFileSync(join(out, 'sample.txt'), tok.decode(sample.subarray(1)) + '\n');
console.log(`wrote ${out}/{ckpt.safetensors, loss.json, loss.csv, loss.svg, sample.txt}`);
