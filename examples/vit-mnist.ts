// A Vision Transformer learns MNIST digits: the 10,000 images of the `mnist` package split
// (stratified, fixed seed) into 8,500 for training and 1,500 held out, never trained on.
// Training images get a fresh random augmentation each time they are drawn (shift ±2 px,
// rotation ±10°, scale ±10%, elastic distortion α 8 σ 3); AdamW with linear warmup and cosine
// decay; label smoothing 0.1. After each epoch the held-out set is scored. With --tune, a
// validation set of 1,000 cut from the training images is scored instead, and the held-out
// set is not touched: the defaults were chosen that way. Writes runs/vit/{summary.json,
// loss.svg, accuracy.svg, attention.svg, cls-attention.svg, model.safetensors, config.json} and prints
// where [CLS] looks in one held-out digit.
//
//   npm run vit-mnist                      (the defaults: 80 epochs, ≈ 98% held-out, ≈ 20 min)
//   npm run vit-mnist -- --epochs 10 --out runs/vit-quick
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exampleArgs } from './args.js';
import cliProgress from 'cli-progress';
import {
  AdamW, attentionMaps, attentionSvg, attentionTerminal, clsAttentionGrid, cosineWithWarmup, createRuntime, hfConfig, lossCurveSvg, Rng,
  saveModel, seededBatches, train,
} from '../src/index.js';
import { augmentImages, gatherImages, shuffle, stratifiedSplit, type AugmentOptions } from '../src/data/images.js';
import { ViT } from '../src/models/vit.js';
import { evaluateImages, loadMnist, MNIST_PIXELS, splitMnist, type Scores } from './mnist.js';

const { values: opt, num } = exampleArgs('vit-mnist', {
  epochs: { type: 'string', default: '80' },
  batch: { type: 'string', default: '64' },
  patch: { type: 'string', default: '7' },
  'd-model': { type: 'string', default: '64' },
  layers: { type: 'string', default: '6' },
  heads: { type: 'string', default: '4' },
  'd-ff': { type: 'string', default: '128' },
  dropout: { type: 'string', default: '0' },
  lr: { type: 'string', default: '2e-3' },
  'min-lr': { type: 'string', default: '2e-5' },
  'warmup-epochs': { type: 'string', default: '3' },
  'weight-decay': { type: 'string', default: '0.05' },
  clip: { type: 'string', default: '1' },
  smoothing: { type: 'string', default: '0.1' },
  shift: { type: 'string', default: '2' },
  rotate: { type: 'string', default: '10' },
  scale: { type: 'string', default: '0.1' },
  'elastic-alpha': { type: 'string', default: '8' },
  'elastic-sigma': { type: 'string', default: '3' },
  seed: { type: 'string', default: '1' },
  'split-seed': { type: 'string', default: '2024' },
  tune: { type: 'boolean', default: false },
  variant: { type: 'string', default: 'auto' },
  out: { type: 'string', default: 'runs/vit' },
  help: { type: 'boolean', short: 'h', default: false },
});
if (opt.help) {
  console.log('usage: npm run vit-mnist -- [--epochs 80] [--batch 64] [--patch 7] [--d-model 64] [--layers 6] [--heads 4] [--d-ff 128]\n' +
    '  [--dropout 0] [--lr 2e-3] [--min-lr 2e-5] [--warmup-epochs 3] [--weight-decay 0.05] [--clip 1] [--smoothing 0.1]\n' +
    '  [--shift 2] [--rotate 10] [--scale 0.1] [--elastic-alpha 8] [--elastic-sigma 3] [--seed 1] [--split-seed 2024] [--tune] [--variant auto|simd|relaxed|js] [--out runs/vit]');
  process.exit(0);
}

// Data: 8,500 train / 1,500 held out; with --tune, 1,000 of the 8,500 become the evaluation set.
const data = loadMnist();
const split = splitMnist(data.labels, num('split-seed'));
let trainSet = split.train;
let evalSet = split.test;
const evalName = opt.tune ? 'validation' : 'held-out';
if (opt.tune) {
  const inner = stratifiedSplit(Array.from(split.train, (i) => data.labels[i]!), 1000 / split.train.length, num('split-seed') + 1);
  trainSet = inner.train.map((i) => split.train[i]!);
  evalSet = inner.test.map((i) => split.train[i]!);
}

