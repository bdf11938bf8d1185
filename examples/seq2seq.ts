// The original Transformer ("Attention Is All You Need": post-norm encoder–decoder, sinusoidal
// positions, shared embeddings scaled by √d, ReLU, label smoothing 0.1, Adam β = (0.9, 0.98),
// ε = 1e-9 with the Noam schedule) learning to reverse digit strings of 1 … 12 digits. The
// held-out strings (a fixed 10% by hash) are never trained on; at the end they are decoded by
// greedy search and by beam search (k = 4, length penalty α = 0.6), and the cross-attention of
// one example is drawn (its anti-diagonal is the reversal).
//
//   npm run seq2seq                         (defaults below; ≈ 5 minutes on 2 cores)
//   npm run seq2seq -- --steps 500 --max-len 8 --out runs/quick
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exampleArgs } from './args.js';
import cliProgress from 'cli-progress';
import {
  AdamW, attentionMaps, attentionSvg, attentionTerminal, beamSearch, createRuntime, greedyDecode, lossCurveSvg, noam, saveModel, Seq2Seq, seededBatches,
  toCsv, train,
} from '../src/index.js';
import { BOS, decodeDigits, EOS, PAD, ReverseTask, VOCAB, type Pair } from './seq2seq/task.js';

const { values: opt, num } = exampleArgs('seq2seq', {
  steps: { type: 'string', default: '3000' },
  batch: { type: 'string', default: '64' },
  'max-len': { type: 'string', default: '12' },
  'd-model': { type: 'string', default: '64' },
  layers: { type: 'string', default: '2' },
  heads: { type: 'string', default: '4' },
  'd-ff': { type: 'string', default: '256' },
  dropout: { type: 'string', default: '0' },
  norm: { type: 'string', default: 'post' },
  warmup: { type: 'string', default: '400' },
  factor: { type: 'string', default: '0.25' },
  smoothing: { type: 'string', default: '0.1' },
  clip: { type: 'string', default: '1' },
  beam: { type: 'string', default: '4' },
  alpha: { type: 'string', default: '0.6' },
  'eval-every': { type: 'string', default: '250' },
  'eval-size': { type: 'string', default: '200' },
  'test-size': { type: 'string', default: '1000' },
  seed: { type: 'string', default: '1' },
  variant: { type: 'string', default: 'auto' },
  out: { type: 'string', default: 'runs/seq2seq' },
  help: { type: 'boolean', short: 'h', default: false },
});
if (opt.help) {
  console.log('usage: npm run seq2seq -- [--steps 3000] [--batch 64] [--max-len 12] [--d-model 64] [--layers 2] [--heads 4] [--d-ff 256]\n' +
    '  [--dropout 0] [--norm post|pre] [--warmup 400] [--factor 0.25] [--smoothing 0.1] [--clip 1] [--beam 4] [--alpha 0.6]\n' +
    '  [--eval-every 250] [--eval-size 200] [--test-size 1000] [--seed 1] [--variant auto|simd|relaxed|js] [--out runs/seq2seq]');
  process.exit(0);
}
const steps = num('steps'), B = num('batch'), maxLen = num('max-len'), dModel = num('d-model');
const rt = await createRuntime(opt.variant === 'auto' ? {} : { variant: opt.variant as 'simd' | 'relaxed' | 'js' });
for (const note of rt.notes) console.log(`note: ${note}`);
const model = new Seq2Seq(rt, {
  srcVocabSize: VOCAB, tgtVocabSize: VOCAB, maxPositions: maxLen + 2, nLayer: num('layers'), nHead: num('heads'), dModel, dFF: num('d-ff'),
  dropout: num('dropout'), norm: opt.norm as 'pre' | 'post', activation: 'relu', padId: PAD, bosId: BOS, eosId: EOS, shareEmbeddings: true,
}, { seed: num('seed') });
console.log(`Seq2Seq: ${model.numParams().toLocaleString('en-US')} parameters, ${model.config.nLayer}+${model.config.nDecoderLayer} layers, d=${dModel}, ${opt.norm}-norm, backend ${rt.backend}`);
const optimizer = new AdamW(model.params, { betas: [0.9, 0.98], eps: 1e-9, weightDecay: 0 });
const lrAt = noam({ dModel, warmupSteps: num('warmup'), factor: num('factor') });
const task = new ReverseTask(maxLen, num('seed'));
const exact = (pairs: Pair[], outs: number[][]) => outs.filter((o, i) => o.join() === pairs[i]!.tgt.join()).length / pairs.length;
const heldOut = (n: number, seed: number) => { const t = new ReverseTask(maxLen, seed); return Array.from({ length: n }, () => t.sample('test')); };
const evalSet = heldOut(num('eval-size'), 1001);

