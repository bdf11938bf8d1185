// The suite in Cloudflare workerd: the .wasm files are imported as modules (workerd forbids
// compiling wasm from bytes); the report is the response to any request. (Bytes instead of a
// module, and no wasm at all, are tested with the edge example: test/examples/edge.test.ts.)
import { runSuite } from './suite.js';
// @ts-expect-error: a wasm module of the worker's config, not a TypeScript module
import simd from './wasmformer-simd.wasm';
// @ts-expect-error: as above
import relaxed from './wasmformer-relaxed.wasm';

export default {
  async fetch(): Promise<Response> {
    const report = await runSuite({ runtime: 'workerd', wasm: { simd: simd as WebAssembly.Module, relaxed: relaxed as WebAssembly.Module } });
    return Response.json(report);
  },
};
