// The encoder–decoder transformer of "Attention Is All You Need": an encoder stack of
// bidirectional self-attention over the source, a decoder stack of masked self-attention and
// cross-attention to the encoder output, sinusoidal positions, embeddings scaled by √d_model,
// optionally one embedding shared by source, target and output projection (three-way tying);
// padding masks on both sides. Parameter names follow Hugging Face's Marian/BART
// (model.encoder.layers.N.self_attn.q_proj …), the closest published layout of the original.
import { DTypeError, ShapeError, ValueError, preview } from '../errors.js';
import type { Runtime } from '../runtime.js';
import type { Tensor } from '../tensor.js';
import { checkActivation, type Activation } from '../fn/activation.js';
import { crossEntropy } from '../fn/crossentropy.js';
import { dropout } from '../fn/dropout.js';
import { checkIds, embedding } from '../fn/embedding.js';
import { copy } from '../ops/elementwise.js';
import { linear } from '../fn/linear.js';
import { residual } from '../fn/residual.js';
import { scaled } from '../fn/scale.js';
import type { LayerCache } from '../nn/attention.js';
import type { NormPlacement } from '../nn/layer.js';
import { runLayers } from '../nn/stack.js';
import { LayerNorm } from '../nn/layers.js';
import { TransformerLayer, SEQ2SEQ_DECODER_NAMES, SEQ2SEQ_ENCODER_NAMES } from '../nn/layer.js';
import type { Parameter } from '../nn/parameters.js';
import type { ModelOptions } from './model.js';
import { EncoderDecoder, type DecodingIds, type EncodedSource } from './encoder-decoder.js';

export type { EncodedSource } from './encoder-decoder.js';
import { positionIds, sinusoidalTable, type SinusoidLayout } from '../nn/positions.js';

/** The shape of an encoder–decoder. Defaults are the paper's base model. */
export interface Seq2SeqConfig {
  srcVocabSize: number;
  tgtVocabSize: number;
  /** Longest source or target sequence (rows of the sinusoid table). */
  maxPositions: number;
  /** Column order of the sinusoid table: 'interleaved' (the paper) or 'halves' ([sin | cos], Hugging Face's Marian). */
  sinusoid: SinusoidLayout;
  /** Encoder layers. */
  nLayer: number;
  /** Decoder layers (default nLayer). */
  nDecoderLayer: number;
  nHead: number;
  dModel: number;
  dFF: number;
  dropout: number;
  /** 'post' (the paper) or 'pre' (adds a final LayerNorm to each stack). */
  norm: NormPlacement;
  activation: Activation;
  layerNormEps: number;
  /** One embedding for source, target and output projection (needs srcVocabSize = tgtVocabSize). */
  shareEmbeddings: boolean;
  /** Output projection tied to the target embedding (the paper). */
  tieOutput: boolean;
  /** Multiply embeddings by √dModel (the paper). */
  scaleEmbedding: boolean;
  /** Padding id in source and target: masked in attention, ignored by the loss. */
  padId: number;
  /** First decoder input. */
  bosId: number;
  /** Ends a target sequence. */
  eosId: number;
}

/** The paper's base model with a 37,000-token shared vocabulary. */
export const TRANSFORMER_BASE: Seq2SeqConfig = {
  srcVocabSize: 37000, tgtVocabSize: 37000, maxPositions: 512, sinusoid: 'interleaved', nLayer: 6, nDecoderLayer: 6, nHead: 8, dModel: 512, dFF: 2048,
  dropout: 0.1, norm: 'post', activation: 'relu', layerNormEps: 1e-5, shareEmbeddings: true, tieOutput: true, scaleEmbedding: true,
  padId: 0, bosId: 1, eosId: 2,
};

/**
 * A full config from a partial one (TRANSFORMER_BASE defaults; dFF 4·dModel, nDecoderLayer = nLayer), checked.
 * @example
 * ```ts
 * const cfg = seq2seqConfig({ srcVocabSize: 13, tgtVocabSize: 13, dModel: 64, nHead: 4, nLayer: 2, maxPositions: 32 });
 * cfg.dFF; // 256
 * ```
 */
