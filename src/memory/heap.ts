// The host's view of the one WebAssembly.Memory: a break pointer above the module's
// heap base that only moves up, growth on demand, and typed-array views that are taken
// fresh whenever the memory has grown (growing detaches or replaces the old buffer).
import { OutOfMemoryError } from '../errors.js';

/** Bytes in one wasm page. */
export const PAGE_BYTES = 65536;
/** wasm32 cannot address more than 4 GiB. */
export const WASM32_MAX_BYTES = 65536 * PAGE_BYTES;
/** Alignment of every block the heap and its arenas hand out: one cache line, four v128. */
export const ALIGN = 64;

export function alignUp(n: number, align = ALIGN): number {
  return Math.ceil(n / align) * align;
}

/** Owns everything above the module's heap base in one `WebAssembly.Memory`. */
export class Heap {
  readonly memory: WebAssembly.Memory;
  readonly base: number;
  readonly limitBytes: number;
  #top: number;
  #f32: Float32Array;
  #i32: Int32Array;
  #u8: Uint8Array;

  /**
   * @param memory the memory the kernels use
   * @param base first byte the host may use (the module's `heap_base()`)
   * @param limitBytes the most the memory may grow to
   */
  constructor(memory: WebAssembly.Memory, base: number, limitBytes: number) {
    this.memory = memory;
    this.base = alignUp(base);
    this.limitBytes = Math.min(limitBytes, WASM32_MAX_BYTES);
    this.#top = this.base;
    this.#f32 = new Float32Array(memory.buffer);
    this.#i32 = new Int32Array(memory.buffer);
    this.#u8 = new Uint8Array(memory.buffer);
  }

  /** Bytes handed out so far (from byte 0: the module's own data counts as used). */
  get usedBytes(): number {
    return this.#top;
  }

  /** Current size of the wasm memory in bytes. */
  get memoryBytes(): number {
    return this.memory.buffer.byteLength;
  }

  /**
   * Takes `bytes` (rounded up to ALIGN) from the top, growing the memory if needed.
   * Throws OutOfMemoryError, leaving everything as it was, when the limit would be passed.
   */
  take(bytes: number, what: string): number {
    const size = alignUp(Math.max(bytes, 1));
    const end = this.#top + size;
    if (end > this.limitBytes) throw new OutOfMemoryError(size, this.#top, this.limitBytes, what);
    if (end > this.memoryBytes) {
      const pages = Math.ceil((end - this.memoryBytes) / PAGE_BYTES);
      try {
        this.memory.grow(pages);
      } catch {
        throw new OutOfMemoryError(size, this.#top, Math.min(this.limitBytes, this.memoryBytes), what);
      }
    }
    const ptr = this.#top;
    this.#top = end;
    return ptr;
  }

  /** A Float32Array over the whole memory, fresh if the memory grew. Index = byte pointer >>> 2. */
  get f32(): Float32Array {
    if (this.#f32.buffer !== this.memory.buffer || this.#f32.byteLength !== this.memory.buffer.byteLength) {
      this.#refresh();
    }
    return this.#f32;
  }

  /** An Int32Array over the whole memory, fresh if the memory grew. */
  get i32(): Int32Array {
    if (this.#i32.buffer !== this.memory.buffer || this.#i32.byteLength !== this.memory.buffer.byteLength) {
      this.#refresh();
    }
    return this.#i32;
  }

  /** A Uint8Array over the whole memory, fresh if the memory grew. */
  get u8(): Uint8Array {
    if (this.#u8.buffer !== this.memory.buffer || this.#u8.byteLength !== this.memory.buffer.byteLength) {
      this.#refresh();
    }
    return this.#u8;
  }

  #refresh(): void {
    const buffer = this.memory.buffer;
    this.#f32 = new Float32Array(buffer);
    this.#i32 = new Int32Array(buffer);
    this.#u8 = new Uint8Array(buffer);
  }
}
