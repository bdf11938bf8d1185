// sampleToken and argmax: greedy, top-k, top-p and plain sampling checked for their support
// and their frequencies, against hand-computed distributions; one rng draw per token; errors.
// greedyToken (logits left in wasm memory, picked by maxIndex) against sampleToken at temperature 0,
// and generation's greedy path against a loop over lastLogits.
import { describe, expect, it } from 'vitest';
import { greedyToken, sampleToken } from '../../src/generate/sample.js';
import { createRuntime, GPT, generateBatch, generateTokens, lastLogits, maxIndex } from '../../src/index.js';
import { argmax } from '../../src/math.js';
import type { SamplingOptions } from '../../src/generate/sample.js';
import { ShapeError, ValueError } from '../../src/errors.js';
import { Rng } from '../../src/random.js';

/** An Rng stand-in whose uniform() returns `u`: pins the inverse-CDF walk to one point. */
function fixedU(u: number): Rng {
  return { uniform: () => u } as unknown as Rng;
}

function randomRow(rng: Rng, V: number, spread = 4): Float32Array {
  const row = new Float32Array(V);
  for (let i = 0; i < V; i++) row[i] = spread * rng.normal();
  return row;
}

/** Softmax of logits / T in f64, the reference distribution. */
function softmaxRef(logits: ArrayLike<number>, T = 1): number[] {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]!);
  const e = Array.from(logits, (x) => Math.exp((x - max) / T));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

/** Draws `n` tokens and checks each count within 5σ of n·p (binomial σ). */
function expectFrequencies(logits: Float32Array, opts: SamplingOptions, probs: number[], n: number, seed: number): void {
  const rng = new Rng(seed);
  const counts = new Array<number>(logits.length).fill(0);
  for (let i = 0; i < n; i++) counts[sampleToken(logits, opts, rng)]!++;
  const bad: string[] = [];
  probs.forEach((p, id) => {
    const sigma = Math.sqrt(n * p * (1 - p));
    const c = counts[id]!;
    if (p === 0 ? c !== 0 : Math.abs(c - n * p) > 5 * sigma) {
      bad.push(`token ${id}: ${c} draws, expected ${(n * p).toFixed(1)} ± ${(5 * sigma).toFixed(1)}`);
    }
  });
  expect(bad, `frequencies of ${n} draws with ${JSON.stringify(opts)}`).toEqual([]);
}

describe('argmax', () => {
  it('finds the largest logit, ties going to the lowest id', () => {
    expect(argmax(new Float32Array([0.5, 2, 2, -1]))).toBe(1);
    expect(argmax(new Float32Array([-Infinity, -3, Infinity, Infinity]))).toBe(2);
    expect(argmax(new Float32Array([-Infinity, -Infinity]))).toBe(0);
    expect(argmax(new Float32Array([7]))).toBe(0);
  });
});

