// RMSNorm, the SwiGLU feed-forward and rotary position embeddings as differentiable ops and
// layer options: finite-difference gradients (test/helpers/gradcheck.ts states the tolerance) of
// rmsNorm, swiGLU (two tensors, halves of one, gate = up), swigluFeedForward (joined and
// separate projections), rope (whole tensor, a slice of qkv, pos0, positions, partial rotary);
// rope's relative-position property; a TransformerLayer with normType 'rms' and ffn 'swiglu'
// (names, parameter count, gradients, defaults unchanged); bad inputs named in typed errors
// before any work. On the simd and relaxed builds, and on the plain-JS fallback (the twins).
import { describe, it, expect } from 'vitest';
import {
  createRuntime, Rng, ShapeError, DTypeError, ValueError, rmsNorm, swiGLU, swigluFeedForward, rope, rmsnorm, swiglu, ropeForward,
  type Runtime, type Tensor,
} from '../../src/index.js';
import { ParameterSet } from '../../src/nn/parameters.js';
import type { ModelContext } from '../../src/nn/context.js';
import { TransformerLayer, SEQ2SEQ_DECODER_NAMES, BERT_LAYER_NAMES, type LayerConfig, type LayerNames } from '../../src/nn/layer.js';
import { RMSNorm } from '../../src/nn/layers.js';
import { SwiGLUMLP } from '../../src/nn/mlp.js';
import { gradcheck, param } from '../helpers/gradcheck.js';

const runtimes: [string, Runtime][] = [
  ['simd', await createRuntime({ variant: 'simd' })],
  ['relaxed', await createRuntime({ variant: 'relaxed' })],
  ['js', await createRuntime({ variant: 'js' })],
];

const LLAMA_NAMES: LayerNames = {
  selfAttn: { q: 'self_attn.q_proj', k: 'self_attn.k_proj', v: 'self_attn.v_proj', o: 'self_attn.o_proj' },
  selfNorm: 'input_layernorm', fc1: 'unused', fc2: 'unused', ffnNorm: 'post_attention_layernorm', normFirst: true,
};

function build(rt: Runtime, cfg: LayerConfig, names: LayerNames, seed = 3): { layer: TransformerLayer; ps: ParameterSet } {
  const ps = new ParameterSet();
  const ctx: ModelContext = { rt, training: false, rng: new Rng(seed) };
  const layer = new TransformerLayer(ctx, ps, 'layer', cfg, names);
  ps.allocate(rt, seed);
  const r = new Rng(seed + 1);   // random norm gains and biases, so that every parameter matters
  for (const p of ps.list()) if (!p.spec.decay) { const d = p.value.f32(); for (let i = 0; i < d.length; i++) d[i] = (p.name.endsWith('weight') ? 1 : 0) + 0.1 * r.normal(); }
  return { layer, ps };
}

const bits = (t: Tensor) => Array.from(new Int32Array(t.f32().slice().buffer));

