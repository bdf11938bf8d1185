// softmax_forward / softmax_backward against their plain-JS twin (src/ref/softmax.ts) on every
// wasm variant: row lengths {1,3,4,5,7,8,768,769}, causal T×T and KV-cache masks, fully masked
// rows, −Infinity entries, huge equal logits, scale ≠ 1, unaligned views and in-place use.
// The twin's backward is itself checked against central finite differences in f64.
import { describe, it, expect } from 'vitest';
import { harness, putIds, VARIANTS, type Harness } from '../helpers/harness';
import { softmaxForward, softmaxBackward, attentionMask } from '../../src/ref/softmax';
import { expectNear, rng, randomF32, maxAbs, finiteDiff, dot, sampleIndices, U32 } from '../helpers/rowwise-compare';

const COLS = [1, 3, 4, 5, 7, 8, 768, 769];

// Forward tolerance, per element p = e^a / S with a = scale·(x − max) ≤ 0:
// - a is rounded twice in f32 (x − max, ·scale): p·|a|·2u ≤ (max of e^a·|a| = 1/e)·2u < u  → atol u;
// - exp4Nonpos (degree-5 fit, assembly/simd_math.ts) measures ≤ 2.26 ulp, relative δ ≤ 3.1u over
//   [−88, 0]. δ enters p = e/S twice, in e and as a weighted mean of the terms' δ in S, so ≤ 6.2u:
//   within the 8u budgeted for exp; terms flushed to 0 (e^a < 2^-126) err by < 2^-126, inside atol.
//   The f32 sum S over `cols` terms with 16 partial sums adds (cols/16 + 4)u, then one division and
//   one multiply (2u)                                                      → rtol (8 + 4 + 2 + cols/16)u.
const fwdTol = (cols: number) => ({ atol: U32, rtol: (14 + cols / 16) * U32 });
// Backward, dinp = d + s·y·(g − Σ g·y): the f32 dot over `cols` terms errs by ≤ (cols/16 + 4)u·max|g|
// (Σ y = 1), the difference, two products and the add add ≤ 6u·|s|·max|g|; the final add u·|result|.
const bwdTol = (cols: number, scale: number, g: Float32Array) =>
  ({ atol: Math.abs(scale) * maxAbs(g) * (cols / 16 + 10) * U32, rtol: 2 * U32 });

/** Copies `data` into wasm memory at a 64-byte boundary + 4·shift bytes (shift 1 = unaligned view). */
function put(h: Harness, data: ArrayLike<number>, shift = 0): number {
  const p = h.alloc(data.length + shift) + 4 * shift;
  h.f32(p, data.length).set(data);
  return p;
}

function forwardCase(h: Harness, x: Float32Array, rows: number, cols: number, block: number,
  scale: number, causal: number, shift = 0, inPlace = false): { got: Float32Array; want: Float32Array } {
  h.reset();
  const pin = put(h, x, shift);
  const pout = inPlace ? pin : put(h, new Float32Array(rows * cols).fill(NaN), shift);
  h.k.softmax_forward!(pout, pin, rows, cols, block, scale, causal);
  const want = new Float64Array(rows * cols);
  softmaxForward(want, x, rows, cols, block, scale, causal);
  return { got: h.f32(pout, rows * cols).slice(), want: Float32Array.from(want) };
}

