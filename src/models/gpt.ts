// GPT: a decoder-only transformer in the shape of GPT-2 / nanoGPT's model.py — token and
// position embeddings, nLayer blocks of causal self-attention and MLP, a final LayerNorm and a
// language-model head tied to the token embedding. Parameter names and layouts are Hugging
// Face GPT-2's, so weights move to and from PyTorch unchanged.
import { DTypeError, ShapeError, ValueError, preview } from '../errors.js';
import type { Runtime } from '../runtime.js';
import type { Tensor } from '../tensor.js';
import { checkActivation, type Activation } from '../fn/activation.js';
import { crossEntropy } from '../fn/crossentropy.js';
import { dropout } from '../fn/dropout.js';
import { checkIds, embedding } from '../fn/embedding.js';
import { linear } from '../fn/linear.js';
import { selectSeq } from '../fn/concat.js';
import { residual } from '../fn/residual.js';
import { GPT2_LAYER_NAMES, TransformerLayer, type NormPlacement } from '../nn/layer.js';
import { runLayers } from '../nn/stack.js';
import type { KeepsAttention, LayerCache } from '../nn/attention.js';
import { Embedding, LayerNorm, Linear } from '../nn/layers.js';
import { Model, type ModelOptions } from './model.js';
import { positionIds, sinusoidalTable } from '../nn/positions.js';

/** The shape of a GPT. Defaults are GPT-2 small's. */
export interface GPTConfig {
  vocabSize: number;
  /** Longest sequence the model sees (number of learned positions). */
  blockSize: number;
  nLayer: number;
  nHead: number;
  dModel: number;
  /** Hidden width of the MLP (default 4·dModel). */
  dFF: number;
  /** Dropout after the embeddings and each residual branch (0 = off). */
  dropout: number;
  /** Biases in Linear layers and LayerNorms. */
  bias: boolean;
  /** The output head reuses the token embedding (GPT-2). */
  tieWeights: boolean;
  /** 'pre' (GPT-2) or 'post' (the original transformer). */
  norm: NormPlacement;
  /**
   * 'learned' (GPT-2), 'sinusoidal' (the original transformer), or inside attention: 'rope' (rotary,
   * GPT-NeoX/Llama) or 'alibi' (linear biases). With 'rope' and 'alibi' no parameter depends on
   * blockSize: a model trained on short sequences runs on longer ones (raise blockSize to allow them).
   */
  positions: 'learned' | 'sinusoidal' | 'rope' | 'alibi';
  activation: Activation;
  layerNormEps: number;
  /** Sliding-window attention (Mistral-style, causal): each position sees at most this many positions behind it. 0: all. */
  window: number;
}

/** GPT-2 small (124M parameters). */
export const GPT2_SMALL: GPTConfig = {
  vocabSize: 50257, blockSize: 1024, nLayer: 12, nHead: 12, dModel: 768, dFF: 3072,
  dropout: 0, bias: true, tieWeights: true, norm: 'pre', positions: 'learned', activation: 'gelu', layerNormEps: 1e-5, window: 0,
};

/**
 * A full config from a partial one (GPT-2 small defaults; dFF defaults to 4·dModel), checked.
 * @example
 * ```ts
 * const cfg = gptConfig({ vocabSize: 65, blockSize: 64, nLayer: 4, nHead: 4, dModel: 128 });
 * cfg.dFF; // 512
 * ```
 */
