// The persistent store: allocations freed one at a time go back to a free list that merges
// neighbours, so any pattern of frees leaves the space reusable; a freed tensor is stale; running
// out of memory changes nothing. Checked against a model of the address space: no two live
// blocks ever overlap, and after everything is freed one block as big as all of them fits back.
import { describe, expect, it } from 'vitest';
import { createRuntime, OutOfMemoryError, StaleTensorError, ValueError, WasmformerError } from '../../src/index.js';
import { Heap } from '../../src/memory/heap.js';
import { Store } from '../../src/memory/store.js';

/** A store over its own small memory (1 MiB pages of chunks), and its heap. */
function store(chunkBytes = 4096, limit = 1 << 24): { s: Store; heap: Heap } {
  const heap = new Heap(new WebAssembly.Memory({ initial: 1, maximum: 256 }), 1024, limit);
  return { s: new Store(heap, 'test', chunkBytes), heap };
}

describe('persistent store', () => {
  it('random allocations and frees never overlap, and the freed space merges back into whole chunks', () => {
    const { s, heap } = store();
    let seed = 12345;
    const rand = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n);
    let misaligned = 0, overlaps = 0, stillLive = 0;
    const live: { ptr: number; bytes: number; lease: ReturnType<Store['take']>['lease'] }[] = [];
    for (let i = 0; i < 3000; i++) {
      if (live.length && rand(3) === 0) {
        const [b] = live.splice(rand(live.length), 1);
        s.free(b!.lease);
        if (s.isLive(b!.lease)) stillLive++;
      } else {
        const bytes = 1 + rand(3000);
        const { ptr, lease } = s.take(bytes);
        if (ptr % 64 !== 0) misaligned++;
        for (const o of live) if (!(ptr + bytes <= o.ptr || o.ptr + o.bytes <= ptr)) overlaps++;
        live.push({ ptr, bytes, lease });
      }
    }
    expect([misaligned, overlaps, stillLive]).toEqual([0, 0, 0]);
    const top = heap.usedBytes;
    for (const b of live.splice(0)) s.free(b.lease);
    expect(s.report().usedBytes).toBe(0);
    // every chunk is one free range again: a block as large as the biggest chunk fits without growing
    s.take(4096);
    expect(heap.usedBytes).toBe(top);
  });

  it('freeing twice, or a lease from elsewhere, is refused', () => {
    const { s } = store();
    const { lease } = s.take(100);
    s.free(lease);
    expect(() => s.free(lease)).toThrow(WasmformerError);
    const other = store().s.take(100).lease;
    expect(() => s.free(other)).toThrow(/not live/);
  });

  it('mark/release frees what came after the mark, in any order of frees between', () => {
    const { s } = store();
    const keep = s.take(64);
    const m = s.mark();
    const a = s.take(64), b = s.take(64);
    s.free(a.lease);
    s.release(m);
    expect(s.isLive(keep.lease)).toBe(true);
    expect(s.isLive(b.lease)).toBe(false);
    expect(s.report().usedBytes).toBe(64);
  });

  it('out of memory leaves the store as it was', () => {
    const { s } = store(4096, 1 << 20);
    const a = s.take(1000);
    const before = s.report();
    expect(() => s.take(2 << 20)).toThrow(OutOfMemoryError);
    expect(s.report()).toEqual(before);
    expect(s.isLive(a.lease)).toBe(true);
  });

  it('rt.free makes a tensor and its views stale and reuses the bytes; step tensors are refused', async () => {
    const rt = await createRuntime({ variant: 'simd' });
    const t = rt.zeros([1 << 16]);
    const view = t.view([16], 32);
    const ptr = t.ptr;
    rt.free(t);
    expect(() => t.ptr).toThrow(StaleTensorError);
    expect(() => view.data()).toThrow(StaleTensorError);
    expect(rt.zeros([1 << 16]).ptr).toBe(ptr);
    expect(() => rt.free(rt.zeros([4], { arena: 'step' }))).toThrow(ValueError);
  });
});
