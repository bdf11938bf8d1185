// The worker pool: threads that run kernel calls on the same wasm module over the one shared
// memory. A call split into tasks (src/wasm/parallel.ts) is published in a job table inside that
// memory (layout: worker-main.ts); the workers and the caller take tasks one at a time from a
// shared ticket (so a busy core takes fewer) and the caller returns when all are done. Each task
// writes its own part of the output with the same instructions whichever thread runs it, so
// results do not depend on the number of threads. Synchronisation is Atomics on the control
// block; no messages per call.
import { WorkerError } from '../errors.js';
import { CTL, CTL_INTS, ERR_CHARS, ERR_OFFSET, MAX_ARGS, MAX_TASKS, TABLE_OFFSET } from './worker-main.js';
import type { WorkerHandle } from './workers.js';

const { GEN, FN, TASKS, TICKET, DONE, STOP, FAILED, FAILED_TASK, JOBS, SLEEPERS, CALLER_ASLEEP, TAKEN } = CTL;

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
    this.#table = new Float64Array(memory.buffer, base + TABLE_OFFSET, MAX_TASKS * MAX_ARGS);
    this.#err = new Uint16Array(memory.buffer, base + ERR_OFFSET, ERR_CHARS);
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
    const arity = this.#fns[fn]!.length;
    for (let t = 0; t < n; t++) {
      const task = tasks[t]!, at = t * MAX_ARGS;
      this.#table.set(task, at);
      // arguments left off are 0 in every thread, as in a direct call (not the last job's values)
      if (task.length < arity) this.#table.fill(0, at + task.length, at + arity);
    }
    const gen = (this.#gen = (this.#gen + 1) & 0x7fff);
    // The new generation goes into TICKET before FN and TASKS change: a worker still holding the
    // last job's generation may read the new FN and TASKS, but then finds no ticket of its
    // generation to take. (With TICKET last, such a worker could take the old job's spent ticket
    // n_old against the new job's TASKS and run the new job's task n_old a second time.)
    Atomics.store(ctl, TICKET, gen << 16);
    Atomics.store(ctl, FN, fn);
    Atomics.store(ctl, TASKS, n);
    Atomics.store(ctl, FAILED, 0);
    Atomics.store(ctl, DONE, 0);
    ctl[JOBS]!++;
    Atomics.store(ctl, GEN, gen);
    if (Atomics.load(ctl, SLEEPERS) !== 0) Atomics.notify(ctl, GEN);
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
    for (let t = 0; t <= this.#workers.length && TAKEN + t < CTL_INTS; t++) tasks.push(Atomics.load(this.#ctl, TAKEN + t));
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
    // spin while the other tasks are likely short (a task this thread ran took longestMs), then sleep
    const spinMs = Math.max(1, 2 * longestMs);
    for (let i = 1; done < n; i++) {
      if ((i & 1023) === 0 && performance.now() - t0 > spinMs) break;
      done = Atomics.load(ctl, DONE);
    }
    const limit = Math.max(this.#timeoutMs, 100 * longestMs);
    while (done < n) {
      Atomics.store(ctl, CALLER_ASLEEP, 1);   // before the value check inside wait: the last task's notify is not missed
      Atomics.wait(ctl, DONE, done, 20);
      Atomics.store(ctl, CALLER_ASLEEP, 0);
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
