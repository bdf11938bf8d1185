// The machine's memory read bandwidth, measured inside the benchmark run (bench/calibrate.ts
// reports it at the start and the end): worker threads sum a 1 GiB shared wasm memory with
// bench/assembly/bandwidth.ts's v128 loop, one worker over all of it, then two started together
// over one half each. Decode (M = 1) GEMMs stream their weights and are judged against it.
import { Worker } from 'node:worker_threads';
import { budget, compileAsc } from './lib.js';

/** Bytes read per pass: far larger than the caches (a sweep on this VM: ~45 GB/s up to 256 MiB, ~30 from 512 MiB on, one thread). */
export const BUFFER_MIB = 1024;
const BYTES = BUFFER_MIB << 20;
const PAGE = 65536;

// The worker: instantiates the module over the shared memory, warms read_sum up with many short
// calls (V8 runs a wasm function in its baseline tier until TurboFan code is ready, and a call
// already running never switches), then on each start signal (ctl[0] changes) reads its range
// `reps` times and reports when it started and ended, in ms since the epoch (the same clock in
// every thread), through `times`.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { module, memory, ctl, times, index } = workerData;
const { read_sum } = new WebAssembly.Instance(module, { env: { memory, abort() { throw new Error('bandwidth.wasm aborted'); } } }).exports;
let sink = 0;
for (let i = 0; i < 400; i++) sink += read_sum(${PAGE}, 1 << 16);
setTimeout(() => {
  parentPort.postMessage({ ready: sink });
  let gen = 0;
  for (;;) {
    Atomics.wait(ctl, 0, gen);
    gen = Atomics.load(ctl, 0);
    if (gen < 0) break;
    const threads = ctl[1], reps = ctl[2];
    if (index >= threads) continue;
    const part = Math.floor(${BYTES} / threads / 128) * 128;
    const t0 = performance.timeOrigin + performance.now();
    for (let r = 0; r < reps; r++) sink += read_sum(${PAGE} + index * part, part);
    times[2 * index] = t0;
    times[2 * index + 1] = performance.timeOrigin + performance.now();
    Atomics.add(ctl, 3, 1);
    Atomics.notify(ctl, 3);
  }
  parentPort.postMessage({ done: sink });
}, 100);
`;

let module: Promise<WebAssembly.Module> | undefined;

/**
 * GB/s (1e9 bytes per second) read by 1 and by 2 threads: the best of several rounds, each
 * reading the buffer twice (2 threads: each its half twice, bandwidth = all bytes / (last end −
 * first start)), 1- and 2-thread rounds alternating. Both threads must have a core to themselves
 * for the second number to mean anything (check the load).
 */
export async function readBandwidth(): Promise<{ one: number; two: number }> {
  module ??= compileAsc('bench/assembly/bandwidth.ts', [
    '--enable', 'simd', '--enable', 'threads', '--importMemory', '--sharedMemory', '--maximumMemory', '65536',
  ]);
  const pages = (BYTES + PAGE) / PAGE;
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
  new Float32Array(memory.buffer).fill(1); // every page touched, before any timing
  const ctl = new Int32Array(new SharedArrayBuffer(16));
  const times = new Float64Array(new SharedArrayBuffer(32));
  const mod = await module;
  const workers = [0, 1].map((index) => new Worker(WORKER, { eval: true, workerData: { module: mod, memory, ctl, times, index } }));
  try {
    await Promise.all(workers.map((w) => new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject); })));
    const round = async (threads: number): Promise<number> => {
      Atomics.store(ctl, 1, threads);
      Atomics.store(ctl, 2, 2);
      Atomics.store(ctl, 3, 0);
      Atomics.add(ctl, 0, 1);
      Atomics.notify(ctl, 0);
      // Poll until every reader is done (the readers time themselves: the polling costs nothing measured).
      const deadline = performance.now() + 30_000;
      while (Atomics.load(ctl, 3) < threads) {
        if (performance.now() > deadline) throw new Error('bandwidth: a reader did not finish within 30 s');
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      let start = Infinity, end = 0;
      for (let i = 0; i < threads; i++) {
        start = Math.min(start, times[2 * i]!);
        end = Math.max(end, times[2 * i + 1]!);
      }
      const part = Math.floor(BYTES / threads / 128) * 128;
      return (2 * part * threads) / ((end - start) / 1000) / 1e9;
    };
    let one = 0, two = 0;
    const rounds = budget(8, 3);
    for (let r = 0; r < rounds; r++) {
      one = Math.max(one, await round(1));
      two = Math.max(two, await round(2));
    }
    return { one, two };
  } finally {
    Atomics.store(ctl, 0, -1);
    Atomics.notify(ctl, 0);
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const t0 = performance.now();
  const bw = await readBandwidth();
  console.log(`read bandwidth over ${BUFFER_MIB} MiB: 1 thread ${bw.one.toFixed(1)} GB/s, 2 threads ${bw.two.toFixed(1)} GB/s (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
}
