// Multi-head attention, one module for every family: self-attention (causal in decoders) or
// cross-attention to an encoder's output, over the whole sequence or incrementally over a KV
// cache. Its projections are laid out as the family's checkpoints name them: GPT-2's fused
// c_attn (C, 3C) and c_proj (Conv1D, 'in,out'), or separate query/key/value/output nn.Linear
// weights ('out,in': BERT's attention.self.query …, ViT's, Marian/BART's q_proj …). Separate
// projections that lie back to back in the parameter buffer (the usual case) run as one GEMM
// over the joined weight, as the fused one does; cross-attention joins key and value the same way.
import { ShapeError, ValueError, preview } from '../errors.js';
import { exact, type Tensor } from '../tensor.js';
import { attend, checkKeyMask, type AttentionOptions, type AttentionResult, type ColumnSlice } from '../fn/attention.js';
import { attendForward, attendFusedKeeping, FUSED_MAX_HEAD_SIZE, type AttentionDims, type HeadView, type MaskView } from '../ops/attention.js';
import { copyBlock } from '../ops/elementwise.js';
import type { Runtime } from '../runtime.js';
import { dropout } from '../fn/dropout.js';
import { linear } from '../fn/linear.js';
import { rope } from '../fn/rope.js';
import type { ModelContext } from './context.js';
import { Linear } from './layers.js';
import type { RelativeBias } from './relative-bias.js';
import type { ParameterSet } from './parameters.js';

/** Attention probabilities of one forward with their sizes: data is (batch, heads, tq, tk) row-major. */
export interface KeptProbs {
  data: Float32Array;
  batch: number;
  heads: number;
  tq: number;
  tk: number;
}

/** One attention's kept probabilities, named by its model ('h.0', 'encoder.1 self', 'decoder.0 cross', …). */
export interface KeptAttention extends KeptProbs {
  name: string;
  /** Labels of the query and key positions when the model knows them (ViT: 'CLS', 'p0', …). */
  queryLabels?: string[];
  keyLabels?: string[];
}

/** An attention module that can keep the probabilities of its last forward (for plots). */
export interface KeepsAttention {
  /** Copy the probabilities of each forward into `lastProbs`. */
  keepProbs: boolean;
  /** The probabilities of the last forward while `keepProbs` was on. */
  lastProbs: KeptProbs | null;
}

/** Keys and values of one layer for incremental decoding: (B, capacity, C) each, persistent. */
export interface LayerCache {
  k: Tensor;
  v: Tensor;
}

/**
 * Parameter names of the projections, relative to the attention's prefix: one fused (C, 3C)
 * projection to [Q | K | V] and the output, both (C_in, C_out) as GPT-2's Conv1D; or four
 * separate (C_out, C_in) nn.Linear weights.
 */
export type AttentionNames = { qkv: string; o: string } | { q: string; k: string; v: string; o: string };

/** GPT-2's names, relative to `transformer.h.N.attn`. */
export const GPT2_ATTENTION_NAMES: AttentionNames = { qkv: 'c_attn', o: 'c_proj' };

export interface AttentionConfig {
  dModel: number;
  nHead: number;
  /**
   * Width of each head (T5's d_kv; default dModel / nHead): the projections map dModel to
   * nHead·headSize and back, which need not be dModel (t5-v1_1-small, flan-t5-small: 6 × 64 = 384 of 512).
   */
  headSize?: number;
  bias?: boolean;
  /** Dropout on the output projection (residual dropout), while training. */
  dropout?: number;
  /** Queries see only keys at or before their position (decoder self-attention). Default false. */
  causal?: boolean;
  /** Init std of the input projections (default 0.02). */
  std?: number;
  /** Init std of the output projection (default std; GPT-2: 0.02 / √(2·nLayer)). */
  projStd?: number;
  /**
   * Positions inside self-attention: 'rope' rotates Q and K by position (GPT-NeoX/Llama); 'alibi'
   * adds −slope_h·distance to the scores (Press et al.). Absent: none (positions come from embeddings).
   */
  positions?: AttentionPositions;
  /** RoPE's base: θ_i = base^(−2i/hs). Default 10000. */
  ropeBase?: number;
  /** Sliding-window self-attention (Longformer): each query sees keys at most this far away (causal: behind). 0 or absent: all. */
  window?: number;
  /** With a window: this many leading positions see and are seen by every position. */
  globals?: number;
  /** Multiplies the scores before the softmax. Default 1/√hs; T5: 1 (its init of the query absorbs it). */
  scale?: number;
  /** Init std of the query projection (default std; T5: (dModel·hs)^−½). */
  qStd?: number;
  /**
   * A learned relative position bias added to self-attention's scores (T5): the stack's shared
   * table, read for each call's (Tq, Tk). Not with `positions`; cross-attention takes none.
   */
  relativeBias?: RelativeBias | null;
}

