// Plain-JS twin of assembly/dropout.ts: the oracle for its tests, the baseline for its
// benchmark and the fallback where a runtime has no wasm SIMD. Same arguments in the same
// order as the kernel; arrays are views starting where the kernel's pointers point.
// The mask's hash is 32-bit integer arithmetic (Math.imul, >>>), equal to the kernel's bit for bit.
import type { Floats } from './softmax.js';

/** MurmurHash3's fmix32 finalizer, as an unsigned 32-bit number. */
function fmix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/**
 * hash(seed, i) = fmix32(fmix32(seed) ^ (i·0x9E3779B9 mod 2^32)); element i of a dropout with
 * this seed is kept iff dropoutHash(seed, i) ≥ threshold. seed may be any number in [0, 2^32).
 */
export function dropoutHash(seed: number, i: number): number {
  return fmix32(fmix32(seed >>> 0) ^ Math.imul(i, 0x9e3779b9));
}

/**
 * out (n) = kept ? inp·scale : 0, kept ⇔ dropoutHash(seed, i) ≥ threshold (unsigned).
 * The host passes threshold = floor(p·2^32) and scale = 1/(1−p).
 * @example dropoutForward(out, x, x.length, step, Math.floor(0.1 * 2 ** 32), 1 / 0.9)
 */
export function dropoutForward(out: Floats, inp: Floats, n: number, seed: number, threshold: number, scale: number): void {
  const thr = threshold >>> 0;
  for (let i = 0; i < n; i++) out[i] = dropoutHash(seed, i) >= thr ? inp[i]! * scale : 0;
}

/** dinp (n) += kept ? dout·scale : 0, differentiating `out = kept ? inp·scale : 0`. */
export function dropoutBackward(dinp: Floats, dout: Floats, n: number, seed: number, threshold: number, scale: number): void {
  const thr = threshold >>> 0;
  for (let i = 0; i < n; i++) dinp[i] = dinp[i]! + (dropoutHash(seed, i) >= thr ? dout[i]! * scale : 0);
}
