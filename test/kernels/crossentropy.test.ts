// crossentropy_forward / crossentropy_backward on every wasm variant against an f64 reference
// written here from the definition (−(1−ε)·log p_t − (ε/V)·Σ_j log p_j, PyTorch's label
// smoothing) and against the plain-JS twin (src/ref/crossentropy.ts): vocabularies
// {1,3,4,5,7,8,768,769}, smoothing 0 and 0.1, ignored rows (ignore_index −100 and a real class),
// logits near ±1e4, unaligned views and the += of the backward. The twin's backward is checked
// against central finite differences of its forward in f64.
import { describe, it, expect } from 'vitest';
import { harness, VARIANTS, put, putIds, type Harness } from '../helpers/harness';
import { crossentropyForward, crossentropyBackward } from '../../src/ref/crossentropy';
import { expectNear, rng, randomF32, finiteDiff, sampleIndices, U32 } from '../helpers/rowwise-compare';

const VOCABS = [1, 3, 4, 5, 7, 8, 65, 768, 769];
const EPS = [0, Math.fround(0.1)];

/** Targets in [0, v), every third row (from row 1) set to `ignore`. */
function makeTargets(n: number, v: number, ignore: number, r: ReturnType<typeof rng>): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => (i % 3 === 1 ? ignore : Math.floor(r.uniform(0, v))));
}

/**
 * The f64 reference per row, from log p_j = a_j − log S (a_j = z_j − max, S = Σ exp a_j), and the
 * quantities the tolerances need: H = Σ_j p_j·|a_j| and Σ_j |a_j|.
 */
function reference(z: Float32Array, t: Int32Array, n: number, v: number, eps: number, ignore: number) {
  const lse = new Float64Array(n), loss = new Float64Array(n), logS = new Float64Array(n);
  const H = new Float64Array(n), absA = new Float64Array(n), p = new Float64Array(n * v);
  for (let i = 0; i < n; i++) {
    const row = z.subarray(i * v, (i + 1) * v);
    const m = Math.max(...row);
    let s = 0;
    for (const x of row) s += Math.exp(x - m);
    logS[i] = Math.log(s);
    lse[i] = m + logS[i]!;
    let sumLogP = 0;
    for (let j = 0; j < v; j++) {
      const a = row[j]! - m, lp = a - logS[i]!;
      p[i * v + j] = Math.exp(lp);
      H[i] = H[i]! + Math.exp(lp) * Math.abs(a);
      absA[i] = absA[i]! + Math.abs(a);
      sumLogP += lp;
    }
    loss[i] = t[i] === ignore ? 0 : -(1 - eps) * (row[t[i]!]! - m - logS[i]!) - (eps / v) * sumLogP;
  }
  return { lse, loss, logS, H, absA, p };
}

// Forward error model (assembly/crossentropy.ts), per row, with a_j = z_j − max ≤ 0:
// - log S: a_j is rounded once (p_j·|a_j|·u each, H·u in all); exp4Nonpos errs ≤ 3.1u relative
//   (budget 4u); the f32 sum of V positive terms over 16 partial sums, the reduction and ≤ 3 tail
//   adds is ≤ (V/16 + 7)u relative (budget 8u). log S then errs by ES = (12 + V/16 + H)u absolutely.
// - lse = m + log S rounded to f32: ES + u·|lse|.
// - loss = log S − (1−ε)·a_t − (ε/V)·Σa (f64; a_t exact): ES + (ε/V)·(V/16 + 8)u·Σ|a| (the f32 sum of
//   V same-sign terms with its a_j roundings) + u·|loss| for the final rounding.
const logSErr = (v: number, H: number) => (12 + v / 16 + H) * U32;

