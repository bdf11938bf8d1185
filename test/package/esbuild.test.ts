// esbuild bundles of a consumer importing 'wasmformer' (esbuild's JS API, from the repo),
// written to a folder outside the consumer (no node_modules anywhere above it) and run there:
// esbuild leaves the loader's `new URL('../../build/wasmformer-*.wasm', import.meta.url)`
// alone, so with no wasm source the bundle looks two folders above itself and fails; the
// three ways that work are tested: copy the .wasm beside the bundle and pass its URL, the
// `file` loader, the `binary` loader. A browser-platform bundle runs in Chromium.
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { build, type BuildOptions, type Metafile } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, serveStatic, type StaticServer } from '../../tools/browser.js';
import { createConsumer, describeRun, fixtureFiles, lastJson, pack, referenceSmoke, run, smokeProblems, type Consumer, type Packed, type SmokeResult } from './pack.js';

interface Outcome {
  result?: SmokeResult;
  error?: { name: string; message: string };
  simdPath?: string;
  bytes?: number;
}

let packed: Packed;
let consumer: Consumer;
let want: SmokeResult;
const deployDirs: string[] = [];
const KEEP = process.env.WASMFORMER_KEEP_TMP === '1';

/** A fresh output folder under os.tmpdir(), outside the consumer: only what the bundle carries is there. */
function deployDir(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `wasmformer-esbuild-${name}-`));
  deployDirs.push(dir);
  return dir;
}

async function bundle(entries: string[], outdir: string, extra: BuildOptions): Promise<Metafile> {
  const result = await build({
    absWorkingDir: consumer.dir,
    entryPoints: entries.map((e) => consumer.path(e)),
    outdir,
    bundle: true,
    format: 'esm',
    target: 'es2022',
    metafile: true,
    logLevel: 'silent',
    ...extra,
  });
  expect(result.errors).toEqual([]);
  expect(result.warnings.map((w) => w.text)).toEqual([]);
  return result.metafile!;
}

/** Every output is one self-contained file: no import left for the runtime to resolve. */
function expectSelfContained(meta: Metafile): void {
  for (const [file, out] of Object.entries(meta.outputs)) {
    if (!file.endsWith('.js') && !file.endsWith('.mjs')) continue;
    expect(out.imports.filter((i) => !i.path.endsWith('.wasm') || i.kind !== 'file-loader'), file).toEqual([]);
  }
}

beforeAll(async () => {
  packed = await pack();
  consumer = await createConsumer(packed, 'esbuild', fixtureFiles('esbuild'));
  want = await referenceSmoke();
}, 120_000);

afterAll(() => {
  consumer?.cleanup();
  packed?.cleanup();
  if (!KEEP) for (const d of deployDirs) rmSync(d, { recursive: true, force: true });
});

