// dropout_forward / dropout_backward on every wasm variant: the mask equals the plain-JS twin's
// (src/ref/dropout.ts) bit for bit for sizes around the 4-wide step, seeds and thresholds ≥ 2^31
// and unaligned views; the kept fraction is within 5σ of binomial for p = 0.1, 0.5, 0.9; neighbours
// and seeds are uncorrelated (5σ); the same seed repeats; p = 0 keeps everything exactly; the
// backward regenerates the forward's mask (it is the forward applied to dout, added into dinp).
import { describe, it, expect } from 'vitest';
import { harness, VARIANTS, put, type Harness } from '../helpers/harness';
import { dropoutForward, dropoutBackward, dropoutHash } from '../../src/ref/dropout';
import { expectNear, rng, randomF32, U32 } from '../helpers/rowwise-compare';

const LENGTHS = [0, 1, 3, 4, 5, 7, 8, 15, 16, 17, 768, 769];
const SEEDS = [0, 1, 2, 12345, 0x7fffffff, 0x80000000, 0xdeadbeef, 0xffffffff];
const EXACT = { atol: 0, rtol: 0 };

/** The kernel's arguments for drop probability p: threshold = floor(p·2^32), scale = 1/(1−p) as f32. */
const params = (p: number) => ({ threshold: Math.floor(p * 2 ** 32), scale: Math.fround(1 / (1 - p)) });

/** |count − n·q| ≤ 5·sqrt(n·q·(1−q)): a false alarm has probability < 1e-6 per check. */
function expectBinomial(count: number, n: number, q: number, label: string): void {
  const sigma = Math.sqrt(n * q * (1 - q));
  expect(Math.abs(count - n * q), `${label}: ${count} of ${n}, expected ${n * q} ± 5·${sigma.toFixed(1)}`).toBeLessThanOrEqual(5 * sigma);
}

