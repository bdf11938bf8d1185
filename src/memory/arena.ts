// Bump-allocating arenas over the Heap. An arena owns a list of chunks taken from the
// heap's top; allocation moves a cursor, `mark`/`release` rewind it in LIFO order and
// `reset` rewinds it to the start. Chunks are kept for reuse, so a loop that allocates
// the same sizes every iteration allocates nothing new after the first one.
import { StaleTensorError, WasmformerError } from '../errors.js';
import { Heap, alignUp } from './heap.js';

/** A position in an arena, from `mark()`, to `release()` back to. */
export interface Mark {
  readonly arena: Arena;
  readonly depth: number;
  readonly scope: number;
  readonly chunk: number;
  readonly offset: number;
  readonly used: number;
}

/** Who an allocation belongs to: it stays valid while its scope (or, in a Store, the allocation itself) is live. */
export interface Lease {
  readonly arena: Allocator;
  readonly depth: number;
  readonly scope: number;
}

/** What tensors need of the memory they live in: the step Arena, or the persistent Store. */
export interface Allocator {
  readonly name: string;
  /** Allocates `bytes` (rounded up to ALIGN): the pointer and the lease that says whether it is still valid. */
  take(bytes: number): { ptr: number; lease: Lease };
  isLive(lease: Lease): boolean;
  /** Throws StaleTensorError naming `what` if `lease` is no longer live. */
  checkLive(lease: Lease, what: string): void;
  report(): ArenaReport;
}

interface Chunk {
  ptr: number;
  bytes: number;
}

/** Byte counts of one arena, as in `Runtime.memoryReport()`. */
export interface ArenaReport {
  /** Bytes handed out now (including alignment padding). */
  usedBytes: number;
  /** Bytes of wasm memory the arena holds in its chunks. */
  reservedBytes: number;
  /** Most bytes ever handed out at once. */
  peakBytes: number;
  chunks: number;
}

let nextScope = 1;

/** Runs `fn` between `a.mark()` and `a.release(mark)`, releasing also when `fn` throws. */
export function scoped<M, T>(a: { mark(): M; release(mark: M): void }, fn: () => T): T {
  const m = a.mark();
  try {
    return fn();
  } finally {
    a.release(m);
  }
}

/** The report of an allocator holding `chunks`, with `used` bytes handed out now and `peak` at most. */
export function chunkReport(chunks: readonly { bytes: number }[], used: number, peak: number): ArenaReport {
  let reserved = 0;
  for (const c of chunks) reserved += c.bytes;
  return { usedBytes: used, reservedBytes: reserved, peakBytes: peak, chunks: chunks.length };
}

/** A bump allocator with scopes. Every pointer it returns is ALIGN-byte aligned. */
export class Arena implements Allocator {
  readonly name: string;
  readonly #heap: Heap;
  readonly #chunkBytes: number;
  #chunks: Chunk[] = [];
  #chunk = 0; // index of the chunk the cursor is in
  #offset = 0; // bytes used in that chunk
  #used = 0;
  #peak = 0;
  /** Live scope ids, outermost first: an allocation is valid while its id is still here. */
  #scopes: number[] = [nextScope++];
  /** What to run when a scope closes (`defer`), with the depth of the scope, in registration order. */
  #deferred: { depth: number; fn: () => void }[] = [];

  /**
   * @param heap where chunks come from
   * @param name used in error messages and the memory report
   * @param chunkBytes the smallest chunk to take from the heap
   */
  constructor(heap: Heap, name: string, chunkBytes: number) {
    this.#heap = heap;
    this.name = name;
    this.#chunkBytes = alignUp(chunkBytes);
  }

