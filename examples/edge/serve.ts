// Builds the edge worker and serves it on workerd at http://127.0.0.1:8787 (Ctrl-C stops).
//
//   npx tsx examples/edge/serve.ts [--port 8787] [--variant auto|simd|relaxed] [--out test-output/edge]
//   curl -s localhost:8787/generate -d '{"prompt":"Emma ","maxNewTokens":200,"seed":1}'
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildWorker } from './build.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '8787' },
    variant: { type: 'string', default: 'auto' },
    out: { type: 'string' },
  },
});
const built = await buildWorker({ outDir: values.out, port: Number(values.port), bindings: { WASM_VARIANT: values.variant! } });
const workerd = join(dirname(createRequire(import.meta.url).resolve('workerd/package.json')), 'bin', 'workerd');
const origin = `http://127.0.0.1:${values.port}`;

const child = spawn(workerd, ['serve', built.configPath, '--verbose'], { stdio: ['ignore', 'inherit', 'inherit'] });
child.on('exit', (code, signal) => {
  if (code !== 0 && signal !== 'SIGTERM' && signal !== 'SIGINT') console.error(`workerd exited (${code ?? signal})`);
  process.exit(code ?? 0);
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => child.kill(sig));

// Tell the user once it answers.
for (let i = 0; i < 300; i++) {
  try {
    await (await fetch(`${origin}/`)).arrayBuffer();
    console.log(`wasmformer edge worker on workerd: ${origin}  (config ${built.configPath})`);
    console.log(`  curl ${origin}/health`);
    console.log(`  curl ${origin}/generate -d '{"prompt":"Emma ","maxNewTokens":200,"temperature":0.8,"seed":1}'`);
    console.log(`  curl -N '${origin}/generate?prompt=Emma%20&stream=1'`);
    break;
  } catch {
    await new Promise((r) => setTimeout(r, 100));
  }
}
