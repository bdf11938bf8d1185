// Where the host may start placing data: everything from heap_base() up belongs to
// the host's arenas (src/memory). The kernels have no static data of their own.

/** First byte the host may use. */
export function heap_base(): usize {
  return __heap_base;
}
