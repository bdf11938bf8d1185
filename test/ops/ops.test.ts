// The checked ops of src/ops: shapes and typed errors with the numbers at fault, and
// results equal to the JS twins when called through tensors (the kernel tests cover
// precision and tails; here tolerances only need to absorb f32-vs-f64 summation: 1e-5).
import { describe, expect, it } from 'vitest';
import {
  add, axpy, colsum, copy, createRuntime, DTypeError, fill, gelu, geluBackward, layernorm, layernormBackward,
  matmul, mul, relu, reluBackward, scale, ShapeError, softmax, softmaxBackward, ValueError, type Runtime, type Tensor,
} from '../../src/index.js';
import { gemmF32 } from '../../src/ref/gemm.js';
import { softmaxForward } from '../../src/ref/softmax.js';
import { layernormForward } from '../../src/ref/layernorm.js';
import { expectClose } from '../helpers/compare.js';

const TOL = { atol: 1e-5, rtol: 1e-5 };
const rt: Runtime = await createRuntime({ variant: 'simd' });
const randn = (shape: number[], seed: number) => rt.randn(shape, { seed, arena: 'step' });

describe('matmul', () => {
  it('computes the three training products, with bias and accumulation, as the twin does', () => {
    const a = randn([5, 7], 1), b = randn([7, 9], 2), bt = randn([9, 7], 3), at = randn([7, 5], 4), bias = randn([9], 5);
    const want = (A: Tensor, B: Tensor, flags: number, bi: Tensor | null, c0?: Float32Array, beta = 0) => {
      const c = c0 ? c0.slice() : new Float32Array(45);
      gemmF32(c, A.f32(), B.f32(), bi ? bi.f32() : null, 5, 9, 7, A.shape[1]!, B.shape[1]!, 9, flags, 1.5, beta);
      return c;
    };
    expectClose(matmul(rt, a, b, { alpha: 1.5, bias }).f32(), want(a, b, 0, bias), TOL, 'A·B + bias');
    expectClose(matmul(rt, a, bt, { transB: true, alpha: 1.5 }).f32(), want(a, bt, 2, null), TOL, 'A·Bᵀ');
    expectClose(matmul(rt, at, b, { transA: true, alpha: 1.5 }).f32(), want(at, b, 1, null), TOL, 'Aᵀ·B');
    const out = randn([5, 9], 6);
    const before = out.f32().slice();
    matmul(rt, a, b, { alpha: 1.5, beta: 1, out });
    expectClose(out.f32(), want(a, b, 0, null, before, 1), TOL, 'beta = 1');
  });

  it('batches matrices, with B per batch or shared', () => {
    const a = randn([3, 4, 6], 1), b = randn([3, 6, 5], 2), shared = randn([6, 5], 3);
    const got = matmul(rt, a, b).f32(), gotShared = matmul(rt, a, shared).f32();
    for (let i = 0; i < 3; i++) {
      const c = new Float32Array(20), cs = new Float32Array(20);
      gemmF32(c, a.f32().subarray(i * 24), b.f32().subarray(i * 30), null, 4, 5, 6, 6, 5, 5, 0, 1, 0);
      gemmF32(cs, a.f32().subarray(i * 24), shared.f32(), null, 4, 5, 6, 6, 5, 5, 0, 1, 0);
      expectClose(got.subarray(i * 20, i * 20 + 20), c, TOL, `batch ${i}`);
      expectClose(gotShared.subarray(i * 20, i * 20 + 20), cs, TOL, `shared B, batch ${i}`);
    }
  });

  it('names the shapes at fault', () => {
    const a = randn([4, 768], 1), w = randn([767, 3072], 2);
    expect(() => matmul(rt, a, w)).toThrow(ShapeError);
    expect(() => matmul(rt, a, w)).toThrow('matmul: inner dimensions differ: op(a) is 4×768 (a [4, 768]), op(b) is 767×3072 (b [767, 3072])');
    expect(() => matmul(rt, a, randn([768, 8], 3), { bias: randn([7], 4) })).toThrow('matmul: bias has shape [7], expected [8]');
    expect(() => matmul(rt, a, randn([768, 8], 3), { beta: 1 })).toThrow(/beta = 1 accumulates into out, but no out was given/);
    expect(() => matmul(rt, a, randn([768, 8], 3), { out: randn([4, 9], 5) })).toThrow('matmul: out has shape [4, 9], expected [4, 8]');
    expect(() => matmul(rt, randn([2, 3, 4], 1), randn([3, 4, 5], 2))).toThrow(/b has batch 3/);
    expect(() => matmul(rt, randn([2], 1), randn([2, 2], 2))).toThrow(/expected 2 or 3 dimensions/);
    expect(() => matmul(rt, rt.tensor([1, 2], [1, 2], { dtype: 'i32' }), randn([2, 2], 2))).toThrow(DTypeError);
    expect(() => matmul(rt, a, randn([768, 8], 3), { alpha: NaN })).toThrow(ValueError);
  });
});

