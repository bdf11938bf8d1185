// Pointwise activations, forward and backward: GELU (tanh approximation, as GPT-2 and BERT
// use) and ReLU (as in the paper) for feed-forward blocks, tanh for BERT's pooler. Any n ≥ 0,
// pointers need 4-byte alignment only; forwards may run in place (out == inp), backwards add
// into dinp.
import { madd, exp4, vconst, C_ONE, C_GELU_K0, C_GELU_K1, C_GELU_3K1, C_MINUS_TWO, C_MINUS_TEN, C_TEN, C_HALF, C_RSQRT2, C_RSQRT2PI, C_ERFC_P0 } from "./simd_math";

/**
 * GELU of four lanes, gelu(x) = 0.5·x·(1 + tanh(u)), u = √(2/π)·(x + 0.044715·x³), evaluated as
 * x / (1 + exp(−2u)) — the same function, since 0.5·(1 + tanh u) = 1/(1 + e^(−2u)) — which has no
 * cancellation for negative x (where 1 + tanh u → 0) and costs one exp and one division.
 */
// @ts-ignore: decorator
@inline export function gelu4(x: v128): v128 {
  const x2 = f32x4.mul(x, x);
  const u = f32x4.mul(x, madd(x2, vconst(C_GELU_K1), vconst(C_GELU_K0)));   // √(2/π)(x + 0.044715x³)
  const e = exp4(f32x4.mul(u, vconst(C_MINUS_TWO)));
  return f32x4.div(x, f32x4.add(e, vconst(C_ONE)));
}

/**
 * d gelu / dx of four lanes, differentiating  out = x·s, s = 1/(1 + e), e = exp(−2u):
 * ds/dx = 2u'·e·s² with u' = √(2/π)·(1 + 3·0.044715·x²), so gelu' = s + 2x·u'·(e·s)·s.
 * x is clamped to [−10, 10] first: beyond it gelu' is 0 or 1 to within 1e−35, and the clamp
 * keeps e finite and x·u' from overflowing (which would give Inf·0 = NaN).
 */
// @ts-ignore: decorator
@inline export function geluGrad4(x: v128): v128 {
  x = f32x4.pmin(f32x4.pmax(x, vconst(C_MINUS_TEN)), vconst(C_TEN));    // keeps NaN
  const x2 = f32x4.mul(x, x);
  const u = f32x4.mul(x, madd(x2, vconst(C_GELU_K1), vconst(C_GELU_K0)));
  const du = madd(x2, vconst(C_GELU_3K1), vconst(C_GELU_K0));
  const e = exp4(f32x4.mul(u, vconst(C_MINUS_TWO)));
  const one = vconst(C_ONE);
  const s = f32x4.div(one, f32x4.add(e, one));
  const es = f32x4.mul(e, s);                                   // = 1 − s, without cancellation
  const xdu2 = f32x4.mul(f32x4.add(x, x), du);
  return madd(f32x4.mul(xdu2, es), s, s);
}

/** out (n) = gelu(inp (n)). In-place allowed. */
export function gelu_forward(out: usize /* (n) */, inp: usize /* (n) */, n: i32): void {
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const o = <usize>i << 2;
    const y0 = gelu4(v128.load(inp + o)),     y1 = gelu4(v128.load(inp + o, 16));
    const y2 = gelu4(v128.load(inp + o, 32)), y3 = gelu4(v128.load(inp + o, 48));
    v128.store(out + o, y0); v128.store(out + o, y1, 16); v128.store(out + o, y2, 32); v128.store(out + o, y3, 48);
  }
  for (; i + 4 <= n; i += 4) v128.store(out + (<usize>i << 2), gelu4(v128.load(inp + (<usize>i << 2))));
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, f32x4.extract_lane(gelu4(f32x4.splat(load<f32>(inp + o))), 0));
  }
}

