// The suite in a browser, for any engine: on the page's main thread, or with `?in=worker` in a
// dedicated module Worker started from this same file (a Worker may block, so on an isolated
// page the threads build runs there). Wasm is fetched from /build/ (compileStreaming). The
// report, or why there is none, is left on `globalThis.suiteReport` / `suiteError` for the test.
import { runSuite, type SuiteReport } from './suite.js';

const params = new URLSearchParams(location.search);
const runtime = params.get('runtime') ?? 'browser';
const inWorker = typeof document === 'undefined';
const url = (file: string) => new URL(`/build/${file}`, location.href);
const run = () => runSuite({
  runtime: inWorker ? `${runtime} worker` : runtime,
  wasm: {
    simd: url('wasmformer-simd.wasm'), relaxed: url('wasmformer-relaxed.wasm'),
    threads: url('wasmformer-threads.wasm'), 'relaxed-threads': url('wasmformer-relaxed-threads.wasm'),
  },
  missing: url('wasmformer-missing.wasm'),
});
const g = globalThis as { suiteReport?: SuiteReport; suiteError?: string };
const describe = (err: unknown) => (err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err));

if (inWorker) {
  try {
    postMessage({ report: await run() });
  } catch (err) {
    postMessage({ error: describe(err) });
  }
} else if (params.get('in') === 'worker') {
  const worker = new Worker(new URL(`suite.mjs${location.search}`, location.href), { type: 'module' });
  worker.onmessage = (e: MessageEvent<{ report?: SuiteReport; error?: string }>) => {
    if (e.data.report) g.suiteReport = e.data.report;
    else g.suiteError = `the worker failed: ${e.data.error}`;
  };
  worker.onerror = (e) => { g.suiteError = `the worker did not start: ${e.message || 'no message (a load or syntax error)'}`; };
} else {
  try {
    g.suiteReport = await run();
  } catch (err) {
    g.suiteError = describe(err);
  }
}
