// Child process for the TensorFlow.js wasm benchmarks (spawned by tfjs.ts). threads = 1: the simd
// build Node gets by default; threads = 2: the threaded-simd build, started in Node with the four
// steps RUNTIMES.md lists (flag, worker script as a temp .cjs file, a shim line in it, os.cpus()
// doubled while the module starts). Times tf.matMul on tensors already in wasm memory.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { getThreadsCount, setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { reply, request, timeCalls, type Shape } from './lib.js';

export interface TfjsShape extends Shape { transB?: boolean }
export interface TfjsRequest { threads: number; shapes: TfjsShape[]; budgetMs: number }
export interface TfjsMatmulRow extends TfjsShape { gflops: number; calls: number; cpuPerWall: number; threadsCount: number; build: string }

const require = createRequire(import.meta.url);
const wasmOut = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js'));

/** Lets the threaded build start its pthread workers under Node's worker_threads. */
function enableThreads(threads: number): void {
  // (1) The backend answers "no threads" under Node without looking; say yes.
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  // (2) Emscripten starts each worker from a Blob URL; worker_threads needs a file. The shim line
  // (3) answers the worker's own createObjectURL(main script Blob) with the factory's file, which
  // its importScripts then evaluates, defining WasmBackendModuleThreadedSimd.
  const factory = join(wasmOut, 'tfjs-backend-wasm-threaded-simd.js');
  const { wasmWorkerContents } = require(join(wasmOut, 'tfjs-backend-wasm-threaded-simd.worker.js')) as { wasmWorkerContents: string };
  const shim = `URL.createObjectURL = () => ${JSON.stringify(factory)}; URL.revokeObjectURL = () => {};\n`;
  const dir = mkdtempSync(join(os.tmpdir(), 'tfjs-worker-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const workerFile = join(dir, 'worker.cjs');
  writeFileSync(workerFile, shim + wasmWorkerContents.replace(/\n/g, '\\n'));
  const createObjectURL = URL.createObjectURL.bind(URL);
  URL.createObjectURL = (obj: Blob | MediaSource) =>
    obj instanceof Blob && obj.type === 'application/javascript' ? workerFile : createObjectURL(obj);
  // (4) XNNPACK's pool is capped at logical cores / 2: report 2 × threads cores while it starts.
  const cpus = os.cpus;
  os.cpus = () => {
    const real = cpus();
    return Array.from({ length: 2 * threads }, (_, i) => real[i % real.length]!);
  };
  restore = () => { os.cpus = cpus; };
  setThreadsCount(threads);
}

let restore = () => {};

async function start(threads: number): Promise<string> {
  if (threads > 1) enableThreads(threads);
  setWasmPaths(wasmOut + '/');
  if (!(await tf.setBackend('wasm'))) throw new Error('tfjs: setBackend("wasm") failed');
  await tf.ready();
  restore();
  checkMatmul();
  return threads > 1 ? 'threaded-simd' : 'simd';
}

/** Throws unless this backend's A·B and A·Bᵀ (37×65×29: tails everywhere) match three loops. */
function checkMatmul(): void {
  const [m, k, n] = [37, 65, 29];
  const a = tf.randomNormal([m, k]), b = tf.randomNormal([k, n]);
  const av = a.dataSync(), bv = b.dataSync();
  for (const transB of [false, true]) {
    const bt = transB ? tf.transpose(b) : b;
    const got = tf.matMul(a, bt, false, transB).dataSync();
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let want = 0;
        for (let p = 0; p < k; p++) want += av[i * k + p]! * bv[p * n + j]!;
        if (Math.abs(got[i * n + j]! - want) > 1e-4 * (1 + Math.abs(want)))
          throw new Error(`tfjs matMul (transB ${transB}) wrong at (${i}, ${j}): ${got[i * n + j]} vs ${want}`);
      }
    if (transB) bt.dispose();
  }
  a.dispose();
  b.dispose();
}

async function matmul(shapes: TfjsShape[], budgetMs: number, build: string): Promise<TfjsMatmulRow[]> {
  const rows: TfjsMatmulRow[] = [];
  for (const { m, k, n, transA = false, transB = false } of shapes) {
    const a = tf.randomNormal(transA ? [k, m] : [m, k]);
    const b = tf.randomNormal(transB ? [n, k] : [k, n]);
    const t = await timeCalls(() => tf.matMul(a, b, transA, transB).dispose(), budgetMs, 2, 3);
    rows.push({ m, k, n, transA, transB, gflops: (2 * m * k * n) / t.seconds / 1e9, calls: t.calls, cpuPerWall: t.cpuPerWall, threadsCount: getThreadsCount(), build });
    a.dispose();
    b.dispose();
  }
  return rows;
}

const req = request<TfjsRequest>();
const build = await start(req.threads);
reply(await matmul(req.shapes, req.budgetMs, build));
process.exit(0);