/** dinp (n) += gelu'(inp) · dout, differentiating  out = gelu(inp). dinp may equal dout. */
export function gelu_backward(dinp: usize /* (n) */, dout: usize /* (n) */, inp: usize /* (n) */, n: i32): void {
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const o = <usize>i << 2;
    const g0 = geluGrad4(v128.load(inp + o)), g1 = geluGrad4(v128.load(inp + o, 16));
    v128.store(dinp + o, madd(g0, v128.load(dout + o), v128.load(dinp + o)));
    v128.store(dinp + o, madd(g1, v128.load(dout + o, 16), v128.load(dinp + o, 16)), 16);
  }
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(dinp + o, madd(geluGrad4(v128.load(inp + o)), v128.load(dout + o), v128.load(dinp + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const g = f32x4.extract_lane(geluGrad4(f32x4.splat(load<f32>(inp + o))), 0);
    store<f32>(dinp + o, load<f32>(dinp + o) + g * load<f32>(dout + o));
  }
}

/** g (n) = gelu'(inp) · g, in place: gelu_backward into a zeroed dinp (the same lanes and
 *  operations, so the same bits), for the GEMM store that fuses it (gemm_gelu_f32). */
export function gelu_grad_scale(g: usize /* (n) */, inp: usize /* (n) */, n: i32): void {
  const z = f32x4.splat(0);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const o = <usize>i << 2;
    const g0 = geluGrad4(v128.load(inp + o)), g1 = geluGrad4(v128.load(inp + o, 16));
    v128.store(g + o, madd(g0, v128.load(g + o), z));
    v128.store(g + o, madd(g1, v128.load(g + o, 16), z), 16);
  }
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(g + o, madd(geluGrad4(v128.load(inp + o)), v128.load(g + o), z));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const d = f32x4.extract_lane(geluGrad4(f32x4.splat(load<f32>(inp + o))), 0);
    store<f32>(g + o, <f32>0 + d * load<f32>(g + o));
  }
}

/**
 * The smaller tail of the normal CDF per lane, w = Φ(−|x|) = erfc(z)/2 with z = |x|/√2, and
 * e = exp(−z²) (= √(2π)·φ(x)) when `withDensity`: erfc(z) ≈ t·exp(−z² + P(t)), t = 1/(1 + z/2),
 * P of degree 9 (table entries C_ERFC_P0 …; relative error < 1.2e-7 in exact arithmetic, and
 * never a cancellation: every term is a product or a positive sum).
 */
// @ts-ignore: decorator
@inline function normalTail4(x: v128): v128 {
  const one = vconst(C_ONE), half = vconst(C_HALF);
  const z = f32x4.mul(f32x4.abs(x), vconst(C_RSQRT2));
  const t = f32x4.div(one, madd(z, half, one));
  let p = vconst(C_ERFC_P0 + 9);
  for (let j = 8; j >= 0; j--) p = madd(p, t, vconst(C_ERFC_P0 + j));
  return f32x4.mul(f32x4.mul(t, exp4(f32x4.sub(p, f32x4.mul(z, z)))), half);
}

/** Φ(x) per lane: the tail w below 0, 1 − w above (w ≤ 1/2, so no cancellation either way); NaN stays NaN. */
// @ts-ignore: decorator
@inline function normalCdf4(x: v128): v128 {
  const w = normalTail4(x);
  return v128.bitselect(w, f32x4.sub(vconst(C_ONE), w), f32x4.lt(x, f32x4.splat(0)));
}

/** GELU with the exact CDF (transformers' "gelu", PyTorch's default): x·Φ(x) = x·(1 + erf(x/√2))/2. */
// @ts-ignore: decorator
@inline function geluErf4(x: v128): v128 {
  return f32x4.mul(x, normalCdf4(x));
}

/**
 * d/dx x·Φ(x) = Φ(x) + x·φ(x), φ(x) = exp(−x²/2)/√(2π). x is clamped to [−10, 10] first (keeps
 * NaN): beyond it the derivative is 0 or 1 to within 1e−21, and ±∞·0 cannot arise.
 */