export function seq2seqConfig(partial: Partial<Seq2SeqConfig> = {}): Seq2SeqConfig {
  const dModel = partial.dModel ?? TRANSFORMER_BASE.dModel;
  const nLayer = partial.nLayer ?? TRANSFORMER_BASE.nLayer;
  const cfg: Seq2SeqConfig = { ...TRANSFORMER_BASE, dFF: 4 * dModel, nDecoderLayer: nLayer, ...partial };
  const pre = 'Seq2Seq config';
  for (const key of ['srcVocabSize', 'tgtVocabSize', 'maxPositions', 'nLayer', 'nDecoderLayer', 'nHead', 'dModel', 'dFF'] as const) {
    if (!Number.isInteger(cfg[key]) || cfg[key] < 1) throw new ValueError(`${pre}: ${key} is ${cfg[key]}, expected an integer ≥ 1`);
  }
  if (cfg.dModel % cfg.nHead !== 0) throw new ShapeError(`${pre}: dModel = ${cfg.dModel} is not divisible by nHead = ${cfg.nHead}`);
  if (cfg.dModel % 2 !== 0) throw new ShapeError(`${pre}: dModel = ${cfg.dModel} must be even for sinusoidal positions`);
  if (!(cfg.dropout >= 0 && cfg.dropout < 1)) throw new ValueError(`${pre}: dropout is ${cfg.dropout}, expected 0 ≤ p < 1`);
  if (cfg.shareEmbeddings && cfg.srcVocabSize !== cfg.tgtVocabSize) {
    throw new ValueError(`${pre}: shareEmbeddings needs equal vocabularies, got srcVocabSize ${cfg.srcVocabSize} and tgtVocabSize ${cfg.tgtVocabSize}`);
  }
  for (const key of ['padId', 'bosId', 'eosId'] as const) {
    const v = cfg[key];
    if (!Number.isInteger(v) || v < 0 || v >= cfg.tgtVocabSize) throw new ValueError(`${pre}: ${key} is ${v}, expected an id in [0, ${cfg.tgtVocabSize})`);
  }
  if (cfg.padId >= cfg.srcVocabSize) throw new ValueError(`${pre}: padId ${cfg.padId} is outside the source vocabulary [0, ${cfg.srcVocabSize})`);
  if (cfg.norm !== 'pre' && cfg.norm !== 'post') throw new ValueError(`${pre}: norm is ${String(cfg.norm)}, expected 'pre' or 'post'`);
  checkActivation(pre, cfg.activation, ['relu', 'gelu', 'gelu_erf']);
  if (cfg.sinusoid !== 'interleaved' && cfg.sinusoid !== 'halves') throw new ValueError(`${pre}: sinusoid is ${preview(cfg.sinusoid)}, expected 'interleaved' or 'halves'`);
  if (!(cfg.layerNormEps > 0)) throw new ValueError(`${pre}: layerNormEps is ${cfg.layerNormEps}, expected > 0`);
  return cfg;
}

/** What `Seq2Seq.forward` returns. */
export interface Seq2SeqOutput {
  /** (B, T, V_tgt) */
  logits: Tensor;
  /** (1) mean label-smoothed cross-entropy over non-padding target tokens, when targets were given. */
  loss?: Tensor;
}

/**
 * The original Transformer.
 * @example
 * ```ts
 * const model = new Seq2Seq(rt, { srcVocabSize: 13, tgtVocabSize: 13, dModel: 64, nHead: 4, nLayer: 2, maxPositions: 32, dropout: 0 });
 * const { loss } = model.forward(src, tgtIn, tgtOut, { smoothing: 0.1 }); // src (B, S), tgtIn/tgtOut (B, T) i32
 * ```
 */
export class Seq2Seq extends EncoderDecoder {
  readonly family = 'seq2seq' as const;
  readonly config: Seq2SeqConfig;
  readonly srcEmbed: Parameter;
  readonly tgtEmbed: Parameter;
  readonly encoderNorm: LayerNorm | null;
  readonly decoderNorm: LayerNorm | null;
  readonly lmHead: Parameter | null;
  readonly #positions: Tensor;

