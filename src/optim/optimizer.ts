// What the training loop needs of an optimizer: a fused step over the flat parameter buffer
// (with the gradient scale that clipping chose), and its state as named tensors so a
// checkpoint can save and restore it exactly.
import type { Tensor } from '../tensor.js';

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
}
