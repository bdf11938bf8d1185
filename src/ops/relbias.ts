// T5's relative position bias as the attention kernels take it: a gather from the learned
// (buckets, heads) table into the (NH, Tq + Tk − 1) bias row of every head (relbias_forward),
// and its backward, a scatter-add into the table's gradient (relbias_backward). Checks the
// shapes and every bucket, then calls the kernel.
import { DTypeError, ShapeError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import type { Tensor } from '../tensor.js';

/** Checks table (NB, NH) f32, bias (NH, L) f32 and buckets i32 (L), each in [0, NB); returns [NH, L]. */
function checkGather(op: string, bias: Tensor, table: Tensor, buckets: Tensor): [number, number] {
  for (const [name, t] of [['table', table], ['bias', bias]] as const) {
    if (t.dtype !== 'f32') throw new DTypeError(`${op}: ${name} is ${t.describe()}, expected dtype f32`);
    if (t.shape.length !== 2) throw new ShapeError(`${op}: ${name} has shape [${t.shape.join(', ')}], expected 2 dimensions`);
  }
  if (buckets.dtype !== 'i32' || buckets.shape.length !== 1) throw new DTypeError(`${op}: buckets is ${buckets.describe()}, expected i32 (L)`);
  const [NB, NH] = table.shape as [number, number];
  const L = buckets.shape[0]!;
  if (bias.shape[0] !== NH || bias.shape[1] !== L) {
    throw new ShapeError(`${op}: bias has shape [${bias.shape.join(', ')}], expected [${NH}, ${L}] (the table's ${NH} heads, ${L} relative positions)`);
  }
  const b = buckets.i32();
  for (let i = 0; i < L; i++) {
    if (!(b[i]! >= 0 && b[i]! < NB)) throw new ShapeError(`${op}: bucket ${b[i]} at relative position ${i} is outside the table's ${NB} buckets`);
  }
  return [NH, L];
}

/**
 * bias (NH, L) ← table (NB, NH) gathered by bucket: bias[h, i] = table[buckets[i], h].
 * @example
 * ```ts
 * const bias = rt.empty([nHead, Tq + Tk - 1], { arena: 'step' });
 * relBiasGather(rt, bias, table, buckets);   // buckets i32 (Tq + Tk − 1)
 * ```
 */
export function relBiasGather(rt: Runtime, bias: Tensor, table: Tensor, buckets: Tensor): void {
  const [NH, L] = checkGather('relative bias', bias, table, buckets);
  rt.kernels.relbias_forward(bias.ptr, table.ptr, buckets.ptr, NH, L);
}

/**
 * Backward of `relBiasGather`: dtable (NB, NH) += dbias (NH, L) summed per bucket.
 * bias[h, i] = table[buckets[i], h]  ⇒  dtable[buckets[i], h] += dbias[h, i].
 * @example
 * ```ts
 * relBiasScatter(rt, gradOf(rt, table), bias.grad, buckets);
 * ```
 */
export function relBiasScatter(rt: Runtime, dtable: Tensor, dbias: Tensor, buckets: Tensor): void {
  const [NH, L] = checkGather('relative bias backward', dbias, dtable, buckets);
  rt.kernels.relbias_backward(dtable.ptr, dbias.ptr, buckets.ptr, NH, L);
}
