// T5's relative position bias as the fused attention kernels read it: the learned table
// (NB buckets, NH heads) gathered into one row of L = Tq + Tk − 1 relative positions per head,
// and the backward, a scatter-add into the table's gradient. buckets holds each relative
// position's bucket, every one in [0, NB) (src/ops/relbias.ts checks them); a tiny kernel —
// NH·L floats, not T² — kept here so that only src/ops touches the memory it writes.

/** out (NH, L): out[h·L + i] = table[buckets[i]·NH + h]. */
export function relbias_forward(out: usize /* (NH, L) */, table: usize /* (NB, NH) */, buckets: usize /* i32 (L) */, nHead: i32, L: i32): void {
  for (let h = 0; h < nHead; h++) {
    const o = out + (<usize>(h * L) << 2);
    for (let i = 0; i < L; i++) {
      const b = load<i32>(buckets + (<usize>i << 2));
      store<f32>(o + (<usize>i << 2), load<f32>(table + (<usize>(b * nHead + h) << 2)));
    }
  }
}

/**
 * dtable (NB, NH) += dout (NH, L) summed by bucket, each head's positions in order i = 0 … L−1:
 * out[h, i] = table[buckets[i], h]  ⇒  dtable[buckets[i], h] += dout[h, i].
 */
export function relbias_backward(dtable: usize /* (NB, NH) */, dout: usize /* (NH, L) */, buckets: usize /* i32 (L) */, nHead: i32, L: i32): void {
  for (let h = 0; h < nHead; h++) {
    const g = dout + (<usize>(h * L) << 2);
    for (let i = 0; i < L; i++) {
      const p = dtable + (<usize>(load<i32>(buckets + (<usize>i << 2)) * nHead + h) << 2);
      store<f32>(p, load<f32>(p) + load<f32>(g + (<usize>i << 2)));
    }
  }
}
