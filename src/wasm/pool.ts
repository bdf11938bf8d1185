// The worker pool: threads that run kernel calls on the same wasm module over the one shared
// memory. A call split into tasks (src/wasm/parallel.ts) is published in a job table inside that
// memory; the workers and the caller take tasks one at a time from a shared ticket (so a busy
// core takes fewer) and the caller returns when all are done. Each task writes its own part of
// the output with the same instructions whichever thread runs it, so results do not depend on
// the number of threads. Synchronisation is Atomics on the control block; no messages per call.
import { WorkerError } from '../errors.js';
import type { WorkerHandle } from './workers.js';

/** Int32 words of the control block. */
const CTL_INTS = 64;
const GEN = 0;      // job generation (15 bits, wraps): workers wait on it
const FN = 1;       // index of the job's export in `names`
const TASKS = 2;    // tasks in the job
const TICKET = 3;   // generation << 16 | next task: taken by compare-and-swap
const DONE = 4;     // tasks finished: the caller waits on it
const STOP = 5;     // 1: workers leave their loop
const FAILED = 6;   // 0, or 1 + index of the first worker whose task threw
const FAILED_TASK = 7;
const JOBS = 8;     // jobs run so far
const TAKEN = 16;   // + thread index: tasks each thread has run so far (so at most 48 threads count)
/** Most arguments of one task, and most tasks of one job. */
export const MAX_ARGS = 20;
/** The control block's words, for tests that play a worker. */
export const CTL = { GEN, FN, TASKS, TICKET, DONE, STOP, FAILED, FAILED_TASK, JOBS, TAKEN } as const;
export const MAX_TASKS = 256;
const ERR_CHARS = 256;
/** Bytes the pool needs in the shared memory: control block, job table, error text. */
export const POOL_BYTES = CTL_INTS * 4 + MAX_TASKS * MAX_ARGS * 8 + ERR_CHARS * 2;

/** What a worker is told when it starts (structured-cloned: module and memory are shared). */
export interface WorkerInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  /** Byte address of the control block. */
  base: number;
  /** 1-based thread index (0 is the caller). */
  index: number;
  /** The exports a job may name, in FN order. */
  names: string[];
  /** Per export: the argument that is a GEMM workspace (replaced by this worker's own), or -1. */
  workSlots: number[];
  /** This worker's workspace. */
  work: number;
  /** How long an idle worker spins before it sleeps, in ms. */
  spinMs: number;
}

/**
 * The loop every worker runs, as self-contained source (it is turned into the worker's code by
 * workers.ts, so it may use nothing from outside its body). `port` abstracts worker_threads and
 * Web Workers: `listen` takes the one init message, `post` answers.
 */
