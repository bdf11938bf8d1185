// Calibration loops for the benchmarks (AssemblyScript, built by bench/calibrate.ts, not
// shipped): the most f32x4 arithmetic one core does per second in the pattern of a GEMM
// micro-kernel with its operands in L1, by mul then add (simd build) or relaxed fma, in two
// register shapes (the probe reports the better one per kind; see calibrate.ts). Each shape is
// one inlined body; `fma` is a constant at every call, so each export compiles to its own loop.

/** acc + b·x: relaxed fma, or mul then add. */
// @ts-ignore: decorator
@inline function mac(fma: bool, b: v128, x: v128, acc: v128): v128 {
  return fma ? f32x4.relaxed_madd(b, x, acc) : f32x4.add(acc, f32x4.mul(b, x));
}

// 12×1: 12 accumulators, each adding the product of a loaded vector and one broadcast scalar.
// @ts-ignore: decorator
@inline function tile12x1(fma: bool, iters: i32, p: usize /* 48 floats */): f32 {
  let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0;
  let a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
  for (let i = 0; i < iters; i++) {
    const x = v128.load32_splat(p + (<usize>(i & 3) << 2));
    a0 = mac(fma, v128.load(p, 0), x, a0);     a1 = mac(fma, v128.load(p, 16), x, a1);
    a2 = mac(fma, v128.load(p, 32), x, a2);    a3 = mac(fma, v128.load(p, 48), x, a3);
    a4 = mac(fma, v128.load(p, 64), x, a4);    a5 = mac(fma, v128.load(p, 80), x, a5);
    a6 = mac(fma, v128.load(p, 96), x, a6);    a7 = mac(fma, v128.load(p, 112), x, a7);
    a8 = mac(fma, v128.load(p, 128), x, a8);   a9 = mac(fma, v128.load(p, 144), x, a9);
    a10 = mac(fma, v128.load(p, 160), x, a10); a11 = mac(fma, v128.load(p, 176), x, a11);
  }
  return f32x4.extract_lane(sum4(sum4(a0, a1, a2, a3), sum4(a4, a5, a6, a7), sum4(a8, a9, a10, a11), f32x4.splat(0)), 0);
}

// 4×8: a GEMM 4×8 register tile. Per iteration 2 loaded vectors (a row of B) × 4 broadcast
// scalars (a column of A) into 8 accumulators: 14 live xmm registers plus one temporary for the
// product of mul+add, within the 15 V8 allocates on x64 (12×1 needs as many but is less GEMM-like).
// @ts-ignore: decorator
@inline function tile4x8(fma: bool, iters: i32, p: usize /* 48 floats */): f32 {
  let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
  for (let i = 0; i < iters; i++) {
    const q = p + (<usize>(i & 3) << 3);
    const b0 = v128.load(q, 0), b1 = v128.load(q, 16);
    const x0 = v128.load32_splat(q, 32), x1 = v128.load32_splat(q, 36);
    const x2 = v128.load32_splat(q, 40), x3 = v128.load32_splat(q, 44);
    a0 = mac(fma, b0, x0, a0);   a1 = mac(fma, b1, x0, a1);
    a2 = mac(fma, b0, x1, a2);   a3 = mac(fma, b1, x1, a3);
    a4 = mac(fma, b0, x2, a4);   a5 = mac(fma, b1, x2, a5);
    a6 = mac(fma, b0, x3, a6);   a7 = mac(fma, b1, x3, a7);
  }
  return f32x4.extract_lane(sum4(sum4(a0, a1, a2, a3), sum4(a4, a5, a6, a7), f32x4.splat(0), f32x4.splat(0)), 0);
}

export function peak_mul_add(iters: i32, p: usize): f32 { return tile12x1(false, iters, p); }
export function peak_fma(iters: i32, p: usize): f32 { return tile12x1(true, iters, p); }
export function peak_mul_add_4x8(iters: i32, p: usize): f32 { return tile4x8(false, iters, p); }
export function peak_fma_4x8(iters: i32, p: usize): f32 { return tile4x8(true, iters, p); }

// The results are returned so the loops cannot be optimised away.
function sum4(a: v128, b: v128, c: v128, d: v128): v128 {
  return f32x4.add(f32x4.add(a, b), f32x4.add(c, d));
}
