// The ViT model: config checks, the parameter table (Hugging Face names and shapes, the
// closed-form count), patch extraction against a naive im2col and the patch embedding against
// a naive stride-P convolution, the gradient of the whole model by finite differences,
// determinism, bad input, and the attention maps.
import { describe, expect, it } from 'vitest';
import { attentionMaps, clsAttentionGrid, createRuntime, DTypeError, Rng, ShapeError, ValueError, type Runtime } from '../../src/index.js';
import { ViT, vitConfig, type ViTConfig } from '../../src/models/vit.js';
import { patchify } from '../../src/nn/patch-embedding.js';
import { gradcheck } from '../helpers/gradcheck.js';

const runtimes: [string, Runtime][] = [
  ['simd', await createRuntime({ variant: 'simd' })],
  ['relaxed', await createRuntime({ variant: 'relaxed' })],
];
const rt = runtimes[0]![1];

const mnistTiny: Partial<ViTConfig> = { imageSize: 28, patchSize: 7, channels: 1, numClasses: 10, nLayer: 2, nHead: 2, dModel: 16, dFF: 32 };
/** 6×6 images of 2 channels in 3×3 patches: N = 4 patches, T = 5 tokens. */
const tiny: Partial<ViTConfig> = { imageSize: 6, patchSize: 3, channels: 2, numClasses: 3, nLayer: 2, nHead: 2, dModel: 8, dFF: 16 };

function randomImages(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => rng.uniform());
}

describe('ViT config and parameters', () => {
  it('defaults to ViT-Base/16 and derives dFF = 4·dModel', () => {
    const cfg = vitConfig();
    expect([cfg.imageSize, cfg.patchSize, cfg.channels, cfg.dModel, cfg.nLayer, cfg.dFF, cfg.layerNormEps]).toEqual([224, 16, 3, 768, 12, 3072, 1e-12]);
    expect(vitConfig({ dModel: 64, nHead: 4 }).dFF).toBe(256);
  });

  it('rejects configs that do not fit, naming the numbers', () => {
    expect(() => vitConfig({ imageSize: 30, patchSize: 7 })).toThrow(ShapeError);
    expect(() => vitConfig({ imageSize: 30, patchSize: 7 })).toThrow(/imageSize 30 is not a multiple of patchSize 7/);
    expect(() => vitConfig({ dModel: 66, nHead: 4 })).toThrow(/dModel = 66 is not divisible by nHead = 4/);
    expect(() => vitConfig({ channels: 0 })).toThrow(ValueError);
    expect(() => vitConfig({ numClasses: 2.5 })).toThrow(/numClasses is 2.5/);
    expect(() => vitConfig({ dropout: 1 })).toThrow(/dropout is 1/);
    expect(() => vitConfig({ layerNormEps: 0 })).toThrow(/layerNormEps is 0/);
  });

  it('has Hugging Face ViT names and shapes, and numParams matches the closed form', () => {
    const model = new ViT(rt, { ...mnistTiny, nLayer: 3 });
    const names = model.params.list().map((p) => `${p.name} [${p.spec.shape.join(',')}]`);
    const layer0 = [
      'attention.attention.query.weight [16,16]', 'attention.attention.query.bias [16]',
      'attention.attention.key.weight [16,16]', 'attention.attention.key.bias [16]',
      'attention.attention.value.weight [16,16]', 'attention.attention.value.bias [16]',
      'attention.output.dense.weight [16,16]', 'attention.output.dense.bias [16]',
      'layernorm_before.weight [16]', 'layernorm_before.bias [16]',
      'intermediate.dense.weight [32,16]', 'intermediate.dense.bias [32]',
      'output.dense.weight [16,32]', 'output.dense.bias [16]',
      'layernorm_after.weight [16]', 'layernorm_after.bias [16]',
    ].map((s) => `vit.encoder.layer.0.${s}`);
    expect(names).toEqual([
      'vit.embeddings.patch_embeddings.projection.weight [16,1,7,7]', 'vit.embeddings.patch_embeddings.projection.bias [16]',
      'vit.embeddings.cls_token [1,1,16]', 'vit.embeddings.position_embeddings [1,17,16]',
      ...layer0, ...layer0.map((n) => n.replace('layer.0', 'layer.1')), ...layer0.map((n) => n.replace('layer.0', 'layer.2')),
      'vit.layernorm.weight [16]', 'vit.layernorm.bias [16]', 'classifier.weight [10,16]', 'classifier.bias [10]',
    ]);
    // D = dModel, F = dFF, L layers, C·P² patch features, N patches, K classes:
    //   patch projection D·C·P² + D, [CLS] D, positions (N + 1)·D,
    //   per layer 4·(D² + D) (q, k, v, output) + 2·2D (two LayerNorms) + (D·F + F) + (F·D + D),
    //   final LayerNorm 2D, classifier K·D + K
    const [D, F, L, CP2, N, K] = [16, 32, 3, 49, 16, 10];
    const perLayer = 4 * (D * D + D) + 4 * D + (D * F + F) + (F * D + D);
    expect(model.numParams()).toBe(D * CP2 + D + D + (N + 1) * D + L * perLayer + 2 * D + K * D + K);
    expect(model.numParams()).toBe(7962);   // 1088 embeddings + 3 · 2224 layers + 32 final norm + 170 classifier
    // weight decay on the matmul weights only: patch projection, 6 per layer, classifier
    expect(model.params.decayEnd).toBe(D * CP2 + L * (4 * D * D + 2 * D * F) + K * D);
  });
});

