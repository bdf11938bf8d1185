// The suite in a browser page: wasm fetched from /build/ (compileStreaming), the report left
// on `globalThis.suiteReport` for the test to read.
import { runSuite, type SuiteReport } from './suite.js';

const url = (file: string) => new URL(`/build/${file}`, location.href);
const report = await runSuite({
  runtime: 'chromium',
  wasm: { simd: url('wasmformer-simd.wasm'), relaxed: url('wasmformer-relaxed.wasm'), threads: url('wasmformer-threads.wasm') },
  missing: url('wasmformer-missing.wasm'),
});
(globalThis as { suiteReport?: SuiteReport }).suiteReport = report;