export function gptConfig(partial: Partial<GPTConfig> = {}): GPTConfig {
  if (partial === null || typeof partial !== 'object' || Array.isArray(partial)) throw new ValueError(`GPT config: ${preview(partial)} is not an object of config fields`);
  const given = Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) as Partial<GPTConfig>;
  for (const key of Object.keys(given)) {
    if (!Object.hasOwn(GPT2_SMALL, key)) throw new ValueError(`GPT config: unknown field '${key.slice(0, 40)}' (fields: ${Object.keys(GPT2_SMALL).join(', ')})`);
  }
  const dModel = given.dModel ?? GPT2_SMALL.dModel;
  const cfg: GPTConfig = { ...GPT2_SMALL, dFF: 4 * dModel, ...given };
  for (const key of ['vocabSize', 'blockSize', 'nLayer', 'nHead', 'dModel', 'dFF'] as const) {
    const v = cfg[key];
    if (!Number.isInteger(v) || v < 1) throw new ValueError(`GPT config: ${key} is ${preview(v)}, expected an integer ≥ 1`);
  }
  if (cfg.dModel % cfg.nHead !== 0) throw new ShapeError(`GPT config: dModel = ${cfg.dModel} is not divisible by nHead = ${cfg.nHead}`);
  if (typeof cfg.dropout !== 'number' || !(cfg.dropout >= 0 && cfg.dropout < 1)) throw new ValueError(`GPT config: dropout is ${preview(cfg.dropout)}, expected 0 ≤ p < 1`);
  for (const key of ['bias', 'tieWeights'] as const) {
    if (typeof cfg[key] !== 'boolean') throw new ValueError(`GPT config: ${key} is ${preview(cfg[key])}, expected true or false`);
  }
  if (cfg.norm !== 'pre' && cfg.norm !== 'post') throw new ValueError(`GPT config: norm is ${String(cfg.norm)}, expected 'pre' or 'post'`);
  if (!['learned', 'sinusoidal', 'rope', 'alibi'].includes(cfg.positions)) throw new ValueError(`GPT config: positions is ${String(cfg.positions)}, expected 'learned', 'sinusoidal', 'rope' or 'alibi'`);
  if (cfg.positions === 'rope' && (cfg.dModel / cfg.nHead) % 2 !== 0) throw new ShapeError(`GPT config: rotary positions need an even head size; dModel ${cfg.dModel} / nHead ${cfg.nHead} = ${cfg.dModel / cfg.nHead}`);
  checkActivation('GPT config', cfg.activation, ['gelu', 'gelu_erf', 'relu']);
  if (!Number.isInteger(cfg.window) || cfg.window < 0) throw new ValueError(`GPT config: window is ${preview(cfg.window)}, expected an integer ≥ 0 (0: no window)`);
  if (typeof cfg.layerNormEps !== 'number' || !(cfg.layerNormEps > 0 && cfg.layerNormEps < 1)) throw new ValueError(`GPT config: layerNormEps is ${preview(cfg.layerNormEps)}, expected a number in (0, 1)`);
  return cfg;
}

/** What `GPT.forward` returns. */
export interface GPTOutput {
  /** (B, T, V) */
  logits: Tensor;
  /** (1) mean cross-entropy, when targets were given */
  loss?: Tensor;
}

/**
 * A GPT language model.
 * @example
 * ```ts
 * const rt = await createRuntime();
 * const model = new GPT(rt, { vocabSize: 65, blockSize: 64, nLayer: 4, nHead: 4, dModel: 128 }, { seed: 1337 });
 * const idx = rt.tensor(ids, [12, 64], { dtype: 'i32', arena: 'step' });
 * const { logits, loss } = model.forward(idx, targets);
 * ```
 */
export class GPT extends Model {
  readonly family = 'gpt' as const;
  readonly config: GPTConfig;
  readonly wte: Embedding;
  readonly wpe: Embedding | null;
  readonly h: TransformerLayer[];
  readonly ln_f: LayerNorm | null;
  readonly lm_head: Linear | null;
  readonly #sinusoid: Tensor | null;

