// ViT: the Vision Transformer of Dosovitskiy et al. in the shape of Hugging Face's
// ViTForImageClassification — non-overlapping P×P patches projected to dModel, a learned
// [CLS] token prepended, learned position embeddings added, nLayer pre-norm encoder layers,
// a final LayerNorm, and a linear classifier on the [CLS] output. Parameter names and shapes
// are Hugging Face's (the patch projection keeps its conv shape (D, C, P, P)), so weights move
// to and from PyTorch unchanged. GELU defaults to the tanh approximation; Hugging Face's ViT
// uses the exact erf form (`activation: 'gelu_erf'`; the two differ by at most 4.7e-4 per activation).
import { DTypeError, ShapeError, ValueError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import { Tensor } from '../tensor.js';
import { concatSeq, selectSeq } from '../fn/concat.js';
import { checkActivation } from '../fn/activation.js';
import { crossEntropy } from '../fn/crossentropy.js';
import { dropout } from '../fn/dropout.js';
import { embedding } from '../fn/embedding.js';
import { residual } from '../fn/residual.js';
import { TransformerLayer, VIT_LAYER_NAMES } from '../nn/layer.js';
import { runLayers } from '../nn/stack.js';
import { LayerNorm, Linear } from '../nn/layers.js';
import type { Parameter } from '../nn/parameters.js';
import type { KeepsAttention, KeptAttention } from '../nn/attention.js';
import { positionIds } from '../nn/positions.js';
import { argmax } from '../math.js';
import { Model, type ModelOptions } from './model.js';
import { parameterView, PatchEmbedding } from '../nn/patch-embedding.js';

/** The shape of a ViT. Defaults are ViT-Base/16 at 224×224 (Hugging Face's ViTConfig). */
export interface ViTConfig {
  /** Side of the (square) input images, in pixels. */
  imageSize: number;
  /** Side of the square patches; imageSize must be a multiple of it. */
  patchSize: number;
  /** Colour channels of the input (1 for MNIST, 3 for RGB). */
  channels: number;
  numClasses: number;
  nLayer: number;
  nHead: number;
  dModel: number;
  /** Hidden width of the MLP (default 4·dModel). */
  dFF: number;
  /** Dropout after the embeddings and each residual branch (0 = off). */
  dropout: number;
  layerNormEps: number;
  /** Of the MLPs: 'gelu' (tanh form) or 'gelu_erf' (exact; Hugging Face's ViT checkpoints). */
  activation: 'gelu' | 'gelu_erf';
}

/**
 * ViT-Base/16 (86,567,656 parameters with 1000 classes, as google/vit-base-patch16-224).
 * @example
 * ```ts
 * const cfg = vitConfig({ ...VIT_BASE_PATCH16_224, numClasses: 10 });
 * ```
 */
export const VIT_BASE_PATCH16_224: ViTConfig = {
  imageSize: 224, patchSize: 16, channels: 3, numClasses: 1000, nLayer: 12, nHead: 12, dModel: 768, dFF: 3072,
  dropout: 0, layerNormEps: 1e-12, activation: 'gelu',
};

/**
 * A full config from a partial one (ViT-Base/16 defaults; dFF defaults to 4·dModel), checked.
 * @throws ShapeError when imageSize is not a multiple of patchSize or dModel of nHead; ValueError
 *   for a size that is not a positive integer, dropout outside [0, 1), or layerNormEps ≤ 0.
 * @example
 * ```ts
 * const cfg = vitConfig({ imageSize: 28, patchSize: 7, channels: 1, numClasses: 10, nLayer: 6, nHead: 4, dModel: 64 });
 * cfg.dFF; // 256
 * ```
 */
export function vitConfig(partial: Partial<ViTConfig> = {}): ViTConfig {
  const dModel = partial.dModel ?? VIT_BASE_PATCH16_224.dModel;
  const cfg: ViTConfig = { ...VIT_BASE_PATCH16_224, dFF: 4 * dModel, ...partial };
  for (const key of ['imageSize', 'patchSize', 'channels', 'numClasses', 'nLayer', 'nHead', 'dModel', 'dFF'] as const) {
    const v = cfg[key];
    if (!Number.isInteger(v) || v < 1) throw new ValueError(`ViT config: ${key} is ${v}, expected an integer ≥ 1`);
  }
  if (cfg.imageSize % cfg.patchSize !== 0) {
    throw new ShapeError(`ViT config: imageSize ${cfg.imageSize} is not a multiple of patchSize ${cfg.patchSize}`);
  }
  if (cfg.dModel % cfg.nHead !== 0) throw new ShapeError(`ViT config: dModel = ${cfg.dModel} is not divisible by nHead = ${cfg.nHead}`);
  if (!(cfg.dropout >= 0 && cfg.dropout < 1)) throw new ValueError(`ViT config: dropout is ${cfg.dropout}, expected 0 ≤ p < 1`);
  if (!(cfg.layerNormEps > 0)) throw new ValueError(`ViT config: layerNormEps is ${cfg.layerNormEps}, expected > 0`);
  checkActivation('ViT config', cfg.activation, ['gelu', 'gelu_erf']);
  return cfg;
}

/**
 * Images in PyTorch order (B, C, H, W): a Tensor of that shape, or a Float32Array of B whole
 * images of the config's size.
 * @example
 * ```ts
 * const batch: ImageBatch = rt.tensor(pixels, [8, 1, 28, 28], { arena: 'step' });   // or just `pixels`
 * ```
 */
export type ImageBatch = Tensor | Float32Array;

/** What `ViT.forward` returns. */
export interface ViTOutput {
  /** (B, numClasses) */
  logits: Tensor;
  /** (1) mean cross-entropy, when labels were given */
  loss?: Tensor;
}

/** Options of `ViT.forward`. */
export interface ViTForwardOptions {
  /** Label smoothing ε of the loss (default 0). */
  smoothing?: number;
}

/**
 * A Vision Transformer image classifier.
 * @example
 * ```ts
 * const rt = await createRuntime();
 * const vit = new ViT(rt, { imageSize: 28, patchSize: 7, channels: 1, numClasses: 10, nLayer: 6, nHead: 4, dModel: 64 }, { seed: 1 });
 * const { logits, loss } = vit.forward(images, labels);   // images Float32Array (B·1·28·28), labels (B)
 * ```
 */
export class ViT extends Model {
  readonly family = 'vit' as const;
  readonly config: ViTConfig;
  readonly patchEmbeddings: PatchEmbedding;
  readonly clsToken: Parameter;            /* (1, 1, C) */
  readonly positionEmbeddings: Parameter;  /* (1, N + 1, C) */
  readonly layers: TransformerLayer[];
  readonly layernorm: LayerNorm;
  readonly classifier: Linear;
  /** Patches per image, N = (imageSize / patchSize)². */
  readonly numPatches: number;
  #positions: Tensor | null = null;        /* (N + 1, C), the position table as `embedding` reads it */

  constructor(rt: Runtime, config: Partial<ViTConfig>, opts: ModelOptions = {}) {
    const seed = opts.seed ?? 1337;
    super(rt, seed, opts);
    const cfg = (this.config = vitConfig(config));
    const ps = this.params;
    const C = cfg.dModel;
    this.numPatches = (cfg.imageSize / cfg.patchSize) ** 2;
    this.patchEmbeddings = new PatchEmbedding(this.ctx, ps, 'vit.embeddings.patch_embeddings', { channels: cfg.channels, patchSize: cfg.patchSize, dModel: C });
    this.clsToken = ps.declare('vit.embeddings.cls_token', [1, 1, C], { normal: 0.02 }, false);
    this.positionEmbeddings = ps.declare('vit.embeddings.position_embeddings', [1, this.numPatches + 1, C], { normal: 0.02 }, false);
    this.layers = [];
    for (let i = 0; i < cfg.nLayer; i++) {
      this.layers.push(new TransformerLayer(this.ctx, ps, `vit.encoder.layer.${i}`,
        { dModel: C, nHead: cfg.nHead, dFF: cfg.dFF, dropout: cfg.dropout, norm: 'pre', activation: cfg.activation, layerNormEps: cfg.layerNormEps },
        VIT_LAYER_NAMES));
    }
    this.layernorm = new LayerNorm(this.ctx, ps, 'vit.layernorm', C, { eps: cfg.layerNormEps });
    this.classifier = new Linear(this.ctx, ps, 'classifier', C, cfg.numClasses, { layout: 'out,in' });
    opts.validate?.(ps);
    ps.allocate(rt, seed, { init: opts.init });
  }

  /**
   * images (B, C, H, W) → logits (B, numClasses); with labels (B) in [0, numClasses), also the
   * mean cross-entropy.
   * @throws ShapeError for a side that is not a multiple of the patch size, another image size or
   *   channel count; ValueError for a label out of range or a NaN/Inf pixel; DTypeError for
   *   non-f32 images or non-i32 label tensors.
   */
  forward(images: ImageBatch, labels?: Tensor | ArrayLike<number>, opts: ViTForwardOptions = {}): ViTOutput {
    const dims = this.#checkImages(images);
    const targets = labels === undefined ? null : this.#labels(labels, dims.B);
    let x = this.#embed(this.patchEmbeddings.patches(images, dims), dims.B);   // (B, N + 1, C)
    x = runLayers(this.ctx, this.layers, x);
    // HF normalises every position, then reads [CLS]; LayerNorm is per position, so read first.
    const cls = this.layernorm.forward(selectSeq(this.rt, x, 0));               // (B, C)
    const logits = this.classifier.forward(cls);                                // (B, numClasses)
    const loss = targets ? crossEntropy(this.rt, logits, targets, { smoothing: opts.smoothing ?? 0 }) : undefined;
    return { logits, loss };
  }

  /**
   * The most likely class of each image (no gradients; the step arena is left as it was).
   * @example
   * ```ts
   * const classes = vit.predict(images);   // Int32Array (B)
   * ```
   */
  predict(images: ImageBatch): Int32Array {
    const K = this.config.numClasses;
    return this.rt.step.scope(() => this.rt.tape.noGrad(() => {
      const logits = this.forward(images).logits.f32();   // (B, K)
      return Int32Array.from({ length: logits.length / K }, (_, b) => argmax(logits.subarray(b * K, (b + 1) * K)));
    }));
  }

  /** The encoder layers' self-attentions, 'encoder.layer.0' …, each keeping (B, NH, N+1, N+1). */
  protected attentionModules(): { name: string; attn: KeepsAttention }[] {
    return this.layers.map((l, i) => ({ name: `encoder.layer.${i}`, attn: l.selfAttn }));
  }

  /** As every model's, with the positions labelled 'CLS', 'p0', 'p1', … (patches in row-major order). */
  override keptAttention(): KeptAttention[] {
    const labels = ['CLS', ...Array.from({ length: this.numPatches }, (_, i) => `p${i}`)];
    return super.keptAttention().map((a) => ({ ...a, queryLabels: labels, keyLabels: labels }));
  }

  /** [CLS | patch projections] + position embeddings, then dropout: patches (B, N, C·P·P) → (B, N + 1, C). */
  #embed(patches: Tensor, B: number): Tensor {
    const rt = this.rt;
    const N = this.numPatches;
    const x = concatSeq(rt, [this.clsToken.value, this.patchEmbeddings.forward(patches)]);   // (B, N + 1, C)
    // position embeddings broadcast over B: a lookup of ids 0 … N per image, whose backward sums over B
    const ids = positionIds(rt, B, N + 1);
    const table = (this.#positions ??= parameterView(this.positionEmbeddings, [N + 1, this.config.dModel]));
    const pos = embedding(rt, ids, table);                                                   // (B, N + 1, C)
    return dropout(rt, residual(rt, x, pos), this.config.dropout, this.ctx.rng, this.ctx.training);
  }

  /** Image sizes from a Tensor's shape or a Float32Array's length, checked against the config. */
  #checkImages(images: ImageBatch): { B: number; C: number; H: number; W: number } {
    const { imageSize: S, channels: C, patchSize: P } = this.config;
    if (images instanceof Tensor) {
      if (images.dtype !== 'f32') throw new DTypeError(`ViT: images are ${images.describe()}, expected dtype f32`);
      if (images.shape.length !== 4) throw new ShapeError(`ViT: images have shape [${images.shape.join(', ')}], expected (B, C, H, W)`);
      const [B, c, H, W] = images.shape as [number, number, number, number];
      for (const [side, v] of [['height', H], ['width', W]] as const) {
        if (v % P !== 0) throw new ShapeError(`ViT: image ${side} ${v} is not a multiple of the patch size ${P}`);
      }
      if (H !== S || W !== S) throw new ShapeError(`ViT: images are ${H}×${W}, this model takes ${S}×${S} (its position embeddings are for ${this.numPatches} patches)`);
      if (c !== C) throw new ShapeError(`ViT: images have ${c} channels, expected ${C}`);
      return { B, C, H, W };
    }
    if (!(images instanceof Float32Array)) throw new DTypeError('ViT: images must be a Tensor (B, C, H, W) or a Float32Array');
    const per = C * S * S;
    if (images.length === 0 || images.length % per !== 0) {
      throw new ShapeError(`ViT: a Float32Array of ${images.length} pixels is not a whole number of ${C}×${S}×${S} images (${per} pixels each)`);
    }
    return { B: images.length / per, C, H: S, W: S };
  }

  /** Labels as an i32 step tensor (B), each checked to be a class id. */
  #labels(labels: Tensor | ArrayLike<number>, B: number): Tensor {
    const K = this.config.numClasses;
    if (labels instanceof Tensor && labels.dtype !== 'i32') throw new DTypeError(`ViT: labels are ${labels.describe()}, expected dtype i32`);
    const n = labels instanceof Tensor ? labels.size : labels.length;
    if (n !== B) throw new ShapeError(`ViT: ${n} labels for ${B} images`);
    const values = labels instanceof Tensor ? labels.i32() : labels;
    for (let i = 0; i < B; i++) {
      const y = values[i]!;
      if (!Number.isInteger(y) || y < 0 || y >= K) throw new ValueError(`ViT: label ${y} of image ${i} is outside [0, ${K}) (numClasses = ${K})`);
    }
    return labels instanceof Tensor ? labels : this.rt.tensor(values, [B], { dtype: 'i32', arena: 'step' });
  }
}
