// The runtime: one wasm instance (or the JS fallback), its memory, the two arenas, and
// tensor creation. `createRuntime` picks the best variant this JavaScript runtime
// validates, or the one asked for, and returns only when everything is ready.
import { FeatureError, ShapeError, ValueError, WasmLoadError, WasmformerError } from './errors.js';
import { Arena, type ArenaReport } from './memory/arena.js';
import { Store } from './memory/store.js';
import { Heap, PAGE_BYTES, WASM32_MAX_BYTES, alignUp } from './memory/heap.js';
import { Rng } from './random.js';
import { Tape } from './autograd/tape.js';
import { Tensor, shapeSize, tensorHooks, type DType } from './tensor.js';
import { KERNELS, jsKernels, type KernelName, type Kernels, type ModuleExports } from './wasm/abi.js';
import { detectFeatures, hardwareThreads, type Features } from './wasm/features.js';
import { loadModule, type WasmSource, type WasmVariant } from './wasm/load.js';
import { threadedKernels } from './wasm/parallel.js';
import { WorkerPool } from './wasm/pool.js';
import { LAYOUT, POOL_BYTES } from './wasm/worker-main.js';
import { startWorkers } from './wasm/workers.js';

/** The most threads a runtime may be asked for. */
export const MAX_THREADS = 256;
/** The default thread count is the number of logical processors, at most this (more rarely pays at these sizes). */
export const DEFAULT_MAX_THREADS = 8;
/** Scratch of a threaded runtime for the chunk sums of one-row products (chunks × N floats: 1M floats, e.g. 20 chunks of 50257). */
const GEMV_SCRATCH_BYTES = 4 << 20;

/** A wasm variant, or `js`: the plain-JS twins over the same memory (no SIMD needed). */
export type Backend = WasmVariant | 'js';

export interface RuntimeOptions {
  /**
   * `auto` (default) takes the best this runtime validates: `relaxed`, else `simd`, else the
   * `js` fallback (see `Runtime.notes` for why a better one was passed over), on a shared memory
   * (`relaxed-threads` / `threads`) when more than one thread runs. `simd` or `relaxed` name the
   * instruction set and run on one thread unless `threads` asks for more. `threads` and
   * `relaxed-threads` ask for the shared-memory build (and the default thread count); where
   * threads cannot run (no shared memory, no worker, a page that is not cross-origin isolated,
   * or a page's main thread, which may not block) the runtime falls back to one thread and says
   * so in `Runtime.fallback` (see `onThreadsUnavailable`). Any other explicit variant that
   * cannot run throws FeatureError.
   */
  variant?: 'auto' | Backend;
  /**
   * Threads that run the kernels, the caller's included: an integer from 1 to MAX_THREADS.
   * Default: the number of logical processors, at most DEFAULT_MAX_THREADS, wherever threads can
   * run (Node's worker_threads; Deno, Bun and cross-origin-isolated pages' Workers, from inside a
   * Worker), else 1 (Cloudflare workerd, pages that are not isolated, a page's main thread); with
   * an explicit `simd`, `relaxed` or `js` variant, 1. Results are bit for bit the same for any
   * thread count. More threads than cores work but run slower.
   */
  threads?: number;
  /**
   * More than one thread asked for (`threads` > 1, or a threads variant) where threads cannot
   * run: `'single-thread'` (default) runs on one thread and explains why in `Runtime.fallback`
   * and `Runtime.notes`; `'error'` throws FeatureError.
   */
  onThreadsUnavailable?: 'single-thread' | 'error';
  /** Where each variant's wasm comes from; default: the .wasm files shipped with the package. With this set, `auto` considers only the variants given. */
  wasm?: Partial<Record<WasmVariant, WasmSource>>;
  /** Memory size at start and the most it may grow to, in bytes (default 16 MiB and 4 GiB). */
  memory?: { initialBytes?: number; maximumBytes?: number };
  /** Overrides what feature detection found (e.g. `{ relaxedSimd: false }` for bit-exact results across machines, or to test a fallback). */
  features?: Partial<Features>;
  /** Smallest chunk the step arena takes from memory at a time (default 4 MiB). */
  stepChunkBytes?: number;
  /**
   * The longest a kernel call waits for a task a worker took, after the caller has run out of
   * tasks (default 10 s, or 100 × the caller's longest task in that call if more), and the longest
   * createRuntime waits for the workers to start. Past it the call throws WorkerError.
   */
  threadTimeoutMs?: number;
}

