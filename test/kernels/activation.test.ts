// gelu_forward / gelu_backward / relu_forward / relu_backward against their plain-JS twin
// (src/ref/activation.ts) on every wasm variant: lengths {1,3,4,5,7,8,768,769} and their tails,
// values from −∞ to +∞ (tiny, huge, ±0, NaN), unaligned views, in-place forwards and the +=
// of the backwards. The twin's backwards are checked against central finite differences in f64.
import { describe, it, expect } from 'vitest';
import { harness, VARIANTS, put, type Harness } from '../helpers/harness';
import { geluForward, geluBackward, reluForward, reluBackward } from '../../src/ref/activation';
import { expectNear, rng, randomF32, finiteDiff, dot, sampleIndices, U32 } from '../helpers/rowwise-compare';

const LENGTHS = [0, 1, 3, 4, 5, 7, 8, 15, 16, 17, 768, 769];
const K = Math.sqrt(2 / Math.PI);
const SPECIAL = [0, -0, 1e-20, -1e-20, 1e-3, -1e-3, 9.99, -9.99, 10, -10, 12, -12, 20, -20, 1e20, -1e20];

/** Test inputs: 3·N(0,1) with the special values mixed in. */
function inputs(n: number, r: ReturnType<typeof rng>): Float32Array {
  const x = randomF32(n, () => 3 * r.normal());
  for (let i = 0; i < n; i += 7) x[i] = SPECIAL[(i / 7) % SPECIAL.length]!;
  return x;
}

// GELU error model, u(x) = √(2/π)(x + 0.044715x³): the kernel forms u with ~3 roundings, so
// e = exp(−2u) carries a relative error ≈ 3u·|2u(x)| plus ≤ 2 ulp of exp4; the 1 + e and the
// division add 2u. Hence |err| ≤ |gelu|·(6|u(x)| + 8)·U32. The f64 twin itself is off by up to
// |x|·2^-52 where 1 + tanh cancels (x ≲ −5), hence that absolute term.
function geluTol(x: Float32Array, want: Float64Array): number[] {
  return Array.from(x, (v, i) => Math.abs(want[i]!) * (6 * Math.abs(K * (v + 0.044715 * v ** 3)) + 8) * U32
    + Math.abs(v) * 2 ** -52);
}

