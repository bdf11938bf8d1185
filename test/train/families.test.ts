// train() with any model that turns a batch into a loss: a Seq2Seq, a BERT and a ViT each
// trained from a BatchSource (that each family learns its task is tested in test/models/*-task) (batch i a function of (seed, i), so its state restores in O(1)),
// checkpointed at step 4 in the one model format, and resumed from those bytes: the resumed run
// logs exactly the losses of the uninterrupted one (dropout on, so the Rng is resumed too).
import { describe, expect, it } from 'vitest';
import { AdamW, BERT, createRuntime, Rng, Seq2Seq, train, ValueError, ViT, type BatchSource, type Model, type Runtime, type Tensor } from '../../src/index.js';

const rt = await createRuntime({ variant: 'simd', threads: 1 });

/** A BatchSource whose batch i comes from `make(new Rng(seed·i), …)`. */
function source(seed: number, items: number, make: (rng: Rng) => Tensor): BatchSource & { i: number } {
  return {
    i: 0,
    next() {
      const loss = make(new Rng((seed * 1000003 + this.i++) >>> 0));
      return { loss, items };
    },
    state() { return { i: this.i }; },
    checkState(s) { if (!Number.isSafeInteger((s as { i?: unknown })?.i)) throw new ValueError(`bad batch position ${JSON.stringify(s)}`); },
    setState(s) { this.i = (s as { i: number }).i; },
  };
}

const ints = (rt: Runtime, rows: number[][]) => rt.tensor(rows.flat(), [rows.length, rows[0]!.length], { dtype: 'i32', arena: 'step' });

const FAMILIES: { name: string; make: () => Model; batches: (m: Model) => BatchSource }[] = [
  {
    name: 'Seq2Seq (copy task)',
    make: () => new Seq2Seq(rt, { srcVocabSize: 9, tgtVocabSize: 9, maxPositions: 8, nLayer: 1, nHead: 2, dModel: 16, dFF: 32, dropout: 0.1, padId: 0, bosId: 1, eosId: 2 }, { seed: 4 }),
    batches: (m) => source(11, 8 * 5, (rng) => {
      const src = Array.from({ length: 8 }, () => Array.from({ length: 4 }, () => 3 + rng.int(6)));
      const tgtIn = src.map((r) => [1, ...r]), tgtOut = src.map((r) => [...r, 2]);
      return (m as Seq2Seq).forward(ints(rt, src), ints(rt, tgtIn), ints(rt, tgtOut)).loss!;
    }),
  },
  {
    name: 'BERT (sequence classification)',
    make: () => new BERT(rt, { vocabSize: 13, maxPositions: 8, nLayer: 1, nHead: 2, dModel: 16, dFF: 32, numLabels: 3, dropout: 0.1 }, { seed: 4 }),
    batches: (m) => source(12, 8 * 6, (rng) => {
      const ids = Array.from({ length: 8 }, () => Array.from({ length: 6 }, () => 1 + rng.int(12)));
      const labels = ids.map((r) => r[1]! % 3);
      return (m as BERT).classify(ints(rt, ids), rt.tensor(labels, [8], { dtype: 'i32', arena: 'step' })).loss!;
    }),
  },
  {
    name: 'ViT (image classification)',
    make: () => new ViT(rt, { imageSize: 6, patchSize: 3, channels: 1, numClasses: 2, nLayer: 1, nHead: 2, dModel: 16, dFF: 32, dropout: 0.1 }, { seed: 4 }),
    batches: (m) => source(13, 8, (rng) => {
      const labels = Array.from({ length: 8 }, () => rng.int(2));
      const pixels = Float32Array.from({ length: 8 * 36 }, (_, i) => (labels[Math.floor(i / 36)]! ? 1 : -1) * 0.5 + rng.normal() * 0.3);
      return (m as ViT).forward(pixels, labels).loss!;
    }),
  },
];

describe.each(FAMILIES)('train() with $name', ({ make, batches }) => {
  it('trains, checkpoints at step 4 and resumes with exactly the uninterrupted losses', async () => {
    const common = { steps: 10, lr: 3e-3, clip: 1 };
    const a = make(), optA = new AdamW(a.params);
    let at4: Uint8Array | null = null;
    const full = await train({ model: a, optimizer: optA, batches: batches(a), ...common, checkpoint: { every: 4, write: (b, step) => { if (step === 4) at4 = b.slice(); } } });
    expect(full.losses).toHaveLength(10);
    expect(new Set(full.losses.map((l) => l.loss)).size).toBe(10);            // ten different batches, ten updates
    expect(at4).not.toBeNull();
    const b = make(), optB = new AdamW(b.params);
    const resumed = await train({ model: b, optimizer: optB, batches: batches(b), ...common, resume: at4! });
    expect(resumed.losses.map((l) => l.step)).toEqual([4, 5, 6, 7, 8, 9]);
    expect(resumed.losses).toEqual(full.losses.slice(4));
    a.dispose(); b.dispose(); optA.dispose(); optB.dispose();
  });
});

describe('train() input checks', () => {
  it('needs exactly one of data and batches, data only for a GPT, evaluate with evalEvery', async () => {
    const m = FAMILIES[2]!.make(), opt = new AdamW(m.params);
    await expect(train({ model: m, optimizer: opt, steps: 1, lr: 1e-3 })).rejects.toThrow(/exactly one of `data`/);
    await expect(train({ model: m, optimizer: opt, steps: 1, lr: 1e-3, data: { train: new Int32Array(100), batchSize: 2 } })).rejects.toThrow(/trains a GPT; this is a vit model/);
    await expect(train({ model: m, optimizer: opt, steps: 1, lr: 1e-3, batches: FAMILIES[2]!.batches(m), evalEvery: 1 })).rejects.toThrow(/evalEvery needs `evaluate`/);
    m.dispose();
  });
});
