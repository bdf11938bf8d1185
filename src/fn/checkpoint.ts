// Gradient checkpointing: run a segment of the network (a few transformer layers) keeping only
// its input and output; its backward runs the segment's forward again, with the same dropout
// draws, and back-propagates through that. Memory: one segment's activations instead of all of
// them, for one more forward per segment. The forward records the segment's ops as usual (so it
// computes exactly what an unchecked forward does), then drops them and frees their activations;
// the gradients the replay gives its inputs are moved out of the freed region before it is freed,
// so they are the same bits, in the same buffers' roles, as without checkpointing.
import { ShapeError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import type { Tensor } from '../tensor.js';
import { copy } from '../ops/elementwise.js';

/** What a checkpointed segment needs besides its input. */
export interface CheckpointOptions {
  /** Other tensors the segment reads that may need gradients (an encoder output for cross-attention). */
  inputs?: (Tensor | null | undefined)[];
  /** Saves what the segment draws from (the dropout Rng's position) … */
  save?: () => unknown;
  /** … and puts it back, so the recompute draws the same masks. */
  restore?: (state: unknown) => void;
}

/**
 * y = f(x), where f keeps x's shape (a stack of residual layers), without keeping f's
 * intermediate activations: the backward recomputes them. Without gradient recording, just f(x).
 * @example
 * ```ts
 * const rng = model.ctx.rng;
 * const y = checkpoint(rt, (h) => layer.forward(h), x, { save: () => rng.getState(), restore: (s) => rng.setState(s as RngState) });
 * ```
 */
export function checkpoint(rt: Runtime, f: (x: Tensor) => Tensor, x: Tensor, opts: CheckpointOptions = {}): Tensor {
  const tape = rt.tape;
  if (!tape.enabled) return f(x);
  const state = opts.save?.();
  const start = tape.length;
  const before = rt.step.mark();                                    // a failed segment leaves nothing behind
  const y = rt.empty(x.shape, { arena: 'step' });                  // outlives the segment's activations
  const mark = rt.step.mark();
  let needsGrad: boolean;
  try {
    const out = f(x);
    if (out.size !== x.size || out.shape.join() !== x.shape.join()) {
      throw new ShapeError(`checkpoint: the segment maps [${x.shape.join(', ')}] to [${out.shape.join(', ')}]; a checkpointed segment must keep its input's shape`);
    }
    copy(rt, out, { out: y });
    needsGrad = out.requiresGrad;
  } catch (err) {
    tape.takeSince(start);
    rt.step.release(before);
    throw err;
  }
  tape.takeSince(start);                                            // the replay records them again
  rt.step.release(mark);
  if (!needsGrad) return y;
  const inputs = [x, ...(opts.inputs ?? [])].filter((t): t is Tensor => !!t && t.requiresGrad);
  tape.record('checkpoint', y, () => {
    if (!y.grad) return;
    const fresh = reserveInputGrads(rt, inputs);
    const after = opts.save?.();
    const mark2 = rt.step.mark();
    try {
      if (opts.restore) opts.restore(state);
      const from = tape.length;
      const again = f(x);
      const backward = tape.takeSince(from);
      again.grad = y.grad;
      for (let i = backward.length - 1; i >= 0; i--) backward[i]!();
      keepInputGrads(rt, fresh, y.grad);
    } finally {
      rt.step.release(mark2);
      if (opts.restore) opts.restore(after);
    }
  });
  return y;
}

/** Room for a segment input's gradient, reserved below the region a segment's backward frees. */
export interface ReservedGrad {
  t: Tensor;
  keep: Tensor;
}

/**
 * @internal Inputs without a gradient yet get one during a segment's backward, inside the region
 * freed after it: reserves room for each below it, before the region is opened (uninitialised:
 * the backward's own writes decide the bits).
 * @example
 * ```ts
 * const fresh = reserveInputGrads(rt, [x]);
 * const mark = rt.step.mark();   // … the segment's backward …
 * keepInputGrads(rt, fresh, y.grad);
 * rt.step.release(mark);
 * ```
 */
export function reserveInputGrads(rt: Runtime, inputs: readonly Tensor[]): ReservedGrad[] {
  return inputs.filter((t) => !t.grad).map((t) => ({ t, keep: rt.empty(t.shape, { arena: 'step' }) }));
}

/** @internal Moves the gradients the segment's backward gave `reserved` inputs into their reserved room (one handed over from the segment's output already lives below). */
export function keepInputGrads(rt: Runtime, reserved: readonly ReservedGrad[], handedOver: Tensor | null): void {
  for (const { t, keep } of reserved) if (t.grad && t.grad !== handedOver) t.grad = copy(rt, t.grad, { out: keep });
}