// @ts-ignore: decorator
@inline function geluErfGrad4(x: v128): v128 {
  x = f32x4.pmin(f32x4.pmax(x, vconst(C_MINUS_TEN)), vconst(C_TEN));
  const h = f32x4.mul(x, vconst(C_RSQRT2));
  const density = f32x4.mul(exp4(f32x4.neg(f32x4.mul(h, h))), vconst(C_RSQRT2PI));
  return madd(x, density, normalCdf4(x));
}

/** out (n) = x·Φ(x), the erf GELU. In-place allowed. */
export function gelu_erf_forward(out: usize /* (n) */, inp: usize /* (n) */, n: i32): void {
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const o = <usize>i << 2;
    const y0 = geluErf4(v128.load(inp + o)), y1 = geluErf4(v128.load(inp + o, 16));
    v128.store(out + o, y0); v128.store(out + o, y1, 16);
  }
  for (; i + 4 <= n; i += 4) v128.store(out + (<usize>i << 2), geluErf4(v128.load(inp + (<usize>i << 2))));
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, f32x4.extract_lane(geluErf4(f32x4.splat(load<f32>(inp + o))), 0));
  }
}

/** dinp (n) += (Φ(x) + x·φ(x))·dout, differentiating  out = x·Φ(x). dinp may equal dout. */
export function gelu_erf_backward(dinp: usize /* (n) */, dout: usize /* (n) */, inp: usize /* (n) */, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(dinp + o, madd(geluErfGrad4(v128.load(inp + o)), v128.load(dout + o), v128.load(dinp + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const g = f32x4.extract_lane(geluErfGrad4(f32x4.splat(load<f32>(inp + o))), 0);
    store<f32>(dinp + o, load<f32>(dinp + o) + g * load<f32>(dout + o));
  }
}

/** out (n) = max(inp, 0); NaN and −0 give +0. In-place allowed. */
export function relu_forward(out: usize /* (n) */, inp: usize /* (n) */, n: i32): void {
  const z = f32x4.splat(0);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const o = <usize>i << 2;
    // pmax(0, x) = 0 < x ? x : 0
    v128.store(out + o, f32x4.pmax(z, v128.load(inp + o)));
    v128.store(out + o, f32x4.pmax(z, v128.load(inp + o, 16)), 16);
    v128.store(out + o, f32x4.pmax(z, v128.load(inp + o, 32)), 32);
    v128.store(out + o, f32x4.pmax(z, v128.load(inp + o, 48)), 48);
  }
  for (; i + 4 <= n; i += 4) v128.store(out + (<usize>i << 2), f32x4.pmax(z, v128.load(inp + (<usize>i << 2))));
  for (; i < n; i++) {
    const x = load<f32>(inp + (<usize>i << 2));
    store<f32>(out + (<usize>i << 2), x > 0 ? x : 0);
  }
}

/** dinp (n) += out > 0 ? dout : 0, differentiating  out = max(inp, 0). dinp may equal dout. */
export function relu_backward(dinp: usize /* (n) */, dout: usize /* (n) */, out: usize /* (n) */, n: i32): void {
  const z = f32x4.splat(0);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const o = <usize>i << 2;
    const g0 = v128.and(v128.load(dout + o), f32x4.gt(v128.load(out + o), z));
    const g1 = v128.and(v128.load(dout + o, 16), f32x4.gt(v128.load(out + o, 16), z));
    v128.store(dinp + o, f32x4.add(v128.load(dinp + o), g0));
    v128.store(dinp + o, f32x4.add(v128.load(dinp + o, 16), g1), 16);
  }
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const g = v128.and(v128.load(dout + o), f32x4.gt(v128.load(out + o), z));
    v128.store(dinp + o, f32x4.add(v128.load(dinp + o), g));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    if (load<f32>(out + o) > 0) store<f32>(dinp + o, load<f32>(dinp + o) + load<f32>(dout + o));
  }
}

