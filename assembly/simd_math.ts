// Vector math shared by the row-wise and elementwise kernels: a multiply-add that becomes
// relaxed fma in the relaxed build, horizontal sum/max, loop constants, and an f32x4 exp
// accurate to about 1 ulp over the whole f32 range (GELU's), and a cheaper one for x ≤ 0 only
// (softmax's, whose exponents are never positive).
// Method (textbook): exp(x) = 2^n · e^r, n = round(x/ln 2), r = x − n·ln 2 with ln 2 split in
// two (Cody–Waite), e^r − 1 by its degree-7 Taylor series (|r| ≤ ln2/2: truncation < 0.05 ulp),
// or, for x ≤ 0, by a degree-5 polynomial fitted to minimise the relative error (see below).

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

// Constants live in a small read-only table in the module's static data (below heap_base), and
// each use is one v128.load32_splat (vbroadcastss). V8 rebuilds every v128.const inside a loop
// with three instructions (movabs, movq, punpcklqdq), which made exp4 about twice as slow.
const TABLE: usize = memory.data<f32>([
  -110.0, 89.0,                          // 0, 1: exp4's input clamp
  1.44269504, 12582912.0,                // 2: log2 e; 3: 1.5·2^23, rounds to an integer when added
  -0.693359375, 2.12194440e-4,           // 4, 5: −ln 2 as −355/512 (exact n·hi for |n| < 2^15) and its rest
  1.0 / 5040, 1.0 / 720, 1.0 / 120,      // 6..11: 1/7! … 1/2!, then 1
  1.0 / 24, 1.0 / 6, 0.5, 1.0,
  0.7978845608, 0.0356774081, 0.1070322244, -2.0,  // 13..16: GELU's √(2/π), ·0.044715, ·3·0.044715; −2
  -10.0, 10.0,                           // 17, 18: GELU backward's input clamp
  12583039.0,                            // 19: 1.5·2^23 + 127: like 3, but t's low bits hold n + 127
  0.00831253268, 0.0418901332,           // 20..23: exp4Nonpos's c5, c4, c3, c2 (fit below)
  0.166671142, 0.499992311,
  0.70710678,                            // 24: 1/√2
  0.39894228,                            // 25: 1/√(2π)
  // 26..35: erfc(z) ≈ t·exp(−z² + P(t)), t = 1/(1 + z/2), P's coefficients from the constant
  // term up (Numerical Recipes' Chebyshev fit "erfcc": relative error < 1.2e-7 for z ≥ 0)
  -1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806,
  0.27886807, -1.13520398, 1.48851587, -0.82215223, 0.17087277,
]);
export const C_ONE = 12;
export const C_GELU_K0 = 13;
export const C_GELU_K1 = 14;
export const C_GELU_3K1 = 15;
export const C_MINUS_TWO = 16;
export const C_MINUS_TEN = 17;
export const C_TEN = 18;
export const C_HALF = 11;
export const C_RSQRT2 = 24;
export const C_RSQRT2PI = 25;
export const C_ERFC_P0 = 26;

/** The constant at index i of the table above, in all four lanes. */
// @ts-ignore: decorator
@inline export function vconst(i: i32): v128 {
  return v128.load32_splat(TABLE + (<usize>i << 2));
}

/** e^r − 1 for |r| ≤ ln2/2: r + r²·(1/2! + r/3! + … + r⁵/7!), Horner. */
// @ts-ignore: decorator
@inline function expm1Reduced(r: v128): v128 {
  let p = vconst(6);
  p = madd(p, r, vconst(7));
  p = madd(p, r, vconst(8));
  p = madd(p, r, vconst(9));
  p = madd(p, r, vconst(10));
  p = madd(p, r, vconst(11));
  return madd(p, f32x4.mul(r, r), r);
}

/**
 * e^x per lane. exp(−Inf) = 0, exp(x ≥ 88.73) = +Inf, subnormal results kept, NaN → NaN;
 * measured ≤ 1.05 ulp over [−110, 90] (both builds). Inputs are clamped to [−110, 89] first
 * (pmin/pmax keep NaN and are one instruction each); beyond those the result is already 0 or Inf.
 * n = round(x·log2 e) comes from adding 1.5·2^23 (its low mantissa bits then hold n), and 2^n
 * is applied as 2^(n>>1) · 2^(n − n>>1) so both factors stay normal for n in [−159, 129].
 */