const rt = await createRuntime({ variant: opt.variant as 'auto' });
const model = new ViT(rt, {
  imageSize: 28, patchSize: num('patch'), channels: 1, numClasses: 10, nLayer: num('layers'), nHead: num('heads'),
  dModel: num('d-model'), dFF: num('d-ff'), dropout: num('dropout'),
}, { seed: num('seed') });
const B = num('batch');
const epochs = num('epochs');
const stepsPerEpoch = Math.floor(trainSet.length / B);   // the last partial batch of each shuffle is dropped
const steps = epochs * stepsPerEpoch;
const optimizer = new AdamW(model.params, { betas: [0.9, 0.999], weightDecay: num('weight-decay') });
const lr = cosineWithWarmup({ lr: num('lr'), minLr: num('min-lr'), warmupSteps: Math.min(num('warmup-epochs') * stepsPerEpoch, Math.floor(steps / 2)), decaySteps: steps });   // at most half a short run
const augment: AugmentOptions = { shift: num('shift'), rotate: num('rotate'), scale: num('scale') };
if (num('elastic-alpha') > 0) augment.elastic = { alpha: num('elastic-alpha'), sigma: num('elastic-sigma') };

console.log(`MNIST: ${trainSet.length} training images, ${evalSet.length} ${evalName} (split seed ${num('split-seed')})`);
console.log(`backend ${rt.backend}${rt.notes.length ? ` (${rt.notes.join('; ')})` : ''}; ${model.numParams().toLocaleString()} parameters; ` +
  `${model.numPatches + 1} tokens per image; ${JSON.stringify(model.config)}`);

// Batch i of the run: epoch ⌊i / stepsPerEpoch⌋ is a shuffle of its own seeded by (seed, epoch),
// each batch's augmentation an Rng of its own seeded by (seed, i): a checkpoint resumes exactly.
const shuffled = { epoch: -1, order: Int32Array.from(trainSet) };
const x = new Float32Array(B * MNIST_PIXELS);
const y = new Int32Array(B);
const batches = seededBatches(num('seed') + 7, (rng, i) => {
  const epoch = Math.floor(i / stepsPerEpoch), s = i % stepsPerEpoch;
  if (shuffled.epoch !== epoch) {
    shuffled.order.set(trainSet);
    shuffle(shuffled.order, Rng.at(num('seed') + 8, epoch));
    shuffled.epoch = epoch;
  }
  gatherImages(x, y, data.images, data.labels, shuffled.order.subarray(s * B, (s + 1) * B), MNIST_PIXELS);
  augmentImages(x, { n: B, C: 1, H: 28, W: 28 }, augment, rng);
  return { loss: model.forward(x, y, { smoothing: num('smoothing') }).loss!, items: B };
});
const evals: ({ epoch: number; step: number; trainLoss: number; seconds: number } & Scores)[] = [];
const bar = new cliProgress.SingleBar({
  format: 'epoch {epoch} |{bar}| {value}/{total} | loss {loss} | {ips} img/s | eta {eta_formatted}', hideCursor: true,
}, cliProgress.Presets.shades_classic);
let trainSeconds = 0, sum = 0, te = 0;
const t0 = performance.now();
const run = await train({
  model, optimizer, batches, steps, lr, clip: num('clip'), evalEvery: stepsPerEpoch,
  evaluate: () => ({ ...evaluateImages(model, data, evalSet) }),
  onStep: ({ step, loss }) => {
    const epoch = Math.floor(step / stepsPerEpoch) + 1, s = step % stepsPerEpoch;
    if (s === 0) {
      bar.start(stepsPerEpoch, 0, { epoch, loss: '-', ips: '-' });
      te = performance.now();
      sum = 0;
    }
    sum += loss;
    bar.update(s + 1, { epoch, loss: (sum / (s + 1)).toFixed(4), ips: Math.round(((s + 1) * B) / ((performance.now() - te) / 1000)) });
    if (s + 1 === stepsPerEpoch) {
      bar.stop();
      trainSeconds += (performance.now() - te) / 1000;
    }
  },
  onEval: (e) => {
    const scores = { loss: e.loss!, accuracy: e.accuracy! };
    evals.push({ epoch: e.step / stepsPerEpoch, step: e.step, trainLoss: sum / stepsPerEpoch, seconds: (performance.now() - t0) / 1000, ...scores });
    console.log(`epoch ${e.step / stepsPerEpoch}: train loss ${(sum / stepsPerEpoch).toFixed(4)} (smoothed labels), ${evalName} loss ${scores.loss.toFixed(4)}, ` +
      `accuracy ${(100 * scores.accuracy).toFixed(2)}%`);
  },
});
const curve = run.losses;
const wallSeconds = (performance.now() - t0) / 1000;
const imagesPerSecond = (steps * B) / trainSeconds;
const final = evals.at(-1)!;
const peakBytes = rt.memoryReport().peakBytes;
console.log(`\n${evalName} accuracy ${(100 * final.accuracy).toFixed(2)}% (${Math.round(final.accuracy * evalSet.length)}/${evalSet.length}) ` +
  `after ${epochs} epochs; wall time ${wallSeconds.toFixed(0)} s; ${Math.round(imagesPerSecond)} training images/s; ` +
  `peak wasm memory ${(peakBytes / 2 ** 20).toFixed(1)} MiB`);

