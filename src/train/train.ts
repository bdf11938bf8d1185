// The training loop: random (B, T) batches, forward, backward, global-norm clipping, an
// optimizer step at the scheduled learning rate; evaluation every n steps, progress
// callbacks, atomic checkpoints, exact resume. Activations live in the step arena, reset
// every step, so after the first step the loop allocates nothing. A NaN or Inf in the loss
// or gradients stops training with a TrainingError naming the step, before any update or
// checkpoint, so the last good checkpoint stays intact.
import { CheckpointError, ValueError, preview } from '../errors.js';
import { Rng } from '../random.js';
import type { Runtime } from '../runtime.js';
import type { GPT } from '../models/gpt.js';
import type { Optimizer } from '../optim/optimizer.js';
import { trainStep, type StepResult } from './step.js';
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

/** Reported after every evaluation. */
export interface EvalInfo {
  /** Updates done when evaluated. */
  step: number;
  train: number;
  val?: number;
}

export interface TrainOptions {
  model: GPT;
  optimizer: Optimizer;
  data: {
    /** Training token stream. */
    train: Int32Array;
    /** Validation token stream (evaluations report its loss too). */
    val?: Int32Array;
    batchSize: number;
    /** Sequence length, default model.config.blockSize. */
    blockSize?: number;
    /** Seed of the batch sampler (default 1337). */
    seed?: number;
  };
  /** Total number of updates (including those done before a resume). */
  steps: number;
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
  const B = data.batchSize;
  const T = data.blockSize ?? model.config.blockSize;
  if (!Number.isInteger(opts.steps) || opts.steps < 0) throw new ValueError(`train: steps is ${opts.steps}, expected an integer ≥ 0`);
  const sampler: BatchSampler = new BatchSampler(data.train, B, T, data.seed ?? 1337);
  let start = 0;
  if (opts.resume !== undefined) {
    const ckpt = await readCheckpoint(opts.resume);
    // the position is checked before the weights are touched: a refused resume changes nothing
    const pos = ckpt.position;
    if (!pos || typeof pos !== 'object' || !Number.isSafeInteger(pos.step) || pos.step < 0) {
      throw new CheckpointError(`train: the checkpoint has no training position to resume from (position ${preview(pos)})`);
    }
    try {
      if (pos.sampler !== undefined) sampler.checkState(pos.sampler);
      if (pos.dropoutRng !== undefined) Rng.checkState(pos.dropoutRng);
    } catch (err) {
      throw new CheckpointError(`train: the checkpoint's training position cannot be resumed here: ${(err as Error).message}`);
    }
    loadWeights(model, ckpt, optimizer);
    start = pos.step;
    if (pos.sampler !== undefined) sampler.setState(pos.sampler as BatchSamplerState);
    if (pos.dropoutRng !== undefined) model.ctx.rng.setState(pos.dropoutRng);
  }
  const lrAt = typeof opts.lr === 'function' ? opts.lr : () => opts.lr as number;
  const evalEvery = opts.evalEvery ?? 0;
  const result: TrainResult = { steps: start, losses: [], evals: [], wallMs: 0, peakBytes: 0 };
  const t0 = now();
  const position = (step: number): TrainPosition => ({ step, sampler: sampler.state(), dropoutRng: model.ctx.rng.getState() });

  for (let step = start; step < opts.steps; step++) {
    const s0 = now();
    const lr = lrAt(step);
    const { loss, norm } = gptStep(rt, model, optimizer, sampler, B, T, step, lr, opts.clip);
    const elapsed = now() - s0;
    result.steps = step + 1;
    result.losses.push({ step, loss });
    await opts.onStep?.({ step, loss, lr, gradNorm: norm, tokensPerSecond: (B * T) / (elapsed / 1000), elapsedMs: elapsed });
    const last = step + 1 === opts.steps || opts.signal?.aborted === true;
    if (evalEvery > 0 && ((step + 1) % evalEvery === 0 || last)) {
      const info: EvalInfo = { step: step + 1, train: evaluate(model, data.train, { batchSize: B, blockSize: T, batches: opts.evalBatches }) };
      if (data.val) info.val = evaluate(model, data.val, { batchSize: B, blockSize: T, batches: opts.evalBatches });
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

/** One update on the next (B, T) batch of the sampler. */
function gptStep(rt: Runtime, model: GPT, optimizer: Optimizer, sampler: BatchSampler, B: number, T: number,
  step: number, lr: number, clip: number | undefined): StepResult {
  return trainStep(model, optimizer, () => {
    const x = rt.empty([B, T], { dtype: 'i32', arena: 'step' });
    const y = rt.empty([B, T], { dtype: 'i32', arena: 'step' });
    sampler.next(x.i32(), y.i32());
    return model.forward(x, y).loss!;
  }, { step, lr, clip });
}

/**
 * Mean loss over `batches` random (B, T) batches of `tokens`, without gradients. The batches
 * come from a fixed seed, so successive evaluations compare like with like.
 * @example
 * ```ts
 * const val = evaluate(model, valTokens, { batchSize: 12, blockSize: 64, batches: 200 });
 * ```
 */
export function evaluate(model: GPT, tokens: Int32Array, opts: { batchSize: number; blockSize?: number; batches?: number; seed?: number }): number {
  const rt = model.rt;
  const B = opts.batchSize;
  const T = opts.blockSize ?? model.config.blockSize;
  const batches = opts.batches ?? 20;
  const sampler = new BatchSampler(tokens, B, T, opts.seed ?? 0xe7a1);
  const wasTraining = model.ctx.training;
  model.eval();
  let sum = 0;
  try {
    for (let i = 0; i < batches; i++) {
      sum += rt.step.scope(() => {
        const x = rt.empty([B, T], { dtype: 'i32', arena: 'step' });
        const y = rt.empty([B, T], { dtype: 'i32', arena: 'step' });
        sampler.next(x.i32(), y.i32());
        return rt.tape.noGrad(() => model.forward(x, y).loss!.item());
      });
    }
  } finally {
    model.train(wasTraining);
  }
  return sum / batches;
}

function now(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}