/** Position schemes that live inside attention. */
export type AttentionPositions = 'rope' | 'alibi';

/**
 * ALiBi's head slopes: 2^(−8h/n) for h = 1 … n when n is a power of two; otherwise those of the
 * power of two m below n, then every other slope of 2m (Press et al.'s reference recipe).
 * @example
 * ```ts
 * alibiSlopes(4);   // [0.25, 0.0625, 0.015625, 0.00390625]
 * ```
 */
export function alibiSlopes(n: number): number[] {
  const pow2 = (m: number) => Array.from({ length: m }, (_, h) => 2 ** (-8 * (h + 1) / m));
  const m = 2 ** Math.floor(Math.log2(n));
  return m === n ? pow2(n) : [...pow2(m), ...pow2(2 * m).filter((_, i) => i % 2 === 0).slice(0, n - m)];
}

/** What one call attends to besides its own input. */
export interface AttentionInputs {
  /** i32 (B, Tk): 0 hides key j of sequence b (padding); self-attention's keys, or with `memory`/`memoryKV` the source's. */
  mask?: Tensor | null;
  /** Incremental decoding (no gradients): x holds positions pos … pos+Tn−1, whose keys and values go into this cache. */
  cache?: LayerCache;
  /** Position of x's first row when decoding with `cache` (default 0). */
  pos?: number;
  /** Cross-attention: the encoder output (B, S, C) the queries attend over. */
  memory?: Tensor;
  /** Cross-attention while decoding (no gradients): `memoryKV(memory)`, (B or 1, S, 2C), computed once per source. */
  memoryKV?: Tensor;
}

/** A fused projection: one weight and bias over consecutive parameters. */
interface Joined {
  w: Tensor;
  b: Tensor | null;
}

/**
 * y = softmax(Q·Kᵀ/√hs)·V over nHead heads, then the output projection.
 * @example
 * ```ts
 * const gpt = new Attention(ctx, ps, 'transformer.h.0.attn', { dModel: 128, nHead: 4, causal: true }, GPT2_ATTENTION_NAMES);
 * const y = gpt.forward(x);                                  // x (B, T, 128) → (B, T, 128)
 * const z = gpt.forward(x1, { cache, pos: T });              // one more token, over the cache
 * const bert = new Attention(ctx, ps, 'bert.encoder.layer.0.attention', { dModel: 64, nHead: 4 },
 *   { q: 'self.query', k: 'self.key', v: 'self.value', o: 'output.dense' });
 * const h = bert.forward(x, { mask });                       // mask i32 (B, T): 0 = padding
 * const c = decoderCross.forward(y, { memory, mask: srcMask });  // queries y over the encoder's output
 * ```
 */
export class Attention implements KeepsAttention {
  /** The fused [Q | K | V] projection (GPT-2), or null with separate ones. */
  readonly qkv: Linear | null;
  readonly q: Linear | null;
  readonly k: Linear | null;
  readonly v: Linear | null;
  readonly o: Linear;
  readonly nHead: number;
  readonly dModel: number;
  /** Width of each head, and of all heads together: nHead·headSize (dModel unless `headSize` says otherwise). */
  readonly headSize: number;
  readonly inner: number;
  readonly causal: boolean;
  readonly dropoutP: number;
  readonly positions: AttentionPositions | null;
  readonly ropeBase: number;
  readonly window: number;
  readonly globals: number;
  /** The scores' multiplier (absent: 1/√hs). */
  readonly scale: number | undefined;
  /** The stack's learned relative position bias (T5), or null. */
  readonly relativeBias: RelativeBias | null;
  readonly #slopes: number[] | null;
  /** The (B, NH, Tq, Tk) probabilities of the last forward when `keepProbs` is on (a copy). */
  lastProbs: KeptProbs | null = null;
  /** Copy the attention probabilities of each forward into `lastProbs` (for visualisation). */
  keepProbs = false;
  readonly #ps: ParameterSet;
  #joinedQKV: Joined | null | undefined;
  #joinedKV: Joined | null | undefined;

