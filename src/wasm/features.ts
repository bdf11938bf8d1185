// What the current JavaScript runtime's WebAssembly supports, found by validating tiny
// modules (synchronous, and allowed even where compiling is not, as in workerd), plus
// whether threads are usable here (SharedArrayBuffer, a Worker, cross-origin isolation).

/** The WebAssembly features wasmformer's variants need, as this runtime reports them. */
export interface Features {
  /** Fixed-width 128-bit SIMD: needed by every wasm variant. */
  simd: boolean;
  /** Relaxed SIMD (`f32x4.relaxed_madd`): needed by the `relaxed` variant. */
  relaxedSimd: boolean;
  /** Shared memory + atomics validate and a shared `WebAssembly.Memory` can be created. */
  sharedMemory: boolean;
  /**
   * Threads can run here: a worker implementation exists, the page (if any) is cross-origin
   * isolated, and this thread may block in Atomics.wait (a page's main thread may not).
   */
  workers: boolean;
}

const HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
// type section: one type, () -> v128; function section: one function of type 0.
const V128_FUNC = [0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, 0x03, 0x02, 0x01, 0x00];
const V128_ZERO = [0xfd, 0x0c, ...new Array<number>(16).fill(0)];

function codeSection(body: number[]): number[] {
  const func = [0x00, ...body, 0x0b]; // no locals, body, end
  const entry = [func.length, ...func];
  return [0x0a, entry.length + 1, 0x01, ...entry];
}

// (func (result v128) v128.const 0)
const SIMD_MODULE = new Uint8Array([...HEADER, ...V128_FUNC, ...codeSection(V128_ZERO)]);
// (func (result v128) (f32x4.relaxed_madd (v128.const 0) (v128.const 0) (v128.const 0)))
const RELAXED_MODULE = new Uint8Array([
  ...HEADER, ...V128_FUNC,
  ...codeSection([...V128_ZERO, ...V128_ZERO, ...V128_ZERO, 0xfd, 0x85, 0x02]),
]);
// (memory 1 1 shared) with one atomic.fence in a function: shared memory + atomics.
const THREADS_MODULE = new Uint8Array([
  ...HEADER,
  0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type () -> ()
  0x03, 0x02, 0x01, 0x00,             // one function
  0x05, 0x04, 0x01, 0x03, 0x01, 0x01, // memory: shared, min 1, max 1
  ...codeSection([0xfe, 0x03, 0x00]), // atomic.fence
]);

function validates(bytes: Uint8Array<ArrayBuffer>): boolean {
  try {
    return typeof WebAssembly === 'object' && WebAssembly.validate(bytes);
  } catch {
    return false;
  }
}

function canCreateSharedMemory(): boolean {
  try {
    const mem = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true } as WebAssembly.MemoryDescriptor);
    return typeof SharedArrayBuffer === 'function' && mem.buffer instanceof SharedArrayBuffer;
  } catch {
    return false;
  }
}

/** Whether this thread may block in Atomics.wait (workers and server runtimes may; a page's main thread may not). */
function canBlock(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}

/** Logical processors this runtime reports (navigator.hardwareConcurrency, or Node's os), at least 1. */
export function hardwareThreads(): number {
  const g = globalThis as { navigator?: { hardwareConcurrency?: number }; process?: { getBuiltinModule?: (id: string) => unknown } };
  const n = g.navigator?.hardwareConcurrency;
  if (typeof n === 'number' && n >= 1) return Math.floor(n);
  const os = g.process?.getBuiltinModule?.('node:os') as { availableParallelism?(): number; cpus?(): unknown[] } | undefined;
  return Math.max(1, os?.availableParallelism?.() ?? os?.cpus?.().length ?? 1);
}

let cached: Features | undefined;

/**
 * Detects what this runtime supports. The answer is computed once and cached.
 *
 * @example
 * ```ts
 * import { detectFeatures } from 'wasmformer';
 * const f = detectFeatures();
 * console.log(f.simd, f.relaxedSimd, f.sharedMemory, f.workers);
 * ```
 */
export function detectFeatures(): Features {
  if (cached) return cached;
  const g = globalThis as {
    Worker?: unknown; crossOriginIsolated?: boolean; navigator?: { userAgent?: string }; process?: { versions?: { node?: string } };
  };
  const sharedMemory = validates(THREADS_MODULE) && canCreateSharedMemory();
  // Cloudflare workerd has SharedArrayBuffer and, with its Node compatibility, a `process` that
  // claims Node 22 and a node:worker_threads whose Worker throws "not implemented": no threads.
  const workerd = g.navigator?.userAgent === 'Cloudflare-Workers';
  const hasWorker = !workerd && (typeof g.Worker === 'function' || typeof g.process?.versions?.node === 'string');
  cached = {
    simd: validates(SIMD_MODULE),
    relaxedSimd: validates(RELAXED_MODULE),
    sharedMemory,
    workers: sharedMemory && hasWorker && g.crossOriginIsolated !== false && canBlock(),
  };
  return cached;
}
