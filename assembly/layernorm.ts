// Layer normalisation over the last axis, forward and backward (GPT-2 / BERT / the paper).
// Each row of c floats is normalised by its own mean and biased variance, then scaled and
// shifted by weight and bias (c). The forward saves mean and rstd per row for the backward.
// Statistics are shifted by the row's first value and taken in two passes, so constant rows
// give exactly `bias` and large offsets lose no precision. Pointers need 4-byte alignment only.
import { madd, hsum } from "./simd_math";

/** Σ_j (x[j] − shift) over one row of c floats, 16 partial sums. */
function shiftedSum(x: usize, c: i32, shift: f32): f32 {
  const sh = f32x4.splat(shift);
  let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
  let i = 0;
  for (; i + 16 <= c; i += 16) {
    const p = x + (<usize>i << 2);
    a0 = f32x4.add(a0, f32x4.sub(v128.load(p), sh));
    a1 = f32x4.add(a1, f32x4.sub(v128.load(p, 16), sh));
    a2 = f32x4.add(a2, f32x4.sub(v128.load(p, 32), sh));
    a3 = f32x4.add(a3, f32x4.sub(v128.load(p, 48), sh));
  }
  for (; i + 4 <= c; i += 4) a0 = f32x4.add(a0, f32x4.sub(v128.load(x + (<usize>i << 2)), sh));
  let s = hsum(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)));
  for (; i < c; i++) s += load<f32>(x + (<usize>i << 2)) - shift;
  return s;
}

/** Σ_j (x[j] − mean)² over one row of c floats, 16 partial sums. */
function centredSquares(x: usize, c: i32, mean: f32): f32 {
  const mv = f32x4.splat(mean);
  let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
  let i = 0;
  for (; i + 16 <= c; i += 16) {
    const p = x + (<usize>i << 2);
    const d0 = f32x4.sub(v128.load(p), mv), d1 = f32x4.sub(v128.load(p, 16), mv);
    const d2 = f32x4.sub(v128.load(p, 32), mv), d3 = f32x4.sub(v128.load(p, 48), mv);
    a0 = madd(d0, d0, a0); a1 = madd(d1, d1, a1); a2 = madd(d2, d2, a2); a3 = madd(d3, d3, a3);
  }
  for (; i + 4 <= c; i += 4) {
    const d = f32x4.sub(v128.load(x + (<usize>i << 2)), mv);
    a0 = madd(d, d, a0);
  }
  let s = hsum(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)));
  for (; i < c; i++) {
    const d = load<f32>(x + (<usize>i << 2)) - mean;
    s += d * d;
  }
  return s;
}

/**
 * out (n, c) = (inp − mean) · rstd · weight + bias, per row; saves mean (n) and
 * rstd (n) = 1 / sqrt(var + eps) with the biased variance. In-place (out == inp) is allowed.
 */
export function layernorm_forward(out: usize /* (n, c) */, mean: usize /* (n) */, rstd: usize /* (n) */,
  inp: usize /* (n, c) */, weight: usize /* (c) */, bias: usize /* (c) */, n: i32, c: i32, eps: f32): void {
  if (c <= 0) return;                                 // nothing to normalise (and no x0 to read)
  for (let r = 0; r < n; r++) {
    const x = inp + (<usize>r * <usize>c << 2);
    const y = out + (<usize>r * <usize>c << 2);
    const x0 = load<f32>(x);
    const m = x0 + shiftedSum(x, c, x0) / <f32>c;
    const s = <f32>1.0 / sqrt<f32>(centredSquares(x, c, m) / <f32>c + eps);
    store<f32>(mean + (<usize>r << 2), m);
    store<f32>(rstd + (<usize>r << 2), s);
    // y = (x − m) · (s · w) + b
    const mv = f32x4.splat(m), sv = f32x4.splat(s);
    let i = 0;
    for (; i + 8 <= c; i += 8) {
      const o = <usize>i << 2;
      const w0 = f32x4.mul(v128.load(weight + o), sv), w1 = f32x4.mul(v128.load(weight + o, 16), sv);
      const d0 = f32x4.sub(v128.load(x + o), mv), d1 = f32x4.sub(v128.load(x + o, 16), mv);
      v128.store(y + o, madd(d0, w0, v128.load(bias + o)));
      v128.store(y + o, madd(d1, w1, v128.load(bias + o, 16)), 16);
    }
    for (; i + 4 <= c; i += 4) {
      const o = <usize>i << 2;
      const w = f32x4.mul(v128.load(weight + o), sv);
      v128.store(y + o, madd(f32x4.sub(v128.load(x + o), mv), w, v128.load(bias + o)));
    }
    for (; i < c; i++) {
      const o = <usize>i << 2;
      store<f32>(y + o, (load<f32>(x + o) - m) * (s * load<f32>(weight + o)) + load<f32>(bias + o));
    }
  }
}

/**
 * Adds the gradients of layernorm_forward into dinp (n, c), dweight (c) and dbias (c). Differentiates
 *   out = (inp − mean) · rstd · weight + bias
 * with norm = (inp − mean)·rstd and dnorm = weight·dout:
 *   dbias += dout;  dweight += norm·dout;
 *   dinp += rstd · (dnorm − mean_j(dnorm) − norm · mean_j(dnorm·norm)).
 * dweight = dbias = 0: dinp only (a worker pool then adds the parameter gradients by bands of
 * columns with layernorm_backward_params, which computes each of them the same way).
 * Gradient buffers may not overlap the inputs.
 */
