// rope_forward / rope_backward against their plain-JS twin (src/ref/rope.ts) on every wasm
// variant, both reading the same f32 cos/sin table: head sizes 2 … 130 (vector loops and their
// tails: rd/2 < 4, = 4, > 4, not a multiple of 4), partial rotary, strided inputs (Q and K
// inside a fused qkv), random positions with an offset p0, unaligned views, += semantics, and
// the split by rows bit for bit. Then the table (src/ref/rope.ts ropeTable, angles in f64) and
// the kernel with it against rotations computed independently in f64, at positions up to
// 2^24 − 1, and the twin's backward against finite differences.
import { describe, it, expect } from 'vitest';
import { harness, put, putIds, VARIANTS } from '../helpers/harness';
import { ropeForward, ropeBackward, ropeTable } from '../../src/ref/rope';
import { expectNear, rng, randomF32, finiteDiff, dot, sampleIndices, U32 } from '../helpers/rowwise-compare';

// [nHead, hs, rd]: rd/2 = 1, 2, 3, 4, 5, 8, 32, 33 and partial rotary (rd < hs)
const HEADS: [number, number, number][] = [[1, 2, 2], [3, 4, 4], [2, 6, 6], [2, 8, 8], [1, 10, 10], [4, 16, 16], [2, 64, 64], [1, 66, 66], [2, 10, 4], [3, 64, 16], [1, 130, 66]];

/**
 * Per-element bounds of the kernel against the twin on the same table (the twin exact in f64):
 * y1 = x1·c − x2·s is two products and a difference, each rounded once: ≤ u·|x1·c| + u·|x2·s| +
 * u·|y1| ≤ 2u·(|x1·c| + |x2·s|), likewise y2; pass-through elements are copied exactly. The
 * backward's rotated terms have the same bound, and its add into the prefill u·(|d0| + |term|).
 */
function rotationBounds(x: ArrayLike<number>, table: Float32Array, pos: Int32Array, p0: number, n: number, nHead: number, hs: number, rd: number,
  ld: number, xLd: number, prefill: ArrayLike<number> | null): Float64Array {
  const half = rd / 2, b = new Float64Array(n * ld);
  for (let r = 0; r < n; r++) {
    const t = (pos[r]! - p0) * rd;
    for (let h = 0; h < nHead; h++) {
      const o = r * ld + h * hs, xo = r * xLd + h * hs;
      for (let i = 0; i < half; i++) {
        const c = Math.abs(table[t + i]!), s = Math.abs(table[t + half + i]!), x1 = Math.abs(x[xo + i]!), x2 = Math.abs(x[xo + half + i]!);
        b[o + i] = 2 * U32 * (x1 * c + x2 * s);
        b[o + half + i] = 2 * U32 * (x2 * c + x1 * s);
        if (prefill) {
          b[o + i] = b[o + i]! + U32 * (Math.abs(prefill[o + i]!) + x1 * c + x2 * s);
          b[o + half + i] = b[o + half + i]! + U32 * (Math.abs(prefill[o + half + i]!) + x2 * c + x1 * s);
        }
      }
      if (prefill) for (let j = rd; j < hs; j++) b[o + j] = U32 * (Math.abs(prefill[o + j]!) + Math.abs(x[xo + j]!));
    }
  }
  return b;
}

