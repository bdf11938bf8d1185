// Gradient checkpointing (Model.setCheckpoint, nn/stack.ts, fn/checkpoint.ts): the same losses and
// gradients, bit for bit, as training without it — every layer or segments of two, with dropout
// (the recompute draws the same masks, and the Rng ends where it would have), over several AdamW
// steps, for GPT, BERT (padding masks), a Seq2Seq (cross-attention: the encoder output's gradient
// comes out of the recomputed decoder) and ViT — while the step arena holds less; and bad values.
import { describe, expect, it } from 'vitest';
import { AdamW, BERT, checkpoint, createRuntime, GPT, matmul, Seq2Seq, ShapeError, trainStep, ValueError, ViT, type Model, type Tensor } from '../../src/index.js';

const rt = await createRuntime({ variant: 'simd', threads: 1 });
const bits = (x: Float32Array) => Array.from(new Int32Array(x.slice().buffer));
const i32 = (d: number[], shape: number[]) => rt.tensor(d, shape, { dtype: 'i32', arena: 'step' });
const ids = (n: number, v: number, salt: number) => Array.from({ length: n }, (_, i) => (i * 7 + salt * 3 + ((i * i) >> 2)) % v);

/** Trains `steps` AdamW steps; returns each step's loss, the gradients after each, and the step arena's peak. */
function run(model: Model, loss: (step: number) => Tensor, steps: number): { losses: number[]; grads: number[][]; peak: number } {
  const opt = new AdamW(model.params, { weightDecay: 0.1 });
  const losses: number[] = [], grads: number[][] = [];
  let peak = 0;
  for (let step = 0; step < steps; step++) {
    rt.step.reset();
    rt.step.resetPeak();
    const r = trainStep(model, opt, () => loss(step), { step, lr: 3e-3, clip: 1 });
    peak = Math.max(peak, rt.memoryReport().step.peakBytes);
    losses.push(r.loss);
    grads.push(bits(model.params.grads.f32()));
  }
  opt.dispose();
  return { losses, grads, peak };
}

