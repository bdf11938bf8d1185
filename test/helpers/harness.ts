// Kernel-test harness over the real loader: one runtime per wasm variant (created once
// per test file through createRuntime), with raw pointer allocation from its step arena,
// so kernel tests call the exports exactly as src/ops does.
import { createRuntime, type Runtime } from '../../src/index.js';

export const VARIANTS = ['simd', 'relaxed', 'threads'] as const;
export type Variant = (typeof VARIANTS)[number];

export interface Harness {
  /** The wasm exports (kernels plus heap_base and gemm_workspace_bytes). */
  k: Record<string, (...args: number[]) => number>;
  memory: WebAssembly.Memory;
  rt: Runtime;
  /** Allocates n f32/i32 slots (64-byte aligned), optionally filled; returns the byte pointer. */
  alloc(n: number, init?: ArrayLike<number>): number;
  /** A fresh view of n floats at ptr. */
  f32(ptr: number, n: number): Float32Array;
  /** Frees everything allocated through this harness. */
  reset(): void;
}

const runtimes = new Map<Variant, Runtime>();
for (const variant of VARIANTS) runtimes.set(variant, await createRuntime({ variant }));

/** The runtime of `variant`, its step arena emptied. */
export function harness(variant: Variant): Harness {
  const rt = runtimes.get(variant)!;
  rt.step.reset();
  return {
    k: rt.kernels as unknown as Harness['k'],
    memory: rt.heap.memory,
    rt,
    alloc(n, init) {
      const ptr = rt.step.alloc(n * 4);
      if (init) rt.heap.f32.set(init, ptr >>> 2);
      return ptr;
    },
    f32: (ptr, n) => new Float32Array(rt.heap.memory.buffer, ptr, n),
    reset: () => rt.step.reset(),
  };
}

/** Copies `data` into wasm memory at a 64-byte boundary + 4·shift bytes (shift 1 = unaligned view); returns the pointer. */
export function put(h: Harness, data: ArrayLike<number>, shift = 0): number {
  const p = h.alloc(data.length + shift) + 4 * shift;
  h.f32(p, data.length).set(data);
  return p;
}

/** Copies i32 `ids` into wasm memory (4·shift bytes past a 64-byte boundary); returns the pointer. */
export function putIds(h: Harness, ids: Int32Array, shift = 0): number {
  const p = h.alloc(ids.length + shift) + 4 * shift;
  new Int32Array(h.memory.buffer, p, ids.length).set(ids);
  return p;
}