describe.each(VARIANTS)('dropout %s', (variant) => {
  const h = harness(variant);
  const r = rng(41);

  function forward(x: Float32Array, seed: number, threshold: number, scale: number, shift = 0): Float32Array {
    h.reset();
    const px = put(h, x, shift), po = put(h, new Float32Array(x.length).fill(NaN), 1 - shift);
    h.k.dropout_forward!(po, px, x.length, seed, threshold, scale);
    return h.f32(po, x.length).slice();
  }

  it('dropout_forward equals the twin bit for bit: every length, seed, threshold, alignment', () => {
    // inp·scale is one f32 rounding in both (the twin's f64 product of two f32 is exact), so exact.
    for (const n of LENGTHS) for (const seed of SEEDS) for (const p of [0, 0.1, 0.5, 0.9]) {
      const { threshold, scale } = params(p);
      const x = randomF32(n, () => r.normal());
      const got = forward(x, seed, threshold, scale, n % 2);
      const want = new Float32Array(n);
      dropoutForward(want, x, n, seed, threshold, scale);
      expectNear(got, want, EXACT, `${variant} n ${n} seed ${seed} p ${p}`);
      for (let i = 0; i < n; i++) expect(got[i] !== 0, `mask [${i}]`).toBe(dropoutHash(seed, i) >= threshold);
    }
  });

  it('threshold 0 (p = 0) keeps everything exactly; threshold 2^32 − 1 keeps only hash = 2^32 − 1', () => {
    const x = randomF32(1001, () => r.normal());
    x[3] = -0; x[4] = 3e38; x[5] = -1e-40;
    for (const seed of SEEDS) {
      expectNear(forward(x, seed, 0, 1), x, EXACT, `${variant} p = 0 seed ${seed}`);
      const all = forward(x, seed, 2 ** 32 - 1, 2);
      for (let i = 0; i < x.length; i++) expect(all[i]).toBe(dropoutHash(seed, i) === 2 ** 32 - 1 ? Math.fround(2 * x[i]!) : 0);
    }
  });

  it('kept fraction, neighbour and cross-seed independence within 5σ of binomial', () => {
    const n = 200_003, ones = new Float32Array(n).fill(1);
    for (const p of [0.1, 0.5, 0.9]) for (const seed of [0, 1, 0xdeadbeef]) {
      const { threshold, scale } = params(p), q = 1 - threshold / 2 ** 32;
      const a = forward(ones, seed, threshold, scale), b = forward(ones, seed + 1, threshold, scale);
      let kept = 0, pairs = 0, both = 0, differ = 0;
      for (let i = 0; i < n; i++) {
        const ka = a[i] !== 0, kb = b[i] !== 0;
        kept += +ka;
        if (i % 2 === 0 && i + 1 < n) { pairs++; both += +(ka && a[i + 1] !== 0); }   // disjoint neighbour pairs
        differ += +(ka !== kb);
      }
      const label = `${variant} p ${p} seed ${seed}`;
      expectBinomial(kept, n, q, `${label} kept`);
      expectBinomial(both, pairs, q * q, `${label} both neighbours kept`);
      expectBinomial(differ, n, 2 * q * (1 - q), `${label} masks of seeds s, s+1 differ`);
      expect(Array.from(forward(ones, seed, threshold, scale))).toEqual(Array.from(a));      // same seed, same mask
      for (const y of a) if (y !== 0) { expect(y).toBe(scale); break; }
    }
  });

  it('out == inp (in place) and NaN/Inf inputs: dropped elements become +0', () => {
    h.reset();
    const n = 37, { threshold, scale } = params(0.5);
    const x = randomF32(n, () => r.normal());
    x[0] = NaN; x[9] = Infinity; x[22] = NaN; x[36] = -Infinity;
    const px = put(h, x, 1);
    h.k.dropout_forward!(px, px, n, 7, threshold, scale);
    const want = new Float32Array(n);
    dropoutForward(want, x, n, 7, threshold, scale);
    expectNear(h.f32(px, n), want, EXACT, `${variant} in place`);
  });

  it('dropout_backward adds scale·dout through the same mask, like the twin', () => {
    for (const n of LENGTHS) for (const seed of [3, 0x80000001]) for (const p of [0.1, 0.5]) {
      h.reset();
      const { threshold, scale } = params(p), shift = n % 2;
      const g = randomF32(n, () => r.normal()), d0 = randomF32(n, () => r.normal());
      const pd = put(h, d0, shift), pg = put(h, g, 1 - shift);
      h.k.dropout_backward!(pd, pg, n, seed, threshold, scale);
      const want = Float64Array.from(d0);
      dropoutBackward(want, g, n, seed, threshold, scale);
      // The kernel rounds dout·scale to f32 before the add (u·|dout·scale|), then the sum (u·|result|).
      const atol = Array.from(g, (v) => U32 * Math.abs(v * scale));
      const got = h.f32(pd, n);
      expectNear(got, want, { atol, rtol: U32 }, `${variant} backward n ${n} seed ${seed} p ${p}`);
      for (let i = 0; i < n; i++) if (dropoutHash(seed, i) < threshold) expect(got[i], `dropped [${i}] untouched`).toBe(d0[i]);
    }
  });

  it('dropout_backward from zero equals the forward applied to dout (the same mask, regenerated)', () => {
    for (const n of [5, 769, 4099]) for (const p of [0.1, 0.5]) {
      h.reset();
      const { threshold, scale } = params(p), g = randomF32(n, () => r.normal());
      const fwd = forward(g, 99, threshold, scale);
      h.reset();
      const pd = put(h, new Float32Array(n)), pg = put(h, g);
      h.k.dropout_backward!(pd, pg, n, 99, threshold, scale);
      expectNear(h.f32(pd, n), fwd, EXACT, `${variant} backward = forward n ${n} p ${p}`);
      h.k.dropout_backward!(pg, pg, n, 99, threshold, scale);                      // dinp == dout
      const inPlace = Float32Array.from(g, (v, i) => v + fwd[i]!);
      expectNear(h.f32(pg, n), inPlace, EXACT, `${variant} backward in place n ${n}`);
    }
  });
});