describe('sampleToken', () => {
  it('is argmax at temperature 0, and draws exactly one uniform per token whatever the options', () => {
    const rng = new Rng(1), twin = new Rng(1), rows = new Rng(2);
    const optsList: SamplingOptions[] = [{ temperature: 0 }, {}, { topK: 3 }, { topP: 0.5 }, { temperature: 0.7, topK: 5, topP: 0.9 }];
    for (let i = 0; i < 200; i++) {
      const row = randomRow(rows, 17);
      const opts = optsList[i % optsList.length]!;
      const id = sampleToken(row, opts, rng);
      if (opts.temperature === 0) expect(id).toBe(argmax(row));
      twin.uniform();
    }
    expect(rng.nextU32()).toBe(twin.nextU32());
    expect(sampleToken(new Float32Array([1, 3, 3, 2]), { temperature: 0 }, fixedU(0.99))).toBe(1);
  });

  it('with topK = 1 equals greedy at every temperature, on random rows and near-ties', () => {
    const rng = new Rng(3), rows = new Rng(4);
    for (let i = 0; i < 300; i++) {
      const V = 1 + (i % 40);
      const row = randomRow(rows, V);
      if (V > 2 && i % 3 === 0) row[V - 1] = row[argmax(row)]!; // an exact tie, higher id
      if (V > 2 && i % 3 === 1) row[0] = Math.fround(row[argmax(row)]! * (1 - 2 ** -23)); // one ulp below
      for (const temperature of [1e-6, 0.5, 1, 30, 1e30]) {
        expect(sampleToken(row, { temperature, topK: 1 }, rng)).toBe(argmax(row));
      }
    }
    // −0 and +0 are the same logit: the tie goes to the lower id either way.
    expect(sampleToken(new Float32Array([-0, 0]), { topK: 1 }, rng)).toBe(0);
    expect(sampleToken(new Float32Array([0, -0]), { topK: 1 }, rng)).toBe(0);
  });

  it('walks the CDF in descending probability, ties by lower id', () => {
    // p = [0.1, 0.6, 0.3]: order 1 (0.6), 2 (0.3), 0 (0.1).
    const row = Float32Array.from([0.1, 0.6, 0.3], Math.log);
    expect(sampleToken(row, {}, fixedU(0))).toBe(1);
    expect(sampleToken(row, {}, fixedU(0.59))).toBe(1);
    expect(sampleToken(row, {}, fixedU(0.61))).toBe(2);
    expect(sampleToken(row, {}, fixedU(0.89))).toBe(2);
    expect(sampleToken(row, {}, fixedU(0.91))).toBe(0);
    expect(sampleToken(row, {}, fixedU(1 - 2 ** -24))).toBe(0);
    const tied = new Float32Array([1, 2, 1, 2]); // order 1, 3, 0, 2; CDF 0.366, 0.731, 0.866, 1
    expect([0.2, 0.5, 0.8, 0.95].map((u) => sampleToken(tied, {}, fixedU(u)))).toEqual([1, 3, 0, 2]);
  });

  it('top-k never picks outside the k largest, and k ≥ V is plain sampling', () => {
    const rows = new Rng(5);
    for (const k of [2, 5, 13]) {
      const rng = new Rng(6);
      for (let i = 0; i < 100; i++) {
        const row = randomRow(rows, 50, 1);
        const kth = [...row].sort((a, b) => b - a)[k - 1]!;
        for (let d = 0; d < 20; d++) expect(row[sampleToken(row, { topK: k }, rng)]).toBeGreaterThanOrEqual(kth);
      }
    }
    const row = randomRow(rows, 64);
    for (const k of [64, 65, 1000]) {
      const a = new Rng(9), b = new Rng(9);
      for (let i = 0; i < 500; i++) expect(sampleToken(row, { topK: k, temperature: 1.3 }, a)).toBe(sampleToken(row, { temperature: 1.3 }, b));
    }
    // Frequencies: renormalised over the top 3.
    const small = Float32Array.from([0.3, 2.0, -1.0, 1.2, 0.9]);
    const p = softmaxRef([0, 2.0, 0, 1.2, 0.9].map((x, i) => (i === 0 || i === 2 ? -Infinity : x)));
    expectFrequencies(small, { topK: 3 }, p, 20_000, 10);
  });

  it('top-p keeps the smallest most probable set reaching p, after top-k', () => {
    // ids:          0     1     2    3     4
    const probs = [0.15, 0.5, 0.05, 0.2, 0.1];
    const row = Float32Array.from(probs, Math.log);
    const renorm = (keep: number[]) => {
      const s = keep.reduce((a, id) => a + probs[id]!, 0);
      return probs.map((p, id) => (keep.includes(id) ? p / s : 0));
    };
    expectFrequencies(row, { topP: 0.4 }, renorm([1]), 2000, 11); // 0.5 ≥ 0.4
    expectFrequencies(row, { topP: 0.6 }, renorm([1, 3]), 20_000, 12); // 0.7 ≥ 0.6
    expectFrequencies(row, { topP: 0.75 }, renorm([1, 3, 0]), 20_000, 13); // 0.85 ≥ 0.75
    expectFrequencies(row, { topP: 0.97 }, renorm([1, 3, 0, 4, 2]), 20_000, 14); // 0.97 needs all five
    expectFrequencies(row, { topP: 1 }, probs, 20_000, 15);
    // Reaching p exactly is enough (sum ≥ p), and equal logits are kept by lower id.
    const flat = new Float32Array(4);
    expectFrequencies(flat, { topP: 0.5 }, [0.5, 0.5, 0, 0], 2000, 18);
    expectFrequencies(flat, { topP: 0.5000001 }, [1 / 3, 1 / 3, 1 / 3, 0], 6000, 19);
    // top-k first: {1, 3} renormalised is (0.714, 0.286), and 0.8 needs both.
    expectFrequencies(row, { topK: 2, topP: 0.8 }, renorm([1, 3]), 20_000, 16);
    // top-p on the top-k distribution: 0.714 ≥ 0.7 keeps token 1 alone.
    expectFrequencies(row, { topK: 2, topP: 0.7 }, renorm([1]), 2000, 17);
  });

  it('draws with the softmax(logits / T) frequencies (5σ per token over 20k draws)', () => {
    const rows = new Rng(20);
    const row = randomRow(rows, 12, 1.5);
    for (const temperature of [0.5, 1, 2.5]) {
      expectFrequencies(row, { temperature }, softmaxRef(row, temperature), 20_000, 21);
    }
    // −Infinity is never picked; +Infinity logits share all the mass.
    expectFrequencies(Float32Array.from([-Infinity, 0, -Infinity, 1]), {}, softmaxRef([-Infinity, 0, -Infinity, 1]), 20_000, 22);
    expectFrequencies(Float32Array.from([0, Infinity, 50, Infinity]), {}, [0, 0.5, 0, 0.5], 20_000, 23);
  });

  it('is reproducible from the seed', () => {
    const rows = new Rng(30);
    const logits = Array.from({ length: 8 }, () => randomRow(rows, 1000));
    const run = (seed: number) => {
      const rng = new Rng(seed);
      return Array.from({ length: 400 }, (_, i) => sampleToken(logits[i % 8]!, { temperature: 0.9, topP: 0.95 }, rng));
    };
    expect(run(31)).toEqual(run(31));
    expect(run(32)).not.toEqual(run(31));
  });

  it('approaches greedy as the temperature goes to 0', () => {
    const rows = new Rng(40);
    const row = randomRow(rows, 100);
    const top = argmax(row);
    let previous = 0;
    for (const temperature of [4, 1, 0.25, 0.05]) {
      const rng = new Rng(41);
      let hits = 0;
      for (let i = 0; i < 4000; i++) if (sampleToken(row, { temperature }, rng) === top) hits++;
      expect(hits).toBeGreaterThanOrEqual(previous);
      previous = hits;
    }
    for (const temperature of [1e-3, 1e-30, Number.MIN_VALUE]) {
      expect(sampleToken(row, { temperature }, fixedU(1 - 2 ** -24))).toBe(top);
    }
  });

  it('picks what the full-sort walk picks (the definition), for every option, on peaked, flat, tied and infinite rows', () => {
    // The reference: sort every candidate by (logit descending, id ascending), cut to top-k, weigh,
    // cut to the top-p prefix, walk the CDF. sampleToken selects instead of sorting, so its sums
    // run in other groupings: u values are kept off the CDF's steps by more than rounding.
    const reference = (row: Float32Array, o: SamplingOptions, u: number): number | null => {
      const T = o.temperature ?? 1;
      const ids = Array.from(row.keys()).filter((i) => row[i] !== -Infinity)
        .sort((a, b) => (row[b]! - row[a]!) || a - b);   // ∞ − ∞ is NaN: falls to the ids too
      const kept = ids.slice(0, Math.min(ids.length, o.topK ?? Infinity));
      const max = row[kept[0]!]!;
      const w = kept.map((i) => Math.exp(max === Infinity ? (row[i] === Infinity ? 0 : -Infinity) : (row[i]! - max) / T));
      const sum = w.reduce((a, b) => a + b, 0);
      let n = kept.length, total = sum;
      if ((o.topP ?? 1) < 1) {
        let cum = 0;
        for (let j = 0; j < kept.length; j++) {
          cum += w[j]!;
          if (cum >= o.topP! * sum) { n = j + 1; break; }
        }
        total = w.slice(0, n).reduce((a, b) => a + b, 0);
        if (Math.abs(w.slice(0, n - 1).reduce((a, b) => a + b, 0) - o.topP! * sum) < 1e-9 * sum) return null;   // the cut sits on a step
      }
      let cum = 0;
      for (let j = 0; j < n; j++) {
        const next = cum + w[j]!;
        if (Math.abs(next - u * total) < 1e-9 * total || Math.abs(cum - u * total) < 1e-9 * total) return null;
        if (u * total < next) return kept[j]!;
        cum = next;
      }
      return null;
    };
    const rng = new Rng(70);
    const rows: Float32Array[] = [
      randomRow(rng, 3000, 4),                              // peaked
      randomRow(rng, 3000, 0.05),                           // nearly flat: the draw goes deep
      new Float32Array(700),                                // all tied
      Float32Array.from(randomRow(rng, 900, 1), (x, i) => (i % 3 === 0 ? -Infinity : Math.round(x * 2) / 2)),   // ties, −∞
      Float32Array.from(randomRow(rng, 500, 60), (x) => x),  // far apart: many weights underflow to 0
      Float32Array.from({ length: 300 }, (_, i) => (i % 50 === 7 ? Infinity : i % 5)),   // +∞ share the mass
    ];
    const options: SamplingOptions[] = [{}, { temperature: 0.7 }, { topK: 5 }, { topK: 299 }, { topP: 0.5 }, { topP: 0.9, temperature: 1.3 }, { topK: 40, topP: 0.8 }];
    let compared = 0;
    for (const row of rows) {
      for (const o of options) {
        for (let d = 0; d < 40; d++) {
          const u = (d + 0.37) / 40;
          const want = reference(row, o, u);
          if (want === null) continue;
          expect(sampleToken(row, o, fixedU(u)), `row of ${row.length}, ${JSON.stringify(o)}, u ${u}`).toBe(want);
          compared++;
        }
      }
    }
    expect(compared).toBeGreaterThan(1500);
  });

  it('handles a 50257-token row', () => {
    const rng = new Rng(50);
    const row = randomRow(rng, 50257, 3);
    const kth = [...row].sort((a, b) => b - a)[39]!;
    for (let i = 0; i < 20; i++) {
      const id = sampleToken(row, { temperature: 0.8, topK: 40, topP: 0.9 }, rng);
      expect(row[id]).toBeGreaterThanOrEqual(kth);
      expect(sampleToken(row, {}, rng)).toBeLessThan(50257);
    }
  });

  it('rejects bad options and rows, naming the value', () => {
    const rng = new Rng(60);
    const row = new Float32Array([1, 2, 3]);
    expect(() => sampleToken(row, { temperature: -0.5 }, rng)).toThrow(/temperature is -0.5/);
    expect(() => sampleToken(row, { temperature: NaN }, rng)).toThrow(/temperature is NaN/);
    expect(() => sampleToken(row, { temperature: Infinity }, rng)).toThrow(ValueError);
    expect(() => sampleToken(row, { topK: 0 }, rng)).toThrow(/topK is 0/);
    expect(() => sampleToken(row, { topK: 2.5 }, rng)).toThrow(/topK is 2.5/);
    expect(() => sampleToken(row, { topK: NaN }, rng)).toThrow(ValueError);
    expect(() => sampleToken(row, { topP: 0 }, rng)).toThrow(/topP is 0, expected a number in \(0, 1\]/);
    expect(() => sampleToken(row, { topP: 1.01 }, rng)).toThrow(/topP is 1.01/);
    expect(() => sampleToken(row, { topP: NaN }, rng)).toThrow(ValueError);
    expect(() => sampleToken(new Float32Array([0, 1, 2, NaN, 4]), {}, rng)).toThrow(/logit 3 of 5 is NaN/);
    expect(() => sampleToken(new Float32Array([0, NaN]), { temperature: 0 }, rng)).toThrow(/logit 1 of 2 is NaN/);
    expect(() => argmax(new Float32Array([NaN]))).toThrow(/logit 0 of 1 is NaN/);
    expect(() => sampleToken(new Float32Array([-Infinity, -Infinity]), {}, rng)).toThrow(/all 2 logits are -Infinity/);
    expect(() => sampleToken(new Float32Array(0), {}, rng)).toThrow(ShapeError);
    expect(() => argmax(new Float32Array(0))).toThrow(/V = 0/);
  });
});