describe.each(VARIANTS)('rope %s', (variant) => {
  const h = harness(variant);
  const r = rng(5);

  it('forward and backward match the twin for every head layout, strided, with random positions', () => {
    for (const [nHead, hs, rd] of HEADS) for (const n of [1, 7]) {
      h.reset();
      const C = nHead * hs, ld = 3 * C + 1, col = C, sh = (n + hs) % 2;   // K inside a (n, 3C + 1) fused projection
      const p0 = 5, P = 40;
      const table = ropeTable(p0, P, rd, 10000);
      const pos = Int32Array.from({ length: n }, () => p0 + Math.floor(r.uniform(0, P)));
      const qkv = randomF32(n * ld, () => r.normal());
      const pq = put(h, qkv, sh), pt = put(h, table, sh), pp = putIds(h, pos, sh);
      const py = put(h, new Float32Array(n * C).fill(NaN), sh);
      h.k.rope_forward!(py, pq + 4 * col, pt, pp, p0, n, nHead, hs, rd, ld);
      const want = new Float64Array(n * C);
      ropeForward(want, qkv.subarray(col), table, pos, p0, n, nHead, hs, rd, ld);
      const label = `${variant} ${n} rows, ${nHead}×${hs} rd ${rd}`;
      expectNear(h.f32(py, n * C), want, { atol: rotationBounds(qkv.subarray(col), table, pos, p0, n, nHead, hs, rd, C, ld, null), rtol: 0 }, `${label} forward`);
      // backward: into the same columns of a gradient laid out like qkv
      const dy = randomF32(n * C, () => r.normal()), d0 = randomF32(n * ld, () => r.normal());
      const pd = put(h, d0, sh), pdy = put(h, dy, sh);
      h.k.rope_backward!(pd + 4 * col, pdy, pt, pp, p0, n, nHead, hs, rd, ld);
      const d = Float64Array.from(d0);
      ropeBackward(d.subarray(col), dy, table, pos, p0, n, nHead, hs, rd, ld);
      const got = h.f32(pd, n * ld);
      // columns outside the slice are untouched
      for (let i = 0; i < n * ld; i++) {
        const c = i % ld;
        if ((c < col || c >= col + C) && got[i] !== d0[i]) expect.fail(`${label}: backward wrote outside the slice at [${i}]`);
      }
      const bound = rotationBounds(dy, table, pos, p0, n, nHead, hs, rd, ld, C, d0.subarray(col));
      expectNear(got.subarray(col), d.subarray(col), { atol: Float64Array.from({ length: got.length - col }, (_, i) => (i % ld < C ? bound[i]! : 0)), rtol: 0 }, `${label} backward`);
    }
  });

  it('rows one at a time (a worker pool\'s split) = the whole call, bit for bit', () => {
    for (const [nHead, hs, rd] of [[2, 10, 4], [2, 64, 64], [1, 66, 66]] as const) {
      h.reset();
      const n = 6, C = nHead * hs, ld = 2 * C;
      const table = ropeTable(0, 16, rd, 500), pos = Int32Array.from({ length: n }, (_, i) => (i * 5) % 16);
      const x = randomF32(n * ld, () => r.normal()), dy = randomF32(n * C, () => r.normal());
      const px = put(h, x), pt = put(h, table), pp = putIds(h, pos), pdy = put(h, dy);
      const y = [put(h, new Float32Array(n * C)), put(h, new Float32Array(n * C))], d = [put(h, x), put(h, x)];
      h.k.rope_forward!(y[0]!, px, pt, pp, 0, n, nHead, hs, rd, ld);
      h.k.rope_backward!(d[0]!, pdy, pt, pp, 0, n, nHead, hs, rd, ld);
      for (let i = 0; i < n; i++) {
        h.k.rope_forward!(y[1]! + 4 * i * C, px + 4 * i * ld, pt, pp + 4 * i, 0, 1, nHead, hs, rd, ld);
        h.k.rope_backward!(d[1]! + 4 * i * ld, pdy + 4 * i * C, pt, pp + 4 * i, 0, 1, nHead, hs, rd, ld);
      }
      expectNear(h.f32(y[1]!, n * C), Float64Array.from(h.f32(y[0]!, n * C)), { atol: 0, rtol: 0 }, `${variant} forward ${hs}`);
      expectNear(h.f32(d[1]!, n * ld), Float64Array.from(h.f32(d[0]!, n * ld)), { atol: 0, rtol: 0 }, `${variant} backward ${hs}`);
    }
  });

  it('with ropeTable, against rotations by angles computed independently in f64, positions up to 2^24 − 1', () => {
    // The table rounds cos and sin of an f64 angle once: within u·|v| + (angle error) of exact,
    // the angle error ≤ p·θ·2^-51 (θ from Math.pow, p·θ one more rounding). The independent angle
    // here, p·exp(−(2i/rd)·ln base), errs by ≤ p·θ·2^-48 (the exponent's rounding, ≤ 10·2^-53
    // relatively, times |ln θ| ≤ 10). So the kernel's output is within the rotation bound above,
    // plus u·(|x1·c| + |x2·s|) for the table's rounding, plus (|x1| + |x2|)·p·2^-47 for the angles
    // (at p = 2^24 − 1: 2^-23 of |x| — an f32 angle p·θ would be off by up to 1/2 rad there).
    const nHead = 2, hs = 64, rd = 64, C = nHead * hs, base = 10000;
    const positions = [0, 1, 2, 7, 1000, 8191, 8192, 65535, 1_000_003, 2 ** 24 - 1];
    h.reset();
    const n = positions.length, pos = Int32Array.from(positions);
    const x = randomF32(n * C, () => r.normal());
    const rows = positions.map((p) => ropeTable(p, 1, rd, base));
    const table = new Float32Array(n * rd);
    rows.forEach((t, i) => table.set(t, i * rd));
    const byRow = Int32Array.from(positions, (_, i) => i);       // table row i serves row i (p0 = 0)
    const px = put(h, x), pt = put(h, table), pp = putIds(h, byRow), py = put(h, new Float32Array(n * C));
    h.k.rope_forward!(py, px, pt, pp, 0, n, nHead, hs, rd, C);
    const got = h.f32(py, n * C), want = new Float64Array(n * C), tol = new Float64Array(n * C);
    const half = rd / 2;
    for (let k = 0; k < n; k++) for (let hd = 0; hd < nHead; hd++) for (let i = 0; i < half; i++) {
      const p = pos[k]!, angle = p * Math.exp((-2 * i / rd) * Math.log(base));
      const c = Math.cos(angle), s = Math.sin(angle), o = k * C + hd * hs;
      const x1 = x[o + i]!, x2 = x[o + half + i]!;
      want[o + i] = x1 * c - x2 * s;
      want[o + half + i] = x2 * c + x1 * s;
      const rot = (Math.abs(x1 * c) + Math.abs(x2 * s)), rot2 = (Math.abs(x2 * c) + Math.abs(x1 * s));
      const ang = (Math.abs(x1) + Math.abs(x2)) * (p * 2 ** -47 + 2 ** -52);
      tol[o + i] = 3 * U32 * rot + ang + 1e-30;
      tol[o + half + i] = 3 * U32 * rot2 + ang + 1e-30;
    }
    expectNear(got, want, { atol: tol, rtol: 0 }, `${variant} exact angles`);
  });
});

