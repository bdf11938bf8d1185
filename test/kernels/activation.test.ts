// gelu_forward / gelu_backward / relu_forward / relu_backward / tanh_forward / tanh_backward
// against their plain-JS twin (src/ref/activation.ts) on every wasm variant: lengths {1,3,4,5,7,8,768,769} and their tails,
// values from −∞ to +∞ (tiny, huge, ±0, NaN), unaligned views, in-place forwards and the +=
// of the backwards. The twin's backwards are checked against central finite differences in f64.
import { describe, it, expect } from 'vitest';
import { harness, VARIANTS, put, type Harness } from '../helpers/harness';
import { geluForward, geluBackward, geluErfForward, geluErfBackward, erfcPositive, reluForward, reluBackward, tanhForward, tanhBackward } from '../../src/ref/activation';
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

// erf GELU error model (assembly/activation.ts), x·Φ(x) with the tail w = Φ(−|x|) = erfc(z)/2,
// z = |x|/√2, as 0.5·t·exp(a), a = −z² + P(t), t = 1/(1 + z/2). z carries 2u, so z² 5u relative
// (3u·... rounded up): |Δa| ≤ 5u·z² from it, plus ≤ 12u from t's 3u through |P′| ≤ 2 and the 9
// fused or unfused Horner steps on |P| ≤ 1.3 (≤ 1 ulp each); exp4 adds 2.1u, t 3u, the two
// products 2u, the published fit 1.2e-7 ≈ 2u: w is within ε_w = (2.5x² + 22)u relative. Φ is w
// (x < 0) or 1 − w (one more rounding of Φ), and gelu = x·Φ one more: |err| ≤ |x|(w·ε_w + 2u·Φ).
// The f64 twin is exact to ≈ 1e-13 relative (its own test below). Below x ≈ −13 the tail is
// subnormal in f32 (and 0 below ≈ −14.3): each of its ≤ 8 roundings there is absolute, ≤ 2^-150,
// hence |x|·8·2^-149 more.
const SUB = 2 ** -149;
function geluErfTol(x: Float32Array): number[] {
  return Array.from(x, (v) => {
    if (!Number.isFinite(v)) return 0;
    const w = 0.5 * erfcPositive(Math.abs(v) / Math.SQRT2), phi = v < 0 ? w : 1 - w;
    return Math.abs(v) * (w * (2.5 * v * v + 22) * U32 + 2 * U32 * phi + 1e-13 * w + 8 * SUB);
  });
}

