// The runtime suite and the Node example on Node 22, 24 and 26 (the Node that runs vitest, 20,
// has its own tests: cli.test.ts, test/examples/). Each Node runs the bundled suite against
// build/'s .wasm files with no flags — relaxed SIMD is on by default from Node 22 — and its
// report must match Node 20's: simd and threads bit for bit, relaxed within the stated bound
// (bit-identical where V8 fuses relaxed_madd the same way). The example must pick the relaxed
// threaded build by itself, train (loss falls) and write a checkpoint that sample.mjs streams from.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleEntry } from './bundle.js';
import { expectLikeNode } from './compare.js';
import { NODE_MAJORS, nodeBinary } from '../../tools/node-versions.js';
import { runSuite, type SuiteReport } from './suite.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const buildDir = fileURLToPath(new URL('../../build/', import.meta.url));
const wasmUrl = (v: string) => new URL(`../../build/wasmformer-${v}.wasm`, import.meta.url);
const threads = Math.min(availableParallelism(), 8);
const dir = mkdtempSync(join(tmpdir(), 'wasmformer-node-versions-'));

let node20: SuiteReport;
let entry: string;

beforeAll(async () => {
  node20 = await runSuite({ runtime: 'node', wasm: { simd: wasmUrl('simd'), relaxed: wasmUrl('relaxed'), threads: wasmUrl('threads') } });
  entry = await bundleEntry('cli-entry.ts', 'node-versions-suite');
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(NODE_MAJORS)('Node %i', (major) => {
  it('runtime suite without flags: simd, relaxed and threads all run; simd and threads bit for bit as Node 20, relaxed within the bound', async () => {
    const bin = nodeBinary(major);
    const { stdout } = await run(bin, [entry, `node${major}`, buildDir], { timeout: 120_000, maxBuffer: 1 << 24 });
    const report = JSON.parse(stdout.trim().split('\n').at(-1)!) as SuiteReport;
    expect(report.features).toEqual({ simd: true, relaxedSimd: true, sharedMemory: true, workers: true });
    const c = expectLikeNode(report, node20);
    expect(c.variants).toEqual(['simd', 'relaxed', 'threads']);
    expect(report.threads).toEqual({ backend: 'threads', fallback: null, error: null });
    expect(report.auto).toEqual({ backend: threads > 1 ? 'relaxed-threads' : 'relaxed', notes: [], error: null });
    console.log(`node ${major}: ${c.variants.join(', ')}; relaxed ${c.relaxed}; ${report.ms.toFixed(0)} ms`);
  }, 150_000);

  it('examples/node: train.mjs picks the relaxed build by itself, trains and writes a checkpoint; sample.mjs streams from it', async () => {
    const bin = nodeBinary(major);
    const out = join(dir, `node${major}`);
    const { stdout } = await run(bin, ['examples/node/train.mjs', '--steps', '80', '--out', out], { cwd: root, timeout: 120_000 });
    expect(stdout).toMatch(new RegExp(`^backend ${threads > 1 ? 'relaxed-threads' : 'relaxed'}, ${threads} threads?\\n`));
    const m = /loss (\d+\.\d+) → (\d+\.\d+) in/.exec(stdout);
    expect(m, stdout).not.toBeNull();
    expect(Number(m![2])).toBeLessThan(Number(m![1]) - 1); // ln 27 ≈ 3.3 at the start; 80 steps reach ≈ 1.5
    expect(existsSync(join(out, 'model.safetensors'))).toBe(true);
    const sample = await run(bin, ['examples/node/sample.mjs', join(out, 'model.safetensors'), '--prompt', 'And be', '--tokens', '40'], { cwd: root, timeout: 60_000 });
    expect(sample.stdout.startsWith('And be')).toBe(true);
    expect(/^[A-Za-z ,;\n]+$/.test(sample.stdout), sample.stdout).toBe(true); // only characters of the verse
  }, 180_000);
});
