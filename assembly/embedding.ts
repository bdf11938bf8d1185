// Token (and position) embedding lookup, forward and backward: a row gather from the table
// weight (V, C) and its transpose, a scatter-add into dweight. Contract: every ids[i] is in
// [0, V); pointers need 4-byte alignment only; out must not overlap weight, dweight must not
// overlap dout. The backward adds rows in order i = 0..N−1, so repeated ids sum the same way
// on every run and every variant (and exactly as the plain-JS twin does).

/** out (N, C) = weight[ids[i], :] for each row i: one bulk-memory copy per row. */
export function embedding_forward(out: usize /* (N, C) */, ids: usize /* (N) i32 */, weight: usize /* (V, C) */,
  n: i32, c: i32): void {
  const row = <usize>c << 2;
  for (let i = 0; i < n; i++) {
    const id = <usize>load<i32>(ids + (<usize>i << 2));
    memory.copy(out + <usize>i * row, weight + id * row, row);
  }
}

/**
 * dweight (V, ld) += scatter of dout (N, ld) by ids, on the first c columns of each row (c ≤ ld,
 * so a band of columns can be done on its own), differentiating
 *   out[i, :] = weight[ids[i], :]
 * rows i = 0..N−1 in order, each an f32 add per element (the same rounding in every variant).
 */
export function embedding_backward(dweight: usize /* (V, ld) */, dout: usize /* (N, ld) */, ids: usize /* (N) i32 */,
  n: i32, c: i32, ld: i32): void {
  const row = <usize>ld << 2;
  for (let i = 0; i < n; i++) {
    const d = dweight + <usize>load<i32>(ids + (<usize>i << 2)) * row;
    const g = dout + <usize>i * row;
    let j = 0;
    for (; j + 16 <= c; j += 16) {
      const o = <usize>j << 2;
      const y0 = f32x4.add(v128.load(d + o), v128.load(g + o));
      const y1 = f32x4.add(v128.load(d + o, 16), v128.load(g + o, 16));
      const y2 = f32x4.add(v128.load(d + o, 32), v128.load(g + o, 32));
      const y3 = f32x4.add(v128.load(d + o, 48), v128.load(g + o, 48));
      v128.store(d + o, y0); v128.store(d + o, y1, 16); v128.store(d + o, y2, 32); v128.store(d + o, y3, 48);
    }
    for (; j + 4 <= c; j += 4) {
      const o = <usize>j << 2;
      v128.store(d + o, f32x4.add(v128.load(d + o), v128.load(g + o)));
    }
    for (; j < c; j++) {
      const o = <usize>j << 2;
      store<f32>(d + o, load<f32>(d + o) + load<f32>(g + o));
    }
  }
}