  /** Allocates `bytes` (≥ 1, rounded up to ALIGN) and returns the byte pointer. */
  alloc(bytes: number): number {
    if (!Number.isInteger(bytes) || bytes < 0) {
      throw new WasmformerError(`${this.name} arena: cannot allocate ${bytes} bytes`);
    }
    const size = alignUp(Math.max(bytes, 1));
    const [chunk, offset] = [this.#chunk, this.#offset];
    // Skip forward through kept chunks until one has room; take a new chunk if none has.
    while (this.#chunk < this.#chunks.length) {
      const c = this.#chunks[this.#chunk]!;
      if (this.#offset + size <= c.bytes) {
        const ptr = c.ptr + this.#offset;
        this.#offset += size;
        this.#count(size);
        return ptr;
      }
      if (this.#chunk === this.#chunks.length - 1) break;
      this.#chunk++;
      this.#offset = 0;
    }
    const bytesNew = Math.max(size, this.#chunkBytes);
    let ptr: number;
    try {
      ptr = this.#heap.take(bytesNew, `${this.name} arena (${size} bytes asked)`);
    } catch (err) {
      [this.#chunk, this.#offset] = [chunk, offset]; // out of memory changes nothing
      throw err;
    }
    this.#chunks.push({ ptr, bytes: bytesNew });
    this.#chunk = this.#chunks.length - 1;
    this.#offset = size;
    this.#count(size);
    return ptr;
  }

  /** `alloc` with the lease of the innermost open scope. */
  take(bytes: number): { ptr: number; lease: Lease } {
    const lease = this.lease();
    return { ptr: this.alloc(bytes), lease };
  }

  #count(size: number): void {
    this.#used += size;
    if (this.#used > this.#peak) this.#peak = this.#used;
  }

  /** The lease new allocations get: valid until the innermost open scope is released. */
  lease(): Lease {
    const depth = this.#scopes.length - 1;
    return { arena: this, depth, scope: this.#scopes[depth]! };
  }

  /** Whether an allocation made under `lease` is still valid. */
  isLive(lease: Lease): boolean {
    return this.#scopes[lease.depth] === lease.scope;
  }

  /** Throws StaleTensorError if `lease` is no longer live. */
  checkLive(lease: Lease, what: string): void {
    if (!this.isLive(lease)) {
      throw new StaleTensorError(`${what} was allocated in the ${this.name} arena in a scope that has since been released or reset`);
    }
  }

  /** Opens a scope: everything allocated from now on is freed by `release(mark)`. */
  mark(): Mark {
    const scope = nextScope++;
    this.#scopes.push(scope);
    return { arena: this, depth: this.#scopes.length - 1, scope, chunk: this.#chunk, offset: this.#offset, used: this.#used };
  }

  /** Frees everything allocated since `mark` (and closes scopes opened after it). */
  release(mark: Mark): void {
    if (mark.arena !== this || this.#scopes[mark.depth] !== mark.scope) {
      throw new WasmformerError(`${this.name} arena: release of a mark that is not live (already released, or from another arena)`);
    }
    this.#scopes.length = mark.depth;
    this.#used = mark.used;
    this.#chunk = mark.chunk;
    this.#offset = mark.offset;
    this.#runDeferred(mark.depth);
  }

  /**
   * Runs `fn` when the innermost open scope is released or the arena reset: for memory held
   * elsewhere on behalf of the scope (mixed precision's activation stores, in the persistent store).
   * @example
   * ```ts
   * const store = rt.empty([n]);                         // persistent
   * rt.step.defer(() => { if (store.isLive) rt.free(store); });
   * ```
   */
  defer(fn: () => void): void {
    this.#deferred.push({ depth: this.#scopes.length - 1, fn });
  }

  /** Runs (newest first) and forgets what was deferred in scopes at `depth` or deeper. */
  #runDeferred(depth: number): void {
    const d = this.#deferred;
    while (d.length && d[d.length - 1]!.depth >= depth) d.pop()!.fn();
  }

  /** Frees everything in the arena and invalidates every allocation made from it. Keeps the chunks. */
  reset(): void {
    this.#scopes = [nextScope++];
    this.#chunk = 0;
    this.#offset = 0;
    this.#used = 0;
    this.#runDeferred(0);
  }

  /** Runs `fn` in a scope and releases it afterwards, also when `fn` throws. */
  scope<T>(fn: () => T): T {
    return scoped(this, fn);
  }

  /** Restarts the peak from what is handed out now (to measure one step's peak). */
  resetPeak(): void {
    this.#peak = this.#used;
  }

  report(): ArenaReport {
    return chunkReport(this.#chunks, this.#used, this.#peak);
  }
}

