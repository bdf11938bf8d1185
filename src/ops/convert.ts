// Moving data between f32 and bf16 storage by byte address: mixed precision keeps a layer's
// activations as bf16 between its forward and its backward (fn/bf16-storage.ts), where they are
// no tensors, only bytes of one store. Addresses and counts come from that code, already checked.
import type { Runtime } from '../runtime.js';

/**
 * @internal `n` f32 at byte address `src` → `n` bf16 at `dst` (round to nearest even; see assembly/convert.ts).
 * @example
 * ```ts
 * packBf16(rt, store.ptr, x.ptr, x.size);   // 2·x.size bytes written
 * ```
 */
export function packBf16(rt: Runtime, dst: number, src: number, n: number): void {
  rt.kernels.pack_bf16(dst, src, n);
}

/**
 * @internal `n` bf16 at byte address `src` → `n` f32 at `dst`, exact.
 * @example
 * ```ts
 * unpackBf16(rt, x.ptr, store.ptr, x.size);
 * ```
 */
export function unpackBf16(rt: Runtime, dst: number, src: number, n: number): void {
  rt.kernels.unpack_bf16(dst, src, n);
}

/**
 * @internal Copies `bytes` bytes from `src` to `dst` (the ranges may overlap).
 * @example
 * ```ts
 * copyBytes(rt, low.ptr, high.ptr, 4096);
 * ```
 */
export function copyBytes(rt: Runtime, dst: number, src: number, bytes: number): void {
  if (bytes > 0 && dst !== src) rt.heap.u8.copyWithin(dst, src, src + bytes);
}
