// geluFeedForward (src/fn/feedforward.ts), GELU fused into the GEMM stores: its output and every
// gradient (x, both weights, both biases) bit for bit equal to linear → gelu → linear on every
// backend (threads too), both weight layouts and sizes that take the small-M and the packed
// GEMM paths; gradients by finite differences; the shape checks; and without gradients, on a
// model's packed (f32) or quantized (int8, f16, bf16) weights, GELU in the first product's store:
// one kernel call fewer, the bits of linear → gelu → linear on those weights.
import { describe, expect, it } from 'vitest';
import { createRuntime, GPT, MLP, ShapeError, type Runtime, type Tensor } from '../../src/index.js';
import { geluFeedForward, type LinearWeights } from '../../src/fn/feedforward.js';
import { linear, type WeightLayout } from '../../src/fn/linear.js';
import { activation } from '../../src/fn/activation.js';
import { gradcheck, param, weightedSum } from '../helpers/gradcheck.js';

const runtimes: [string, Runtime][] = [
  ['simd', await createRuntime({ variant: 'simd', threads: 1 })],
  ['relaxed', await createRuntime({ variant: 'relaxed', threads: 1 })],
  ['relaxed, 2 threads', await createRuntime({ variant: 'relaxed', threads: 2 })],
  ['js', await createRuntime({ variant: 'js' })],
];

function layer(rt: Runtime, cin: number, cout: number, layout: WeightLayout, seed: number): LinearWeights {
  return { weight: param(rt, layout === 'in,out' ? [cin, cout] : [cout, cin], seed, 0.3), bias: param(rt, [cout], seed + 1, 0.3), layout };
}

describe.each(runtimes)('geluFeedForward (%s)', (_name, rt) => {
  it.each([
    { layout: 'in,out' as const, B: 2, T: 3, C: 12, F: 40 },     // 6 rows: small-M GEMMs
    { layout: 'out,in' as const, B: 3, T: 23, C: 20, F: 72 },    // 69 rows: packed panels, MC blocks
  ])('= linear → gelu → linear, output and every gradient bit for bit ($layout, $B×$T rows)', ({ layout, B, T, C, F }) => {
    const x = param(rt, [B, T, C], 1);
    const fc = layer(rt, C, F, layout, 2), proj = layer(rt, F, C, layout, 4);
    const w = Float64Array.from({ length: B * T * C }, (_, i) => Math.cos(i));
    const inputs = [x, fc.weight, fc.bias!, proj.weight, proj.bias!];
    const run = (f: () => Tensor) => rt.step.scope(() => {
      for (const t of inputs) t.grad = null;
      const y = f();
      rt.tape.backward(weightedSum(rt, y, w));
      const out = [y.toArray(), ...inputs.map((t) => t.grad!.toArray())];
      for (const t of inputs) t.grad = null;
      return out;
    });
    const fused = run(() => geluFeedForward(rt, x, fc, proj));
    const separate = run(() => linear(rt, activation(rt, 'gelu', linear(rt, x, fc.weight, fc.bias, layout)), proj.weight, proj.bias, layout));
    const names = ['y', 'dx', 'dW_fc', 'db_fc', 'dW_proj', 'db_proj'];
    fused.forEach((v, i) => {
      const bad = v.findIndex((e, j) => !Object.is(e, separate[i]![j]));
      expect(bad, `${names[i]} differs at ${bad}: fused ${v[bad]} vs separate ${separate[i]![bad]}`).toBe(-1);
    });
  });

  it('gradients by finite differences', () => {
    const x = param(rt, [2, 4, 6], 11, 0.5);
    const fc = layer(rt, 6, 10, 'in,out', 12), proj = layer(rt, 10, 6, 'in,out', 14);
    gradcheck(rt, () => geluFeedForward(rt, x, fc, proj), [x, fc.weight, fc.bias!, proj.weight, proj.bias!], { samples: 30 });
  });

  it('rejects mismatched shapes, naming them', () => {
    const x = param(rt, [2, 3, 6], 21);
    const fc = layer(rt, 6, 10, 'in,out', 22), proj = layer(rt, 9, 6, 'in,out', 24);
    expect(() => rt.step.scope(() => geluFeedForward(rt, x, fc, proj))).toThrow(ShapeError);
    expect(() => rt.step.scope(() => geluFeedForward(rt, x, fc, proj))).toThrow(/geluFeedForward \(proj\): x has 10 features .* weight \[9, 6\]/);
  });
});

describe.each(runtimes.filter(([name]) => name !== 'js'))('geluFeedForward without gradients, a model\'s stored weights (%s)', (_name, rt) => {
  it.each(['f32', 'int8', 'f16', 'bf16'] as const)('%s: GELU in the product\'s store = linear → gelu → linear on the same weights, bit for bit', (dtype) => {
    const model = new GPT(rt, { vocabSize: 40, blockSize: 16, nLayer: 1, nHead: 2, dModel: 24 }, { seed: 5 }).eval();
    if (dtype !== 'f32') model.params.inferenceDtype = dtype;
    const mlp = model.h[0]!.ffn as MLP;
    // count the activation kernel's calls: the fused path makes none
    const kernels = rt.kernels, counted = { ...kernels } as typeof kernels;
    let gelus = 0;
    counted.gelu_forward = (...a) => { gelus++; kernels.gelu_forward(...a); };
    Object.defineProperty(rt, 'kernels', { value: counted, configurable: true });
    try {
      for (const rows of [1, 3]) {   // one row (decode) and a small batch
        const input = param(rt, [rows, 1, 24], 31 + rows);
        gelus = 0;
        const fused = rt.tape.noGrad(() => rt.step.scope(() => mlp.forward(input).toArray()));
        expect(gelus, 'the fused path runs no separate GELU').toBe(0);
        const separate = rt.tape.noGrad(() => rt.step.scope(() => linear(rt, activation(rt, 'gelu', mlp.c_fc.forward(input)), mlp.c_proj.weight.value, mlp.c_proj.bias!.value, mlp.c_proj.layout).toArray()));
        expect(gelus).toBe(1);
        const bad = fused.findIndex((e, j) => !Object.is(e, separate[j]));
        expect(bad, `${dtype} rows ${rows}: element ${bad} fused ${fused[bad]} vs separate ${separate[bad]}`).toBe(-1);
      }
    } finally {
      Object.defineProperty(rt, 'kernels', { value: kernels, configurable: true });
      model.dispose();
    }
  });
});
