// The worker pool in Node: thread counts (asked, default, refused), results bit for bit the same
// for 1, 2 and 3 threads (every split kernel, a 40-step training run, seeded generation), the
// work really spread over the threads, dispose and process exit, and faults: a worker that
// fails to start, throws, ends while idle, or stops answering mid-call.
import { spawnSync } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import {
  AdamW, GPT, ValueError, trainStep, WorkerError, createRuntime, crossEntropy, generate, hardwareThreads, layernorm, layernormBackward, colsum, matmul, softmax, gelu,
  DEFAULT_MAX_THREADS, type Runtime, type Tensor,
} from '../../src/index.js';
import { WorkerPool } from '../../src/wasm/pool.js';
import { attendFusedForward } from '../../src/ops/attention.js';
import { plan, setSplitLimits } from '../../src/wasm/parallel.js';
import { CTL, LAYOUT, MAX_ARGS, POOL_BYTES } from '../../src/wasm/worker-main.js';
import { startWorkers } from '../../src/wasm/workers.js';

const bits = (t: Tensor) => Array.from(new Int32Array(t.f32().slice().buffer));

describe('thread count', () => {
  it('refuses counts that are not an integer from 1 to 256, naming the value', async () => {
    for (const bad of [0, -1, 1.5, NaN, 257, 1e9, Infinity]) {
      await expect(createRuntime({ threads: bad })).rejects.toThrow(new ValueError(`threads: ${bad} is not an integer from 1 to 256`));
    }
    await expect(createRuntime({ threads: '2' as unknown as number })).rejects.toThrow(/threads: string 2 is not an integer from 1 to 256/);
  });

  it('runs what is asked, defaults to the cores (at most 8), and 1 for an explicit single-thread variant', async () => {
    for (const threads of [1, 2, 3]) {
      const rt = await createRuntime({ variant: 'simd', threads });
      expect([rt.threads, rt.backend]).toEqual([threads, threads > 1 ? 'threads' : 'simd']);
      rt.dispose();
    }
    const auto = await createRuntime();
    expect(auto.threads).toBe(Math.min(hardwareThreads(), DEFAULT_MAX_THREADS));
    expect(auto.backend).toBe(auto.threads > 1 ? 'relaxed-threads' : 'relaxed');
    auto.dispose();
    expect(auto.threads).toBe(1);
    expect((await createRuntime({ variant: 'relaxed' })).threads).toBe(1);
  });

  it('falls back to one thread where threads cannot run, or throws when told to', async () => {
    const rt = await createRuntime({ threads: 2, features: { workers: false } });
    expect(rt.threads).toBe(1);
    expect(rt.fallback).toMatch(/^threads: this runtime has no worker threads.*running on one thread \('relaxed'\)$/);
    await expect(createRuntime({ threads: 2, features: { sharedMemory: false }, onThreadsUnavailable: 'error' }))
      .rejects.toThrow(/threads: 2 cannot run here: this runtime cannot create a shared WebAssembly.Memory/);
    const quiet = await createRuntime({ features: { workers: false } });   // the default count: a note, no fallback
    expect([quiet.threads, quiet.fallback]).toEqual([1, null]);
    expect(quiet.notes.join('\n')).toMatch(/^threads: this runtime has no worker threads/m);
  });
});

/** Runs `f` on runtimes with 1, 2 and 3 threads of one instruction set; returns each result and the pool's stats. */
async function onThreads<T>(variant: 'simd' | 'relaxed', f: (rt: Runtime) => T): Promise<{ results: T[]; spread: number[][] }> {
  const results: T[] = [], spread: number[][] = [];
  for (const threads of [1, 2, 3]) {
    const rt = await createRuntime({ variant, threads });
    try {
      results.push(f(rt));
      spread.push(rt.threadStats.tasks);
    } finally {
      rt.dispose();
    }
  }
  return { results, spread };
}

