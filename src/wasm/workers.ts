// Starting the pool's worker threads in whatever this JavaScript runtime offers: node:worker_threads
// (Node, Deno, Bun; reached lazily, no top-level Node import) or a Web Worker (browsers, from
// inside a Worker). The worker's code is workerMain's source, so no file has to be found
// next to the bundle: Node evaluates it, the others load it from a Blob URL as a module worker.
import { WorkerError } from '../errors.js';
import { workerMain, type WorkerInit } from './worker-main.js';

/** One started worker. */
export interface WorkerHandle {
  /** 1-based thread index (0 is the caller). */
  readonly index: number;
  /** Why the worker ended (exit code, error), or null while it runs. */
  exited: string | null;
  terminate(): void;
}

interface NodeWorker {
  on(event: string, f: (x: unknown) => void): void;
  postMessage(m: unknown): void;
  terminate(): Promise<number>;
  unref(): void;
}
interface NodeWorkerThreads {
  Worker: new (code: string, opts: { eval: true }) => NodeWorker;
}
interface WebWorker {
  onmessage: ((e: { data: unknown }) => void) | null;
  onerror: ((e: { message?: string; preventDefault?(): void }) => void) | null;
  postMessage(m: unknown): void;
  terminate(): void;
}

const g = globalThis as {
  Worker?: new (url: string, opts: { type: 'module'; name?: string }) => WebWorker;
  process?: { getBuiltinModule?: (id: string) => unknown };
  URL: typeof URL;
  Blob?: typeof Blob;
};

/**
 * node:worker_threads, where the runtime has it (Node; Deno and Bun too): unlike a Web Worker in
 * Deno, its workers can be unref'd, so a runtime that is never disposed does not keep the
 * process alive.
 */
function nodeWorkerThreads(): NodeWorkerThreads | undefined {
  try {
    return g.process?.getBuiltinModule?.('node:worker_threads') as NodeWorkerThreads | undefined;
  } catch {
    return undefined;
  }
}

/** A worker running workerMain, answering through `onMessage` and reporting its end through `onExit`. */
function spawn(index: number, onMessage: (m: { type: string; message?: string }) => void, onExit: (why: string) => void): WorkerHandle & { post(m: unknown): void } {
  const node = nodeWorkerThreads();
  if (node) {
    const code = `const { parentPort } = process.getBuiltinModule('node:worker_threads');\n(${workerMain.toString()})({ listen: (f) => parentPort.once('message', f), post: (m) => parentPort.postMessage(m) });`;
    const w = new node.Worker(code, { eval: true });
    const handle = {
      index, exited: null as string | null,
      post: (m: unknown) => w.postMessage(m),
      terminate: () => void w.terminate(),
    };
    w.on('message', (m) => onMessage(m as { type: string }));
    w.on('error', (e) => onExit(`error: ${(e as Error)?.message ?? String(e)}`));
    w.on('exit', (code) => onExit(`exited with code ${String(code)}`));
    w.unref(); // after the listeners (adding one refs the worker again): an idle pool never keeps a Node process alive
    return handle;
  }
  if (typeof g.Worker !== 'function' || typeof g.Blob !== 'function') throw new WorkerError('this runtime has no Worker to start threads with');
  const code = `(${workerMain.toString()})({ listen: (f) => { self.onmessage = (e) => { self.onmessage = null; f(e.data); }; }, post: (m) => self.postMessage(m) });`;
  const url = g.URL.createObjectURL(new g.Blob([code], { type: 'text/javascript' }));
  const w = new g.Worker(url, { type: 'module', name: `wasmformer-${index}` });
  w.onmessage = (e) => onMessage(e.data as { type: string });
  w.onerror = (e) => {
    e.preventDefault?.();
    onExit(`error: ${e.message ?? 'unknown'}`);
  };
  return {
    index, exited: null,
    post: (m: unknown) => w.postMessage(m),
    terminate: () => {
      w.terminate();
      g.URL.revokeObjectURL(url);
    },
  };
}

/**
 * Starts `count` workers, sends each its WorkerInit, and resolves when all have instantiated the
 * module. A worker that fails to start, or is not ready within `timeoutMs`, rejects with a
 * WorkerError naming it, after every started worker has been terminated.
 */
export async function startWorkers(count: number, init: (index: number) => WorkerInit, timeoutMs: number): Promise<WorkerHandle[]> {
  const workers: (WorkerHandle & { post(m: unknown): void })[] = [];
  const ready: Promise<void>[] = [];
  try {
    for (let i = 1; i <= count; i++) {
      let settle!: (err?: WorkerError) => void;
      ready.push(new Promise<void>((resolve, reject) => {
        settle = (err) => (err ? reject(err) : resolve());
      }));
      const w = spawn(
        i,
        (m) => {
          if (m.type === 'ready') settle();
          else if (m.type === 'error') settle(new WorkerError(`thread ${i} failed to start: ${m.message}`));
        },
        (why) => {
          w.exited ??= why;
          settle(new WorkerError(`thread ${i} ended before it was ready: ${why}`));
        },
      );
      workers.push(w);
      w.post(init(i));
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new WorkerError(`threads not ready after ${timeoutMs} ms (${count} asked for)`)), timeoutMs);
    });
    try {
      await Promise.race([Promise.all(ready), timeout]);
    } finally {
      clearTimeout(timer);
    }
    return workers;
  } catch (err) {
    for (const w of workers) w.terminate();
    throw err instanceof WorkerError ? err : new WorkerError(`threads could not be started: ${(err as Error)?.message ?? String(err)}`);
  }
}
