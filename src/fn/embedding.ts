// embedding: rows of a table gathered by integer ids (forward), and the scatter-add of the
// output gradient back into the table's rows (backward). The ops check the ids, so the
// kernels never read outside the table.
import { DTypeError, ShapeError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import type { Tensor } from '../tensor.js';
import { expectF32 } from '../ops/check.js';
import { gather, scatterAdd } from '../ops/embedding.js';
import { heldWeight } from '../ops/packed.js';
import { gatherQuantized } from '../ops/quant.js';
import { gradOf } from './grad.js';

export { checkIds } from '../ops/embedding.js';

/**
 * out (…, C) = weight[ids] for ids (…) of dtype i32 and weight (V, C) (a table held only quantized:
 * its rows dequantized, without gradient).
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
  const c = weight.shape[1]!;
  const out = rt.empty([...ids.shape, c], { arena: 'step' });
  const held = heldWeight(weight);    // a table held only quantized: its rows dequantized
  if (held) return gatherQuantized(rt, out, ids, held, op);
  gather(rt, out, ids, weight, op);
  if (rt.tape.needsGrad(weight)) {
    rt.tape.record(op, out, () => {
      // weight[ids[i]] += dout[i]
      if (out.grad) scatterAdd(rt, gradOf(rt, weight), out.grad, ids, op);
    });
  }
  return out;
}