describe('decoding attention\'s split plan', () => {
  it('one sequence: its key blocks over the threads (its pointers, the shared scratch), then their merge; several sequences: whole ones; a prefill: by query blocks', () => {
    const g = { splitBytes: () => 4096, scratch: 1 << 20, scratchBytes: 1 << 22 } as never;
    const P = 1 << 24;
    // y lse q k v mask rel  tq tk nHead hs  ldq ldk ldv ldy  bsq bsk bsv bsy  maskLd scale flags window globals work u0 u1: the second of two sequences
    const args = [P, 2 * P, 3 * P, 4 * P, 5 * P, 6 * P, 0, 1, 150, 12, 64, 2304, 768, 768, 768, 2304, 230400, 230400, 768, 152, 0.125, 1, 0, 0, 7 * P, 12, 24];
    const stages = plan(g, 'attention_fused_forward', args, 2)!;
    expect(stages.map((s) => [s.fn, s.tasks.map((t) => t[0])])).toEqual([['attention_rows_split', [0, 0]], ['attention_rows_split', [1]]]);
    // sh, then y lse q k v mask at sequence 1, rel as given
    expect(stages[0]!.tasks[0]!.slice(1, 9)).toEqual([1 << 20, P + 4 * 768, 2 * P + 4 * 12, 3 * P + 4 * 2304, 4 * P + 4 * 230400, 5 * P + 4 * 230400, 6 * P + 4 * 152, 0]);
    expect(stages[0]!.tasks.map((t) => t.slice(-2))).toEqual([[0, 5], [5, 10]]);   // blocks of 16 keys
    expect(stages[1]!.tasks.map((t) => t.slice(-2))).toEqual([[0, 10]]);
    // four query rows, or too little to read: not split over the keys
    for (const [at, value] of [[7, 4], [8, 20]] as const) {
      const other = args.slice();
      other[at] = value;
      expect(plan(g, 'attention_fused_forward', other, 2)?.[0]?.fn ?? null, `arg ${at} = ${value}`).not.toBe('attention_rows_split');
    }
    // a split scratch larger than the runtime's, or none (the one-thread forward would not take the decoding path): by heads
    for (const bytes of [(1 << 22) + 4, 0]) {
      const small = { splitBytes: () => bytes, scratch: 1 << 20, scratchBytes: 1 << 22 } as never;
      expect(plan(small, 'attention_fused_forward', args, 2)![0]!.fn, `scratch ${bytes}`).toBe('attention_fused_forward');
    }
    // several sequences: whole sequences a task (each reads its rows for all its heads); a prefill: by query blocks of heads
    const both = args.slice();
    both[25] = 0;
    expect(plan(g, 'attention_fused_forward', both, 2)!.map((s) => [s.fn, s.tasks.map((t) => t.slice(-2))])).toEqual([['attention_fused_forward', [[0, 12], [12, 24]]]]);
    const prefill = both.slice();
    prefill[7] = 64;
    prefill[26] = 48;   // 2 sequences × 12 heads × 2 query blocks
    expect(plan(g, 'attention_fused_forward', prefill, 2)![0]!.tasks.length).toBe(8);
  });
});

