// T5 (Raffel et al. 2020, v1.0; v1.1 and Flan-T5 with feedForward 'gated-gelu' and an untied head):
// an encoder–decoder with pre-norm RMSNorm (T5's scale-only
// LayerNorm), no biases anywhere, a ReLU feed-forward, no position embeddings but a learned
// relative position bias in self-attention (bucketed key − query distances; one table per stack,
// owned by its first block), unscaled attention scores (the query's init absorbs 1/√d_kv), one
// shared token embedding and an output projection tied to it, the decoder output then scaled by
// d_model^−½. Parameters under Hugging Face's T5 names (`encoder.block.N.layer.0.SelfAttention.q.weight` …).
// Heads need not split d_model: d_kv · n_heads may differ (t5-3b/11b, t5-v1_1-small, flan-t5-small).
import { DTypeError, ShapeError, ValueError, preview } from '../errors.js';
import type { Runtime } from '../runtime.js';
import type { Tensor } from '../tensor.js';
import { crossEntropy } from '../fn/crossentropy.js';
import { dropout } from '../fn/dropout.js';
import { checkIds, embedding } from '../fn/embedding.js';
import { linear } from '../fn/linear.js';
import { scaled } from '../fn/scale.js';
import { copy } from '../ops/elementwise.js';
import type { LayerCache } from '../nn/attention.js';
import { RMSNorm } from '../nn/layers.js';
import { TransformerLayer, T5_DECODER_NAMES, T5_ENCODER_NAMES, type LayerConfig } from '../nn/layer.js';
import type { Parameter } from '../nn/parameters.js';
import { RelativeBias } from '../nn/relative-bias.js';
import { runLayers } from '../nn/stack.js';
import type { ModelOptions } from './model.js';
import { EncoderDecoder, type DecodingIds, type EncodedSource } from './encoder-decoder.js';

/** The shape of a T5. Defaults are t5-small's. */
export interface T5Config {
  vocabSize: number;
  /** Encoder blocks. */
  nLayer: number;
  /** Decoder blocks (default nLayer). */
  nDecoderLayer: number;
  nHead: number;
  dModel: number;
  /** d_kv: the width of each attention head (default dModel / nHead); nHead·dKv need not be dModel (t5-v1_1-small, flan-t5-small: 6 × 64 of 512). */
  dKv: number;
  dFF: number;
  /**
   * feed_forward_proj: 'relu' (T5 v1.0), 'gelu' (erf GELU, as transformers' 'gelu'), or
   * 'gated-gelu' (T5 v1.1, Flan-T5: wo(gelu(wi_0·x) ⊙ wi_1·x), the tanh GELU, as transformers' gelu_new).
   */
  feedForward: 'relu' | 'gelu' | 'gated-gelu';
  dropout: number;
  /** relative_attention_num_buckets: buckets of key − query distance (even, ≥ 4; half per side in the encoder). */
  relBuckets: number;
  /** relative_attention_max_distance: distances from here on share the last bucket. */
  relMaxDistance: number;
  layerNormEps: number;
  /** Padding id: masked in the source, ignored by the loss. */
  padId: number;
  /** Ends a target sequence. */
  eosId: number;
  /** First decoder input (T5: the padding id). */
  decoderStartId: number;
  /** Output projection = the shared embedding, the decoder output scaled by d_model^−½ first (T5 v1.0). */
  tieWordEmbeddings: boolean;
}

/** t5-small (60M parameters). */
export const T5_SMALL: T5Config = {
  vocabSize: 32128, nLayer: 6, nDecoderLayer: 6, nHead: 8, dModel: 512, dKv: 64, dFF: 2048, feedForward: 'relu', dropout: 0.1,
  relBuckets: 32, relMaxDistance: 128, layerNormEps: 1e-6, padId: 0, eosId: 1, decoderStartId: 0, tieWordEmbeddings: true,
};

/**
 * A full config from a partial one (T5_SMALL defaults; nDecoderLayer = nLayer), checked: a bad
 * field is a ValueError (ShapeError for dModel / nHead) naming it and its value.
 * @example
 * ```ts
 * const cfg = t5Config({ vocabSize: 13, dModel: 64, nHead: 4, nLayer: 2, dFF: 256 });
 * cfg.relBuckets; // 32
 * ```
 */
