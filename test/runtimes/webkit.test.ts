// The runtime suite in WebKitGTK (Debian's MiniBrowser through WebKitWebDriver, on an Xvfb
// display: see browsers.ts), Safari's engine, on a page served with and without cross-origin
// isolation, on the main thread and in a Worker, compared with Node's report. JavaScriptCore
// must give Node's bits on simd. WebKitGTK 2.50 validates SIMD but not relaxed SIMD, so — like
// Safari — it runs the plain simd build, and auto's notes must say why. It has no threads
// either: even on an isolated page it exposes no global SharedArrayBuffer (a shared
// WebAssembly.Memory can be made, but the library checks its buffer against that constructor),
// so `variant: 'threads'` must fall back to one thread and say so.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type Browser } from '../../tools/browsers.js';
import { expectSuite, nodeReport, suiteInPage, suitePage, SUITE_WAIT_MS } from './browser-suite.js';
import type { SuiteReport } from './suite.js';

let node: SuiteReport;
let dir: string;
let browser: Browser;

beforeAll(async () => {
  [node, dir, browser] = await Promise.all([nodeReport(), suitePage(), launchBrowser('webkit')]);
}, 180_000);

afterAll(async () => {
  await browser?.close();
});

describe('runtime suite in WebKitGTK', () => {
  for (const isolated of [true, false]) {
    for (const inWorker of [false, true]) {
      const where = `${isolated ? 'cross-origin isolated' : 'not isolated'} ${inWorker ? 'Worker' : "page's main thread"}`;
      it(`${where}: simd bit for bit as Node; relaxed and threads fall back to simd on one thread, visibly`, async () => {
        const run = await suiteInPage(browser, dir, { isolated, inWorker });
        const c = expectSuite(run, node, { isolated, inWorker });
        expect(run.report.features).toEqual({ simd: true, relaxedSimd: false, sharedMemory: false, workers: false });
        expect(c.variants).toEqual(['simd']);
        expect(run.report.auto.backend).toBe('simd');
        console.log(`${browser.version} (${where}): ${c.variants.join(', ')}; ${run.report.ms.toFixed(0)} ms`);
      }, SUITE_WAIT_MS + 30_000);
    }
  }
});
