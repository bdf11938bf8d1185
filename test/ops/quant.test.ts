// Quantized weights through the ops (src/ops/quant.ts): quantizeWeight / matmulQuantized /
// dequantizeWeight on both storages (x·W, GPT-2's Conv1D; x·Wᵀ, nn.Linear and the tied head)
// against the f32 matmul within the quantization bounds of test/kernels/quant.test.ts (here in a
// simpler, looser form: the products are checked tightly there); the JS backend's int8 products
// equal the wasm ones bit for bit (the twin is exact); memory comes back on dispose; every
// argument error is typed and names the shapes, dtypes or the offending element, before any work.
import { describe, expect, it } from 'vitest';
import { createRuntime, matmul, DTypeError, ShapeError, StaleTensorError, ValueError, type Runtime } from '../../src/index.js';
import { quantizeWeight, matmulQuantized, dequantizeWeight, QUANT_MAX_K, QuantizedWeight } from '../../src/ops/quant.js';

const rts = new Map<string, Runtime>();
async function runtime(variant: 'relaxed' | 'simd' | 'js'): Promise<Runtime> {
  if (!rts.has(variant)) rts.set(variant, await createRuntime({ variant, threads: 1 }));
  return rts.get(variant)!;
}

/** max over rows and columns of |y − y_f32| / (Σ_k |x||W| + 1): the error per unit of the product's magnitude. */
function relError(y: number[], x: Float32Array, w: Float32Array, k: number, n: number, trans: boolean): number {
  let worst = 0;
  const m = x.length / k;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let exact = 0, mag = 0;
      for (let p = 0; p < k; p++) {
        const wv = w[trans ? j * k + p : p * n + j]!;
        exact += x[i * k + p]! * wv;
        mag += Math.abs(x[i * k + p]! * wv);
      }
      worst = Math.max(worst, Math.abs(y[i * n + j]! - exact) / (mag + 1e-30));
    }
  }
  return worst;
}

