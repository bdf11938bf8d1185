// Encoder and decoder layers (src/nn/layer.ts): finite-difference gradients of whole layers
// (post-norm encoder with padding, pre-norm decoder with cross-attention), padding invariance,
// the joined-projection fast path against the separate one, and cached decoding against the
// full forward.
import { describe, it, expect } from 'vitest';
import { createRuntime, Rng, type Runtime, type Tensor } from '../../src/index.js';
import { ParameterSet } from '../../src/nn/parameters.js';
import type { ModelContext } from '../../src/nn/context.js';
import { TransformerLayer, BERT_LAYER_NAMES, SEQ2SEQ_DECODER_NAMES, type LayerConfig, type LayerNames } from '../../src/nn/layer.js';
import { gradcheck, param } from '../helpers/gradcheck.js';

const runtimes: [string, Runtime][] = [
  ['simd', await createRuntime({ variant: 'simd' })],
  ['relaxed', await createRuntime({ variant: 'relaxed' })],
];

function build(rt: Runtime, cfg: LayerConfig, names: LayerNames, seed = 3): { layer: TransformerLayer; ps: ParameterSet; ctx: ModelContext } {
  const ps = new ParameterSet();
  const ctx: ModelContext = { rt, training: false, rng: new Rng(seed) };
  const layer = new TransformerLayer(ctx, ps, 'layer', cfg, names);
  ps.allocate(rt, seed);
  // random biases and norms too, so that every parameter matters to the check
  const r = new Rng(seed + 1);
  for (const p of ps.list()) if (!p.spec.decay) { const d = p.value.f32(); for (let i = 0; i < d.length; i++) d[i] = (p.name.endsWith('weight') ? 1 : 0) + 0.1 * r.normal(); }
  return { layer, ps, ctx };
}

const mask = (rt: Runtime, lens: number[], T: number): Tensor =>
  rt.tensor(lens.flatMap((n) => Array.from({ length: T }, (_, t) => (t < n ? 1 : 0))), [lens.length, T], { dtype: 'i32' });

