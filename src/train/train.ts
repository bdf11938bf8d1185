// The training loop, for any model that turns a batch into a loss: batches from a source
// (random (B, T) windows of a token stream for a GPT, or any BatchSource), forward, backward,
// global-norm clipping, an optimizer step at the scheduled learning rate; evaluation every n
// steps, progress callbacks, atomic checkpoints, exact resume. Activations live in the step arena, reset
// every step, so after the first step the loop allocates nothing. A NaN or Inf in the loss
// or gradients stops training with a TrainingError naming the step, before any update or
// checkpoint, so the last good checkpoint stays intact.
import { CheckpointError, ValueError, preview } from '../errors.js';
import { Rng } from '../random.js';
import { checkIds } from '../ops/embedding.js';
import type { GPT } from '../models/gpt.js';
import type { Model } from '../models/model.js';
import type { Tensor } from '../tensor.js';
import type { Optimizer } from '../optim/optimizer.js';
import { trainStep } from './step.js';
import { BatchSampler, type BatchSamplerState } from '../data/batches.js';
import { checkpointBytes, loadWeights, readCheckpoint, type TrainPosition } from './checkpoint.js';
import { writeFileAtomic } from '../io/files.js';

/** Reported after every step. */
export interface StepInfo {
  /** 0-based index of the update just made. */
  step: number;
  loss: number;
  lr: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  /** Tokens per second of this step (forward + backward + update). */
  tokensPerSecond: number;
  elapsedMs: number;
}

/** Reported after every evaluation: the step and what the evaluation measured (a GPT's `data` runs: mean train and val loss). */
export interface EvalInfo {
  /** Updates done when evaluated. */
  step: number;
  train?: number;
  val?: number;
  /** Whatever else `evaluate` returns (accuracy, exact match, …). */
  [metric: string]: number | undefined;
}

/**
 * Where a training run's batches come from, for any model: `next()` builds a batch in the step
 * arena and returns the model's scalar loss on it; the JSON `state()` lets a checkpoint resume
 * the same sequence, in O(1) (make batch i a function of (seed, i)).
 * @example
 * ```ts
 * const source: BatchSource = {
 *   i: 0,
 *   next() { const { src, tgtIn, tgtOut } = makeBatch(this.i++); return { loss: model.forward(src, tgtIn, tgtOut).loss!, items: 64 }; },
 *   state() { return { i: this.i }; }, checkState(s) { if (!Number.isInteger((s as any)?.i)) throw new ValueError('bad state'); },
 *   setState(s) { this.i = (s as { i: number }).i; },
 * };
 * await train({ model, optimizer, batches: source, steps: 200, lr: 1e-3 });
 * ```
 */
export interface BatchSource {
  /** The next batch's loss (step arena) and how many items (tokens, examples) it holds, for the throughput. */
  next(): { loss: Tensor; items: number };
  /** JSON position in the sequence. */
  state(): unknown;
  /** Throws (changing nothing) unless `state` can be continued from. */
  checkState(state: unknown): void;
  setState(state: unknown): void;
}

/** A GPT's batches: random (B, T) windows of a token stream and their next tokens. */
class TokenBatches implements BatchSource {
  constructor(readonly model: GPT, readonly sampler: BatchSampler) {}

  next(): { loss: Tensor; items: number } {
    const rt = this.model.rt, { batchSize: B, blockSize: T } = this.sampler;
    const x = rt.empty([B, T], { dtype: 'i32', arena: 'step' });
    const y = rt.empty([B, T], { dtype: 'i32', arena: 'step' });
    this.sampler.next(x.i32(), y.i32());
    return { loss: this.model.forward(x, y).loss!, items: B * T };
  }

  state(): unknown {
    return this.sampler.state();
  }

  checkState(state: unknown): void {
    this.sampler.checkState(state);
  }

  setState(state: unknown): void {
    this.sampler.setState(state as BatchSamplerState);
  }
}

