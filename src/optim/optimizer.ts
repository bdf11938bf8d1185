// What the training loop needs of an optimizer — a fused step over the flat parameter buffer
// (with the gradient scale that clipping chose) and its state as named tensors for
// checkpoints — and the base class that AdamW and SGD share: the step count, argument
// checks, and the split of the flat buffer into the weight-decayed range and the rest.
import { ValueError, preview } from '../errors.js';
import type { Tensor } from '../tensor.js';
import type { ParameterSet } from '../nn/parameters.js';

/**
 * Which parameters weight decay applies to. 'matrices' (default): the matmul weights only —
 * embeddings, position tables, biases and norms are not decayed (GPT-2's and Hugging Face's
 * usual grouping, and nanoGPT's until 2023). 'all-2d': every parameter of ≥ 2 dimensions,
 * embeddings included, biases and norms not — what nanoGPT's configure_optimizers does now
 * (`p.dim() >= 2`).
 */
export type DecayRule = 'matrices' | 'all-2d';

/** Arguments of one update. */
export interface StepOptions {
  /** Learning rate of this update (schedules compute it per step). */
  lr: number;
  /** Multiplies every gradient first (global-norm clipping), default 1. */
  gradScale?: number;
}

/** An optimizer over one ParameterSet's flat buffers. */
export interface Optimizer {
  readonly name: string;
  /** Updates applied so far. */
  readonly stepCount: number;
  step(opts: StepOptions): void;
  /** State buffers by name (same flat layout as the parameters), for checkpoints. */
  stateTensors(): Record<string, Tensor>;
  /** Hyper-parameters and the step count, JSON-serialisable. */
  stateMeta(): Record<string, number | string | boolean>;
  /** Restores `stepCount` (buffers are restored by writing into `stateTensors()`). */
  loadStateMeta(meta: Record<string, unknown>): void;
  /** Frees the state buffers (made again, as zeros, if the optimizer is used after). */
  dispose(): void;
}

/** Shared by the fused optimizers: subclasses implement `update` over one contiguous range. */
export abstract class FlatOptimizer implements Optimizer {
  abstract readonly name: string;
  readonly params: ParameterSet;
  readonly weightDecay: number;
  /** Which parameters weight decay applies to (`DecayRule`). */
  readonly decay: DecayRule;
  #t = 0;

  constructor(params: ParameterSet, weightDecay: number, decay: DecayRule = 'matrices') {
    if (typeof weightDecay !== 'number' || !(weightDecay >= 0) || !Number.isFinite(weightDecay)) throw new ValueError(`${new.target.name}: weightDecay is ${preview(weightDecay)}, expected a finite number ≥ 0`);
    if (decay !== 'matrices' && decay !== 'all-2d') throw new ValueError(`${new.target.name}: decay is ${String(decay)}, expected 'matrices' or 'all-2d'`);
    this.params = params;
    this.weightDecay = weightDecay;
    this.decay = decay;
  }

  /**
   * Throws ValueError for an option `known` does not list — notably `lr`, which is given per
   * step (`train({ lr })`, `step({ lr })`), not to the constructor.
   */
  protected static checkKeys(name: string, opts: object, known: readonly string[]): void {
    const unknown = Object.keys(opts ?? {}).filter((k) => !known.includes(k));
    if (unknown.length === 0) return;
    const lr = unknown.includes('lr') ? '; the learning rate is given per step: train({ lr }) or optimizer.step({ lr })' : '';
    throw new ValueError(`${name}: unknown option ${unknown.map((k) => `'${k}'`).join(', ')} (options: ${known.join(', ')})${lr}`);
  }

  get stepCount(): number {
    return this.#t;
  }

  step({ lr, gradScale = 1 }: StepOptions): void {
    if (!(lr >= 0) || !Number.isFinite(lr)) throw new ValueError(`${this.name}.step: lr is ${lr}, expected a finite number ≥ 0`);
    if (!(gradScale >= 0) || !Number.isFinite(gradScale)) throw new ValueError(`${this.name}.step: gradScale is ${gradScale}, expected a finite number ≥ 0`);
    this.#t++;
    const split = this.decay === 'all-2d' ? this.params.matrixEnd : this.params.decayEnd;
    const total = this.params.flat.size;
    if (split > 0) this.update(0, split, this.weightDecay, lr, gradScale, this.#t);
    if (total > split) this.update(split, total, 0, lr, gradScale, this.#t);
    this.params.changed();
  }

  /** Updates elements [start, end) of the flat buffers with weight decay `wd`; `t` is the 1-based step. */
  protected abstract update(start: number, end: number, wd: number, lr: number, gradScale: number, t: number): void;

  abstract stateTensors(): Record<string, Tensor>;

  stateMeta(): Record<string, number | string | boolean> {
    return { name: this.name, step: this.#t, weightDecay: this.weightDecay, decay: this.decay, ...this.hyper() };
  }

  /** Hyper-parameters other than weight decay, for `stateMeta`. */
  protected abstract hyper(): Record<string, number | boolean>;

  loadStateMeta(meta: Record<string, unknown>): void {
    if (meta.name !== this.name) throw new ValueError(`optimizer state is for '${String(meta.name)}', this optimizer is '${this.name}'`);
    const t = meta.step;
    if (typeof t !== 'number' || !Number.isInteger(t) || t < 0) throw new ValueError(`optimizer state: step is ${String(t)}, expected an integer ≥ 0`);
    this.#t = t;
  }

  /** A zeroed persistent buffer with the layout of the flat parameters (moments, momentum). */
  protected stateBuffer(): Tensor {
    const t = this.params.rt.zeros(this.params.flat.shape);
    this.#state.push(t);
    return t;
  }

  readonly #state: Tensor[] = [];

  /** Forgets the subclass's state buffers (they are freed by `dispose`). */
  protected abstract freeState(): void;

  /**
   * Frees the optimizer state for reuse; a later `step` starts it again from zeros (step count kept).
   * @example
   * ```ts
   * opt.dispose(); model.dispose();   // everything training held goes back to the runtime
   * ```
   */
  dispose(): void {
    for (const t of this.#state.splice(0)) if (t.isLive) this.params.rt.free(t);
    this.freeState();
  }
}