describe.each(VARIANTS)('softmax %s', (variant) => {
  const h = harness(variant);
  const r = rng(1);

  it('forward matches the twin for every row length, scale and alignment', () => {
    for (const cols of COLS) for (const rows of [1, 5]) for (const scale of [1, 0.125, -0.5]) {
      const shift = cols % 2;
      const x = randomF32(rows * cols, () => 3 * r.normal());
      const { got, want } = forwardCase(h, x, rows, cols, cols, scale, 0, shift);
      expectNear(got, want, fwdTol(cols), `${variant} ${rows}x${cols} scale ${scale}`);
    }
  });

  it('causal T×T attention (block = cols = T), two heads', () => {
    for (const t of [1, 3, 4, 5, 7, 8, 64, 65]) {
      const x = randomF32(2 * t * t, () => 2 * r.normal());
      const { got, want } = forwardCase(h, x, 2 * t, t, t, 1 / Math.sqrt(t), 1, 1);
      expectNear(got, want, fwdTol(t), `${variant} causal T=${t}`);
      for (let row = 0; row < 2 * t; row++) for (let j = (row % t) + 1; j < t; j++) expect(got[row * t + j]).toBe(0);
    }
  });

  it('causal with cols > block (KV cache) and cols < block (fully masked rows give zeros)', () => {
    for (const [block, cols] of [[4, 9], [3, 769], [8, 5], [16, 7], [5, 5]] as const) {
      const rows = 2 * block;
      const x = randomF32(rows * cols, () => r.normal());
      const { got, want } = forwardCase(h, x, rows, cols, block, 0.7, 1);
      expectNear(got, want, fwdTol(cols), `${variant} block ${block} cols ${cols}`);
      for (let row = 0; row < rows; row++) {
        const visible = Math.min(cols, Math.max(0, (row % block) + cols - block + 1));
        const s = got.subarray(row * cols, (row + 1) * cols).reduce((a, b) => a + b, 0);
        expect(Math.abs(s - (visible > 0 ? 1 : 0)), `row ${row} sum`).toBeLessThan(1e-5);
        for (let j = visible; j < cols; j++) expect(got[row * cols + j]).toBe(0);
      }
    }
  });

  it('huge equal logits give exactly uniform rows', () => {
    for (const [v, scale] of [[1e30, 1], [1e30, 0.125], [3e38, 1], [-3e38, 1], [3e38, 4]] as const) {
      for (const cols of COLS) {
        const x = new Float32Array(3 * cols).fill(v);
        const { got } = forwardCase(h, x, 3, cols, cols, scale, 0);
        const u = Math.fround(1 / cols);
        for (let i = 0; i < got.length; i++) if (got[i] !== u) expect.fail(`${variant} ${v}·${scale} cols ${cols}: [${i}] = ${got[i]}, want ${u}`);
      }
    }
  });

  it('−Infinity entries get 0, all −Infinity rows give zeros, never NaN', () => {
    for (const cols of COLS) {
      const rows = 4;
      const x = randomF32(rows * cols, () => r.normal());
      for (let i = 0; i < x.length; i++) if (r.uniform() < 0.3) x[i] = -Infinity;
      x.fill(-Infinity, cols, 2 * cols);                                       // row 1: all −Inf
      x.fill(-Infinity, 2 * cols, 3 * cols); x[3 * cols - 1] = 3e38;         // row 2: one huge finite
      const { got, want } = forwardCase(h, x, rows, cols, cols, 1, 0, 1);
      expectNear(got, want, fwdTol(cols), `${variant} -Inf cols ${cols}`);
      for (let j = 0; j < cols; j++) expect(got[cols + j]).toBe(0);
      expect(got[3 * cols - 1]).toBe(1);
      for (let i = 0; i < x.length; i++) if (x[i] === -Infinity) expect(got[i]).toBe(0);
    }
  });

  it('exponents down to the flush range (e^a < 2^-126) and NaN inputs (row becomes NaN)', () => {
    for (const cols of COLS) {
      const x = Float32Array.from({ length: 3 * cols }, (_, i) => -(i % cols) * 110 / cols);  // rows 0, 1: a in (−110, 0]
      x[cols] = -86; x[2 * cols - 1] = -88;                                   // row 1 near 2^-126
      x[2 * cols + (cols >> 1)] = NaN;                                         // row 2: one NaN
      const { got, want } = forwardCase(h, x, 3, cols, cols, 1, 0);
      expectNear(got.subarray(0, 2 * cols), want.subarray(0, 2 * cols), fwdTol(cols), `${variant} flush cols ${cols}`);
      for (let j = 0; j < cols; j++) expect(got[2 * cols + j]).toBeNaN();
    }
  });

  it('in place (out == inp)', () => {
    for (const cols of [5, 768, 769]) {
      const x = randomF32(3 * cols, () => 4 * r.normal());
      const a = forwardCase(h, x, 3, cols, 2, 0.5, 1, 1, true);
      expectNear(a.got, a.want, fwdTol(cols), `${variant} in-place ${cols}`);
    }
  });

  it('attention_mask_f32 sets masked scores to −Infinity per mask row, exactly like the twin', () => {
    // (B, NH, Tq, Tk) scores with a (B, maskLd ≥ Tk) key mask; masked scores become −Inf, others are untouched.
    for (const [B, NH, Tq, Tk, maskLd] of [[2, 3, 4, 5, 5], [1, 2, 3, 9, 16], [3, 1, 1, 1, 1], [2, 2, 5, 17, 20]] as const) {
      h.reset();
      const rows = B * NH * Tq;
      const x = randomF32(rows * Tk, () => r.normal());
      const mask = Int32Array.from({ length: B * maskLd }, () => (r.uniform() < 0.35 ? 0 : 1 + (r.uniform() < 0.5 ? 1 : 0)));
      const px = put(h, x, Tk % 2), pm = putIds(h, mask, 1);
      h.k.attention_mask_f32!(px, pm, rows, Tk, NH * Tq, maskLd);
      const want = Float32Array.from(x);
      attentionMask(want, mask, rows, Tk, NH * Tq, maskLd);
      const got = h.f32(px, rows * Tk);
      for (let i = 0; i < got.length; i++) {
        const b = Math.floor(i / (NH * Tq * Tk)), j = i % Tk;
        expect(got[i], `${variant} [${i}]`).toBe(mask[b * maskLd + j] === 0 ? -Infinity : x[i]);
        expect(got[i]).toBe(want[i]);
      }
      // then softmax: masked keys get exactly 0, the rest renormalise over the kept keys
      h.k.softmax_forward!(px, px, rows, Tk, Tk, 1, 0);
      const p = h.f32(px, rows * Tk);
      for (let row = 0; row < rows; row++) {
        const b = Math.floor(row / (NH * Tq));
        const kept = Array.from({ length: Tk }, (_, j) => mask[b * maskLd + j] !== 0);
        const s = p.subarray(row * Tk, (row + 1) * Tk).reduce((a, c) => a + c, 0);
        expect(Math.abs(s - (kept.some((k) => k) ? 1 : 0))).toBeLessThan(1e-5);
        kept.forEach((k, j) => { if (!k) expect(p[row * Tk + j]).toBe(0); });
      }
    }
  });

  it('backward adds scale·out⊙(dout − Σ dout·out) into dinp, like the twin', () => {
    for (const cols of COLS) for (const [rows, scale] of [[1, 1], [6, 0.125]] as const) {
      h.reset();
      const x = randomF32(rows * cols, () => 2 * r.normal());
      const y = new Float64Array(rows * cols);
      softmaxForward(y, x, rows, cols, cols, scale, 1);
      const y32 = Float32Array.from(y);
      const g = randomF32(rows * cols, () => r.normal());
      const d0 = randomF32(rows * cols, () => r.normal());
      const pd = put(h, d0, 1), pg = put(h, g, 1), py = put(h, y32);
      h.k.softmax_backward!(pd, pg, py, rows, cols, scale);
      const want = Float64Array.from(d0);
      softmaxBackward(want, g, y32, rows, cols, scale);
      expectNear(h.f32(pd, rows * cols), want, bwdTol(cols, scale, g), `${variant} backward ${rows}x${cols}`);
    }
  });

  it('backward in place (dinp == dout)', () => {
    for (const cols of [7, 768, 769]) {
      h.reset();
      const rows = 3, scale = 0.5;
      const y = new Float64Array(rows * cols);
      softmaxForward(y, randomF32(rows * cols, () => r.normal()), rows, cols, cols, scale, 0);
      const y32 = Float32Array.from(y), g = randomF32(rows * cols, () => r.normal());
      const pg = put(h, g, 1), py = put(h, y32);
      h.k.softmax_backward!(pg, pg, py, rows, cols, scale);
      const want = Float64Array.from(g);
      softmaxBackward(want, g, y32, rows, cols, scale);
      expectNear(h.f32(pg, rows * cols), want, bwdTol(cols, scale, g), `${variant} backward in place ${cols}`);
    }
  });
});