/** Bytes in use, as `Runtime.memoryReport()` gives them. */
export interface MemoryReport {
  backend: Backend;
  /** Size of the wasm memory now. */
  memoryBytes: number;
  /** The most the memory may grow to. */
  limitBytes: number;
  /** Bytes below the host's first arena (the module's own data and stack). */
  heapBaseBytes: number;
  persistent: ArenaReport;
  step: ArenaReport;
  /** Sum of both arenas' peaks (an upper bound on the peak of live bytes). */
  peakBytes: number;
}

/** Options of tensor creation. */
export interface TensorOptions {
  dtype?: DType;
  /** `persistent` (default for tensors you create) or `step` (released by `rt.step.reset()`). */
  arena?: 'persistent' | 'step';
}

/** Options of random initialisation. */
export interface RandomOptions extends Omit<TensorOptions, 'dtype'> {
  /** Seed of a fresh Rng, or an Rng to draw from (so successive calls differ). Default 0. */
  seed?: number | Rng;
}

/** A loaded wasmformer runtime: kernels, memory, arenas. Make one with `createRuntime`. */
export class Runtime {
  readonly backend: Backend;
  readonly features: Features;
  /**
   * @internal The kernel exports (wasm) or their JS twins over the same memory. Only `src/ops`
   * calls them (test/house.test.ts checks); everything else goes through the checked ops.
   */
  readonly kernels: Kernels;
  readonly heap: Heap;
  /** Parameters, optimizer state, anything that lives across steps: freed one allocation at a time (`free`, `dispose`). */
  readonly persistent: Store;
  /** Activations and temporaries: `reset()` after each step or generation call. */
  readonly step: Arena;
  /** Why better backends were passed over, if they were (empty when the best one loaded). */
  readonly notes: readonly string[];
  /**
   * Why this runtime is not running the variant that was asked for, or null when it is (or
   * when `auto` was asked for). Set when `variant: 'threads'` fell back to one thread, e.g.
   * "threads: this page is not cross-origin isolated (…): running on one thread ('relaxed')".
   */
  readonly fallback: string | null;
  /** The autograd tape: differentiable ops (src/fn) record here; `rt.tape.backward(loss)`. */
  readonly tape: Tape;
  /** Scratch for GEMM packing, taken from the persistent arena when the runtime is made (before any mark a user could release it with). */
  readonly gemmWork: number;
  readonly #pool: WorkerPool | null;

  /** @internal use createRuntime */
  constructor(backend: Backend, features: Features, kernels: Kernels, heap: Heap, persistent: Store, gemmWork: number,
    notes: string[], stepChunkBytes: number, fallback: string | null = null, pool: WorkerPool | null = null) {
    this.backend = backend;
    this.fallback = fallback;
    this.features = features;
    this.kernels = kernels;
    this.heap = heap;
    this.persistent = persistent;
    this.step = new Arena(heap, 'step', stepChunkBytes);
    this.notes = Object.freeze([...notes]);
    this.tape = new Tape(this);
    this.gemmWork = gemmWork;
    this.#pool = pool;
  }

  /**
   * Threads running the kernels now, the caller's included: what was asked for (or the default),
   * less workers that have ended since (see `threadNotes`); 1 after `dispose()`.
   */
  get threads(): number {
    return this.#pool ? this.#pool.size : 1;
  }

