// Vite consumer of the packed tarball: an index.html + main.js importing 'wasmformer', built
// with Vite's JS API (root = the consumer, Vite itself from the repo), served from the built
// dist and run in real Chromium. Checks that the .wasm files are emitted as assets (not
// inlined), that Vite rewrites the loader's `new URL('../../build/…', import.meta.url)` so
// `createRuntime()` works with no options, and that the documented `?url` imports work too.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { build, createLogger, createServer, type Rolldown } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, serveStatic, type StaticServer } from '../../tools/browser.js';
import { createConsumer, fixtureFiles, pack, referenceSmoke, smokeProblems, type Consumer, type Packed, type SmokeResult } from './pack.js';

let packed: Packed;
let consumer: Consumer;
let want: SmokeResult;
let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;
// Closed after the browser: server.close() waits for Chromium's idle keep-alive sockets,
// which only go away with the browser (closing them first once hung a run for minutes).
const servers: StaticServer[] = [];

interface Built {
  outDir: string;
  output: (Rolldown.OutputChunk | Rolldown.OutputAsset)[];
  warnings: string[];
}

/** Builds one page of the consumer with Vite's defaults (only root, input and outDir set). */
async function viteBuild(page: string, outDir: string): Promise<Built> {
  const warnings: string[] = [];
  const logger = createLogger('warn');
  logger.warn = (msg) => void warnings.push(msg);
  logger.warnOnce = (msg) => void warnings.push(msg);
  logger.error = (msg) => void warnings.push(`error: ${msg}`);
  const result = await build({
    root: consumer.dir,
    configFile: false,
    envDir: false,
    customLogger: logger,
    logLevel: 'warn',
    build: { outDir: consumer.path(outDir), emptyOutDir: true, rolldownOptions: { input: consumer.path(page) } },
  });
  const outputs = (Array.isArray(result) ? result : [result]) as Rolldown.RolldownOutput[];
  return { outDir: consumer.path(outDir), output: outputs.flatMap((o) => o.output), warnings };
}

const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Loads a built page in Chromium, waits for its result, and lists the .wasm requests it made. */
async function runPage(root: string | { origin: string }, page: string): Promise<{ result: Record<string, unknown>; wasm: string[]; consoleErrors: string[] }> {
  const server = typeof root === 'string' ? await serveStatic(root) : root;
  if (typeof root === 'string') servers.push(server as StaticServer);
  const tab: Page = await browser!.context.newPage();
  const wasm: string[] = [];
  const consoleErrors: string[] = [];
  tab.on('response', (r) => {
    if (r.url().endsWith('.wasm')) wasm.push(`${r.status()} ${new URL(r.url()).pathname}`);
  });
  tab.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  tab.on('pageerror', (e) => consoleErrors.push(String(e)));
  try {
    await tab.goto(`${server.origin}/${page}`);
    await tab.waitForFunction(() => document.title !== 'pending', undefined, { timeout: 30_000 });
    const text = (await tab.textContent('#out')) ?? '';
    return { result: JSON.parse(text) as Record<string, unknown>, wasm, consoleErrors };
  } finally {
    await tab.close();
  }
}

beforeAll(async () => {
  packed = await pack();
  consumer = await createConsumer(packed, 'vite', fixtureFiles('vite'));
  want = await referenceSmoke();
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all(servers.map((s) => Promise.race([s.close(), new Promise((ok) => setTimeout(ok, 5_000))])));
  consumer?.cleanup();
  packed?.cleanup();
}, 30_000);

