// Sliding-window attention in a model (GPT config `window`): with a window as long as the sequence
// it is full attention bit for bit; with a short one a token influences only positions within
// nLayer windows after it (the receptive field) and nothing beyond, exactly; cached decoding
// agrees with the full forward; a bad window is refused. (Exactness of the windowed kernels
// against a dense masked reference: test/kernels/attention.test.ts.)
import { describe, expect, it } from 'vitest';
import { createRuntime, GPT, ValueError } from '../../src/index.js';

const rt = await createRuntime({ variant: 'simd', threads: 1 });
const cfg = { vocabSize: 17, blockSize: 200, nLayer: 2, nHead: 2, dModel: 32 };
const seq = Array.from({ length: 200 }, (_, i) => (i * 5 + ((i * i) >> 3)) % 17);

function logits(model: GPT, ids: number[]): Float32Array {
  return rt.tape.noGrad(() => model.forward(rt.tensor(ids, [1, ids.length], { dtype: 'i32', arena: 'step' })).logits.f32().slice());
}

describe('sliding-window attention in a GPT', () => {
  it('a window as long as the sequence is full attention, bit for bit', () => {
    const full = new GPT(rt, cfg, { seed: 4 }), windowed = new GPT(rt, { ...cfg, window: 199 }, { seed: 4 });
    expect(Array.from(logits(windowed, seq))).toEqual(Array.from(logits(full, seq)));
    full.dispose(); windowed.dispose();
  });

  it('a token reaches exactly the positions within nLayer windows after it', () => {
    const W = 24, model = new GPT(rt, { ...cfg, window: W }, { seed: 4 });
    const a = logits(model, seq), changed = seq.slice();
    changed[10] = (changed[10]! + 3) % 17;
    const b = logits(model, changed);
    const differs = (t: number) => a.subarray(t * 17, (t + 1) * 17).some((x, i) => x !== b[t * 17 + i]);
    // position t sees t − W … t in each layer: token 10 reaches 10 … 10 + 2W, and no further
    expect(differs(10)).toBe(true);
    expect(differs(10 + 2 * W)).toBe(true);
    for (let t = 0; t < 10; t++) expect(differs(t), `position ${t}`).toBe(false);
    for (let t = 10 + 2 * W + 1; t < 200; t++) expect(differs(t), `position ${t}`).toBe(false);
    // cached decoding: a prompt, then single tokens and a chunk, over the same window
    rt.tape.noGrad(() => {
      const cache = model.createCache(1);
      let pos = 0;
      for (const n of [70, 1, 1, 60, 68]) {
        const out = model.forwardCached(rt.tensor(seq.slice(pos, pos + n), [1, n], { dtype: 'i32', arena: 'step' }), cache, pos).f32();
        for (let i = 0; i < out.length; i++) expect(Math.abs(out[i]! - a[pos * 17 + i]!)).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(a[pos * 17 + i]!)));
        pos += n;
      }
      for (const c of cache) { rt.free(c.k); rt.free(c.v); }
    });
    model.dispose();
    expect(() => new GPT(rt, { ...cfg, window: -1 })).toThrow(new ValueError('GPT config: window is -1, expected an integer ≥ 0 (0: no window)'));
    expect(() => new GPT(rt, { ...cfg, window: 2.5 })).toThrow(/window is 2.5/);
  });
});
