// Rotary position embeddings (RoPE, Su et al. 2021) in the GPT-NeoX / Llama layout ("rotate
// half"), forward and backward. Within each head of hs floats the first rd (rotary dims, even,
// ≤ hs) rotate: element i pairs with i + rd/2 (i < rd/2) and turns by angle p·θ_i at position p:
//   y1 = x1·cos − x2·sin,  y2 = x2·cos + x1·sin;  elements rd … hs−1 pass through.
// cos and sin come from a table the host fills in f64 and rounds (src/ops/rope.ts): row
// positions[r] − p0 holds [cos_0 … cos_{rd/2−1} | sin_0 … sin_{rd/2−1}]. The strided side
// (inp of the forward, dinp of the backward) has rows ld floats apart: a column slice of a
// fused projection; the other side is contiguous (n, nHead·hs). Pointers need 4-byte alignment.

/**
 * out (n, nHead·hs) = the rotation of inp (n rows ld apart, nHead·hs floats each) by the angles
 * of row positions[r] − p0 of table (·, rd). out may not overlap inp.
 */
export function rope_forward(out: usize /* (n, nHead·hs) */, inp: usize /* (n, ld) */, table: usize /* (·, rd) */,
  positions: usize /* i32 (n) */, p0: i32, n: i32, nHead: i32, hs: i32, rd: i32, ld: i32): void {
  const half = rd >> 1;
  for (let r = 0; r < n; r++) {
    const cs = table + (<usize>(load<i32>(positions + (<usize>r << 2)) - p0) * <usize>rd << 2);
    const sn = cs + (<usize>half << 2);
    const x = inp + (<usize>r * <usize>ld << 2), y = out + (<usize>r * <usize>(nHead * hs) << 2);
    for (let h = 0; h < nHead; h++) {
      const xh = x + (<usize>(h * hs) << 2), yh = y + (<usize>(h * hs) << 2);
      const x2h = xh + (<usize>half << 2), y2h = yh + (<usize>half << 2);
      let i = 0;
      for (; i + 4 <= half; i += 4) {
        const o = <usize>i << 2;
        const x1 = v128.load(xh + o), x2 = v128.load(x2h + o), c = v128.load(cs + o), s = v128.load(sn + o);
        v128.store(yh + o, f32x4.sub(f32x4.mul(x1, c), f32x4.mul(x2, s)));    // x1·cos − x2·sin
        v128.store(y2h + o, f32x4.add(f32x4.mul(x2, c), f32x4.mul(x1, s)));   // x2·cos + x1·sin
      }
      for (; i < half; i++) {
        const o = <usize>i << 2;
        const x1 = load<f32>(xh + o), x2 = load<f32>(x2h + o), c = load<f32>(cs + o), s = load<f32>(sn + o);
        store<f32>(yh + o, x1 * c - x2 * s);
        store<f32>(y2h + o, x2 * c + x1 * s);
      }
      for (let j = rd; j < hs; j++) store<f32>(yh + (<usize>j << 2), load<f32>(xh + (<usize>j << 2)));
    }
  }
}

/**
 * Adds the gradient of rope_forward into dinp (n rows ld apart, nHead·hs floats each) from dout
 * (n, nHead·hs): the inverse rotation (angle −p·θ_i), differentiating
 *   y1 = x1·cos − x2·sin,  y2 = x2·cos + x1·sin:
 *   dx1 += dy1·cos + dy2·sin,  dx2 += dy2·cos − dy1·sin;  pass-through elements: dx += dy.
 * dinp may not overlap dout.
 */
export function rope_backward(dinp: usize /* (n, ld) */, dout: usize /* (n, nHead·hs) */, table: usize /* (·, rd) */,
  positions: usize /* i32 (n) */, p0: i32, n: i32, nHead: i32, hs: i32, rd: i32, ld: i32): void {
  const half = rd >> 1;
  for (let r = 0; r < n; r++) {
    const cs = table + (<usize>(load<i32>(positions + (<usize>r << 2)) - p0) * <usize>rd << 2);
    const sn = cs + (<usize>half << 2);
    const d = dinp + (<usize>r * <usize>ld << 2), g = dout + (<usize>r * <usize>(nHead * hs) << 2);
    for (let h = 0; h < nHead; h++) {
      const dh = d + (<usize>(h * hs) << 2), gh = g + (<usize>(h * hs) << 2);
      const d2h = dh + (<usize>half << 2), g2h = gh + (<usize>half << 2);
      let i = 0;
      for (; i + 4 <= half; i += 4) {
        const o = <usize>i << 2;
        const g1 = v128.load(gh + o), g2 = v128.load(g2h + o), c = v128.load(cs + o), s = v128.load(sn + o);
        v128.store(dh + o, f32x4.add(v128.load(dh + o), f32x4.add(f32x4.mul(g1, c), f32x4.mul(g2, s))));
        v128.store(d2h + o, f32x4.add(v128.load(d2h + o), f32x4.sub(f32x4.mul(g2, c), f32x4.mul(g1, s))));
      }
      for (; i < half; i++) {
        const o = <usize>i << 2;
        const g1 = load<f32>(gh + o), g2 = load<f32>(g2h + o), c = load<f32>(cs + o), s = load<f32>(sn + o);
        store<f32>(dh + o, load<f32>(dh + o) + (g1 * c + g2 * s));
        store<f32>(d2h + o, load<f32>(d2h + o) + (g2 * c - g1 * s));
      }
      for (let j = rd; j < hs; j++) {
        const o = <usize>j << 2;
        store<f32>(dh + o, load<f32>(dh + o) + load<f32>(gh + o));
      }
    }
  }
}
