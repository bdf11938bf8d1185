// The runtime suite in Cloudflare's workerd (the npm package's binary, `workerd serve` on
// 127.0.0.1) with the .wasm imported as modules, compared with Node's report.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorkerd, type WorkerdServer } from '../../tools/workerd.js';
import { runSuite, type SuiteReport } from './suite.js';
import { bundleEntry } from './bundle.js';
import { expectLikeNode } from './compare.js';

const wasm = (v: string) => new URL(`../../build/wasmformer-${v}.wasm`, import.meta.url).pathname;

let node: SuiteReport;
let server: WorkerdServer;

beforeAll(async () => {
  node = await runSuite({ runtime: 'node', wasm: { simd: new URL(`file://${wasm('simd')}`), relaxed: new URL(`file://${wasm('relaxed')}`) } });
  const entry = await bundleEntry('worker-entry.ts', 'worker-suite');
  server = await startWorkerd({
    modules: [
      { name: 'worker-suite.mjs', path: entry, type: 'esModule' },
      { name: 'wasmformer-simd.wasm', path: wasm('simd'), type: 'wasm' },
      { name: 'wasmformer-relaxed.wasm', path: wasm('relaxed'), type: 'wasm' },
    ],
  });
}, 120_000);

afterAll(async () => {
  await server?.stop();
});

describe('runtime suite in workerd', () => {
  it('wasm imported as modules: same bits as Node; threads fall back to one thread', async () => {
    const res = await fetch(`${server.origin}/suite`);
    expect(res.status, server.output()).toBe(200);
    const report = (await res.json()) as SuiteReport;
    const c = expectLikeNode(report, node);
    expect(c.variants).toEqual(['simd', 'relaxed']);
    expect(report.threads.error).toBeNull();
    expect(report.threads.backend).toBe('relaxed');
    expect(report.threads.fallback).toMatch(/^threads: .*: running on one thread \('relaxed'\)$/);
    console.log(`workerd: relaxed ${c.relaxed}; threads: ${report.threads.fallback}`);
  }, 120_000);
});
