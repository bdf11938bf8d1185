// Inverted dropout with a counter-based mask: element i is kept iff hash(seed, i) ≥ threshold
// (unsigned), so the mask is never stored; the backward regenerates it from the same seed.
// The host passes threshold = floor(p·2^32) and scale = 1/(1−p); threshold 0 keeps everything.
// Contract: any n ≥ 0, pointers need 4-byte alignment only; out may equal inp and dinp may
// equal dout; no partial overlaps. src/ref/dropout.ts reproduces the hash bit for bit.

const GOLDEN: u32 = 0x9E3779B9;   // 2^32/φ, odd: i ↦ i·GOLDEN is a bijection that spreads counters
const FMIX1: u32 = 0x85EBCA6B;    // MurmurHash3's fmix32 finalizer constants (public domain)
const FMIX2: u32 = 0xC2B2AE35;
// The vector loops' constants as a table in static data, each use one v128.load32_splat: binaryen
// folds splatted constants into v128.const, which V8 rebuilds inside loops (see simd_math.ts).
const TABLE: usize = memory.data<u32>([FMIX1, FMIX2, 0x78DDE6E4 /* 4·GOLDEN mod 2^32 */]);

/** MurmurHash3's fmix32: a bijection of u32 with full avalanche (each input bit flips each output bit with p ≈ 1/2). */
// @ts-ignore: decorator
@inline function fmix32(x: u32): u32 {
  x ^= x >>> 16; x *= FMIX1;
  x ^= x >>> 13; x *= FMIX2;
  return x ^ (x >>> 16);
}

/** fmix32 on four lanes. */
// @ts-ignore: decorator
@inline function fmix32x4(x: v128): v128 {
  x = v128.xor(x, i32x4.shr_u(x, 16)); x = i32x4.mul(x, v128.load32_splat(TABLE));
  x = v128.xor(x, i32x4.shr_u(x, 13)); x = i32x4.mul(x, v128.load32_splat(TABLE, 4));
  return v128.xor(x, i32x4.shr_u(x, 16));
}

/**
 * The mask is
 *   hash(seed, i) = fmix32(fmix32(seed) ^ (i·GOLDEN)),  kept ⇔ hash ≥ threshold (unsigned).
 * Mixing the seed first makes the streams of nearby seeds (s, s+1, …) unrelated, not XOR-shifts
 * of one another; the outer fmix32 decorrelates neighbouring counters. The vector loops carry
 * w = (i, i+1, i+2, i+3)·GOLDEN and add 4·GOLDEN per step (the same values mod 2^32); this
 * scalar form serves the tails.
 */
// @ts-ignore: decorator
@inline function keep1(key: u32, i: i32, threshold: u32): bool {
  return fmix32(key ^ (<u32>i * GOLDEN)) >= threshold;
}

/**
 * dst (n) = kept ? src·scale : 0, or with `accumulate` dst += that. Inlined into both exports with
 * `accumulate` a constant, so each compiles to its own branch-free loop.
 */
// @ts-ignore: decorator
@inline function masked(dst: usize, src: usize, n: i32, seed: u32, threshold: u32, scale: f32, accumulate: bool): void {
  const key = fmix32(seed), thr = i32x4.splat(threshold), sv = f32x4.splat(scale);
  const kv = i32x4.splat(key);
  let w = i32x4.mul(i32x4(0, 1, 2, 3), i32x4.splat(GOLDEN));
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const kept = i32x4.ge_u(fmix32x4(v128.xor(w, kv)), thr);
    const v = v128.and(f32x4.mul(v128.load(src + o), sv), kept);
    v128.store(dst + o, accumulate ? f32x4.add(v128.load(dst + o), v) : v);
    w = i32x4.add(w, v128.load32_splat(TABLE, 8));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const v: f32 = keep1(key, i, threshold) ? load<f32>(src + o) * scale : 0;
    store<f32>(dst + o, accumulate ? load<f32>(dst + o) + v : v);
  }
}

/** out (n) = kept ? inp·scale : 0, kept as described above. out may equal inp. */
export function dropout_forward(out: usize /* (n) */, inp: usize /* (n) */, n: i32,
  seed: u32, threshold: u32, scale: f32): void {
  masked(out, inp, n, seed, threshold, scale, false);
}

/**
 * dinp (n) += kept ? dout·scale : 0, differentiating
 *   out = kept ? inp·scale : 0
 * with the mask regenerated from (seed, threshold). dinp may equal dout.
 */
export function dropout_backward(dinp: usize /* (n) */, dout: usize /* (n) */, n: i32,
  seed: u32, threshold: u32, scale: f32): void {
  masked(dinp, dout, n, seed, threshold, scale, true);
}
