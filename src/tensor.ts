// Tensors: a shape, a dtype and a pointer into an arena of the runtime's wasm memory.
// The data lives in wasm memory; `data()` is a live view (re-take it after anything that
// may grow memory), `toArray()` a copy. Using a tensor after its arena scope was released
// throws StaleTensorError instead of reading someone else's bytes.
import { DTypeError, ShapeError } from './errors.js';
import type { Allocator, Lease } from './memory/arena.js';
import type { Heap } from './memory/heap.js';

/** Element types. Both are 4 bytes. */
export type DType = 'f32' | 'i32';

/** Checks that `shape` is a list of positive integers; returns its element count. */
export function shapeSize(shape: readonly number[], what = 'tensor'): number {
  let size = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 1) {
      throw new ShapeError(`${what}: shape [${shape.join(', ')}] has dimension ${d}; every dimension must be an integer ≥ 1`);
    }
    size *= d;
  }
  return size;
}

/**
 * @internal Memory whose changes caches must notice (a model's parameters): every JS-side access
 * to a tensor over it (`data`, `f32`, `set`, …) counts as a change and bumps `version`, as do
 * optimizer steps and loads (`ParameterSet.changed`). Caches derived from the memory (packed
 * weights) keep the version they were built at in `derived` and rebuild when it moved.
 */
export class Tracked {
  version = 0;
  /** Whether inference may keep packed copies of these weights (`ModelOptions.packWeights`). */
  pack = true;
  /** The format inference multiplies these weights in: 'f32' (packed copies when `pack`), or a quantized copy's. */
  dtype: 'f32' | 'int8' | 'f16' | 'bf16' = 'f32';
  readonly derived = new Map<string, Derived>();
}

/** @internal A cache built from tracked memory: a packed f32 copy (`tensor`), or a quantized one (`quantized`). */
export interface Derived {
  version: number;
  tensor?: Tensor;
  packed?: { tensor: Tensor; n: number; k: number };
  quantized?: { dispose(): void };
}

/**
 * @internal Told of every tensor made while set: `root` for a new allocation (Runtime.empty), not
 * for a view of one. Mixed precision (fn/bf16-storage.ts) collects a layer's activations with it.
 */
export const tensorHooks: { created: ((t: Tensor, root: boolean) => void) | null } = { created: null };

