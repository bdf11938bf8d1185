// geglu_forward / geglu_backward (assembly/swiglu.ts: the GLU loops with the tanh GELU of
// activation.ts as the gate) against their plain-JS twin (src/ref/swiglu.ts) on every wasm
// variant: row lengths {1,3,4,5,7,8,768,769}, gate and up as two tensors and as the halves of one
// (n, 2c) output, unaligned views, += semantics, gate = up (the split by rows and the twin's finite
// differences: swiglu.test.ts, for both gates).
//
// Tolerances come from activation.test.ts's GELU error model (u(x) = √(2/π)(x + 0.044715x³)):
// gelu within |gelu|·(6|u| + 8)·u32 (+ |x|·2^-52 for the f64 twin where 1 + tanh cancels), gelu′'s
// two terms within (6|u| + 12)·u32 relative each (x clamped to [−10, 10], changing gelu′ < 1e-30);
// GeGLU adds: out = gelu·up, one rounding (u32·|out|); dgate += (dout·up)·gelu′ and
// dup += dout·gelu, two roundings each of their term and one of each add (gate = up: both terms
// land on one element, so each bound takes both terms' sizes).
import { describe, it } from 'vitest';
import { harness, put, VARIANTS } from '../helpers/harness';
import { gegluForward, gegluBackward } from '../../src/ref/swiglu';
import { expectNear, rng, randomF32, U32 } from '../helpers/rowwise-compare';

const COLS = [1, 3, 4, 5, 7, 8, 768, 769];
const K = Math.sqrt(2 / Math.PI);
const uOf = (x: number) => K * (x + 0.044715 * x ** 3);
const gelu = (x: number) => 0.5 * x * (1 + Math.tanh(uOf(x)));
/** |gelu′| split into its two terms' sizes (s and the x·u′ part). */
function geluGradTerms(x: number): number {
  const t = Math.tanh(uOf(x)), du = K * (1 + 3 * 0.044715 * x * x);
  return Math.abs(0.5 * (1 + t)) + Math.abs(0.5 * x * (1 - t * t) * du);
}
const fwdRel = (x: number) => (6 * Math.min(Math.abs(uOf(x)), 90) + 8) * U32;
const gradRel = (x: number) => (6 * Math.min(Math.abs(uOf(x)), 90) + 12) * U32;

describe.each(VARIANTS)('geglu %s', (variant) => {
  const h = harness(variant);
  const r = rng(11);

  it('forward matches the twin: two tensors (ld = c) and the halves of one (ld = 2c), every row length', () => {
    for (const c of COLS) for (const n of [1, 3]) for (const joined of [false, true]) {
      h.reset();
      const ld = joined ? 2 * c : c, s = (n + c) % 2;
      const gu = randomF32(n * 2 * c, () => 3 * r.normal());
      const pgu = put(h, gu, s);
      const pu = joined ? pgu + 4 * c : pgu + 4 * n * c;
      const py = put(h, new Float32Array(n * c).fill(NaN), s);
      h.k.geglu_forward!(py, pgu, pu, n, c, ld);
      const g = joined ? gu : gu.subarray(0, n * c), u = joined ? gu.subarray(c) : gu.subarray(n * c);
      const want = new Float64Array(n * c);
      gegluForward(want, g, u, n, c, ld);
      const atol = Array.from(want, (w, i) => {
        const a = g[Math.floor(i / c) * ld + (i % c)]!, up = Math.abs(u[Math.floor(i / c) * ld + (i % c)]!);
        return Math.abs(w) * (fwdRel(a) + U32) + up * Math.abs(a) * 2 ** -52;
      });
      expectNear(h.f32(py, n * c), want, { atol, rtol: 0 }, `${variant} ${n}x${c} ${joined ? 'joined' : 'separate'} out`);
    }
  });

  it('backward adds into dgate and dup like the twin (separate, joined, and gate = up)', () => {
    for (const c of COLS) for (const n of [1, 4]) for (const mode of ['separate', 'joined', 'same'] as const) {
      h.reset();
      const ld = mode === 'joined' ? 2 * c : c, s = (n + c) % 2;
      const gu = randomF32(n * 2 * c, () => 3 * r.normal()), dy = randomF32(n * c, () => r.normal());
      const d0 = randomF32(n * 2 * c, () => r.normal());
      const pgu = put(h, gu, s), pd = put(h, d0, s), pdy = put(h, dy, s);
      const second = mode === 'joined' ? 4 * c : mode === 'separate' ? 4 * n * c : 0;
      h.k.geglu_backward!(pd, pd + second, pdy, pgu, pgu + second, n, c, ld);
      const g = gu, u = gu.subarray(second / 4);
      const d = Float64Array.from(d0);
      gegluBackward(d, d.subarray(second / 4), dy, g, u, n, c, ld);
      const atol = Float64Array.from(d0, (v) => 2 * U32 * Math.abs(v));
      for (let row = 0; row < n; row++) for (let j = 0; j < c; j++) {
        const i = row * ld + j, a = g[i]!, y = Math.abs(dy[row * c + j]!);
        const A = y * Math.abs(u[i]!) * geluGradTerms(a), B = y * Math.abs(gelu(a));      // |dgate term| (by its parts), |dup term|
        atol[i] = atol[i]! + A * (gradRel(a) + 2 * U32) + 1e-30 * y * Math.abs(u[i]!) + 2 * U32 * (A + B);
        atol[i + second / 4] = atol[i + second / 4]! + B * (fwdRel(a) + 2 * U32) + y * Math.abs(a) * 2 ** -52 + 2 * U32 * (A + B);
      }
      const used = mode === 'separate' ? 2 * n * c : n * ld;
      expectNear(h.f32(pd, used), d.subarray(0, used), { atol: atol.subarray(0, used), rtol: 0 }, `${variant} ${mode} ${n}x${c} dgate|dup`);
    }
  });
});
