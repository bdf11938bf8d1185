// rmsnorm_forward / rmsnorm_backward / rmsnorm_backward_params against their plain-JS twin
// (src/ref/rmsnorm.ts) on every wasm variant: row lengths {1,3,4,5,7,8,768,769}, several row
// counts, unaligned views, in-place forward, rows of zeros, += semantics of the backward, and
// the split a worker pool makes (rows for dinp, bands of columns for dweight) bit for bit.
// The twin's backward is itself checked against central finite differences in f64.
import { describe, it, expect } from 'vitest';
import { harness, put, VARIANTS, type Harness } from '../helpers/harness';
import { rmsnormForward, rmsnormBackward, rmsnormBackwardParams } from '../../src/ref/rmsnorm';
import { expectNear, rng, randomF32, maxAbs, finiteDiff, dot, sampleIndices, U32 } from '../helpers/rowwise-compare';

const COLS = [1, 3, 4, 5, 7, 8, 768, 769];
const EPS = 1e-6;

// Tolerances, with k(c) = c/16 + 4 the worst-case relative error (in u) of an f32 sum of c terms
// kept in 16 partial sums (as layernorm's test), and the twin exact in f64:
// - rstd: Σx² has only non-negative terms, so it errs by ≤ k·u relatively (each square adds u);
//   /c, + eps, sqrt (halves the relative error) and 1/· add ≤ 3u: rstd ≤ (k/2 + 3)u relatively;
// - out = x·(w·rstd): rstd's error plus 2 roundings, all relative: ≤ (k/2 + 5)u·|out|, no atol.
const k = (c: number) => c / 16 + 4;

function checkForward(h: Harness, x: Float32Array, w: Float32Array, n: number, c: number, label: string, shift = 0, inPlace = false): Float32Array {
  h.reset();
  const px = put(h, x, shift), pw = put(h, w, shift);
  const py = inPlace ? px : put(h, new Float32Array(n * c).fill(NaN), shift);
  const ps = put(h, new Float32Array(n).fill(NaN), shift);
  h.k.rmsnorm_forward!(py, ps, px, pw, n, c, EPS);
  const out = new Float64Array(n * c), rstd = new Float64Array(n);
  rmsnormForward(out, rstd, x, w, n, c, EPS);
  expectNear(h.f32(ps, n), rstd, { atol: 0, rtol: (k(c) / 2 + 3) * U32 }, `${label} rstd`);
  expectNear(h.f32(py, n * c), out, { atol: 0, rtol: (k(c) / 2 + 5) * U32 }, `${label} out`);
  return h.f32(py, n * c).slice();
}

