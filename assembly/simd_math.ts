// Vector math shared by the row-wise and elementwise kernels: a multiply-add that becomes
// relaxed fma in the relaxed build, and f32x4 exp / sigmoid-style helpers accurate to a few
// ulp over the whole f32 range. Written once here so softmax and GELU agree on one exp.
// Method (textbook): exp(x) = 2^n · e^r, n = round(x/ln 2), r = x − n·ln 2 with ln 2 split in
// two (Cody–Waite), e^r − 1 by its degree-7 Taylor series (|r| ≤ ln2/2: truncation < 0.05 ulp).

/** a·b + c; one fused op where the relaxed-SIMD build allows it (either rounding is fine). */
// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return f32x4.relaxed_madd(a, b, c);
  } else {
    return f32x4.add(f32x4.mul(a, b), c);
  }
}

/** Sum of the four lanes of `v`. */
// @ts-ignore: decorator
@inline export function hsum(v: v128): f32 {
  const s = f32x4.add(v, i32x4.shuffle(v, v, 2, 3, 0, 1));
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1);
}

/** Largest of the four lanes of `v` (NaN if any lane is NaN). */
// @ts-ignore: decorator
@inline export function hmax(v: v128): f32 {
  const m = f32x4.max(v, i32x4.shuffle(v, v, 2, 3, 0, 1));
  return max<f32>(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1));
}

const LOG2E: f32 = 1.44269504;
const LN2_HI: f32 = 0.693359375;      // 355/512: n·LN2_HI is exact for |n| < 2^15
const LN2_LO: f32 = -2.12194440e-4;   // ln 2 − LN2_HI

/** e^r − 1 for |r| ≤ ln2/2: r + r²·(1/2! + r/3! + … + r⁵/7!), Horner. */
// @ts-ignore: decorator
@inline function expm1Reduced(r: v128): v128 {
  let p = f32x4.splat(1.0 / 5040.0);
  p = madd(p, r, f32x4.splat(1.0 / 720.0));
  p = madd(p, r, f32x4.splat(1.0 / 120.0));
  p = madd(p, r, f32x4.splat(1.0 / 24.0));
  p = madd(p, r, f32x4.splat(1.0 / 6.0));
  p = madd(p, r, f32x4.splat(0.5));
  return madd(p, f32x4.mul(r, r), r);
}

/** 2^n for integer lanes n in [−126, 127], as f32 bits. */
// @ts-ignore: decorator
@inline function pow2i(n: v128): v128 {
  return i32x4.shl(i32x4.add(n, i32x4.splat(127)), 23);
}

/**
 * e^x per lane. exp(−Inf) = 0, exp(x ≥ 88.73) = +Inf, subnormal results kept, NaN → NaN.
 * Inputs are clamped to [−110, 89] first; beyond those the result is already 0 or Inf.
 * 2^n is applied as 2^(n>>1) · 2^(n − n>>1) so both factors stay normal for n in [−159, 129].
 */
// @ts-ignore: decorator
@inline export function exp4(x: v128): v128 {
  x = f32x4.min(f32x4.max(x, f32x4.splat(-110.0)), f32x4.splat(89.0));
  const fn = f32x4.nearest(f32x4.mul(x, f32x4.splat(LOG2E)));
  let r = madd(fn, f32x4.splat(-LN2_HI), x);
  r = madd(fn, f32x4.splat(-LN2_LO), r);
  const y = f32x4.add(expm1Reduced(r), f32x4.splat(1.0));
  const n = i32x4.trunc_sat_f32x4_s(fn);
  const n1 = i32x4.shr_s(n, 1);
  return f32x4.mul(f32x4.mul(y, pow2i(n1)), pow2i(i32x4.sub(n, n1)));
}

/** e^x for one scalar (tails of vector loops), through the same vector code. */
// @ts-ignore: decorator
@inline export function exp1(x: f32): f32 {
  return f32x4.extract_lane(exp4(f32x4.splat(x)), 0);
}
