// swiglu_forward / swiglu_backward against their plain-JS twin (src/ref/swiglu.ts) on every wasm
// variant: row lengths {1,3,4,5,7,8,768,769}, gate and up as two tensors (ld = c) and as the
// halves of one (n, 2c) GEMM output (ld = 2c), unaligned views, += semantics, gate = up, edge
// values (±0, large |gate| where exp would overflow, NaN), and the split by rows bit for bit.
// The twin's backward is checked against central finite differences in f64; the row split and
// the finite differences run for GeGLU too (its bounds: swiglu-geglu.test.ts).
import { describe, it, expect } from 'vitest';
import { harness, put, VARIANTS } from '../helpers/harness';
import { swigluForward, swigluBackward, gegluForward, gegluBackward } from '../../src/ref/swiglu';
import { expectNear, rng, randomF32, finiteDiff, dot, sampleIndices, U32 } from '../helpers/rowwise-compare';

const COLS = [1, 3, 4, 5, 7, 8, 768, 769];
const sigmoid = (a: number) => 1 / (1 + Math.exp(-a));

// Tolerances (the twin exact in f64), from the kernel's σ and 1 − σ, each within 6.2u relatively
// (exp4 ≤ 1.05 ulp = 2.1u, then 1 + t, the division and t·q one rounding each; see assembly/swiglu.ts):
// - out = (a·σ)·up: 2 more roundings, all relative: ≤ 8.2u·|out| → rtol 9u;
// - silu' = σ·(1 + a·(1 − σ)): a·(1 − σ) within 7.2u, so 1 + a(1 − σ) within 7.2u·(1 + |a|(1 − σ)) + u·|…|,
//   times σ (6.2u) and one rounding: ≤ 14.4u·σ·(1 + |a|(1 − σ)) — an absolute bound, since 1 + a(1 − σ)
//   cancels near a ≈ −1.28; dgate += (dout·up)·silu': 2 more roundings of |dout·up·silu'|:
//   per element ≤ 17u·|dout·up|·σ·(1 + |a|(1 − σ));
// - dup += dout·(a·σ): ≤ 9u·|dout·a·σ| per element;
// - the adds into the prefill: ≤ u each of a partial sum, ≤ u·(|prefill| + |terms|) — twice where
//   gate = up (both terms land on one element).
function bounds(g: Float32Array, u: Float32Array, dy: Float32Array, n: number, c: number, ld: number): { dg: Float64Array; du: Float64Array } {
  const dg = new Float64Array(n * ld), du = new Float64Array(n * ld);
  for (let r = 0; r < n; r++) for (let j = 0; j < c; j++) {
    const i = r * ld + j, a = g[i]!, s = sigmoid(a), y = Math.abs(dy[r * c + j]!);
    const A = y * Math.abs(u[i]!) * Math.abs(s * (1 + a * sigmoid(-a))), B = y * Math.abs(a * s);   // |dgate term|, |dup term|
    dg[i] = 17 * U32 * y * Math.abs(u[i]!) * s * (1 + Math.abs(a) * sigmoid(-a)) + 2 * U32 * (A + B);
    du[i] = 9 * U32 * B + 2 * U32 * (A + B);
  }
  return { dg, du };
}

