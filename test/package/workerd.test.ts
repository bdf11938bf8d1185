// Cloudflare workerd consumer of the packed tarball: a worker importing 'wasmformer' and
// 'wasmformer/wasm/simd.wasm' (+ relaxed), bundled by esbuild (--format=esm
// --platform=neutral, .wasm external), served by the real workerd binary with the .wasm files
// from the consumer's node_modules as `wasm` modules; answers with the smoke results.
// Also: what happens when a worker relies on the default location, or passes bytes.
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorkerd, type WorkerdServer } from '../../tools/workerd.js';
import { createConsumer, fixtureFiles, installedPackageJson, pack, referenceSmoke, smokeProblems, type Consumer, type Packed, type SmokeResult } from './pack.js';

interface Outcome<T> {
  result?: T;
  error?: { name: string; message: string };
}

let packed: Packed;
let consumer: Consumer;
let want: SmokeResult;
let worker: WorkerdServer | undefined;

beforeAll(async () => {
  packed = await pack();
  consumer = await createConsumer(packed, 'workerd', fixtureFiles('workerd'));
  want = await referenceSmoke();
  const bundle = consumer.path('out/worker.js');
  const result = await build({
    absWorkingDir: consumer.dir,
    entryPoints: [consumer.path('worker.js')],
    outfile: bundle,
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    external: ['*.wasm', '*.bin'],
    logLevel: 'silent',
  });
  expect(result.errors).toEqual([]);
  // The exports map says where each .wasm is; that file is what workerd gets.
  const exportsMap = installedPackageJson(consumer).exports as Record<string, { default: string }>;
  const wasmFile = (v: string) => join(consumer.pkgDir, exportsMap[`./wasm/${v}.wasm`]!.default);
  worker = await startWorkerd({
    modules: [
      { name: 'worker.js', path: bundle, type: 'esModule' },
      { name: 'wasmformer/wasm/simd.wasm', path: wasmFile('simd'), type: 'wasm' },
      { name: 'wasmformer/wasm/relaxed.wasm', path: wasmFile('relaxed'), type: 'wasm' },
      { name: 'simd-bytes.bin', path: wasmFile('simd'), type: 'data' },
    ],
  });
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  consumer?.cleanup();
  packed?.cleanup();
}, 30_000);

async function get<T>(path: string): Promise<T> {
  const res = await fetch(`${worker!.origin}${path}`, { signal: AbortSignal.timeout(30_000) });
  const text = await res.text();
  expect(res.status, `${path}: ${text}\n--- workerd output ---\n${worker!.output()}`).toBe(200);
  return JSON.parse(text) as T;
}

describe('workerd worker consumer', () => {
  it('with the imported WebAssembly.Modules, a request is answered with the reference matmul, logits and generation', async () => {
    const out = await get<{ isModule: boolean; simd: Outcome<SmokeResult>; auto: Outcome<SmokeResult> }>('/smoke');
    expect(out.isModule).toBe(true);
    expect(out.simd.error).toBeUndefined();
    expect(smokeProblems(out.simd.result, want, 'simd')).toEqual([]);
    expect(out.auto.error).toBeUndefined();
    expect(smokeProblems(out.auto.result, want, 'relaxed')).toEqual([]);
  }, 60_000);

  it('createRuntime() with no sources fails with a WasmLoadError that tells the user to import the .wasm as a module', async () => {
    const out = await get<Outcome<string>>('/default');
    expect(out.result).toBeUndefined();
    expect(out.error?.name).toBe('WasmLoadError');
    expect(out.error?.message).toContain('import.meta.url is undefined');
    expect(out.error?.message).toContain('import the .wasm as a module');
  }, 60_000);

  it('bytes cannot be compiled in workerd, and the error says to pass the Module instead', async () => {
    const out = await get<Outcome<string>>('/bytes');
    expect(out.result).toBeUndefined();
    expect(out.error?.name).toBe('WasmLoadError');
    expect(out.error?.message).toMatch(/forbids compiling wasm from bytes.*pass the WebAssembly\.Module/);
  }, 60_000);
});
