// Calibration loops for the benchmarks (AssemblyScript, built by bench/calibrate.ts, not
// shipped): the most f32x4 arithmetic one core does per second in the pattern of a GEMM
// micro-kernel with its operands in L1: 12 accumulators, each adding the product of a
// loaded vector and a broadcast scalar, by mul then add (simd build) or relaxed fma.

export function peak_mul_add(iters: i32, p: usize /* 48 floats */): f32 {
  let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0;
  let a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
  for (let i = 0; i < iters; i++) {
    const x = v128.load32_splat(p + (<usize>(i & 3) << 2));
    a0 = f32x4.add(a0, f32x4.mul(v128.load(p, 0), x));   a1 = f32x4.add(a1, f32x4.mul(v128.load(p, 16), x));
    a2 = f32x4.add(a2, f32x4.mul(v128.load(p, 32), x));   a3 = f32x4.add(a3, f32x4.mul(v128.load(p, 48), x));
    a4 = f32x4.add(a4, f32x4.mul(v128.load(p, 64), x));   a5 = f32x4.add(a5, f32x4.mul(v128.load(p, 80), x));
    a6 = f32x4.add(a6, f32x4.mul(v128.load(p, 96), x));   a7 = f32x4.add(a7, f32x4.mul(v128.load(p, 112), x));
    a8 = f32x4.add(a8, f32x4.mul(v128.load(p, 128), x));   a9 = f32x4.add(a9, f32x4.mul(v128.load(p, 144), x));
    a10 = f32x4.add(a10, f32x4.mul(v128.load(p, 160), x));   a11 = f32x4.add(a11, f32x4.mul(v128.load(p, 176), x));
  }
  return sum12(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11);
}

export function peak_fma(iters: i32, p: usize /* 48 floats */): f32 {
  let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0;
  let a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
  for (let i = 0; i < iters; i++) {
    const x = v128.load32_splat(p + (<usize>(i & 3) << 2));
    a0 = f32x4.relaxed_madd(v128.load(p, 0), x, a0);   a1 = f32x4.relaxed_madd(v128.load(p, 16), x, a1);
    a2 = f32x4.relaxed_madd(v128.load(p, 32), x, a2);   a3 = f32x4.relaxed_madd(v128.load(p, 48), x, a3);
    a4 = f32x4.relaxed_madd(v128.load(p, 64), x, a4);   a5 = f32x4.relaxed_madd(v128.load(p, 80), x, a5);
    a6 = f32x4.relaxed_madd(v128.load(p, 96), x, a6);   a7 = f32x4.relaxed_madd(v128.load(p, 112), x, a7);
    a8 = f32x4.relaxed_madd(v128.load(p, 128), x, a8);   a9 = f32x4.relaxed_madd(v128.load(p, 144), x, a9);
    a10 = f32x4.relaxed_madd(v128.load(p, 160), x, a10);   a11 = f32x4.relaxed_madd(v128.load(p, 176), x, a11);
  }
  return sum12(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11);
}

// The result is returned so the loops cannot be optimised away.
function sum12(a0: v128, a1: v128, a2: v128, a3: v128, a4: v128, a5: v128,
  a6: v128, a7: v128, a8: v128, a9: v128, a10: v128, a11: v128): f32 {
  const s = f32x4.add(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)), f32x4.add(f32x4.add(a4, a5), f32x4.add(a6, a7)));
  return f32x4.extract_lane(f32x4.add(s, f32x4.add(f32x4.add(a8, a9), f32x4.add(a10, a11))), 0);
}
