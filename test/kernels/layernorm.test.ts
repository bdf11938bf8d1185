// layernorm_forward / layernorm_backward against their plain-JS twin (src/ref/layernorm.ts)
// on every wasm variant: row lengths {1,3,4,5,7,8,768,769}, several row counts, constant rows,
// rows with a large offset, unaligned views, in-place forward, += semantics of the backward.
// The twin's backward is itself checked against central finite differences in f64.
import { describe, it, expect } from 'vitest';
import { harness, VARIANTS, type Harness } from '../helpers/harness';
import { layernormForward, layernormBackward } from '../../src/ref/layernorm';
import { expectNear, rng, randomF32, maxAbs, finiteDiff, dot, sampleIndices, U32 } from '../helpers/rowwise-compare';

const COLS = [1, 3, 4, 5, 7, 8, 768, 769];
const EPS = 1e-5;

// Tolerances, with k(c) = c/16 + 4 the worst-case relative error (in u) of an f32 sum of c terms
// kept in 16 partial sums, and the twin exact in f64:
// - mean: x0 + Σ(x − x0)/c errs by ≤ u·|mean| + k·u·max|x − x0|/… ≤ (k + 2)u·max|x|;
// - rstd: the sum of squares errs by ≤ (k + 2)u relatively, rstd by about half that plus 2 roundings;
// - out = (x − m)·(rstd·w) + b: the error of m enters as rstd·|w|·|Δm| (≤ (k+2)u·max|x|·rstd·|w|),
//   the relative error of rstd as |norm·w| ≤ (k+4)u·max|out − b|, and 3 roundings of |out|.
const k = (c: number) => c / 16 + 4;

/** Copies `data` into wasm memory at a 64-byte boundary + 4·shift bytes (shift 1 = unaligned view). */
function put(h: Harness, data: ArrayLike<number>, shift = 0): number {
  const p = h.alloc(data.length + shift) + 4 * shift;
  h.f32(p, data.length).set(data);
  return p;
}

function checkForward(h: Harness, x: Float32Array, w: Float32Array, b: Float32Array, n: number, c: number,
  label: string, shift = 0, inPlace = false): Float32Array {
  h.reset();
  const px = put(h, x, shift), pw = put(h, w, shift), pb = put(h, b, shift);
  const py = inPlace ? px : put(h, new Float32Array(n * c).fill(NaN), shift);
  const pm = put(h, new Float32Array(n).fill(NaN), shift), ps = put(h, new Float32Array(n).fill(NaN), shift);
  h.k.layernorm_forward!(py, pm, ps, px, pw, pb, n, c, EPS);
  const out = new Float64Array(n * c), mean = new Float64Array(n), rstd = new Float64Array(n);
  layernormForward(out, mean, rstd, x, w, b, n, c, EPS);
  const mx = maxAbs(x), mr = maxAbs(rstd), mw = maxAbs(w);
  let spread = 0;
  for (let i = 0; i < n * c; i++) spread = Math.max(spread, Math.abs(out[i]! - b[i % c]!));
  expectNear(h.f32(pm, n), mean, { atol: (k(c) + 2) * U32 * mx, rtol: 0 }, `${label} mean`);
  expectNear(h.f32(ps, n), rstd, { atol: 0, rtol: (k(c) / 2 + 3) * U32 }, `${label} rstd`);
  const atol = (k(c) + 2) * U32 * mx * mr * mw + (k(c) + 4) * U32 * spread;
  expectNear(h.f32(py, n * c), out, { atol, rtol: 3 * U32 }, `${label} out`);
  return h.f32(py, n * c).slice();
}