describe.each(VARIANTS)('erf GELU %s', (variant) => {
  const h = harness(variant);
  const r = rng(6);

  it('gelu_erf_forward matches the twin, every length, unaligned and in place', () => {
    for (const n of LENGTHS) for (const [shift, inPlace] of [[0, false], [1, false], [1, true]] as const) {
      h.reset();
      const x = inputs(n, r);
      const px = put(h, x, shift), py = inPlace ? px : put(h, new Float32Array(n).fill(NaN), shift);
      h.k.gelu_erf_forward!(py, px, n);
      const want = new Float64Array(n);
      geluErfForward(want, x, n);
      expectNear(h.f32(py, n), want, { atol: geluErfTol(x), rtol: 0 }, `${variant} gelu_erf n ${n}`);
    }
  });

  it('gelu_erf_forward on a dense sweep of [−14, 14], and at ±∞, NaN, ±0', () => {
    h.reset();
    const x = Float32Array.from({ length: 28001 }, (_, i) => -14 + i / 1000);
    const px = put(h, x), py = put(h, new Float32Array(x.length));
    h.k.gelu_erf_forward!(py, px, x.length);
    const want = new Float64Array(x.length);
    geluErfForward(want, x, x.length);
    expectNear(h.f32(py, x.length), want, { atol: geluErfTol(x), rtol: 0 }, `${variant} gelu_erf sweep`);
    const special = [Infinity, -Infinity, NaN, 0, -0];
    const ps = put(h, special), po = put(h, new Float32Array(special.length));
    h.k.gelu_erf_forward!(po, ps, special.length);
    const ws = new Float64Array(special.length);
    geluErfForward(ws, Float32Array.from(special), special.length);
    expect(Array.from(h.f32(po, special.length))).toEqual(Array.from(ws));   // ∞, NaN (−∞·0, as PyTorch), NaN, 0, −0
  });

  it('gelu_erf_backward adds (Φ + x·φ)·dout into dinp, like the twin', () => {
    for (const n of LENGTHS) for (const shift of [0, 1]) {
      h.reset();
      const x = inputs(n, r), g = randomF32(n, () => r.normal()), d0 = randomF32(n, () => r.normal());
      const pd = put(h, d0, shift), pg = put(h, g, shift), px = put(h, x, shift);
      h.k.gelu_erf_backward!(pd, pg, px, n);
      const want = Float64Array.from(d0);
      geluErfBackward(want, g, x, n);
      // Φ as in the forward's model; φ = exp(−x²/2)/√(2π) within (2.5x² + 6)u, x·φ one more u;
      // the sum one u of each term (they cancel near x = −0.75); then ·dout and += add 2u of the result
      const atol = Array.from(x, (v0, i) => {
        const v = Math.min(Math.max(v0, -10), 10);
        const w = 0.5 * erfcPositive(Math.abs(v) / Math.SQRT2), phi = v < 0 ? w : 1 - w;
        const xd = Math.abs(v) * Math.exp(-0.5 * v * v) / Math.sqrt(2 * Math.PI);
        const dg = w * (2.5 * v * v + 22) * U32 + 2 * U32 * phi + xd * (2.5 * v * v + 8) * U32 + U32 * (phi + xd);
        return dg * Math.abs(g[i]!) + 2 * U32 * Math.abs(want[i]!);
      });
      expectNear(h.f32(pd, n), want, { atol, rtol: 0 }, `${variant} gelu_erf′ n ${n}`);
    }
  });
});

// tanh error model (assembly/activation.ts): below |x| = 0.4 a Taylor polynomial, ≤ 1.1 u
// relative; above, (1 − e)/(1 + e) with e = exp(−2|x|): exp4's ≤ 1.05 ulp (2.1 u) scaled by
// 2e/(1 − e²) ≤ 1.12, plus three roundings, ≤ 5.4 u. The f64 twin (Math.tanh) is exact to
// ≈ 1e-16. Hence 6 u relative; measured 2.5 u over 4M points of [−12, 12] and 1e-40…1e2.
const TANH_RTOL = 6 * U32;