const bar = new cliProgress.SingleBar({ format: 'train |{bar}| {value}/{total} loss {loss} lr {lr} held-out exact {acc}', hideCursor: true }, cliProgress.Presets.shades_classic);
bar.start(steps, 0, { loss: '-', lr: '-', acc: '-' });
const t0 = performance.now();
let smoothed = NaN, tokens = 0;
// batch i from its own Rng seeded by (seed, i): the run is a function of the seed, and resumable
const batches = seededBatches(num('seed'), (rng) => {
  const b = task.batch(B, 'train', rng);
  const ids = (d: Int32Array, T: number) => rt.tensor(d, [b.B, T], { dtype: 'i32', arena: 'step' });
  tokens += b.B * (b.S + b.T);
  return { loss: model.forward(ids(b.src, b.S), ids(b.tgtIn, b.T), ids(b.tgtOut, b.T), { smoothing: num('smoothing') }).loss!, items: b.B * (b.S + b.T) };
});
const run = await train({
  model, optimizer, batches, steps, lr: lrAt, clip: num('clip'), evalEvery: num('eval-every'),
  evaluate: () => ({ exact: exact(evalSet, greedyDecode(model, evalSet.map((p) => p.src), { maxLength: maxLen + 1 })) }),
  onStep: ({ step, loss, lr }) => {
    smoothed = Number.isNaN(smoothed) ? loss : 0.95 * smoothed + 0.05 * loss;
    bar.update(step + 1, { loss: smoothed.toFixed(3), lr: lr.toExponential(2) });
  },
  onEval: (e) => bar.update(e.step, { acc: e.exact!.toFixed(3) }),
});
bar.stop();
const curve = run.losses;
const evals = run.evals.map((e) => ({ step: e.step, exact: e.exact! }));
const trainMs = performance.now() - t0;

// Final test: held-out strings the model never saw, greedy and beam search.
const test = heldOut(num('test-size'), 2002);
const d0 = performance.now();
const greedy = greedyDecode(model, test.map((p) => p.src), { maxLength: maxLen + 1 });
const greedyMs = performance.now() - d0;
const b0 = performance.now();
const beams = test.map((p) => beamSearch(model, p.src, { beamSize: num('beam'), lengthPenalty: num('alpha'), maxLength: maxLen + 1 })[0]!.tokens);
const beamMs = performance.now() - b0;
const byLength = Array.from({ length: maxLen }, (_, n) => {
  const idx = test.map((p, i) => [p, i] as const).filter(([p]) => p.src.length === n + 1).map(([, i]) => i);
  return { length: n + 1, count: idx.length, greedy: idx.filter((i) => greedy[i]!.join() === test[i]!.tgt.join()).length / Math.max(1, idx.length) };
});
const summary = {
  task: `reverse 1…${maxLen} digits`, parameters: model.numParams(), steps, batch: B, backend: rt.backend,
  heldOut: test.length, greedyExact: exact(test, greedy), beamExact: exact(test, beams), beamSize: num('beam'), alpha: num('alpha'),
  trainSeconds: +(trainMs / 1000).toFixed(1), tokensPerSecond: Math.round(tokens / (trainMs / 1000)),
  greedyMsPerSequence: +(greedyMs / test.length).toFixed(2), beamMsPerSequence: +(beamMs / test.length).toFixed(2),
  peakMiB: +(rt.memoryReport().peakBytes / 2 ** 20).toFixed(1), evals, byLength,
};
console.log(`held-out exact match over ${test.length} strings: greedy ${(100 * summary.greedyExact).toFixed(1)}%, beam(${summary.beamSize}) ${(100 * summary.beamExact).toFixed(1)}%`);
console.log(`train ${summary.trainSeconds} s (${summary.tokensPerSecond} tokens/s), peak ${summary.peakMiB} MiB; decode ${summary.greedyMsPerSequence} ms/seq greedy (batched), ${summary.beamMsPerSequence} ms/seq beam`);
const wrong = test.map((p, i) => [p, i] as const).filter(([p, i]) => greedy[i]!.join() !== p.tgt.join()).slice(0, 5);
for (const [p, i] of wrong) console.log(`  miss: ${decodeDigits(p.src)} → ${decodeDigits(greedy[i]!)} (want ${decodeDigits(p.tgt)})`);

// Cross-attention of one held-out example: decoder position t looks at source position S−1−t.
const ex = test.find((p) => p.src.length === Math.min(maxLen, 10)) ?? test[0]!;
model.keepAttention();
rt.step.scope(() => rt.tape.noGrad(() => {
  model.eval();
  const tgtIn = [BOS, ...ex.tgt];
  model.forward(rt.tensor(ex.src, [1, ex.src.length], { dtype: 'i32', arena: 'step' }), rt.tensor(tgtIn, [1, tgtIn.length], { dtype: 'i32', arena: 'step' }));
}));
const labels = { srcLabels: [...decodeDigits(ex.src)], tgtLabels: ['<s>', ...decodeDigits(ex.tgt)] };
const maps = attentionMaps(model, { select: 'cross', queryLabels: labels.tgtLabels, keyLabels: labels.srcLabels });
console.log(attentionTerminal(maps, { layer: maps.layers - 1, average: true }));

const out = opt.out!;
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'summary.json'), JSON.stringify(summary, null, 1) + '\n');
writeFileSync(join(out, 'loss.csv'), toCsv(curve.map((c) => ({ ...c, heldOutExact: evals.find((e) => e.step === c.step + 1)?.exact }))));
writeFileSync(join(out, 'loss.svg'), lossCurveSvg([
  { name: 'train loss (label-smoothed)', points: curve.map((c) => ({ step: c.step, value: c.loss })) },
  { name: 'held-out exact match', points: evals.map((e) => ({ step: e.step, value: e.exact })) },
], { title: `Seq2Seq: reversing 1…${maxLen} digits`, yLabel: 'loss / exact match' }));
writeFileSync(join(out, 'cross-attention.svg'), attentionSvg(maps, { title: `cross-attention, ${decodeDigits(ex.src)} → ${decodeDigits(ex.tgt)}` }));
writeFileSync(join(out, 'model.safetensors'), saveModel(model));   // loadModel(rt, bytes) gives this model back
console.log(`wrote ${out}/{summary.json, loss.csv, loss.svg, cross-attention.svg, model.safetensors}`);