describe.each(VARIANTS)('layernorm %s', (variant) => {
  const h = harness(variant);
  const r = rng(2);

  it('forward matches the twin for every row length, row count and alignment', () => {
    for (const c of COLS) for (const n of [1, 4, 9]) {
      const x = randomF32(n * c, () => 0.5 + 2 * r.normal());
      const w = randomF32(c, () => 1 + 0.3 * r.normal()), b = randomF32(c, () => 0.3 * r.normal());
      checkForward(h, x, w, b, n, c, `${variant} ${n}x${c}`, (n + c) % 2);
    }
  });

  it('rows with a large offset (mean 300, spread 1)', () => {
    for (const c of [7, 768, 769]) {
      const x = randomF32(3 * c, () => 300 + r.normal());
      checkForward(h, x, randomF32(c, () => r.normal()), randomF32(c, () => r.normal()), 3, c, `${variant} offset ${c}`, 1);
    }
  });

  it('constant rows give out = bias exactly, mean exact, rstd = 1/sqrt(eps)', () => {
    for (const c of COLS) for (const v of [0, 0.1, -3.7, 1e4]) {
      const x = new Float32Array(2 * c).fill(v);
      const w = randomF32(c, () => r.normal()), b = randomF32(c, () => r.normal());
      const got = checkForward(h, x, w, b, 2, c, `${variant} const ${v} c ${c}`);
      for (let i = 0; i < got.length; i++) if (got[i] !== b[i % c]) expect.fail(`const ${v} c ${c}: [${i}] ${got[i]} != bias ${b[i % c]}`);
    }
  });

  it('in place (out == inp)', () => {
    for (const c of [5, 768, 769]) {
      const x = randomF32(3 * c, () => r.normal());
      checkForward(h, x, randomF32(c, () => r.normal()), randomF32(c, () => r.normal()), 3, c, `${variant} in-place ${c}`, 1, true);
    }
  });

  it('backward adds into dinp, dweight and dbias like the twin', () => {
    for (const c of COLS) for (const n of [1, 5]) {
      h.reset();
      const x = randomF32(n * c, () => 1 + r.normal());
      const w = randomF32(c, () => 1 + 0.3 * r.normal()), b = randomF32(c, () => r.normal());
      const out = new Float64Array(n * c), mean64 = new Float64Array(n), rstd64 = new Float64Array(n);
      layernormForward(out, mean64, rstd64, x, w, b, n, c, EPS);
      const mean = Float32Array.from(mean64), rstd = Float32Array.from(rstd64);
      const g = randomF32(n * c, () => r.normal());
      const d0 = randomF32(n * c, () => r.normal()), dw0 = randomF32(c, () => r.normal()), db0 = randomF32(c, () => r.normal());
      const s = (n + c) % 2;
      const pd = put(h, d0, s), pdw = put(h, dw0, s), pdb = put(h, db0, s), pg = put(h, g, s), px = put(h, x, s);
      const pw = put(h, w, s), pm = put(h, mean, s), pr = put(h, rstd, s);
      h.k.layernorm_backward!(pd, pdw, pdb, pg, px, pw, pm, pr, n, c);
      const d = Float64Array.from(d0), dw = Float64Array.from(dw0), db = Float64Array.from(db0);
      layernormBackward(d, dw, db, g, x, w, mean, rstd, n, c);
      // dinp: rstd·(dnorm − mean dnorm − norm·mean(dnorm·norm)); the two row sums err by ≤ k(c)u of
      // Σ|dnorm|·(1 + |norm|) ≤ c·M (M = max|w·g|·(1 + max|norm|)), divided by c, times rstd; plus ~5 roundings.
      const maxNorm = maxAbs(x.map((v, i) => (v - mean[Math.floor(i / c)]!) * rstd[Math.floor(i / c)]!));
      const M = maxAbs(w) * maxAbs(g) * (1 + maxNorm);
      expectNear(h.f32(pd, n * c), d, { atol: (k(c) + 5) * U32 * maxAbs(rstd) * M * (1 + maxNorm), rtol: 2 * U32 },
        `${variant} dinp ${n}x${c}`);
      // dweight, dbias: n sequential f32 adds of norm·dout / dout into the prefill: ≤ (n + 2)u of the magnitudes.
      expectNear(h.f32(pdw, c), dw, { atol: (n + 2) * U32 * (maxAbs(dw0) + n * maxNorm * maxAbs(g)), rtol: 0 }, `${variant} dweight`);
      expectNear(h.f32(pdb, c), db, { atol: (n + 1) * U32 * (maxAbs(db0) + n * maxAbs(g)), rtol: 0 }, `${variant} dbias`);
    }
  });
});

