// The runtime suite in real Chromium (Debian's, driven by playwright-core), on a page served
// with and without cross-origin isolation, on the main thread and in a Worker, compared with
// Node's report (browser-suite.ts holds what every engine must show). Chromium validates
// relaxed SIMD and fuses relaxed_madd like Node (same V8), so relaxed is bit-identical too;
// threads run only in a Worker of an isolated page.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type Browser } from '../../tools/browsers.js';
import { expectSuite, nodeReport, suiteInPage, suitePage, SUITE_WAIT_MS } from './browser-suite.js';
import type { SuiteReport } from './suite.js';

let node: SuiteReport;
let dir: string;
let browser: Browser;

beforeAll(async () => {
  [node, dir, browser] = await Promise.all([nodeReport(), suitePage(), launchBrowser('chromium')]);
}, 180_000);

afterAll(async () => {
  await browser?.close();
});

describe('runtime suite in Chromium', () => {
  it("cross-origin isolated page's main thread: simd and relaxed as Node; threads say that this thread may not block", async () => {
    const run = await suiteInPage(browser, dir, { isolated: true, inWorker: false });
    const c = expectSuite(run, node, { isolated: true, inWorker: false });
    expect(run.report.features).toEqual({ simd: true, relaxedSimd: true, sharedMemory: true, workers: false });
    expect(c.relaxed).toBe('bit-identical');
    console.log(`${browser.version} (isolated): relaxed ${c.relaxed}; ${run.report.ms.toFixed(0)} ms`);
  }, SUITE_WAIT_MS + 30_000);

  it('cross-origin isolated Worker: simd, relaxed and threads as Node, bit for bit', async () => {
    const run = await suiteInPage(browser, dir, { isolated: true, inWorker: true });
    const c = expectSuite(run, node, { isolated: true, inWorker: true });
    expect(c.variants).toEqual(['simd', 'relaxed', 'threads']);
    expect(c.relaxed).toBe('bit-identical');
    console.log(`${browser.version} (isolated Worker): ${c.variants.join(', ')}; auto ${run.report.auto.backend}; ${run.report.ms.toFixed(0)} ms`);
  }, SUITE_WAIT_MS + 30_000);

  it('page without COOP/COEP, main thread and Worker: threads fall back to one thread and say so; the rest as Node', async () => {
    for (const inWorker of [false, true]) {
      const run = await suiteInPage(browser, dir, { isolated: false, inWorker });
      const c = expectSuite(run, node, { isolated: false, inWorker });
      expect(c.variants).toEqual(['simd', 'relaxed']);
    }
  }, 2 * SUITE_WAIT_MS + 30_000);
});
