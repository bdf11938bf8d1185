// Calibration loop for the benchmarks (AssemblyScript on a shared memory, built by
// bench/bandwidth.ts, not shipped): reads a byte range with v128 loads into 8 independent
// f32x4 sums, so loads, not the adds, limit it; on a buffer far larger than the caches that
// is the memory's read bandwidth for the thread running it.

/** The sum of the f32 in [p, p + bytes), bytes a multiple of 128; returned so the reads are kept. */
export function read_sum(p: usize, bytes: usize): f32 {
  let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
  const end = p + bytes;
  for (let q = p; q < end; q += 128) {
    a0 = f32x4.add(a0, v128.load(q, 0));    a1 = f32x4.add(a1, v128.load(q, 16));
    a2 = f32x4.add(a2, v128.load(q, 32));   a3 = f32x4.add(a3, v128.load(q, 48));
    a4 = f32x4.add(a4, v128.load(q, 64));   a5 = f32x4.add(a5, v128.load(q, 80));
    a6 = f32x4.add(a6, v128.load(q, 96));   a7 = f32x4.add(a7, v128.load(q, 112));
  }
  const s = f32x4.add(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)), f32x4.add(f32x4.add(a4, a5), f32x4.add(a6, a7)));
  return f32x4.extract_lane(s, 0);
}