describe('greedyToken', () => {
  it('picks sampleToken\'s temperature-0 token in wasm memory, with its one draw and its errors', async () => {
    for (const variant of ['js', 'simd', 'relaxed'] as const) {
      const rt = await createRuntime({ variant });
      const rows = new Rng(70), rng = new Rng(71), twin = new Rng(71);
      const make: ((V: number) => Float32Array)[] = [
        (V) => randomRow(rows, V),
        (V) => Float32Array.from({ length: V }, () => Math.floor(rows.uniform() * 3)),   // ties
        (V) => Float32Array.from({ length: V }, (_, i) => (i % 5 ? -Infinity : i % 3 ? 0 : -0)),
        (V) => Float32Array.from({ length: V }, (_, i) => (i === V - 1 ? Infinity : rows.normal())),
      ];
      for (const V of [1, 7, 8, 9, 50257]) for (const f of make) {
        const row = f(V);
        const t = rt.tensor(row, [1, 1, V]);
        expect(greedyToken(rt, t, rng), `${variant} V ${V}`).toBe(sampleToken(row, { temperature: 0 }, twin));
        rt.free(t);
      }
      // one row of a batch's logits (B, 1, V): the row's own token
      const B = 3, V = 1000, batch = randomRow(rows, B * V);
      batch.fill(-50, V + 10, V + 30).fill(60, V + 17, V + 19);   // a tie for row 1's maximum
      const bt = rt.tensor(batch, [B, 1, V]);
      for (let b = 0; b < B; b++) expect(greedyToken(rt, bt, rng, b), `${variant} row ${b}`).toBe(sampleToken(batch.subarray(b * V, (b + 1) * V), { temperature: 0 }, twin));
      expect(() => greedyToken(rt, bt, rng, 3)).toThrow(/1000 logits from 3000 lie outside/);
      expect(() => maxIndex(rt, bt, { at: -1, count: 2 })).toThrow(ShapeError);
      expect(maxIndex(rt, bt, { at: V + 10, count: 20 })).toEqual({ index: 7, value: 60 });
      rt.free(bt);
      expect(rng.nextU32()).toBe(twin.nextU32());
      const bad = (row: number[]) => () => greedyToken(rt, rt.tensor(row, [row.length]), rng);
      expect(bad([0, 1, 2, NaN, 4, NaN])).toThrow(/sampleToken: logit 3 of 6 is NaN/);
      expect(bad([-Infinity, -Infinity])).toThrow(/sampleToken: all 2 logits are -Infinity/);
      expect(() => greedyToken(rt, rt.empty([0]), rng)).toThrow(ShapeError);
      expect(() => greedyToken(rt, rt.tensor([1, 2], [2], { dtype: 'i32' }), rng)).toThrow(/x is i32/);
      rt.dispose();
    }
  });

  it('generation at temperature 0 without penalties (the logits never copied out) gives the tokens of a loop over lastLogits and argmax; a batch, those of each prompt alone', async () => {
    const rt = await createRuntime({ variant: 'relaxed' });
    const model = new GPT(rt, { vocabSize: 300, blockSize: 24, nLayer: 2, nHead: 2, dModel: 32 }, { seed: 3 });
    model.eval();
    const prompt = [5, 17, 200, 3];
    const got = [...generateTokens(model, prompt, { maxNewTokens: 30, temperature: 0 })];
    const ids = [...prompt];
    for (let n = 0; n < 30; n++) ids.push(argmax(lastLogits(model, ids.slice(-24), null, 0)));
    expect(got).toEqual(ids.slice(prompt.length));
    // a batch at temperature 0 (each row picked in wasm) = each prompt alone (the batch's sums run in another order: the rows are short)
    const prompts = [[5, 17], [200, 3, 9, 1], [42]];
    const batch = generateBatch(model, prompts, { maxNewTokens: 12, temperature: 0 });
    prompts.forEach((p, b) => expect(Array.from(batch[b]!.tokens), `row ${b}`).toEqual([...generateTokens(model, p, { maxNewTokens: 12, temperature: 0 })]));
    model.dispose();
    rt.dispose();
  });
});