describe('rope twin', () => {
  it('the table at position p: cos and sin of p·base^(−2i/rd), one f32 rounding', () => {
    const t = ropeTable(3, 2, 8, 10000);                        // positions 3 and 4, rd 8
    for (let k = 0; k < 2; k++) for (let i = 0; i < 4; i++) {
      const angle = (3 + k) * Math.pow(10000, -i / 4);
      expect(t[k * 8 + i]).toBe(Math.fround(Math.cos(angle)));
      expect(t[k * 8 + 4 + i]).toBe(Math.fround(Math.sin(angle)));
    }
    expect(Array.from(ropeTable(0, 1, 4, 10000))).toEqual([1, 1, 0, 0]);   // position 0: no rotation
  });

  it('backward vs central finite differences (f64), partial rotary, strided input', () => {
    const r = rng(11);
    const [n, nHead, hs, rd, ld] = [3, 2, 10, 6, 23];
    const table = Float64Array.from(ropeTable(0, 9, rd, 100));
    const pos = Int32Array.from([8, 0, 3]);
    const x = Float64Array.from({ length: n * ld }, () => r.normal());
    const g = Float64Array.from({ length: n * nHead * hs }, () => r.normal());
    const out = new Float64Array(n * nHead * hs);
    const loss = () => { ropeForward(out, x.subarray(2), table, pos, 0, n, nHead, hs, rd, ld); return dot(out, g); };
    const d = new Float64Array(n * ld);
    ropeBackward(d.subarray(2), g, table, pos, 0, n, nHead, hs, rd, ld);
    const idx = sampleIndices(n * ld, 60);
    expectNear(idx.map((i) => d[i]!), finiteDiff(loss, x, idx), { atol: 1e-8, rtol: 1e-7 }, 'dx');
  });
});
