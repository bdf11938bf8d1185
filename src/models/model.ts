// What every wasmformer model shares: its runtime, its parameter table, the context its
// layers read (training flag, dropout Rng), and the train/eval/zero-grad switches.
import { Rng } from '../random.js';
import type { Runtime } from '../runtime.js';
import type { Tensor } from '../tensor.js';
import type { ModelContext, Precision } from '../nn/context.js';
import { ParameterSet } from '../nn/parameters.js';
import type { KeepsAttention, KeptAttention } from '../nn/attention.js';
import type { AttentionPath } from '../fn/attention.js';
import { ValueError, preview } from '../errors.js';

/** The model families: each has a class, a config and the Hugging Face names of its checkpoints. */
export type ModelFamily = 'gpt' | 'bert' | 'seq2seq' | 'vit' | 't5';

/** What every model constructor takes besides its config. */
export interface ModelOptions {
  /** Seeds the weights and the dropout masks. */
  seed?: number;
  /** false: skip the random initialisation (weights start as zeros; a loader copies them in). Default true. A function is asked after `validate`. */
  init?: boolean | (() => boolean);
  /** Runs on the declared parameters before any memory is allocated: a loader checks its file against them here. */
  validate?: (params: ParameterSet) => void;
  /** Keep packed copies of the weight matrices for inference (default true; false: weights only, ~2× less memory, slower decode). */
  packWeights?: boolean;
  /** The format inference multiplies weight matrices in: 'f32' (default), 'int8', 'f16' or 'bf16' (see ParameterSet.inferenceDtype). */
  dtype?: 'f32' | 'int8' | 'f16' | 'bf16';
  /**
   * With a `dtype` other than 'f32': keep the f32 weights too (default true here; loaders default
   * to false), so the model can still train and switch formats, the quantized copies being made on
   * first use. false holds the matmul weights and a tied embedding only in `dtype` — about a
   * quarter (int8) or half of the f32 memory — for an inference-only model
   * (`ParameterSet.holdWeightsAs`). Ignored for 'f32'.
   */
  keepF32?: boolean;
  /**
   * How attention runs: 'fused' (default; kernels that never store the T×T probabilities, memory
   * linear in T) or 'dense' (scores and probabilities as whole matrices, kept for the backward).
   * Same results to f32 rounding. Also settable later: `model.ctx.attentionPath = 'dense'`.
   */
  attention?: AttentionPath;
  /**
   * Gradient checkpointing while training: the layers run in segments of this many, each keeping
   * only its input; the backward recomputes a segment's activations (one more forward) — the same
   * gradients, bit for bit, for much less memory. 0 (default): off. `{ every, segments }`: only
   * the first `segments` segments recompute. See `setCheckpoint`.
   */
  checkpoint?: number | { every: number; segments?: number };
  /**
   * How training keeps the layers' activations for the backward: 'f32' (default) or 'bf16' (mixed
   * precision: about half the activation memory; arithmetic, master weights, gradients and
   * optimizer state stay f32). See `setPrecision`.
   */
  precision?: Precision;
}

/**
 * Base of GPT, BERT, Seq2Seq, ViT and T5. A subclass declares its layers into `params`, then calls
 * `params.allocate(rt, seed)`.
 * @example
 * ```ts
 * class Tiny extends Model {
 *   readonly fc: Linear;
 *   constructor(rt: Runtime) { super(rt, 1); this.fc = new Linear(this.ctx, this.params, 'fc', 4, 2); this.params.allocate(rt, 1); }
 * }
 * ```
 */
export abstract class Model {
  /** Which family the model is: the tag `saveModel` writes and `loadModel` reads. */
  abstract readonly family: ModelFamily;
  /** The full config it was built from (JSON-serialisable). */
  abstract readonly config: object;
  readonly rt: Runtime;
  readonly params = new ParameterSet();
  readonly ctx: ModelContext;

  /** `seed` seeds the dropout masks (the weights are seeded by `params.allocate`). */
  constructor(rt: Runtime, seed: number, opts: ModelOptions = {}) {
    if (!Number.isSafeInteger(seed) || seed < 0 || seed > 0xffffffff) throw new ValueError(`${new.target.name}: seed is ${preview(seed)}, expected an integer in [0, 2^32)`);
    this.rt = rt;
    if (opts.packWeights === false) this.params.packWeights = false;
    if (opts.dtype !== undefined) this.params.inferenceDtype = opts.dtype;
    if (opts.keepF32 === false && opts.dtype !== undefined && opts.dtype !== 'f32') this.params.holdWeightsAs(opts.dtype);
    if (opts.attention !== undefined && opts.attention !== 'fused' && opts.attention !== 'dense') {
      throw new ValueError(`${new.target.name}: attention is ${preview(opts.attention)}, expected 'fused' or 'dense'`);
    }
    this.ctx = { rt, training: true, rng: new Rng(seed ^ 0x5eed), attentionPath: opts.attention ?? 'fused' };
    if (typeof opts.checkpoint === 'number') this.setCheckpoint(opts.checkpoint);
    else if (opts.checkpoint !== undefined) this.setCheckpoint(opts.checkpoint.every, opts.checkpoint.segments);
    if (opts.precision !== undefined) this.setPrecision(opts.precision);
  }

  /** Persistent tensors the model made besides its parameters (fixed position tables), freed by `dispose`. */
  protected readonly owned: Tensor[] = [];