describe('row-wise ops', () => {
  it('softmax: causal over the last two dimensions, including the KV-cache case Tq < Tk', () => {
    const x = randn([2, 3, 5], 1); // (B, Tq=3, Tk=5): query q sees keys j ≤ q + 2
    const got = softmax(rt, x, { scale: 0.5, causal: true }).f32();
    const want = new Float32Array(30);
    softmaxForward(want, x.f32(), 6, 5, 3, 0.5, 1);
    expectClose(got, want, TOL, 'softmax');
    expect(got[4]).toBe(0); // q=0 does not see key 3, 4
    expect(got[3]).toBe(0);
    expect(got[2]).toBeGreaterThan(0);
    const dx = rt.zeros([2, 3, 5], { arena: 'step' });
    softmaxBackward(rt, dx, randn([2, 3, 5], 2), softmax(rt, x), { scale: 0.5 });
    expect(dx.toArray().some((v) => v !== 0)).toBe(true);
    expect(() => softmax(rt, x, { scale: Infinity })).toThrow('softmax: scale is Infinity, expected a finite number');
    expect(() => softmaxBackward(rt, dx, randn([2, 3, 4], 3), x)).toThrow('softmaxBackward: dout has shape [2, 3, 4], expected [2, 3, 5]');
  });

  it('layernorm: forward as the twin, backward accumulates, bad weights named', () => {
    const x = randn([2, 4, 8], 1), w = randn([8], 2), b = randn([8], 3);
    const { out, mean, rstd } = layernorm(rt, x, w, b);
    const want = new Float32Array(64), wm = new Float32Array(8), wr = new Float32Array(8);
    layernormForward(want, wm, wr, x.f32(), w.f32(), b.f32(), 8, 8, 1e-5);
    expectClose(out.f32(), want, TOL, 'layernorm out');
    expectClose(mean.f32(), wm, TOL, 'layernorm mean');
    expectClose(rstd.f32(), wr, { atol: 1e-5, rtol: 1e-4 }, 'layernorm rstd');
    const dx = rt.zeros([2, 4, 8], { arena: 'step' }), dw = rt.zeros([8], { arena: 'step' }), db = rt.zeros([8], { arena: 'step' });
    const dout = randn([2, 4, 8], 4);
    layernormBackward(rt, dx, dw, db, dout, x, w, mean, rstd);
    const db1 = db.toArray();
    layernormBackward(rt, dx, dw, db, dout, x, w, mean, rstd);
    expectClose(db.f32(), db1.map((v) => 2 * v), TOL, 'dbias accumulates');
    expect(() => layernorm(rt, x, randn([7], 5), b)).toThrow('layernorm: weight has shape [7], expected [8]');
    expect(() => layernorm(rt, x, w, b, { eps: 0 })).toThrow('layernorm: eps is 0, expected a finite number > 0');
    expect(() => layernormBackward(rt, dx, dw, db, dout, x, w, randn([7], 6), rstd)).toThrow('layernormBackward: mean has shape [7], expected [8]');
  });

  it('activations and elementwise ops', () => {
    const x = rt.tensor([-2, -0.5, 0, 0.5, 2], [5], { arena: 'step' });
    expectClose(relu(rt, x).f32(), [0, 0, 0, 0.5, 2], { atol: 0, rtol: 0 }, 'relu');
    const g = gelu(rt, x).toArray();
    expect(g[2]).toBe(0);
    expect(g[4]).toBeCloseTo(1.9545977, 5); // 0.5·2·(1 + tanh(√(2/π)(2 + 0.044715·8)))
    const dx = rt.zeros([5], { arena: 'step' });
    reluBackward(rt, dx, rt.tensor([1, 1, 1, 1, 1], [5], { arena: 'step' }), relu(rt, x));
    expect(dx.toArray()).toEqual([0, 0, 0, 1, 1]);
    geluBackward(rt, dx, rt.tensor([1, 1, 1, 1, 1], [5], { arena: 'step' }), x);
    expect(dx.toArray()[2]).toBeCloseTo(0.5, 6); // gelu'(0) = 0.5, added to relu's 0
    const a = rt.tensor([1, 2, 3], [3], { arena: 'step' }), b = rt.tensor([4, 5, 6], [3], { arena: 'step' });
    expect(add(rt, a, b).toArray()).toEqual([5, 7, 9]);
    expect(mul(rt, a, b).toArray()).toEqual([4, 10, 18]);
    expect(scale(rt, a, -2).toArray()).toEqual([-2, -4, -6]);
    expect(axpy(rt, copy(rt, a), b, 0.5).toArray()).toEqual([3, 4.5, 6]);
    expect(fill(rt, rt.empty([3], { arena: 'step' }), 7).toArray()).toEqual([7, 7, 7]);
    add(rt, a, b, { out: a });
    expect(a.toArray()).toEqual([5, 7, 9]);
    const m = rt.tensor([1, 2, 3, 4, 5, 6], [2, 3], { arena: 'step' });
    expect(colsum(rt, rt.tensor([10, 20, 30], [3], { arena: 'step' }), m).toArray()).toEqual([15, 27, 39]);
    expect(() => add(rt, a, randn([4], 1))).toThrow('add: b has shape [4], expected [3]');
    expect(() => colsum(rt, rt.zeros([2]), m)).toThrow('colsum: out has shape [2], expected [3]');
    expect(() => geluBackward(rt, dx, randn([4], 1), x)).toThrow('geluBackward: dout has shape [4], expected [5]');
  });
});
