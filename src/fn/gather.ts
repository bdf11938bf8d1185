// gatherRows: picks rows of an activation by index, differentiably — BERT's [CLS] vector for
// the pooler, or only the masked positions for the MLM head. It is an embedding lookup with
// the activation as the table, so it reuses the embedding kernels: the forward copies rows,
// the backward scatter-adds the rows' gradients back (a row picked twice gets both).
import { ShapeError, ValueError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import type { Tensor } from '../tensor.js';
import { expectF32, rowsCols } from '../ops/check.js';
import { gather, scatterAdd } from '../ops/embedding.js';
import { gradOf } from './grad.js';

/**
 * out (R, C) = x[rows[r], :] for x seen as (N, C) (all leading dimensions flattened: row
 * b·T + t of a (B, T, C) tensor is position t of sequence b).
 * @example
 * ```ts
 * const cls = gatherRows(rt, h, [0, T, 2 * T]);   // h (3, T, C) → (3, C): each sequence's position 0
 * ```
 */
export function gatherRows(rt: Runtime, x: Tensor, rows: ArrayLike<number>): Tensor {
  const op = 'gatherRows';
  expectF32(op, 'x', x);
  if (x.shape.length < 2) throw new ShapeError(`${op}: x has shape [${x.shape.join(', ')}], expected (…, N, C)`);
  const [n, c] = rowsCols(x);
  const R = rows.length;
  if (R === 0) throw new ShapeError(`${op}: no rows to gather from x [${x.shape.join(', ')}]`);
  const idx = rt.empty([R], { dtype: 'i32', arena: 'step' });
  const d = idx.i32();
  for (let r = 0; r < R; r++) {
    const i = rows[r]!;
    if (!Number.isInteger(i) || i < 0 || i >= n) throw new ValueError(`${op}: row ${i} (entry ${r}) is outside [0, ${n}) for x [${x.shape.join(', ')}]`);
    d[r] = i;
  }
  const table = x.view([n, c]);
  const out = gather(rt, rt.empty([R, c], { arena: 'step' }), idx, table);
  if (rt.tape.needsGrad(x)) {
    rt.tape.record(op, out, () => {
      // dx[rows[r], :] += dout[r, :]
      if (out.grad) scatterAdd(rt, gradOf(rt, x).view([n, c]), out.grad, idx);
    });
  }
  return out;
}
