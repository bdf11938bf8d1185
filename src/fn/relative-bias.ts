// The differentiable gather of T5's relative position bias: the learned (buckets, heads) table
// read at each relative position's bucket, giving the (NH, Tq + Tk − 1) bias the attention ops
// add to the scores (`attend(…, { rel })`); its backward scatter-adds into the table's gradient.
import { ShapeError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import { exact, type Tensor } from '../tensor.js';
import { relBiasGather, relBiasScatter } from '../ops/relbias.js';
import { gradOf } from './grad.js';

/**
 * rel (NH, L) with rel[h, i] = table[buckets[i], h], where table is (NB, NH) and buckets (L) are
 * the buckets of the relative positions the attention's bias row holds (see nn/relative-bias.ts).
 * @example
 * ```ts
 * const rel = relativeBias(rt, table, relativeBuckets(T, T, { buckets: 32, maxDistance: 128, bidirectional: true }));
 * const { y } = attend(rt, q, k, v, nHead, { rel, scale: 1 });
 * ```
 */
export function relativeBias(rt: Runtime, table: Tensor, buckets: Int32Array): Tensor {
  if (table.shape.length !== 2) throw new ShapeError(`relative bias: table has shape [${table.shape.join(', ')}], expected (buckets, heads)`);
  const rel = exact(rt.empty([table.shape[1]!, buckets.length], { arena: 'step' }));   // (NH, L)
  const ids = rt.tensor(buckets, [buckets.length], { dtype: 'i32', arena: 'step' });
  relBiasGather(rt, rel, table, ids);
  if (rt.tape.needsGrad(table)) {
    rt.tape.record('relativeBias', rel, () => {
      if (rel.grad) relBiasScatter(rt, gradOf(rt, table), rel.grad, ids);
    });
  }
  return rel;
}