describe.each(['simd', 'relaxed'] as const)('same bits for 1, 2 and 3 threads (%s)', (variant) => {
  it('every split kernel', async () => {
    // the split rules are under test here, not the sizes where they start to pay: every kind of split runs
    const limits = setSplitLimits({ memoryMinBytes: 64 << 10, columnMinBytes: 64 << 10 });
    const { results, spread } = await onThreads(variant, (rt) => {
      const out: Record<string, number[]> = {};
      const x = rt.randn([384, 320], { seed: 1 }), w = rt.randn([288, 320], { seed: 2 }), v = rt.randn([320, 288], { seed: 3 });
      out.ab = bits(matmul(rt, x, v));                                          // A·B, packed path
      out.abt = bits(matmul(rt, x, w, { transB: true, bias: rt.randn([288], { seed: 4 }) }));
      out.atb = bits(matmul(rt, x, rt.randn([384, 200], { seed: 5 }), { transA: true }));
      out.small = bits(matmul(rt, rt.randn([5, 320], { seed: 6 }), w, { transB: true }));   // small-M path, by columns
      out.gemv = bits(matmul(rt, rt.randn([1, 320], { seed: 7 }), v));
      // one row of A·B with K = 2000: by chunks of rows over the threads, then their sum by bands
      out.gemvChunks = bits(matmul(rt, rt.randn([1, 2000], { seed: 23 }), rt.randn([2000, 1100], { seed: 24 }), { bias: rt.randn([1100], { seed: 25 }) }));
      out.gemvChunksT = bits(matmul(rt, rt.randn([2000, 1], { seed: 26 }), rt.randn([2000, 700], { seed: 27 }), { transA: true }));
      const q = rt.randn([24, 64, 32], { seed: 8 }), k = rt.randn([24, 64, 32], { seed: 9 });
      out.batched = bits(matmul(rt, q, k, { transB: true, alpha: 0.25 }));
      out.bigBatch = bits(matmul(rt, rt.randn([2, 200, 300], { seed: 10 }), rt.randn([2, 300, 100], { seed: 11 })));
      const scores = rt.randn([24, 64, 64], { seed: 12 });
      out.softmax = bits(softmax(rt, scores, { causal: true, scale: 0.3 }));
      const h = rt.randn([1024, 256], { seed: 13 });
      const lnw = rt.randn([256], { seed: 14 });
      const ln = layernorm(rt, h, lnw, rt.randn([256], { seed: 15 }));
      out.layernorm = bits(ln.out);
      const dx = rt.randn([1024, 256], { seed: 17 }), dw = rt.randn([256], { seed: 18 }), db = rt.randn([256], { seed: 19 });
      layernormBackward(rt, dx, dw, db, rt.randn([1024, 256], { seed: 20 }), h, lnw, ln.mean, ln.rstd);
      out.layernormBackward = [...bits(dx), ...bits(dw), ...bits(db)];
      out.colsum = bits(colsum(rt, rt.randn([300], { seed: 21 }), rt.randn([1024, 300], { seed: 22 })));
      out.gelu = bits(gelu(rt, h));
      const logits = rt.randn([512, 300], { seed: 16 });
      const targets = rt.tensor(Array.from({ length: 512 }, (_, i) => (i * 7) % 300), [512], { dtype: 'i32' });
      out.crossentropy = bits(crossEntropy(rt, logits, targets));
      // attention over a cache: one sequence decoding (split over its keys; 1 to 3 rows), two (by heads), a prefill (by query blocks)
      const C = 12 * 64, kc = rt.randn([2, 300, C], { seed: 28 }), vc = rt.randn([2, 300, C], { seed: 29 });
      const attend = (B: number, Tq: number, Tk: number, seed: number) => {
        const q = rt.randn([B, Tq, C], { seed }), y = rt.empty([B, Tq, C]), lse = rt.empty([B, 12, Tq]);
        const view = (t: Tensor, T: number) => ({ t, at: 0, ld: C, batchStride: T * C });
        attendFusedForward(rt, view(y, Tq), lse, view(q, Tq), view(kc, 300), view(vc, 300), { B, Tq, Tk, nHead: 12, hs: 64, causal: true });
        return [...bits(y), ...bits(lse)];
      };
      out.decodeOne = attend(1, 1, 150, 30);
      out.decodeThree = attend(1, 3, 299, 31);
      out.decodeTwo = attend(2, 1, 200, 32);
      out.prefill = attend(1, 64, 64, 33);
      return out;
    });
    setSplitLimits(limits);
    expect(results[1]).toEqual(results[0]);
    expect(results[2]).toEqual(results[0]);
    // the calls above really were split: every thread ran tasks
    expect(spread[0]).toEqual([0]);
    for (const s of spread.slice(1)) for (const n of s) expect(n).toBeGreaterThan(0);
  });

  it('a 40-step training run and seeded generation', async () => {
    const { results, spread } = await onThreads(variant, (rt) => {
      const model = new GPT(rt, { vocabSize: 96, blockSize: 64, nLayer: 2, nHead: 4, dModel: 128, dropout: 0.1 }, { seed: 3 });
      const opt = new AdamW(model.params, { weightDecay: 0.1 });
      const losses: number[] = [];
      for (let step = 0; step < 40; step++) {
        const ids = Array.from({ length: 8 * 65 }, (_, i) => (i * 31 + step * 7 + ((i * i) % 13)) % 96);
        const { loss, norm } = trainStep(model, opt, () => {
          const x = rt.tensor(ids.filter((_, i) => i % 65 !== 64), [8, 64], { dtype: 'i32' });
          const y = rt.tensor(ids.filter((_, i) => i % 65 !== 0), [8, 64], { dtype: 'i32' });
          return model.forward(x, y).loss!;
        }, { step, lr: 3e-3, clip: 1 });
        losses.push(loss, norm);
      }
      const tokens = generate(model, [1, 2, 3], { maxNewTokens: 20, temperature: 0.8, seed: 5 });
      return { losses, tokens };
    });
    expect(results[1]).toEqual(results[0]);
    expect(results[2]).toEqual(results[0]);
    for (const s of spread.slice(1)) expect(s[1]).toBeGreaterThan(0);
  });
});