  /**
   * @param opts.seed seeds the weights and the dropout masks (default 1337)
   * @param opts.init false: no random initialisation (the weights are about to be copied in; they start as zeros)
   * @param opts.validate runs on the declared parameters before any memory is allocated (loaders check a file here)
   */
  constructor(rt: Runtime, config: Partial<GPTConfig>, opts: ModelOptions = {}) {
    const seed = opts.seed ?? 1337;
    super(rt, seed, opts);
    const cfg = (this.config = gptConfig(config));
    const ps = this.params;
    const projStd = 0.02 / Math.sqrt(2 * cfg.nLayer);
    this.wte = new Embedding(this.ctx, ps, 'transformer.wte', cfg.vocabSize, cfg.dModel, 0.02, true);
    this.wpe = cfg.positions === 'learned' ? new Embedding(this.ctx, ps, 'transformer.wpe', cfg.blockSize, cfg.dModel) : null;
    this.h = [];
    const inAttention = cfg.positions === 'rope' || cfg.positions === 'alibi' ? cfg.positions : undefined;
    for (let i = 0; i < cfg.nLayer; i++) this.h.push(new TransformerLayer(this.ctx, ps, `transformer.h.${i}`, { ...cfg, positions: inAttention, projStd, causal: true }, GPT2_LAYER_NAMES));
    // Post-norm blocks end in a LayerNorm already; pre-norm needs a final one.
    this.ln_f = cfg.norm === 'pre' ? new LayerNorm(this.ctx, ps, 'transformer.ln_f', cfg.dModel, { bias: cfg.bias, eps: cfg.layerNormEps }) : null;
    this.lm_head = cfg.tieWeights ? null : new Linear(this.ctx, ps, 'lm_head', cfg.dModel, cfg.vocabSize, { bias: false, layout: 'out,in' });
    opts.validate?.(ps);
    ps.allocate(rt, seed, { init: opts.init });
    this.#sinusoid = cfg.positions === 'sinusoidal' ? this.own(rt.tensor(sinusoidalTable(cfg.blockSize, cfg.dModel), [cfg.blockSize, cfg.dModel])) : null;
  }

  /** Number of parameters; with `nonEmbedding`, without the position table (as nanoGPT reports). */
  override numParams(opts: { nonEmbedding?: boolean } = {}): number {
    const n = this.params.count();
    return opts.nonEmbedding && this.wpe ? n - this.config.blockSize * this.config.dModel : n;
  }

  /**
   * idx i32 (B, T) → logits (B, T, V); with targets i32 (B, T), also the mean cross-entropy.
   * Ids must be in [0, vocabSize) and T ≤ blockSize. `lastOnly` (no targets): logits (B, 1, V) of
   * the last position only — the head's T×V product shrinks to 1×V (generation needs no more).
   */
  forward(idx: Tensor, targets?: Tensor, opts: { lastOnly?: boolean } = {}): GPTOutput {
    const [B, T] = this.#checkIdx(idx, 'idx');
    if (targets) {
      if (targets.dtype !== 'i32') throw new DTypeError(`GPT.forward: targets is ${targets.describe()}, expected dtype i32`);
      if (targets.shape.length !== 2 || targets.shape[0] !== B || targets.shape[1] !== T) {
        throw new ShapeError(`GPT.forward: targets has shape [${targets.shape.join(', ')}], idx has [${B}, ${T}]`);
      }
    }
    if (opts.lastOnly && targets) throw new ValueError('GPT.forward: lastOnly gives the last position\'s logits only; a loss needs every position (drop targets or lastOnly)');
    let x = this.#embed(idx, B, T, 0);                  // (B, T, C)
    x = runLayers(this.ctx, this.h, x);
    const logits = this.#head(opts.lastOnly ? this.#last(x) : x);   // (B, T or 1, V)
    const loss = targets ? crossEntropy(this.rt, logits, targets) : undefined;
    return { logits, loss };
  }

  /**
   * Incremental forward for generation: idx (B, Tn) are the tokens at positions pos … pos+Tn−1;
   * keys and values go into `caches` (one per layer). Returns logits (B, Tn, V), or with
   * `lastOnly` (B, 1, V) of the last new position (a prompt's prefill). No gradients.
   * Batches of prompts of different lengths are left-padded: `keyMask` i32 (B, ≥ pos+Tn) has 0 at
   * the padded cache positions (never attended to), and `positions` i32 (B, Tn) gives each new
   * token its position id (row b's first real token at 0) instead of pos … pos+Tn−1.
   */
  forwardCached(idx: Tensor, caches: LayerCache[], pos: number, opts: { lastOnly?: boolean; keyMask?: Tensor | null; positions?: Tensor | null } = {}): Tensor {
    const [B, Tn] = this.#checkIdx(idx, 'idx');
    if (pos + Tn > this.config.blockSize) {
      throw new ShapeError(`GPT.forwardCached: positions ${pos}…${pos + Tn - 1} exceed blockSize ${this.config.blockSize}`);
    }
    const positions = opts.positions ?? null;
    if (positions) {
      if (positions.dtype !== 'i32' || positions.shape.join(',') !== `${B},${Tn}`) {
        throw new ShapeError(`GPT.forwardCached: positions is ${positions.describe()}, expected i32 [${B}, ${Tn}] like idx`);
      }
      checkIds('GPT.forwardCached', positions.i32(), this.config.blockSize, 'position id', Tn);
    }
    return this.rt.tape.noGrad(() => {
      let x = this.#embed(idx, B, Tn, pos, positions);
      x = runLayers(this.ctx, this.h, x, (i) => ({ cache: caches[i]!, pos, selfMask: opts.keyMask ?? null }));
      return this.#head(opts.lastOnly ? this.#last(x) : x);
    });
  }