export function workerMain(port: { listen(f: (init: WorkerInit) => void): void; post(m: unknown): void }): void {
  port.listen((init) => {
    let exports: Record<string, unknown>;
    try {
      exports = new WebAssembly.Instance(init.module, { env: { memory: init.memory } }).exports;
    } catch (err) {
      port.post({ type: 'error', message: `instantiating the wasm module failed: ${(err as Error)?.message ?? String(err)}` });
      return;
    }
    const ctl = new Int32Array(init.memory.buffer, init.base, 64);
    const table = new Float64Array(init.memory.buffer, init.base + 256, 256 * 20);
    const errText = new Uint16Array(init.memory.buffer, init.base + 256 + 256 * 20 * 8, 256);
    const fns = init.names.map((n) => exports[n] as (...a: number[]) => void);
    const argv = fns.map((f) => new Array<number>(f.length).fill(0));
    port.post({ type: 'ready' });
    let gen = Atomics.load(ctl, 0);
    for (;;) {
      // wait for the next job: spin a little (calls come back to back in a step), then sleep
      let g = Atomics.load(ctl, 0);
      const t0 = performance.now();
      for (let i = 1; g === gen; i++) {
        if ((i & 1023) === 0 && performance.now() - t0 > init.spinMs) Atomics.wait(ctl, 0, gen);
        g = Atomics.load(ctl, 0);
      }
      gen = g;
      if (Atomics.load(ctl, 5) !== 0) break;
      const f = Atomics.load(ctl, 1), tasks = Atomics.load(ctl, 2), fn = fns[f]!, args = argv[f]!, slot = init.workSlots[f]!;
      for (;;) {
        const ticket = Atomics.load(ctl, 3);
        if (ticket >>> 16 !== gen || (ticket & 0xffff) >= tasks) break;
        if (Atomics.compareExchange(ctl, 3, ticket, ticket + 1) !== ticket) continue;
        const t = ticket & 0xffff;
        for (let a = 0; a < args.length; a++) args[a] = table[t * 20 + a]!;
        if (slot >= 0) args[slot] = init.work;
        try {
          fn(...args);
        } catch (err) {
          if (Atomics.compareExchange(ctl, 6, 0, init.index + 1) === 0) {
            const text = String((err as Error)?.message ?? err).slice(0, 255);
            for (let c = 0; c < text.length; c++) errText[c] = text.charCodeAt(c);
            errText[text.length] = 0;
            Atomics.store(ctl, 7, t);
          }
        }
        if (init.index < 48) Atomics.add(ctl, 16 + init.index, 1);
        if (Atomics.add(ctl, 4, 1) + 1 === tasks) Atomics.notify(ctl, 4);
      }
    }
    port.post({ type: 'stopped' });
  });
}

/** The caller's side of the pool. */
export class WorkerPool {
  readonly #ctl: Int32Array;
  readonly #table: Float64Array;
  readonly #err: Uint16Array;
  readonly #names: string[];
  readonly #fns: ((...a: number[]) => void)[];
  readonly #workers: WorkerHandle[];
  readonly #timeoutMs: number;
  #gen = 0;
  #stopped = false;
  /** Why the pool can no longer run jobs, or null. */
  broken: string | null = null;

  /**
   * @param base byte address of POOL_BYTES bytes of the shared memory, owned by the pool
   * @param workers started workers (see startWorkers), each already instantiated
   * @param timeoutMs the longest the caller waits for a task to finish once it has none left to take
   */
  constructor(memory: WebAssembly.Memory, base: number, exports: Record<string, unknown>, names: string[], workers: WorkerHandle[], timeoutMs: number) {
    this.#ctl = new Int32Array(memory.buffer, base, CTL_INTS);
    this.#table = new Float64Array(memory.buffer, base + CTL_INTS * 4, MAX_TASKS * MAX_ARGS);
    this.#err = new Uint16Array(memory.buffer, base + CTL_INTS * 4 + MAX_TASKS * MAX_ARGS * 8, ERR_CHARS);
    this.#names = names;
    this.#fns = names.map((n) => exports[n] as (...a: number[]) => void);
    this.#workers = workers;
    this.#timeoutMs = timeoutMs;
    this.#gen = Atomics.load(this.#ctl, GEN);
  }