describe('memory growth', () => {
  it('memory grown by the caller after the workers started is seen by them (split calls into the new pages)', async () => {
    const results: number[][] = [];
    for (const threads of [1, 2]) {
      const rt = await createRuntime({ variant: 'simd', threads, memory: { initialBytes: 16 << 20 } });
      const before = rt.heap.memoryBytes;
      const a = rt.randn([1500, 1000], { seed: 1 }), b = rt.randn([1000, 1500], { seed: 2 });   // 12 MB: grows the memory
      const c = matmul(rt, a, b);
      expect(rt.heap.memoryBytes).toBeGreaterThan(before);
      expect(c.ptr + 4 * c.size).toBeGreaterThan(before);    // the output lies in pages added after the workers started
      results.push(bits(c));
      if (threads === 2) expect(rt.threadStats.tasks[1]).toBeGreaterThan(0);
      rt.dispose();
    }
    expect(results[1]).toEqual(results[0]);
  });
});

describe('lifetime', () => {
  const script = (dispose: boolean) => `
    import { createRuntime, matmul } from ${JSON.stringify(new URL('../../dist/bundle/wasmformer.js', import.meta.url).href)};
    const rt = await createRuntime({ variant: 'simd', threads: 2 });
    const a = rt.randn([256, 256]), b = rt.randn([256, 256]);
    let out = matmul(rt, a, b);
    // on a loaded machine the caller may finish one call's tasks before the worker wakes: a few more
    for (let i = 0; i < 100 && !(rt.threadStats.tasks[1] > 0); i++) out = matmul(rt, a, b);
    console.log(rt.threads, rt.threadStats.tasks[1] > 0, out.shape.join('x'));
    ${dispose ? 'rt.dispose(); console.log(rt.threads);' : ''}`;

  it.each([false, true])('a Node process with a threaded runtime exits by itself (dispose: %s)', (dispose) => {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script(dispose)], { encoding: 'utf8', timeout: 20_000 });
    expect(r.error).toBeUndefined();
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual(dispose ? ['2 true 256x256', '1'] : ['2 true 256x256']);
  });

  it('after dispose the kernels run on the calling thread, with the same bits', async () => {
    const rt = await createRuntime({ variant: 'simd', threads: 2 });
    const a = rt.randn([300, 200], { seed: 1 }), b = rt.randn([200, 300], { seed: 2 });
    const before = bits(matmul(rt, a, b));
    rt.dispose();
    const jobs = rt.threadStats.jobs;
    expect(bits(matmul(rt, a, b))).toEqual(before);
    expect([rt.threads, rt.threadStats.jobs]).toEqual([1, jobs]);
  });
});

