// One optimisation step for any model: reset the step arena, forward to a scalar loss,
// backward, global-norm clipping, update. Non-finite losses or gradients stop with a
// TrainingError before the parameters are touched. The GPT loop (train.ts) and the loops of
// the other families (examples, tests) all go through here.
import { TrainingError, ValueError, preview } from '../errors.js';
import type { Runtime } from '../runtime.js';
import type { Tensor } from '../tensor.js';
import type { ParameterSet } from '../nn/parameters.js';
import type { Optimizer } from '../optim/optimizer.js';
import { clipGradNorm, gradNorm } from '../optim/clip.js';
import { sumOfSquares } from '../ops/optim.js';

/** `name[i] = value` of the first non-finite parameter element (a JS scan: only when one is known to exist). */
export function firstNonFinite(params: ParameterSet): string {
  for (const p of params.list()) {
    const d = p.value.f32();
    for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i]!)) return `${p.name}[${i}] = ${d[i]}`;
  }
  return 'padding between parameters';
}

/** What `trainStep` needs of a model: every wasmformer model has these. */
export interface Trainable {
  readonly rt: Runtime;
  readonly params: ParameterSet;
  zeroGrad(): void;
  train(on?: boolean): unknown;
}

/** What one step did. */
export interface StepResult {
  loss: number;
  /** Global gradient norm before clipping. */
  norm: number;
}

/**
 * One update: `lossOf(i)` builds micro-batch i (in the step arena) and returns the model's scalar
 * loss on it. With `microBatches: n` (gradient accumulation) the gradients of n micro-batches are
 * averaged before the one update — each micro-batch's activations freed before the next, so memory
 * is one micro-batch's — and the loss reported is their mean: for equal-sized micro-batches, the
 * step of one n-times-larger batch (to f32 rounding).
 * @throws ValueError for a micro-batch count that is not an integer ≥ 1; TrainingError for a non-finite loss or gradient (nothing updated).
 * @example
 * ```ts
 * const { loss } = trainStep(model, optimizer, () => model.forward(src, tgtIn, tgtOut).loss!, { step, lr: noamLr(step), clip: 1 });
 * trainStep(model, optimizer, (i) => lossOfBatch(i), { step, lr: 1e-3, microBatches: 4 });   // one update from 4 batches
 * ```
 */
export function trainStep(model: Trainable, optimizer: Optimizer, lossOf: (micro: number) => Tensor,
  opts: { step: number; lr: number; clip?: number; microBatches?: number }): StepResult {
  const rt = model.rt;
  const { step } = opts;
  const n = opts.microBatches ?? 1;
  if (!Number.isSafeInteger(n) || n < 1) throw new ValueError(`trainStep: microBatches is ${preview(n)}, expected an integer ≥ 1`);
  model.train(true);
  model.zeroGrad();
  let sum = 0;
  for (let i = 0; i < n; i++) {
    rt.step.reset();
    rt.tape.clear();
    const loss = lossOf(i);
    const value = loss.item();
    if (!Number.isFinite(value)) {
      rt.tape.clear();
      throw new TrainingError(step, `training stopped at step ${step}: the loss is ${value}${n > 1 ? ` (micro-batch ${i} of ${n})` : ''}; the parameters were not updated`);
    }
    rt.tape.backward(loss, 1 / n);
    sum += value;
  }
  const value = sum / n;
  const { norm, scale } = opts.clip ? clipGradNorm(model.params, opts.clip) : { norm: gradNorm(model.params), scale: 1 };
  if (!Number.isFinite(norm)) {
    throw new TrainingError(step, `training stopped at step ${step}: the gradient norm is ${norm} (a NaN or Inf gradient); the parameters were not updated`);
  }
  optimizer.step({ lr: opts.lr, gradScale: scale });
  // an update can still overflow (a huge learning rate): stop before anything saves the result
  if (!Number.isFinite(sumOfSquares(rt, model.params.flat))) {
    const bad = firstNonFinite(model.params);
    throw new TrainingError(step, `training stopped at step ${step}: the update made ${bad} non-finite (learning rate ${opts.lr}); nothing after this step is saved`);
  }
  return { loss: value, norm };
}
