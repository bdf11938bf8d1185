// Mixed precision's activation storage: a segment of the network (a transformer layer) runs its
// forward in f32 as usual; then everything it allocated is moved into one compact store, the
// activations as bf16 (round to nearest even: 2 bytes instead of 4), the tensors marked `exact`
// (row statistics, rotary tables) and integer tensors as they are, and the f32 region is freed.
// The store is a persistent allocation (freed blocks are reused, so steps of equal shapes reuse
// the same bytes; inside the step arena, stores and regions of changing sizes left gaps that grew
// its chunks: 123 MiB of wasm memory for a 41 MiB peak), freed by the segment's backward or, if
// that never runs, when the step arena's scope closes (Arena.defer). The backward unpacks the
// store into a fresh f32 region, points the segment's tensors at it (`Tensor.relocate`: the
// recorded closures keep the tensor objects they captured), runs the recorded closures, moves
// its inputs' gradients out and frees the region with the segment's activation gradients.
// Arithmetic stays f32 everywhere; what changes is that the backward reads the activations
// rounded to bf16 (relative error ≤ 2^-8 each) — mixed-precision training's numbers, with f32
// master weights, gradients and optimizer state.
// Memory: the store (≈ half the segment's activations) per segment, plus one segment's f32
// region and gradients during its backward; time: a pack and an unpack per activation.
import { ShapeError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import { tensorHooks, type Tensor } from '../tensor.js';
import { copy } from '../ops/elementwise.js';
import { copyBytes, packBf16, unpackBf16 } from '../ops/convert.js';
import { keepInputGrads, reserveInputGrads } from './checkpoint.js';

/** How a segment's activations are stored between its forward and its backward. */
export type ActivationStore = 'bf16' | 'f32';

/** One allocation of the segment: where it was, where it goes in the store and in the unpacked region. */
interface Block {
  t: Tensor;
  ptr: number;
  size: number;
  bf16: boolean;
  /** Byte offset in the store. */
  at: number;
  /** Byte offset in the unpacked f32 region. */
  to: number;
}

const align16 = (n: number) => (n + 15) & ~15;

/**
 * y = f(x), where f keeps x's shape (a transformer layer), keeping f's activations as bf16 (or,
 * `store: 'f32'`, as they are: the same machinery without rounding, bit for bit the plain
 * backward) between the forward and the backward. Without gradient recording, just f(x).
 * @example
 * ```ts
 * const h = storedSegment(rt, (t) => layer.forward(t), x, { inputs: [memory] });
 * ```
 */
export function storedSegment(rt: Runtime, f: (x: Tensor) => Tensor, x: Tensor,
  opts: { inputs?: (Tensor | null | undefined)[]; store?: ActivationStore } = {}): Tensor {
  const tape = rt.tape;
  if (!tape.enabled) return f(x);
  const start = tape.length;
  const before = rt.step.mark();                                    // a failed segment leaves nothing behind
  const y = rt.empty(x.shape, { arena: 'step' });                  // outlives the segment's region
  const mark = rt.step.mark();
  const made: { t: Tensor; root: boolean; ptr: number }[] = [];
  const outer = tensorHooks.created;
  tensorHooks.created = (t, root) => {
    outer?.(t, root);
    if (t.arena === rt.step) made.push({ t, root, ptr: t.rawPtr });
  };
  let out: Tensor;
  try {
    out = f(x);
    if (out.size !== x.size || out.shape.join() !== x.shape.join()) {
      throw new ShapeError(`mixed precision: the segment maps [${x.shape.join(', ')}] to [${out.shape.join(', ')}]; a stored segment must keep its input's shape`);
    }
    copy(rt, out, { out: y });
  } catch (err) {
    tape.takeSince(start);
    rt.step.release(before);
    throw err;
  } finally {
    tensorHooks.created = outer;
  }
  const backward = tape.takeSince(start);
  if (!out.requiresGrad) {
    rt.step.release(mark);
    return y;
  }
  // the segment's live allocations, in address order, and its views over them
  const blocks: Block[] = [];
  let stored = 0, unpacked = 0;
  for (const m of made) {
    if (!m.root || !m.t.isLive) continue;
    const bf16 = opts.store !== 'f32' && m.t.dtype === 'f32' && !m.t.exact;
    const bytes = m.t.size * (bf16 ? 2 : 4);
    blocks.push({ t: m.t, ptr: m.ptr, size: m.t.size, bf16, at: stored, to: unpacked });
    stored += align16(bytes);
    unpacked += align16(m.t.size * 4);
  }
  blocks.sort((a, b) => a.ptr - b.ptr);
  const views = made.filter((m) => !m.root && m.t.isLive).map((m) => ({ t: m.t, ptr: m.ptr, block: blockOf(blocks, m.ptr) }));
  let store: Tensor;
  try {
    store = rt.empty([Math.max(1, stored >> 2)], { dtype: 'i32' });
  } catch (err) {
    rt.step.release(before);                                        // out of memory: nothing kept
    throw err;
  }
  for (const b of blocks) {
    if (b.bf16) packBf16(rt, store.ptr + b.at, b.ptr, b.size);
    else copyBytes(rt, store.ptr + b.at, b.ptr, b.size * 4);
  }
  rt.step.release(mark);
  rt.step.defer(() => { if (store.isLive) rt.free(store); });
  const inputs = [x, ...(opts.inputs ?? [])].filter((t): t is Tensor => !!t && t.requiresGrad);
  tape.record('storedSegment', y, () => {
    if (!y.grad) return;
    const fresh = reserveInputGrads(rt, inputs);
    const m2 = rt.step.mark();
    try {
      const region = rt.empty([Math.max(1, unpacked >> 2)], { arena: 'step' });
      const base = region.ptr, lease = region.lease;
      for (const b of blocks) {
        if (b.bf16) unpackBf16(rt, base + b.to, store.ptr + b.at, b.size);
        else copyBytes(rt, base + b.to, store.ptr + b.at, b.size * 4);
        b.t.relocate(base + b.to, lease);
      }
      rt.free(store);
      for (const v of views) if (v.block) v.t.relocate(base + v.block.to + (v.ptr - v.block.ptr), lease);
      out.grad = y.grad;
      for (let i = backward.length - 1; i >= 0; i--) backward[i]!();
      keepInputGrads(rt, fresh, y.grad);
    } finally {
      rt.step.release(m2);
    }
  });
  return y;
}

/** The block whose allocation holds byte address `ptr` (blocks sorted by address), or null (a view of older memory). */
function blockOf(blocks: readonly Block[], ptr: number): Block | null {
  let lo = 0, hi = blocks.length - 1, found: Block | null = null;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1, b = blocks[mid]!;
    if (b.ptr <= ptr) {
      found = b;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found && ptr < found.ptr + Math.max(4, found.size * 4) ? found : null;
}
