// Chromium: loaded by index.html as a module script. Imports the esbuild bundle of the
// library (served at /lib/wasmformer.js; its default .wasm URL, ../../build/…, resolves to
// /build/ on the server) and leaves the result in globalThis.__startup for the harness.
import { measure } from './workload.mjs';

const t0 = performance.now();
const mode = new URLSearchParams(location.search).get('mode') ?? 'kernel';
try {
  const out = await measure(t0, () => import('./lib/wasmformer.js'), mode);
  // Where the network part went: fetch start → end of the library bundle and the .wasm (resource timing).
  const fetches = {};
  for (const e of performance.getEntriesByType('resource')) {
    const name = e.name.split('/').pop().split('?')[0];
    if (name.endsWith('.js') || name.endsWith('.mjs') || name.endsWith('.wasm')) fetches[name] = { start: e.startTime - t0, end: e.responseEnd - t0 };
  }
  globalThis.__startup = { ...out, boot: t0, fetches };
} catch (err) {
  globalThis.__startup = { error: String(err && err.stack || err) };
}
