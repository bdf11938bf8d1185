// The engines bench in a process (Node of any version, Deno, Bun), bundled by bench/engines.ts:
//   <runtime> engines-process.mjs '<EngineSpec as JSON>' <build dir>
// It answers one JSON line per command line on stdin: `info` (which builds run; after warming
// up), `round` (one round's times), `quit`. A failure answers {"error": …} and the process ends.
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { EngineWorkload, type EngineSpec } from './workload.js';

const [specJson, buildDir] = process.argv.slice(2) as [string, string];
const wasm = (v: string) => pathToFileURL(`${buildDir}/wasmformer-${v}.wasm`);
const say = (value: unknown) => process.stdout.write(JSON.stringify(value) + '\n');

try {
  const work = await EngineWorkload.create(JSON.parse(specJson) as EngineSpec, {
    simd: wasm('simd'), relaxed: wasm('relaxed'), threads: wasm('threads'), 'relaxed-threads': wasm('relaxed-threads'),
  });
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (line === 'info') {
      await work.warmUp();
      say(work.info);
    } else if (line === 'round') {
      say(await work.round());
    } else {
      break; // 'quit', or the harness went away
    }
  }
  work.dispose();
  lines.close();
} catch (err) {
  say({ error: err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err) });
  process.exitCode = 1;
}
