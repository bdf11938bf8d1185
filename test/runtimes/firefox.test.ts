// The runtime suite in Firefox ESR (Debian's firefox-esr, headless, driven through its own
// Marionette: see browsers.ts), on a page served with and without cross-origin isolation, on
// the main thread and in a Worker, compared with Node's report. SpiderMonkey must give Node's
// bits on simd and threads. Firefox 153 ESR validates relaxed SIMD (measured here: fused like
// V8, so bit-identical to Node), 140 ESR did not: where it does, relaxed must come within the
// stated bound of Node's; where it does not, the suite's features skip the relaxed run and
// auto's notes must say why (expectSuite checks both ways).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type Browser } from '../../tools/browsers.js';
import { expectSuite, nodeReport, suiteInPage, suitePage, SUITE_WAIT_MS } from './browser-suite.js';
import type { SuiteReport } from './suite.js';

let node: SuiteReport;
let dir: string;
let browser: Browser;

beforeAll(async () => {
  [node, dir, browser] = await Promise.all([nodeReport(), suitePage(), launchBrowser('firefox')]);
}, 180_000);

afterAll(async () => {
  await browser?.close();
});

describe('runtime suite in Firefox ESR', () => {
  it("cross-origin isolated page's main thread: simd (and relaxed where validated) as Node; threads say that this thread may not block", async () => {
    const run = await suiteInPage(browser, dir, { isolated: true, inWorker: false });
    const c = expectSuite(run, node, { isolated: true, inWorker: false });
    expect(run.report.features).toMatchObject({ simd: true, sharedMemory: true, workers: false });
    console.log(`${browser.version} (isolated): ${c.variants.join(', ')}; relaxed ${c.relaxed}; auto ${run.report.auto.backend}; ${run.report.ms.toFixed(0)} ms`);
  }, SUITE_WAIT_MS + 30_000);

  it('cross-origin isolated Worker: simd and threads bit for bit as Node (relaxed where validated), the calls split across threads', async () => {
    const run = await suiteInPage(browser, dir, { isolated: true, inWorker: true });
    const c = expectSuite(run, node, { isolated: true, inWorker: true });
    expect(c.variants).toContain('threads');
    expect(run.report.checks.filter((x) => /^threads: calls split across \d+ threads give the bits of one thread$/.test(x.name))).toHaveLength(1);
    console.log(`${browser.version} (isolated Worker): ${c.variants.join(', ')}; auto ${run.report.auto.backend}; ${run.report.ms.toFixed(0)} ms`);
  }, SUITE_WAIT_MS + 30_000);

  it('page without COOP/COEP, main thread and Worker: no shared memory, threads fall back and say so; the rest as Node', async () => {
    for (const inWorker of [false, true]) {
      const run = await suiteInPage(browser, dir, { isolated: false, inWorker });
      const c = expectSuite(run, node, { isolated: false, inWorker });
      expect(c.variants).not.toContain('threads');
    }
  }, 2 * SUITE_WAIT_MS + 30_000);
});