describe('quantizeWeight / matmulQuantized / dequantizeWeight', () => {
  it('both storages, every dtype: products within the format\'s error per unit magnitude, round trips within half a step', async () => {
    const rt = await runtime('relaxed');
    // relative error of a product: int8 ≤ 1/254 (weights) + 1/65534 (x) of Σ|x||W|·(max/|w| …) — bounded here by the
    // per-element steps: 1/127 of the column max against |w| ~ the max/2 on average; f16 2^-11, bf16 2^-8 per weight
    const limits = { int8: 1 / 64, f16: 2 ** -10, bf16: 2 ** -7 };
    for (const trans of [false, true]) {
      const [k, n] = [67, 45];
      const w = rt.uniform(trans ? [n, k] : [k, n], { low: -1, high: 1, seed: 3 });
      const x = rt.randn([2, 3, k], { seed: 4 }), bias = rt.randn([n], { seed: 5 });
      const wf = w.f32().slice(), xf = x.f32().slice();
      const ref = rt.step.scope(() => matmul(rt, x.view([6, k]), w, { transB: trans, bias }).toArray());
      for (const dtype of ['int8', 'f16', 'bf16'] as const) {
        const qw = quantizeWeight(rt, w, { dtype, transB: trans });
        expect([qw.n, qw.k, qw.shape]).toEqual([n, k, trans ? [n, k] : [k, n]]);
        const y = matmulQuantized(rt, x, qw, bias);
        expect(y.shape).toEqual([2, 3, n]);
        const noBias = y.toArray().map((v, i) => v - bias.f32()[i % n]!);
        expect(relError(noBias, xf, wf, k, n, trans), `${dtype} trans ${trans}`).toBeLessThan(limits[dtype]);
        expect(y.toArray().every((v, i) => Math.abs(v - ref[i]!) < 0.5)).toBe(true);
        const back = dequantizeWeight(rt, qw, { arena: 'step' });
        expect(back.shape).toEqual(w.shape);
        const b = back.f32();
        for (let i = 0; i < wf.length; i++) {
          const step = dtype === 'int8' ? 1 / 127 : dtype === 'f16' ? 2 ** -11 : 2 ** -8;   // |w| ≤ 1: half a step of the format
          expect(Math.abs(b[i]! - wf[i]!)).toBeLessThanOrEqual(step / 2 + 1e-7);
        }
        const out = rt.empty([2, 3, n], { arena: 'step' });
        expect(matmulQuantized(rt, x, qw, bias, out)).toBe(out);
        expect(out.toArray()).toEqual(y.toArray());
        qw.dispose();
      }
      rt.step.reset();
    }
  });

  it('the JS backend gives the wasm int8 products bit for bit, and f16 / bf16 within f32 rounding', async () => {
    const wasm = await runtime('simd'), js = await runtime('js');
    const values = { w: new Float32Array(40 * 24), x: new Float32Array(3 * 40) };
    let s = 7;
    const rnd = () => ((s = (s * 16807) % 2147483647) / 2147483647) * 2 - 1;
    values.w.forEach((_, i) => (values.w[i] = rnd()));
    values.x.forEach((_, i) => (values.x[i] = rnd()));
    const run = (rt: Runtime, dtype: 'int8' | 'f16' | 'bf16') => {
      const w = rt.tensor(values.w, [40, 24]), x = rt.tensor(values.x, [3, 40]);
      const qw = quantizeWeight(rt, w, { dtype });
      const y = matmulQuantized(rt, x, qw).toArray();
      const back = dequantizeWeight(rt, qw).toArray();
      qw.dispose();
      return { y, back };
    };
    for (const dtype of ['int8', 'f16', 'bf16'] as const) {
      const a = run(wasm, dtype), b = run(js, dtype);
      expect(b.back, dtype).toEqual(a.back);
      if (dtype === 'int8') expect(b.y).toEqual(a.y);
      // the twin sums exactly, the kernel in f32: (K + 3)·u·Σ|x||w| with |x|, |w| < 1, K = 40
      else expect(b.y.every((v, i) => Math.abs(v - a.y[i]!) <= 43 * 2 ** -24 * 40)).toBe(true);
    }
  });

  it('dispose gives the memory back; a disposed weight is refused', async () => {
    const rt = await runtime('relaxed');
    const w = rt.randn([96, 200], { seed: 1 });
    const before = rt.memoryReport().persistent.usedBytes;
    const qws = (['int8', 'f16', 'bf16'] as const).map((dtype) => quantizeWeight(rt, w, { dtype, transB: true }));
    expect(qws.map((q) => q.bytes)).toEqual([200 * 96 + 4 * 96, 2 * 96 * 200, 2 * 96 * 200]);
    expect(rt.memoryReport().persistent.usedBytes).toBeGreaterThan(before);
    for (const q of qws) { q.dispose(); q.dispose(); }
    expect(rt.memoryReport().persistent.usedBytes).toBe(before);
    expect(qws[0]!.disposed).toBe(true);
    const x = rt.randn([1, 200], { arena: 'step' });
    expect(() => matmulQuantized(rt, x, qws[0]!)).toThrow(StaleTensorError);
    expect(() => dequantizeWeight(rt, qws[1]!)).toThrow(/the f16 weight \[96, 200\] \(transB\) was disposed/);
    rt.free(w);
  });

  it('typed errors name the shapes, dtypes and elements, before any memory is taken', async () => {
    const rt = await runtime('relaxed');
    const w = rt.randn([16, 24], { seed: 2 });
    const used = rt.memoryReport().persistent.usedBytes;
    expect(() => quantizeWeight(rt, w, { dtype: 'int4' as never })).toThrow(ValueError);
    expect(() => quantizeWeight(rt, w, { dtype: 'int4' as never })).toThrow(/int4.*int8, f16, bf16/);
    expect(() => quantizeWeight(rt, rt.randn([16], { arena: 'step' }), { dtype: 'int8' })).toThrow(/\[16\], expected 2 dimensions/);
    expect(() => quantizeWeight(rt, rt.zeros([4, 4], { dtype: 'i32', arena: 'step' }), { dtype: 'int8' })).toThrow(DTypeError);
    expect(() => quantizeWeight(rt, rt.zeros([2, QUANT_MAX_K + 1], { arena: 'step' }), { dtype: 'f16', transB: true })).toThrow(/K = 65537.*at most 65536/);
    const bad = rt.randn([16, 24], { seed: 2, arena: 'step' });
    bad.f32()[5 * 24 + 7] = NaN;
    expect(() => quantizeWeight(rt, bad, { dtype: 'int8' })).toThrow(/w\[5, 7\] = NaN is not finite/);
    bad.f32()[5 * 24 + 7] = 7e4;
    expect(() => quantizeWeight(rt, bad, { dtype: 'f16' })).toThrow(/w\[5, 7\] = 70000 overflows f16/);
    quantizeWeight(rt, bad, { dtype: 'bf16' }).dispose();                         // bf16 holds it
    bad.f32()[5 * 24 + 7] = 65519;                                                // rounds to 65504: fine
    const ok = quantizeWeight(rt, bad, { dtype: 'f16' });
    expect(dequantizeWeight(rt, ok, { arena: 'step' }).f32()[5 * 24 + 7]).toBe(65504);
    ok.dispose();
    bad.f32()[0] = -Infinity;
    expect(() => quantizeWeight(rt, bad, { dtype: 'bf16' })).toThrow(/w\[0, 0\] = -Infinity is not finite/);
    bad.f32()[0] = 3.4e38;
    expect(() => quantizeWeight(rt, bad, { dtype: 'bf16' })).toThrow(/overflows bf16/);

    const qw = quantizeWeight(rt, w, { dtype: 'int8' });                          // (K 16, N 24)
    expect(() => matmulQuantized(rt, rt.randn([3, 24], { arena: 'step' }), qw)).toThrow(/x has 24 features \(shape \[3, 24\]\) but the int8 weight \[16, 24\] takes 16/);
    expect(() => matmulQuantized(rt, rt.zeros([3, 16], { dtype: 'i32', arena: 'step' }), qw)).toThrow(DTypeError);
    expect(() => matmulQuantized(rt, rt.randn([3, 16], { arena: 'step' }), qw, rt.randn([16], { arena: 'step' }))).toThrow(/bias has shape \[16\], expected \[24\]/);
    expect(() => matmulQuantized(rt, rt.randn([3, 16], { arena: 'step' }), qw, null, rt.empty([3, 23], { arena: 'step' }))).toThrow(ShapeError);
    expect(() => matmulQuantized(rt, rt.randn([3, 16], { arena: 'step' }), w as never)).toThrow(/not a QuantizedWeight/);
    expect(() => matmulQuantized(rt, rt.randn([3, 16], { arena: 'step' }), qw, null, undefined, 'relu' as never)).toThrow(/activation is "relu", expected 'none' or 'gelu'/);
    expect(qw).toBeInstanceOf(QuantizedWeight);
    qw.dispose();
    rt.step.reset();
    rt.free(w);
    expect(rt.memoryReport().persistent.usedBytes).toBe(used - 16 * 24 * 4);
  });
});