describe('patch extraction and the patch embedding', () => {
  it('patchify orders each patch (c, py, px) and the patches row-major (naive im2col)', () => {
    const [B, C, H, W, P] = [2, 3, 8, 12, 4];
    const img = randomImages(B * C * H * W, 1);
    const GW = W / P, N = (H / P) * GW, Kf = C * P * P;
    const out = new Float32Array(B * N * Kf);
    patchify(out, img, { B, C, H, W }, P);
    for (let b = 0; b < B; b++) {
      for (let n = 0; n < N; n++) {
        for (let k = 0; k < Kf; k++) {
          const c = Math.floor(k / (P * P)), py = Math.floor(k / P) % P, px = k % P;
          const y = Math.floor(n / GW) * P + py, x = (n % GW) * P + px;
          expect(out[(b * N + n) * Kf + k]).toBe(img[((b * C + c) * H + y) * W + x]);
        }
      }
    }
  });

  it.each(runtimes)('equals a naive convolution with kernel P and stride P (%s)', (_name, rt) => {
    const model = new ViT(rt, { ...tiny, channels: 3, imageSize: 12, patchSize: 4, dModel: 8 }, { seed: 4 });
    const pe = model.patchEmbeddings;
    const bias = pe.bias.value.f32();
    for (let i = 0; i < bias.length; i++) bias[i] = 0.1 * (i - 3);   // a bias that matters
    const [B, C, S, P, D] = [2, 3, 12, 4, 8];
    const img = randomImages(B * C * S * S, 2);
    const got = rt.step.scope(() => rt.tape.noGrad(() => pe.forward(pe.patches(img, { B, C, H: S, W: S })).toArray()));   // (B, N, D)
    const w = pe.weight.value.f32();   // (D, C, P, P)
    const G = S / P;
    let maxDiff = 0;
    for (let b = 0; b < B; b++) {
      for (let d = 0; d < D; d++) {
        for (let gy = 0; gy < G; gy++) {
          for (let gx = 0; gx < G; gx++) {
            // conv2d(img, w, stride P)[b, d, gy, gx] in f64
            let s = bias[d]!;
            for (let c = 0; c < C; c++) {
              for (let ky = 0; ky < P; ky++) {
                for (let kx = 0; kx < P; kx++) s += w[((d * C + c) * P + ky) * P + kx]! * img[((b * C + c) * S + gy * P + ky) * S + gx * P + kx]!;
              }
            }
            maxDiff = Math.max(maxDiff, Math.abs(got[(b * G * G + gy * G + gx) * D + d]! - s));
          }
        }
      }
    }
    // 48-term f32 dot products of values ≲ 0.1: rounding is ≲ 1e-7; 1e-6 still catches any misplaced weight (≈ 1e-2)
    expect(maxDiff).toBeLessThan(1e-6);
  });
});