export interface TrainOptions {
  /** Any model; `data` needs a GPT, `batches` works with every family. */
  model: Model;
  optimizer: Optimizer;
  /** Batches of any model (exactly one of `batches` and `data`). */
  batches?: BatchSource;
  /** Evaluation of a `batches` run (needed with `evalEvery`), run without gradients in eval mode: named numbers to report (losses, accuracy, …). GPT `data` runs evaluate their streams' mean losses. */
  evaluate?: () => Record<string, number>;
  /** A GPT's token streams (exactly one of `batches` and `data`). */
  data?: {
    /** Training token stream. */
    train: Int32Array | readonly number[];
    /** Validation token stream (evaluations report its loss too). */
    val?: Int32Array | readonly number[];
    batchSize: number;
    /** Sequence length, default model.config.blockSize. */
    blockSize?: number;
    /** Seed of the batch sampler (default 1337). */
    seed?: number;
  };
  /** Total number of updates (including those done before a resume). */
  steps: number;
  /** Gradient accumulation: each update averages the gradients of this many batches (default 1); memory stays one batch's. */
  accumulate?: number;
  /** Learning rate, or a schedule of the 0-based step. */
  lr: number | ((step: number) => number);
  /** Clip the global gradient norm to this (off by default). */
  clip?: number;
  /** Evaluate every n updates and after the last (0 = never). */
  evalEvery?: number;
  /** Batches per evaluation (default 20); the same batches every time (fixed seed). */
  evalBatches?: number;
  checkpoint?: {
    /** Write a checkpoint every n updates and after the last. */
    every: number;
    /** File to write atomically (Node, Deno, Bun)… */
    path?: string;
    /** …or a callback that stores the bytes (browsers, edge). */
    write?: (bytes: Uint8Array, step: number) => void | Promise<void>;
    tokenizer?: { save(): string };
  };
  /** Resume from this checkpoint (bytes or a path): weights, optimizer, step, data and dropout positions. */
  resume?: Uint8Array | string;
  onStep?: (info: StepInfo) => void | Promise<void>;
  onEval?: (info: EvalInfo) => void | Promise<void>;
  /** Stops after the current step when aborted. */
  signal?: AbortSignal;
}

export interface TrainResult {
  /** Updates done in total. */
  steps: number;
  losses: { step: number; loss: number }[];
  evals: EvalInfo[];
  wallMs: number;
  /** Peak bytes of the wasm memory's arenas. */
  peakBytes: number;
}

/**
 * Trains `model` as configured; see TrainOptions.
 * @example
 * ```ts
 * const result = await train({
 *   model, optimizer: new AdamW(model.params, { betas: [0.9, 0.99], weightDecay: 0.1 }),
 *   data: { train, val, batchSize: 12 }, steps: 2000, clip: 1,
 *   lr: cosineWithWarmup({ lr: 1e-3, minLr: 1e-4, warmupSteps: 100, decaySteps: 2000 }),
 *   evalEvery: 250, onStep: (s) => bar.update(s.step + 1, { loss: s.loss.toFixed(3) }),
 * });
 * ```
 */
