// The runtime suite in real Chromium (Debian's, driven by playwright-core), on a page served
// with and without cross-origin isolation, compared with Node's report. Without isolation
// there is no SharedArrayBuffer: `variant: 'threads'` must fall back to one thread and say why.
import { writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, serveStatic } from '../../tools/browser.js';
import { runSuite, type SuiteReport } from './suite.js';
import { bundleEntry } from './bundle.js';
import { expectLikeNode } from './compare.js';

const buildDir = fileURLToPath(new URL('../../build/', import.meta.url));
const wasmUrl = (v: string) => new URL(`../../build/wasmformer-${v}.wasm`, import.meta.url);

let node: SuiteReport;
let dir: string;
let browser: Awaited<ReturnType<typeof launchChromium>>;

beforeAll(async () => {
  node = await runSuite({ runtime: 'node', wasm: { simd: wasmUrl('simd'), relaxed: wasmUrl('relaxed'), threads: wasmUrl('threads') } });
  const entry = await bundleEntry('page-entry.ts', 'suite');
  dir = dirname(entry);
  writeFileSync(`${dir}/index.html`, '<!doctype html><meta charset="utf-8"><title>wasmformer runtime suite</title><script type="module" src="suite.mjs"></script>\n');
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
});

async function suiteIn(isolated: boolean): Promise<{ report: SuiteReport; errors: string[]; crossOriginIsolated: boolean }> {
  const server = await serveStatic(dir, { isolated, mounts: { '/build/': buildDir } });
  const page = await browser.context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  try {
    await page.goto(`${server.origin}/index.html`);
    await page.waitForFunction(() => (globalThis as { suiteReport?: unknown }).suiteReport !== undefined, null, { timeout: 120_000 });
    const report = await page.evaluate(() => (globalThis as unknown as { suiteReport: SuiteReport }).suiteReport);
    const isolatedPage = await page.evaluate(() => self.crossOriginIsolated);
    return { report, errors, crossOriginIsolated: isolatedPage };
  } finally {
    await page.close();
    await server.close();
  }
}

describe('runtime suite in Chromium', () => {
  it("cross-origin isolated page's main thread: simd and relaxed as Node; threads say that this thread may not block", async () => {
    const { report, errors, crossOriginIsolated } = await suiteIn(true);
    expect(errors).toEqual([]);
    expect(crossOriginIsolated).toBe(true);
    expect(report.features.sharedMemory).toBe(true);
    const c = expectLikeNode(report, node);
    expect(c.variants).toEqual(['simd', 'relaxed']);
    expect(report.threads.backend).toBe('relaxed');
    expect(report.threads.fallback).toMatch(/^threads: .*a page's main thread, which may not block: create the runtime inside a Worker\): running on one thread \('relaxed'\)$/);
    console.log(`chromium (isolated): relaxed ${c.relaxed}; ${report.ms.toFixed(0)} ms`);
  }, 180_000);

  it('page without COOP/COEP: threads fall back to one thread and say so; the rest as Node', async () => {
    const { report, errors, crossOriginIsolated } = await suiteIn(false);
    expect(errors).toEqual([]);
    expect(crossOriginIsolated).toBe(false);
    expect(report.features.sharedMemory).toBe(false);
    const c = expectLikeNode(report, node);
    expect(c.variants).toEqual(['simd', 'relaxed']);
    expect(report.threads.error).toBeNull();
    expect(report.threads.backend).toBe('relaxed');
    expect(report.threads.fallback).toMatch(/^threads: this page is not cross-origin isolated, so it has no SharedArrayBuffer \(serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp\): running on one thread \('relaxed'\)$/);
  }, 180_000);
});
