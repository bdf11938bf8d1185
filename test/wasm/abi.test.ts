// The ABI manifest (src/wasm/abi.ts) against the wasm module: every export is listed,
// every listed kernel has a test row in test/kernels/<family>.test.ts (or <family>-*.test.ts), and the JS
// backend's argument mapping matches the wasm kernel on a sample call of each kernel.
import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createRuntime } from '../../src/index.js';
import { KERNELS, type KernelName } from '../../src/wasm/abi.js';
import { SAMPLES, callSample, sampleMismatch } from '../helpers/kernel-samples.js';
import { MAX_ARGS } from '../../src/wasm/worker-main.js';

describe('ABI manifest', () => {
  it('lists exactly the kernels the wasm module exports', () => {
    const module = new WebAssembly.Module(readFileSync(new URL('../../build/wasmformer-simd.wasm', import.meta.url)));
    const exported = WebAssembly.Module.exports(module).filter((e) => e.kind === 'function').map((e) => e.name);
    const meta = ['heap_base', 'gemm_workspace_bytes', 'gemm_small_path'];
    expect(exported.filter((n) => !meta.includes(n)).sort()).toEqual(Object.keys(KERNELS).sort());
  });

  it('every kernel\'s arguments fit a worker pool task', () => {
    for (const [name, row] of Object.entries(KERNELS)) expect(row.args.length, name).toBeLessThanOrEqual(MAX_ARGS);
  });

  it('every kernel has a row in its family test files', () => {
    const dir = new URL('../kernels/', import.meta.url);
    const files = readdirSync(dir);
    for (const [name, row] of Object.entries(KERNELS)) {
      const mine = files.filter((f) => f === `${row.family}.test.ts` || (f.startsWith(`${row.family}-`) && f.endsWith('.test.ts')));
      const found = mine.some((f) => readFileSync(new URL(f, dir), 'utf8').includes(name));
      expect(found, `${name} is not exercised by test/kernels/${row.family}(-*).test.ts`).toBe(true);
    }
  });

  it('the JS backend maps every kernel argument as the wasm kernel reads it', async () => {
    const wasm = await createRuntime({ variant: 'simd' });
    const js = await createRuntime({ variant: 'js' });
    for (const name of Object.keys(KERNELS) as KernelName[]) {
      expect(SAMPLES[name], `no sample row for ${name}`).toBeDefined();
      const bad = sampleMismatch(callSample(wasm, name, 1), callSample(js, name, 1));
      if (bad) throw new Error(`${name}: ${bad} (wasm vs js)`);
    }
  });
});