// How a worker pool splits the backward: dinp by rows (dweight = dbias = 0), the parameter
// gradients by bands of columns at multiples of 4 (layernorm_backward_params). Together they
// must reproduce the one-call backward bit for bit.
describe.each(VARIANTS)('layernorm %s split backward', (variant) => {
  it('rows for dinp + bands of columns for dweight and dbias = the whole call, bit for bit', () => {
    const h = harness(variant);
    const r = rng(9);
    for (const c of [3, 8, 13, 768, 769]) for (const n of [1, 6]) {
      h.reset();
      const x = randomF32(n * c, () => 1 + r.normal()), w = randomF32(c, () => 1 + 0.3 * r.normal());
      const mean = randomF32(n, () => 1 + 0.1 * r.normal()), rstd = randomF32(n, () => 1 + 0.1 * r.normal());
      const g = randomF32(n * c, () => r.normal());
      const d0 = randomF32(n * c, () => r.normal()), dw0 = randomF32(c, () => r.normal()), db0 = randomF32(c, () => r.normal());
      const pg = put(h, g), px = put(h, x), pw = put(h, w), pm = put(h, mean), pr = put(h, rstd);
      const whole = [put(h, d0), put(h, dw0), put(h, db0)] as const, split = [put(h, d0), put(h, dw0), put(h, db0)] as const;
      h.k.layernorm_backward!(whole[0], whole[1], whole[2], pg, px, pw, pm, pr, n, c);
      for (let r0 = 0; r0 < n; r0 += 4) {
        const rows = Math.min(4, n - r0);
        h.k.layernorm_backward!(split[0] + 4 * r0 * c, 0, 0, pg + 4 * r0 * c, px + 4 * r0 * c, pw, pm + 4 * r0, pr + 4 * r0, rows, c);
      }
      for (let j0 = 0; j0 < c; j0 += 8) {
        const cols = Math.min(8, c - j0);
        h.k.layernorm_backward_params!(split[1] + 4 * j0, split[2] + 4 * j0, pg + 4 * j0, px + 4 * j0, pm, pr, n, cols, c);
      }
      const sizes = [n * c, c, c];
      for (let b = 0; b < 3; b++) {
        expectNear(h.f32(split[b]!, sizes[b]!), Float64Array.from(h.f32(whole[b]!, sizes[b]!)), { atol: 0, rtol: 0 }, `${variant} ${['dinp', 'dweight', 'dbias'][b]} ${n}x${c}`);
      }
    }
  });
});

describe('layernorm twin backward vs central finite differences (f64)', () => {
  // L = Σ out·g with the statistics recomputed for every perturbed input; dL/d(inp, weight, bias)
  // from layernormBackward must match the f64 difference quotient (which errs by ≲ 1e-10).
  it.each([[1, 1], [3, 5], [2, 8], [2, 769]])('n %i c %i', (n, c) => {
    const r = rng(c);
    const x = Float64Array.from({ length: n * c }, () => 1 + r.normal());
    const w = Float64Array.from({ length: c }, () => 1 + 0.5 * r.normal());
    const b = Float64Array.from({ length: c }, () => r.normal());
    const g = Float64Array.from({ length: n * c }, () => r.normal());
    const out = new Float64Array(n * c), mean = new Float64Array(n), rstd = new Float64Array(n);
    const loss = () => { layernormForward(out, mean, rstd, x, w, b, n, c, EPS); return dot(out, g); };
    loss();
    const dx = new Float64Array(n * c), dw = new Float64Array(c), db = new Float64Array(c);
    layernormBackward(dx, dw, db, g, x, w, mean, rstd, n, c);
    const tol = { atol: 1e-7, rtol: 1e-6 };
    const ix = sampleIndices(n * c, 30), iw = sampleIndices(c, 20);
    expectNear(ix.map((i) => dx[i]!), finiteDiff(loss, x, ix), tol, 'dinp');
    expectNear(iw.map((i) => dw[i]!), finiteDiff(loss, w, iw), tol, 'dweight');
    expectNear(iw.map((i) => db[i]!), finiteDiff(loss, b, iw), tol, 'dbias');
  });
});
