// Packed weights through the library (src/ops/packed.ts, fn/linear.ts): inference uses them and
// they follow the parameters — rebuilt after an optimizer step, a load, a JS write, or
// `changed()`, and only then (one pack per weight and layout while nothing changes, in place);
// results equal the training-time product (same bits from GEMM_SMALL_M + 1 rows, within the GEMM
// bound below); tensors that are not parameters are never packed; shape errors name the numbers.
import { describe, expect, it } from 'vitest';
import { AdamW, checkpointBytes, createRuntime, GPT, linear, loadWeights, matmul, ParameterSet, parseCheckpoint, ShapeError, ValueError, type Runtime, type Tensor } from '../../src/index.js';
import { matmulPacked, packedWeight } from '../../src/ops/packed.js';

/** A runtime whose pack_weight_f32 calls are counted. */
async function counting(): Promise<{ rt: Runtime; packs: () => number }> {
  const rt = await createRuntime({ variant: 'relaxed', threads: 1 });
  let n = 0;
  const k = { ...rt.kernels };
  const pack = k.pack_weight_f32;
  k.pack_weight_f32 = (...args) => { n++; pack(...args); };
  Object.defineProperty(rt, 'kernels', { value: k });
  return { rt, packs: () => n };
}

function setUp(rt: Runtime) {
  const ps = new ParameterSet();
  const w = ps.declare('fc.weight', [24, 40], { normal: 0.5 }, true);        // 'in,out'
  const head = ps.declare('head.weight', [37, 24], { normal: 0.5 }, true);    // 'out,in'
  ps.allocate(rt, 3);
  return { ps, w: w.value, head: head.value };
}

/** The training-time product (gemm_f32 on the weight as it is), as an array. */
const reference = (rt: Runtime, x: Tensor, w: Tensor, trans: boolean) => rt.step.scope(() => matmul(rt, x, w, { transB: trans }).toArray());
const inference = (rt: Runtime, x: Tensor, w: Tensor, trans: boolean) => rt.step.scope(() => rt.tape.noGrad(() => linear(rt, x, w, null, trans ? 'out,in' : 'in,out').toArray()));
const close = (a: number[], b: number[]) => a.every((v, i) => Math.abs(v - b[i]!) <= 1e-5 * (1 + Math.abs(b[i]!)));

describe('packed weights follow the parameters', () => {
  it('are built once per weight and layout, and rebuilt in place after a step, a JS write, changed(), or a load', async () => {
    const { rt, packs } = await counting();
    const { ps, w, head } = setUp(rt);
    const opt = new AdamW(ps, { weightDecay: 0 });
    const x = rt.randn([1, 24], { seed: 1 });
    expect(close(inference(rt, x, w, false), reference(rt, x, w, false))).toBe(true);
    expect(close(inference(rt, x, head, true), reference(rt, x, head, true))).toBe(true);
    expect(packs()).toBe(2);
    void ps.grads, opt.stateTensors();                                 // gradients and moments are made on first use: now
    const persistent = rt.memoryReport().persistent.usedBytes;
    for (let i = 0; i < 5; i++) inference(rt, x, w, false);
    expect(packs()).toBe(2);                                           // nothing changed: no repack

    w.f32()[7]! += 1;                                                   // a JS write
    expect(close(inference(rt, x, w, false), reference(rt, x, w, false))).toBe(true);
    expect(packs()).toBe(3);

    rt.kernels.scale_f32(w.ptr, w.ptr, 2, w.size);                      // a kernel write, declared
    ps.changed();
    expect(close(inference(rt, x, w, false), reference(rt, x, w, false))).toBe(true);
    expect(packs()).toBe(4);

    ps.grads.f32().fill(0.01);                                         // an optimizer step
    opt.step({ lr: 0.1 });
    expect(close(inference(rt, x, head, true), reference(rt, x, head, true))).toBe(true);
    expect(rt.memoryReport().persistent.usedBytes).toBe(persistent);   // refilled in place
    rt.dispose();
  });

  it('a model after loadWeights generates from the loaded weights', async () => {
    const rt = await createRuntime({ variant: 'simd', threads: 1 });
    const cfg = { vocabSize: 11, blockSize: 8, nLayer: 1, nHead: 2, dModel: 16 };
    const a = new GPT(rt, cfg, { seed: 1 }).eval(), b = new GPT(rt, cfg, { seed: 2 }).eval();
    const logits = (m: GPT) => rt.step.scope(() => rt.tape.noGrad(() => m.forward(rt.tensor([1, 2, 3], [1, 3], { dtype: 'i32', arena: 'step' })).logits.toArray()));
    const fromB = logits(b);
    expect(logits(a)).not.toEqual(fromB);                              // a's weights are packed now
    loadWeights(a, parseCheckpoint(checkpointBytes(b)));
    expect(logits(a)).toEqual(fromB);
  });

  it('a kernel write without changed() is not seen (the documented contract), and is once declared', async () => {
    const rt = await createRuntime({ variant: 'simd', threads: 1 });
    const { ps, w } = setUp(rt);
    const x = rt.randn([1, 24], { seed: 2 });
    const before = inference(rt, x, w, false);
    rt.kernels.scale_f32(w.ptr, w.ptr, 3, w.size);
    expect(inference(rt, x, w, false)).toEqual(before);
    ps.changed();
    expect(close(inference(rt, x, w, false), reference(rt, x, w, false))).toBe(true);
  });

  it('from 17 rows the bits of the training-time product; up to 16, each row as if alone', async () => {
    const rt = await createRuntime({ variant: 'relaxed', threads: 2 });
    const { w, head } = setUp(rt);
    for (const [weight, trans] of [[w, false], [head, true]] as const) {
      const big = rt.randn([40, 24], { seed: 3 });
      expect(inference(rt, big, weight, trans)).toEqual(reference(rt, big, weight, trans));
      const rows = rt.randn([16, 24], { seed: 4 });
      const together = inference(rt, rows, weight, trans), n = together.length / 16;
      for (let r = 0; r < 16; r++) {
        const one = rt.tensor(rows.toArray().slice(24 * r, 24 * r + 24), [1, 24]);
        expect(inference(rt, one, weight, trans)).toEqual(together.slice(n * r, n * r + n));
      }
    }
    rt.dispose();
  });

  it('only parameters are packed; mismatched shapes throw ShapeError naming them', async () => {
    const rt = await createRuntime({ variant: 'simd', threads: 1 });
    const loose = rt.randn([24, 40], { seed: 5 });
    expect(packedWeight(rt, loose, false)).toBeNull();
    const { w } = setUp(rt);
    const pw = packedWeight(rt, w, false)!;
    expect([pw.k, pw.n]).toEqual([24, 40]);
    expect(() => matmulPacked(rt, rt.randn([2, 23], { seed: 6 }), pw, null)).toThrow(ShapeError);
    expect(() => matmulPacked(rt, rt.randn([2, 23], { seed: 6 }), pw, null)).toThrow(/x has 23 features .* takes 24/);
    expect(() => matmulPacked(rt, rt.randn([2, 24], { seed: 6 }), pw, rt.zeros([39]))).toThrow(/bias has shape \[39\], expected \[40\]/);
    expect(() => matmulPacked(rt, rt.randn([2, 24], { seed: 6 }), pw, null, undefined, 'tanh' as never)).toThrow(ValueError);
  });
});