export function t5Config(partial: Partial<T5Config> = {}): T5Config {
  const cfg: T5Config = { ...T5_SMALL, nDecoderLayer: partial.nLayer ?? T5_SMALL.nLayer, ...partial };
  const pre = 'T5 config';
  for (const key of ['vocabSize', 'nLayer', 'nDecoderLayer', 'nHead', 'dModel', 'dFF'] as const) {
    if (!Number.isInteger(cfg[key]) || cfg[key] < 1) throw new ValueError(`${pre}: ${key} is ${preview(cfg[key])}, expected an integer ≥ 1`);
  }
  if (partial.dKv === undefined) {
    if (cfg.dModel % cfg.nHead !== 0) throw new ShapeError(`${pre}: dModel = ${cfg.dModel} is not divisible by nHead = ${cfg.nHead}; give dKv (the head width) for heads that do not split dModel`);
    cfg.dKv = cfg.dModel / cfg.nHead;
  } else if (!Number.isInteger(cfg.dKv) || cfg.dKv < 1) {
    throw new ValueError(`${pre}: dKv is ${preview(cfg.dKv)}, expected an integer ≥ 1`);
  }
  if (cfg.feedForward !== 'relu' && cfg.feedForward !== 'gelu' && cfg.feedForward !== 'gated-gelu') {
    throw new ValueError(`${pre}: feedForward is ${preview(cfg.feedForward)}, expected 'relu', 'gelu' or 'gated-gelu'`);
  }
  if (!(cfg.dropout >= 0 && cfg.dropout < 1)) throw new ValueError(`${pre}: dropout is ${preview(cfg.dropout)}, expected 0 ≤ p < 1`);
  if (!Number.isInteger(cfg.relBuckets) || cfg.relBuckets < 4 || cfg.relBuckets % 2 !== 0) {
    throw new ValueError(`${pre}: relBuckets is ${preview(cfg.relBuckets)}, expected an even integer ≥ 4 (half per direction in the encoder)`);
  }
  if (!Number.isInteger(cfg.relMaxDistance) || cfg.relMaxDistance <= cfg.relBuckets / 2) {
    throw new ValueError(`${pre}: relMaxDistance is ${preview(cfg.relMaxDistance)}, expected an integer > relBuckets / 2 = ${cfg.relBuckets / 2} (beyond the exact buckets)`);
  }
  if (!(cfg.layerNormEps > 0)) throw new ValueError(`${pre}: layerNormEps is ${preview(cfg.layerNormEps)}, expected > 0`);
  for (const key of ['padId', 'eosId', 'decoderStartId'] as const) {
    const v = cfg[key];
    if (!Number.isInteger(v) || v < 0 || v >= cfg.vocabSize) throw new ValueError(`${pre}: ${key} is ${preview(v)}, expected an id in [0, ${cfg.vocabSize})`);
  }
  if (typeof cfg.tieWordEmbeddings !== 'boolean') throw new ValueError(`${pre}: tieWordEmbeddings is ${preview(cfg.tieWordEmbeddings)}, expected true or false`);
  return cfg;
}

/** What `T5.forward` returns. */
export interface T5Output {
  /** (B, T, V) */
  logits: Tensor;
  /** (1) mean cross-entropy over target positions whose label is not padId, when labels were given. */
  loss?: Tensor;
}

/** Longest target decoding produces by default and at most (T5's n_positions). */
export const T5_MAX_DECODE_LENGTH = 512;

/**
 * T5, trained by teacher forcing and decoded greedily over a KV cache.
 * @example
 * ```ts
 * const model = new T5(rt, { vocabSize: 13, dModel: 64, nHead: 4, nLayer: 2, dFF: 256, dropout: 0 });
 * const { loss } = model.forward(src, tgtIn, tgtOut);      // src (B, S), tgtIn/tgtOut (B, T) i32
 * const out = greedyDecode(model, [[5, 6, 7]], { maxLength: 8 }); // e.g. [[7, 6, 5]]
 * ```
 */
export class T5 extends EncoderDecoder {
  readonly family = 't5' as const;
  readonly config: T5Config;
  /** `shared.weight` (V, C): the token embedding of both stacks (and the tied output projection). */
  readonly shared: Parameter;
  /** Each stack's relative position bias, `<stack>.block.0.layer.0.SelfAttention.relative_attention_bias.weight` (buckets, NH). */
  readonly encoderBias: RelativeBias;
  readonly decoderBias: RelativeBias;
  readonly encoderNorm: RMSNorm;
  readonly decoderNorm: RMSNorm;
  readonly lmHead: Parameter | null;