  constructor(readonly ctx: ModelContext, ps: ParameterSet, prefix: string, cfg: AttentionConfig, names: AttentionNames) {
    if (cfg.headSize !== undefined && !(Number.isInteger(cfg.headSize) && cfg.headSize >= 1)) throw new ShapeError(`${prefix}: headSize is ${preview(cfg.headSize)}, expected an integer ≥ 1`);
    if (!Number.isInteger(cfg.nHead) || cfg.nHead < 1 || (cfg.headSize === undefined && cfg.dModel % cfg.nHead !== 0)) {
      throw new ShapeError(`${prefix}: dModel = ${cfg.dModel} is not divisible by nHead = ${cfg.nHead} (give headSize for heads that do not split dModel)`);
    }
    this.dModel = cfg.dModel;
    this.headSize = cfg.headSize ?? cfg.dModel / cfg.nHead;
    this.inner = cfg.nHead * this.headSize;
    this.nHead = cfg.nHead;
    this.causal = cfg.causal ?? false;
    this.dropoutP = cfg.dropout ?? 0;
    this.positions = cfg.positions ?? null;
    if (this.positions !== null && this.positions !== 'rope' && this.positions !== 'alibi') {
      throw new ValueError(`${prefix}: positions is ${preview(this.positions)}, expected 'rope', 'alibi' or none`);
    }
    this.ropeBase = cfg.ropeBase ?? 10000;
    this.window = cfg.window ?? 0;
    this.globals = cfg.globals ?? 0;
    if (!Number.isInteger(this.window) || this.window < 0) throw new ValueError(`${prefix}: window is ${preview(this.window)}, expected an integer ≥ 0 (0: no window)`);
    if (!Number.isInteger(this.globals) || this.globals < 0 || (this.globals > 0 && this.window === 0)) {
      throw new ValueError(`${prefix}: globals is ${preview(this.globals)}, expected an integer ≥ 0, and > 0 only with a window`);
    }
    if (this.positions === 'rope' && this.headSize % 2 !== 0) {
      throw new ShapeError(`${prefix}: rotary positions need an even head size; here ${this.headSize} (dModel ${cfg.dModel}, nHead ${cfg.nHead})`);
    }
    this.#slopes = this.positions === 'alibi' ? alibiSlopes(cfg.nHead) : null;
    if (cfg.scale !== undefined && !(Number.isFinite(cfg.scale) && cfg.scale > 0)) throw new ValueError(`${prefix}: scale is ${preview(cfg.scale)}, expected a finite number > 0`);
    this.scale = cfg.scale;
    this.relativeBias = cfg.relativeBias ?? null;
    if (this.relativeBias && this.positions !== null) throw new ValueError(`${prefix}: a relative position bias and positions '${this.positions}' cannot be combined`);
    if (this.relativeBias && this.relativeBias.nHead !== cfg.nHead) {
      throw new ShapeError(`${prefix}: the relative position bias has ${this.relativeBias.nHead} heads, the attention ${cfg.nHead}`);
    }
    this.#ps = ps;
    const C = cfg.dModel, D = this.inner, bias = cfg.bias;
    if ('qkv' in names) {
      this.qkv = new Linear(ctx, ps, `${prefix}.${names.qkv}`, C, 3 * D, { bias, std: cfg.std });
      this.q = this.k = this.v = null;
      this.o = new Linear(ctx, ps, `${prefix}.${names.o}`, D, C, { bias, std: cfg.projStd ?? cfg.std });
    } else {
      const lin = (name: string, std: number | undefined, from: number, to: number) => new Linear(ctx, ps, `${prefix}.${name}`, from, to, { bias, std, layout: 'out,in' });
      this.qkv = null;
      this.q = lin(names.q, cfg.qStd ?? cfg.std, C, D);
      this.k = lin(names.k, cfg.std, C, D);
      this.v = lin(names.v, cfg.std, C, D);
      this.o = lin(names.o, cfg.projStd ?? cfg.std, D, C);
    }
  }