  /** Threads that run jobs: the caller and the workers still alive. */
  get size(): number {
    if (this.#stopped) return 1;
    let alive = 1;
    for (const w of this.#workers) if (w.exited === null) alive++;
    return alive;
  }

  /** Why each worker that is gone ended. */
  get exits(): string[] {
    return this.#workers.filter((w) => w.exited !== null).map((w) => `thread ${w.index}: ${w.exited}`);
  }

  /**
   * Runs `tasks` (each a full argument list of export `fn`) across the pool and returns when all
   * are done. The caller runs tasks too, with the arguments as given; workers put their own
   * workspace in the export's workspace argument. Throws WorkerError if a task threw (after every
   * task has finished) or if a task a worker took has not finished within the timeout (the pool
   * is then broken: a late worker could still write into the memory).
   */
  run(fn: number, tasks: number[][]): void {
    if (this.broken) this.assertUsable();
    const ctl = this.#ctl, n = tasks.length;
    if (n > MAX_TASKS) throw new WorkerError(`${this.#names[fn]}: ${n} tasks, at most ${MAX_TASKS}`);
    for (let t = 0; t < n; t++) this.#table.set(tasks[t]!, t * MAX_ARGS);
    const gen = (this.#gen = (this.#gen + 1) & 0x7fff);
    ctl[FN] = fn;
    ctl[TASKS] = n;
    ctl[FAILED] = 0;
    Atomics.store(ctl, DONE, 0);
    Atomics.store(ctl, TICKET, gen << 16);
    ctl[JOBS]!++;
    Atomics.store(ctl, GEN, gen);
    Atomics.notify(ctl, GEN);
    const f = this.#fns[fn]!;
    let mine: unknown = null, longest = 0;
    for (;;) {
      const ticket = Atomics.load(ctl, TICKET);
      if ((ticket & 0xffff) >= n) break;
      if (Atomics.compareExchange(ctl, TICKET, ticket, ticket + 1) !== ticket) continue;
      const t0 = performance.now();
      try {
        f(...tasks[ticket & 0xffff]!);
      } catch (err) {
        mine ??= err;
      }
      longest = Math.max(longest, performance.now() - t0);
      Atomics.add(ctl, TAKEN, 1);
      Atomics.add(ctl, DONE, 1);
    }
    this.#waitDone(n, fn, longest);
    if (mine) throw mine;
    const failed = Atomics.load(ctl, FAILED);
    if (failed) {
      let text = '';
      for (let c = 0; c < ERR_CHARS && this.#err[c]; c++) text += String.fromCharCode(this.#err[c]!);
      throw new WorkerError(`thread ${failed - 1} failed running ${this.#names[fn]} (task ${ctl[FAILED_TASK]} of ${n}): ${text}`);
    }
  }

  /** Jobs run across the pool so far, and the tasks each thread (0 = the caller) ran. */
  stats(): { jobs: number; tasks: number[] } {
    const tasks: number[] = [];
    for (let t = 0; t <= this.#workers.length && t < 48; t++) tasks.push(Atomics.load(this.#ctl, TAKEN + t));
    return { jobs: Atomics.load(this.#ctl, JOBS), tasks };
  }

  /** Throws WorkerError if the pool is broken (see `broken`). */
  assertUsable(): void {
    if (this.broken) throw new WorkerError(`this runtime can no longer run kernels: ${this.broken}`);
  }

  /** Waits until `n` tasks are done: spins briefly, then sleeps in slices, up to the timeout. */
  #waitDone(n: number, fn: number, longestMs: number): void {
    const ctl = this.#ctl;
    let done = Atomics.load(ctl, DONE);
    if (done >= n) return;
    const t0 = performance.now();
    for (let i = 0; done < n && i < 2000; i++) done = Atomics.load(ctl, DONE);
    const limit = Math.max(this.#timeoutMs, 100 * longestMs);
    while (done < n) {
      Atomics.wait(ctl, DONE, done, 20);
      done = Atomics.load(ctl, DONE);
      const waited = performance.now() - t0;
      if (done < n && waited > limit) {
        const gone = this.exits;
        this.broken = `${n - done} of ${n} tasks of ${this.#names[fn]} did not finish within ${Math.round(waited)} ms` +
          (gone.length ? ` (${gone.join('; ')})` : ' (a worker stopped responding)');
        throw new WorkerError(`${this.broken}; this runtime can no longer run kernels (create a new one)`);
      }
    }
  }

  /** Ends every worker (they leave their loop, then are terminated); the caller alone runs calls from then on. Idempotent. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    Atomics.store(this.#ctl, STOP, 1);
    Atomics.store(this.#ctl, GEN, (this.#gen = (this.#gen + 1) & 0x7fff));
    Atomics.notify(this.#ctl, GEN);
    for (const w of this.#workers) w.terminate();
  }
}
