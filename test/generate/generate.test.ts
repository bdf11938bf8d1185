// Generation: KV-cache logits against full recomputes, seeded sampling, top-k = 1 = greedy,
// stop tokens, streaming, the window that slides past blockSize, and the reused logits array.
import { describe, expect, it } from 'vitest';
import { createRuntime, GPT, generate, generateStream, generateTokens, lastLogits, LogitsCopy, Rng, ValueError, type GPTConfig } from '../../src/index.js';

const rt = await createRuntime({ variant: 'simd' });
const cfg: Partial<GPTConfig> = { vocabSize: 17, blockSize: 24, nLayer: 2, nHead: 4, dModel: 32 };

function model(seed = 1, extra: Partial<GPTConfig> = {}): GPT {
  const m = new GPT(rt, { ...cfg, ...extra }, { seed });
  // spread the weights so the logits are far from uniform (greedy choices are then robust)
  const flat = m.params.flat.f32();
  for (let i = 0; i < flat.length; i++) flat[i] = flat[i]! * 3;
  return m;
}

describe('KV cache', () => {
  // The cached path multiplies the same numbers in other blockings (single rows vs blocks),
  // so results agree to rounding: |Δ| ≤ 2e-5 · max(1, |logit|) (K ≤ 128 products of O(1)
  // terms in f32 per dot product, several layers deep: ≈ 100·u relative).
  for (const [name, extra] of [['pre-norm, learned', {}], ['post-norm, sinusoidal', { norm: 'post', positions: 'sinusoidal' }]] as const) {
    it(`cached logits equal the full forward at every position (${name})`, () => {
      const m = model(2, extra as Partial<GPTConfig>);
      const rng = new Rng(3);
      const ids = Array.from({ length: 20 }, () => rng.int(17));
      const cache = m.createCache(1);
      // prefill 7 tokens, then one at a time
      const rows: Float32Array[] = [];
      const prefill = rt.step.scope(() => {
        const idx = rt.tensor(ids.slice(0, 7), [1, 7], { dtype: 'i32', arena: 'step' });
        return m.forwardCached(idx, cache, 0).f32().slice();
      });
      for (let t = 0; t < 7; t++) rows.push(prefill.slice(t * 17, (t + 1) * 17));
      for (let t = 7; t < 20; t++) rows.push(lastLogits(m, [ids[t]!], cache, t));
      const full = rt.step.scope(() => rt.tape.noGrad(() => m.forward(rt.tensor(ids, [1, 20], { dtype: 'i32', arena: 'step' })).logits.f32().slice()));
      for (let t = 0; t < 20; t++) {
        for (let j = 0; j < 17; j++) {
          const want = full[t * 17 + j]!;
          expect(Math.abs(rows[t]![j]! - want)).toBeLessThanOrEqual(2e-5 * Math.max(1, Math.abs(want)));
        }
      }
    });
  }

  it('generation with and without the cache gives the same tokens, also past blockSize', () => {
    const m = model(4);
    const opts = { maxNewTokens: 40, temperature: 0 };
    const a = generate(m, [1, 2, 3], { ...opts, useCache: true });
    const b = generate(m, [1, 2, 3], { ...opts, useCache: false });
    expect(a.length).toBe(43);
    expect(Array.from(a)).toEqual(Array.from(b));
  });
});

describe('LogitsCopy', () => {
  it('copies each step into one array, grown for a longer view; lastLogits into it gives the fresh copy\'s values', () => {
    const copy = new LogitsCopy();
    const a = copy.of(Float32Array.of(1, 2, 3));
    expect(Array.from(a)).toEqual([1, 2, 3]);
    const b = copy.of(Float32Array.of(4, 5, 6));
    expect(b).toBe(a);                                   // the same array, refilled
    expect(Array.from(a)).toEqual([4, 5, 6]);
    const c = copy.of(Float32Array.of(7, 8, 9, 10, 11));  // longer: a new array
    expect(Array.from(c)).toEqual([7, 8, 9, 10, 11]);
    const d = copy.of(Float32Array.of(-1, -2));           // shorter: a view of its first elements
    expect(Array.from(d)).toEqual([-1, -2]);
    expect(d.buffer).toBe(c.buffer);
    const m = model(6);
    const cache = m.createCache(1), cache2 = m.createCache(1);
    const into = new LogitsCopy();
    for (const [pos, ids] of [[0, [1, 2, 3]], [3, [4]], [4, [5]]] as const) {
      const fresh = lastLogits(m, ids, cache, pos);
      const reused = lastLogits(m, ids, cache2, pos, into);
      expect(Array.from(reused)).toEqual(Array.from(fresh));
    }
    m.dispose();
  });
});

