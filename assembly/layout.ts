// Where the host may start placing data: everything from heap_base() up belongs to
// the host's arenas (src/memory). Below it lies the kernels' small read-only constant
// table (simd_math.ts); the host never writes there.

/** First byte the host may use. */
export function heap_base(): usize {
  return __heap_base;
}
