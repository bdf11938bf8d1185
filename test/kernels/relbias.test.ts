// relbias_forward / relbias_backward (T5's relative position bias gather and its scatter-add)
// against their plain-JS twin (src/ref/relbias.ts) on every wasm variant: heads 1, 3, 8 and rows
// of L = 1, 7, 33, 255 relative positions, random buckets and T5's own (many positions sharing a
// bucket), unaligned views. The gather copies floats: bit for bit. The scatter adds in the twin's
// order: bit for bit against the twin run on f32 memory, and within the derived bound of the f64 sum.
import { describe, it, expect } from 'vitest';
import { harness, put, putIds, VARIANTS } from '../helpers/harness';
import { relbiasForward, relbiasBackward } from '../../src/ref/relbias';
import { relativeBuckets } from '../../src/nn/relative-bias';
import { expectNear, rng, randomF32, U32 } from '../helpers/rowwise-compare';

const r = rng(17);

/** Cases: [nHead, NB, buckets]: random ones, and T5's for a 40 × 40 encoder (bidirectional) and a decode step at position 199. */
const CASES: [number, number, Int32Array][] = [
  ...[1, 3, 8].flatMap((nHead) => [1, 7, 33, 255].map((L): [number, number, Int32Array] => [nHead, 16, Int32Array.from({ length: L }, () => Math.floor(r.uniform(0, 16)))])),
  [4, 32, relativeBuckets(40, 40, { buckets: 32, maxDistance: 128, bidirectional: true })],
  [4, 32, relativeBuckets(1, 200, { buckets: 32, maxDistance: 128, bidirectional: false })],
];

describe.each(VARIANTS)('relbias %s', (variant) => {
  const h = harness(variant);

  it('relbias_forward gathers exactly the twin\'s values (a copy: bit for bit)', () => {
    for (const [nHead, NB, buckets] of CASES) {
      h.reset();
      const L = buckets.length, sh = L % 2;
      const table = randomF32(NB * nHead, () => r.normal());
      const pt = put(h, table, sh), pb = putIds(h, buckets, sh), po = put(h, new Float32Array(nHead * L).fill(NaN), sh);
      h.k.relbias_forward!(po, pt, pb, nHead, L);
      const want = new Float64Array(nHead * L);
      relbiasForward(want, table, buckets, nHead, L);
      expectNear(h.f32(po, nHead * L), want, { atol: 0, rtol: 0 }, `${variant} forward ${nHead}×${L}`);
    }
  });

  it('relbias_backward adds into dtable: = the twin on f32 bit for bit, and within k·u·(|d0| + Σ|terms|) of the f64 sum', () => {
    for (const [nHead, NB, buckets] of CASES) {
      h.reset();
      const L = buckets.length, sh = (L + 1) % 2;
      const d0 = randomF32(NB * nHead, () => r.normal()), dout = randomF32(nHead * L, () => r.normal());
      const pd = put(h, d0, sh), pg = put(h, dout, sh), pb = putIds(h, buckets, sh);
      h.k.relbias_backward!(pd, pg, pb, nHead, L);
      const got = h.f32(pd, NB * nHead);
      const f32 = Float32Array.from(d0), f64 = Float64Array.from(d0);
      relbiasBackward(f32, dout, buckets, nHead, L);
      relbiasBackward(f64, dout, buckets, nHead, L);
      const label = `${variant} backward ${nHead}×${L}`;
      expectNear(got, Float64Array.from(f32), { atol: 0, rtol: 0 }, `${label} (f32 twin)`);
      // entry (b, h) is d0 plus k terms added one at a time in f32: each add rounds its partial sum
      // once, so the error is ≤ k·u·(|d0| + Σ|terms|) (to first order; k·u ≪ 1 here)
      const count = new Float64Array(NB * nHead), mass = Float64Array.from(d0, Math.abs);
      for (let hd = 0; hd < nHead; hd++) for (let i = 0; i < L; i++) {
        const p = buckets[i]! * nHead + hd;
        count[p]! += 1;
        mass[p]! += Math.abs(dout[hd * L + i]!);
      }
      expectNear(got, f64, { atol: Float64Array.from(count, (k, p) => 1.01 * k * U32 * mass[p]!), rtol: 0 }, `${label} (f64)`);
      // buckets nobody uses keep their value exactly
      for (let p = 0; p < NB * nHead; p++) if (count[p] === 0) expect(got[p]).toBe(d0[p]);
    }
  });
});
