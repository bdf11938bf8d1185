// The peer users would otherwise pick for training in JavaScript: TensorFlow.js with its
// wasm (XNNPACK) backend, one thread, on the same GEMM and softmax shapes as our suites.
// tfjs fetches its .wasm by path, which Node's fetch cannot do, so file paths are served here.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { secondsPerCall, type BenchRow } from './lib.js';

const GEMM_CASES: [m: number, k: number, n: number, transA: boolean, transB: boolean][] = [
  [512, 512, 512, false, false], [512, 512, 512, false, true], [512, 512, 512, true, false],
  [512, 768, 3072, false, false], [512, 768, 3072, false, true], [512, 768, 3072, true, false],
  [512, 128, 512, false, false], [64, 768, 768, false, false],
  [1, 768, 3072, false, false], [1, 768, 3072, false, true],
];

async function setUp(): Promise<void> {
  const require = createRequire(import.meta.url);
  const realFetch = globalThis.fetch;
  globalThis.fetch = async (url: string | URL | Request, init?: RequestInit) =>
    typeof url === 'string' && url.startsWith('/')
      ? new Response(await readFile(url), { headers: { 'content-type': 'application/wasm' } })
      : realFetch(url, init);
  setWasmPaths(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm')) + '/', true);
  await tf.setBackend('wasm');
  await tf.ready();
}

export async function run(): Promise<BenchRow[]> {
  await setUp();
  const rows: BenchRow[] = [];
  const impl = `tfjs-wasm ${tf.version_core}`;
  for (const [m, k, n, ta, tb] of GEMM_CASES) {
    const a = tf.randomNormal(ta ? [k, m] : [m, k]);
    const b = tf.randomNormal(tb ? [n, k] : [k, n]);
    const s = await secondsPerCall(() => tf.matMul(a, b, ta, tb).dispose(), m === 1 ? 300 : 600);
    const form = ta ? 'AᵀB' : tb ? 'ABᵀ' : 'AB';
    rows.push({ suite: 'peers', case: `gemm ${form} ${m}×${k}×${n}`, impl, metric: 'gflops', value: (2 * m * n * k) / s / 1e9, unit: 'GFLOP/s' });
    a.dispose();
    b.dispose();
  }
  for (const [r, c] of [[512, 768], [1024, 64]] as const) {
    const x = tf.randomNormal([r, c]);
    const s = await secondsPerCall(() => tf.softmax(x).dispose(), 300);
    rows.push({ suite: 'peers', case: `softmax ${r}×${c}`, impl, metric: 'gbps', value: (8 * r * c) / s / 1e9, unit: 'GB/s' });
    x.dispose();
  }
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.table(await run());
}
