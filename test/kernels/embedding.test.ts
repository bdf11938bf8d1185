// embedding_forward / embedding_backward against their plain-JS twin (src/ref/embedding.ts) on
// every wasm variant: row lengths {1,3,4,5,7,8,768,769} (tails of the 16- and 4-wide steps),
// unaligned views, repeated ids, first and last rows of the table, and the += of the backward.
// The forward is a copy and the backward one f32 add per element in the order i = 0..N−1 in
// both (the twin's f64 add of two f32 then rounding to f32 is the f32 add), so both are exact.
import { describe, it, expect } from 'vitest';
import { harness, VARIANTS, put, putIds, type Harness } from '../helpers/harness';
import { embeddingForward, embeddingBackward } from '../../src/ref/embedding';
import { expectNear, rng, randomF32 } from '../helpers/rowwise-compare';

const COLS = [1, 3, 4, 5, 7, 8, 15, 16, 17, 768, 769];
const EXACT = { atol: 0, rtol: 0 };

/** n ids in [0, vocab), always including 0 and vocab − 1 when n ≥ 2, with repeats when n > vocab. */
function makeIds(n: number, vocab: number, r: ReturnType<typeof rng>): Int32Array {
  const ids = Int32Array.from({ length: n }, () => Math.floor(r.uniform(0, vocab)));
  if (n >= 2) { ids[0] = vocab - 1; ids[n - 1] = 0; }
  return ids;
}

describe.each(VARIANTS)('embedding %s', (variant) => {
  const h = harness(variant);
  const r = rng(11);

  it('embedding_forward gathers rows exactly, every row length and alignment', () => {
    for (const c of COLS) for (const [n, vocab] of [[0, 3], [1, 1], [5, 3], [17, 50]] as const) for (const shift of [0, 1]) {
      h.reset();
      const weight = randomF32(vocab * c, () => r.normal()), ids = makeIds(n, vocab, r);
      const pw = put(h, weight, shift), pi = putIds(h, ids, shift);
      const po = put(h, new Float32Array(n * c + 1).fill(NaN), shift);
      h.k.embedding_forward!(po, pi, pw, n, c);
      const want = new Float32Array(n * c + 1).fill(NaN);
      embeddingForward(want, ids, weight, n, c);
      expectNear(h.f32(po, n * c), want.subarray(0, n * c), EXACT, `${variant} forward n ${n} c ${c}`);
      expect(h.f32(po, n * c + 1)[n * c]).toBeNaN();                 // nothing written past the end
    }
  });

  it('embedding_backward adds dout rows into dweight, repeated ids summed in order', () => {
    for (const c of COLS) for (const [n, vocab] of [[1, 1], [6, 2], [9, 9], [33, 5]] as const) for (const shift of [0, 1]) {
      h.reset();
      const ids = makeIds(n, vocab, r);
      const dout = randomF32(n * c, () => r.normal());
      const dw0 = randomF32(vocab * c, () => r.normal());      // pre-filled: the kernel must add
      const pd = put(h, dw0, shift), pg = put(h, dout, shift), pi = putIds(h, ids, 1 - shift);
      h.k.embedding_backward!(pd, pg, pi, n, c, c);
      const want = Float32Array.from(dw0);
      embeddingBackward(want, dout, ids, n, c);
      expectNear(h.f32(pd, vocab * c), want, EXACT, `${variant} backward n ${n} V ${vocab} c ${c}`);
    }
  });

  it('embedding_backward with every id the same (the whole batch lands on one row)', () => {
    for (const c of [7, 768]) {
      h.reset();
      const n = 64, vocab = 4, ids = new Int32Array(n).fill(2);
      const dout = randomF32(n * c, () => r.normal()), dw0 = randomF32(vocab * c, () => r.normal());
      const pd = put(h, dw0), pg = put(h, dout), pi = putIds(h, ids);
      h.k.embedding_backward!(pd, pg, pi, n, c, c);
      const want = Float32Array.from(dw0);
      embeddingBackward(want, dout, ids, n, c);
      expectNear(h.f32(pd, vocab * c), want, EXACT, `${variant} backward one id c ${c}`);
      expect(Array.from(h.f32(pd, c))).toEqual(Array.from(dw0.subarray(0, c)));   // other rows untouched
    }
  });
});

describe.each(VARIANTS)('embedding %s by bands of columns', (variant) => {
  it('embedding_backward on bands of columns (rows ld apart) = the whole call, bit for bit', () => {
    const h = harness(variant);
    const r = rng(13);
    for (const c of [5, 16, 769]) {
      h.reset();
      const n = 30, vocab = 7;
      const ids = Int32Array.from({ length: n }, () => Math.floor(r.uniform() * vocab));
      const g = randomF32(n * c, () => r.normal()), d0 = randomF32(vocab * c, () => r.normal());
      const pg = put(h, g), pi = putIds(h, ids), whole = put(h, d0), bands = put(h, d0);
      h.k.embedding_backward!(whole, pg, pi, n, c, c);
      for (let j0 = 0; j0 < c; j0 += 64) h.k.embedding_backward!(bands + 4 * j0, pg + 4 * j0, pi, n, Math.min(64, c - j0), c);
      expectNear(h.f32(bands, vocab * c), Float64Array.from(h.f32(whole, vocab * c)), EXACT, `${variant} embedding bands c=${c}`);
    }
  });
});

describe('embedding twin backward is the transpose of its forward', () => {
  // ⟨forward(W), G⟩ = ⟨W, backward(G)⟩ for the linear map W ↦ W[ids]; both sides in f64, so the
  // only error is the summation order of two dot products of ≤ 600 terms: ≲ 1e-13 relative.
  it('adjoint identity', () => {
    const r = rng(12), n = 40, vocab = 9, c = 15;
    const ids = makeIds(n, vocab, r);
    const w = Float64Array.from({ length: vocab * c }, () => r.normal());
    const g = Float64Array.from({ length: n * c }, () => r.normal());
    const out = new Float64Array(n * c), dw = new Float64Array(vocab * c);
    embeddingForward(out, ids, w, n, c);
    embeddingBackward(dw, g, ids, n, c);
    let lhs = 0, rhs = 0;
    for (let i = 0; i < out.length; i++) lhs += out[i]! * g[i]!;
    for (let i = 0; i < w.length; i++) rhs += w[i]! * dw[i]!;
    expectNear([lhs], [rhs], { atol: 1e-12, rtol: 1e-12 }, 'adjoint');
  });
});