describe('esbuild bundle, platform node', () => {
  let out: string;
  const node = (file: string) => run('node', [file], { cwd: out, timeoutMs: 60_000 });

  beforeAll(async () => {
    out = deployDir('node');
    const common: BuildOptions = { platform: 'node', outExtension: { '.js': '.mjs' } };
    const metas = await Promise.all([
      bundle(['default.js', 'copied.js'], out, common),
      bundle(['file-loader.js'], out, { ...common, loader: { '.wasm': 'file' } }),
      bundle(['binary-loader.js'], out, { ...common, loader: { '.wasm': 'binary' } }),
    ]);
    for (const m of metas) expectSelfContained(m);
    // What a user does for the "copy it beside the bundle" way.
    copyFileSync(join(consumer.pkgDir, 'build', 'wasmformer-simd.wasm'), join(out, 'wasmformer-simd.wasm'));
  }, 90_000);

  it('leaves the loader URL untouched, so with no wasm source the bundle fails, naming the file it looked for', async () => {
    const code = readFileSync(join(out, 'default.mjs'), 'utf8');
    expect(code).toContain('new URL("../../build/wasmformer-simd.wasm", import.meta.url)');
    const r = await node('default.mjs');
    expect(r.code, describeRun('node default.mjs', r)).toBe(0);
    const { error, result } = lastJson<Outcome>(r);
    expect(result, 'the default location must not be found from a bundle in a temp folder').toBeUndefined();
    expect(error?.name).toBe('WasmLoadError');
    expect(error?.message).toMatch(/wasm variant 'simd' from file:\/\/\/.*build\/wasmformer-simd\.wasm could not be loaded: ENOENT/);
  }, 60_000);

  it("the .wasm copied beside the bundle + createRuntime({ wasm: { simd: new URL('./wasmformer-simd.wasm', import.meta.url) } })", async () => {
    const r = await node('copied.mjs');
    expect(r.code, describeRun('node copied.mjs', r)).toBe(0);
    const o = lastJson<Outcome>(r);
    expect(o.error).toBeUndefined();
    expect(smokeProblems(o.result, want, 'simd')).toEqual([]);
  }, 60_000);

  it("loader { '.wasm': 'file' }: import simdPath from 'wasmformer/wasm/simd.wasm', pass new URL(simdPath, import.meta.url)", async () => {
    const r = await node('file-loader.mjs');
    expect(r.code, describeRun('node file-loader.mjs', r)).toBe(0);
    const o = lastJson<Outcome>(r);
    expect(o.simdPath).toMatch(/^\.\/wasmformer-simd-\w+\.wasm$/);
    expect(readFileSync(join(out, basename(o.simdPath!)))).toEqual(readFileSync(join(consumer.pkgDir, 'build', 'wasmformer-simd.wasm')));
    expect(o.error).toBeUndefined();
    expect(smokeProblems(o.result, want, 'simd')).toEqual([]);
  }, 60_000);

  it("loader { '.wasm': 'binary' }: the bytes are inside the bundle and createRuntime({ wasm: { simd: bytes } }) compiles them", async () => {
    const r = await node('binary-loader.mjs');
    expect(r.code, describeRun('node binary-loader.mjs', r)).toBe(0);
    const o = lastJson<Outcome>(r);
    expect(o.bytes).toBe(readFileSync(join(consumer.pkgDir, 'build', 'wasmformer-simd.wasm')).byteLength);
    expect(o.error).toBeUndefined();
    expect(smokeProblems(o.result, want, 'simd')).toEqual([]);
  }, 60_000);
});

describe('esbuild bundle, platform browser, in Chromium', () => {
  it("with loader { '.wasm': 'file' } and new URL(path, import.meta.url) the page computes the reference; the default location 404s", async () => {
    const out = deployDir('browser');
    expectSelfContained(await bundle(['browser.js'], out, { platform: 'browser', loader: { '.wasm': 'file' } }));
    copyFileSync(consumer.path('index.html'), join(out, 'index.html'));
    const browser = await launchChromium();
    let server: StaticServer | undefined;
    try {
      server = await serveStatic(out);
      const page = await browser.context.newPage();
      await page.goto(`${server.origin}/index.html`);
      await page.waitForFunction(() => document.title !== 'pending', undefined, { timeout: 30_000 });
      const result = JSON.parse((await page.textContent('#out')) ?? '{}') as { error?: string; defaultLocation?: Outcome; explicit?: Outcome };
      expect(result.error).toBeUndefined();
      expect(result.defaultLocation?.error?.name).toBe('WasmLoadError');
      expect(result.defaultLocation?.error?.message).toMatch(/\/build\/wasmformer-simd\.wasm failed: HTTP 404/);
      expect(result.explicit?.error, JSON.stringify(result.explicit?.error)).toBeUndefined();
      expect(smokeProblems(result.explicit?.result, want, 'relaxed')).toEqual([]);
    } finally {
      // The browser first: the server's close waits for Chromium's keep-alive sockets.
      await browser.close();
      if (server) await Promise.race([server.close(), new Promise((ok) => setTimeout(ok, 5_000))]);
    }
  }, 90_000);
});
