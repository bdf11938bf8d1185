// The pool's shared layout and the loop each worker thread runs. The control block, the job
// table and the error text live in the shared wasm memory at a base the runtime carves out; the
// loop (workerMain) is shipped to the workers as source text, so it uses nothing from outside its
// body and gets the layout in its init message.

/** Int32 words of the control block, and what each holds. */
export const CTL = {
  GEN: 0,          // job generation (15 bits, wraps): workers wait on it
  FN: 1,           // index of the job's export in `names`
  TASKS: 2,        // tasks in the job
  TICKET: 3,       // generation << 16 | next task: taken by compare-and-swap
  DONE: 4,         // tasks finished: the caller waits on it
  STOP: 5,         // 1: workers leave their loop
  FAILED: 6,       // 0, or 1 + index of the first worker whose task threw
  FAILED_TASK: 7,  // which task that was
  JOBS: 8,         // jobs run so far
  SLEEPERS: 9,     // workers asleep in Atomics.wait on GEN: only then does a new job notify
  CALLER_ASLEEP: 10, // 1 while the caller sleeps on DONE: only then does the last task notify
  TAKEN: 16,       // + thread index: tasks each thread has run so far (threads 0 … CTL_INTS − TAKEN − 1 counted)
} as const;
export const CTL_INTS = 64;
/** Most arguments of one task (≥ every kernel's: test/wasm/abi.test.ts), most tasks of one job, characters of an error message. */
export const MAX_ARGS = 32;
export const MAX_TASKS = 240;
export const ERR_CHARS = 256;
/** Byte offsets from the base: job table (f64 arguments, MAX_ARGS per task), error text (UTF-16). */
export const TABLE_OFFSET = CTL_INTS * 4;
export const ERR_OFFSET = TABLE_OFFSET + MAX_TASKS * MAX_ARGS * 8;
/** Bytes the pool needs in the shared memory. */
export const POOL_BYTES = ERR_OFFSET + ERR_CHARS * 2;
/** All of the layout, as sent to the workers. */
export const LAYOUT = { CTL, CTL_INTS, MAX_ARGS, MAX_TASKS, ERR_CHARS, TABLE_OFFSET, ERR_OFFSET };

/** What a worker is told when it starts (structured-cloned: module and memory are shared). */
export interface WorkerInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  /** Byte address of the control block. */
  base: number;
  layout: typeof LAYOUT;
  /** 1-based thread index (0 is the caller). */
  index: number;
  /** The exports a job may name, in FN order. */
  names: string[];
  /** Per export: the argument that is a GEMM workspace (replaced by this worker's own), or -1. */
  workSlots: number[];
  /** This worker's workspace. */
  work: number;
  /**
   * How long an idle worker spins before it sleeps, in ms. Waking a sleeping thread costs far more
   * than a kernel call on a VM (measured here: Atomics.notify 35 µs on the caller, 130 µs until the
   * worker runs), and a training step leaves only short gaps between calls, so workers spin through them.
   */
  spinMs: number;
}

/**
 * The loop every worker runs: wait for a job (spin, then sleep), take tasks from the ticket until
 * none is left, count each done. Self-contained source (workers.ts turns it into the worker's
 * code). `port` abstracts worker_threads and Web Workers: `listen` takes the one init message,
 * `post` answers ('ready', 'error', 'stopped').
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
    const L = init.layout, C = L.CTL, buffer = init.memory.buffer;
    const ctl = new Int32Array(buffer, init.base, L.CTL_INTS);
    const table = new Float64Array(buffer, init.base + L.TABLE_OFFSET, L.MAX_TASKS * L.MAX_ARGS);
    const errText = new Uint16Array(buffer, init.base + L.ERR_OFFSET, L.ERR_CHARS);
    const fns = init.names.map((n) => exports[n] as (...a: number[]) => void);
    const argv = fns.map((f) => new Array<number>(f.length).fill(0));
    port.post({ type: 'ready' });
    let gen = Atomics.load(ctl, C.GEN);
    for (;;) {
      let g = Atomics.load(ctl, C.GEN);
      const t0 = performance.now();
      for (let i = 1; g === gen; i++) {
        if ((i & 1023) === 0 && performance.now() - t0 > init.spinMs) {
          Atomics.add(ctl, C.SLEEPERS, 1);   // counted before wait checks GEN, so no job is missed
          Atomics.wait(ctl, C.GEN, gen);
          Atomics.sub(ctl, C.SLEEPERS, 1);
        }
        g = Atomics.load(ctl, C.GEN);
      }
      gen = g;
      if (Atomics.load(ctl, C.STOP) !== 0) break;
      const f = Atomics.load(ctl, C.FN), tasks = Atomics.load(ctl, C.TASKS);
      const fn = fns[f]!, args = argv[f]!, slot = init.workSlots[f]!;
      for (;;) {
        const ticket = Atomics.load(ctl, C.TICKET);
        if (ticket >>> 16 !== gen || (ticket & 0xffff) >= tasks) break;   // another job's ticket, or none left
        if (Atomics.compareExchange(ctl, C.TICKET, ticket, ticket + 1) !== ticket) continue;
        const t = ticket & 0xffff;
        for (let a = 0; a < args.length; a++) args[a] = table[t * L.MAX_ARGS + a]!;
        if (slot >= 0) args[slot] = init.work;
        try {
          fn(...args);
        } catch (err) {
          if (Atomics.compareExchange(ctl, C.FAILED, 0, init.index + 1) === 0) {
            const text = String((err as Error)?.message ?? err).slice(0, L.ERR_CHARS - 1);
            for (let c = 0; c < text.length; c++) errText[c] = text.charCodeAt(c);
            errText[text.length] = 0;
            Atomics.store(ctl, C.FAILED_TASK, t);
          }
        }
        if (C.TAKEN + init.index < L.CTL_INTS) Atomics.add(ctl, C.TAKEN + init.index, 1);
        if (Atomics.add(ctl, C.DONE, 1) + 1 === tasks && Atomics.load(ctl, C.CALLER_ASLEEP) !== 0) Atomics.notify(ctl, C.DONE);
      }
    }
    port.post({ type: 'stopped' });
  });
}
