// The gate of a gated feed-forward (Shazeer 2020, "GLU Variants Improve Transformer"), forward
// and backward: SwiGLU (Llama's MLP) out = silu(gate) ⊙ up, silu(a) = a·sigmoid(a), and GeGLU
// (T5 v1.1, Flan-T5: "gated-gelu") out = gelu(gate) ⊙ up with the tanh GELU of activation.ts.
// gate and up are rows ld floats apart, so both may be column halves of one (n, 2c) GEMM output
// (ld = 2c) or two separate (n, c) tensors (ld = c); out and dout are contiguous (n, c). Any
// n, c ≥ 0, pointers need 4-byte alignment only.
import { madd, exp4, vconst, C_ONE } from "./simd_math";
import { gelu4, geluGrad4 } from "./activation";

/**
 * silu(a) = a·σ(a) of four lanes. σ(a) and 1 − σ(a) come from t = exp(−|a|) ≤ 1 (never
 * overflows): with q = 1/(1 + t), σ(|a|) = q and 1 − σ(|a|) = t·q; for a < 0 the two swap.
 * Neither is formed as 1 − something, so both keep their relative accuracy (≤ 6.2u: exp4's
 * ≤ 2.1u, then the sum, the division and the product u each). NaN stays NaN.
 */
// @ts-ignore: decorator
@inline function silu4(a: v128): v128 {
  const t = exp4(f32x4.neg(f32x4.abs(a)));
  const q = f32x4.div(vconst(C_ONE), f32x4.add(vconst(C_ONE), t));
  const s = v128.bitselect(f32x4.mul(t, q), q, f32x4.lt(a, f32x4.splat(0)));    // σ(a)
  return f32x4.mul(a, s);
}

/** silu'(a) = σ(a)·(1 + a·(1 − σ(a))) of four lanes, σ and 1 − σ formed as in silu4. */
// @ts-ignore: decorator
@inline function siluGrad4(a: v128): v128 {
  const t = exp4(f32x4.neg(f32x4.abs(a)));
  const q = f32x4.div(vconst(C_ONE), f32x4.add(vconst(C_ONE), t));
  const tq = f32x4.mul(t, q);
  const neg = f32x4.lt(a, f32x4.splat(0));
  const s = v128.bitselect(tq, q, neg);             // σ(a)
  const r = v128.bitselect(q, tq, neg);             // 1 − σ(a)
  return f32x4.mul(s, madd(a, r, vconst(C_ONE)));
}

/** act(a) of four lanes: silu, or (gelu) the tanh GELU. */
// @ts-ignore: decorator
@inline function act4(a: v128, gelu: bool): v128 {
  return gelu ? gelu4(a) : silu4(a);
}

/** out (n, c) = act(gate) ⊙ up, gate and up (n, c) rows ld apart. */
// @ts-ignore: decorator
@inline function glu_forward(out: usize, gate: usize, up: usize, n: i32, c: i32, ld: i32, gelu: bool): void {
  for (let r = 0; r < n; r++) {
    const y = out + (<usize>r * <usize>c << 2);
    const g = gate + (<usize>r * <usize>ld << 2), u = up + (<usize>r * <usize>ld << 2);
    let i = 0;
    for (; i + 8 <= c; i += 8) {
      const o = <usize>i << 2;
      const y0 = f32x4.mul(act4(v128.load(g + o), gelu), v128.load(u + o));
      const y1 = f32x4.mul(act4(v128.load(g + o, 16), gelu), v128.load(u + o, 16));
      v128.store(y + o, y0); v128.store(y + o, y1, 16);
    }
    for (; i + 4 <= c; i += 4) {
      const o = <usize>i << 2;
      v128.store(y + o, f32x4.mul(act4(v128.load(g + o), gelu), v128.load(u + o)));
    }
    for (; i < c; i++) {
      const o = <usize>i << 2;
      store<f32>(y + o, f32x4.extract_lane(act4(f32x4.splat(load<f32>(g + o)), gelu), 0) * load<f32>(u + o));
    }
  }
}

/** out (n, c) = silu(gate) ⊙ up, gate and up (n, c) rows ld apart. gate = +∞ gives ∞·up, −∞ NaN. */
export function swiglu_forward(out: usize /* (n, c) */, gate: usize /* (n, ld) */, up: usize /* (n, ld) */,
  n: i32, c: i32, ld: i32): void {
  glu_forward(out, gate, up, n, c, ld, false);
}

