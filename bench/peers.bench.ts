// The peer users would otherwise pick for training in JavaScript: TensorFlow.js with its
// wasm (XNNPACK) backend, one thread. Its GEMM is timed by the gemm suite right after ours
// on each case (the machine's speed drifts, so only interleaved numbers compare).
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

/** Seconds per tf.matMul of op(A) (M,K) · op(B) (K,N), one thread, median. */
export async function tfjsMatmulSeconds(m: number, k: number, n: number, transA: boolean, transB: boolean, timeMs: number): Promise<number> {
  ready ??= setUp();
  await ready;
  const a = tf.randomNormal(transA ? [k, m] : [m, k]);
  const b = tf.randomNormal(transB ? [n, k] : [k, n]);
  try {
    return await secondsPerCall(() => tf.matMul(a, b, transA, transB).dispose(), timeMs);
  } finally {
    a.dispose();
    b.dispose();
  }
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