export function layernorm_backward(dinp: usize /* (n, c) */, dweight: usize /* (c) */, dbias: usize /* (c) */,
  dout: usize /* (n, c) */, inp: usize /* (n, c) */, weight: usize /* (c) */,
  mean: usize /* (n) */, rstd: usize /* (n) */, n: i32, c: i32): void {
  for (let r = 0; r < n; r++) {
    const rb = <usize>r * <usize>c << 2;
    const x = inp + rb, g = dout + rb, d = dinp + rb;
    const m = load<f32>(mean + (<usize>r << 2)), s = load<f32>(rstd + (<usize>r << 2));
    const mv = f32x4.splat(m), sv = f32x4.splat(s);
    // pass 1: Σ dnorm and Σ dnorm·norm
    let a0 = f32x4.splat(0), a1 = a0, b0 = a0, b1 = a0;
    let i = 0;
    for (; i + 8 <= c; i += 8) {
      const o = <usize>i << 2;
      const dn0 = f32x4.mul(v128.load(weight + o), v128.load(g + o));
      const dn1 = f32x4.mul(v128.load(weight + o, 16), v128.load(g + o, 16));
      a0 = f32x4.add(a0, dn0); a1 = f32x4.add(a1, dn1);
      b0 = madd(dn0, f32x4.mul(f32x4.sub(v128.load(x + o), mv), sv), b0);
      b1 = madd(dn1, f32x4.mul(f32x4.sub(v128.load(x + o, 16), mv), sv), b1);
    }
    for (; i + 4 <= c; i += 4) {
      const o = <usize>i << 2;
      const dn = f32x4.mul(v128.load(weight + o), v128.load(g + o));
      a0 = f32x4.add(a0, dn);
      b0 = madd(dn, f32x4.mul(f32x4.sub(v128.load(x + o), mv), sv), b0);
    }
    let sdn = hsum(f32x4.add(a0, a1)), sdnn = hsum(f32x4.add(b0, b1));
    for (; i < c; i++) {
      const o = <usize>i << 2;
      const dn = load<f32>(weight + o) * load<f32>(g + o);
      sdn += dn;
      sdnn += dn * (load<f32>(x + o) - m) * s;
    }
    const mdn = f32x4.splat(sdn / <f32>c), mdnn = f32x4.splat(sdnn / <f32>c);
    // pass 2: dbias += dout; dweight += norm·dout; dinp += rstd·(dnorm − mdn − norm·mdnn)
    let j = 0;
    for (; j + 4 <= c; j += 4) {
      const o = <usize>j << 2;
      const go = v128.load(g + o);
      const nm = f32x4.mul(f32x4.sub(v128.load(x + o), mv), sv);
      if (dweight) {
        v128.store(dbias + o, f32x4.add(v128.load(dbias + o), go));
        v128.store(dweight + o, madd(nm, go, v128.load(dweight + o)));
      }
      const t = f32x4.sub(f32x4.sub(f32x4.mul(v128.load(weight + o), go), mdn), f32x4.mul(nm, mdnn));
      v128.store(d + o, madd(t, sv, v128.load(d + o)));
    }
    const sm = sdn / <f32>c, snm = sdnn / <f32>c;
    for (; j < c; j++) {
      const o = <usize>j << 2;
      const go = load<f32>(g + o);
      const nm = (load<f32>(x + o) - m) * s;
      if (dweight) {
        store<f32>(dbias + o, load<f32>(dbias + o) + go);
        store<f32>(dweight + o, load<f32>(dweight + o) + nm * go);
      }
      store<f32>(d + o, load<f32>(d + o) + (load<f32>(weight + o) * go - sm - nm * snm) * s);
    }
  }
}

/**
 * The parameter gradients of layernorm_backward alone, on the first c columns of rows ld
 * elements apart (a band of columns): dbias += dout; dweight += norm·dout, rows in order, each
 * element computed as layernorm_backward computes it (vector lanes, then the scalar tail).
 */
export function layernorm_backward_params(dweight: usize /* (c) */, dbias: usize /* (c) */,
  dout: usize /* (n, ld) */, inp: usize /* (n, ld) */, mean: usize /* (n) */, rstd: usize /* (n) */,
  n: i32, c: i32, ld: i32): void {
  for (let r = 0; r < n; r++) {
    const rb = <usize>r * <usize>ld << 2;
    const x = inp + rb, g = dout + rb;
    const m = load<f32>(mean + (<usize>r << 2)), s = load<f32>(rstd + (<usize>r << 2));
    const mv = f32x4.splat(m), sv = f32x4.splat(s);
    let j = 0;
    for (; j + 4 <= c; j += 4) {
      const o = <usize>j << 2;
      const go = v128.load(g + o);
      const nm = f32x4.mul(f32x4.sub(v128.load(x + o), mv), sv);
      v128.store(dbias + o, f32x4.add(v128.load(dbias + o), go));
      v128.store(dweight + o, madd(nm, go, v128.load(dweight + o)));
    }
    for (; j < c; j++) {
      const o = <usize>j << 2;
      const go = load<f32>(g + o);
      const nm = (load<f32>(x + o) - m) * s;
      store<f32>(dbias + o, load<f32>(dbias + o) + go);
      store<f32>(dweight + o, load<f32>(dweight + o) + nm * go);
    }
  }
}
