// workerd: bundled by bench/startup.ts with esbuild (the library inlined, the .wasm files
// external), served by workerd (tools/workerd.ts writes its config). workerd forbids compiling wasm from bytes, so the two
// SIMD builds come in as WebAssembly.Module imports and are passed to createRuntime.
// GET /kernel or /token runs one measure and answers with its JSON. Cloudflare's workers
// runtime stops the clock during computation (it only advances on I/O, a Spectre mitigation),
// so the harness times request → response from outside; the local `workerd serve` measured here
// (2026-10-23) did advance performance.now() in whole milliseconds, so the answer's marks are kept.
import { measure } from './workload.mjs';
import simd from './wasmformer-simd.wasm';
import relaxed from './wasmformer-relaxed.wasm';

export default {
  async fetch(request) {
    const t0 = performance.now();
    const mode = new URL(request.url).pathname.slice(1) || 'kernel';
    try {
      const out = await measure(t0, () => import('wasmformer'), mode, { wasm: { simd, relaxed } });
      return Response.json({ ...out, boot: t0 });
    } catch (err) {
      return Response.json({ error: String(err && err.stack || err) }, { status: 500 });
    }
  },
};
