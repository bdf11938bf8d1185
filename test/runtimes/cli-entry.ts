// The suite as a command for Deno, Bun and other Node versions: `<runtime> cli-entry.mjs <name> <dir of .wasm>`.
// Passes the wasm as file: URLs (so each runtime's own file reading is exercised: Deno.readFile,
// Bun's node:fs), prints the report as one JSON line.
import { runSuite } from './suite.js';

const g = globalThis as { Deno?: { args: string[] }; process?: { argv: string[] } };
const [runtime, dir] = g.Deno ? g.Deno.args : g.process!.argv.slice(2);
const url = (file: string) => new URL(`${dir!.replace(/\/?$/, '/')}${file}`, 'file:///');
const report = await runSuite({
  runtime: runtime!,
  wasm: {
    simd: url('wasmformer-simd.wasm'), relaxed: url('wasmformer-relaxed.wasm'),
    threads: url('wasmformer-threads.wasm'), 'relaxed-threads': url('wasmformer-relaxed-threads.wasm'),
  },
  missing: url('wasmformer-missing.wasm'),
});
console.log(JSON.stringify(report));