describe.each(runtimes)('transformer layers (%s)', (_name, rt) => {
  it('post-norm encoder layer with a padding mask: gradients of input and every parameter', () => {
    for (const dModel of [16, 12]) { // 16: q/k/v run as one joined GEMM; 12: biases not adjacent → three GEMMs
      const { layer, ps } = build(rt, { dModel, nHead: 2, dFF: 24, norm: 'post' }, BERT_LAYER_NAMES);
      const x = param(rt, [2, 4, dModel], 5);
      const m = mask(rt, [4, 2], 4);
      gradcheck(rt, () => layer.forward(x, { selfMask: m }), [x, ...ps.list().map((p) => p.value)], { samples: 6, richardson: true });
    }
  });

  it('pre-norm decoder layer: causal self-attention, cross-attention to a padded memory', () => {
    const { layer, ps } = build(rt, { dModel: 16, nHead: 4, dFF: 32, norm: 'pre', causal: true }, SEQ2SEQ_DECODER_NAMES); // GELU: ReLU's kink breaks differences at eps
    const x = param(rt, [2, 3, 16], 6);
    const memory = param(rt, [2, 5, 16], 7);
    const mm = mask(rt, [5, 3], 5);
    const tm = mask(rt, [3, 2], 3);
    gradcheck(rt, () => layer.forward(x, { selfMask: tm, memory, memoryMask: mm }), [x, memory, ...ps.list().map((p) => p.value)],
      { samples: 5, richardson: true });
  });

  it('padding invariance: real positions of a padded batch equal each sequence run alone', () => {
    for (const [norm, names, causal] of [['post', BERT_LAYER_NAMES, false], ['pre', SEQ2SEQ_DECODER_NAMES, true]] as const) {
      const { layer } = build(rt, { dModel: 16, nHead: 2, dFF: 32, norm, causal }, names, 9);
      const lens = [5, 3, 1], T = 5, S = 4, srcLens = [4, 2, 3];
      const xs = lens.map((n, b) => rt.randn([1, n, 16], { seed: 20 + b }));
      const mems = srcLens.map((n, b) => rt.randn([1, n, 16], { seed: 30 + b }));
      const pad = (parts: Tensor[], len: number): Tensor => {
        const out = new Float32Array(parts.length * len * 16).fill(7.5); // padding values must not matter
        parts.forEach((p, b) => out.set(p.f32(), b * len * 16));
        return rt.tensor(out, [parts.length, len, 16]);
      };
      const isDecoder = names === SEQ2SEQ_DECODER_NAMES;
      rt.tape.noGrad(() => {
        const batched = layer.forward(pad(xs, T), { selfMask: mask(rt, lens, T), memory: pad(mems, S), memoryMask: mask(rt, srcLens, S) }).f32();
        lens.forEach((n, b) => {
          const alone = layer.forward(xs[b]!, isDecoder ? { memory: mems[b]! } : {}).f32();
          for (let i = 0; i < n * 16; i++) {
            const want = alone[i]!, got = batched[b * T * 16 + i]!;
            // different row lengths change only the order of f32 sums inside softmax/GEMM: a few ulps of O(1) values
            if (!(Math.abs(got - want) <= 1e-5 * Math.max(1, Math.abs(want)))) expect.fail(`${norm} seq ${b} [${i}]: ${got} vs alone ${want}`);
          }
        });
      });
    }
  });

  it('cached decoding (self KV cache + cross K|V computed once, shared by two beams) equals the full forward', () => {
    const { layer } = build(rt, { dModel: 16, nHead: 2, dFF: 32, norm: 'post', causal: true }, SEQ2SEQ_DECODER_NAMES, 11);
    const T = 4;
    const x = rt.randn([1, T, 16], { seed: 40 });
    const memory = rt.randn([1, 6, 16], { seed: 41 });
    const mm = mask(rt, [5], 6);
    rt.tape.noGrad(() => {
      const full = layer.forward(x, { memory, memoryMask: mm }).f32().slice();
      const kv = layer.crossAttn!.memoryKV(memory);                        // (1, 6, 32), shared
      const beams = 2;
      const cache = { k: rt.zeros([beams, T, 16]), v: rt.zeros([beams, T, 16]) };
      for (let t = 0; t < T; t++) {
        const step = new Float32Array(beams * 16);
        for (let b = 0; b < beams; b++) step.set(x.f32().subarray(t * 16, (t + 1) * 16), b * 16);
        const y = layer.forward(rt.tensor(step, [beams, 1, 16]), { cache, pos: t, memoryKV: kv, memoryMask: mm }).f32();
        for (let b = 0; b < beams; b++) for (let j = 0; j < 16; j++) {
          const want = full[t * 16 + j]!, got = y[b * 16 + j]!;
          if (!(Math.abs(got - want) <= 1e-5 * Math.max(1, Math.abs(want)))) expect.fail(`step ${t} beam ${b} [${j}]: ${got} vs ${want}`);
        }
      }
    });
  });

  it('Hugging Face names and a decoder layer without memory is an error', () => {
    const { layer, ps } = build(rt, { dModel: 16, nHead: 2, dFF: 32, causal: true }, SEQ2SEQ_DECODER_NAMES);
    expect(ps.list().map((p) => p.name)).toContain('layer.encoder_attn.k_proj.weight');
    expect(ps.get('layer.fc1.weight')!.spec.shape).toEqual([32, 16]);
    expect(() => layer.forward(rt.zeros([1, 2, 16]))).toThrow(/cross-attention; pass the encoder output/);
    const bert = build(rt, { dModel: 16, nHead: 2, dFF: 32 }, BERT_LAYER_NAMES).ps.list().map((p) => p.name);
    expect(bert).toEqual(expect.arrayContaining(['layer.attention.self.query.weight', 'layer.attention.output.LayerNorm.bias', 'layer.intermediate.dense.weight', 'layer.output.LayerNorm.weight']));
  });
});