/** A typed, shaped block of wasm memory. */
export class Tensor {
  /** Dimensions, outermost first. */
  readonly shape: readonly number[];
  readonly dtype: DType;
  /** Number of elements. */
  readonly size: number;
  #ptr: number;
  readonly #heap: Heap;
  #lease: Lease;
  #tracked: Tracked | null = null;
  #grad: Tensor | null = null;
  #gradHook: (() => void) | null = null;
  /**
   * Gradient of the loss with respect to this tensor, filled by `Tape.backward` (parameters:
   * a view into the model's flat gradient buffer, allocated the first time any parameter's
   * gradient is asked for; activations: a step-arena tensor).
   */
  get grad(): Tensor | null {
    if (!this.#grad && this.#gradHook) this.#gradHook();
    return this.#grad;
  }

  set grad(g: Tensor | null) {
    this.#grad = g;
  }

  /** @internal Runs once, the first time `grad` is read while it is null (parameters allocate their gradient buffer then). */
  onGradNeeded(hook: (() => void) | null): void {
    this.#gradHook = hook;
  }
  /** Whether ops record a backward for this tensor (parameters, and anything computed from them). */
  requiresGrad = false;
  /**
   * @internal Kept in f32 when mixed precision stores a layer's activations as bf16: statistics
   * and tables the backward must read exactly (row log-sum-exps, normalisation scales, rotary
   * tables). Set with `exact(t)`.
   */
  exact = false;

  /** @internal use Runtime.tensor / zeros / empty / randn / uniform */
  constructor(heap: Heap, lease: Lease, ptr: number, shape: readonly number[], dtype: DType) {
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
    this.size = shapeSize(shape);
    this.#ptr = ptr;
    this.#heap = heap;
    this.#lease = lease;
  }

  /**
   * @internal Points this tensor at a copy of its data (fn/bf16-storage.ts moves a layer's
   * activations out of the way between its forward and its backward, and back).
   */
  relocate(ptr: number, lease: Lease): void {
    this.#ptr = ptr;
    this.#lease = lease;
  }

  /** @internal The byte address without the liveness check (for code that moves released tensors). */
  get rawPtr(): number {
    return this.#ptr;
  }

  /** The arena (step) or store (persistent) that holds the data. */
  get arena(): Allocator {
    return this.#lease.arena;
  }

  /** @internal Who owns the memory (freeing it through the store makes this tensor stale). */
  get lease(): Lease {
    return this.#lease;
  }

  /** Whether the data is still valid (its arena scope has not been released). */
  get isLive(): boolean {
    return this.#lease.arena.isLive(this.#lease);
  }

  /** Byte address of the first element in wasm memory (for kernel calls). Throws if stale. */
  get ptr(): number {
    const arena = this.#lease.arena;
    if (!arena.isLive(this.#lease)) arena.checkLive(this.#lease, this.describe());   // the message only when it throws
    return this.#ptr;
  }

  /**
   * A tensor of `shape` over the same memory, starting `offset` elements in (a reshape when the
   * sizes agree; a slice of a flat buffer otherwise). It shares the lifetime of this tensor's arena scope.
   * @example
   * ```ts
   * const flat = rt.zeros([6]);
   * const m = flat.view([2, 3]); // same bytes, seen as 2×3
   * ```
   */
  view(shape: readonly number[], offset = 0): Tensor {
    const size = shapeSize(shape, 'view');
    if (!Number.isInteger(offset) || offset < 0 || offset + size > this.size) {
      throw new ShapeError(`view: [${shape.join(', ')}] at offset ${offset} does not fit inside ${this.describe()} (${this.size} elements)`);
    }
    const v = new Tensor(this.#heap, this.#lease, this.ptr + offset * 4, shape, this.dtype);
    v.#tracked = this.#tracked;
    v.exact = this.exact;
    tensorHooks.created?.(v, false);
    return v;
  }

  /** @internal The change tracking of the memory under this tensor (parameters), or null. */
  get tracked(): Tracked | null {
    return this.#tracked;
  }

  /** @internal Marks this tensor's memory as tracked (its views made afterwards share the tracking). */
  track(tracked: Tracked): this {
    this.#tracked = tracked;
    return this;
  }

  /** The value of a one-element tensor (e.g. a loss). */
  item(): number {
    if (this.size !== 1) throw new ShapeError(`item: ${this.describe()} has ${this.size} elements, expected 1`);
    return this.data()[0]!;
  }

  /** Bytes of data. */
  get bytes(): number {
    return this.size * 4;
  }

  /** A live view of the data: valid until the memory grows; take it again after kernel calls. */
  data(): Float32Array | Int32Array {
    const start = this.ptr >>> 2;
    if (this.#tracked) this.#tracked.version++;      // the caller may write through the view
    const heap = this.dtype === 'f32' ? this.#heap.f32 : this.#heap.i32;
    return heap.subarray(start, start + this.size);
  }

  /** A live Float32Array view; throws DTypeError for i32 tensors. */
  f32(): Float32Array {
    this.expectDType('f32', 'f32()');
    return this.data() as Float32Array;
  }

  /** A live Int32Array view; throws DTypeError for f32 tensors. */
  i32(): Int32Array {
    this.expectDType('i32', 'i32()');
    return this.data() as Int32Array;
  }

  /** A copy of the data as a plain array. */
  toArray(): number[] {
    return Array.from(this.data());
  }

  /** Copies `values` (exactly `size` of them) into the tensor. */
  set(values: ArrayLike<number>): this {
    if (values.length !== this.size) {
      throw new ShapeError(`${this.describe()}: set() got ${values.length} values, expected ${this.size}`);
    }
    this.data().set(values);
    return this;
  }

  /** Throws DTypeError unless the dtype is `dtype`. */
  expectDType(dtype: DType, op: string): void {
    if (this.dtype !== dtype) throw new DTypeError(`${op}: ${this.describe()} has dtype ${this.dtype}, expected ${dtype}`);
  }

  /** e.g. `f32[4, 768]` */
  describe(): string {
    return `${this.dtype}[${this.shape.join(', ')}]`;
  }

  toString(): string {
    return `Tensor ${this.describe()}`;
  }
}

/**
 * Marks `t` to stay f32 when mixed precision stores activations as bf16 (see `Tensor.exact`).
 * @example
 * ```ts
 * const lse = exact(rt.empty([B, nHead, T], { arena: 'step' }));   // the backward recomputes softmax from it
 * ```
 */
export function exact(t: Tensor): Tensor {
  t.exact = true;
  return t;
}
