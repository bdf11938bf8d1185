// Multi-head attention with separate query, key, value and output projections (PyTorch
// nn.Linear layout), named as the model family names them: BERT's attention.self.query …,
// ViT's attention.attention.query …, the original Transformer's (Marian/BART) self_attn.q_proj ….
// When the three projections lie back to back in the parameter buffer (the usual case) they run
// as one GEMM over the joined (3C, C) weight; cross-attention joins key and value the same way.
import { ShapeError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { attend, checkKeyMask, type ColumnSlice } from '../fn/attention.js';
import { attendForward, type HeadView } from '../ops/attention.js';
import { copyBlock } from '../ops/elementwise.js';
import { dropout } from '../fn/dropout.js';
import { linear } from '../fn/linear.js';
import type { ModelContext } from './context.js';
import { attendCached, type KeepsAttention, type LayerCache } from './attention.js';
import { Linear } from './layers.js';
import type { ParameterSet } from './parameters.js';

/** Names of the four projections, relative to the attention's prefix. */
export interface ProjectionNames {
  q: string;
  k: string;
  v: string;
  o: string;
}

export interface ProjectedAttentionConfig {
  dModel: number;
  nHead: number;
  bias?: boolean;
  /** Dropout on the output projection (residual dropout). */
  dropout?: number;
  /** Queries see only keys at or before their position (decoder self-attention). */
  causal?: boolean;
  /** Init std of q, k, v (default 0.02). */
  std?: number;
  /** Init std of the output projection (default std). */
  projStd?: number;
}

/** A fused projection: one weight (rows, C) and bias over consecutive parameters, or null. */
interface Joined {
  w: Tensor;
  b: Tensor | null;
}

/**
 * Self- or cross-attention with separate projections.
 * @example
 * ```ts
 * const attn = new ProjectedAttention(ctx, ps, 'bert.encoder.layer.0.attention', { dModel: 64, nHead: 4 },
 *   { q: 'self.query', k: 'self.key', v: 'self.value', o: 'output.dense' });
 * const y = attn.forward(x, mask);            // x (B, T, 64), mask i32 (B, T) → (B, T, 64)
 * const z = attn.forwardCross(y, memory);     // queries y over memory (B, S, 64)
 * ```
 */
export class ProjectedAttention implements KeepsAttention {
  readonly q: Linear;
  readonly k: Linear;
  readonly v: Linear;
  readonly o: Linear;
  readonly nHead: number;
  readonly dModel: number;
  readonly causal: boolean;
  readonly dropoutP: number;
  /** (B, NH, Tq, Tk) probabilities of the last forward when `keepProbs` is on (a copy). */
  lastProbs: Float32Array | null = null;
  /** Copy the attention probabilities of each training-style forward into `lastProbs`. */
  keepProbs = false;
  readonly #ps: ParameterSet;
  #qkv: Joined | null | undefined;
  #kv: Joined | null | undefined;

  constructor(readonly ctx: ModelContext, ps: ParameterSet, prefix: string, cfg: ProjectedAttentionConfig, names: ProjectionNames) {
    if (cfg.dModel % cfg.nHead !== 0) throw new ShapeError(`${prefix}: dModel = ${cfg.dModel} is not divisible by nHead = ${cfg.nHead}`);
    this.dModel = cfg.dModel;
    this.nHead = cfg.nHead;
    this.causal = cfg.causal ?? false;
    this.dropoutP = cfg.dropout ?? 0;
    this.#ps = ps;
    const lin = (name: string, std?: number) =>
      new Linear(ctx, ps, `${prefix}.${name}`, cfg.dModel, cfg.dModel, { bias: cfg.bias, std: std ?? cfg.std, layout: 'out,in' });
    this.q = lin(names.q);
    this.k = lin(names.k);
    this.v = lin(names.v);
    this.o = lin(names.o, cfg.projStd);
  }

  /** Self-attention: x (B, T, C) → (B, T, C). keyMask i32 (B, T): 0 = padding no query attends to. */
  forward(x: Tensor, keyMask: Tensor | null = null): Tensor {
    const [q, k, v] = this.#projectQKV(x);
    return this.#finish(attend(this.ctx.rt, q, k, v, this.nHead, { causal: this.causal, keyMask }));
  }

  /**
   * Cross-attention: queries from x (B, Tq, C) over keys and values from `memory` (B, Tk, C), the
   * encoder output; memoryMask i32 (B, Tk) marks the source's padding. → (B, Tq, C)
   */
  forwardCross(x: Tensor, memory: Tensor, memoryMask: Tensor | null = null): Tensor {
    const [q] = this.#project(x, [this.q], null) as [ColumnSlice];
    const [k, v] = this.#project(memory, [this.k, this.v], this.#kv ??= this.#join([this.k, this.v])) as [ColumnSlice, ColumnSlice];
    return this.#finish(attend(this.ctx.rt, q, k, v, this.nHead, { causal: this.causal, keyMask: memoryMask }));
  }

  /**
   * Keys and values of `memory` (B, S, C) as one (B, S, 2C) tensor [K | V], computed once per
   * source and reused by every decoding step (`forwardCrossCached`). No gradients.
   */
  memoryKV(memory: Tensor): Tensor {
    const rt = this.ctx.rt;
    return rt.tape.noGrad(() => {
      const j = this.#kv ??= this.#join([this.k, this.v]);
      if (j) return linear(rt, memory, j.w, j.b, 'out,in');
      const [B, S, C] = memory.shape as [number, number, number];
      const kv = rt.empty([B, S, 2 * C], { arena: 'step' });
      const k = this.k.forward(memory), v = this.v.forward(memory);
      copyBlock(rt, kv, { at: 0, ld: 2 * C }, k, { at: 0, ld: C }, B * S, C);   // kv[…, :C] = K
      copyBlock(rt, kv, { at: C, ld: 2 * C }, v, { at: 0, ld: C }, B * S, C);   // kv[…, C:] = V
      return kv;
    });
  }

  /**
   * Incremental self-attention (decoding, no gradients): x (B, Tn, C) are positions pos …
   * pos+Tn−1; their keys and values go into `cache`. keyMask i32 (B, ≥ pos+Tn) optional.
   */
  forwardCached(x: Tensor, cache: LayerCache, pos: number, keyMask: Tensor | null = null): Tensor {
    const [B, Tn, C] = x.shape as [number, number, number];
    const [q, k, v] = this.#projectQKV(x);
    const hv = (s: ColumnSlice): HeadView => ({ t: s.t, at: s.col, ld: s.t.shape[2]!, batchStride: Tn * s.t.shape[2]! });
    const y = attendCached(this.ctx.rt, hv(q), hv(k), hv(v), cache, pos,
      { B, Tq: Tn, Tk: pos + Tn, nHead: this.nHead, hs: C / this.nHead, causal: this.causal }, keyMask);
    return this.o.forward(y);
  }

  /**
   * Cross-attention while decoding (no gradients): x (B, Tn, C) over kv = `memoryKV(memory)`,
   * (B, S, 2C), or (1, S, 2C) shared by all B rows (the beams of one source); memoryMask i32
   * with the same first dimension as kv.
   */
  forwardCrossCached(x: Tensor, kv: Tensor, memoryMask: Tensor | null = null): Tensor {
    const rt = this.ctx.rt;
    const [B, Tn, C] = x.shape as [number, number, number];
    const [Bs, S, C2] = kv.shape as [number, number, number];
    if (C2 !== 2 * C || (Bs !== B && Bs !== 1)) {
      throw new ShapeError(`cross-attention: memory K|V has shape [${kv.shape.join(', ')}], expected [${B} or 1, S, ${2 * C}] for queries [${x.shape.join(', ')}]`);
    }
    const mask = memoryMask ? checkKeyMask('cross-attention', memoryMask, Bs, S) : null;
    const q = this.q.forward(x);                                              // (B, Tn, C)
    const y = rt.empty([B, Tn, C], { arena: 'step' });
    const probs = rt.empty([B, this.nHead, Tn, S], { arena: 'step' });
    const stride = Bs === 1 ? 0 : S * C2;
    attendForward(rt, { t: y, at: 0, ld: C, batchStride: Tn * C }, probs, { t: q, at: 0, ld: C, batchStride: Tn * C },
      { t: kv, at: 0, ld: C2, batchStride: stride }, { t: kv, at: C, ld: C2, batchStride: stride },
      { B, Tq: Tn, Tk: S, nHead: this.nHead, hs: C / this.nHead, causal: false },
      mask ? { t: mask, ld: S, shared: Bs === 1 } : null);
    if (this.keepProbs) this.lastProbs = probs.f32().slice();
    return this.o.forward(y);
  }

  #finish({ y, probs }: { y: Tensor; probs: Tensor }): Tensor {
    if (this.keepProbs) this.lastProbs = probs.f32().slice();
    return dropout(this.ctx.rt, this.o.forward(y), this.dropoutP, this.ctx.rng, this.ctx.training);
  }

  #projectQKV(x: Tensor): [ColumnSlice, ColumnSlice, ColumnSlice] {
    const lins = [this.q, this.k, this.v];
    return this.#project(x, lins, this.#qkv ??= this.#join(lins)) as [ColumnSlice, ColumnSlice, ColumnSlice];
  }

  /** The projections of x, as column slices of one GEMM's output when the weights are joined. */
  #project(x: Tensor, lins: Linear[], joined: Joined | null): ColumnSlice[] {
    const C = this.dModel;
    if (joined) {
      const t = linear(this.ctx.rt, x, joined.w, joined.b, 'out,in');        // (B, T, n·C)
      return lins.map((_, i) => ({ t, col: i * C, width: C }));
    }
    return lins.map((l) => ({ t: l.forward(x), col: 0, width: C }));
  }

  #join(lins: Linear[]): Joined | null {
    const w = this.#ps.joined(lins.map((l) => l.weight));
    if (!w) return null;
    if (!lins[0]!.bias) return { w, b: null };
    const b = this.#ps.joined(lins.map((l) => l.bias!));
    return b ? { w, b } : null;
  }
}
