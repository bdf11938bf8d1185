import { describe, expect, it } from 'vitest';
import { createRuntime, matmul, OutOfMemoryError, StaleTensorError, WasmformerError } from '../../src/index.js';

describe('arenas', () => {
  it('hands out 64-byte aligned, non-overlapping blocks', async () => {
    const rt = await createRuntime({ variant: 'simd' });
    const blocks: [number, number][] = [];
    for (const bytes of [1, 3, 4, 16, 17, 63, 64, 65, 1000, 4096]) {
      const ptr = rt.step.alloc(bytes);
      expect(ptr % 64).toBe(0);
      blocks.push([ptr, bytes]);
    }
    blocks.sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < blocks.length; i++) expect(blocks[i]![0]).toBeGreaterThanOrEqual(blocks[i - 1]![0] + blocks[i - 1]![1]);
    expect(blocks[0]![0]).toBeGreaterThanOrEqual(rt.heap.base);
  });

  it('mark/release reuses memory and invalidates only tensors made after the mark', async () => {
    const rt = await createRuntime({ variant: 'simd' });
    const before = rt.zeros([10], { arena: 'step' });
    const m = rt.step.mark();
    const inner = rt.zeros([100], { arena: 'step' });
    const innerPtr = inner.ptr;
    const m2 = rt.step.mark();
    const inner2 = rt.zeros([5], { arena: 'step' });
    rt.step.release(m2);
    expect(inner.isLive).toBe(true);
    expect(inner2.isLive).toBe(false);
    rt.step.release(m);
    expect(before.isLive).toBe(true);
    expect(inner.isLive).toBe(false);
    expect(() => inner.toArray()).toThrow(StaleTensorError);
    expect(() => inner.ptr).toThrow(/step arena/);
    expect(() => rt.step.release(m)).toThrow(WasmformerError); // released twice
    const again = rt.zeros([100], { arena: 'step' });
    expect(again.ptr).toBe(innerPtr);
    expect(rt.step.report().usedBytes).toBe(64 + 448); // 40 and 400 bytes, each rounded up to 64
  });

  it('defer runs when its scope is released (newest first) or the arena reset, not before', async () => {
    const rt = await createRuntime({ variant: 'simd' });
    const ran: string[] = [];
    rt.step.defer(() => ran.push('outer'));
    const m = rt.step.mark();
    rt.step.defer(() => ran.push('a'));
    const inner = rt.step.mark();
    rt.step.defer(() => ran.push('b'));
    rt.step.release(inner);
    expect(ran).toEqual(['b']);
    rt.step.defer(() => ran.push('c'));
    rt.step.release(m);
    expect(ran).toEqual(['b', 'c', 'a']);
    rt.step.reset();
    expect(ran).toEqual(['b', 'c', 'a', 'outer']);
    rt.step.reset();
    expect(ran).toHaveLength(4);
  });

  it('scope() releases also when the function throws', async () => {
    const rt = await createRuntime({ variant: 'simd' });
    const used = rt.step.report().usedBytes;
    expect(() => rt.step.scope(() => { rt.step.alloc(1000); throw new Error('boom'); })).toThrow('boom');
    expect(rt.step.report().usedBytes).toBe(used);
  });

  it('reset invalidates every step tensor, keeps persistent ones, and a steady loop does not grow memory', async () => {
    const rt = await createRuntime({ variant: 'simd', memory: { initialBytes: 1 << 20 }, stepChunkBytes: 1 << 20 });
    const keep = rt.tensor([1, 2, 3]);
    let sizes: number[] = [];
    let last = rt.zeros([1], { arena: 'step' });
    for (let step = 0; step < 5; step++) {
      for (const n of [1000, 300000, 7, 600000]) last = rt.zeros([n], { arena: 'step' });
      sizes.push(rt.heap.memoryBytes, rt.step.report().reservedBytes);
      rt.step.reset();
      expect(last.isLive).toBe(false);
    }
    expect(keep.toArray()).toEqual([1, 2, 3]);
    sizes = sizes.slice(2);
    expect(new Set(sizes.filter((_, i) => i % 2 === 0)).size).toBe(1); // memory size constant after step 1
    expect(rt.step.report().peakBytes).toBeGreaterThanOrEqual(4 * (1000 + 300000 + 7 + 600000));
  });

  it('grows the memory on demand and gives fresh views after growth', async () => {
    for (const variant of ['simd', 'threads'] as const) {
      const rt = await createRuntime({ variant, memory: { initialBytes: 1 << 16 } });
      const small = rt.tensor([1, 2, 3, 4]);
      const oldView = small.f32();
      const before = rt.heap.memoryBytes;
      const big = rt.zeros([4 << 20]); // 16 MiB: forces growth
      expect(rt.heap.memoryBytes).toBeGreaterThan(before);
      big.f32()[big.size - 1] = 7;
      expect(small.toArray()).toEqual([1, 2, 3, 4]);
      expect(big.f32()[big.size - 1]).toBe(7);
      if (variant === 'simd') expect(oldView.length).toBe(0); // non-shared buffers detach on growth
      expect(rt.heap.f32.byteLength).toBe(rt.heap.memoryBytes);
    }
  });

  it('out of memory names the bytes asked, used and the limit, and changes nothing', async () => {
    const limit = 8 << 20;
    const rt = await createRuntime({ variant: 'simd', memory: { initialBytes: 1 << 20, maximumBytes: limit } });
    const t = rt.tensor([5, 6]);
    const usedBefore = rt.heap.usedBytes;
    let caught: unknown;
    try { rt.zeros([4 << 20]); } catch (e) { caught = e; }
    expect(caught).toBeInstanceOf(OutOfMemoryError);
    const oom = caught as OutOfMemoryError;
    expect(oom.requestedBytes).toBe(16 << 20);
    expect(oom.limitBytes).toBe(limit);
    expect(oom.usedBytes).toBe(usedBefore);
    expect(oom.message).toContain(`${16 << 20} bytes`);
    expect(oom.message).toContain(`limit ${limit} bytes`);
    expect(rt.heap.usedBytes).toBe(usedBefore);
    expect(t.toArray()).toEqual([5, 6]);
    expect(rt.zeros([1000]).size).toBe(1000); // still usable
  });

  it('out of memory leaves the arena cursor where it was, even after scanning kept chunks', async () => {
    const rt = await createRuntime({ variant: 'simd', memory: { initialBytes: 1 << 20, maximumBytes: 8 << 20 }, stepChunkBytes: 1 << 20 });
    rt.step.alloc(900_000);
    rt.step.alloc(900_000); // a second chunk
    rt.step.reset();
    const first = rt.step.alloc(64); // in chunk 0
    expect(() => rt.step.alloc(64 << 20)).toThrow(OutOfMemoryError); // scans chunk 0, chunk 1, then fails
    expect(rt.step.alloc(64)).toBe(first + 64); // still in chunk 0, right after `first`
  });

  it('reports memory per arena', async () => {
    const rt = await createRuntime({ variant: 'simd' });
    const scratch = rt.memoryReport().persistent.usedBytes; // the GEMM packing scratch, taken at creation
    expect(scratch).toBeGreaterThan(0);
    rt.zeros([1000]);
    rt.zeros([2000], { arena: 'step' });
    const r = rt.memoryReport();
    expect(r.backend).toBe('simd');
    expect(r.persistent.usedBytes - scratch).toBe(4032);
    expect(r.step.usedBytes).toBe(8000);
    expect(r.memoryBytes).toBe(rt.heap.memoryBytes);
    expect(r.peakBytes).toBe(r.persistent.peakBytes + r.step.peakBytes);
    expect(r.heapBaseBytes).toBeGreaterThan(0);
  });

  it('a user mark/release on the persistent arena never frees the GEMM scratch', async () => {
    const rt = await createRuntime({ variant: 'simd' });
    const mark = rt.persistent.mark();
    const a = rt.uniform([96, 96], { seed: 1 }); // large enough for the packed (scratch-using) path
    const want = matmul(rt, a, a).toArray();
    rt.persistent.release(mark);
    const filler = rt.zeros([1 << 18]); // reuses the space released above
    filler.data().fill(123);
    const b = rt.uniform([96, 96], { seed: 1 });
    expect(matmul(rt, b, b).toArray()).toEqual(want);
    expect(filler.data().every((v) => v === 123)).toBe(true); // the GEMM wrote nothing into it
  });
});
