// TEMPORARY raw harness for kernel tests while src/wasm/load.ts is being written:
// instantiates one variant with an imported memory and hands out bump-allocated buffers.
import { readFileSync } from 'node:fs';

export const VARIANTS = ['simd', 'relaxed', 'threads'] as const;
export type Variant = (typeof VARIANTS)[number];

export interface Harness {
  k: Record<string, (...args: number[]) => number>;
  memory: WebAssembly.Memory;
  /** Allocates n f32/i32 slots (64-byte aligned), optionally filled; returns the byte pointer. */
  alloc(n: number, init?: ArrayLike<number>): number;
  f32(ptr: number, n: number): Float32Array;
  reset(): void;
}

export function harness(variant: Variant): Harness {
  const bytes = readFileSync(new URL(`../../build/wasmformer-${variant}.wasm`, import.meta.url));
  const shared = variant === 'threads';
  const memory = new WebAssembly.Memory({ initial: 256, maximum: 65536, shared } as WebAssembly.MemoryDescriptor);
  const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
  const k = inst.exports as unknown as Harness['k'];
  const base = (k.heap_base() + 63) & ~63;
  let top = base;
  return {
    k, memory,
    alloc(n, init) {
      const ptr = top;
      top = (top + n * 4 + 63) & ~63;
      const need = Math.ceil(top / 65536) - memory.buffer.byteLength / 65536;
      if (need > 0) memory.grow(need);
      if (init) new Float32Array(memory.buffer, ptr, n).set(init);
      return ptr;
    },
    f32: (ptr, n) => new Float32Array(memory.buffer, ptr, n),
    reset() { top = base; },
  };
}