describe.each(VARIANTS)('crossentropy %s', (variant) => {
  const h = harness(variant);
  const r = rng(21);

  function forward(z: Float32Array, t: Int32Array, n: number, v: number, eps: number, ignore: number, shift = 0) {
    h.reset();
    const pz = put(h, z, shift), pt = putIds(h, t, shift);
    const pl = put(h, new Float32Array(n).fill(NaN), shift), ps = put(h, new Float32Array(n).fill(NaN), shift);
    h.k.crossentropy_forward!(pl, ps, pz, pt, n, v, eps, ignore);
    return { loss: h.f32(pl, n).slice(), lse: h.f32(ps, n).slice() };
  }

  function checkForward(z: Float32Array, t: Int32Array, n: number, v: number, eps: number, ignore: number, label: string, shift = 0) {
    const got = forward(z, t, n, v, eps, ignore, shift);
    const ref = reference(z, t, n, v, eps, ignore);
    const lseTol = Array.from(ref.H, (H) => logSErr(v, H));
    const lossTol = Array.from(ref.H, (H, i) => logSErr(v, H) + (eps / v) * (v / 16 + 8) * U32 * ref.absA[i]!);
    expectNear(got.lse, ref.lse, { atol: lseTol, rtol: U32 }, `${label} lse`);
    expectNear(got.loss, ref.loss, { atol: lossTol, rtol: U32 }, `${label} loss`);
    for (let i = 0; i < n; i++) if (t[i] === ignore) expect(got.loss[i], `${label} ignored row ${i}`).toBe(0);
    // The twin in f64 agrees with the reference (a different formula) to rounding in f64.
    const twinLoss = new Float64Array(n), twinLse = new Float64Array(n);
    crossentropyForward(twinLoss, twinLse, z, t, n, v, eps, ignore);
    expectNear(twinLoss, ref.loss, { atol: 1e-12 * (1 + Math.max(...Array.from(ref.lse, Math.abs))), rtol: 1e-12 }, `${label} twin`);
    return { got, ref };
  }

  it('forward: lse and losses against the f64 reference, every vocabulary, ε, ignore_index', () => {
    for (const v of VOCABS) for (const eps of EPS) for (const ignore of [-100, 1]) {
      const n = 7, shift = v % 2;
      const z = randomF32(n * v, () => 3 * r.normal()), t = makeTargets(n, v, ignore, r);
      checkForward(z, t, n, v, eps, ignore, `${variant} V ${v} ε ${eps} ignore ${ignore}`, shift);
    }
  });

  it('forward: logits near ±1e4 (spread and one-hot) and equal rows do not overflow', () => {
    for (const v of [1, 5, 65, 769]) for (const eps of EPS) {
      for (const [name, gen] of [['1e4 + 3N', () => 1e4 + 3 * r.normal()], ['-1e4 + 3N', () => -1e4 + 3 * r.normal()],
        ['1e4·N', () => 1e4 * r.normal()], ['equal 1e4', () => 1e4]] as const) {
        const n = 4, z = randomF32(n * v, gen), t = makeTargets(n, v, -100, r);
        const { got } = checkForward(z, t, n, v, eps, -100, `${variant} ${name} V ${v} ε ${eps}`);
        for (let i = 0; i < n; i++) expect(Number.isFinite(got.loss[i]!) && Number.isFinite(got.lse[i]!)).toBe(true);
      }
    }
  });

  // Backward given the same f32 lse as the twin, per element with a = z − lse, y = (1−ε)[j==t] + ε/V:
  // p = exp4(a) with a rounded once: p·(2 + |a|)u (exp4 ≤ 1.45u relative, simd_math.ts); then
  // p − (1−ε), the rounded constants 1−ε and ε/V, − ε/V and ·scale: ≤ 4u·(p + y)·|scale|; the += u.
// Below 2^-126 f32 has absolute, not relative, precision (p ≈ 1e-89 becomes 0): + 2^-126·|scale|.
  const bwdTol = (z: Float32Array, lse: ArrayLike<number>, t: Int32Array, v: number, eps: number, scale: number) =>
    Array.from(z, (x, k) => {
      const i = Math.floor(k / v), a = x - lse[i]!, p = Math.exp(a), y = (t[i] === k % v ? 1 - eps : 0) + eps / v;
      return Math.abs(scale) * ((p * (2 + Math.abs(a)) + 4 * (p + y)) * U32 + 2 ** -126);
    });

  it('backward adds scale·(p − y) like the twin, leaves ignored rows untouched', () => {
    for (const v of VOCABS) for (const eps of EPS) for (const [ignore, scale] of [[-100, 1], [0, Math.fround(1 / 7)]] as const) {
      h.reset();
      const n = 7, shift = (v + 1) % 2;
      const z = randomF32(n * v, () => 3 * r.normal()), t = makeTargets(n, v, ignore, r);
      const lse64 = new Float64Array(n);
      crossentropyForward(new Float64Array(n), lse64, z, t, n, v, eps, ignore);
      const lse = Float32Array.from(lse64), d0 = randomF32(n * v, () => r.normal());
      const pd = put(h, d0, shift), pz = put(h, z, shift), ps = put(h, lse), pt = putIds(h, t, 1 - shift);
      h.k.crossentropy_backward!(pd, pz, ps, pt, n, v, eps, ignore, scale);
      const want = Float64Array.from(d0);
      crossentropyBackward(want, z, lse, t, n, v, eps, ignore, scale);
      const got = h.f32(pd, n * v);
      expectNear(got, want, { atol: bwdTol(z, lse, t, v, eps, scale), rtol: U32 }, `${variant} backward V ${v} ε ${eps}`);
      for (let i = 0; i < n; i++) if (t[i] === ignore) {
        for (let j = 0; j < v; j++) expect(got[i * v + j], `ignored row ${i}`).toBe(d0[i * v + j]);
      }
    }
  });

  it('forward then backward near ±1e4 against the exact f64 gradient', () => {
    // As above, plus the error of the lse the wasm forward saved (ES + u·|lse|, scaled by p).
    for (const v of [5, 65, 769]) for (const eps of EPS) for (const gen of [() => 1e4 + 3 * r.normal(), () => -1e4 + r.normal(), () => 1e4 * r.normal()]) {
      const n = 4, z = randomF32(n * v, gen), t = makeTargets(n, v, -100, r), scale = 0.25;
      const { lse } = forward(z, t, n, v, eps, -100);
      const pd = put(h, new Float32Array(n * v)), pz = put(h, z), ps = put(h, lse), pt = putIds(h, t);
      h.k.crossentropy_backward!(pd, pz, ps, pt, n, v, eps, -100, scale);
      const ref = reference(z, t, n, v, eps, -100);
      const want = Float64Array.from(ref.p, (p, k) => t[Math.floor(k / v)] === -100 ? 0
        : scale * (p - (t[Math.floor(k / v)] === k % v ? 1 - eps : 0) - eps / v));
      const base = bwdTol(z, ref.lse, t, v, eps, scale);
      const atol = base.map((b, k) => {
        const i = Math.floor(k / v);
        return b + scale * ref.p[k]! * (logSErr(v, ref.H[i]!) + U32 * Math.abs(ref.lse[i]!));
      });
      const got = h.f32(pd, n * v);
      expectNear(got, want, { atol, rtol: U32 }, `${variant} end to end V ${v} ε ${eps}`);
      for (const g of got) expect(Number.isFinite(g)).toBe(true);
    }
  });
});

