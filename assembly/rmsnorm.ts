// RMS normalisation over the last axis, forward and backward (T5's scale-only LayerNorm, Llama's
// RMSNorm): each row of c floats is divided by its root mean square, then scaled by weight (c).
// No mean is taken out and there is no bias. The forward saves rstd per row for the backward.
// The backward is two kernels (dinp by rows, dweight by bands of columns) so that a worker pool
// splits both without changing a bit. Pointers need 4-byte alignment only.
import { madd, hsum } from "./simd_math";

/** Σ_j x[j]² over one row of c floats, 16 partial sums (no cancellation: every term is ≥ 0). */
function sumSquares(x: usize, c: i32): f32 {
  let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
  let i = 0;
  for (; i + 16 <= c; i += 16) {
    const p = x + (<usize>i << 2);
    const x0 = v128.load(p), x1 = v128.load(p, 16), x2 = v128.load(p, 32), x3 = v128.load(p, 48);
    a0 = madd(x0, x0, a0); a1 = madd(x1, x1, a1); a2 = madd(x2, x2, a2); a3 = madd(x3, x3, a3);
  }
  for (; i + 4 <= c; i += 4) {
    const v = v128.load(x + (<usize>i << 2));
    a0 = madd(v, v, a0);
  }
  let s = hsum(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)));
  for (; i < c; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    s += v * v;
  }
  return s;
}

/**
 * out (n, c) = inp · rstd · weight per row, rstd (n) = 1 / sqrt(mean_j inp² + eps) saved.
 * In-place (out == inp) is allowed.
 */
export function rmsnorm_forward(out: usize /* (n, c) */, rstd: usize /* (n) */, inp: usize /* (n, c) */,
  weight: usize /* (c) */, n: i32, c: i32, eps: f32): void {
  if (c <= 0) return;
  for (let r = 0; r < n; r++) {
    const x = inp + (<usize>r * <usize>c << 2);
    const y = out + (<usize>r * <usize>c << 2);
    const s = <f32>1.0 / sqrt<f32>(sumSquares(x, c) / <f32>c + eps);
    store<f32>(rstd + (<usize>r << 2), s);
    // y = x · (w · s)
    const sv = f32x4.splat(s);
    let i = 0;
    for (; i + 8 <= c; i += 8) {
      const o = <usize>i << 2;
      const y0 = f32x4.mul(v128.load(x + o), f32x4.mul(v128.load(weight + o), sv));
      const y1 = f32x4.mul(v128.load(x + o, 16), f32x4.mul(v128.load(weight + o, 16), sv));
      v128.store(y + o, y0); v128.store(y + o, y1, 16);
    }
    for (; i + 4 <= c; i += 4) {
      const o = <usize>i << 2;
      v128.store(y + o, f32x4.mul(v128.load(x + o), f32x4.mul(v128.load(weight + o), sv)));
    }
    for (; i < c; i++) {
      const o = <usize>i << 2;
      store<f32>(y + o, load<f32>(x + o) * (load<f32>(weight + o) * s));
    }
  }
}

/**
 * Adds the input gradient of rmsnorm_forward into dinp (n, c). Differentiates
 *   out = inp · rstd · weight,  rstd = (mean_j inp² + eps)^(−1/2)
 * with norm = inp·rstd and dnorm = weight·dout (d rstd / d inp_k = −rstd³·inp_k / c):
 *   dinp += rstd · (dnorm − norm · mean_j(dnorm·norm)).
 * dinp may not overlap the inputs.
 */
export function rmsnorm_backward(dinp: usize /* (n, c) */, dout: usize /* (n, c) */, inp: usize /* (n, c) */,
  weight: usize /* (c) */, rstd: usize /* (n) */, n: i32, c: i32): void {
  for (let r = 0; r < n; r++) {
    const rb = <usize>r * <usize>c << 2;
    const x = inp + rb, g = dout + rb, d = dinp + rb;
    const s = load<f32>(rstd + (<usize>r << 2));
    const sv = f32x4.splat(s);
    // pass 1: Σ dnorm·norm
    let a0 = f32x4.splat(0), a1 = a0;
    let i = 0;
    for (; i + 8 <= c; i += 8) {
      const o = <usize>i << 2;
      const dn0 = f32x4.mul(v128.load(weight + o), v128.load(g + o));
      const dn1 = f32x4.mul(v128.load(weight + o, 16), v128.load(g + o, 16));
      a0 = madd(dn0, f32x4.mul(v128.load(x + o), sv), a0);
      a1 = madd(dn1, f32x4.mul(v128.load(x + o, 16), sv), a1);
    }
    for (; i + 4 <= c; i += 4) {
      const o = <usize>i << 2;
      a0 = madd(f32x4.mul(v128.load(weight + o), v128.load(g + o)), f32x4.mul(v128.load(x + o), sv), a0);
    }
    let sdnn = hsum(f32x4.add(a0, a1));
    for (; i < c; i++) {
      const o = <usize>i << 2;
      sdnn += load<f32>(weight + o) * load<f32>(g + o) * (load<f32>(x + o) * s);
    }
    const m = sdnn / <f32>c;
    const mv = f32x4.splat(m);
    // pass 2: dinp += rstd · (dnorm − norm·m)
    let j = 0;
    for (; j + 4 <= c; j += 4) {
      const o = <usize>j << 2;
      const nm = f32x4.mul(v128.load(x + o), sv);
      const t = f32x4.sub(f32x4.mul(v128.load(weight + o), v128.load(g + o)), f32x4.mul(nm, mv));
      v128.store(d + o, madd(t, sv, v128.load(d + o)));
    }
    for (; j < c; j++) {
      const o = <usize>j << 2;
      const nm = load<f32>(x + o) * s;
      store<f32>(d + o, load<f32>(d + o) + (load<f32>(weight + o) * load<f32>(g + o) - nm * m) * s);
    }
  }
}

/**
 * The weight gradient of rmsnorm_forward on the first c columns of rows ld elements apart (all
 * columns: c = ld; a band of columns: a pointer offset and a smaller c):
 *   dweight += Σ_rows norm · dout,  norm = inp · rstd,
 * rows in order; every column through the same vector lanes (the tail through a splat), so
 * bands cut anywhere give the bits of the whole call.
 */
export function rmsnorm_backward_params(dweight: usize /* (c) */, dout: usize /* (n, ld) */, inp: usize /* (n, ld) */,
  rstd: usize /* (n) */, n: i32, c: i32, ld: i32): void {
  for (let r = 0; r < n; r++) {
    const rb = <usize>r * <usize>ld << 2;
    const x = inp + rb, g = dout + rb;
    const sv = f32x4.splat(load<f32>(rstd + (<usize>r << 2)));
    let j = 0;
    for (; j + 4 <= c; j += 4) {
      const o = <usize>j << 2;
      v128.store(dweight + o, madd(f32x4.mul(v128.load(x + o), sv), v128.load(g + o), v128.load(dweight + o)));
    }
    for (; j < c; j++) {
      const o = <usize>j << 2;
      const v = madd(f32x4.mul(f32x4.splat(load<f32>(x + o)), sv), f32x4.splat(load<f32>(g + o)), f32x4.splat(load<f32>(dweight + o)));
      store<f32>(dweight + o, f32x4.extract_lane(v, 0));
    }
  }
}
