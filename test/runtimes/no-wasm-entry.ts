// For a runtime without WebAssembly at all (Node with --jitless, as locked-down browsers and
// some embedded engines): the library must still load, say why it fell back, and compute.
import { createRuntime } from '../../src/index.js';
import { tinyLosses } from './suite.js';

const rt = await createRuntime();
console.log(JSON.stringify({ wasm: typeof WebAssembly, backend: rt.backend, notes: rt.notes, losses: tinyLosses(rt, 2) }));
