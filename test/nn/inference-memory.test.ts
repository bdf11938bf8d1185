// What inference holds: without a tape every layer runs in its own step-arena scope (nn/stack.ts),
// so a forward's step memory does not grow with the number of layers, and the logits are those of
// the plain forward bit for bit; a generator's KV cache is as long as the generation needs
// (rounded up to 64 positions), not blockSize, and the pool keeps one cache, not one per size.
import { describe, expect, it } from 'vitest';
import { createRuntime, generate, generateTokens, GPT, T5 } from '../../src/index.js';

const rt = await createRuntime({ variant: 'simd', threads: 1 });
const i32 = (ids: number[], T: number) => rt.tensor(ids, [ids.length / T, T], { dtype: 'i32', arena: 'step' });
const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

/** The step arena's peak over `fn` (from an empty arena), with what `fn` returns. */
function stepPeak<T>(fn: () => T): [number, T] {
  rt.step.reset();
  rt.step.resetPeak();
  const out = rt.step.scope(fn);
  return [rt.memoryReport().step.peakBytes, out];
}

describe('inference layer by layer', () => {
  it('a no-grad forward holds one layer\'s temporaries: 2 and 8 layers peak alike; the logits are the taped forward\'s bits', () => {
    const peaks: number[] = [];
    for (const nLayer of [2, 8]) {
      const model = new GPT(rt, { vocabSize: 64, blockSize: 128, nLayer, nHead: 4, dModel: 64 }, { seed: 3 }).eval();
      const ids = Array.from({ length: 2 * 128 }, (_, i) => (i * 37) % 64);
      const [peak, logits] = stepPeak(() => rt.tape.noGrad(() => model.forward(i32(ids, 128)).logits.f32().slice()));
      peaks.push(peak);
      // the same forward with the tape on (nothing requires… the parameters do: it records, keeps everything)
      const [taped, again] = stepPeak(() => model.forward(i32(ids, 128)).logits.f32().slice());
      expect(bits(logits)).toEqual(bits(again));
      expect(taped).toBeGreaterThan(peak + (nLayer - 1) * 2 * 128 * 64 * 4 * 4);   // every layer's activations, ≥ 4 (B,T,C) each
      model.dispose();
    }
    console.log(`no-grad forward, B 2 T 128 C 64: step peak ${peaks.map((p) => (p / 2 ** 20).toFixed(2)).join(' / ')} MiB for 2 / 8 layers`);
    expect(peaks[1]).toBe(peaks[0]);
  });

  it('encoder–decoder stacks too: T5\'s no-grad step peak is the same for 2 and 5 layers (its values: cached decoding in test/helpers/decode.ts)', () => {
    const peaks = [2, 5].map((nLayer) => {
      const model = new T5(rt, { vocabSize: 40, nLayer, nHead: 2, dModel: 32, dFF: 64 }, { seed: 5 }).eval();
      const [peak] = stepPeak(() => rt.tape.noGrad(() => model.forward(i32([5, 9, 12, 7, 1, 0, 3, 4], 4), i32([0, 8, 2, 0, 6, 6], 3)).logits.f32().slice()));
      model.dispose();
      return peak;
    });
    expect(peaks[1]).toBe(peaks[0]);
  });
});

describe('a generator\'s KV cache', () => {
  it('is as long as the generation needs, rounded up to 64 positions; a longer one replaces it in the pool', () => {
    const used = () => rt.memoryReport().persistent.usedBytes;
    const before = used();
    const model = new GPT(rt, { vocabSize: 50, blockSize: 512, nLayer: 2, nHead: 2, dModel: 32 }, { seed: 1 }).eval();
    const cacheBytes = (length: number) => 2 * 2 * length * 32 * 4;   // layers × (k, v) × length × C × 4
    const prompt = Array.from({ length: 20 }, (_, i) => i);
    generate(model, prompt, { maxNewTokens: 1, temperature: 0, useCache: false });   // the packed weight copies, made once
    const start = used();
    const short = generate(model, prompt, { maxNewTokens: 10, temperature: 0 });
    expect(used() - start).toBe(cacheBytes(64));                              // 20 + 10 − 1 positions → 64
    expect(generate(model, prompt, { maxNewTokens: 10, temperature: 0, useCache: false })).toEqual(short);
    const long = generate(model, prompt, { maxNewTokens: 100, temperature: 0 });
    expect(used() - start).toBe(cacheBytes(128));                             // 119 → 128, the 64 one freed
    expect(generate(model, prompt, { maxNewTokens: 100, temperature: 0, useCache: false })).toEqual(long);
    generate(model, prompt, { maxNewTokens: 5, temperature: 0 });              // reuses the 128 one
    expect(used() - start).toBe(cacheBytes(128));
    // past blockSize the context is cropped and the cache refilled from position 0: blockSize long
    const past = [...generateTokens(model, prompt, { maxNewTokens: 600, temperature: 0 })];
    expect(past.length).toBe(600);
    expect(used() - start).toBe(cacheBytes(512));
    model.dispose();
    expect(used()).toBe(before);                                               // the pooled cache goes with the model
  });
});