describe.each(runtimes)('ViT forward and backward (%s)', (_name, rt) => {
  const variants: [string, Partial<ViTConfig>][] = [['no dropout', {}], ['dropout 0.2 (the same seeds every evaluation)', { dropout: 0.2 }]];
  it.each(variants)('whole-model gradient by finite differences, [CLS] and positions included: %s', (_n, extra) => {
    const model = new ViT(rt, { ...tiny, ...extra }, { seed: 3 });
    // Larger than HF's 0.02 init, and random norms and biases, so that every parameter carries a
    // gradient well above the f32 rounding noise of the loss; Richardson extrapolation (see
    // test/helpers/gradcheck.ts) removes the ε² error of ε = 1e-2, as in the GPT check.
    const r = new Rng(11);
    for (const p of model.params.list()) {
      const d = p.value.f32();
      const ln = p.name.includes('layernorm');
      for (let i = 0; i < d.length; i++) d[i] = ln && p.name.endsWith('weight') ? 1 + 0.2 * r.normal() : (p.spec.decay ? 0.3 : 0.5) * r.normal();
    }
    const images = randomImages(2 * 2 * 6 * 6, 5);
    const rngState = model.ctx.rng.getState();
    const f = () => {
      model.ctx.rng.setState(rngState);
      return model.forward(images, [0, 2]).loss!;
    };
    const params = model.params.list().map((p) => p.value);
    expect(model.params.list().map((p) => p.name)).toContain('vit.embeddings.cls_token');
    gradcheck(rt, f, params, { scalar: true, samples: 5, eps: 1e-2, richardson: true });
  });

  it('starts near ln(numClasses), is deterministic for a seed, and takes a Tensor or a Float32Array alike', () => {
    const logitsOf = (m: ViT, x: Float32Array) => rt.step.scope(() => rt.tape.noGrad(() => m.forward(x).logits.toArray()));
    const images = randomImages(3 * 28 * 28, 6);
    const a = new ViT(rt, mnistTiny, { seed: 21 });
    const b = new ViT(rt, mnistTiny, { seed: 21 });
    const c = new ViT(rt, mnistTiny, { seed: 22 });
    const la = logitsOf(a, images);
    expect(la).toHaveLength(3 * 10);
    expect(logitsOf(b, images)).toEqual(la);
    expect(logitsOf(a, images)).toEqual(la);
    expect(logitsOf(c, images)).not.toEqual(la);
    const asTensor = rt.step.scope(() => rt.tape.noGrad(() => a.forward(rt.tensor(images, [3, 1, 28, 28], { arena: 'step' })).logits.toArray()));
    expect(asTensor).toEqual(la);
    const loss = rt.step.scope(() => rt.tape.noGrad(() => a.forward(images, [1, 2, 3]).loss!.item()));
    expect(Math.abs(loss - Math.log(10))).toBeLessThan(0.1);   // 0.02 init: logits within ±0.1 of each other
    expect(Array.from(a.predict(images))).toEqual([0, 1, 2].map((i) => la.slice(i * 10, i * 10 + 10).indexOf(Math.max(...la.slice(i * 10, i * 10 + 10)))));
  });

  it('gives typed errors naming the numbers for bad images and labels', () => {
    const model = new ViT(rt, mnistTiny);
    const run = (x: Parameters<ViT['forward']>[0], y?: number[]) => () => rt.step.scope(() => model.forward(x, y));
    const img = (shape: number[]) => rt.zeros(shape, { arena: 'step' });
    expect(run(img([2, 1, 30, 28]))).toThrow(ShapeError);
    expect(run(img([2, 1, 30, 28]))).toThrow(/image height 30 is not a multiple of the patch size 7/);
    expect(run(img([2, 1, 28, 27]))).toThrow(/image width 27 is not a multiple of the patch size 7/);
    expect(run(img([2, 1, 21, 21]))).toThrow(/images are 21×21, this model takes 28×28/);
    expect(run(img([2, 3, 28, 28]))).toThrow(/images have 3 channels, expected 1/);
    expect(run(img([28, 28]))).toThrow(/images have shape \[28, 28\], expected \(B, C, H, W\)/);
    expect(run(rt.zeros([1, 1, 28, 28], { dtype: 'i32', arena: 'step' }))).toThrow(DTypeError);
    expect(run(new Float32Array(784 + 5))).toThrow(/a Float32Array of 789 pixels is not a whole number of 1×28×28 images \(784 pixels each\)/);
    const two = new Float32Array(2 * 784);
    expect(run(two, [3, 10])).toThrow(ValueError);
    expect(run(two, [3, 10])).toThrow(/label 10 of image 1 is outside \[0, 10\)/);
    expect(run(two, [-1, 0])).toThrow(/label -1 of image 0/);
    expect(run(two, [1])).toThrow(/1 labels for 2 images/);
    expect(() => rt.step.scope(() => model.forward(two, rt.tensor([1, 2], [2], { arena: 'step' })))).toThrow(/labels are f32\[2\], expected dtype i32/);
    const nan = new Float32Array(2 * 784);
    nan[784 + 5 * 28 + 9] = NaN;
    expect(run(nan)).toThrow(ValueError);
    expect(run(nan)).toThrow(/pixel \(c 0, y 5, x 9\) of image 1 is NaN/);
    nan[784 + 5 * 28 + 9] = 0;
    nan[3] = -Infinity;
    expect(run(nan)).toThrow(/pixel \(c 0, y 0, x 3\) of image 0 is -Infinity/);
  });

  it('keeps attention maps on request: labelled CLS, p0 …; rows sum to 1; [CLS] over the patch grid', () => {
    const model = new ViT(rt, mnistTiny, { seed: 2 });
    expect(() => attentionMaps(model)).toThrow(/no attention kept/);
    model.keepAttention();
    model.predict(randomImages(2 * 784, 8));
    const maps = attentionMaps(model, { batchIndex: 1 });
    expect([maps.layers, maps.heads, maps.tq, maps.tk]).toEqual([2, 2, 17, 17]);
    expect(maps.keyLabels!.slice(0, 3)).toEqual(['CLS', 'p0', 'p1']);
    expect(maps.keyLabels!.at(-1)).toBe('p15');
    for (let r = 0; r < 2 * 2 * 17; r++) {
      let sum = 0;
      for (let j = 0; j < 17; j++) sum += maps.data[r * 17 + j]!;
      expect(sum).toBeCloseTo(1, 5);
    }
    expect(maps.data[1]).toBeGreaterThan(0);   // bidirectional: [CLS] sees the patches after it
    const grid = clsAttentionGrid(maps);
    expect([grid.tq, grid.tk]).toEqual([4, 4]);
    for (let panel = 0; panel < 4; panel++) {
      // grid of panel = row 0 of the full map without its first entry (CLS → CLS)
      expect(Array.from(grid.data.subarray(panel * 16, panel * 16 + 16))).toEqual(Array.from(maps.data.subarray(panel * 289 + 1, panel * 289 + 17)));
    }
    expect(() => attentionMaps(model, { batchIndex: 2 })).toThrow(/batchIndex is 2/);
    model.keepAttention(false);
    expect(() => attentionMaps(model)).toThrow(/no attention kept/);
  });
});