describe('several generators on one model', () => {
  it('interleaved generators each get their own cache: same tokens as one at a time; the model keeps its mode between tokens', () => {
    const m = model(5);
    const prompts = [[1, 2, 3], [4, 5], [6]];
    const opts = { maxNewTokens: 30, temperature: 0.8, seed: 9 };
    const alone = prompts.map((p) => [...generateTokens(m, p, opts)]);
    m.train(true);
    const its = prompts.map((p) => generateTokens(m, p, opts));
    const got: number[][] = [[], [], []];
    for (let n = 0; n < 30; n++) {
      its.forEach((it, i) => got[i]!.push(it.next().value as number)); // one token of each in turn
      expect(m.ctx.training).toBe(true);                                  // eval only while a token is computed
    }
    expect(got).toEqual(alone);
    its.forEach((it) => expect(it.next().done).toBe(true));
    expect(m.ctx.training).toBe(true);
    // Caches are kept for reuse: three more generators at once allocate nothing new.
    const before = rt.persistent.report().usedBytes;
    const again = prompts.map((p) => generateTokens(m, p, opts));
    again.forEach((it) => it.next());
    again.forEach((it) => it.return('abort'));
    expect(rt.persistent.report().usedBytes).toBe(before);
    expect(m.ctx.training).toBe(true);
  });
});

describe('sampling', () => {
  it('is reproducible for a seed and differs across seeds', () => {
    const m = model(5);
    const o = { maxNewTokens: 30, temperature: 1 };
    const a = generate(m, [0], { ...o, seed: 11 });
    expect(Array.from(generate(m, [0], { ...o, seed: 11 }))).toEqual(Array.from(a));
    expect(Array.from(generate(m, [0], { ...o, seed: 12 }))).not.toEqual(Array.from(a));
  });

  it('top-k = 1 equals greedy at any temperature; top-p and top-k sampling run', () => {
    const m = model(6);
    const greedy = Array.from(generate(m, [4, 5], { maxNewTokens: 25, temperature: 0 }));
    for (const temperature of [0.5, 1, 2]) {
      expect(Array.from(generate(m, [4, 5], { maxNewTokens: 25, temperature, topK: 1, seed: 10 * temperature }))).toEqual(greedy);
    }
    const nucleus = generate(m, [4, 5], { maxNewTokens: 25, topP: 0.9, topK: 5, seed: 1 });
    expect(nucleus.length).toBe(27);
  });

  it('stops at a stop token, on onToken returning false, and streams asynchronously', async () => {
    const m = model(7);
    const greedy = Array.from(generate(m, [1], { maxNewTokens: 20, temperature: 0 }));
    const stopAt = greedy[5]!;
    const first = greedy.indexOf(stopAt, 1);
    const stopped = Array.from(generate(m, [1], { maxNewTokens: 20, temperature: 0, stopTokens: [stopAt] }));
    expect(stopped).toEqual(greedy.slice(0, first + 1));
    let n = 0;
    const viaCallback = generate(m, [1], { maxNewTokens: 20, temperature: 0, onToken: () => ++n < 3 });
    expect(viaCallback.length).toBe(4);
    const streamed: number[] = [];
    for await (const id of generateStream(m, [1], { maxNewTokens: 10, temperature: 0 })) streamed.push(id);
    expect([1, ...streamed]).toEqual(greedy.slice(0, 11));
    const lazy = generateTokens(m, [1], { maxNewTokens: 1000, temperature: 0 });
    expect(lazy.next().value).toBe(greedy[1]);
  });

  it('rejects an empty prompt, bad counts and out-of-range prompt ids', () => {
    const m = model(8);
    expect(() => generate(m, [], { maxNewTokens: 3 })).toThrow(ValueError);
    expect(() => generate(m, [1], { maxNewTokens: -1 })).toThrow(/maxNewTokens is -1/);
    expect(() => generate(m, [1, 17], { maxNewTokens: 1 })).toThrow(/token id 17 at position 1/);
  });
});