describe('faults', () => {
  it('a task that throws in a worker: WorkerError naming the thread and the kernel; the pool stays usable', async () => {
    const rt = await createRuntime({ variant: 'simd', threads: 2 });
    const k = rt.kernels;
    const big = rt.heap.memoryBytes;
    // C rows past the end of memory: the tasks of the last rows trap (whichever thread runs them)
    const a = rt.randn([512, 64], { seed: 1 }), b = rt.randn([64, 64], { seed: 2 });
    let caught: unknown = null;
    try {
      k.gemm_f32(big - 200 * 64 * 4, a.ptr, b.ptr, 0, 512, 64, 64, 64, 64, 64, 0, 1, 0, rt.gemmWork);
    } catch (err) {
      caught = err;
    }
    expect(String(caught)).toMatch(/memory access out of bounds/);
    if (caught instanceof WorkerError) expect(caught.message).toMatch(/^WorkerError|thread 1 failed running gemm_block_f32 \(task \d+ of \d+\): .*out of bounds/);
    expect(rt.threadNotes).toEqual([]);
    const c = rt.randn([300, 200], { seed: 3 });
    expect(matmul(rt, c, rt.randn([200, 300])).shape).toEqual([300, 300]);
    rt.dispose();
  });
});

/** A shared memory holding a pool's control block at byte 64, and a tiny module: export `noop(n)` counts to n. */
function tinyPool() {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true } as WebAssembly.MemoryDescriptor);
  // (module (import "env" "memory" (memory 1 1 shared))
  //   (func (export "noop") (param i32) (local i32) (loop (local.set 1 (i32.add (local.get 1) (i32.const 1))) (br_if 0 (i32.lt_u (local.get 1) (local.get 0))))))
  const bytes = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 1, 127, 0, 2, 16, 1, 3, 101, 110, 118, 6, 109, 101, 109, 111, 114, 121,
    2, 3, 1, 1, 3, 2, 1, 0, 7, 8, 1, 4, 110, 111, 111, 112, 0, 0,
    10, 23, 1, 21, 1, 1, 127, 3, 64, 32, 1, 65, 1, 106, 33, 1, 32, 1, 32, 0, 73, 13, 0, 11, 11]);
  const module = new WebAssembly.Module(bytes);
  const exports = new WebAssembly.Instance(module, { env: { memory } }).exports as Record<string, unknown>;
  return { memory, module, exports, base: 64 };
}

