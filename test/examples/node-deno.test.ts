// The Node and Deno examples, run as a user runs them (they import 'wasmformer', i.e. dist/):
// training lowers the loss, checkpoints are written, and a checkpoint written by Deno is
// loaded and sampled by the Node example (the format is the same in every runtime).
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
// createRuntime() with no options: the relaxed build on a shared memory and one thread per core (at most 8) where there are several
const autoThreads = Math.min(availableParallelism(), 8);
const autoBuild = (isa: string) => (autoThreads > 1 ? `${isa}-threads` : isa);
const root = fileURLToPath(new URL('../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'wasmformer-examples-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function losses(out: string): [number, number] {
  const m = /loss (\d+\.\d+) → (\d+\.\d+) in/.exec(out);
  expect(m, out).not.toBeNull();
  return [Number(m![1]), Number(m![2])];
}

describe('examples/node and examples/deno', () => {
  it('node: train.mjs trains, writes a checkpoint and samples; sample.mjs streams from it', async () => {
    const out = join(dir, 'node');
    const { stdout } = await run(process.execPath, ['--experimental-wasm-relaxed-simd', 'examples/node/train.mjs', '--steps', '80', '--out', out], { cwd: root, timeout: 120_000 });
    expect(stdout).toMatch(new RegExp(`^backend ${autoBuild('relaxed')}, ${autoThreads} threads?\\n`));
    const [first, last] = losses(stdout);
    expect(last).toBeLessThan(first - 1); // ln 27 ≈ 3.3 at the start; 80 steps reach ≈ 1.5
    expect(existsSync(join(out, 'model.safetensors'))).toBe(true);
    expect(stdout).toMatch(/--- sample ---\nTwo roads/);
    const sample = await run(process.execPath, ['examples/node/sample.mjs', join(out, 'model.safetensors'), '--prompt', 'And be', '--tokens', '40'], { cwd: root, timeout: 60_000 });
    expect(sample.stdout.startsWith('And be')).toBe(true);
    expect(sample.stdout.trimEnd().length).toBeGreaterThan(6 + 20); // newlines may be trimmed at the end
    expect(/^[A-Za-z ,;\n]+$/.test(sample.stdout), sample.stdout).toBe(true); // only characters of the verse
  }, 180_000);

  it('deno: main.ts trains and samples; its checkpoint loads in the Node example', async () => {
    const ckpt = join(dir, 'deno.safetensors');
    const deno = fileURLToPath(new URL('../../node_modules/.bin/deno', import.meta.url));
    const { stdout } = await run(deno, ['run', '--allow-read', '--allow-write', '--config', 'examples/deno/deno.json', 'examples/deno/main.ts', '', '60', ckpt],
      { cwd: root, timeout: 120_000, env: { ...process.env, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' } });
    expect(stdout).toMatch(new RegExp(`^Deno 2\\.\\d+\\.\\d+: backend ${autoBuild('relaxed')}, ${autoThreads} threads?, 106,112 parameters\\n`));
    const [first, last] = losses(stdout);
    expect(last).toBeLessThan(first - 1);
    expect(stdout).toMatch(/--- sample ---\nI met/);
    const sample = await run(process.execPath, ['examples/node/sample.mjs', ckpt, '--prompt', 'I met', '--tokens', '30', '--temperature', '0'], { cwd: root, timeout: 60_000 });
    expect(sample.stdout.startsWith('I met')).toBe(true);
    expect(/^[A-Za-z ,:.;\n]+$/.test(sample.stdout), sample.stdout).toBe(true);
  }, 180_000);
});