  constructor(rt: Runtime, config: Partial<Seq2SeqConfig>, opts: ModelOptions = {}) {
    const seed = opts.seed ?? 1337;
    super(rt, seed, opts);
    const cfg = (this.config = seq2seqConfig(config));
    const ps = this.params;
    // Embedding init N(0, d^-1/2): after the √d scale the inputs have unit variance, like the positions.
    const embStd = { normal: 1 / Math.sqrt(cfg.dModel) };
    const rows = 0;    // token tables: rows are output channels (of the tied projection; held quantized per row)
    if (cfg.shareEmbeddings) {
      this.srcEmbed = this.tgtEmbed = ps.declare('model.shared.weight', [cfg.srcVocabSize, cfg.dModel], embStd, false, rows);
    } else {
      this.srcEmbed = ps.declare('model.encoder.embed_tokens.weight', [cfg.srcVocabSize, cfg.dModel], embStd, false, rows);
      this.tgtEmbed = ps.declare('model.decoder.embed_tokens.weight', [cfg.tgtVocabSize, cfg.dModel], embStd, false, rows);
    }
    const layerCfg = { ...cfg, std: 0.02, bias: true };
    for (let i = 0; i < cfg.nLayer; i++) {
      this.encoder.push(new TransformerLayer(this.ctx, ps, `model.encoder.layers.${i}`, layerCfg, SEQ2SEQ_ENCODER_NAMES));
    }
    for (let i = 0; i < cfg.nDecoderLayer; i++) {
      this.decoder.push(new TransformerLayer(this.ctx, ps, `model.decoder.layers.${i}`, { ...layerCfg, causal: true }, SEQ2SEQ_DECODER_NAMES));
    }
    const ln = { eps: cfg.layerNormEps };
    this.encoderNorm = cfg.norm === 'pre' ? new LayerNorm(this.ctx, ps, 'model.encoder.layer_norm', cfg.dModel, ln) : null;
    this.decoderNorm = cfg.norm === 'pre' ? new LayerNorm(this.ctx, ps, 'model.decoder.layer_norm', cfg.dModel, ln) : null;
    this.lmHead = cfg.tieOutput ? null : ps.declare('lm_head.weight', [cfg.tgtVocabSize, cfg.dModel], { normal: 0.02 }, true, 0);
    opts.validate?.(ps);
    ps.allocate(rt, seed, { init: opts.init });
    this.#positions = this.own(rt.tensor(sinusoidalTable(cfg.maxPositions, cfg.dModel, cfg.sinusoid), [cfg.maxPositions, cfg.dModel]));
  }

  /**
   * Teacher forcing: src i32 (B, S), tgtIn i32 (B, T) (BOS + target), optional tgtOut i32 (B, T)
   * (target + EOS, padId where padded) → logits (B, T, V) and the mean label-smoothed
   * cross-entropy over non-padding target positions. Masks come from padId unless given.
   */
  forward(src: Tensor, tgtIn: Tensor, tgtOut?: Tensor,
    opts: { srcMask?: Tensor; tgtMask?: Tensor; smoothing?: number } = {}): Seq2SeqOutput {
    const [B] = this.#checkIds(src, 'src', this.config.srcVocabSize);
    const [Bt, T] = this.#checkIds(tgtIn, 'tgtIn', this.config.tgtVocabSize);
    if (Bt !== B) throw new ShapeError(`Seq2Seq: source batch has ${B} sequences but target batch ${Bt}`);
    if (tgtOut) {
      if (tgtOut.dtype !== 'i32') throw new DTypeError(`Seq2Seq: tgtOut is ${tgtOut.describe()}, expected dtype i32`);
      if (tgtOut.shape.length !== 2 || tgtOut.shape[0] !== B || tgtOut.shape[1] !== T) {
        throw new ShapeError(`Seq2Seq: tgtOut has shape [${tgtOut.shape.join(', ')}], tgtIn has [${B}, ${T}]`);
      }
    }
    const srcMask = opts.srcMask ?? this.paddingMask(src);
    const tgtMask = opts.tgtMask ?? this.paddingMask(tgtIn);
    const memory = this.#encode(src, srcMask);                          // (B, S, C)
    let y = this.#embed(tgtIn, this.tgtEmbed, 0);                       // (B, T, C)
    y = runLayers(this.ctx, this.decoder, y, { selfMask: tgtMask, memory, memoryMask: srcMask });
    const logits = this.#head(y);                                       // (B, T, V)
    const loss = tgtOut ? crossEntropy(this.rt, logits, tgtOut, { ignoreIndex: this.config.padId, smoothing: opts.smoothing ?? 0 }) : undefined;
    return { logits, loss };
  }

  /** The encoder: src i32 (B, S) → memory (B, S, C). srcMask i32 (B, S) defaults to src ≠ padId. */
  encode(src: Tensor, srcMask?: Tensor): Tensor {
    this.#checkIds(src, 'src', this.config.srcVocabSize);
    return this.#encode(src, srcMask ?? this.paddingMask(src));
  }