/** out (n, c) = gelu(gate) ⊙ up (tanh GELU), gate and up (n, c) rows ld apart. */
export function geglu_forward(out: usize /* (n, c) */, gate: usize /* (n, ld) */, up: usize /* (n, ld) */,
  n: i32, c: i32, ld: i32): void {
  glu_forward(out, gate, up, n, c, ld, true);
}

/**
 * Adds the gradients of swiglu_forward into dgate and dup (n, c; rows ld apart, like gate and
 * up). Differentiates  out = silu(gate) · up:
 *   dgate += dout · up · silu'(gate);  dup += dout · silu(gate).
 * dgate and dup may not overlap the inputs; they may be one buffer (gate = up: both terms add up).
 */
export function swiglu_backward(dgate: usize /* (n, ld) */, dup: usize /* (n, ld) */, dout: usize /* (n, c) */,
  gate: usize /* (n, ld) */, up: usize /* (n, ld) */, n: i32, c: i32, ld: i32): void {
  glu_backward(dgate, dup, dout, gate, up, n, c, ld, false);
}

/**
 * Adds the gradients of geglu_forward into dgate and dup, as swiglu_backward does:
 *   dgate += dout · up · gelu'(gate);  dup += dout · gelu(gate).
 */
export function geglu_backward(dgate: usize /* (n, ld) */, dup: usize /* (n, ld) */, dout: usize /* (n, c) */,
  gate: usize /* (n, ld) */, up: usize /* (n, ld) */, n: i32, c: i32, ld: i32): void {
  glu_backward(dgate, dup, dout, gate, up, n, c, ld, true);
}

/** dgate += dout·up·act'(gate), dup += dout·act(gate), four columns at a time, the tail one by one. */
// @ts-ignore: decorator
@inline function glu_backward(dgate: usize, dup: usize, dout: usize, gate: usize, up: usize, n: i32, c: i32, ld: i32, gelu: bool): void {
  const one = vconst(C_ONE), zero = f32x4.splat(0);
  for (let r = 0; r < n; r++) {
    const rs = <usize>r * <usize>ld << 2;
    const dg = dgate + rs, du = dup + rs, g = gate + rs, u = up + rs;
    const dy = dout + (<usize>r * <usize>c << 2);
    let i = 0;
    for (; i + 4 <= c; i += 4) {
      const o = <usize>i << 2;
      const a = v128.load(g + o), gy = v128.load(dy + o);
      let act: v128, grad: v128;
      if (gelu) {
        act = gelu4(a);
        grad = geluGrad4(a);
      } else {
        // silu4 and siluGrad4 in one: σ(a) and 1 − σ(a) from one exp and one division
        const t = exp4(f32x4.neg(f32x4.abs(a)));
        const q = f32x4.div(one, f32x4.add(one, t)), tq = f32x4.mul(t, q);
        const neg = f32x4.lt(a, zero);
        const s = v128.bitselect(tq, q, neg), sc = v128.bitselect(q, tq, neg);     // σ(a), 1 − σ(a)
        act = f32x4.mul(a, s);
        grad = f32x4.mul(s, madd(a, sc, one));
      }
      v128.store(dg + o, madd(f32x4.mul(gy, v128.load(u + o)), grad, v128.load(dg + o)));
      v128.store(du + o, madd(gy, act, v128.load(du + o)));      // after dg's store: dgate may be dup
    }
    glu_tail(dg, du, dy, g, u, i, c, gelu);
  }
}

/** Columns i … c − 1 of one row of a GLU backward, one lane at a time through the vector formulas. */
// @ts-ignore: decorator
@inline function glu_tail(dg: usize, du: usize, dy: usize, g: usize, u: usize, i: i32, c: i32, gelu: bool): void {
  for (; i < c; i++) {
    const o = <usize>i << 2;
    const a = f32x4.splat(load<f32>(g + o)), gy = f32x4.splat(load<f32>(dy + o));
    const grad = gelu ? geluGrad4(a) : siluGrad4(a);
    const dgv = madd(f32x4.mul(gy, f32x4.splat(load<f32>(u + o))), grad, f32x4.splat(load<f32>(dg + o)));
    store<f32>(dg + o, f32x4.extract_lane(dgv, 0));
    const duv = madd(gy, act4(a, gelu), f32x4.splat(load<f32>(du + o)));
    store<f32>(du + o, f32x4.extract_lane(duv, 0));
  }
}
