// The persistent store: allocations that live until they are freed one by one (a model's
// parameters, gradients and optimizer state, packed weights), over chunks taken from the Heap.
// First fit over an address-ordered free list; a freed block merges with free neighbours, so a
// model disposed and made again reuses the same bytes and the memory does not grow. Every
// allocation has its own lease: freeing it makes every tensor over it stale.
import { StaleTensorError, WasmformerError } from '../errors.js';
import { chunkReport, scoped, type Allocator, type ArenaReport, type Lease } from './arena.js';
import { Heap, alignUp } from './heap.js';

interface Range {
  ptr: number;
  bytes: number;
}

/** A position in the store's allocation order, from `mark()`: `release` frees what came after. */
export interface StoreMark {
  readonly store: Store;
  readonly next: number;
}

/** Allocations freed one at a time, or all those made since a mark. Every pointer is ALIGN-byte aligned. */
export class Store implements Allocator {
  readonly name: string;
  readonly #heap: Heap;
  readonly #chunkBytes: number;
  readonly #chunks: Range[] = [];
  /** Free ranges, ordered by address, never adjacent (merged). */
  readonly #free: Range[] = [];
  /** Live allocations by id (ids grow with allocation order). */
  readonly #live = new Map<number, Range>();
  #nextId = 1;
  #used = 0;
  #peak = 0;

  /**
   * @param heap where chunks come from
   * @param name used in error messages and the memory report
   * @param chunkBytes the smallest chunk to take from the heap (larger allocations get their own)
   */
  constructor(heap: Heap, name: string, chunkBytes: number) {
    this.#heap = heap;
    this.name = name;
    this.#chunkBytes = alignUp(chunkBytes);
  }

  /** Allocates `bytes` (≥ 1, rounded up to ALIGN); returns the byte pointer and its own lease. */
  take(bytes: number): { ptr: number; lease: Lease } {
    if (!Number.isInteger(bytes) || bytes < 0) throw new WasmformerError(`${this.name} store: cannot allocate ${bytes} bytes`);
    const size = alignUp(Math.max(bytes, 1));
    let i = this.#free.findIndex((f) => f.bytes >= size);
    if (i < 0) i = this.#grow(size);
    const f = this.#free[i]!;
    const ptr = f.ptr;
    if (f.bytes === size) this.#free.splice(i, 1);
    else {
      f.ptr += size;
      f.bytes -= size;
    }
    const id = this.#nextId++;
    this.#live.set(id, { ptr, bytes: size });
    this.#used += size;
    if (this.#used > this.#peak) this.#peak = this.#used;
    return { ptr, lease: { arena: this, depth: -1, scope: id } };
  }

  /** Allocates `bytes` and returns the pointer (an allocation only `release` of an earlier mark frees). */
  alloc(bytes: number): number {
    return this.take(bytes).ptr;
  }

  /** A chunk of at least `size` bytes from the heap, as a free range; returns its index in the free list. */
  #grow(size: number): number {
    const bytes = Math.max(size, this.#chunkBytes);
    const ptr = this.#heap.take(bytes, `${this.name} store (${size} bytes asked)`);   // throws, changing nothing, when memory runs out
    this.#chunks.push({ ptr, bytes });
    return this.#insert({ ptr, bytes });
  }

  /** Puts `r` into the free list, merged with the ranges it touches; returns where it ended up. */
  #insert(r: Range): number {
    const free = this.#free;
    let i = 0;
    while (i < free.length && free[i]!.ptr < r.ptr) i++;
    const prev = free[i - 1], next = free[i];
    if (prev && prev.ptr + prev.bytes === r.ptr) {
      prev.bytes += r.bytes;
      if (next && prev.ptr + prev.bytes === next.ptr) {
        prev.bytes += next.bytes;
        free.splice(i, 1);
      }
      return i - 1;
    }
    if (next && r.ptr + r.bytes === next.ptr) {
      next.ptr = r.ptr;
      next.bytes += r.bytes;
      return i;
    }
    free.splice(i, 0, { ...r });
    return i;
  }

  /** Frees the allocation of `lease` (every tensor over it becomes stale). Throws if it is not live. */
  free(lease: Lease): void {
    const r = lease.arena === this ? this.#live.get(lease.scope) : undefined;
    if (!r) throw new WasmformerError(`${this.name} store: free of an allocation that is not live (freed already, or not from this store)`);
    this.#live.delete(lease.scope);
    this.#used -= r.bytes;
    this.#insert(r);
  }

  isLive(lease: Lease): boolean {
    return this.#live.has(lease.scope);
  }

  checkLive(lease: Lease, what: string): void {
    if (!this.isLive(lease)) throw new StaleTensorError(`${what} was allocated in the ${this.name} store and has since been freed (disposed)`);
  }

  /** Remembers the allocation order: `release` frees everything allocated after this. */
  mark(): StoreMark {
    return { store: this, next: this.#nextId };
  }

  /** Frees every live allocation made since `mark`. */
  release(mark: StoreMark): void {
    if (mark.store !== this) throw new WasmformerError(`${this.name} store: release of a mark from another store`);
    for (const [id, r] of [...this.#live]) {
      if (id < mark.next) continue;
      this.#live.delete(id);
      this.#used -= r.bytes;
      this.#insert(r);
    }
  }

  /** Runs `fn` and frees what it allocated here afterwards, also when it throws. */
  scope<T>(fn: () => T): T {
    return scoped(this, fn);
  }

  /** Restarts the peak from what is allocated now (to measure one step's peak). */
  resetPeak(): void {
    this.#peak = this.#used;
  }

  report(): ArenaReport {
    return chunkReport(this.#chunks, this.#used, this.#peak);
  }
}