  /**
   * A KV cache for `batch` sequences of up to `length` tokens (default blockSize; persistent arena;
   * reuse it). Zeroed when made, so its pages are touched here once rather than one first-write
   * fault at a time while decoding (measured on GPT-2 small: ≈ 25 µs per appended row, 0.6 ms per token).
   * @example
   * ```ts
   * const cache = model.createCache(4, 128);   // 4 sequences, prompt + new tokens ≤ 128
   * ```
   */
  createCache(batch = 1, length = this.config.blockSize): LayerCache[] {
    if (!Number.isSafeInteger(length) || length < 1 || length > this.config.blockSize) {
      throw new ShapeError(`GPT.createCache: length is ${length}, expected an integer in [1, ${this.config.blockSize}] (blockSize)`);
    }
    const shape = [batch, length, this.config.dModel];
    return this.h.map(() => ({ k: this.rt.zeros(shape), v: this.rt.zeros(shape) }));
  }

  /** The blocks' attentions, 'h.0' …, each keeping (B, NH, T, T). */
  protected attentionModules(): { name: string; attn: KeepsAttention }[] {
    return this.h.map((layer, i) => ({ name: `h.${i}`, attn: layer.selfAttn }));
  }


  #checkIdx(idx: Tensor, what: string): [number, number] {
    if (idx.dtype !== 'i32') throw new DTypeError(`GPT: ${what} is ${idx.describe()}, expected dtype i32 token ids`);
    if (idx.shape.length !== 2) throw new ShapeError(`GPT: ${what} has shape [${idx.shape.join(', ')}], expected (B, T)`);
    const [B, T] = idx.shape as [number, number];
    if (T > this.config.blockSize) throw new ShapeError(`GPT: sequence length ${T} exceeds blockSize ${this.config.blockSize}`);
    return [B, T];
  }

  /** tok_emb + pos_emb for positions pos … pos+T−1 (or the given position ids), then dropout. RoPE and ALiBi: tok_emb only. */
  #embed(idx: Tensor, B: number, T: number, pos: number, ids: Tensor | null = null): Tensor {
    const rt = this.rt;
    const tok = this.wte.forward(idx);                                                 // (B, T, C)
    if (!this.wpe && !this.#sinusoid) return dropout(rt, tok, this.config.dropout, this.ctx.rng, this.ctx.training);
    const positions = ids ?? positionIds(rt, B, T, pos);
    const posEmb = this.wpe ? this.wpe.forward(positions) : embedding(rt, positions, this.#sinusoid!); // (B, T, C)
    return dropout(rt, residual(rt, tok, posEmb), this.config.dropout, this.ctx.rng, this.ctx.training);
  }

  /** x (B, T, C) → its last position, (B, 1, C). */
  #last(x: Tensor): Tensor {
    const [B, T, C] = x.shape as [number, number, number];
    return T === 1 ? x : selectSeq(this.rt, x, T - 1).view([B, 1, C]);
  }

  /** Final LayerNorm (pre-norm models) and the output projection. */
  #head(x: Tensor): Tensor {
    if (this.ln_f) x = this.ln_f.forward(x);
    if (this.lm_head) return this.lm_head.forward(x);
    return linear(this.rt, x, this.wte.weight.value, null, 'out,in');   // tied: logits = x · wteᵀ
  }
}