describe.each(VARIANTS)('swiglu %s', (variant) => {
  const h = harness(variant);
  const r = rng(4);

  it('forward matches the twin: two tensors (ld = c) and the halves of one (ld = 2c), every row length', () => {
    for (const c of COLS) for (const n of [1, 3]) for (const joined of [false, true]) {
      h.reset();
      const ld = joined ? 2 * c : c, s = (n + c) % 2;
      const gu = randomF32(n * 2 * c, () => 3 * r.normal());       // joined: [gate | up] per row; else gate then up
      const pgu = put(h, gu, s);
      const pg = pgu, pu = joined ? pgu + 4 * c : pgu + 4 * n * c;
      const py = put(h, new Float32Array(n * c).fill(NaN), s);
      h.k.swiglu_forward!(py, pg, pu, n, c, ld);
      const g = joined ? gu : gu.subarray(0, n * c), u = joined ? gu.subarray(c) : gu.subarray(n * c);
      const want = new Float64Array(n * c);
      swigluForward(want, g, u, n, c, ld);
      expectNear(h.f32(py, n * c), want, { atol: 0, rtol: 9 * U32 }, `${variant} ${n}x${c} ${joined ? 'joined' : 'separate'} out`);
    }
  });

  it('edge values: ±0, |gate| up to 1e30 (exp(−gate) would overflow), NaN', () => {
    h.reset();
    const g = Float32Array.from([0, -0, 1e30, -1e30, 100, -100, 88.8, -88.8, 1e-30, -1e-30, NaN, 5]);
    const u = Float32Array.from([1, 1, 2, 2, 0.5, 0.5, 1, 1, 3, 3, 1, NaN]);
    const n = 1, c = g.length;
    const py = put(h, new Float32Array(c)), pg = put(h, g), pu = put(h, u);
    h.k.swiglu_forward!(py, pg, pu, n, c, c);
    const y = h.f32(py, c);
    expect(Object.is(y[0], 0) && Object.is(y[1], -0) && Object.is(y[3], -0)).toBe(true);   // 0·σ(0); −0 keeps its sign; −1e30·σ(−1e30) = −0
    expect(y[2]).toBe(Math.fround(1e30) * 2);              // σ = 1: silu(a) = a exactly
    expect(y[4]).toBe(50);                                 // σ(100) = 1 exactly in f32
    expect(Math.abs(y[5]!)).toBeLessThan(1e-40);           // −100·e^−100·0.5 ≈ −1.8e-42 (subnormal): tiny, not NaN
    expect(y[6]).toBe(Math.fround(88.8));
    expect(Math.abs(y[7]!)).toBeLessThan(1e-36);
    expect(y[8]).toBe(Math.fround(Math.fround(1e-30) * 0.5 * 3));   // σ(±1e-30) = 1/2
    expect(y[9]).toBe(Math.fround(Math.fround(-1e-30) * 0.5 * 3));
    expect(Number.isNaN(y[10]) && Number.isNaN(y[11])).toBe(true);
    // gradients stay finite for finite gates, |gate| = 1e30 included
    const dy = new Float32Array(c).fill(1);
    const pdg = put(h, new Float32Array(c)), pdu = put(h, new Float32Array(c));
    h.k.swiglu_backward!(pdg, pdu, put(h, dy), pg, pu, n, c, c);
    const dg = h.f32(pdg, c), du = h.f32(pdu, c);
    for (let i = 0; i < 10; i++) if (!Number.isFinite(dg[i]!) || !Number.isFinite(du[i]!)) expect.fail(`gate ${g[i]}: dgate ${dg[i]}, dup ${du[i]}`);
    // silu'(0) = 1/2; silu'(1e30) = 1, silu(1e30) = 1e30; silu'(−1e30) = 0
    expect([dg[0], du[0], dg[2], du[2], Math.abs(dg[3]!)]).toEqual([0.5, 0, 2, Math.fround(1e30), 0]);
  });

  it('backward adds into dgate and dup like the twin (separate, joined, and gate = up)', () => {
    for (const c of COLS) for (const n of [1, 4]) for (const mode of ['separate', 'joined', 'same'] as const) {
      h.reset();
      const ld = mode === 'joined' ? 2 * c : c, s = (n + c) % 2;
      const gu = randomF32(n * 2 * c, () => 3 * r.normal()), dy = randomF32(n * c, () => r.normal());
      const d0 = randomF32(n * 2 * c, () => r.normal());          // laid out like gu
      const pgu = put(h, gu, s), pd = put(h, d0, s), pdy = put(h, dy, s);
      const second = mode === 'joined' ? 4 * c : mode === 'separate' ? 4 * n * c : 0;
      h.k.swiglu_backward!(pd, pd + second, pdy, pgu, pgu + second, n, c, ld);
      const g = gu, u = gu.subarray(second / 4);
      const d = Float64Array.from(d0);
      swigluBackward(d, d.subarray(second / 4), dy, g, u, n, c, ld);
      const b = bounds(g, u, dy, n, c, ld);
      const atol = Float64Array.from(d0, (v) => 2 * U32 * Math.abs(v));
      for (let i = 0; i < n * ld; i++) {
        atol[i] = atol[i]! + b.dg[i]!;
        atol[i + second / 4] = atol[i + second / 4]! + b.du[i]!;
      }
      const used = mode === 'separate' ? 2 * n * c : n * ld;
      expectNear(h.f32(pd, used), d.subarray(0, used), { atol: atol.subarray(0, used), rtol: 0 }, `${variant} ${mode} ${n}x${c} dgate|dup`);
    }
  });

  it.each([['swiglu', 'swiglu_forward', 'swiglu_backward'], ['geglu', 'geglu_forward', 'geglu_backward']] as const)('%s: rows one at a time (a worker pool\'s split) = the whole call, bit for bit', (_, fwd, bwd) => {
    for (const c of [3, 8, 13, 769]) {
      h.reset();
      const n = 5, ld = 2 * c;
      const gu = randomF32(n * ld, () => 3 * r.normal()), dy = randomF32(n * c, () => r.normal()), d0 = randomF32(n * ld, () => r.normal());
      const pgu = put(h, gu), pdy = put(h, dy);
      const y = [put(h, new Float32Array(n * c)), put(h, new Float32Array(n * c))], d = [put(h, d0), put(h, d0)];
      h.k[fwd]!(y[0]!, pgu, pgu + 4 * c, n, c, ld);
      h.k[bwd]!(d[0]!, d[0]! + 4 * c, pdy, pgu, pgu + 4 * c, n, c, ld);
      for (let i = 0; i < n; i++) {
        h.k[fwd]!(y[1]! + 4 * i * c, pgu + 4 * i * ld, pgu + 4 * (i * ld + c), 1, c, ld);
        h.k[bwd]!(d[1]! + 4 * i * ld, d[1]! + 4 * (i * ld + c), pdy + 4 * i * c, pgu + 4 * i * ld, pgu + 4 * (i * ld + c), 1, c, ld);
      }
      expectNear(h.f32(y[1]!, n * c), Float64Array.from(h.f32(y[0]!, n * c)), { atol: 0, rtol: 0 }, `${variant} out ${c}`);
      expectNear(h.f32(d[1]!, n * ld), Float64Array.from(h.f32(d[0]!, n * ld)), { atol: 0, rtol: 0 }, `${variant} grads ${c}`);
    }
  });
});

describe('swiglu and geglu twin backwards vs central finite differences (f64)', () => {
  it.each([['swiglu', 1, 1], ['swiglu', 3, 5], ['swiglu', 2, 33], ['geglu', 1, 1], ['geglu', 3, 5], ['geglu', 2, 33]] as const)('%s n %i c %i, gate and up halves of one tensor', (kind, n, c) => {
    const [forward, backward] = kind === 'swiglu' ? [swigluForward, swigluBackward] : [gegluForward, gegluBackward];
    const r = rng(c + (kind === 'swiglu' ? 7 : 17)), ld = 2 * c;
    const gu = Float64Array.from({ length: n * ld }, () => 2 * r.normal());
    const g = Float64Array.from({ length: n * c }, () => r.normal());
    const out = new Float64Array(n * c);
    const loss = () => { forward(out, gu, gu.subarray(c), n, c, ld); return dot(out, g); };
    const d = new Float64Array(n * ld);
    backward(d, d.subarray(c), g, gu, gu.subarray(c), n, c, ld);
    const idx = sampleIndices(n * ld, 40);
    expectNear(idx.map((i) => d[i]!), finiteDiff(loss, gu, idx), { atol: 1e-7, rtol: 1e-6 }, 'dgate|dup');
  });
});