// Where [CLS] looks in the first held-out digit, last layer, mean of the heads.
model.keepAttention();
const first = evalSet[0]!;
const digit = data.images.slice(first * MNIST_PIXELS, (first + 1) * MNIST_PIXELS);
const [guess] = model.predict(digit);
const maps = attentionMaps(model);         // (layers, heads, N + 1, N + 1), labelled CLS, p0, p1, …
const clsMaps = clsAttentionGrid(maps);    // (layers, heads, H/P, W/P)
model.keepAttention(false);
console.log(`\n${evalName} image ${first}: label ${data.labels[first]}, predicted ${guess}`);
for (let r = 0; r < 28; r += 2) {
  let line = '';
  for (let c = 0; c < 28; c++) line += ' ░▒▓█'[Math.min(4, Math.round(digit[r * 28 + c]! * 4))];
  console.log(line);
}
console.log(attentionTerminal(clsMaps, { average: true, color: process.stdout.isTTY ?? false }));

mkdirSync(opt.out!, { recursive: true });
const title = `digit ${data.labels[first]} (${evalName} image ${first}, predicted ${guess})`;
writeFileSync(join(opt.out!, 'attention.svg'), attentionSvg(maps, { title: `ViT attention, ${title}` }));
writeFileSync(join(opt.out!, 'cls-attention.svg'), attentionSvg(clsMaps, { title: `[CLS] → patch grid, ${title}`, cell: 16 }));
writeFileSync(join(opt.out!, 'loss.svg'), lossCurveSvg([
  { name: 'train (per step, smoothed labels)', points: curve.map((c) => ({ step: c.step + 1, value: c.loss })) },
  { name: `${evalName} (per epoch)`, points: evals.map((e) => ({ step: e.step, value: e.loss })) },
], { title: `ViT on MNIST: ${model.numParams().toLocaleString()} parameters`, xLabel: 'step', yLabel: 'cross-entropy (nats)', logY: true }));
writeFileSync(join(opt.out!, 'accuracy.svg'), lossCurveSvg([
  { name: `${evalName} accuracy`, points: evals.map((e) => ({ step: e.epoch, value: 100 * e.accuracy })) },
], { title: `ViT on MNIST: ${evalName} accuracy`, xLabel: 'epoch', yLabel: 'accuracy (%)' }));
// the one model format (loadModel(rt, bytes) gives this ViT back); config.json for transformers' ViTForImageClassification
writeFileSync(join(opt.out!, 'model.safetensors'), saveModel(model));
writeFileSync(join(opt.out!, 'config.json'), JSON.stringify(hfConfig(model), null, 2) + '\n');
writeFileSync(join(opt.out!, 'summary.json'), JSON.stringify({
  config: model.config, params: model.numParams(), backend: rt.backend, options: opt, train: trainSet.length, [evalName]: evalSet.length,
  finalAccuracy: final.accuracy, finalLoss: final.loss, epochs, stepsPerEpoch, wallSeconds, trainSeconds, imagesPerSecond, peakBytes, evals,
}, null, 1) + '\n');
console.log(`wrote ${opt.out}/{summary.json, loss.svg, accuracy.svg, attention.svg, cls-attention.svg, model.safetensors, config.json}`);