export async function train(opts: TrainOptions): Promise<TrainResult> {
  const { model, optimizer, data } = opts;
  const rt = model.rt;
  if (!Number.isSafeInteger(opts.steps) || opts.steps < 1) throw new ValueError(`train: steps is ${preview(opts.steps)}, expected an integer ≥ 1 (the total number of updates)`);
  if (opts.accumulate !== undefined && !(Number.isSafeInteger(opts.accumulate) && opts.accumulate >= 1)) {
    throw new ValueError(`train: accumulate is ${preview(opts.accumulate)}, expected an integer ≥ 1 (batches whose gradients make one update)`);
  }
  if (opts.clip !== undefined && !(typeof opts.clip === 'number' && opts.clip > 0 && Number.isFinite(opts.clip))) {
    throw new ValueError(`train: clip is ${preview(opts.clip)}, expected a finite number > 0 (the largest global gradient norm), or no clip`);
  }
  if (typeof opts.lr !== 'function' && !(typeof opts.lr === 'number' && opts.lr > 0 && Number.isFinite(opts.lr))) {
    throw new ValueError(`train: lr is ${preview(opts.lr)}, expected a finite number > 0 or a schedule (step) => lr`);
  }
  if ((data === undefined) === (opts.batches === undefined)) throw new ValueError('train: give exactly one of `data` (a GPT\'s token streams) and `batches` (a BatchSource)');
  let source: BatchSource;
  let evaluateNow: () => Record<string, number>;
  if (data) {
    if (model.family !== 'gpt') throw new ValueError(`train: \`data\` (token streams) trains a GPT; this is a ${model.family} model: pass \`batches\``);
    const gpt = model as GPT, B = data.batchSize, T = data.blockSize ?? gpt.config.blockSize;
    const trainIds = tokenStream('data.train', data.train, gpt.config.vocabSize);
    const valIds = data.val === undefined ? undefined : tokenStream('data.val', data.val, gpt.config.vocabSize);
    source = new TokenBatches(gpt, new BatchSampler(trainIds, B, T, data.seed ?? 1337));
    evaluateNow = () => ({
      train: evaluate(gpt, trainIds, { batchSize: B, blockSize: T, batches: opts.evalBatches }),
      ...(valIds ? { val: evaluate(gpt, valIds, { batchSize: B, blockSize: T, batches: opts.evalBatches }) } : {}),
    });
  } else {
    source = opts.batches!;
    if ((opts.evalEvery ?? 0) > 0 && !opts.evaluate) throw new ValueError('train: evalEvery needs `evaluate` when training from `batches`');
    evaluateNow = () => {
      const wasTraining = model.ctx.training;
      model.eval();
      try {
        return rt.step.scope(() => rt.tape.noGrad(() => opts.evaluate!()));
      } finally {
        model.train(wasTraining);
      }
    };
  }
  let start = 0;
  if (opts.resume !== undefined) {
    const ckpt = await readCheckpoint(opts.resume);
    // the position is checked before the weights are touched: a refused resume changes nothing
    const pos = ckpt.position;
    if (!pos || typeof pos !== 'object' || !Number.isSafeInteger(pos.step) || pos.step < 0) {
      throw new CheckpointError(`train: the checkpoint has no training position to resume from (position ${preview(pos)})`);
    }
    try {
      if (pos.sampler !== undefined) source.checkState(pos.sampler);
      if (pos.dropoutRng !== undefined) Rng.checkState(pos.dropoutRng);
    } catch (err) {
      throw new CheckpointError(`train: the checkpoint's training position cannot be resumed here: ${(err as Error).message}`);
    }
    loadWeights(model, ckpt, optimizer);
    start = pos.step;
    if (pos.sampler !== undefined) source.setState(pos.sampler);
    if (pos.dropoutRng !== undefined) model.ctx.rng.setState(pos.dropoutRng);
  }
  const lrAt = typeof opts.lr === 'function' ? opts.lr : () => opts.lr as number;
  const accumulate = opts.accumulate ?? 1;
  const evalEvery = opts.evalEvery ?? 0;
  const result: TrainResult = { steps: start, losses: [], evals: [], wallMs: 0, peakBytes: 0 };
  const t0 = now();
  const position = (step: number): TrainPosition => ({ step, sampler: source.state(), dropoutRng: model.ctx.rng.getState() });

  for (let step = start; step < opts.steps; step++) {
    const s0 = now();
    const lr = lrAt(step);
    let items = 0;
    const { loss, norm } = trainStep(model, optimizer, () => {
      const b = source.next();
      items += b.items;
      return b.loss;
    }, { step, lr, clip: opts.clip, microBatches: accumulate });
    const elapsed = now() - s0;
    result.steps = step + 1;
    result.losses.push({ step, loss });
    await opts.onStep?.({ step, loss, lr, gradNorm: norm, tokensPerSecond: items / (elapsed / 1000), elapsedMs: elapsed });
    const last = step + 1 === opts.steps || opts.signal?.aborted === true;
    if (evalEvery > 0 && ((step + 1) % evalEvery === 0 || last)) {
      const info: EvalInfo = { step: step + 1, ...evaluateNow() };
      result.evals.push(info);
      await opts.onEval?.(info);
    }
    const ck = opts.checkpoint;
    if (ck && ((step + 1) % ck.every === 0 || last)) {
      const bytes = checkpointBytes(model, { optimizer, tokenizer: ck.tokenizer, position: position(step + 1) });
      if (ck.path) await writeFileAtomic(ck.path, bytes);
      await ck.write?.(bytes, step + 1);
    }
    if (last) break;
  }
  rt.step.reset();
  result.wallMs = now() - t0;
  result.peakBytes = rt.memoryReport().peakBytes;
  return result;
}

