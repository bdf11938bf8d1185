// Which parameters weight decay reaches: 'matrices' (default) decays the matmul weights only;
// 'all-2d' (nanoGPT's current rule) every tensor of ≥ 2 dimensions, embeddings included; biases
// and norms never. With zero gradients an AdamW step is exactly p ← p − lr·wd·p on the decayed
// ones (the Adam term is 0) and leaves the rest alone, so the test reads the rule off the weights.
import { describe, expect, it } from 'vitest';
import { AdamW, createRuntime, GPT, SGD } from '../../src/index.js';

describe('weight decay groups', () => {
  it.each(['matrices', 'all-2d'] as const)("decay: '%s' reaches exactly its parameters (AdamW and SGD)", async (decay) => {
    const rt = await createRuntime({ variant: 'simd', threads: 1 });
    try {
      for (const make of [(m: GPT) => new AdamW(m.params, { weightDecay: 0.5, decay }), (m: GPT) => new SGD(m.params, { weightDecay: 0.5, decay })]) {
        const model = new GPT(rt, { vocabSize: 65, blockSize: 16, nLayer: 1, nHead: 2, dModel: 16, dFF: 32 }, { seed: 3 });
        const opt = make(model);
        const before = new Map(model.params.list().map((p) => [p.name, p.value.toArray()]));
        model.params.grads.f32().fill(0);
        opt.step({ lr: 0.1 });
        for (const p of model.params.list()) {
          const was = before.get(p.name)!, now = p.value.toArray();
          const matrix = p.spec.decay, twoD = p.spec.shape.length >= 2;
          const decayed = decay === 'all-2d' ? twoD : matrix;
          const want = was.map((v) => (decayed ? v - 0.1 * 0.5 * v : v));
          now.forEach((v, i) => expect(Math.abs(v - want[i]!), `${opt.name} ${p.name}[${i}]`).toBeLessThanOrEqual(2 ** -23 * Math.abs(want[i]!)));
          if (p.name.endsWith('wte.weight')) expect(decayed).toBe(decay === 'all-2d');   // the case the rules differ on
        }
        opt.dispose();
        model.dispose();
      }
    } finally {
      rt.dispose();
    }
  });

  it('an unknown rule is refused', async () => {
    const rt = await createRuntime({ variant: 'simd', threads: 1 });
    const model = new GPT(rt, { vocabSize: 8, blockSize: 4, nLayer: 1, nHead: 1, dModel: 4, dFF: 8 });
    expect(() => new AdamW(model.params, { decay: 'embeddings' as 'matrices' })).toThrow(/decay is embeddings/);
    rt.dispose();
  });
});
