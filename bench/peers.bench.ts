// The peer users would otherwise pick for training in JavaScript: TensorFlow.js with its
// wasm (XNNPACK) backend, one thread, in this process: softmax. Its GEMM (1 and 2 threads, in
// child processes: bench/peers) is timed by the gemm suite right after ours on each case.
// tfjs fetches its .wasm by path, which Node's fetch cannot do, so file paths are served here.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { secondsPerCall, type BenchRow } from './lib.js';

let ready: Promise<void> | undefined;

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

/** The TensorFlow.js version the rows name. */
export const TFJS = `tfjs-wasm ${tf.version_core}`;

/** Softmax rows of tfjs (the GEMM comparison runs inside the gemm suite, case by case). */
export async function run(): Promise<BenchRow[]> {
  ready ??= setUp();
  await ready;
  const rows: BenchRow[] = [];
  for (const [r, c] of [[512, 768], [1024, 64]] as const) {
    const x = tf.randomNormal([r, c]);
    const s = await secondsPerCall(() => tf.softmax(x).dispose(), 300);
    rows.push({ suite: 'peers', case: `softmax ${r}x${c}`, impl: TFJS, metric: 'gbps', value: (8 * r * c) / s / 1e9, unit: 'GB/s' });
    x.dispose();
  }
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.table(await run());
}
