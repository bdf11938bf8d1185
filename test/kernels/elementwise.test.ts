// add_f32, mul_f32, scale_f32, axpy_f32, fill_f32, copy_f32, colsum_f32, argmax_f32 against their plain-JS
// twin (src/ref/elementwise.ts) on every wasm variant: lengths around the 4- and 16-wide steps
// and {768, 769}, unaligned views, in-place use (out == a, out == b, y == x), overlapping copies.
// add, mul, scale, fill and copy are one f32 rounding in both (f64 then f32 rounds correctly
// for + and ×), so they must match bit for bit; axpy and colsum get a derived tolerance. argmax
// must give the twin's index exactly: ties (in one lane, across lanes, in the tail), ±0, −∞, NaN.
import { describe, it } from 'vitest';
import { harness, VARIANTS, put, type Harness } from '../helpers/harness';
import { addF32, mulF32, scaleF32, axpyF32, fillF32, copyF32, colsumF32, argmaxF32 } from '../../src/ref/elementwise';
import { expectNear, rng, randomF32, U32 } from '../helpers/rowwise-compare';

const LENGTHS = [0, 1, 3, 4, 5, 7, 8, 15, 16, 17, 31, 33, 768, 769];
const EXACT = { atol: 0, rtol: 0 };

describe.each(VARIANTS)('elementwise %s', (variant) => {
  const h = harness(variant);
  const r = rng(5);
  const normal = () => r.normal();

  it('add_f32 / mul_f32: exact, unaligned, out == a and out == b', () => {
    for (const [name, ref] of [['add_f32', addF32], ['mul_f32', mulF32]] as const) {
      for (const n of LENGTHS) for (const shift of [0, 1]) {
        h.reset();
        const a = randomF32(n, normal), b = randomF32(n, normal), want = new Float32Array(n);
        ref(want, a, b, n);
        const pa = put(h, a, shift), pb = put(h, b, shift), po = put(h, new Float32Array(n).fill(NaN), shift);
        h.k[name]!(po, pa, pb, n);
        expectNear(h.f32(po, n), want, EXACT, `${variant} ${name} n ${n}`);
        h.k[name]!(pa, pa, pb, n);
        expectNear(h.f32(pa, n), want, EXACT, `${variant} ${name} out == a`);
        h.f32(pa, n).set(a);
        h.k[name]!(pb, pa, pb, n);
        expectNear(h.f32(pb, n), want, EXACT, `${variant} ${name} out == b`);
      }
    }
  });

  it('scale_f32: exact for an f32 scalar, in place', () => {
    for (const n of LENGTHS) {
      h.reset();
      const s = Math.fround(-0.37), a = randomF32(n, normal), want = new Float32Array(n);
      scaleF32(want, a, s, n);
      const pa = put(h, a, 1), po = put(h, new Float32Array(n), 1);
      h.k.scale_f32!(po, pa, s, n);
      expectNear(h.f32(po, n), want, EXACT, `${variant} scale n ${n}`);
      h.k.scale_f32!(pa, pa, s, n);
      expectNear(h.f32(pa, n), want, EXACT, `${variant} scale in place n ${n}`);
    }
  });

  it('axpy_f32: y += alpha·x, also y == x', () => {
    for (const n of LENGTHS) for (const shift of [0, 1]) {
      h.reset();
      const alpha = Math.fround(1.7), x = randomF32(n, normal), y0 = randomF32(n, normal);
      const want = Float64Array.from(y0);
      axpyF32(want, x, alpha, n);
      // The simd build rounds alpha·x, then the sum (the relaxed build may fuse them): ≤ u·|alpha·x| + u·|y|.
      const atol = Array.from(x, (v, i) => U32 * (Math.abs(alpha * v) + Math.abs(want[i]!)));
      const px = put(h, x, shift), py = put(h, y0, shift);
      h.k.axpy_f32!(py, px, alpha, n);
      expectNear(h.f32(py, n), want, { atol, rtol: 0 }, `${variant} axpy n ${n}`);
      h.k.axpy_f32!(px, px, alpha, n);
      const self = Float64Array.from(x, (v) => v + alpha * v);
      const atolSelf = Array.from(x, (v) => U32 * (Math.abs(alpha * v) + Math.abs(v + alpha * v)));
      expectNear(h.f32(px, n), self, { atol: atolSelf, rtol: 0 }, `${variant} axpy y == x n ${n}`);
    }
  });

  it('fill_f32 writes exactly n values and nothing beyond', () => {
    for (const n of LENGTHS) {
      h.reset();
      const po = put(h, new Float32Array(n + 2).fill(7), 1);
      h.k.fill_f32!(po + 4, -2.5, n);
      const want = new Float32Array(n + 2).fill(7);
      fillF32(want.subarray(1), -2.5, n);
      expectNear(h.f32(po, n + 2), want, EXACT, `${variant} fill n ${n}`);
    }
  });

  it('copy_f32: disjoint and overlapping in both directions (memmove)', () => {
    for (const n of LENGTHS) for (const shift of [-5, -1, 0, 1, 5, n + 3]) {
      h.reset();
      const base = randomF32(2 * n + 20, normal);                // src at [6, 6 + n), dst within too
      const p = put(h, base, 1);
      const src = p + 4 * 6, dst = src + 4 * shift;
      const want = Float32Array.from(base);
      copyF32(want.subarray(6 + shift), want.subarray(6), n);
      h.k.copy_f32!(dst, src, n);
      expectNear(h.f32(p, base.length), want, EXACT, `${variant} copy n ${n} shift ${shift}`);
    }
  });

  it('colsum_f32: out += Σ_i inp[i, :], rows around the 4-row step', () => {
    for (const cols of [1, 3, 4, 5, 7, 8, 768, 769]) for (const rows of [0, 1, 3, 4, 5, 9]) {
      h.reset();
      const inp = randomF32(rows * cols, normal), out0 = randomF32(cols, normal);
      const want = Float64Array.from(out0);
      colsumF32(want, inp, rows, cols);
      // rows + 1 f32 additions per column in some order: ≤ (rows + 1)u · (|out0| + Σ_i |inp[i, j]|).
      const atol = Array.from(out0, (v, j) => {
        let s = Math.abs(v);
        for (let i = 0; i < rows; i++) s += Math.abs(inp[i * cols + j]!);
        return (rows + 1) * U32 * s;
      });
      const po = put(h, out0, 1), pi = put(h, inp, 1);
      h.k.colsum_f32!(po, pi, rows, cols, cols);
      expectNear(h.f32(po, cols), want, { atol, rtol: 0 }, `${variant} colsum ${rows}x${cols}`);
    }
  });

  it('colsum_f32: bands of columns (rows ld apart) sum each column exactly as the whole call', () => {
    for (const cols of [5, 13, 768, 769]) for (const rows of [1, 6, 9]) {
      h.reset();
      const inp = randomF32(rows * cols, normal), out0 = randomF32(cols, normal);
      const pi = put(h, inp), whole = put(h, out0), bands = put(h, out0);
      h.k.colsum_f32!(whole, pi, rows, cols, cols);
      for (let j0 = 0; j0 < cols; j0 += 12) h.k.colsum_f32!(bands + 4 * j0, pi + 4 * j0, rows, Math.min(12, cols - j0), cols);
      expectNear(h.f32(bands, cols), Float64Array.from(h.f32(whole, cols)), EXACT, `${variant} colsum bands ${rows}x${cols}`);
    }
  });

  it('argmax_f32: the twin\'s first index of the maximum and NaN flag, exactly', () => {
    const cases: [string, (n: number) => Float32Array][] = [
      ['random', (n) => randomF32(n, normal)],
      // few distinct values: the maximum repeats in one lane, across lanes and in the tail
      ['ties', (n) => Float32Array.from({ length: n }, () => Math.floor(r.uniform() * 3))],
      ['all -inf', (n) => new Float32Array(n).fill(-Infinity)],
      ['+0 and -0', (n) => Float32Array.from({ length: n }, (_, i) => ((i * 7) % 3 ? -0 : 0))],
      ['NaN and +inf', (n) => Float32Array.from({ length: n }, (_, i) => (i === n >> 1 ? NaN : i === (2 * n) / 3 ? Infinity : normal()))],
      ['max last', (n) => Float32Array.from({ length: n }, (_, i) => i)],
      ['NaN first', (n) => Float32Array.from({ length: n }, (_, i) => (i === 0 ? NaN : -i))],
    ];
    for (const [name, make] of cases) for (const n of [...LENGTHS, 50_257]) for (const shift of [0, 1]) {
      h.reset();
      const x = make(n), want = new Int32Array(2);
      argmaxF32(want, x, n);
      const out = h.alloc(2, [-7, -7]);
      h.k.argmax_f32!(out, put(h, x, shift), n);
      const got = new Int32Array(h.memory.buffer, out, 2);
      if (got[0] !== want[0] || got[1] !== want[1]) throw new Error(`${variant} argmax ${name} n ${n} shift ${shift}: [${got}] vs twin [${want}]`);
    }
  });
});
