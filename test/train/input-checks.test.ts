// Mistakes a newcomer makes, each a typed error naming the value, before any work: token streams
// as plain arrays (converted) or of the wrong kind, a run of 0 steps, a NaN clip or a negative
// learning rate, optimizer options that do not exist (lr) or make no sense, fractional or
// negative seeds, configs with a string where a boolean belongs.
import { describe, expect, it } from 'vitest';
import { AdamW, createRuntime, GPT, gptConfig, SGD, train, ValueError } from '../../src/index.js';

const rt = await createRuntime({ variant: 'simd', threads: 1 });
const cfg = { vocabSize: 5, blockSize: 8, nLayer: 1, nHead: 1, dModel: 8 };
const ids = Array.from({ length: 200 }, (_, i) => (i * 3) % 5);

describe('train() input checks', () => {
  it('a plain array of ids trains exactly as the same Int32Array; anything else is named', async () => {
    const run = async (train0: Int32Array | number[]) => {
      const m = new GPT(rt, cfg, { seed: 1 }), opt = new AdamW(m.params);
      const r = await train({ model: m, optimizer: opt, data: { train: train0, batchSize: 2 }, steps: 3, lr: 1e-2 });
      m.dispose(); opt.dispose();
      return r.losses.map((l) => l.loss);
    };
    expect(await run(ids)).toEqual(await run(Int32Array.from(ids)));
    const m = new GPT(rt, cfg, { seed: 1 }), opt = new AdamW(m.params);
    const go = (extra: object) => train({ model: m, optimizer: opt, data: { train: ids, batchSize: 2 }, steps: 3, lr: 1e-2, ...extra } as never);
    await expect(go({ data: { train: [1, 2, 1.5], batchSize: 2 } })).rejects.toThrow('train: data.train[2] is 1.5, expected an integer token id');
    await expect(go({ data: { train: 'hello', batchSize: 2 } })).rejects.toThrow(/data.train is "hello", expected token ids/);
    await expect(go({ data: { train: [1, 7], batchSize: 2 } })).rejects.toThrow(/token id 7 at position 1 is outside \[0, 5\)/);
    await expect(go({ steps: 0 })).rejects.toThrow('train: steps is 0, expected an integer ≥ 1');
    await expect(go({ clip: NaN })).rejects.toThrow(/clip is NaN, expected a finite number > 0/);
    await expect(go({ lr: -1 })).rejects.toThrow(/lr is -1, expected a finite number > 0 or a schedule/);
    expect(opt.stepCount).toBe(0);                       // refused before any update
    m.dispose(); opt.dispose();
  });
});

describe('optimizer options', () => {
  it('an unknown option is named (lr points to where it goes); betas, eps and weight decay are checked', () => {
    const m = new GPT(rt, cfg, { seed: 1 });
    expect(() => new AdamW(m.params, { lr: -1 } as never)).toThrow("AdamW: unknown option 'lr' (options: betas, eps, weightDecay, decay, groups, layerDecay); the learning rate is given per step");
    expect(() => new SGD(m.params, { lr: 0.1 } as never)).toThrow(ValueError);
    expect(() => new AdamW(m.params, { betas: [1, 0.99] })).toThrow(/betas are \[1,0.99\], expected two numbers in \[0, 1\)/);
    expect(() => new AdamW(m.params, { eps: 0 })).toThrow(/eps is 0/);
    expect(() => new AdamW(m.params, { weightDecay: NaN })).toThrow(/weightDecay is NaN/);
    m.dispose();
  });
});

describe('seeds and configs', () => {
  it('seeds NaN, "abc", -1 and 1.7 are refused, not coerced', () => {
    for (const seed of [NaN, 'abc', -1, 1.7, 2 ** 32]) expect(() => new GPT(rt, cfg, { seed: seed as number }), String(seed)).toThrow(/GPT: seed is .*, expected an integer in \[0, 2\^32\)/);
    new GPT(rt, cfg, { seed: 2 ** 32 - 1 }).dispose();
  });

  it("bias: 'yes' and tieWeights: 0 are refused", () => {
    expect(() => gptConfig({ bias: 'yes' as never })).toThrow(`GPT config: bias is "yes", expected true or false`);
    expect(() => gptConfig({ tieWeights: 0 as never })).toThrow('GPT config: tieWeights is 0, expected true or false');
  });
});
