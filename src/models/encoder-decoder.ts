// What the encoder–decoder families (the original Transformer, T5) share: their two stacks of
// layers, the padding mask of a batch of ids, the names of their attentions for the maps, and
// what decoding needs of them (the source encoded once, one decoder step over a KV cache, and
// which ids start, end and pad a target), so greedy and beam search (src/generate/beam.ts) drive
// either family.
import type { Tensor } from '../tensor.js';
import type { KeepsAttention, LayerCache } from '../nn/attention.js';
import type { TransformerLayer } from '../nn/layer.js';
import { Model } from './model.js';

/** Source-side state for decoding: the cross-attention keys/values of every decoder layer. */
export interface EncodedSource {
  /** (B, S, 2C) per decoder layer: K | V of the encoder output, computed once. */
  memoryKV: Tensor[];
  /** i32 (B, S): 1 = real source token, 0 = padding. */
  mask: Tensor;
  /** Source lengths without padding. */
  lengths: number[];
}

/** The ids and sizes decoding needs. */
export interface DecodingIds {
  padId: number;
  /** The decoder's first input (Seq2Seq's BOS; T5 starts from pad). */
  startId: number;
  eosId: number;
  /** Rows of the output logits. */
  vocabSize: number;
  /** Longest target decoding may produce (and its default). */
  maxLength: number;
  dModel: number;
}

/**
 * Base of Seq2Seq and T5.
 * @example
 * ```ts
 * const out = greedyDecode(model, [[5, 6, 7]], { maxLength: 8 });   // model: Seq2Seq or T5
 * ```
 */
export abstract class EncoderDecoder extends Model {
  readonly encoder: TransformerLayer[] = [];
  readonly decoder: TransformerLayer[] = [];
  /** The ids and sizes greedy and beam search read. */
  abstract get decoding(): DecodingIds;

  /** Encodes src i32 (B, S) once for decoding (step arena): every decoder layer's cross-attention K | V and the source mask. */
  abstract encodeForDecoding(src: Tensor): EncodedSource;

  /** One decoder step: ids i32 (B, Tn) at positions pos … pos + Tn − 1 over the caches → logits (B, Tn, V). */
  abstract decodeStep(ids: Tensor, caches: LayerCache[], pos: number, source: { memoryKV: Tensor[]; mask: Tensor }): Tensor;

  /** Decoder self-attention caches for `batch` rows of up to `length` target positions. */
  abstract createCache(batch: number, length?: number, arena?: 'persistent' | 'step'): LayerCache[];

  /** i32 (B, T): 1 where ids ≠ padId (step arena). */
  paddingMask(ids: Tensor): Tensor {
    const m = this.rt.empty(ids.shape, { dtype: 'i32', arena: 'step' });
    const src = ids.i32(), dst = m.i32(), pad = this.decoding.padId;
    for (let i = 0; i < src.length; i++) dst[i] = src[i] === pad ? 0 : 1;
    return m;
  }

  /** Encoder self- ('encoder.0 self' …), decoder self- ('decoder.0 self' …) and cross-attentions ('decoder.0 cross' …). */
  protected attentionModules(): { name: string; attn: KeepsAttention }[] {
    return [
      ...this.encoder.map((l, i) => ({ name: `encoder.${i} self`, attn: l.selfAttn })),
      ...this.decoder.map((l, i) => ({ name: `decoder.${i} self`, attn: l.selfAttn })),
      ...this.decoder.map((l, i) => ({ name: `decoder.${i} cross`, attn: l.crossAttn! })),
    ];
  }
}
