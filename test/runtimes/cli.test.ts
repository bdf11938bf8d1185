// The runtime suite in Node (in this process), Deno and Bun (child processes running the
// bundled suite against the .wasm files in build/), each compared with Node's report.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRuntime } from '../../src/index.js';
import { runSuite, tinyLosses, type SuiteReport } from './suite.js';
import { bundleEntry } from './bundle.js';
import { expectLikeNode } from './compare.js';

const run = promisify(execFile);
const buildDir = fileURLToPath(new URL('../../build/', import.meta.url));
const bin = (name: string) => fileURLToPath(new URL(`../../node_modules/.bin/${name}`, import.meta.url));
const wasmUrl = (v: string) => new URL(`../../build/wasmformer-${v}.wasm`, import.meta.url);

let node: SuiteReport;
let entry: string;

beforeAll(async () => {
  node = await runSuite({
    runtime: 'node',
    wasm: { simd: wasmUrl('simd'), relaxed: wasmUrl('relaxed'), threads: wasmUrl('threads') },
    missing: wasmUrl('missing'),
  });
  entry = await bundleEntry('cli-entry.ts', 'cli-suite');
}, 120_000);

async function report(cmd: string, args: string[]): Promise<SuiteReport> {
  const { stdout } = await run(cmd, args, { timeout: 120_000, maxBuffer: 1 << 24, env: { ...process.env, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' } });
  const line = stdout.trim().split('\n').at(-1)!;
  return JSON.parse(line) as SuiteReport;
}

describe('runtime suite', () => {
  it('Node 20: every check passes on simd, relaxed and threads', () => {
    expect(node.checks.filter((c) => !c.ok)).toEqual([]);
    expect(Object.keys(node.variants)).toEqual(['simd', 'relaxed', 'threads']);
    expect(node.threads).toEqual({ backend: 'threads', fallback: null, error: null });
    // The tiny GPT learns: the mean of the last 5 losses is below the first (ln 31 ≈ 3.43 at init).
    const l = node.variants.simd!.losses;
    expect(l.slice(-5).reduce((a, b) => a + b) / 5).toBeLessThan(l[0]! - 0.3);
  });

  it('Deno 2: same bits as Node on simd and threads, relaxed within tolerance', async () => {
    const deno = await report(bin('deno'), ['run', '--allow-read', '--no-prompt', entry, 'deno', buildDir]);
    const c = expectLikeNode(deno, node);
    expect(c.variants).toEqual(['simd', 'relaxed', 'threads']);
    expect(deno.threads.backend).toBe('threads');
    console.log(`deno: ${c.variants.join(', ')}; relaxed ${c.relaxed}; ${deno.ms.toFixed(0)} ms`);
  }, 180_000);

  it('Bun: same bits as Node on simd and threads, relaxed within tolerance', async () => {
    const bun = await report(bin('bun'), [entry, 'bun', buildDir]);
    const c = expectLikeNode(bun, node);
    expect(c.variants).toContain('simd');
    console.log(`bun: ${c.variants.join(', ')}; relaxed ${c.relaxed}; threads ${JSON.stringify(bun.threads)}; ${bun.ms.toFixed(0)} ms`);
  }, 180_000);

  it('a runtime with no WebAssembly at all (node --jitless): the JS kernels, the reason, the same losses as the JS backend here', async () => {
    const entry = await bundleEntry('no-wasm-entry.ts', 'no-wasm');
    const { stdout } = await run(process.execPath, ['--jitless', entry], { timeout: 120_000 });
    const got = JSON.parse(stdout.trim().split('\n').at(-1)!) as { wasm: string; backend: string; notes: string[]; losses: number[] };
    expect(got.wasm).toBe('undefined');
    expect(got.backend).toBe('js');
    expect(got.notes).toEqual([
      'threads: this runtime cannot create a shared WebAssembly.Memory: running on one thread',
      'relaxed: this runtime has no WebAssembly',
      'simd: this runtime has no WebAssembly',
      'js: no wasm variant can run here, using the plain-JS kernels (much slower than wasm SIMD)',
    ]);
    expect(got.losses).toEqual(tinyLosses(await createRuntime({ variant: 'js' }), 2));
  }, 180_000);
});
