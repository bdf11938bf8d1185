// T5's relative position bias (Raffel et al. 2020): the key − query distance of every score is
// put into one of a few buckets — exact for small distances, logarithmically wider up to
// maxDistance, one bucket beyond — and each (bucket, head) has a learned scalar added to the
// score. Encoders use both directions (half the buckets each), decoders only the past. One table
// per stack, owned by its first layer and read by all of them (Hugging Face's layout).
import { ValueError, preview } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { relativeBias } from '../fn/relative-bias.js';
import type { ModelContext } from './context.js';
import type { Parameter, ParameterSet } from './parameters.js';

/** The bucketing of one stack: T5 uses 32 buckets and max distance 128, bidirectional in the encoder. */
export interface RelativeBucketing {
  buckets: number;
  maxDistance: number;
  /** Keys on both sides of the query (encoder); false: only keys at or before it count (causal decoder). */
  bidirectional: boolean;
}

/**
 * Checks a bucketing: an even bucket count ≥ 4 (each direction needs an exact bucket and a log
 * range) and an integer maxDistance beyond the exact range (buckets / 2, the decoder's), else
 * ValueError naming the value.
 */
export function checkBucketing(op: string, b: RelativeBucketing): void {
  if (!Number.isInteger(b.buckets) || b.buckets < 4 || b.buckets % 2 !== 0) {
    throw new ValueError(`${op}: relative attention buckets is ${preview(b.buckets)}, expected an even integer ≥ 4`);
  }
  if (!Number.isInteger(b.maxDistance) || b.maxDistance <= b.buckets / 2) {
    throw new ValueError(`${op}: relative attention max distance is ${preview(b.maxDistance)}, expected an integer > buckets / 2 = ${b.buckets / 2} (the exact range)`);
  }
  if (typeof b.bidirectional !== 'boolean') throw new ValueError(`${op}: bidirectional is ${preview(b.bidirectional)}, expected true or false`);
}

/**
 * T5's bucket of relative position `rel` = key position − query position. Bidirectional: half
 * the buckets per side, keys after the query in the upper half; unidirectional: keys after the
 * query all fall in bucket 0. Within a side, with n = |distance| (unidirectional: max(−rel, 0))
 * and e = (side's buckets) / 2: n < e is its own bucket; beyond, e + ⌊log(n/e) / log(maxDistance/e)
 * · (side − e)⌋, capped at side − 1. The log term is evaluated in f32, as T5's reference
 * implementations do, so buckets at the boundaries agree with Hugging Face's bit for bit.
 * @example
 * ```ts
 * const b = { buckets: 32, maxDistance: 128, bidirectional: true };
 * [-1, 1, -16, 16, -200].map((r) => relativePositionBucket(r, b));   // [1, 17, 10, 26, 15]
 * ```
 */
export function relativePositionBucket(rel: number, b: RelativeBucketing): number {
  const f = Math.fround;
  let side = b.buckets, base = 0, n: number;
  if (b.bidirectional) {
    side = b.buckets / 2;
    if (rel > 0) base = side;
    n = Math.abs(rel);
  } else {
    n = Math.max(-rel, 0);
  }
  const exact = Math.floor(side / 2);
  if (n < exact) return base + n;
  const logRatio = f(f(Math.log(f(n / exact))) / f(Math.log(b.maxDistance / exact)));
  return base + Math.min(exact + Math.trunc(f(logRatio * (side - exact))), side - 1);
}

/**
 * The buckets of an attention's bias row for Tq queries at the end of Tk keys: entry i holds key −
 * query distance i − (Tk − 1) (query r sits at position r + Tk − Tq; the ops' rel index is
 * j − r + Tq − 1). i32 (Tq + Tk − 1).
 * @example
 * ```ts
 * relativeBuckets(1, 3, { buckets: 32, maxDistance: 128, bidirectional: false });   // distances −2, −1, 0 → [2, 1, 0]
 * ```
 */
export function relativeBuckets(Tq: number, Tk: number, b: RelativeBucketing): Int32Array {
  const out = new Int32Array(Tq + Tk - 1);
  for (let i = 0; i < out.length; i++) out[i] = relativePositionBucket(i - (Tk - 1), b);
  return out;
}

/**
 * A stack's learned relative position bias: the table `<prefix>.weight` (buckets, nHead), and
 * `forward(Tq, Tk)`, the (NH, Tq + Tk − 1) bias every self-attention of the stack adds to its
 * scores (differentiable in the table).
 * @example
 * ```ts
 * const bias = new RelativeBias(ctx, ps, 'encoder.block.0.layer.0.SelfAttention.relative_attention_bias', 8,
 *   { buckets: 32, maxDistance: 128, bidirectional: true });
 * const rel = bias.forward(T, T);   // (8, 2T − 1)
 * ```
 */
export class RelativeBias {
  readonly table: Parameter;
  constructor(readonly ctx: ModelContext, ps: ParameterSet, prefix: string, readonly nHead: number, readonly bucketing: RelativeBucketing, std = 0.02) {
    checkBucketing(prefix, bucketing);
    this.table = ps.declare(`${prefix}.weight`, [bucketing.buckets, nHead], { normal: std }, false);
  }

  /** rel (NH, Tq + Tk − 1) for Tq queries at the end of Tk keys (step arena). */
  forward(Tq: number, Tk: number): Tensor {
    return relativeBias(this.ctx.rt, this.table.value, relativeBuckets(Tq, Tk, this.bucketing));
  }
}
