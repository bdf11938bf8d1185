// Gradient accumulation: one update from n micro-batches equals one update from their union as
// a single batch (token-mean losses, equal sizes) to f32 rounding, while the step arena holds one
// micro-batch's activations; train({ accumulate }) draws n batches per update and resumes exactly.
import { describe, expect, it } from 'vitest';
import { AdamW, createRuntime, GPT, SGD, train, trainStep } from '../../src/index.js';

const rt = await createRuntime({ variant: 'simd', threads: 1 });
const cfg = { vocabSize: 11, blockSize: 8, nLayer: 2, nHead: 2, dModel: 16 };
const B = 4, T = 8, N = 3;
const rows = Array.from({ length: N * B * T }, (_, i) => (i * 7 + (i >> 3)) % 11);
const next = Array.from({ length: N * B * T }, (_, i) => (i * 5 + 3) % 11);
const i32 = (d: number[], b: number) => rt.tensor(d, [b, T], { dtype: 'i32', arena: 'step' });

describe('gradient accumulation', () => {
  it('n micro-batches give the gradients and loss of their union as one batch', () => {
    const big = new GPT(rt, cfg, { seed: 3 }), acc = new GPT(rt, cfg, { seed: 3 });
    const sgdBig = new SGD(big.params), sgdAcc = new SGD(acc.params);
    let peakBig = 0, peakMicro = 0;
    const one = trainStep(big, sgdBig, () => {
      const loss = big.forward(i32(rows, N * B), i32(next, N * B)).loss!;
      peakBig = rt.memoryReport().step.usedBytes;
      return loss;
    }, { step: 0, lr: 1e-9 });
    const micro = trainStep(acc, sgdAcc, (i) => {
      const part = (d: number[]) => d.slice(i * B * T, (i + 1) * B * T);
      const loss = acc.forward(i32(part(rows), B), i32(part(next), B)).loss!;
      peakMicro = Math.max(peakMicro, rt.memoryReport().step.usedBytes);
      return loss;
    }, { step: 0, lr: 1e-9, microBatches: N });
    // the loss: a mean of N·B·T token losses either way; f32 sums of ≤ 96 terms in two orders
    expect(Math.abs(micro.loss - one.loss)).toBeLessThanOrEqual(96 * 2 ** -24 * one.loss);
    // the gradients: each element a sum over the 96 rows, in one GEMM or in 3 (added), scaled by
    // 1/96 once or by 1/32 and 1/3: ≤ 96 roundings of partial sums bounded by Σ|terms|, so within
    // 96u·Σ|terms|; Σ|terms| is allowed up to 8× the largest gradient (measured: the difference is
    // 0.03 of 96u·max|g|)
    const g1 = big.params.grads.f32(), g2 = acc.params.grads.f32();
    let max = 0, diff = 0;
    for (let i = 0; i < g1.length; i++) { max = Math.max(max, Math.abs(g1[i]!)); diff = Math.max(diff, Math.abs(g1[i]! - g2[i]!)); }
    expect(diff).toBeLessThanOrEqual(8 * 96 * 2 ** -24 * max);
    console.log(`accumulated vs one batch: max |Δg| = ${(diff / (96 * 2 ** -24 * max)).toFixed(2)} × 96u·max|g|; step arena after the forward ${peakMicro} vs ${peakBig} bytes`);
    expect(micro.norm).toBeCloseTo(one.norm, 5);
    expect(peakMicro).toBeLessThan(0.5 * peakBig);   // one micro-batch's activations at a time
    big.dispose(); acc.dispose(); sgdBig.dispose(); sgdAcc.dispose();
  });

  it('train({ accumulate }) draws n batches per update, counts their items, resumes exactly, and refuses a bad count', async () => {
    const make = () => new GPT(rt, cfg, { seed: 5 });
    const data = { train: Int32Array.from({ length: 400 }, (_, i) => (i * 3 + (i >> 4)) % 11), batchSize: 2 };
    const a = make(), optA = new AdamW(a.params);
    let ck: Uint8Array | null = null;
    const tps: number[] = [];
    const full = await train({ model: a, optimizer: optA, data, steps: 6, lr: 1e-2, accumulate: 3,
      onStep: (s) => { tps.push(s.tokensPerSecond); }, checkpoint: { every: 3, write: (bytes, step) => { if (step === 3) ck = bytes.slice(); } } });
    expect(full.losses).toHaveLength(6);
    const b = make(), optB = new AdamW(b.params);
    const resumed = await train({ model: b, optimizer: optB, data, steps: 6, lr: 1e-2, accumulate: 3, resume: ck! });
    expect(resumed.losses).toEqual(full.losses.slice(3));
    await expect(train({ model: b, optimizer: optB, data, steps: 7, lr: 1e-2, accumulate: 0 })).rejects.toThrow(/accumulate is 0, expected an integer ≥ 1/);
    expect(() => trainStep(b, optB, () => { throw new Error('not reached'); }, { step: 0, lr: 1, microBatches: 1.5 })).toThrow(/microBatches is 1.5/);
    a.dispose(); b.dispose(); optA.dispose(); optB.dispose();
  });
});