describe.each(VARIANTS)('tanh %s', (variant) => {
  const h = harness(variant);
  const r = rng(5);

  it('tanh_forward matches the twin, every length, unaligned and in place', () => {
    for (const n of LENGTHS) for (const [shift, inPlace] of [[0, false], [1, false], [1, true]] as const) {
      h.reset();
      const x = inputs(n, r);
      const px = put(h, x, shift), py = inPlace ? px : put(h, new Float32Array(n).fill(NaN), shift);
      h.k.tanh_forward!(py, px, n);
      const want = new Float64Array(n);
      tanhForward(want, x, n);
      expectNear(h.f32(py, n), want, { atol: 0, rtol: TANH_RTOL }, `${variant} tanh n ${n}`);
    }
  });

  it('tanh_forward near the branch point 0.4, at tiny and huge |x|, ±0, ±∞ and NaN', () => {
    h.reset();
    // both sides of 0.4 (f32 neighbours), tiny values where x³ underflows, saturation
    const edge = [0.39999998, 0.4, 0.40000004, -0.39999998, -0.4, 1e-3, 1e-20, -1e-30, 1.4e-45, 9.02, 20, -44, 88, 1e20];
    const x = Float32Array.from(edge);
    const px = put(h, x), py = put(h, new Float32Array(x.length));
    h.k.tanh_forward!(py, px, x.length);
    const want = new Float64Array(x.length);
    tanhForward(want, x, x.length);
    expectNear(h.f32(py, x.length), want, { atol: 0, rtol: TANH_RTOL }, `${variant} tanh edges`);
    // tiny |x|: tanh x = x to the last bit (x³ is below half an ulp of x)
    expect(h.f32(py, x.length)[6]).toBe(x[6]);
    expect(h.f32(py, x.length)[8]).toBe(x[8]);
    const special = [Infinity, -Infinity, NaN, 0, -0, 3e38, -3e38];
    const ps = put(h, special), po = put(h, new Float32Array(special.length));
    h.k.tanh_forward!(po, ps, special.length);
    expect(Array.from(h.f32(po, special.length))).toEqual([1, -1, NaN, 0, -0, 1, -1]);
    expect(Object.is(h.f32(po, special.length)[4], -0)).toBe(true);
  });

  it('tanh_backward adds (1 − out²)·dout into dinp, like the twin', () => {
    for (const n of LENGTHS) for (const shift of [0, 1]) {
      h.reset();
      const y = randomF32(n, () => Math.tanh(3 * r.normal()));
      if (n > 3) { y[1] = 1; y[2] = -1; y[3] = 0; }
      const g = randomF32(n, () => r.normal()), d0 = randomF32(n, () => r.normal());
      const pd = put(h, d0, shift), pg = put(h, g, shift), py = put(h, y, shift);
      h.k.tanh_backward!(pd, pg, py, n);
      const want = Float64Array.from(d0);
      tanhBackward(want, g, y, n);
      // fl(fl(fl(1 − y)·fl(1 + y))·dout): four roundings (≤ 4u of |term|), then the add (u of the
      // sum, the binding one: measured up to 99% of it where |term| ≪ |dinp|); one more u of |term|
      // covers the sum's rounding of the term's own error
      const atol = Array.from(y, (v, i) => 5 * U32 * Math.abs((1 - v) * (1 + v) * g[i]!) + U32 * Math.abs(want[i]!));
      expectNear(h.f32(pd, n), want, { atol, rtol: 0 }, `${variant} tanh′ n ${n}`);
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
  it('erf gelu', () => {
    const x = Float64Array.from({ length: n }, (_, i) => -8 + 16 * i / (n - 1) + 0.01 * r.normal());
    const y = new Float64Array(n);
    const loss = () => { geluErfForward(y, x, n); return dot(y, g); };
    const dx = new Float64Array(n);
    geluErfBackward(dx, g, x, n);
    const idx = sampleIndices(n, 60);
    expectNear(idx.map((i) => dx[i]!), finiteDiff(loss, x, idx), { atol: 1e-7, rtol: 1e-6 }, 'gelu_erf dinp');
  });
  it('erfc against published values, and the series/fraction seam at z = 1.5', () => {
    // erfc values to 16 digits (A&S table 7.1 / any CAS)
    const known: [number, number][] = [[0, 1], [0.5, 0.4795001221869535], [1, 0.15729920705028513], [1.5, 0.033894853524689274], [2, 0.004677734981047266],
      [2.5, 4.069520174449590e-4], [3, 2.209049699858544e-5], [4, 1.541725790028002e-8], [5, 1.5374597944280349e-12], [10, 2.088487583762545e-45]];
    for (const [z, v] of known) expect(Math.abs(erfcPositive(z) - v) / v).toBeLessThan(1e-14);
    // across the seam (series below 1.5, fraction from 1.5) the slope is erfc′(1.5) = −2e^(−2.25)/√π;
    // each side's ≲ 1e-16 absolute error is < 1e-6 of the 1.2e-7 step
    const slope = (erfcPositive(1.5) - erfcPositive(1.5 - 1e-6)) / 1e-6, want = -2 * Math.exp(-2.25) / Math.sqrt(Math.PI);
    expect(Math.abs(slope / want - 1)).toBeLessThan(1e-5);
  });
  it('tanh', () => {
    const x = Float64Array.from({ length: n }, (_, i) => -6 + 12 * i / (n - 1) + 0.01 * r.normal());
    const y = new Float64Array(n);
    const loss = () => { tanhForward(y, x, n); return dot(y, g); };
    loss();
    const dx = new Float64Array(n);
    tanhBackward(dx, g, y, n);
    const idx = sampleIndices(n, 60);
    expectNear(idx.map((i) => dx[i]!), finiteDiff(loss, x, idx), { atol: 1e-7, rtol: 1e-6 }, 'tanh dinp');
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
