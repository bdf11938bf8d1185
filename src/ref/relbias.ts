// Plain-JS twin of assembly/relbias.ts (oracle, baseline, fallback): T5's relative position
// bias gathered from its (buckets, heads) table, and the scatter-add of its gradient.
import type { Floats } from './softmax.js';

/**
 * out (NH, L) = table (NB, NH) read at each position's bucket: out[h·L + i] = table[buckets[i]·NH + h].
 * @example relbiasForward(out, table, Int32Array.from([2, 1, 0, 17]), 8, 4)
 */
export function relbiasForward(out: Floats, table: Floats, buckets: Int32Array, nHead: number, L: number): void {
  for (let h = 0; h < nHead; h++) {
    for (let i = 0; i < L; i++) out[h * L + i] = table[buckets[i]! * nHead + h]!;
  }
}

/** dtable (NB, NH) += dout (NH, L) by bucket, positions in order: dtable[buckets[i]·NH + h] += dout[h·L + i]. */
export function relbiasBackward(dtable: Floats, dout: Floats, buckets: Int32Array, nHead: number, L: number): void {
  for (let h = 0; h < nHead; h++) {
    for (let i = 0; i < L; i++) {
      const p = buckets[i]! * nHead + h;
      dtable[p] = dtable[p]! + dout[h * L + i]!;
    }
  }
}
