// The start-up bench's browser targets (bench/startup.ts): Chromium through playwright-core, a
// fresh context per run; Firefox ESR and WebKitGTK through WebDriver (test/runtimes/browsers.ts).
// Each serves bench/startup/ (index.html, entry-browser.mjs), the library bundle at /lib/ and
// build/ at /build/ from 127.0.0.1, and reads the result the page leaves in globalThis.__startup.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS, serveStatic, type StaticServer } from '../../tools/browser.js';
import { launchBrowser } from '../../tools/browsers.js';
import type { Bundles, EntryResult, Target } from './types.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const HERE = join(ROOT, 'bench', 'startup');

export async function chromiumTarget(bundles: Bundles): Promise<Target> {
  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  // bench/startup/ at /, the library bundle at /lib/, the .wasm builds at /build/; every answer is Cache-Control: no-store.
  const server: StaticServer = await serveStatic(HERE, { mounts: { '/lib/': join(bundles.dir, 'www', 'lib'), '/build/': join(ROOT, 'build') } });
  const version = browser.version();
  return {
    name: 'chromium',
    note: `Chromium ${version}, headless; a new browser context (own renderer process, empty caches) and page per run`,
    async run(mode) {
      const context = await browser.newContext();
      try {
        const page = await context.newPage();
        const t = performance.now();
        await page.goto(`${server.origin}/index.html?mode=${mode}`);
        const handle = await page.waitForFunction(() => (globalThis as { __startup?: unknown }).__startup, undefined, { timeout: 60_000, polling: 'raf' });
        const outside = performance.now() - t;
        const r = (await handle.jsonValue()) as EntryResult;
        if (r.error) throw new Error(`chromium: ${r.error}`);
        const lib = r.fetches?.['wasmformer.js'];
        const wasm = Object.entries(r.fetches ?? {}).find(([name]) => name.endsWith('.wasm'))?.[1];
        const extra: Record<string, number> = {};
        if (lib) extra['bundle fetched'] = lib.end;
        if (wasm) Object.assign(extra, { '.wasm fetch start': wasm.start, '.wasm fetched': wasm.end });
        return { backend: r.backend, headline: r.ms.firstResult, phases: r.ms, boot: r.boot, outside, extra };
      } finally {
        await context.close();
      }
    },
    async close() {
      await browser.close();
      await server.close();
    },
  };
}

/**
 * Firefox ESR and WebKitGTK through WebDriver (test/runtimes/browsers.ts): a WebDriver session
 * drives one window, so every run is a fresh navigation of it rather than a fresh context;
 * everything is served with Cache-Control: no-store, so no file comes from the HTTP cache. The
 * harness polls for the result every 100 ms, so "outside" is coarser than Chromium's.
 */
export async function webdriverTarget(engine: 'firefox' | 'webkit', bundles: Bundles): Promise<Target> {
  const browser = await launchBrowser(engine);
  const server = await serveStatic(HERE, { mounts: { '/lib/': join(bundles.dir, 'www', 'lib'), '/build/': join(ROOT, 'build') } });
  type Page = { __startup?: EntryResult };
  return {
    name: engine,
    note: `${browser.version}, ${engine === 'webkit' ? 'MiniBrowser on an Xvfb display, through WebKitWebDriver' : 'headless, through Marionette'}; ` +
      'the one WebDriver window navigated afresh per run (files served no-store); on this page, which is not cross-origin isolated, its performance.now() counts whole milliseconds',
    async run(mode) {
      const t = performance.now();
      const tab = await browser.open(`${server.origin}/index.html?mode=${mode}`);
      try {
        await tab.waitFor(() => (globalThis as Page).__startup !== undefined, undefined, 60_000, `${engine}: no start-up result`);
        const outside = performance.now() - t;
        const r = await tab.evaluate(() => JSON.parse(JSON.stringify((globalThis as Page).__startup)) as EntryResult);
        if (r.error) throw new Error(`${engine}: ${r.error}`);
        return { backend: r.backend, headline: r.ms.firstResult, phases: r.ms, boot: r.boot, outside };
      } finally {
        await tab.close();
      }
    },
    async close() {
      await browser.close();
      await server.close();
    },
  };
}
