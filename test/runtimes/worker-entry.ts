// The suite in Cloudflare workerd: the .wasm files are imported as modules (workerd forbids
// compiling wasm from bytes), the report is the response to any request. A second route hands
// the library raw bytes instead of a module, to check the error tells the user what to do.
import { createRuntime } from '../../src/index.js';
import { runSuite } from './suite.js';
// @ts-expect-error: a wasm module of the worker's config, not a TypeScript module
import simd from './wasmformer-simd.wasm';
// @ts-expect-error: as above
import relaxed from './wasmformer-relaxed.wasm';
// @ts-expect-error: the same file as a `data` module: an ArrayBuffer of its bytes
import simdBytes from './wasmformer-simd.bin';

export default {
  async fetch(request: Request): Promise<Response> {
    if (new URL(request.url).pathname === '/bytes') {
      try {
        await createRuntime({ variant: 'simd', wasm: { simd: new Uint8Array(simdBytes as ArrayBuffer) } });
        return new Response('no error');
      } catch (err) {
        return new Response(`${(err as Error).name}: ${(err as Error).message}`);
      }
    }
    const report = await runSuite({ runtime: 'workerd', wasm: { simd: simd as WebAssembly.Module, relaxed: relaxed as WebAssembly.Module } });
    return Response.json(report);
  },
};