describe('the pool protocol', () => {
  it('every task of every job runs exactly once: 200,000 jobs of 2 and 12 tasks, 3 threads on the cores there are', async () => {
    // A worker late by one job once took the old job's spent ticket against the new job's task
    // count and ran one task twice (seen under load in the full suite; this loop reproduced it in
    // 2 of 3 runs with the cores busy). axpy of ones counts the runs of each element exactly.
    const rt = await createRuntime({ variant: 'simd', threads: 3 });
    const old = setSplitLimits({ memoryMinBytes: 0, rowwiseTaskBytes: 64 });
    try {
      const big = 64 * 12, jobs = 200_000;
      const y = rt.zeros([big]), x = rt.tensor(new Array(big).fill(1));
      for (let j = 0; j < jobs; j++) rt.kernels.axpy_f32(y.ptr, x.ptr, 1, j % 2 ? big : 128);   // 12 tasks, then 2
      const d = y.f32(), want = (i: number) => (i < 128 ? jobs : jobs / 2);
      const bad = d.findIndex((v, i) => v !== want(i));
      expect(bad, bad >= 0 ? `element ${bad}: ${d[bad]} runs, expected ${want(bad)}` : '').toBe(-1);
      expect(rt.threadStats.jobs).toBeGreaterThanOrEqual(jobs);
    } finally {
      setSplitLimits(old);
      rt.dispose();
    }
  }, 60_000);

  it('a worker that ends while idle: the others carry on, and the pool says who ended and why', async () => {
    const { memory, module, exports, base } = tinyPool();
    const init = (index: number) => ({ module, memory, base, layout: LAYOUT, index, names: ['noop'], workSlots: [-1], work: 0, spinMs: 0.1 });
    const workers = await startWorkers(2, init, 5000);
    const pool = new WorkerPool(memory, base, exports, ['noop'], workers, 2000);
    pool.run(0, [[1], [2], [3], [4], [5], [6]]);
    expect(pool.size).toBe(3);
    workers[1]!.terminate();
    for (let i = 0; i < 100 && pool.size === 3; i++) await new Promise((r) => setTimeout(r, 20));
    expect(pool.size).toBe(2);
    expect(pool.exits).toEqual(['thread 2: exited with code 1']);
    const before = pool.stats().tasks;
    for (let i = 0; i < 20; i++) pool.run(0, [[1], [2], [3], [4], [5], [6]]);
    const after = pool.stats().tasks;
    expect(after[0]! + after[1]! - before[0]! - before[1]!).toBe(120);   // thread 2 ran none of them
    expect(after[2]).toBe(before[2]);
    expect(pool.broken).toBeNull();
    pool.stop();
  });

  it('a worker that fails to start: WorkerError naming it, nothing left running', async () => {
    const { memory, base } = tinyPool();
    // a module importing a function the workers do not give
    const needsImport = new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 2, 11, 1, 3, 101, 110, 118, 3, 102, 111, 111, 0, 0]));
    await expect(startWorkers(2, (index) => ({ module: needsImport, memory, base, layout: LAYOUT, index, names: [], workSlots: [], work: 0, spinMs: 0.1 }), 5000))
      .rejects.toThrow(/^thread [12] failed to start: instantiating the wasm module failed: .*foo/);
  });

  it('a worker that took a task and never finishes: bounded wait, WorkerError, the pool refuses further calls', async () => {
    const { memory, exports, base } = tinyPool();
    expect(POOL_BYTES + base).toBeLessThan(65536);
    // a worker that plays the protocol but "dies" holding its task: takes one ticket, never counts it done
    const fake = new Worker(`
      const { workerData: { memory, base, CTL } } = require('node:worker_threads');
      const ctl = new Int32Array(memory.buffer, base, 64);
      const g0 = Atomics.load(ctl, CTL.GEN);
      while (Atomics.load(ctl, CTL.GEN) === g0);            // spins, as a worker between calls does
      for (;;) { const t = Atomics.load(ctl, CTL.TICKET); if (Atomics.compareExchange(ctl, CTL.TICKET, t, t + 1) === t) break; }
      Atomics.wait(ctl, CTL.STOP, 0);`, { eval: true, workerData: { memory, base, CTL } });
    await new Promise((r) => setTimeout(r, 200));
    const handle = { index: 1, exited: null, terminate: () => void fake.terminate() };
    const pool = new WorkerPool(memory, base, exports, ['noop'], [handle], 300);
    const t0 = performance.now();
    // tasks of a few ms each: the fake wakes and takes one while the caller runs its first
    const n = 3e6;
    expect(() => pool.run(0, [[n], [n], [n], [n]])).toThrow(/^1 of 4 tasks of noop did not finish within \d+ ms \(a worker stopped responding\); this runtime can no longer run kernels/);
    expect(performance.now() - t0).toBeLessThan(3000);
    expect(pool.broken).toMatch(/did not finish/);
    expect(() => pool.run(0, [[1]])).toThrow(WorkerError);
    pool.stop();
    expect(MAX_ARGS).toBeGreaterThanOrEqual(18);
  });
});