  /** `encode` for a source already checked. */
  #encode(src: Tensor, mask: Tensor): Tensor {
    let x = this.#embed(src, this.srcEmbed, 0);                         // (B, S, C)
    x = runLayers(this.ctx, this.encoder, x, { selfMask: mask });
    return this.encoderNorm ? this.encoderNorm.forward(x) : x;
  }

  /**
   * Encodes sources for decoding (no gradients): the cross-attention K|V of every decoder layer
   * and the source mask, in the step arena's current scope (open one around a whole decode; the
   * encoder's activations are freed before this returns). src i32 (B, S).
   * @example
   * ```ts
   * rt.step.scope(() => { const source = model.encodeForDecoding(src); … model.decodeStep(ids, caches, pos, source) … });
   * ```
   */
  encodeForDecoding(src: Tensor): EncodedSource {
    const rt = this.rt;
    const [B, S] = this.#checkIds(src, 'src', this.config.srcVocabSize);
    const mask = this.paddingMask(src);
    const lengths = Array.from({ length: B }, (_, b) => mask.i32().subarray(b * S, (b + 1) * S).reduce((a, v) => a + v, 0));
    const memoryKV = this.decoder.map(() => rt.empty([B, S, 2 * this.config.dModel], { arena: 'step' }));
    rt.step.scope(() => rt.tape.noGrad(() => {
      const memory = this.#encode(src, mask);                           // (B, S, C), freed with this scope
      this.decoder.forEach((layer, i) => {
        const kv = layer.crossAttn!.memoryKV(memory);                   // (B, S, 2C)
        copy(rt, kv, { out: memoryKV[i]! });
      });
    }));
    return { memoryKV, mask, lengths };
  }

  /**
   * One decoding step (no gradients): ids i32 (B, Tn) at positions pos … pos+Tn−1 of every
   * sequence, self-attention over `caches`, cross-attention over `source` (whose batch is B,
   * or 1 shared by all rows) → logits (B, Tn, V).
   */
  decodeStep(ids: Tensor, caches: LayerCache[], pos: number, source: { memoryKV: Tensor[]; mask: Tensor }): Tensor {
    const [, Tn] = this.#checkIds(ids, 'ids', this.config.tgtVocabSize);
    if (pos + Tn > this.config.maxPositions) {
      throw new ShapeError(`Seq2Seq.decodeStep: positions ${pos}…${pos + Tn - 1} exceed maxPositions ${this.config.maxPositions}`);
    }
    return this.rt.tape.noGrad(() => {
      let y = this.#embed(ids, this.tgtEmbed, pos);
      y = runLayers(this.ctx, this.decoder, y, (i) => ({ cache: caches[i]!, pos, memoryKV: source.memoryKV[i]!, memoryMask: source.mask }));
      return this.#head(y);
    });
  }

  /** What decoding reads: pad, BOS (the decoder's first input), EOS, the target vocabulary, maxPositions. */
  get decoding(): DecodingIds {
    const c = this.config;
    return { padId: c.padId, startId: c.bosId, eosId: c.eosId, vocabSize: c.tgtVocabSize, maxLength: c.maxPositions, dModel: c.dModel };
  }

  /** Decoder self-attention caches for `batch` rows of up to `length` target positions. */
  createCache(batch: number, length = this.config.maxPositions, arena: 'persistent' | 'step' = 'persistent'): LayerCache[] {
    const shape = [batch, Math.min(length, this.config.maxPositions), this.config.dModel];
    return this.decoder.map(() => ({ k: this.rt.empty(shape, { arena }), v: this.rt.empty(shape, { arena }) }));
  }

  #checkIds(ids: Tensor, what: string, vocab: number): [number, number] {
    if (ids.dtype !== 'i32') throw new DTypeError(`Seq2Seq: ${what} is ${ids.describe()}, expected dtype i32 token ids`);
    if (ids.shape.length !== 2) throw new ShapeError(`Seq2Seq: ${what} has shape [${ids.shape.join(', ')}], expected (B, T)`);
    const [B, T] = ids.shape as [number, number];
    if (B < 1 || T < 1) throw new ShapeError(`Seq2Seq: ${what} is empty (shape [${B}, ${T}])`);
    if (T > this.config.maxPositions) throw new ShapeError(`Seq2Seq: ${what} has length ${T}, more than maxPositions ${this.config.maxPositions}`);
    checkIds('Seq2Seq', ids.i32(), vocab, `${what} id`, T);
    return [B, T];
  }

  /** √d·embedding + sinusoid for positions pos …, then dropout. */
  #embed(ids: Tensor, table: Parameter, pos: number): Tensor {
    const rt = this.rt;
    const [B, T] = ids.shape as [number, number];
    const C = this.config.dModel;
    let x = embedding(rt, ids, table.value);                            // (B, T, C)
    if (this.config.scaleEmbedding) x = scaled(rt, x, Math.sqrt(C));
    const pe = embedding(rt, positionIds(rt, B, T, pos), this.#positions);               // (B, T, C), constant
    return dropout(rt, residual(rt, x, pe), this.config.dropout, this.ctx.rng, this.ctx.training);
  }

  /** Final LayerNorm (pre-norm) and the output projection, tied to the target embedding or not. */
  #head(y: Tensor): Tensor {
    if (this.decoderNorm) y = this.decoderNorm.forward(y);
    return linear(this.rt, y, (this.lmHead ?? this.tgtEmbed).value, null, 'out,in'); // (B, T, V)
  }
}
