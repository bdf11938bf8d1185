// bf16 storage of f32 data: mixed precision keeps the activations a layer's backward needs as
// bf16 between the forward and the backward (src/fn/bf16-storage.ts), and computes in f32.
//   pack_bf16:   dst (n u16, little-endian) = bf16(src (n f32)), round to nearest even; NaN → a
//                quiet NaN of the same sign; ±inf and values whose rounding overflows → ±max finite
//                (3.3895e38): quant_pack.ts's f32_to_bf16, element by element.
//   unpack_bf16: dst (n f32) = src (n bf16), exact (the code in the high half of the bits).
// src/ref/convert.ts is the plain-JS twin; both are exact, so they agree bit for bit.
import { f32_to_bf16, bf16x4 } from "./quant_pack";

/** dst (n bf16) = bf16(src (n f32)): eight at a time, the tail element by element. */
export function pack_bf16(dst: usize /* (n) u16 */, src: usize /* (n) f32 */, n: i32): void {
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const s = src + (<usize>i << 2);
    const lo = bf16x4(v128.load(s)), hi = bf16x4(v128.load(s, 16));       // codes in the low half of i32 lanes
    v128.store(dst + (<usize>i << 1), v128.shuffle<u16>(lo, hi, 0, 2, 4, 6, 8, 10, 12, 14));
  }
  for (; i < n; i++) store<u16>(dst + (<usize>i << 1), <u16>f32_to_bf16(load<f32>(src + (<usize>i << 2))));
}

/** dst (n f32) = src (n bf16), exact: eight at a time, the tail element by element. */
export function unpack_bf16(dst: usize /* (n) f32 */, src: usize /* (n) u16 */, n: i32): void {
  const zero = i32x4.splat(0);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const h = v128.load(src + (<usize>i << 1)), d = dst + (<usize>i << 2);
    v128.store(d, v128.shuffle<u16>(zero, h, 0, 8, 0, 9, 0, 10, 0, 11));
    v128.store(d, v128.shuffle<u16>(zero, h, 0, 12, 0, 13, 0, 14, 0, 15), 16);
  }
  for (; i < n; i++) store<u32>(dst + (<usize>i << 2), <u32>load<u16>(src + (<usize>i << 1)) << 16);
}
