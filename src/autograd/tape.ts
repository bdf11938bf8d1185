// The autograd tape: while gradients are on, each differentiable op (src/fn) appends a
// closure that adds its inputs' gradients from its output's gradient; `backward(loss)`
// seeds d(loss)/d(loss) = 1 and runs the closures newest first. Gradients of activations
// live in the step arena and die with it; parameters' gradients are views of the model's
// flat gradient buffer, so zeroing them is one fill.
import { ShapeError, WasmformerError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import type { Tensor } from '../tensor.js';
import { add, copy, fill } from '../ops/elementwise.js';

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
   * Back-propagates from a one-element `loss`: adds d(loss)/d(t) into `t.grad` of every
   * parameter that contributed, then forgets the recorded ops.
   * @example
   * ```ts
   * model.zeroGrad();
   * const { loss } = model.forward(x, y);
   * rt.tape.backward(loss);
   * ```
   */
  backward(loss: Tensor): void {
    if (loss.size !== 1) throw new ShapeError(`backward: the loss must have one element, got ${loss.describe()}`);
    if (!loss.requiresGrad) throw new WasmformerError('backward: the loss was computed without gradients (inside noGrad, or from tensors that do not require them)');
    loss.grad = this.#rt.tensor([1], [1], { arena: 'step' });
    const nodes = this.#nodes;
    this.#nodes = [];
    for (let i = nodes.length - 1; i >= 0; i--) nodes[i]!.backward();
  }

  /** Forgets the recorded ops without running them (e.g. after a forward that will not be differentiated). */
  clear(): void {
    this.#nodes = [];
  }
}

/**
 * The gradient buffer of `t`, zero-filled in the step arena on first use: ops whose backward
 * kernels add (`+=`) write into it.
 */
export function gradOf(rt: Runtime, t: Tensor): Tensor {
  if (!t.grad) {
    t.grad = fill(rt, rt.empty(t.shape, { arena: 'step' }), 0);
  }
  return t.grad;
}

/**
 * The gradient buffer of `t` for a GEMM to write into, and the beta to use: 0 when the buffer
 * is new (uninitialised, so the GEMM overwrites it and no zero fill is needed), 1 otherwise.
 */
export function gradSlot(rt: Runtime, t: Tensor): [grad: Tensor, beta: number] {
  if (t.grad) return [t.grad, 1];
  t.grad = rt.empty(t.shape, { arena: 'step' });
  return [t.grad, 0];
}

/**
 * Adds `g` into `t`'s gradient. With `handOver`, a `t` that has no gradient yet takes `g`
 * itself (no copy): only for a `g` that no one reads or aliases afterwards, i.e. the gradient
 * of the output being differentiated now (its consumers all ran before: the tape runs newest
 * first), handed to one input at most.
 */
export function passGrad(rt: Runtime, t: Tensor, g: Tensor, handOver: boolean): void {
  if (!t.requiresGrad) return;
  if (!t.grad && handOver) {
    t.grad = g.size === t.size && g.shape.length === t.shape.length ? g : g.view(t.shape);
  } else if (!t.grad) {
    t.grad = copy(rt, g.view(t.shape));
  } else {
    add(rt, t.grad, g.view(t.shape), { out: t.grad });
  }
}
