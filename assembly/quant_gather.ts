// Rows of a quantized or half-precision table (layout: quant_pack.ts, the table stored (V, C) and
// packed as op(W) = Wᵀ, so table row j is output column j): the embedding lookup of a model whose
// tied embedding is held only in that format (src/nn/parameters.ts, held weights).
//   out (count, k) f32 = row ids[i] of the table, dequantized: int8 fl(scale_j · q), f16 and bf16
//   exactly. Contract: every ids[i] in [0, N) (the op checks them); out does not overlap the table.
// Column j of sliver s = ⌊j/8⌋ is lane r = j mod 8: its elements pair up (k even, k odd) at a
// stride of 16 elements, so a row is read as k/2 pairs 16 apart. A lookup moves k values, far
// below any product's work, so it runs element by element (src/ref/quant.ts gatherQuant is the twin).
import { sliver_elems } from "./quant_pack";

/** 2^112: f16 bits moved into an f32 exponent give w·2^-112 (exact, subnormals included); this scales back. */
const F16_W: f32 = 5.192296858534828e33;

/** The f32 value of f16 bits h (finite: the packers saturate). */
// @ts-ignore: decorator
@inline function f16_value(h: u32): f32 {
  return reinterpret<f32>((<u32>(<i32>(h << 16) >> 3)) & 0x8fffe000) * F16_W;
}

/** out (count, k) = table rows ids (count); fmt 0: int8 with per-row scales, 1: f16, 2: bf16. */
export function gather_quant(out: usize /* (count, k) */, ids: usize /* (count) i32 */, data: usize, scales: usize /* (N) or 0 */,
  count: i32, k: i32, fmt: i32): void {
  const se = sliver_elems(k), pairs = k >> 1, odd = k & 1;
  for (let i = 0; i < count; i++) {
    const j = load<i32>(ids + (<usize>i << 2));
    const r = j & 7;
    // element index of (p = 0, r) in the table
    const e0 = <usize>(j >> 3) * se + <usize>((r >> 2) * 8 + (r & 3) * 2);
    const y = out + (<usize>i * <usize>k << 2);
    if (fmt == 0) {
      const s = load<f32>(scales + (<usize>j << 2));
      const b = data + e0;
      for (let p = 0; p < pairs; p++) {
        const a = b + (<usize>p << 4);
        store<f32>(y + (<usize>p << 3), s * <f32>load<i8>(a));
        store<f32>(y + (<usize>p << 3), s * <f32>load<i8>(a, 1), 4);
      }
      if (odd) store<f32>(y + (<usize>pairs << 3), s * <f32>load<i8>(b + (<usize>pairs << 4)));
    } else {
      const b = data + (e0 << 1);
      for (let p = 0; p < pairs; p++) {
        const v = load<u32>(b + (<usize>p << 5));
        if (fmt == 1) {
          store<f32>(y + (<usize>p << 3), f16_value(v & 0xffff));
          store<f32>(y + (<usize>p << 3), f16_value(v >> 16), 4);
        } else {
          store<u32>(y + (<usize>p << 3), v << 16);
          store<u32>(y + (<usize>p << 3), v & 0xffff0000, 4);
        }
      }
      if (odd) {
        const h = <u32>load<u16>(b + (<usize>pairs << 5));
        if (fmt == 1) store<f32>(y + (<usize>pairs << 3), f16_value(h));
        else store<u32>(y + (<usize>pairs << 3), h << 16);
      }
    }
  }
}