describe('gradient checkpointing', () => {
  it('GPT: identical losses and gradients, every layer or every two, with dropout; less step memory', () => {
    const cfg = { vocabSize: 23, blockSize: 64, nLayer: 4, nHead: 2, dModel: 32, dropout: 0.1 };
    const B = 4, T = 64;
    const batch = (m: GPT) => (step: number) => m.forward(i32(ids(B * T, 23, step), [B, T]), i32(ids(B * T, 23, step + 1), [B, T])).loss!;
    // off, every layer, segments of two, and every layer but only the first two (the last two keep their activations)
    const results = ([0, 1, 2, { every: 1, segments: 2 }] as const).map((checkpoint) => {
      const m = new GPT(rt, cfg, { seed: 9, checkpoint });
      const r = run(m, batch(m), 3);
      const rngAfter = m.ctx.rng.nextU32();
      m.dispose();
      return { ...r, rngAfter };
    });
    for (const r of results.slice(1)) {
      expect(r.losses).toEqual(results[0]!.losses);
      for (let s = 0; s < 3; s++) expect(r.grads[s]).toEqual(results[0]!.grads[s]);
      expect(r.rngAfter).toBe(results[0]!.rngAfter);   // dropout's Rng ends where it would have
    }
    // kept activations: 4 layers' worth without, one layer's input each plus one layer's recompute with (memory is deterministic)
    expect(results[1]!.peak).toBeLessThan(0.5 * results[0]!.peak);
    expect(results[2]!.peak).toBeLessThan(results[0]!.peak);
    expect(results[3]!.peak).toBeLessThan(results[0]!.peak);
    expect(results[3]!.peak).toBeGreaterThan(results[1]!.peak);
    console.log(`GPT 4 layers, B ${B} T ${T}: step arena peak ${results.map((r) => (r.peak / 2 ** 20).toFixed(2)).join(' / ')} MiB (off / every layer / every 2 / first 2 layers)`);
  });

  it('BERT with a padding mask, Seq2Seq (cross-attention) and ViT: identical gradients', () => {
    const cases: [string, (every: number) => { model: Model; loss: (step: number) => Tensor }][] = [
      ['bert', (every) => {
        const model = new BERT(rt, { vocabSize: 30, maxPositions: 16, nLayer: 3, nHead: 2, dModel: 32, dFF: 64, dropout: 0.1 }, { seed: 4, checkpoint: every });
        return { model, loss: (step) => {
          const mask = i32(Array.from({ length: 3 * 16 }, (_, i) => ((i % 16) < 16 - (i >> 4) * 3 ? 1 : 0)), [3, 16]);
          return (model as BERT).mlm(i32(ids(48, 30, step), [3, 16]), i32(ids(48, 30, step + 5).map((x, i) => (i % 5 ? -100 : x)), [3, 16]), { attentionMask: mask }).loss!;
        } };
      }],
      ['seq2seq', (every) => {
        const model = new Seq2Seq(rt, { srcVocabSize: 20, tgtVocabSize: 20, maxPositions: 16, nLayer: 2, nHead: 2, dModel: 32, dFF: 64, dropout: 0.1 }, { seed: 5, checkpoint: every });
        return { model, loss: (step) => (model as Seq2Seq).forward(i32(ids(30, 20, step).map((x) => 3 + (x % 17)), [3, 10]),
          i32(ids(24, 20, step + 2).map((x) => 3 + (x % 17)), [3, 8]), i32(ids(24, 20, step + 3).map((x) => 3 + (x % 17)), [3, 8])).loss! };
      }],
      ['vit', (every) => {
        const model = new ViT(rt, { imageSize: 8, patchSize: 4, channels: 1, numClasses: 3, nLayer: 2, nHead: 2, dModel: 16, dFF: 32, dropout: 0.1 }, { seed: 6, checkpoint: every });
        return { model, loss: (step) => (model as ViT).forward(Float32Array.from({ length: 4 * 64 }, (_, i) => Math.sin(i * 0.37 + step)), [0, 1, 2, (step % 3)]).loss! };
      }],
    ];
    for (const [name, make] of cases) {
      const out = [0, 1].map((every) => {
        const { model, loss } = make(every);
        const r = run(model, loss, 2);
        model.dispose();
        return r;
      });
      expect(out[1]!.losses, name).toEqual(out[0]!.losses);
      for (let s = 0; s < 2; s++) expect(out[1]!.grads[s], `${name} step ${s}`).toEqual(out[0]!.grads[s]);
    }
  });

  it('refuses a segment length that is not an integer ≥ 0, and a segment that changes shape, naming them', () => {
    const m = new GPT(rt, { vocabSize: 5, blockSize: 4, nLayer: 1, nHead: 1, dModel: 8 });
    for (const bad of [-1, 1.5, NaN, Infinity]) expect(() => m.setCheckpoint(bad)).toThrow(new ValueError(`GPT: checkpoint is ${bad}, expected an integer ≥ 0 (layers per checkpointed segment; 0 = off)`));
    expect(() => m.setCheckpoint(1, -1)).toThrow(new ValueError('GPT: checkpoint segments is -1, expected an integer ≥ 0 (how many segments recompute)'));
    expect(() => new GPT(rt, { vocabSize: 5, blockSize: 4, nLayer: 1, nHead: 1, dModel: 8 }, { checkpoint: -2 })).toThrow(/checkpoint is -2/);
    m.dispose();
    // a segment that does not keep its input's shape cannot be checkpointed: named, and the tape and arena left as they were
    const x = rt.randn([2, 3], { seed: 1 });
    x.requiresGrad = true;
    const nodes = rt.tape.length, used = rt.memoryReport().step.usedBytes;
    expect(() => checkpoint(rt, (h) => matmul(rt, h, rt.randn([3, 4], { seed: 2, arena: 'step' })), x))
      .toThrow(new ShapeError('checkpoint: the segment maps [2, 3] to [2, 4]; a checkpointed segment must keep its input\'s shape'));
    expect([rt.tape.length, rt.memoryReport().step.usedBytes]).toEqual([nodes, used]);
    rt.tape.clear();
  });
});