describe('Vite build consumer', () => {
  let plain: Built;

  it('emits every .wasm the loader names as a hashed asset, byte for byte, and rewrites the loader URLs', async () => {
    plain = await viteBuild('index.html', 'dist-default');
    expect(plain.warnings, plain.warnings.join('\n')).toEqual([]);
    const assets = plain.output.filter((o): o is Rolldown.OutputAsset => o.type === 'asset' && o.fileName.endsWith('.wasm'));
    expect(assets.map((a) => a.fileName.replace(/-[\w-]{8}\.wasm$/, '.wasm')).sort()).toEqual([
      'assets/wasmformer-relaxed-threads.wasm',
      'assets/wasmformer-relaxed.wasm',
      'assets/wasmformer-simd.wasm',
      'assets/wasmformer-threads.wasm',
    ]);
    for (const a of assets) {
      const variant = /wasmformer-(simd|relaxed-threads|relaxed|threads)/.exec(a.fileName)![1]!;
      expect(a.originalFileNames).toEqual([`node_modules/wasmformer/build/wasmformer-${variant}.wasm`]);
      const shipped = readFileSync(join(consumer.pkgDir, 'build', `wasmformer-${variant}.wasm`));
      expect(shipped.byteLength, 'over the 4 KiB inline limit').toBeGreaterThan(4096);
      expect(sha(readFileSync(join(plain.outDir, a.fileName))), a.fileName).toBe(sha(shipped));
    }
    const chunks = plain.output.filter((o): o is Rolldown.OutputChunk => o.type === 'chunk');
    const code = chunks.map((c) => c.code).join('\n');
    expect(code).not.toContain('../../build/wasmformer');
    expect(code).not.toMatch(/data:application\/wasm/);
    for (const a of assets) expect(code).toContain(`/${a.fileName}`);
  }, 90_000);

  it('createRuntime() with no options works in Chromium from the built dist (relaxed picked, simd loadable)', async () => {
    expect(plain, 'the build test ran').toBeDefined();
    const { result, wasm, consoleErrors } = await runPage(plain.outDir, 'index.html');
    expect(result.error, `${String(result.error)}\nwasm requests: ${wasm.join(', ')}\nconsole: ${consoleErrors.join('\n')}`).toBeUndefined();
    expect(smokeProblems(result.auto as SmokeResult, want, 'relaxed')).toEqual([]);
    expect(smokeProblems(result.simd as SmokeResult, want, 'simd')).toEqual([]);
    expect(wasm.every((w) => w.startsWith('200 /assets/wasmformer-')), wasm.join(', ')).toBe(true);
    expect(wasm.length).toBeGreaterThanOrEqual(2);
  }, 90_000);

  it("the documented way, `import simdUrl from 'wasmformer/wasm/simd.wasm?url'` → createRuntime({ wasm: { simd: simdUrl } }), works too", async () => {
    const built = await viteBuild('url.html', 'dist-url');
    expect(built.warnings, built.warnings.join('\n')).toEqual([]);
    const { result, wasm, consoleErrors } = await runPage(built.outDir, 'url.html');
    expect(result.error, `${String(result.error)}\nwasm requests: ${wasm.join(', ')}\nconsole: ${consoleErrors.join('\n')}`).toBeUndefined();
    const urls = result.urls as string[];
    expect(urls.map((u) => u.replace(/-[\w-]{8}\.wasm$/, '.wasm'))).toEqual(['/assets/wasmformer-simd.wasm', '/assets/wasmformer-relaxed.wasm']);
    expect(smokeProblems(result.auto as SmokeResult, want, 'relaxed')).toEqual([]);
    expect(smokeProblems(result.simd as SmokeResult, want, 'simd')).toEqual([]);
  }, 90_000);

  it('the dev server (`vite`, dependency pre-bundling on) serves the same page and createRuntime() finds the wasm', async () => {
    const server = await createServer({
      root: consumer.dir,
      configFile: false,
      envDir: false,
      logLevel: 'error',
      server: { host: '127.0.0.1', port: 0, strictPort: true },
    });
    try {
      await server.listen();
      const origin = server.resolvedUrls!.local[0]!.replace(/\/$/, '');
      const { result, wasm, consoleErrors } = await runPage({ origin }, 'index.html');
      expect(result.error, `${String(result.error)}\nwasm requests: ${wasm.join(', ')}\nconsole: ${consoleErrors.join('\n')}`).toBeUndefined();
      expect(smokeProblems(result.auto as SmokeResult, want, 'relaxed')).toEqual([]);
      expect(smokeProblems(result.simd as SmokeResult, want, 'simd')).toEqual([]);
      expect(wasm.every((w) => w.startsWith('200 /node_modules/wasmformer/build/wasmformer-')), wasm.join(', ')).toBe(true);
    } finally {
      await server.close();
    }
  }, 90_000);
});
