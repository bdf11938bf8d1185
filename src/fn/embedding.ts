// embedding: rows of a table gathered by integer ids (forward), and the scatter-add of the
// output gradient back into the table's rows (backward). Ids are checked here, so the
// kernel never reads outside the table.
import { DTypeError, ShapeError, TokenError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import type { Tensor } from '../tensor.js';
import { expectF32 } from '../ops/check.js';
import { gradOf } from '../autograd/tape.js';

/**
 * Throws TokenError naming the first id outside [0, vocab) and where it is: its flat position,
 * or [b, t] when the ids are rows of `rowLength`.
 * @example
 * ```ts
 * checkIds('BERT', ids.i32(), 100, 'token id', T); // "BERT: token id 104 at [1, 7] is outside [0, 100)"
 * ```
 */
export function checkIds(op: string, ids: Int32Array, vocab: number, what = 'token id', rowLength?: number): void {
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (id >= 0 && id < vocab) continue;
    const at = rowLength ? `[${Math.floor(i / rowLength)}, ${i % rowLength}]` : `position ${i}`;
    throw new TokenError(`${op}: ${what} ${id} at ${at} is outside [0, ${vocab})`);
  }
}

/**
 * out (…, C) = weight[ids] for ids (…) of dtype i32 and weight (V, C).
 * @example
 * ```ts
 * const tok = embedding(rt, idx, wte);   // idx i32 (B, T), wte (V, C) → (B, T, C)
 * ```
 */
export function embedding(rt: Runtime, ids: Tensor, weight: Tensor): Tensor {
  const op = 'embedding';
  if (ids.dtype !== 'i32') throw new DTypeError(`${op}: ids is ${ids.describe()}, expected dtype i32`);
  expectF32(op, 'weight', weight);
  if (weight.shape.length !== 2) throw new ShapeError(`${op}: weight has shape [${weight.shape.join(', ')}], expected (V, C)`);
  const [vocab, c] = weight.shape as [number, number];
  checkIds(op, ids.i32(), vocab);
  const out = rt.empty([...ids.shape, c], { arena: 'step' });
  rt.kernels.embedding_forward(out.ptr, ids.ptr, weight.ptr, ids.size, c);
  if (rt.tape.needsGrad(weight)) {
    rt.tape.record(op, out, () => {
      // weight[ids[i]] += dout[i]
      if (out.grad) rt.kernels.embedding_backward(gradOf(rt, weight).ptr, out.grad.ptr, ids.ptr, ids.size, c, c);
    });
  }
  return out;
}
