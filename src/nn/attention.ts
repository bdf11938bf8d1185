// Multi-head self-attention as GPT-2 lays it out: one fused projection c_attn to (Q | K | V),
// attention over the heads, the output projection c_proj, residual dropout. `forwardCached`
// is the incremental-decoding path: new keys and values are appended to a KVCache and the
// new queries attend over everything cached so far.
import { ShapeError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { attention, checkKeyMask } from '../fn/attention.js';
import { attendForward, type AttentionDims, type HeadView, type MaskView } from '../ops/attention.js';
import { copyBlock } from '../ops/elementwise.js';
import type { Runtime } from '../runtime.js';
import { dropout } from '../fn/dropout.js';
import type { ModelContext } from './context.js';
import { Linear } from './layers.js';
import type { ParameterSet } from './parameters.js';

/** An attention module that can keep the probabilities of its last forward (for plots). */
export interface KeepsAttention {
  /** Copy the probabilities of each forward into `lastProbs`. */
  keepProbs: boolean;
  /** (B, NH, Tq, Tk) of the last forward while `keepProbs` was on. */
  lastProbs: Float32Array | null;
}

/** Keys and values of one layer for incremental decoding: (B, capacity, C) each, persistent. */
export interface LayerCache {
  k: Tensor;
  v: Tensor;
}

/**
 * Multi-head attention (causal for decoders) with fused QKV and output projections.
 * @example
 * ```ts
 * const attn = new MultiHeadAttention(ctx, ps, 'transformer.h.0.attn', { dModel: 128, nHead: 4 });
 * const y = attn.forward(x); // (B, T, 128) → (B, T, 128)
 * ```
 */
export class MultiHeadAttention implements KeepsAttention {
  readonly c_attn: Linear;
  readonly c_proj: Linear;
  readonly nHead: number;
  readonly dModel: number;
  readonly causal: boolean;
  readonly dropoutP: number;
  /** (B, NH, T, T) probabilities of the last forward when `keepProbs` is on (a copy, persistent until the next). */
  lastProbs: Float32Array | null = null;
  /** Copy the attention probabilities of each forward into `lastProbs` (for visualisation). */
  keepProbs = false;

  constructor(
    readonly ctx: ModelContext, ps: ParameterSet, prefix: string,
    cfg: { dModel: number; nHead: number; bias?: boolean; dropout?: number; causal?: boolean; projStd?: number },
  ) {
    if (cfg.dModel % cfg.nHead !== 0) throw new ShapeError(`${prefix}: dModel = ${cfg.dModel} is not divisible by nHead = ${cfg.nHead}`);
    this.dModel = cfg.dModel;
    this.nHead = cfg.nHead;
    this.causal = cfg.causal ?? true;
    this.dropoutP = cfg.dropout ?? 0;
    this.c_attn = new Linear(ctx, ps, `${prefix}.c_attn`, cfg.dModel, 3 * cfg.dModel, { bias: cfg.bias });
    this.c_proj = new Linear(ctx, ps, `${prefix}.c_proj`, cfg.dModel, cfg.dModel, { bias: cfg.bias, std: cfg.projStd });
  }

  /** x (B, T, C) → (B, T, C); keyMask i32 (B, T): 0 marks padding that no query may attend to. */
  forward(x: Tensor, keyMask: Tensor | null = null): Tensor {
    const qkv = this.c_attn.forward(x);                                       // (B, T, 3C)
    const { y, probs } = attention(this.ctx.rt, qkv, this.nHead, { causal: this.causal, keyMask }); // (B, T, C)
    if (this.keepProbs) this.lastProbs = probs.f32().slice();
    return dropout(this.ctx.rt, this.c_proj.forward(y), this.dropoutP, this.ctx.rng, this.ctx.training);
  }

  /**
   * Incremental decoding: x (B, Tn, C) holds the tokens at positions pos … pos+Tn−1; their keys
   * and values are written into `cache` and their queries attend over positions 0 … pos+Tn−1.
   * No gradients.
   */
  forwardCached(x: Tensor, cache: LayerCache, pos: number, keyMask: Tensor | null = null): Tensor {
    const [B, Tn, C] = x.shape as [number, number, number];
    const qkv = this.c_attn.forward(x);                                       // (B, Tn, 3C)
    const ld = 3 * C, bs = Tn * ld;
    const y = attendCached(this.ctx.rt, { t: qkv, at: 0, ld, batchStride: bs }, { t: qkv, at: C, ld, batchStride: bs },
      { t: qkv, at: 2 * C, ld, batchStride: bs }, cache, pos, { B, Tq: Tn, Tk: pos + Tn, nHead: this.nHead, hs: C / this.nHead, causal: this.causal }, keyMask);
    return this.c_proj.forward(y);
  }
}

/**
 * Incremental self-attention: writes the new keys and values (B, Tn rows each, views k and v)
 * into `cache` at positions pos … pos+Tn−1, then the new queries attend over positions
 * 0 … pos+Tn−1 (d.Tk = pos + Tn). keyMask i32 (B, ≥ pos+Tn) hides padded positions.
 * Returns y (B, Tn, C) in the step arena.
 */
export function attendCached(rt: Runtime, q: HeadView, k: HeadView, v: HeadView, cache: LayerCache, pos: number,
  d: AttentionDims, keyMask: Tensor | null): Tensor {
  const { B, Tq: Tn, Tk } = d;
  const C = d.nHead * d.hs;
  const cap = cache.k.shape[1]!;
  if (B > cache.k.shape[0]!) throw new ShapeError(`attention cache holds ${cache.k.shape[0]} sequences, the input has ${B}`);
  if (pos + Tn > cap) throw new ShapeError(`attention cache: positions ${pos}…${pos + Tn - 1} exceed its capacity ${cap}`);
  // rows pos … pos+Tn−1 of each sequence's cache ← the new keys and values
  for (let b = 0; b < B; b++) {
    const dst = { at: (b * cap + pos) * C, ld: C };
    copyBlock(rt, cache.k, dst, k.t, { at: k.at + b * k.batchStride, ld: k.ld }, Tn, C);
    copyBlock(rt, cache.v, dst, v.t, { at: v.at + b * v.batchStride, ld: v.ld }, Tn, C);
  }
  let mask: MaskView | null = null;
  if (keyMask) {
    if (keyMask.shape[1]! < Tk) throw new ShapeError(`attention cache: keyMask has ${keyMask.shape[1]} positions, ${Tk} are cached`);
    mask = { t: checkKeyMask('attention cache', keyMask, B, keyMask.shape[1]!), ld: keyMask.shape[1]! };
  }
  const probs = rt.empty([B, d.nHead, Tn, Tk], { arena: 'step' });
  const y = rt.empty([B, Tn, C], { arena: 'step' });
  const kv = (t: Tensor): HeadView => ({ t, at: 0, ld: C, batchStride: cap * C });
  attendForward(rt, { t: y, at: 0, ld: C, batchStride: Tn * C }, probs, q, kv(cache.k), kv(cache.v), d, mask);
  return y;
}