// @ts-ignore: decorator
@inline export function exp4(x: v128): v128 {
  x = f32x4.pmin(f32x4.pmax(x, vconst(0)), vconst(1));
  const magic = vconst(3);
  const t = madd(x, vconst(2), magic);
  const fn = f32x4.sub(t, magic);                    // n as a float
  let r = madd(fn, vconst(4), x);
  r = madd(fn, vconst(5), r);
  const y = f32x4.add(expm1Reduced(r), vconst(C_ONE));
  const n = i32x4.sub(t, magic);                     // n as an integer (bits of t − bits of magic)
  const n1 = i32x4.shr_s(n, 1);
  // bits of 2^k = (k + 127) << 23 = (k << 23) + bits of 1.0
  const one = vconst(C_ONE);
  const s1 = i32x4.add(i32x4.shl(n1, 23), one), s2 = i32x4.add(i32x4.shl(i32x4.sub(n, n1), 23), one);
  return f32x4.mul(f32x4.mul(y, s1), s2);
}

/**
 * e^x per lane for x ≤ 0 (or −Inf, NaN): softmax's exp, where x = scale·(x − x*) is never positive.
 * exp(−Inf) = 0, NaN → NaN; results below 2^-126 (x ≲ −87.3) may flush to 0 or lose bits, which
 * cannot change a softmax: the row's largest term is 1, so such a term is < 2^-126 of the sum and
 * below half an ulp of every normalised output it could touch. Positive x is outside the contract.
 * Compared with exp4 this drops the upper clamp and the two-factor 2^n (2^n is one normal factor,
 * set to 0 when n < −126), and uses degree 5 instead of 7:
 *   e^r ≈ 1 + r + r²·(c2 + c3·r + c4·r² + c5·r³),  |r| ≤ ln2/2,
 * c2..c5 fitted by Lawson's iteratively reweighted least squares for the least maximum relative
 * error (1.76·2^-24 in exact arithmetic), then rounded to f32. Measured against Math.exp on 4M
 * evenly spaced f32 points of each of [−88, 0], [−1, 0], [−1e-3, 0], normal results, both builds:
 * ≤ 2.26 ulp and relative error ≤ 3.1·2^-24 (exp4: 1.03 ulp, 1.45·2^-24).
 * The lower clamp −110 keeps n ≥ −159, so n + 127 ∈ [−32, 127]: shifted left by 23 it is the bits
 * of 2^n when n ≥ −126 and a negative integer otherwise, which max_s(·, 0) turns into +0.
 */
// @ts-ignore: decorator
@inline export function exp4Nonpos(x: v128): v128 {
  x = f32x4.pmax(x, vconst(0));                      // keeps NaN; −Inf → −110
  const magic = vconst(19);
  const t = madd(x, vconst(2), magic);
  const fn = f32x4.sub(t, magic);                    // n as a float
  let r = madd(fn, vconst(4), x);
  r = madd(fn, vconst(5), r);
  let p = madd(vconst(20), r, vconst(21));
  p = madd(p, r, vconst(22));
  p = madd(p, r, vconst(23));
  const y = f32x4.add(madd(p, f32x4.mul(r, r), r), vconst(C_ONE));
  const s = i32x4.max_s(i32x4.shl(t, 23), i32x4.splat(0));   // bits of 2^n: (n + 127) << 23, or 0
  return f32x4.mul(y, s);
}

/** exp4Nonpos for one scalar x ≤ 0 (tails of softmax's vector loops), through the same vector code. */
// @ts-ignore: decorator
@inline export function exp1Nonpos(x: f32): f32 {
  return f32x4.extract_lane(exp4Nonpos(f32x4.splat(x)), 0);
}

/** e^x for one scalar (tails of vector loops), through the same vector code. */
// @ts-ignore: decorator
@inline export function exp1(x: f32): f32 {
  return f32x4.extract_lane(exp4(f32x4.splat(x)), 0);
}