describe('softmax twin backward vs central finite differences (f64)', () => {
  // L = Σ out·g; dL/dinp from softmaxBackward (dout = g) must match (L(x+h) − L(x−h)) / 2h.
  // Tolerance 1e-6 relative + 1e-7: the f64 difference quotient errs by ≲ 1e-10 (see finiteDiff).
  it.each([[4, 4, 4, 1, 0.3], [6, 7, 3, 1, 1], [2, 769, 769, 0, 0.125], [8, 5, 8, 1, 2]])(
    'rows %i cols %i block %i causal %i scale %f', (rows, cols, block, causal, scale) => {
      const r = rng(cols), n = rows * cols;
      const x = Float64Array.from({ length: n }, () => 2 * r.normal());
      const g = Float64Array.from({ length: n }, () => r.normal());
      const y = new Float64Array(n);
      const loss = () => { softmaxForward(y, x, rows, cols, block, scale, causal); return dot(y, g); };
      loss();
      const dx = new Float64Array(n);
      softmaxBackward(dx, g, y, rows, cols, scale);
      const idx = sampleIndices(n, 40);
      expectNear(idx.map((i) => dx[i]!), finiteDiff(loss, x, idx), { atol: 1e-7, rtol: 1e-6 }, 'dinp');
    });
});