/**
 * Mean loss without gradients, in eval mode (dropout off; the mode is restored after): over
 * `batches` batches of a {@link BatchSource} (weighted by their items; it draws them from the
 * source, so pass a fresh source with a fixed seed to compare evaluations like with like), or,
 * for a GPT, over random (B, T) windows of a token stream drawn from a fixed seed.
 * @throws ValueError for a batch count that is not a positive integer, or token windows given for a model that is not a GPT.
 * @example
 * ```ts
 * const val = evaluate(model, valTokens, { batchSize: 12, blockSize: 64, batches: 200 });     // a GPT on a token stream
 * const heldOut = evaluate(seq2seq, seededBatches(1001, makeHeldOutBatch), { batches: 20 });  // any model
 * ```
 */
export function evaluate(model: Model, source: BatchSource, opts?: { batches?: number }): number;
export function evaluate(model: GPT, tokens: Int32Array, opts: { batchSize: number; blockSize?: number; batches?: number; seed?: number }): number;
export function evaluate(model: Model, data: BatchSource | Int32Array, opts: { batchSize?: number; blockSize?: number; batches?: number; seed?: number } = {}): number {
  const rt = model.rt;
  const n = opts.batches ?? 20;
  if (!Number.isSafeInteger(n) || n < 1) throw new ValueError(`evaluate: batches is ${preview(n)}, expected an integer ≥ 1`);
  let source: BatchSource;
  if (data instanceof Int32Array) {
    if (model.family !== 'gpt') throw new ValueError(`evaluate: token windows evaluate a GPT; this is a ${model.family} model (pass a BatchSource)`);
    const gpt = model as GPT;
    source = new TokenBatches(gpt, new BatchSampler(data, opts.batchSize!, opts.blockSize ?? gpt.config.blockSize, opts.seed ?? 0xe7a1));
  } else {
    source = data;
  }
  const wasTraining = model.ctx.training;
  model.eval();
  let sum = 0, items = 0;
  try {
    for (let i = 0; i < n; i++) {
      rt.step.scope(() => rt.tape.noGrad(() => {
        const b = source.next();
        sum += b.loss.item() * b.items;
        items += b.items;
      }));
    }
  } finally {
    model.train(wasTraining);
  }
  return sum / items;
}

/** A token stream as Int32Array: an Int32Array as it is, an array of integer ids converted; anything else a ValueError. Ids are checked against the vocabulary. */
function tokenStream(what: string, ids: unknown, vocab: number): Int32Array {
  let out: Int32Array;
  if (ids instanceof Int32Array) out = ids;
  else if (Array.isArray(ids) || ids instanceof Uint16Array || ids instanceof Uint32Array) {
    const bad = (ids as ArrayLike<number> & Iterable<number>);
    for (let i = 0; i < bad.length; i++) if (!Number.isInteger(bad[i])) throw new ValueError(`train: ${what}[${i}] is ${preview(bad[i])}, expected an integer token id`);
    out = Int32Array.from(bad);
  } else {
    throw new ValueError(`train: ${what} is ${preview(ids)}, expected token ids (an Int32Array, or an array of integers)`);
  }
  checkIds(`train (${what})`, out, vocab);
  return out;
}

function now(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}