describe.each(VARIANTS)('activation %s', (variant) => {
  const h = harness(variant);
  const r = rng(3);

  it('gelu_forward matches the twin, every length, unaligned and in place', () => {
    for (const n of LENGTHS) for (const [shift, inPlace] of [[0, false], [1, false], [1, true]] as const) {
      h.reset();
      const x = inputs(n, r);
      const px = put(h, x, shift), py = inPlace ? px : put(h, new Float32Array(n).fill(NaN), shift);
      h.k.gelu_forward!(py, px, n);
      const want = new Float64Array(n);
      geluForward(want, x, n);
      expectNear(h.f32(py, n), want, { atol: geluTol(x, want), rtol: 0 }, `${variant} gelu n ${n}`);
    }
  });

  it('gelu_forward at ±∞ and NaN', () => {
    h.reset();
    const px = put(h, [Infinity, -Infinity, NaN, 3e38, -3e38]), py = put(h, new Float32Array(5));
    h.k.gelu_forward!(py, px, 5);
    const want = new Float64Array(5);
    geluForward(want, h.f32(px, 5), 5);
    expect(Array.from(h.f32(py, 5))).toEqual(Array.from(want));
  });

  it('gelu_backward adds gelu′·dout into dinp, like the twin', () => {
    for (const n of LENGTHS) for (const shift of [0, 1]) {
      h.reset();
      const x = inputs(n, r), g = randomF32(n, () => r.normal()), d0 = randomF32(n, () => r.normal());
      const pd = put(h, d0, shift), pg = put(h, g, shift), px = put(h, x, shift);
      h.k.gelu_backward!(pd, pg, px, n);
      const want = Float64Array.from(d0);
      geluBackward(want, g, x, n);
      // gelu′ = s + x(1 − t²)u′/2 with s = (1 + t)/2: both terms carry the error model of the forward,
      // (6|u| + 12)U32 relative; then ·dout and += add 2u of the result. Beyond |x| = 10 the kernel
      // clamps x, which changes gelu′ by < 1e-30 (it is 0 or 1 there to that accuracy).
      const atol = Array.from(x, (v, i) => {
        const u = K * (v + 0.044715 * v ** 3), t = Math.tanh(u), du = K * (1 + 3 * 0.044715 * v * v);
        const terms = Math.abs(0.5 * (1 + t)) + Math.abs(0.5 * v * (1 - t * t) * du);
        return (terms * (6 * Math.min(Math.abs(u), 90) + 12) * U32 + 1e-30) * Math.abs(g[i]!) + 2 * U32 * Math.abs(want[i]!);
      });
      expectNear(h.f32(pd, n), want, { atol, rtol: 0 }, `${variant} gelu′ n ${n}`);
    }
  });

  it('relu_forward / relu_backward are exact, every length, unaligned and in place', () => {
    for (const n of LENGTHS) for (const shift of [0, 1]) {
      h.reset();
      const x = inputs(n, r);
      if (n > 2) { x[1] = NaN; x[2] = -0; }
      const px = put(h, x, shift), py = put(h, new Float32Array(n).fill(NaN), shift);
      h.k.relu_forward!(py, px, n);
      const want = new Float32Array(n);
      reluForward(want, x, n);
      expectNear(h.f32(py, n), want, { atol: 0, rtol: 0 }, `${variant} relu n ${n}`);
      h.k.relu_forward!(px, px, n);
      expectNear(h.f32(px, n), want, { atol: 0, rtol: 0 }, `${variant} relu in place n ${n}`);

      const g = randomF32(n, () => r.normal()), d0 = randomF32(n, () => r.normal());
      const pd = put(h, d0, shift), pg = put(h, g, shift);
      h.k.relu_backward!(pd, pg, py, n);
      const dwant = Float32Array.from(d0);
      reluBackward(dwant, g, want, n);
      expectNear(h.f32(pd, n), dwant, { atol: 0, rtol: 0 }, `${variant} relu′ n ${n}`);
    }
  });
});

describe('activation twin backwards vs central finite differences (f64)', () => {
  // L = Σ act(x)·g; the twin's dinp (from dinp = 0) must match (L(x+h) − L(x−h)) / 2h, which
  // errs by ≲ 1e-10 here. ReLU inputs keep |x| ≥ 0.01 so no difference straddles the kink.
  const n = 200, r = rng(4);
  const g = Float64Array.from({ length: n }, () => r.normal());
  it('gelu', () => {
    const x = Float64Array.from({ length: n }, (_, i) => -8 + 16 * i / (n - 1) + 0.01 * r.normal());
    const y = new Float64Array(n);
    const loss = () => { geluForward(y, x, n); return dot(y, g); };
    const dx = new Float64Array(n);
    geluBackward(dx, g, x, n);
    const idx = sampleIndices(n, 60);
    expectNear(idx.map((i) => dx[i]!), finiteDiff(loss, x, idx), { atol: 1e-7, rtol: 1e-6 }, 'gelu dinp');
  });
  it('relu', () => {
    const x = Float64Array.from({ length: n }, () => { const v = r.normal(); return Math.abs(v) < 0.01 ? 0.5 : v; });
    const y = new Float64Array(n);
    const loss = () => { reluForward(y, x, n); return dot(y, g); };
    loss();
    const dx = new Float64Array(n);
    reluBackward(dx, g, y, n);
    const idx = sampleIndices(n, 60);
    expectNear(idx.map((i) => dx[i]!), finiteDiff(loss, x, idx), { atol: 1e-7, rtol: 1e-6 }, 'relu dinp');
  });
});