  /** Keeps `t` (persistent, made by this model) until `dispose`. */
  protected own(t: Tensor): Tensor {
    this.owned.push(t);
    return t;
  }

  readonly #onDispose: (() => void)[] = [];

  /**
   * @internal Runs `fn` when the model is disposed: what a layer above keeps for the model (the
   * generators' pooled KV caches) is freed with it.
   */
  onDispose(fn: () => void): void {
    this.#onDispose.push(fn);
  }

  /**
   * Frees everything the model holds in its runtime — parameters, gradients, packed weights,
   * position tables, the KV caches generators keep for reuse — for reuse; the model cannot be used afterwards (its tensors are stale).
   * Optimizers and KV caches made for it are separate: `opt.dispose()`, `rt.free(cache.k)`.
   * Idempotent.
   * @example
   * ```ts
   * const model = new GPT(rt, { vocabSize: 65, blockSize: 64, nLayer: 4, nHead: 4, dModel: 128 });
   * // … train, generate …
   * model.dispose();   // rt.memoryReport().persistent.usedBytes is back where it was
   * ```
   */
  dispose(): void {
    for (const fn of this.#onDispose.splice(0)) fn();
    this.params.dispose();
    for (const t of this.owned.splice(0)) if (t.isLive) this.rt.free(t);
  }

  /**
   * Gradient checkpointing: segments of `every` layers keep only their input while training and
   * recompute the rest in the backward (with the same dropout draws). 1: every layer; 0: off.
   * `segments` checkpoints only the first that many segments; the later layers keep their
   * activations (less recompute for more memory). Gradients are the same bits either way.
   * @example
   * ```ts
   * model.setCheckpoint(1);            // least memory: one layer's activations at a time
   * model.setCheckpoint(1, 2);         // the first two layers recompute, the others do not
   * ```
   */
  setCheckpoint(every: number, segments?: number): this {
    if (!Number.isInteger(every) || every < 0) throw new ValueError(`${this.constructor.name}: checkpoint is ${preview(every)}, expected an integer ≥ 0 (layers per checkpointed segment; 0 = off)`);
    if (segments !== undefined && !(Number.isInteger(segments) && segments >= 0)) {
      throw new ValueError(`${this.constructor.name}: checkpoint segments is ${preview(segments)}, expected an integer ≥ 0 (how many segments recompute)`);
    }
    this.ctx.checkpoint = every;
    this.ctx.checkpointSegments = segments;
    return this;
  }

  /**
   * Mixed precision: 'bf16' keeps every transformer layer's activations as bf16 between its
   * forward and its backward (round to nearest even; row statistics and position tables stay f32)
   * and computes in f32 as before — about half the activation memory, for a pack and an unpack
   * per activation. The backward reads the rounded activations, so gradients differ from 'f32'
   * by bf16 rounding (relative 2^-8 per activation). Checkpointed layers keep nothing either way.
   * Embeddings, the head and the loss stay f32. 'f32' (default): off.
   * @example
   * ```ts
   * const model = new GPT(rt, { vocabSize: 65, blockSize: 1024, nLayer: 4, nHead: 4, dModel: 128 });
   * model.setPrecision('bf16');        // or new GPT(rt, cfg, { precision: 'bf16' })
   * const { loss } = model.forward(idx, targets);
   * rt.tape.backward(loss!);           // reads every layer's activations back from bf16
   * ```
   */
  setPrecision(precision: Precision): this {
    if (precision !== 'f32' && precision !== 'bf16') throw new ValueError(`${this.constructor.name}: precision is ${preview(precision)}, expected 'f32' or 'bf16'`);
    this.ctx.precision = precision;
    return this;
  }

  /** Number of parameters (scalars in the parameter table). */
  numParams(): number {
    return this.params.count();
  }

  /** Dropout on (training) or off (evaluation, decoding). */
  train(on = true): this {
    this.ctx.training = on;
    return this;
  }

  /** Same as `train(false)`. */
  eval(): this {
    return this.train(false);
  }

  /** Zeroes every parameter gradient (one fill). */
  zeroGrad(): void {
    this.params.zeroGrad();
  }

  /** Every attention module with its name, in layer order (what `keepAttention` switches). */
  protected abstract attentionModules(): { name: string; attn: KeepsAttention }[];

  /**
   * Keep (or stop keeping) every attention's probabilities from the next forward on; read them
   * with `keptAttention()`, or draw them with viz's `attentionMaps(model)`.
   * @example
   * ```ts
   * model.keepAttention();
   * rt.tape.noGrad(() => model.forward(idx));
   * console.log(attentionTerminal(attentionMaps(model, { labels: [...text] })));
   * ```
   */
  keepAttention(on = true): void {
    for (const { attn } of this.attentionModules()) {
      attn.keepProbs = on;
      if (!on) attn.lastProbs = null;
    }
  }

  /**
   * The probabilities every attention kept in the last forward (after `keepAttention()`), named
   * and sized, in layer order; shared, not copied.
   * @throws ValueError when a forward did not keep them.
   * @example
   * ```ts
   * model.keptAttention().map((a) => `${a.name}: ${a.heads} heads, ${a.tq}×${a.tk}`);
   * ```
   */
  keptAttention(): KeptAttention[] {
    return this.attentionModules().map(({ name, attn }) => {
      if (!attn.lastProbs) throw new ValueError(`${this.constructor.name}: no attention kept by ${name}; call keepAttention() before the forward`);
      return { name, ...attn.lastProbs };
    });
  }
}