  /** Why worker threads ended, and whether the runtime can still run kernels (empty while all run). */
  get threadNotes(): string[] {
    if (!this.#pool) return [];
    const notes = this.#pool.exits;
    if (this.#pool.broken) notes.push(`unusable: ${this.#pool.broken}`);
    return notes;
  }

  /** Kernel calls split across the threads so far (`jobs`), and the tasks each thread ran (0 = the calling thread). */
  get threadStats(): { jobs: number; tasks: number[] } {
    return this.#pool ? this.#pool.stats() : { jobs: 0, tasks: [0] };
  }

  /**
   * Ends the worker threads, so that a Node process exits by itself and their memory is freed;
   * kernels run on the calling thread from then on. Idempotent; nothing to do without threads.
   */
  dispose(): void {
    this.#pool?.stop();
  }

  /** An uninitialised tensor (whatever bytes the arena held). */
  empty(shape: readonly number[], opts: TensorOptions = {}): Tensor {
    const size = shapeSize(shape);
    const { ptr, lease } = (opts.arena === 'step' ? this.step : this.persistent).take(size * 4);
    const t = new Tensor(this.heap, lease, ptr, shape, opts.dtype ?? 'f32');
    tensorHooks.created?.(t, true);
    return t;
  }

  /**
   * Frees a persistent tensor's memory for reuse now; it and every view of the same allocation
   * become stale (using them throws StaleTensorError). Step tensors are freed by their scope.
   * @example
   * ```ts
   * const t = rt.zeros([1 << 20]);
   * rt.free(t);            // the 4 MiB are reused by the next persistent allocation
   * ```
   */
  free(t: Tensor): void {
    if (t.arena !== this.persistent) throw new ValueError(`free: ${t.describe()} is not in this runtime's persistent store (step tensors are freed by rt.step scopes)`);
    this.persistent.free(t.lease);
  }

  /** A tensor of zeros. */
  zeros(shape: readonly number[], opts: TensorOptions = {}): Tensor {
    const t = this.empty(shape, opts);
    t.data().fill(0);
    return t;
  }

  /**
   * A tensor holding `values` (flat, row-major), of `shape` (default: one dimension).
   * @example
   * ```ts
   * const rt = await createRuntime();
   * const x = rt.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
   * x.toArray(); // [1, 2, 3, 4, 5, 6]
   * ```
   */
  tensor(values: ArrayLike<number>, shape: readonly number[] = [values.length], opts: TensorOptions = {}): Tensor {
    const size = shapeSize(shape);
    if (values.length !== size) {
      throw new ShapeError(`tensor: ${values.length} values do not fill shape [${shape.join(', ')}] (${size} elements)`);
    }
    if (opts.dtype === 'i32') {
      for (let i = 0; i < values.length; i++) {
        const v = values[i]!;
        if (!Number.isInteger(v) || v < -2147483648 || v > 2147483647) {
          throw new ShapeError(`tensor: value ${v} at index ${i} is not a 32-bit integer (dtype i32)`);
        }
      }
    }
    return this.empty(shape, opts).set(values);
  }

  /** Normal random numbers, mean `mean` (default 0) and standard deviation `std` (default 1). Same numbers in every runtime for a seed. */
  randn(shape: readonly number[], opts: RandomOptions & { mean?: number; std?: number } = {}): Tensor {
    const mean = opts.mean ?? 0;
    const std = opts.std ?? 1;
    return this.#random(shape, opts, (rng) => mean + std * rng.normal());
  }

  /** Uniform random numbers in [low, high) (default [0, 1)). Same numbers in every runtime for a seed. */
  uniform(shape: readonly number[], opts: RandomOptions & { low?: number; high?: number } = {}): Tensor {
    const low = opts.low ?? 0;
    const high = opts.high ?? 1;
    return this.#random(shape, opts, (rng) => low + (high - low) * rng.uniform());
  }

  #random(shape: readonly number[], opts: RandomOptions, draw: (rng: Rng) => number): Tensor {
    const rng = opts.seed instanceof Rng ? opts.seed : new Rng(opts.seed ?? 0);
    const t = this.empty(shape, { arena: opts.arena });
    const d = t.f32();
    for (let i = 0; i < d.length; i++) d[i] = draw(rng);
    return t;
  }

  /** Bytes per arena, their peaks, and the memory size. */
  memoryReport(): MemoryReport {
    const persistent = this.persistent.report();
    const step = this.step.report();
    return {
      backend: this.backend,
      memoryBytes: this.heap.memoryBytes,
      limitBytes: this.heap.limitBytes,
      heapBaseBytes: this.heap.base,
      persistent,
      step,
      peakBytes: persistent.peakBytes + step.peakBytes,
    };
  }
}

/** A growable stand-in for WebAssembly.Memory where WebAssembly itself is missing. */
class ArrayMemory {
  buffer: ArrayBuffer;
  constructor(bytes: number) {
    this.buffer = new ArrayBuffer(bytes);
  }
  grow(pages: number): number {
    const old = this.buffer.byteLength / PAGE_BYTES;
    const next = new ArrayBuffer(this.buffer.byteLength + pages * PAGE_BYTES);
    new Uint8Array(next).set(new Uint8Array(this.buffer));
    this.buffer = next;
    return old;
  }
}

function makeMemory(initialBytes: number, limitBytes: number, shared: boolean): WebAssembly.Memory {
  const initial = Math.max(1, Math.ceil(initialBytes / PAGE_BYTES));
  const maximum = Math.ceil(limitBytes / PAGE_BYTES);
  if (typeof WebAssembly !== 'object') return new ArrayMemory(initial * PAGE_BYTES) as unknown as WebAssembly.Memory;
  return new WebAssembly.Memory({ initial, maximum, shared } as WebAssembly.MemoryDescriptor);
}

/** The instruction set of a variant. */
const isaOf = (v: Backend): 'simd' | 'relaxed' | 'js' => (v === 'relaxed' || v === 'relaxed-threads' ? 'relaxed' : v === 'js' ? 'js' : 'simd');
/** The build of an instruction set, on a shared memory or not. */
const buildOf = (isa: 'simd' | 'relaxed', shared: boolean): WasmVariant => (shared ? (isa === 'relaxed' ? 'relaxed-threads' : 'threads') : isa);

/** Why this instruction set cannot run here, or null. */
function unsupported(isa: 'simd' | 'relaxed' | 'js', features: Features): string | null {
  if (isa === 'js') return null;
  if (typeof WebAssembly !== 'object') return 'this runtime has no WebAssembly';
  if (!features.simd) return 'this runtime does not validate WebAssembly SIMD';
  if (isa === 'relaxed' && !features.relaxedSimd) return 'this runtime does not validate relaxed SIMD (on Node 20 run node with --experimental-wasm-relaxed-simd)';
  return null;
}

/** Why more than one thread cannot run here, or null. */
function noThreads(features: Features): string | null {
  if (!features.sharedMemory) {
    const page = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === false;
    return page
      ? 'this page is not cross-origin isolated, so it has no SharedArrayBuffer (serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)'
      : 'this runtime cannot create a shared WebAssembly.Memory';
  }
  if (!features.workers) return 'this runtime has no worker threads (or the page is not cross-origin isolated, or this is a page\'s main thread, which may not block: create the runtime inside a Worker)';
  return null;
}

/** What to load: the builds to try, best first, each with its thread count, and why threads fell back (else null). */
interface Choice { list: { backend: Backend; threads: number }[]; fallback: string | null }

/**
 * The backends to try, best first, and their thread counts. An explicit variant is the only
 * candidate (and must be supported). `auto` tries relaxed then simd, skipping what this runtime
 * does not support, each on a shared memory first when more than one thread is wanted (and on
 * one thread after, or only, where `options.wasm` gives no shared build); only when no wasm
 * variant is supported at all does it fall back to the JS twins, so a broken .wasm is reported
 * as an error rather than silently run 50× slower. More than one thread asked for where threads
 * cannot run falls back to one thread, and `fallback` says why.
 */
function choose(options: RuntimeOptions, features: Features, notes: string[]): Choice {
  const want = options.variant ?? 'auto';
  const sharedAsked = want === 'threads' || want === 'relaxed-threads';
  const explicit = options.threads !== undefined || sharedAsked;
  let threads = options.threads ?? (want === 'auto' || sharedAsked ? Math.min(hardwareThreads(), DEFAULT_MAX_THREADS) : 1);
  let fallback: string | null = null;
  const fallBack = (why: string) => {
    if (explicit) {
      if (options.onThreadsUnavailable === 'error') throw new FeatureError(`${sharedAsked ? `variant '${want}'` : `threads: ${threads}`} cannot run here: ${why}`);
      fallback = `threads: ${why}: running on one thread`;
    }
    notes.push(`threads: ${why}: running on one thread`);
    threads = 1;
  };
  const why = noThreads(features);
  if (want === 'js' && threads > 1) {
    notes.push('threads: the js backend runs on one thread');
    threads = 1;
  } else if ((threads > 1 || sharedAsked) && why) {
    fallBack(why);
  }
  const shared = threads > 1 || (sharedAsked && !why);
  if (want !== 'auto' && !(sharedAsked && why)) {     // a threads variant that cannot run is tried as auto
    const isa = isaOf(want);
    const bad = unsupported(isa, features);
    if (bad) throw new FeatureError(`variant '${want}' cannot run here: ${bad}`);
    return { list: [{ backend: isa === 'js' ? 'js' : buildOf(isa, shared), threads }], fallback };
  }
  const given = (b: WasmVariant) => !options.wasm || options.wasm[b] !== undefined;
  if (shared && options.wasm && !given('threads') && !given('relaxed-threads')) {
    fallBack("no shared-memory build ('threads' or 'relaxed-threads') is among the wasm sources given");
  }
  const list: Choice['list'] = [];
  for (const isa of ['relaxed', 'simd'] as const) {
    const bad = unsupported(isa, features);
    if (bad && (given(isa) || given(buildOf(isa, true)))) notes.push(`${isa}: ${bad}`);
    if (bad) continue;
    if (threads > 1 && given(buildOf(isa, true))) list.push({ backend: buildOf(isa, true), threads });
    if (given(isa)) list.push({ backend: isa, threads: 1 });
  }
  if (list.length === 0) {
    notes.push('js: no wasm variant can run here, using the plain-JS kernels (much slower than wasm SIMD)');
    list.push({ backend: 'js', threads: 1 });
  }
  return { list, fallback };
}

/**
 * Loads wasmformer: picks a backend, compiles and instantiates it over a fresh memory,
 * and sets up the arenas.
 *
 * @example
 * ```ts
 * import { createRuntime } from 'wasmformer';
 * const rt = await createRuntime();            // best variant this runtime validates
 * console.log(rt.backend, rt.notes);           // e.g. 'simd', ['relaxed: ...']
 * const simd = await createRuntime({ variant: 'simd' });
 * // Cloudflare workerd: import mod from 'wasmformer/wasm/simd.wasm'; createRuntime({ wasm: { simd: mod } })
 * ```
 */
export async function createRuntime(options: RuntimeOptions = {}): Promise<Runtime> {
  const known = ['auto', 'simd', 'relaxed', 'threads', 'relaxed-threads', 'js'];
  if (options.variant !== undefined && !known.includes(options.variant)) {
    throw new FeatureError(`unknown variant '${String(options.variant)}': expected one of ${known.join(', ')}`);
  }
  const t = options.threads;
  if (t !== undefined && !(typeof t === 'number' && Number.isInteger(t) && t >= 1 && t <= MAX_THREADS)) {
    throw new ValueError(`threads: ${typeof t === 'number' ? t : `${typeof t} ${String(t)}`} is not an integer from 1 to ${MAX_THREADS}`);
  }
  const timeoutMs = options.threadTimeoutMs ?? 10_000;
  if (!(typeof timeoutMs === 'number' && timeoutMs > 0)) throw new ValueError(`threadTimeoutMs: ${String(timeoutMs)} is not a positive number of milliseconds`);
  const limitBytes = Math.min(options.memory?.maximumBytes ?? WASM32_MAX_BYTES, WASM32_MAX_BYTES);
  const initialBytes = Math.min(options.memory?.initialBytes ?? 16 << 20, limitBytes);
  if (!(limitBytes >= PAGE_BYTES) || !(initialBytes >= 0)) {
    throw new WasmformerError(`memory: maximumBytes ${limitBytes} must be at least one page (${PAGE_BYTES}) and initialBytes ${initialBytes} ≥ 0`);
  }
  const stepChunkBytes = alignUp(options.stepChunkBytes ?? 4 << 20);
  const features = { ...detectFeatures(), ...options.features };
  const notes: string[] = [];
  const { list, fallback: why } = choose(options, features, notes);
  const fallback = (backend: Backend) => (why ? `${why} ('${backend}')` : null);
  for (const { backend, threads } of list) {
    const shared = backend === 'threads' || backend === 'relaxed-threads';
    const memory = makeMemory(initialBytes, limitBytes, shared);
    if (backend === 'js') {
      const heap = new Heap(memory, 64, limitBytes);
      return new Runtime('js', features, jsKernels(() => heap.f32), heap, new Store(heap, 'persistent', 1 << 20), 0, notes, stepChunkBytes, fallback('js'));
    }
    let module: WebAssembly.Module, exports: ModuleExports;
    try {
      module = await loadModule(backend, options.wasm?.[backend]);
      const instance = await WebAssembly.instantiate(module, { env: { memory } });
      exports = instance.exports as unknown as ModuleExports;
      const missing = ['heap_base', 'gemm_workspace_bytes', 'gemm_small_path', ...Object.keys(KERNELS)].filter((name) => typeof instance.exports[name] !== 'function');
      if (missing.length) throw new WasmLoadError(`wasm variant '${backend}' lacks the exports ${missing.join(', ')}: is it a wasmformer build of the same version?`);
    } catch (err) {
      const error = err instanceof WasmLoadError ? err : new WasmLoadError(`wasm variant '${backend}' could not be instantiated: ${(err as Error).message}`);
      if (list.length === 1) throw error;
      notes.push(`${backend}: ${error.message}`);
      continue;
    }
    const heap = new Heap(memory, exports.heap_base() >>> 0, limitBytes);
    const persistent = new Store(heap, 'persistent', 1 << 20);
    const workBytes = exports.gemm_workspace_bytes() >>> 0;
    const gemmWork = persistent.alloc(workBytes);
    if (threads === 1) return new Runtime(backend, features, exports, heap, persistent, gemmWork, notes, stepChunkBytes, fallback(backend));
    // the pool's control block and one GEMM workspace per worker, carved before any user mark
    const base = persistent.alloc(POOL_BYTES);
    const works = Array.from({ length: threads - 1 }, () => persistent.alloc(workBytes));
    const scratch = { ptr: persistent.alloc(GEMV_SCRATCH_BYTES), bytes: GEMV_SCRATCH_BYTES };
    const names = Object.keys(KERNELS) as KernelName[];
    const workSlots = names.map((n) => KERNELS[n].args.indexOf('w'));
    let workers;
    try {
      workers = await startWorkers(threads - 1, (index) => ({
        module, memory, base, layout: LAYOUT, index, names, workSlots, work: works[index - 1]!, spinMs: threads <= hardwareThreads() ? 2 : 0.05,
      }), timeoutMs);
    } catch (err) {
      if (options.threads !== undefined || options.onThreadsUnavailable === 'error') throw err;
      notes.push(`threads: ${(err as Error).message}: running on one thread`);
      return new Runtime(backend, features, exports, heap, persistent, gemmWork, notes, stepChunkBytes, fallback(backend));
    }
    const pool = new WorkerPool(memory, base, exports as unknown as Record<string, unknown>, names, workers, timeoutMs);
    return new Runtime(backend, features, threadedKernels(exports, pool, names, scratch), heap, persistent, gemmWork, notes, stepChunkBytes, fallback(backend), pool);
  }
  throw new WasmLoadError(`no backend could be loaded: ${notes.join('; ')}`);
}
