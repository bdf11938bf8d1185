// Plain-JS twin of assembly/convert.ts: f32 ↔ bf16 storage (mixed precision's saved activations).
import { f32ToBf16, bf16ToF32 } from './quant.js';

/**
 * dst (n bf16, little-endian bytes) = bf16(src (n f32)), round to nearest even (quant.ts's f32ToBf16).
 * @example
 * const dst = new Uint8Array(2);
 * packBf16(dst, new Float32Array([1]), 1);   // dst = [0x80, 0x3f]
 */
export function packBf16(dst: Uint8Array, src: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const h = f32ToBf16(src[i]!);
    dst[2 * i] = h & 0xff;
    dst[2 * i + 1] = h >>> 8;
  }
}

/**
 * dst (n f32) = src (n bf16, little-endian bytes), exact.
 * @example
 * const dst = new Float32Array(1);
 * unpackBf16(dst, new Uint8Array([0x80, 0x3f]), 1);   // dst = [1]
 */
export function unpackBf16(dst: Float32Array, src: Uint8Array, n: number): void {
  for (let i = 0; i < n; i++) dst[i] = bf16ToF32(src[2 * i]! | (src[2 * i + 1]! << 8));
}
