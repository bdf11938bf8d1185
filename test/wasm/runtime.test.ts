import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createRuntime, detectFeatures, FeatureError, WasmLoadError, defaultWasmUrl, matmul } from '../../src/index.js';

const wasmBytes = (v: string) => readFileSync(new URL(`../../build/wasmformer-${v}.wasm`, import.meta.url));

/** A tiny product every backend must get right: [[1,2],[3,4]]·[[5,6],[7,8]]. */
async function product(rt: Awaited<ReturnType<typeof createRuntime>>) {
  const a = rt.tensor([1, 2, 3, 4], [2, 2]);
  const b = rt.tensor([5, 6, 7, 8], [2, 2]);
  return matmul(rt, a, b).toArray();
}

describe('createRuntime', () => {
  it('detects the features of this runtime (vitest sets the relaxed-SIMD flag)', () => {
    const f = detectFeatures();
    expect(f.simd).toBe(true);
    expect(f.relaxedSimd).toBe(true);
    expect(f.sharedMemory).toBe(true);
  });

  it('auto picks relaxed where it validates, simd where it does not, and says why', async () => {
    expect((await createRuntime({ threads: 1 })).backend).toBe('relaxed');
    expect((await createRuntime({ threads: 2 })).backend).toBe('relaxed-threads');
    const rt = await createRuntime({ threads: 1, features: { relaxedSimd: false } });
    expect(rt.backend).toBe('simd');
    expect(rt.notes.join()).toMatch(/relaxed: .*relaxed SIMD/);
  });

  it('falls back to the JS twins, visibly, where SIMD is missing', async () => {
    const rt = await createRuntime({ features: { simd: false } });
    expect(rt.backend).toBe('js');
    expect(rt.notes.join()).toMatch(/js: no wasm variant can run here/);
    expect(await product(rt)).toEqual([19, 22, 43, 50]);
  });

  it('refuses an explicit variant the runtime cannot run', async () => {
    await expect(createRuntime({ variant: 'simd', features: { simd: false } })).rejects.toThrow(FeatureError);
    await expect(createRuntime({ variant: 'relaxed', features: { relaxedSimd: false } })).rejects.toThrow(/relaxed SIMD/);
    await expect(createRuntime({ variant: 'threads', features: { sharedMemory: false }, onThreadsUnavailable: 'error' }))
      .rejects.toThrow(/variant 'threads' cannot run here: this runtime cannot create a shared WebAssembly.Memory/);
    await expect(createRuntime({ variant: 'avx512' as never })).rejects.toThrow(/unknown variant 'avx512'/);
  });

  it('falls back to one thread where threads cannot run, and says so through the API', async () => {
    const noShared = await createRuntime({ variant: 'threads', features: { sharedMemory: false } });
    expect(noShared.backend).toBe('relaxed');
    expect(noShared.fallback).toBe("threads: this runtime cannot create a shared WebAssembly.Memory: running on one thread ('relaxed')");
    expect(noShared.notes).toContain('threads: this runtime cannot create a shared WebAssembly.Memory: running on one thread');
    expect(noShared.heap.memory.buffer).not.toBeInstanceOf(SharedArrayBuffer);
    expect(await product(noShared)).toEqual([19, 22, 43, 50]);
    const noWorkers = await createRuntime({ variant: 'threads', features: { workers: false, relaxedSimd: false } });
    expect(noWorkers.backend).toBe('simd');
    expect(noWorkers.fallback).toMatch(/^threads: this runtime has no worker threads .*running on one thread \('simd'\)$/);
    await expect(createRuntime({ variant: 'threads', features: { workers: false }, onThreadsUnavailable: 'error' })).rejects.toThrow(FeatureError);
    const threads = await createRuntime({ variant: 'threads' });
    expect(threads.backend).toBe('threads');
    expect(threads.fallback).toBeNull();
    threads.dispose();
    expect((await createRuntime()).fallback).toBeNull();
  });

  it('loads every variant explicitly, each computing the same product', async () => {
    for (const variant of ['simd', 'relaxed', 'threads', 'relaxed-threads', 'js'] as const) {
      const rt = await createRuntime({ variant });
      expect(rt.backend).toBe(variant);
      expect(await product(rt)).toEqual([19, 22, 43, 50]);
      rt.dispose();
    }
    const threaded = await createRuntime({ variant: 'threads' });
    expect(threaded.heap.memory.buffer).toBeInstanceOf(SharedArrayBuffer);
  });

  it('takes the wasm as a precompiled Module (workerd), as bytes, as a file URL, and as a fetch Response', async () => {
    const module = new WebAssembly.Module(wasmBytes('simd'));
    expect((await createRuntime({ wasm: { simd: module } })).backend).toBe('simd');
    expect((await createRuntime({ variant: 'simd', wasm: { simd: wasmBytes('simd') } })).backend).toBe('simd');
    expect((await createRuntime({ variant: 'simd', wasm: { simd: defaultWasmUrl('simd') } })).backend).toBe('simd');
    const response = new Response(wasmBytes('simd'), { headers: { 'content-type': 'application/wasm' } });
    const rt = await createRuntime({ variant: 'simd', wasm: { simd: response } });
    expect(await product(rt)).toEqual([19, 22, 43, 50]);
  });

  it('reports bytes that fail to compile, naming the variant, and falls back to the next variant in auto mode', async () => {
    const bad = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 99, 1, 2]);
    await expect(createRuntime({ variant: 'simd', wasm: { simd: bad } })).rejects.toThrow(WasmLoadError);
    await expect(createRuntime({ variant: 'simd', wasm: { simd: bad } })).rejects.toThrow(/variant 'simd' from the given bytes could not be loaded/);
    const rt = await createRuntime({ wasm: { relaxed: bad, simd: wasmBytes('simd') } });
    expect(rt.backend).toBe('simd');
    expect(rt.notes.join()).toMatch(/relaxed: .*could not be loaded/);
    await expect(createRuntime({ wasm: { relaxed: bad, simd: bad } })).rejects.toThrow(/no backend could be loaded/);
  });

  it('names a missing .wasm file', async () => {
    const missing = new URL('../../build/does-not-exist.wasm', import.meta.url);
    await expect(createRuntime({ variant: 'simd', wasm: { simd: missing } })).rejects.toThrow(
      /^wasm variant 'simd' from file:.*\/build\/does-not-exist\.wasm could not be loaded: ENOENT.*\(the package ships its \.wasm files in its build\/ folder, exported as 'wasmformer\/wasm\/simd\.wasm'; if a bundler moved this code, copy them beside it or pass them: createRuntime\(\{ wasm: \{ simd: url \} \}\)\)$/);
    const notFound = new Response('nope', { status: 404, statusText: 'Not Found' });
    Object.defineProperty(notFound, 'url', { value: 'https://example.test/app/wasmformer-simd.wasm' });
    await expect(createRuntime({ variant: 'simd', wasm: { simd: notFound } })).rejects.toThrow(
      /^wasm variant 'simd' from https:\/\/example\.test\/app\/wasmformer-simd\.wasm could not be loaded: fetching .* failed: HTTP 404 Not Found \(the package ships/);
  });

  it('rejects a module that is not wasmformer (missing exports) with a load error', async () => {
    const empty = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]);
    await expect(createRuntime({ variant: 'simd', wasm: { simd: empty } })).rejects.toThrow(/lacks the exports heap_base, gemm_workspace_bytes, gemm_small_path, gemm_f32/);
  });
});