describe.each(runtimes)('modern layers, gradients by finite differences (%s)', (_name, rt) => {
  it('rmsNorm (x, weight), rows of 5 and of 33, 3-D input', () => {
    for (const c of [5, 33]) {
      const x = param(rt, [2, 3, c], 30 + c), w = param(rt, [c], 31 + c);
      gradcheck(rt, () => rmsNorm(rt, x, w), [x, w]);
    }
  });

  it('swiGLU: two tensors, the halves of one (B, T, 2F), and gate = up', () => {
    const g = param(rt, [2, 3, 7], 40, 2), u = param(rt, [2, 3, 7], 41);
    gradcheck(rt, () => swiGLU(rt, g, u), [g, u]);
    const gu = param(rt, [2, 3, 14], 42, 2);
    gradcheck(rt, () => swiGLU(rt, { t: gu, col: 0, width: 7 }, { t: gu, col: 7, width: 7 }), [gu], { samples: 40 });
    gradcheck(rt, () => swiGLU(rt, g, g), [g]);
  });

  it('GeGLU (swiGLU with act \'gelu\'): two tensors, the halves of one, and gate = up; the forward is gelu(gate)·up', () => {
    const g = param(rt, [2, 3, 7], 50, 2), u = param(rt, [2, 3, 7], 51);
    gradcheck(rt, () => swiGLU(rt, g, u, 'gelu'), [g, u]);
    const gu = param(rt, [2, 3, 14], 52, 2);
    gradcheck(rt, () => swiGLU(rt, { t: gu, col: 0, width: 7 }, { t: gu, col: 7, width: 7 }, 'gelu'), [gu], { samples: 40 });
    gradcheck(rt, () => swiGLU(rt, g, g, 'gelu'), [g]);
    const y = rt.tape.noGrad(() => swiGLU(rt, g, u, 'gelu')).f32(), gv = g.f32(), uv = u.f32();
    const K = Math.sqrt(2 / Math.PI);
    // the tanh GELU to its error model (activation.test.ts): (6|u| + 8)·2^-24 relative, |u| < 20 here
    gv.forEach((a, i) => expect(Math.abs(y[i]! - 0.5 * a * (1 + Math.tanh(K * (a + 0.044715 * a ** 3))) * uv[i]!)).toBeLessThanOrEqual(130 * 2 ** -24 * Math.abs(y[i]!) + 1e-30));
  });

  it('swigluFeedForward: joined gate|up weight = the two projections, and its gradients', () => {
    const x = param(rt, [2, 3, 8], 43);
    const wgu = param(rt, [2 * 12, 8], 44, 0.4), wd = param(rt, [8, 12], 45, 0.4);
    const gate = { weight: wgu.view([12, 8], 0), bias: null, layout: 'out,in' as const };
    const up = { weight: wgu.view([12, 8], 96), bias: null, layout: 'out,in' as const };
    const down = { weight: wd, bias: null, layout: 'out,in' as const };
    const joined = rt.tape.noGrad(() => swigluFeedForward(rt, x, { weight: wgu, bias: null, layout: 'out,in' }, down).f32().slice());
    const separate = rt.tape.noGrad(() => swigluFeedForward(rt, x, [gate, up], down).f32().slice());
    // one (24, 8) GEMM or two (12, 8): the same dot products, summed in the same order over K = 8
    expect(Array.from(joined)).toEqual(Array.from(separate));
    gradcheck(rt, () => swigluFeedForward(rt, x, { weight: wgu, bias: null, layout: 'out,in' }, down), [x, wgu, wd], { samples: 30 });
  });

  it('rope: a whole tensor, a slice of qkv, pos0, positions, partial rotary, another base', () => {
    const x = param(rt, [2, 4, 8], 50);                          // 2 heads of 4
    gradcheck(rt, () => rope(rt, x, 2), [x], { samples: 64 });
    const qkv = param(rt, [2, 3, 36], 51);                       // C = 12: 2 heads of 6, K at columns 12…23
    gradcheck(rt, () => rope(rt, { t: qkv, col: 12, width: 12 }, 2, { pos0: 9 }), [qkv], { samples: 72 });
    const positions = rt.tensor([0, 0, 1, 5, 6, 7], [2, 3], { dtype: 'i32' });   // left-padded first sequence
    gradcheck(rt, () => rope(rt, { t: qkv, col: 0, width: 12 }, 3, { positions, rotaryDim: 2, base: 100 }), [qkv], { samples: 72 });
  });

  it('rope: positions equal to pos0 + t give the same bits; scores depend on p − p\' only', () => {
    rt.tape.noGrad(() => {
      const x = rt.randn([2, 5, 16], { seed: 52 });
      const ids = rt.tensor([3, 4, 5, 6, 7, 3, 4, 5, 6, 7], [2, 5], { dtype: 'i32' });
      expect(bits(rope(rt, x, 2, { positions: ids }))).toEqual(bits(rope(rt, x, 2, { pos0: 3 })));
      // q at position p and k at p', one head of 64: (R_p q)·(R_p' k) = q·R_{p'−p} k. Two pairs with
      // the same offset 2: (5, 3) and (4101, 4099). Element i of a rotated vector errs by ≤ 3u·Q_i
      // plus Q_i·(p·2^-47 + 2^-52) for the angle (test/kernels/rope.test.ts), Q_i = |q_i| + |q_pair(i)|:
      // < 4u·Q_i for p ≤ 4101. The dot (in f64) then errs by ≤ Σ (4u·Q_i·K_i)·2 (+ 16u²·…), each of
      // the two scores: tol = 16.1u·Σ Q_i·K_i. A wrong offset changes the score by O(|q||k|).
      const q = rt.randn([1, 1, 64], { seed: 53 }), k = rt.randn([1, 1, 64], { seed: 54 });
      const [qd, kd] = [q.f32(), k.f32()];
      let qk = 0;
      for (let i = 0; i < 64; i++) qk += (Math.abs(qd[i]!) + Math.abs(qd[i ^ 32]!)) * (Math.abs(kd[i]!) + Math.abs(kd[i ^ 32]!));
      const tol = 16.1 * 2 ** -24 * qk;
      const score = (p: number, pk: number) => {
        const a = rope(rt, q, 1, { pos0: p }).f32(), b = rope(rt, k, 1, { pos0: pk }).f32();
        let s = 0;
        for (let i = 0; i < 64; i++) s += a[i]! * b[i]!;
        return s;
      };
      expect(Math.abs(score(5, 3) - score(4101, 4099))).toBeLessThan(tol);
      expect(Math.abs(score(5, 3) - score(5, 4))).toBeGreaterThan(100 * tol);
    });
  });

  it('TransformerLayer with normType \'rms\' and ffn \'swiglu\': Llama names, parameter count, gradients', () => {
    for (const [dModel, dFF, joined] of [[16, 24, true], [12, 10, false]] as const) {   // 12·10 = 120 floats: gate and up padded apart, two GEMMs
      const cfg: LayerConfig = { dModel, nHead: 2, dFF, norm: 'pre', causal: true, bias: false, normType: 'rms', ffn: 'swiglu' };
      const { layer, ps } = build(rt, cfg, LLAMA_NAMES);
      expect(ps.list().map((p) => `${p.name} [${p.spec.shape.join(',')}]`)).toEqual([
        `layer.input_layernorm.weight [${dModel}]`,
        ...['q', 'k', 'v', 'o'].map((n) => `layer.self_attn.${n}_proj.weight [${dModel},${dModel}]`),
        `layer.post_attention_layernorm.weight [${dModel}]`,
        `layer.mlp.gate_proj.weight [${dFF},${dModel}]`, `layer.mlp.up_proj.weight [${dFF},${dModel}]`, `layer.mlp.down_proj.weight [${dModel},${dFF}]`,
      ]);
      expect(ps.count()).toBe(4 * dModel * dModel + 3 * dModel * dFF + 2 * dModel);
      expect(layer.selfNorm).toBeInstanceOf(RMSNorm);
      const ffn = layer.ffn as SwiGLUMLP;
      expect(ffn).toBeInstanceOf(SwiGLUMLP);
      expect(ps.joined([ffn.gate.weight, ffn.up.weight]) !== null).toBe(joined);
      const x = param(rt, [2, 3, dModel], 60);
      gradcheck(rt, () => layer.forward(x), [x, ...ps.list().map((p) => p.value)], { samples: 6, richardson: true });
    }
  });

  it('SwiGLUMLP with biases: joined (\'out,in\') and separate (\'in,out\') projections, gradients of every parameter', () => {
    for (const layout of ['out,in', 'in,out'] as const) {
      const ps = new ParameterSet();
      const ctx: ModelContext = { rt, training: false, rng: new Rng(1) };
      const mlp = new SwiGLUMLP(ctx, ps, 'mlp', { dModel: 8, dFF: 16, bias: true }, { gate: 'w1', up: 'w3', down: 'w2', layout });
      ps.allocate(rt, 2);
      for (const p of ps.list()) if (!p.spec.decay) p.value.f32().set(Array.from({ length: p.value.size }, (_, i) => 0.1 * Math.sin(i + 1)));
      expect(ps.list().map((p) => p.name)).toEqual(['mlp.w1.weight', 'mlp.w1.bias', 'mlp.w3.weight', 'mlp.w3.bias', 'mlp.w2.weight', 'mlp.w2.bias']);
      expect(ps.joined([mlp.gate.weight, mlp.up.weight]) !== null && ps.joined([mlp.gate.bias!, mlp.up.bias!]) !== null).toBe(true);   // adjacent in memory; the layer joins them only in 'out,in' (rows = outputs)
      const x = param(rt, [2, 3, 8], 70);
      gradcheck(rt, () => mlp.forward(x), [x, ...ps.list().map((p) => p.value)], { samples: 10 });
    }
  });

  it('names from LayerNames gate / up / down; post-norm; defaults unchanged', () => {
    const { ps } = build(rt, { dModel: 8, nHead: 2, dFF: 16, normType: 'rms', ffn: 'swiglu', bias: true },
      { ...SEQ2SEQ_DECODER_NAMES, crossAttn: undefined, crossNorm: undefined, gate: 'ff.wi_0', up: 'ff.wi_1', down: 'ff.wo' });
    const names = ps.list().map((p) => p.name);
    expect(names.filter((n) => n.startsWith('layer.ff.'))).toEqual(['layer.ff.wi_0.weight', 'layer.ff.wi_0.bias', 'layer.ff.wi_1.weight', 'layer.ff.wi_1.bias', 'layer.ff.wo.weight', 'layer.ff.wo.bias']);
    expect(names.filter((n) => n.includes('layer_norm'))).toEqual(['layer.self_attn_layer_norm.weight', 'layer.final_layer_norm.weight']);
    const bert = build(rt, { dModel: 8, nHead: 2, dFF: 16 }, BERT_LAYER_NAMES).ps.list().map((p) => p.name);
    expect(bert).toContain('layer.attention.output.LayerNorm.bias');
    expect(bert).toContain('layer.intermediate.dense.weight');
    expect(() => build(rt, { dModel: 8, nHead: 2, dFF: 16, normType: 'batch' as 'rms' }, BERT_LAYER_NAMES)).toThrow(new ValueError('TransformerLayer: normType is "batch", expected \'layer\' or \'rms\''));
    expect(() => build(rt, { dModel: 8, nHead: 2, dFF: 16, ffn: 'reglu' as 'mlp' }, BERT_LAYER_NAMES)).toThrow(/ffn is "reglu", expected 'mlp', 'swiglu' or 'geglu'/);
  });
});