  /**
   * x (B, Tq, C) → (B, Tq, C). Self-attention by default; cross-attention over `memory` (or
   * `memoryKV` while decoding); over a KV cache with `cache` and `pos` (decoding, no gradients).
   */
  forward(x: Tensor, inputs: AttentionInputs = {}): Tensor {
    const mask = inputs.mask ?? null;
    if (inputs.memoryKV) return this.#crossCached(x, inputs.memoryKV, mask);
    if (inputs.memory) {
      const [q] = this.#project(x, 1);
      const [k, v] = this.#projectKV(inputs.memory);
      return this.#finish(attend(this.ctx.rt, q!, k, v, this.nHead, this.#options(mask)));
    }
    if (inputs.cache) return this.#selfCached(x, inputs.cache, inputs.pos ?? 0, mask);
    const [q, k, v] = this.#positioned(this.#project(x, 3), 0);
    const T = x.shape[1]!;
    return this.#finish(attend(this.ctx.rt, q!, k!, v!, this.nHead, { ...this.#options(mask), rel: this.#bias(T, T) }));
  }

  /**
   * Q and K rotated for positions pos0 … (RoPE); unchanged otherwise. V passes through. Q and K
   * side by side in one projection (the usual case) rotate in one call, as 2·nHead heads: one
   * table and one kernel call instead of two, the same per-element arithmetic.
   */
  #positioned([q, k, v]: ColumnSlice[], pos0: number): ColumnSlice[] {
    if (this.positions !== 'rope') return [q!, k!, v!];
    const C = this.inner, opts = { pos0, base: this.ropeBase };
    if (q!.t === k!.t && k!.col === q!.col + C) {
      const qk = rope(this.ctx.rt, { t: q!.t, col: q!.col, width: 2 * C }, 2 * this.nHead, opts);   // (B, T, 2C) = [Q' | K']
      return [{ t: qk, col: 0, width: C }, { t: qk, col: C, width: C }, v!];
    }
    const rot = (s: ColumnSlice): ColumnSlice => ({ t: rope(this.ctx.rt, s, this.nHead, opts), col: 0, width: C });
    return [rot(q!), rot(k!), v!];
  }

  /** Self-attention's bias (NH, Tq + Tk − 1) for Tq queries at the end of Tk keys: the learned relative one (T5), ALiBi's, or null. */
  #bias(Tq: number, Tk: number): Tensor | null {
    if (this.relativeBias) return this.relativeBias.forward(Tq, Tk);
    if (!this.#slopes) return null;
    const L = Tq + Tk - 1, data = new Float32Array(this.nHead * L);
    // entry j − r + Tq − 1 ↔ key j, query r at position r + Tk − Tq: distance (r + Tk − Tq) − j = Tk − 1 − index
    for (let h = 0; h < this.nHead; h++) for (let i = 0; i < L; i++) data[h * L + i] = -this.#slopes[h]! * Math.abs(Tk - 1 - i);
    return exact(this.ctx.rt.tensor(data, [this.nHead, L], { arena: 'step' }));
  }

  /** The attention options of a whole-sequence call: the probabilities only when kept. */
  #options(keyMask: Tensor | null): AttentionOptions {
    // ALiBi's bias and a window run on the fused kernels only, which make the probabilities from their lse
    const fusedOnly = this.#fusedOnly();
    return {
      causal: this.causal, keyMask, probs: this.keepProbs, path: fusedOnly ? 'fused' : this.ctx.attentionPath,
      window: this.window, globals: this.globals, scale: this.scale,
    };
  }

  /**
   * Keys and values of `memory` (B, S, C) as one (B, S, 2C) tensor [K | V], computed once per
   * source and reused by every decoding step (`forward(x, { memoryKV })`). No gradients.
   */
  memoryKV(memory: Tensor): Tensor {
    const rt = this.ctx.rt;
    return rt.tape.noGrad(() => {
      const [k, v] = this.#projectKV(memory);
      const C = this.inner;
      if (k.t === v.t && k.col === 0 && v.col === C && k.t.shape[2] === 2 * C) return k.t;
      const [B, S] = memory.shape as [number, number];
      const kv = rt.empty([B, S, 2 * C], { arena: 'step' });
      for (const [s, at] of [[k, 0], [v, C]] as const) copyBlock(rt, kv, { at, ld: 2 * C }, s.t, { at: s.col, ld: s.t.shape[2]! }, B * S, C);
      return kv;
    });
  }

  /** Self-attention of x's rows (positions pos …) over the cache, after writing their keys and values into it. */
  #selfCached(x: Tensor, cache: LayerCache, pos: number, keyMask: Tensor | null): Tensor {
    const [B, Tn] = x.shape as [number, number];
    const hv = (s: ColumnSlice): HeadView => ({ t: s.t, at: s.col, ld: s.t.shape[2]!, batchStride: Tn * s.t.shape[2]! });
    const [q, k, v] = this.#positioned(this.#project(x, 3), pos).map(hv) as [HeadView, HeadView, HeadView];
    const { y, probs } = attendCached(this.ctx.rt, q, k, v, cache, pos,
      { B, Tq: Tn, Tk: pos + Tn, nHead: this.nHead, hs: this.headSize, causal: this.causal, window: this.window, globals: this.globals, scale: this.scale }, keyMask, this.#dense(),
      this.#bias(Tn, pos + Tn), this.keepProbs);
    if (probs) this.#keep(probs);
    return this.o.forward(y);
  }

  /** Cross-attention while decoding: x (B, Tn, C) over kv (B or 1, S, 2C); mask i32 with kv's first dimension. */
  #crossCached(x: Tensor, kv: Tensor, memoryMask: Tensor | null): Tensor {
    const rt = this.ctx.rt;
    const [B, Tn] = x.shape as [number, number];
    const C = this.inner;
    const [Bs, S, C2] = kv.shape as [number, number, number];
    if (C2 !== 2 * C || (Bs !== B && Bs !== 1)) {
      throw new ShapeError(`cross-attention: memory K|V has shape [${kv.shape.join(', ')}], expected [${B} or 1, S, ${2 * C}] for queries [${x.shape.join(', ')}]`);
    }
    const mask = memoryMask ? checkKeyMask('cross-attention', memoryMask, Bs, S) : null;
    const [q] = this.#project(x, 1);                                           // (B, Tn, C) columns
    const y = rt.empty([B, Tn, C], { arena: 'step' });
    const stride = Bs === 1 ? 0 : S * C2, ldq = q!.t.shape[2]!;
    const probs = attendNoGrad(rt, { t: y, at: 0, ld: C, batchStride: Tn * C }, { t: q!.t, at: q!.col, ld: ldq, batchStride: Tn * ldq },
      { t: kv, at: 0, ld: C2, batchStride: stride }, { t: kv, at: C, ld: C2, batchStride: stride },
      { B, Tq: Tn, Tk: S, nHead: this.nHead, hs: this.headSize, causal: false, scale: this.scale },
      mask ? { t: mask, ld: S, shared: Bs === 1 } : null, this.#dense(), null, this.keepProbs);
    if (probs) this.#keep(probs);
    return this.o.forward(y);
  }

  /** Attention that runs on the fused kernels only: ALiBi's bias, a learned relative bias, a sliding window. */
  #fusedOnly(): boolean {
    return this.positions === 'alibi' || this.relativeBias !== null || this.window > 0;
  }

  /** Whether a call without gradients runs the dense path: probabilities kept, or asked for (never for fused-only attention). */
  #dense(): boolean {
    return (this.keepProbs || this.ctx.attentionPath === 'dense') && !this.#fusedOnly();
  }

  /** Copies probs (B, NH, Tq, Tk) into `lastProbs` when asked to keep them. */
  #keep(probs: Tensor): void {
    if (!this.keepProbs) return;
    const [batch, heads, tq, tk] = probs.shape as [number, number, number, number];
    this.lastProbs = { data: probs.f32().slice(), batch, heads, tq, tk };
  }

  #finish({ y, probs }: AttentionResult): Tensor {
    if (probs) this.#keep(probs);
    return dropout(this.ctx.rt, this.o.forward(y), this.dropoutP, this.ctx.rng, this.ctx.training);
  }

  /** The first `n` of Q, K, V of x (n = 1: Q alone), as column slices of one GEMM's output where the weights allow. */
  #project(x: Tensor, n: 1 | 3): ColumnSlice[] {
    const C = this.inner, rt = this.ctx.rt;
    if (this.qkv) {
      // one (C, 3C) product; Q alone (cross-attention) takes its first columns — fused layouts
      // (GPT-2) are self-attention, where all three are used
      const t = this.qkv.forward(x);                                            // (B, T, 3C)
      return [0, 1, 2].slice(0, n).map((i) => ({ t, col: i * C, width: C }));
    }
    const lins = n === 1 ? [this.q!] : [this.q!, this.k!, this.v!];
    const joined = n === 3 ? (this.#joinedQKV ??= this.#join(lins)) : null;
    if (joined) {
      const t = linear(rt, x, joined.w, joined.b, 'out,in');                   // (B, T, 3C)
      return lins.map((_, i) => ({ t, col: i * C, width: C }));
    }
    return lins.map((l) => ({ t: l.forward(x), col: 0, width: C }));
  }

  /** K and V of the encoder output `memory`, as column slices. */
  #projectKV(memory: Tensor): [ColumnSlice, ColumnSlice] {
    const C = this.inner, rt = this.ctx.rt;
    if (this.qkv) {
      const t = this.qkv.forward(memory);                                       // Q columns unused: fused layouts are self-attention
      return [{ t, col: C, width: C }, { t, col: 2 * C, width: C }];
    }
    const joined = (this.#joinedKV ??= this.#join([this.k!, this.v!]));
    if (joined) {
      const t = linear(rt, memory, joined.w, joined.b, 'out,in');              // (B, S, 2C)
      return [{ t, col: 0, width: C }, { t, col: C, width: C }];
    }
    return [{ t: this.k!.forward(memory), col: 0, width: C }, { t: this.v!.forward(memory), col: 0, width: C }];
  }

  #join(lins: Linear[]): Joined | null {
    const w = this.#ps.joined(lins.map((l) => l.weight));
    if (!w) return null;
    if (!lins[0]!.bias) return { w, b: null };
    const b = this.#ps.joined(lins.map((l) => l.bias!));
    return b ? { w, b } : null;
  }
}

