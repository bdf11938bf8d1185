// Calibration loops for the benchmarks (AssemblyScript, built by bench/calibrate.ts, not
// shipped): the most f32x4 arithmetic one core does per second, as 12 independent chains
// of mul+add (the simd build's GEMM step) or of relaxed fma (the relaxed build's).

export function peak_mul_add(iters: i32): f32 {
  const x = f32x4.splat(0.999), y = f32x4.splat(0.001);
  let a0 = f32x4.splat(1), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0;
  let a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
  for (let i = 0; i < iters; i++) {
    a0 = f32x4.add(f32x4.mul(a0, x), y);   a1 = f32x4.add(f32x4.mul(a1, x), y);
    a2 = f32x4.add(f32x4.mul(a2, x), y);   a3 = f32x4.add(f32x4.mul(a3, x), y);
    a4 = f32x4.add(f32x4.mul(a4, x), y);   a5 = f32x4.add(f32x4.mul(a5, x), y);
    a6 = f32x4.add(f32x4.mul(a6, x), y);   a7 = f32x4.add(f32x4.mul(a7, x), y);
    a8 = f32x4.add(f32x4.mul(a8, x), y);   a9 = f32x4.add(f32x4.mul(a9, x), y);
    a10 = f32x4.add(f32x4.mul(a10, x), y); a11 = f32x4.add(f32x4.mul(a11, x), y);
  }
  return sum12(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11);
}

export function peak_fma(iters: i32): f32 {
  const x = f32x4.splat(0.999), y = f32x4.splat(0.001);
  let a0 = f32x4.splat(1), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0;
  let a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
  for (let i = 0; i < iters; i++) {
    a0 = f32x4.relaxed_madd(a0, x, y);   a1 = f32x4.relaxed_madd(a1, x, y);
    a2 = f32x4.relaxed_madd(a2, x, y);   a3 = f32x4.relaxed_madd(a3, x, y);
    a4 = f32x4.relaxed_madd(a4, x, y);   a5 = f32x4.relaxed_madd(a5, x, y);
    a6 = f32x4.relaxed_madd(a6, x, y);   a7 = f32x4.relaxed_madd(a7, x, y);
    a8 = f32x4.relaxed_madd(a8, x, y);   a9 = f32x4.relaxed_madd(a9, x, y);
    a10 = f32x4.relaxed_madd(a10, x, y); a11 = f32x4.relaxed_madd(a11, x, y);
  }
  return sum12(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11);
}

// The result is returned so the loops cannot be optimised away.
function sum12(a0: v128, a1: v128, a2: v128, a3: v128, a4: v128, a5: v128,
  a6: v128, a7: v128, a8: v128, a9: v128, a10: v128, a11: v128): f32 {
  const s = f32x4.add(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)), f32x4.add(f32x4.add(a4, a5), f32x4.add(a6, a7)));
  return f32x4.extract_lane(f32x4.add(s, f32x4.add(f32x4.add(a8, a9), f32x4.add(a10, a11))), 0);
}