// tanh's constants, one v128.load32_splat each (see simd_math.ts on why not v128.const):
// the branch point, −2, 1, and the Taylor coefficients of tanh(x)/x − 1 in powers of x².
const TANH: usize = memory.data<f32>([
  0.4, -2.0, 1.0,                                                  // 0..2
  -1.0 / 3, 2.0 / 15, -17.0 / 315, 62.0 / 2835,                    // 3..8: x², x⁴, …, x¹² terms
  -1382.0 / 155925, 21844.0 / 6081075,
]);

// @ts-ignore: decorator
@inline function tconst(i: i32): v128 {
  return v128.load32_splat(TANH + (<usize>i << 2));
}

/**
 * tanh of four lanes, two formulas chosen per lane, both on a = |x| with x's sign put back
 * last (so −0 stays −0):
 * - a < 0.4: a + a³·(c1 + c2·a² + … + c6·a¹⁰), the Taylor series through a¹³. The first term
 *   left out, (929569/638512875)·a¹⁵, is < 4.1e-9·tanh a there (0.07 u); a³ underflows to 0
 *   for tiny a, so tanh x = x exactly down to subnormals.
 * - a ≥ 0.4: (1 − e)/(1 + e) with e = exp(−2a) ≤ 0.45: exp4's ≈ 1 ulp error is scaled by
 *   2e/(1 − e²) ≤ 1.12, plus three roundings, so ≤ 5.4 u relative (measured 2.5 u over 4M
 *   points, both builds). Large a saturates: exp4 clamps its input, e → 0 and the result is
 *   exactly ±1 (±Inf included); NaN stays NaN.
 */
// @ts-ignore: decorator
@inline function tanh4(x: v128): v128 {
  const a = f32x4.abs(x);
  const e = exp4(f32x4.mul(a, tconst(1)));                      // exp(−2|x|) ∈ [0, 1]
  const one = tconst(2);
  const big = f32x4.div(f32x4.sub(one, e), f32x4.add(one, e));  // tanh |x|
  const a2 = f32x4.mul(a, a);
  let p = madd(tconst(8), a2, tconst(7));
  p = madd(p, a2, tconst(6));
  p = madd(p, a2, tconst(5));
  p = madd(p, a2, tconst(4));
  p = madd(p, a2, tconst(3));
  const small = madd(f32x4.mul(a, a2), p, a);                   // |x| + |x|³·p(x²)
  const sign = v128.xor(x, a);                                  // x's sign bit alone
  return v128.or(v128.bitselect(small, big, f32x4.lt(a, tconst(0))), sign);
}

/** out (n) = tanh(inp (n)). In-place allowed. */
export function tanh_forward(out: usize /* (n) */, inp: usize /* (n) */, n: i32): void {
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const o = <usize>i << 2;
    const y0 = tanh4(v128.load(inp + o)), y1 = tanh4(v128.load(inp + o, 16));
    v128.store(out + o, y0); v128.store(out + o, y1, 16);
  }
  for (; i + 4 <= n; i += 4) v128.store(out + (<usize>i << 2), tanh4(v128.load(inp + (<usize>i << 2))));
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, f32x4.extract_lane(tanh4(f32x4.splat(load<f32>(inp + o))), 0));
  }
}

/**
 * dinp (n) += (1 − out)·(1 + out)·dout, differentiating  out = tanh(inp)  (tanh' = 1 − tanh²,
 * factored so that 1 − out is exact for out ≥ 0.5 and the derivative keeps its relative
 * accuracy as out → ±1). dinp may equal dout.
 */
export function tanh_backward(dinp: usize /* (n) */, dout: usize /* (n) */, out: usize /* (n) */, n: i32): void {
  const one = tconst(2);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const y = v128.load(out + o);
    const g = f32x4.mul(f32x4.sub(one, y), f32x4.add(one, y));
    v128.store(dinp + o, madd(g, v128.load(dout + o), v128.load(dinp + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const y = load<f32>(out + o);
    store<f32>(dinp + o, load<f32>(dinp + o) + (1 - y) * (1 + y) * load<f32>(dout + o));
  }
}
