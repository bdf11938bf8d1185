// Node and Bun: `node [--experimental-wasm-relaxed-simd] bench/startup/entry-node.mjs kernel|token`.
// Imports the package by its own name (self-reference through package.json "exports"), i.e. dist/.
// Prints one JSON line: performance.now() at the top of this script (runtime boot → entry) and
// the cumulative milliseconds of each phase since then.
import { measure } from './workload.mjs';

const t0 = performance.now();
const out = await measure(t0, () => import('wasmformer'), process.argv[2] ?? 'kernel');
console.log(JSON.stringify({ ...out, boot: t0 }));