describe('modern layers, bad input', () => {
  const rt = runtimes[0]![1];
  /** Expects `f` to throw `type` with a message matching `re`, and to have taken nothing from the step arena. */
  function refuses(f: () => unknown, type: new (...a: never[]) => Error, re: RegExp): void {
    rt.step.reset();
    const before = rt.step.report().usedBytes;
    let caught: unknown = null;
    try { f(); } catch (e) { caught = e; }
    expect(caught).toBeInstanceOf(type);
    expect(String((caught as Error).message)).toMatch(re);
    expect(rt.step.report().usedBytes).toBe(before);
  }

  it('RoPE: an odd head size, a bad rotaryDim, base, pos0 or positions; typed errors naming the value', () => {
    const x = rt.randn([2, 3, 10]);
    refuses(() => ropeForward(rt, x, 2), ShapeError, /^rope: head size 5 \(width 10 \/ nHead 2\) is odd/);
    refuses(() => rope(rt, x, 3), ShapeError, /width 10 is not divisible by nHead = 3/);
    refuses(() => rope(rt, x, 1, { rotaryDim: 3 }), ValueError, /rotaryDim is 3, expected an even integer from 2 to the head size 10/);
    refuses(() => rope(rt, x, 1, { rotaryDim: 12 }), ValueError, /rotaryDim is 12/);
    refuses(() => rope(rt, x, 1, { base: -1 }), ValueError, /base is -1/);
    refuses(() => rope(rt, x, 1, { pos0: 1.5 }), ValueError, /pos0 is 1.5/);
    refuses(() => rope(rt, x, 1, { pos0: -2 }), ValueError, /pos0 is -2/);
    refuses(() => rope(rt, x, 1, { positions: rt.tensor([0, 1, 2, 3, -4, 5], [2, 3], { dtype: 'i32' }) }), ValueError, /positions\[1, 1\] is -4/);
    refuses(() => rope(rt, x, 1, { positions: rt.tensor([0, 1, 2, 3, 4, 5], [2, 3]) }), DTypeError, /positions is .*expected dtype i32/);
    refuses(() => rope(rt, x, 1, { positions: rt.tensor([0, 1, 2], [1, 3], { dtype: 'i32' }) }), ShapeError, /positions has shape \[1, 3\], expected \[2, 3\]/);
    refuses(() => rope(rt, { t: x, col: 6, width: 6 }, 1), ShapeError, /x is columns 6…11 of shape \[2, 3, 10\]/);
    refuses(() => rope(rt, rt.randn([6, 10]), 1), ShapeError, /expected \(B, T, W\)/);
  });

  it('rmsnorm and swiglu: shapes, eps and strides named', () => {
    refuses(() => rmsnorm(rt, rt.randn([4, 6]), rt.randn([5])), ShapeError, /^rmsnorm: weight has shape \[5\], expected \[6\]/);
    refuses(() => rmsnorm(rt, rt.randn([4, 6]), rt.randn([6]), { eps: 0 }), ValueError, /eps is 0/);
    refuses(() => rmsNorm(rt, rt.tensor([1, 2], [2], { dtype: 'i32' }), rt.randn([2])), DTypeError, /x is .*expected dtype f32/);
    refuses(() => swiglu(rt, rt.randn([4, 6]), rt.randn([4, 5])), ShapeError, /gate is \[4, 6\] but up is \[4, 5\]/);
    const gu = rt.randn([4, 12]);
    refuses(() => swiGLU(rt, { t: gu, col: 0, width: 6 }, rt.randn([4, 6])), ShapeError, /gate rows are 12 floats apart but up rows 6/);
    refuses(() => swiGLU(rt, { t: gu, col: 8, width: 6 }, { t: gu, col: 0, width: 6 }), ShapeError, /gate is columns 8…13 of shape \[4, 12\]/);
    refuses(() => swigluFeedForward(rt, rt.randn([2, 4]), { weight: rt.randn([7, 4]), bias: null, layout: 'out,in' }, { weight: rt.randn([4, 3]), bias: null, layout: 'out,in' }),
      ShapeError, /joined gate\|up projection has 7 outputs/);
  });
});