describe.each(VARIANTS)('rmsnorm %s', (variant) => {
  const h = harness(variant);
  const r = rng(3);

  it('forward matches the twin for every row length, row count and alignment', () => {
    for (const c of COLS) for (const n of [1, 4, 9]) {
      const x = randomF32(n * c, () => 0.5 + 2 * r.normal());
      const w = randomF32(c, () => 1 + 0.3 * r.normal());
      checkForward(h, x, w, n, c, `${variant} ${n}x${c}`, (n + c) % 2);
    }
  });

  it('rows of large and of tiny values (scale invariance up to eps), and rows of zeros give zeros', () => {
    for (const c of [7, 768, 769]) {
      for (const scale of [1e15, 1e-3]) {
        const x = randomF32(3 * c, () => scale * r.normal());
        checkForward(h, x, randomF32(c, () => r.normal()), 3, c, `${variant} scale ${scale} c ${c}`, 1);
      }
      const got = checkForward(h, new Float32Array(2 * c), randomF32(c, () => r.normal()), 2, c, `${variant} zeros ${c}`);
      for (let i = 0; i < got.length; i++) if (got[i] !== 0) expect.fail(`zeros c ${c}: [${i}] ${got[i]} != 0`);
    }
  });

  it('in place (out == inp)', () => {
    for (const c of [5, 768, 769]) {
      checkForward(h, randomF32(3 * c, () => r.normal()), randomF32(c, () => r.normal()), 3, c, `${variant} in-place ${c}`, 1, true);
    }
  });

  it('backward adds into dinp and dweight like the twin', () => {
    for (const c of COLS) for (const n of [1, 5]) {
      h.reset();
      const x = randomF32(n * c, () => 1 + r.normal()), w = randomF32(c, () => 1 + 0.3 * r.normal());
      const out = new Float64Array(n * c), rstd64 = new Float64Array(n);
      rmsnormForward(out, rstd64, x, w, n, c, EPS);
      const rstd = Float32Array.from(rstd64);
      const g = randomF32(n * c, () => r.normal());
      const d0 = randomF32(n * c, () => r.normal()), dw0 = randomF32(c, () => r.normal());
      const s = (n + c) % 2;
      const pd = put(h, d0, s), pdw = put(h, dw0, s), pg = put(h, g, s), px = put(h, x, s), pw = put(h, w, s), pr = put(h, rstd, s);
      h.k.rmsnorm_backward!(pd, pg, px, pw, pr, n, c);
      h.k.rmsnorm_backward_params!(pdw, pg, px, pr, n, c, c);
      const d = Float64Array.from(d0), dw = Float64Array.from(dw0);
      rmsnormBackward(d, g, x, w, rstd, n, c);
      rmsnormBackwardParams(dw, g, x, rstd, n, c, c);
      // dinp = rstd·(dnorm − norm·m), m = Σ dnorm·norm / c. Each term dnorm·norm errs by 3u (two
      // products and norm's rounding), the sum by k·u of Σ|terms| ≤ c·D·N (D = max|w·g|, N = max|norm|),
      // so |Δm| ≤ (k + 3)u·D·N; norm·m adds N·|Δm| + 2u·N·|m| ≤ (k + 5)u·D·N²; dnorm u·D; the
      // subtraction and the final ·rstd 2u of |dnorm| + |norm·m| ≤ D(1 + N²):
      // |Δ| ≤ (k + 8)u·rstd·D·(1 + N²), plus u·|dinp| for the add into the prefill.
      const N = maxAbs(x.map((v, i) => v * rstd[Math.floor(i / c)]!)), D = maxAbs(w) * maxAbs(g);
      expectNear(h.f32(pd, n * c), d, { atol: (k(c) + 8) * U32 * maxAbs(rstd) * D * (1 + N * N), rtol: U32 }, `${variant} dinp ${n}x${c}`);
      // dweight: n sequential f32 adds of norm·dout (2 roundings each) into the prefill: ≤ (n + 2)u of the magnitudes.
      expectNear(h.f32(pdw, c), dw, { atol: (n + 2) * U32 * (maxAbs(dw0) + n * N * maxAbs(g)), rtol: 0 }, `${variant} dweight ${n}x${c}`);
    }
  });

  it('rows for dinp and bands of columns for dweight (a worker pool\'s split) = the whole call, bit for bit', () => {
    for (const c of [3, 8, 13, 768, 769]) for (const n of [1, 6]) {
      h.reset();
      const x = randomF32(n * c, () => 1 + r.normal()), w = randomF32(c, () => r.normal());
      const rstd = randomF32(n, () => 1 + 0.1 * r.normal()), g = randomF32(n * c, () => r.normal());
      const d0 = randomF32(n * c, () => r.normal()), dw0 = randomF32(c, () => r.normal());
      const pg = put(h, g), px = put(h, x), pw = put(h, w), pr = put(h, rstd);
      const whole = [put(h, d0), put(h, dw0)] as const, split = [put(h, d0), put(h, dw0)] as const;
      h.k.rmsnorm_backward!(whole[0], pg, px, pw, pr, n, c);
      h.k.rmsnorm_backward_params!(whole[1], pg, px, pr, n, c, c);
      for (let r0 = 0; r0 < n; r0 += 4) {
        const rows = Math.min(4, n - r0);
        h.k.rmsnorm_backward!(split[0] + 4 * r0 * c, pg + 4 * r0 * c, px + 4 * r0 * c, pw, pr + 4 * r0, rows, c);
      }
      for (let j0 = 0; j0 < c; j0 += 4) {
        h.k.rmsnorm_backward_params!(split[1] + 4 * j0, pg + 4 * j0, px + 4 * j0, pr, n, Math.min(4, c - j0), c);
      }
      expectNear(h.f32(split[0], n * c), Float64Array.from(h.f32(whole[0], n * c)), { atol: 0, rtol: 0 }, `${variant} dinp ${n}x${c}`);
      expectNear(h.f32(split[1], c), Float64Array.from(h.f32(whole[1], c)), { atol: 0, rtol: 0 }, `${variant} dweight ${n}x${c}`);
      // and the forward by rows
      const fy = [put(h, new Float32Array(n * c)), put(h, new Float32Array(n * c))], fs = [put(h, new Float32Array(n)), put(h, new Float32Array(n))];
      h.k.rmsnorm_forward!(fy[0]!, fs[0]!, px, pw, n, c, EPS);
      for (let r0 = 0; r0 < n; r0++) h.k.rmsnorm_forward!(fy[1]! + 4 * r0 * c, fs[1]! + 4 * r0, px + 4 * r0 * c, pw, 1, c, EPS);
      expectNear(h.f32(fy[1]!, n * c), Float64Array.from(h.f32(fy[0]!, n * c)), { atol: 0, rtol: 0 }, `${variant} forward by rows ${n}x${c}`);
    }
  });
});

describe('rmsnorm twin backward vs central finite differences (f64)', () => {
  // L = Σ out·g with rstd recomputed for every perturbed input; dL/d(inp, weight) from the twin
  // must match the f64 difference quotient (which errs by ≲ 1e-10).
  it.each([[1, 1], [3, 5], [2, 8], [2, 769]])('n %i c %i', (n, c) => {
    const r = rng(c + 1);
    const x = Float64Array.from({ length: n * c }, () => 1 + r.normal());
    const w = Float64Array.from({ length: c }, () => 1 + 0.5 * r.normal());
    const g = Float64Array.from({ length: n * c }, () => r.normal());
    const out = new Float64Array(n * c), rstd = new Float64Array(n);
    const loss = () => { rmsnormForward(out, rstd, x, w, n, c, EPS); return dot(out, g); };
    loss();
    const dx = new Float64Array(n * c), dw = new Float64Array(c);
    rmsnormBackward(dx, g, x, w, rstd, n, c);
    rmsnormBackwardParams(dw, g, x, rstd, n, c, c);
    const tol = { atol: 1e-7, rtol: 1e-6 };
    const ix = sampleIndices(n * c, 30), iw = sampleIndices(c, 20);
    expectNear(ix.map((i) => dx[i]!), finiteDiff(loss, x, ix), tol, 'dinp');
    expectNear(iw.map((i) => dw[i]!), finiteDiff(loss, w, iw), tol, 'dweight');
  });
});
