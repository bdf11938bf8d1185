// The autograd tape: while gradients are on, each differentiable op (src/fn) appends a
// closure that adds its inputs' gradients from its output's gradient; `backward(loss)`
// seeds d(loss)/d(loss) = 1 and runs the closures newest first. Gradients of activations
// live in the step arena and die with it; parameters' gradients are views of the model's
// flat gradient buffer, so zeroing them is one fill.
import { ShapeError, ValueError, WasmformerError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import type { Tensor } from '../tensor.js';

/** One recorded op: its name (for errors and profiles) and the closure that runs its backward. */
interface Node {
  op: string;
  backward: () => void;
}

/** Records backward closures. One per runtime: `rt.tape`. */
export class Tape {
  #nodes: Node[] = [];
  #disabled = 0;
  readonly #rt: Runtime;

  constructor(rt: Runtime) {
    this.#rt = rt;
  }

  /** Whether ops record their backward right now (false inside `noGrad`). */
  get enabled(): boolean {
    return this.#disabled === 0;
  }

  /** Number of ops recorded since the last `backward` or `clear`. */
  get length(): number {
    return this.#nodes.length;
  }

  /** True when an op over `inputs` must record its backward. */
  needsGrad(...inputs: (Tensor | null | undefined)[]): boolean {
    if (this.#disabled !== 0) return false;
    for (const t of inputs) if (t && t.requiresGrad) return true;
    return false;
  }

  /** Appends an op's backward. `out` is marked as requiring gradients. */
  record(op: string, out: Tensor, backward: () => void): void {
    out.requiresGrad = true;
    this.#nodes.push({ op, backward });
  }

  /**
   * Runs `fn` with recording off (inference, evaluation).
   * @example
   * ```ts
   * const { logits } = rt.tape.noGrad(() => model.forward(idx));
   * ```
   */
  noGrad<T>(fn: () => T): T {
    this.#disabled++;
    try {
      return fn();
    } finally {
      this.#disabled--;
    }
  }

  /**
   * Back-propagates from a one-element `loss`: adds `weight`·d(loss)/d(t) into `t.grad` of every
   * parameter that contributed (weight 1 by default; 1/n to average n accumulated micro-batches),
   * then forgets the recorded ops.
   * @example
   * ```ts
   * model.zeroGrad();
   * const { loss } = model.forward(x, y);
   * rt.tape.backward(loss);
   * ```
   */
  backward(loss: Tensor, weight = 1): void {
    if (loss.size !== 1) throw new ShapeError(`backward: the loss must have one element, got ${loss.describe()}`);
    if (!loss.requiresGrad) throw new WasmformerError('backward: the loss was computed without gradients (inside noGrad, or from tensors that do not require them)');
    if (!Number.isFinite(weight)) throw new ValueError(`backward: weight is ${weight}, expected a finite number`);
    loss.grad = this.#rt.tensor([weight], [1], { arena: 'step' });
    const nodes = this.#nodes;
    this.#nodes = [];
    for (let i = nodes.length - 1; i >= 0; i--) nodes[i]!.backward();
  }

  /**
   * @internal Removes the ops recorded since the tape had `from` of them and returns their
   * backward closures, oldest first (gradient checkpointing: fn/checkpoint.ts drops or replays them).
   */
  takeSince(from: number): (() => void)[] {
    return this.#nodes.splice(from).map((n) => n.backward);
  }

  /** Forgets the recorded ops without running them (e.g. after a forward that will not be differentiated). */
  clear(): void {
    this.#nodes = [];
  }
}
