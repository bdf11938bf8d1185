// Rows of a table gathered by i32 ids (embedding lookup, gatherRows) and the scatter-add of
// their gradients back into the table. The ids are checked against the table before the
// kernel runs, so it never reads or writes outside it.
import { DTypeError, ShapeError, TokenError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import type { Tensor } from '../tensor.js';
import { expectF32, expectShape } from './check.js';

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

/** Checks ids (i32, any shape), table (V, C) and rows (…ids, C); returns [V, C]. */
function checkGather(op: string, rows: Tensor, ids: Tensor, table: Tensor): [number, number] {
  if (ids.dtype !== 'i32') throw new DTypeError(`${op}: ids is ${ids.describe()}, expected dtype i32`);
  expectF32(op, 'table', table);
  expectF32(op, 'rows', rows);
  if (table.shape.length !== 2) throw new ShapeError(`${op}: table has shape [${table.shape.join(', ')}], expected (V, C)`);
  const [vocab, c] = table.shape as [number, number];
  expectShape(op, 'rows', rows, [...ids.shape, c]);
  checkIds(op, ids.i32(), vocab);
  return [vocab, c];
}

/**
 * rows (…, C) = table[ids] for ids (…) of dtype i32 and table (V, C). `op` names the caller in errors.
 * @example
 * ```ts
 * const out = rt.empty([B, T, C], { arena: 'step' });
 * gather(rt, out, idx, wte);            // idx i32 (B, T), wte (V, C)
 * ```
 */
export function gather(rt: Runtime, rows: Tensor, ids: Tensor, table: Tensor, op = 'gather'): Tensor {
  const [, c] = checkGather(op, rows, ids, table);
  rt.kernels.embedding_forward(rows.ptr, ids.ptr, table.ptr, ids.size, c);
  return rows;
}

/**
 * table[ids[i]] += rows[i] for every i, in order (an id picked twice gets both rows): the
 * backward of `gather`.
 * @example
 * ```ts
 * scatterAdd(rt, wte.grad, dout, idx);  // dout (B, T, C) into wte's gradient (V, C)
 * ```
 */
export function scatterAdd(rt: Runtime, table: Tensor, rows: Tensor, ids: Tensor, op = 'scatterAdd'): Tensor {
  const [, c] = checkGather(op, rows, ids, table);
  rt.kernels.embedding_backward(table.ptr, rows.ptr, ids.ptr, ids.size, c, c);
  return table;
}