  constructor(rt: Runtime, config: Partial<T5Config>, opts: ModelOptions = {}) {
    const seed = opts.seed ?? 1337;
    super(rt, seed, opts);
    const cfg = (this.config = t5Config(config));
    const ps = this.params, C = cfg.dModel, hs = cfg.dKv;
    // Hugging Face's T5 init (factor 1): embedding N(0, 1); q N(0, (C·d_kv)^−½) — it stands in for
    // the score scale 1/√d_kv T5 leaves out; k, v, wi and the bias N(0, C^−½); o N(0, (NH·d_kv)^−½);
    // wo N(0, d_ff^−½)
    this.shared = ps.declare('shared.weight', [cfg.vocabSize, C], { normal: 1 }, false, 0);   // a token table: rows as output channels (of the tied head), held per row
    const layerCfg: LayerConfig = {
      dModel: C, nHead: cfg.nHead, dFF: cfg.dFF, bias: false, dropout: cfg.dropout, activation: cfg.feedForward === 'gelu' ? 'gelu_erf' : 'relu', norm: 'pre', normType: 'rms',
      ffn: cfg.feedForward === 'gated-gelu' ? 'geglu' : 'mlp',
      layerNormEps: cfg.layerNormEps, scale: 1, std: C ** -0.5, qStd: (C * hs) ** -0.5, projStd: (cfg.nHead * hs) ** -0.5, ffnProjStd: cfg.dFF ** -0.5,
      headSize: hs,
    };
    const bias = (stack: string, bidirectional: boolean) => new RelativeBias(this.ctx, ps, `${stack}.block.0.layer.0.SelfAttention.relative_attention_bias`,
      cfg.nHead, { buckets: cfg.relBuckets, maxDistance: cfg.relMaxDistance, bidirectional }, C ** -0.5);
    this.encoderBias = bias('encoder', true);
    for (let i = 0; i < cfg.nLayer; i++) {
      this.encoder.push(new TransformerLayer(this.ctx, ps, `encoder.block.${i}`, { ...layerCfg, relativeBias: this.encoderBias }, T5_ENCODER_NAMES));
    }
    this.encoderNorm = new RMSNorm(this.ctx, ps, 'encoder.final_layer_norm', C, { eps: cfg.layerNormEps });
    this.decoderBias = bias('decoder', false);
    for (let i = 0; i < cfg.nDecoderLayer; i++) {
      this.decoder.push(new TransformerLayer(this.ctx, ps, `decoder.block.${i}`, { ...layerCfg, causal: true, relativeBias: this.decoderBias }, T5_DECODER_NAMES));
    }
    this.decoderNorm = new RMSNorm(this.ctx, ps, 'decoder.final_layer_norm', C, { eps: cfg.layerNormEps });
    this.lmHead = cfg.tieWordEmbeddings ? null : ps.declare('lm_head.weight', [cfg.vocabSize, C], { normal: 1 }, true, 0);
    opts.validate?.(ps);
    ps.allocate(rt, seed, { init: opts.init });
  }

  /**
   * Teacher forcing: src i32 (B, S), tgtIn i32 (B, T) (decoderStartId + target), optional tgtOut
   * i32 (B, T) (target + EOS, padId where padded) → logits (B, T, V) and the mean cross-entropy
   * over non-padding labels. The source mask comes from padId unless given; the decoder's
   * self-attention is causal only (right padding is never seen by a real position).
   */
  forward(src: Tensor, tgtIn: Tensor, tgtOut?: Tensor, opts: { srcMask?: Tensor } = {}): T5Output {
    const [B] = this.#checkIds(src, 'src');
    const [Bt, T] = this.#checkIds(tgtIn, 'tgtIn');
    if (Bt !== B) throw new ShapeError(`T5: source batch has ${B} sequences but target batch ${Bt}`);
    if (tgtOut) {
      if (tgtOut.dtype !== 'i32') throw new DTypeError(`T5: tgtOut is ${tgtOut.describe()}, expected dtype i32`);
      if (tgtOut.shape.length !== 2 || tgtOut.shape[0] !== B || tgtOut.shape[1] !== T) {
        throw new ShapeError(`T5: tgtOut has shape [${tgtOut.shape.join(', ')}], tgtIn has [${B}, ${T}]`);
      }
    }
    const srcMask = opts.srcMask ?? this.paddingMask(src);
    const memory = this.#encode(src, srcMask);                          // (B, S, C)
    let y = this.#embed(tgtIn);                                         // (B, T, C)
    y = runLayers(this.ctx, this.decoder, y, { memory, memoryMask: srcMask });
    const logits = this.#head(y);                                       // (B, T, V)
    const loss = tgtOut ? crossEntropy(this.rt, logits, tgtOut, { ignoreIndex: this.config.padId }) : undefined;
    return { logits, loss };
  }

  /** The encoder: src i32 (B, S) → (B, S, C) after the final norm. srcMask i32 (B, S) defaults to src ≠ padId. */
  encode(src: Tensor, srcMask?: Tensor): Tensor {
    this.#checkIds(src, 'src');
    return this.#encode(src, srcMask ?? this.paddingMask(src));
  }

