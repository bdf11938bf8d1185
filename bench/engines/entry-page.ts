// The engines bench in a browser, bundled by bench/engines.ts into engines-page.mjs and served
// cross-origin isolated: the page's main thread may not block, so the measuring runs in a
// dedicated module Worker started from this same file (where the engine has threads, the
// two-thread runtime can run there too). The harness talks to the page through
// `globalThis.__engines`: ask('info' | 'round') returns an id, answers[id] becomes the answer as
// a JSON string (strings cross WebDriver's and Firefox's script sandboxes unchanged).
import { EngineWorkload, type EngineSpec } from './workload.js';

interface Asked { id: number; command: string }
interface Answer { id: number; json: string }

const describe = (err: unknown) => JSON.stringify({ error: err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err) });

if (typeof document === 'undefined') {
  // The Worker: creates the runtimes once, then answers commands in order.
  const spec = JSON.parse(new URLSearchParams(location.search).get('spec') ?? '{}') as EngineSpec;
  const url = (v: string) => new URL(`/build/wasmformer-${v}.wasm`, location.href);
  const ready = EngineWorkload.create(spec, {
    simd: url('simd'), relaxed: url('relaxed'), threads: url('threads'), 'relaxed-threads': url('relaxed-threads'),
  });
  let queue: Promise<unknown> = Promise.resolve();
  onmessage = (e: MessageEvent<Asked>) => {
    const { id, command } = e.data;
    queue = queue.then(async () => {
      let json: string;
      try {
        const work = await ready;
        if (command === 'info') {
          await work.warmUp();
          json = JSON.stringify(work.info);
        } else {
          json = JSON.stringify(await work.round());
        }
      } catch (err) {
        json = describe(err);
      }
      postMessage({ id, json } satisfies Answer);
    });
  };
} else {
  const answers: Record<number, string> = {};
  let next = 0;
  const worker = new Worker(new URL(`engines-page.mjs${location.search}`, location.href), { type: 'module' });
  const pending = new Set<number>();
  worker.onmessage = (e: MessageEvent<Answer>) => { answers[e.data.id] = e.data.json; pending.delete(e.data.id); };
  // A Worker that fails to load answers every question, asked or to come, with the reason.
  let failed: string | null = null;
  worker.onerror = (e) => {
    failed = describe(new Error(`the worker did not start: ${e.message || 'no message (a load or syntax error)'}`));
    for (const id of pending) answers[id] = failed;
    pending.clear();
  };
  (globalThis as { __engines?: unknown }).__engines = {
    answers,
    ask(command: string): number {
      const id = next++;
      if (failed) answers[id] = failed;
      else {
        pending.add(id);
        worker.postMessage({ id, command } satisfies Asked);
      }
      return id;
    },
  };
}