describe('crossentropy twin backward vs central finite differences (f64)', () => {
  // L = scale·Σ_i losses_i; the twin's dlogits (from 0) must match (L(z+h) − L(z−h)) / 2h, which
  // errs by ≲ 1e-10 for unit-scale logits (see finiteDiff). Ignored rows have zero gradient.
  it.each([[5, 7, 0, -100, 1], [6, 65, 0.1, 2, 0.5], [3, 769, 0.1, -100, 1 / 3]])(
    'n %i V %i ε %f ignore %i scale %f', (n, v, eps, ignore, scale) => {
      const r = rng(v);
      const z = Float64Array.from({ length: n * v }, () => 2 * r.normal());
      const t = Int32Array.from({ length: n }, (_, i) => (i === 1 ? ignore : Math.floor(r.uniform(0, v))));
      const losses = new Float64Array(n), lse = new Float64Array(n);
      const loss = () => { crossentropyForward(losses, lse, z, t, n, v, eps, ignore); return scale * losses.reduce((a, b) => a + b, 0); };
      loss();
      const dz = new Float64Array(n * v);
      crossentropyBackward(dz, z, lse, t, n, v, eps, ignore, scale);
      const idx = sampleIndices(n * v, 60);
      expectNear(idx.map((i) => dz[i]!), finiteDiff(loss, z, idx), { atol: 1e-7, rtol: 1e-6 }, 'dlogits');
    });
});
