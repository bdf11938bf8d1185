// Deno consumer of the packed tarball (Deno 2.9.5 from the npm package `deno`, offline: a
// fresh DENO_DIR and --cached-only, so nothing can come from a registry): bare 'wasmformer'
// through the consumer's package.json + node_modules, a relative import without config, the
// wasm passed as an `import source` module, read permissions, and `deno check` with the
// shipped declarations.
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bin, childEnv, createConsumer, describeRun, fixtureFiles, isInside, lastJson, pack, referenceSmoke, smokeProblems, autoBuild, type Consumer, type Packed, type SmokeResult } from './pack.js';

let packed: Packed;
let consumer: Consumer;
let want: SmokeResult;
let env: NodeJS.ProcessEnv;
const deno = bin('deno');

beforeAll(async () => {
  packed = await pack();
  const node = fixtureFiles('node');
  const files = { ...fixtureFiles('deno'), 'good.ts': node['good.ts']!, 'bad.ts': node['bad.ts']! };
  consumer = await createConsumer(packed, 'deno', files);
  env = childEnv({ DENO_DIR: consumer.path('.deno-dir'), DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' });
  want = await referenceSmoke();
}, 120_000);

afterAll(() => {
  consumer?.cleanup();
  packed?.cleanup();
});

const denoRun = (args: string[]) => consumer.run(deno, args, { env, timeoutMs: 60_000 });

describe('Deno consumer', () => {
  it("import 'wasmformer' resolves through package.json + node_modules; --allow-read of the package's build/ is enough", async () => {
    const r = await denoRun(['run', '--cached-only', '--allow-read=./node_modules/wasmformer/build', 'bare.js']);
    expect(r.code, describeRun('deno run bare.js', r)).toBe(0);
    const out = lastJson<{ resolved: string; result: SmokeResult }>(r);
    expect(isInside(fileURLToPath(out.resolved), consumer.pkgDir), out.resolved).toBe(true);
    // Deno validates relaxed SIMD without flags.
    expect(smokeProblems(out.result, want, autoBuild('relaxed'))).toEqual([]);
  }, 60_000);

  it('a relative import of node_modules/wasmformer/dist/index.js works with no config at all', async () => {
    const r = await denoRun(['run', '--cached-only', '--no-config', '--allow-read', 'relative.js']);
    expect(r.code, describeRun('deno run relative.js', r)).toBe(0);
    expect(smokeProblems(lastJson<{ result: SmokeResult }>(r).result, want, autoBuild('relaxed'))).toEqual([]);
  }, 60_000);

  it("`import source simd from 'wasmformer/wasm/simd.wasm'` gives a Module that createRuntime takes (no read permission needed)", async () => {
    const r = await denoRun(['run', '--cached-only', 'source.js']);
    expect(r.code, describeRun('deno run source.js', r)).toBe(0);
    const out = lastJson<{ isModule: boolean; result: SmokeResult }>(r);
    expect(out.isModule).toBe(true);
    expect(smokeProblems(out.result, want, 'simd')).toEqual([]);
  }, 60_000);

  it('without --allow-read the default wasm cannot load, and the WasmLoadError names the file and the flag', async () => {
    const r = await denoRun(['run', '--cached-only', 'noperm.js']);
    expect(r.code, describeRun('deno run noperm.js', r)).toBe(0);
    const out = lastJson<{ name?: string; message?: string; loaded?: string }>(r);
    expect(out.name, JSON.stringify(out)).toBe('WasmLoadError');
    expect(out.message).toContain('node_modules/wasmformer/build/wasmformer-simd.wasm');
    expect(out.message).toContain('--allow-read');
  }, 60_000);

  it('deno check: the shipped declarations type-check good.ts and reject bad.ts', async () => {
    const good = await denoRun(['check', 'good.ts']);
    expect(good.code, describeRun('deno check good.ts', good)).toBe(0);
    const bad = await denoRun(['check', 'bad.ts']);
    expect(bad.code, describeRun('deno check bad.ts', bad)).not.toBe(0);
    const errors = [...(bad.stdout + bad.stderr).matchAll(/TS(\d+) \[ERROR\][\s\S]*?at file:\/\/\S*\/(\S+?):(\d+):\d+/g)].map((m) => `${m[2]} ${m[3]} TS${m[1]}`);
    expect(errors, describeRun('deno check bad.ts', bad)).toEqual(['bad.ts 4 TS2322', 'bad.ts 5 TS2322', 'bad.ts 6 TS2322']);
  }, 90_000);
});