/**
 * Attention without gradients into y: the fused kernels, or with `dense` (or heads too large for
 * them) the dense path, whose probabilities (B, NH, Tq, Tk) it returns (step arena); the fused
 * kernels return them too when `keep` (made from their lse).
 */
function attendNoGrad(rt: Runtime, y: HeadView, q: HeadView, k: HeadView, v: HeadView, d: AttentionDims,
  mask: MaskView | null, dense: boolean, rel: Tensor | null, keep: boolean): Tensor | null {
  if ((!dense && d.hs <= FUSED_MAX_HEAD_SIZE) || rel) return attendFusedKeeping(rt, y, q, k, v, d, mask, { rel }, keep).probs;
  const probs = rt.empty([d.B, d.nHead, d.Tq, d.Tk], { arena: 'step' });
  attendForward(rt, y, probs, q, k, v, d, mask);
  return probs;
}

/**
 * Incremental self-attention: writes the new keys and values (B, Tn rows each, views k and v)
 * into `cache` at positions pos … pos+Tn−1, then the new queries attend over positions
 * 0 … pos+Tn−1 (d.Tk = pos + Tn). keyMask i32 (B, ≥ pos+Tn) hides padded positions.
 * Returns y (B, Tn, C) in the step arena, and the probabilities when `dense` or `keep`.
 */
function attendCached(rt: Runtime, q: HeadView, k: HeadView, v: HeadView, cache: LayerCache, pos: number,
  d: AttentionDims, keyMask: Tensor | null, dense: boolean, rel: Tensor | null, keep: boolean): { y: Tensor; probs: Tensor | null } {
  const { B, Tq: Tn, Tk } = d;
  const C = d.nHead * d.hs;
  const cap = cache.k.shape[1]!;
  if (B > cache.k.shape[0]!) throw new ShapeError(`attention cache holds ${cache.k.shape[0]} sequences, the input has ${B}`);
  if (!Number.isInteger(pos) || pos < 0 || pos + Tn > cap) throw new ShapeError(`attention cache: positions ${pos}…${pos + Tn - 1} exceed its capacity ${cap}`);
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
  const y = rt.empty([B, Tn, C], { arena: 'step' });
  const kv = (t: Tensor): HeadView => ({ t, at: 0, ld: C, batchStride: cap * C });
  const probs = attendNoGrad(rt, { t: y, at: 0, ld: C, batchStride: Tn * C }, q, kv(cache.k), kv(cache.v), d, mask, dense, rel, keep);
  return { y, probs };
}