  #encode(src: Tensor, mask: Tensor): Tensor {
    let x = this.#embed(src);                                           // (B, S, C)
    x = runLayers(this.ctx, this.encoder, x, { selfMask: mask });
    return this.#drop(this.encoderNorm.forward(x));
  }

  /**
   * Encodes sources for decoding (no gradients): every decoder block's cross-attention K|V and
   * the source mask, in the step arena's current scope. src i32 (B, S).
   * @example
   * ```ts
   * rt.step.scope(() => { const source = model.encodeForDecoding(src); … model.decodeStep(ids, caches, pos, source) … });
   * ```
   */
  encodeForDecoding(src: Tensor): EncodedSource {
    const rt = this.rt;
    const [B, S] = this.#checkIds(src, 'src');
    const mask = this.paddingMask(src);
    const lengths = Array.from({ length: B }, (_, b) => mask.i32().subarray(b * S, (b + 1) * S).reduce((a, v) => a + v, 0));
    const memoryKV = this.decoder.map(() => rt.empty([B, S, 2 * this.config.nHead * this.config.dKv], { arena: 'step' }));
    rt.step.scope(() => rt.tape.noGrad(() => {
      const memory = this.#encode(src, mask);                           // (B, S, C), freed with this scope
      this.decoder.forEach((layer, i) => copy(rt, layer.crossAttn!.memoryKV(memory), { out: memoryKV[i]! }));
    }));
    return { memoryKV, mask, lengths };
  }

  /**
   * One decoding step (no gradients): ids i32 (B, Tn) at target positions pos … pos+Tn−1, self-
   * attention over `caches` (the relative bias of query position pos + r and key j is the
   * bucket of j − pos − r), cross-attention over `source` → logits (B, Tn, V).
   */
  decodeStep(ids: Tensor, caches: LayerCache[], pos: number, source: { memoryKV: Tensor[]; mask: Tensor }): Tensor {
    this.#checkIds(ids, 'ids');
    if (caches.length !== this.decoder.length) throw new ShapeError(`T5.decodeStep: ${caches.length} caches for ${this.decoder.length} decoder blocks`);
    return this.rt.tape.noGrad(() => {
      let y = this.#embed(ids);
      y = runLayers(this.ctx, this.decoder, y, (i) => ({ cache: caches[i]!, pos, memoryKV: source.memoryKV[i]!, memoryMask: source.mask }));
      return this.#head(y);
    });
  }

  /** Decoder self-attention caches for `batch` rows of `length` target positions. */
  createCache(batch: number, length: number, arena: 'persistent' | 'step' = 'persistent'): LayerCache[] {
    if (!Number.isInteger(batch) || batch < 1 || !Number.isInteger(length) || length < 1) {
      throw new ValueError(`T5.createCache: batch ${preview(batch)} and length ${preview(length)} must be integers ≥ 1`);
    }
    const shape = [batch, length, this.config.nHead * this.config.dKv];   // all heads' keys (values) per position
    return this.decoder.map(() => ({ k: this.rt.empty(shape, { arena }), v: this.rt.empty(shape, { arena }) }));
  }

  /**
   * What decoding reads (greedyDecode, beamSearch): pad, the decoder's first input (decoderStartId:
   * pad, as in T5), EOS, the vocabulary, and T5_MAX_DECODE_LENGTH (T5 has no position table; its
   * buckets reach any length, this is only the default and the most a call may ask for).
   */
  get decoding(): DecodingIds {
    const c = this.config;
    return { padId: c.padId, startId: c.decoderStartId, eosId: c.eosId, vocabSize: c.vocabSize, maxLength: T5_MAX_DECODE_LENGTH, dModel: c.dModel };
  }

  #checkIds(ids: Tensor, what: string): [number, number] {
    if (ids.dtype !== 'i32') throw new DTypeError(`T5: ${what} is ${ids.describe()}, expected dtype i32 token ids`);
    if (ids.shape.length !== 2) throw new ShapeError(`T5: ${what} has shape [${ids.shape.join(', ')}], expected (B, T)`);
    const [B, T] = ids.shape as [number, number];
    if (B < 1 || T < 1) throw new ShapeError(`T5: ${what} is empty (shape [${B}, ${T}])`);
    checkIds('T5', ids.i32(), this.config.vocabSize, `${what} id`, T);
    return [B, T];
  }

  /** The shared embedding, then dropout (T5 adds no positions: they live in the attention bias). */
  #embed(ids: Tensor): Tensor {
    return this.#drop(embedding(this.rt, ids, this.shared.value));       // (B, T, C)
  }

  #drop(x: Tensor): Tensor {
    return dropout(this.rt, x, this.config.dropout, this.ctx.rng, this.ctx.training);
  }

  /** Final RMSNorm, dropout, and the output projection: tied (scaled by d_model^−½ first) or lm_head. */
  #head(y: Tensor): Tensor {
    y = this.#drop(this.decoderNorm.forward(y));
    if (!this.lmHead) y = scaled(this.rt, y, this.config.dModel ** -0.5);
    return linear(this.rt, y, (this.lmHead ?? this.shared).value, null, 'out,in'); // (B, T, V)
  }
}
