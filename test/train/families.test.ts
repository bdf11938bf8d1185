// train() with any model that turns a batch into a loss: a Seq2Seq, a BERT and a ViT each
// trained from a BatchSource (that each family learns its task is tested in test/models/*-task) (batch i a function of (seed, i), so its state restores in O(1)),
// checkpointed at step 4 in the one model format, and resumed from those bytes: the resumed run
// logs exactly the losses of the uninterrupted one (dropout on, so the Rng is resumed too).
import { describe, expect, it } from 'vitest';
import { AdamW, BERT, createRuntime, evaluate, Rng, seededBatches, Seq2Seq, train, ValueError, ViT, type BatchSource, type Model, type Runtime, type Tensor } from '../../src/index.js';

const rt = await createRuntime({ variant: 'simd', threads: 1 });

/** seededBatches with a fixed item count. */
const source = (seed: number, items: number, make: (rng: Rng) => Tensor) => seededBatches(seed, (rng) => ({ loss: make(rng), items }));

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

describe('seededBatches and evaluate() for any model', () => {
  it('batch i is a function of (seed, i): a restored position continues the same batches', () => {
    const seen: number[] = [];
    const make = (seed: number) => seededBatches(seed, (rng, i) => {
      seen.push(rng.int(1 << 30));
      return { loss: rt.tensor([i], [1], { arena: 'step' }), items: 1 };
    });
    const a = make(5);
    rt.step.scope(() => { for (let i = 0; i < 4; i++) a.next(); });
    const firstFour = seen.splice(0);
    expect(a.state()).toEqual({ seed: 5, i: 4 });
    const b = make(5);
    b.setState({ seed: 5, i: 2 });
    rt.step.scope(() => { b.next(); b.next(); });
    expect(seen.splice(0)).toEqual(firstFour.slice(2));
    expect(() => b.checkState({ seed: 6, i: 2 })).toThrow(ValueError);
    expect(() => b.setState({ seed: 5, i: -1 })).toThrow(/is not one of this source's, expected \{ seed: 5, i: integer ≥ 0 \}/);
    expect(b.i).toBe(4);                                        // a refused position changes nothing
    expect(() => seededBatches(1.5, () => ({ loss: rt.tensor([0], [1]), items: 1 }))).toThrow(/seed is 1.5/);
  });

  it('evaluate(model, source) is the item-weighted mean loss, in eval mode, without gradients; the mode is restored', () => {
    const m = FAMILIES[1]!.make();
    const modes: boolean[] = [];
    const items = [1, 3];
    const src = seededBatches(3, (rng, i) => {
      modes.push(m.ctx.training, rt.tape.enabled);
      return { loss: rt.tensor([i + 1], [1], { arena: 'step' }), items: items[i % 2]! };
    });
    expect(evaluate(m, src, { batches: 2 })).toBe((1 * 1 + 2 * 3) / 4);
    expect(modes).toEqual([false, false, false, false]);
    expect(m.ctx.training).toBe(true);
    // the same fresh source twice gives the same number; a BERT's real loss is finite
    const real = () => evaluate(m, FAMILIES[1]!.batches(m), { batches: 3 });
    expect(real()).toBe(real());
    expect(Number.isFinite(real())).toBe(true);
    expect(() => evaluate(m, src, { batches: 0 })).toThrow(/batches is 0, expected an integer ≥ 1/);
    expect(() => evaluate(m as never, new Int32Array(50), { batchSize: 2 })).toThrow(/token windows evaluate a GPT; this is a bert model/);
    m.dispose();
  });
});
