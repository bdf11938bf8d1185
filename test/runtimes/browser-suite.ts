// What the per-engine runtime-suite tests share: the suite bundled once into a page
// (page-entry.ts), Node's report to compare with, and one run of the page in a browser,
// served from 127.0.0.1 with or without cross-origin isolation, on the main thread or in a
// Worker. The page leaves its report on a global; the test polls for it, with a time limit.
// expectSuite holds what every engine must show; each engine's file adds what is its own.
import { writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { serveStatic } from '../../tools/browser.js';
import type { Browser } from '../../tools/browsers.js';
import { bundleEntry } from './bundle.js';
import { expectLikeNode, type Comparison } from './compare.js';
import { runSuite, type SuiteReport } from './suite.js';

const buildDir = fileURLToPath(new URL('../../build/', import.meta.url));
const wasmUrl = (v: string) => new URL(`../../build/wasmformer-${v}.wasm`, import.meta.url);

/** Longest wait for one run of the suite in a page (WebKit's plain-SIMD run on a loaded 2-core machine is the slow one). */
export const SUITE_WAIT_MS = 240_000;

/** The same suite in this Node process (simd, relaxed and threads), the reference for every browser. */
export function nodeReport(): Promise<SuiteReport> {
  return runSuite({ runtime: 'node', wasm: { simd: wasmUrl('simd'), relaxed: wasmUrl('relaxed'), threads: wasmUrl('threads') } });
}

/** Bundles the page into a fresh folder (index.html + suite.mjs); returns the folder. */
export async function suitePage(): Promise<string> {
  const dir = dirname(await bundleEntry('page-entry.ts', 'suite'));
  writeFileSync(`${dir}/index.html`, '<!doctype html><meta charset="utf-8"><title>wasmformer runtime suite</title><link rel="icon" href="data:,"><script type="module" src="suite.mjs"></script>\n');
  return dir;
}

/** One run of the suite in a browser. */
export interface PageRun {
  report: SuiteReport;
  /** Errors the page reported (see Tab.problems). */
  problems: string[];
  crossOriginIsolated: boolean;
}

/**
 * Serves `dir` (and build/ at /build/) on 127.0.0.1, opens the page in `browser`, and waits
 * for the suite's report: on the main thread, or in a dedicated Worker with `inWorker`.
 * Throws what the page said when it has no report.
 */
export async function suiteInPage(browser: Browser, dir: string, opts: { isolated: boolean; inWorker: boolean }): Promise<PageRun> {
  const server = await serveStatic(dir, { isolated: opts.isolated, mounts: { '/build/': buildDir } });
  const query = `?runtime=${browser.engine}${opts.inWorker ? '&in=worker' : ''}`;
  const tab = await browser.open(`${server.origin}/index.html${query}`);
  try {
    type Done = { suiteReport?: SuiteReport; suiteError?: string };
    await tab.waitFor(() => (globalThis as Done).suiteReport !== undefined || (globalThis as Done).suiteError !== undefined, undefined, SUITE_WAIT_MS, `${browser.engine}: the suite's report`);
    const { report, error, isolated } = await tab.evaluate(() => ({
      report: (globalThis as Done).suiteReport, error: (globalThis as Done).suiteError, isolated: globalThis.crossOriginIsolated,
    }));
    if (!report) throw new Error(`${browser.version}: the suite page failed: ${error}`);
    return { report, problems: await tab.problems(), crossOriginIsolated: isolated };
  } finally {
    await tab.close();
    await server.close();
  }
}

/** The reason the library gives for no threads on a page that is not cross-origin isolated. */
const NOT_ISOLATED = 'this page is not cross-origin isolated, so it has no SharedArrayBuffer (serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)';
/** … on an isolated page's main thread (shared memory, but this thread may not block). */
const MAIN_THREAD = "this runtime has no worker threads (or the page is not cross-origin isolated, or this is a page's main thread, which may not block: create the runtime inside a Worker)";
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * What every engine must show, whatever it supports: no page errors; the isolation asked for;
 * every check passed and the numbers as Node's (expectLikeNode); exactly the variants its
 * features allow (simd; relaxed where it validates relaxed SIMD; threads where a shared memory
 * and blocking workers exist); and each missing feature falling back visibly — auto's notes
 * say relaxed SIMD is not validated, and `variant: 'threads'` names why it runs on one thread.
 */
export function expectSuite(run: PageRun, node: SuiteReport, opts: { isolated: boolean; inWorker: boolean }): Comparison {
  const { report } = run;
  // The suite asks for a .wasm that does not exist (the WasmLoadError check): that one 404 is expected.
  expect(run.problems.filter((p) => !p.includes('/build/wasmformer-missing.wasm')), `${report.runtime}: errors on the page`).toEqual([]);
  expect(run.crossOriginIsolated).toBe(opts.isolated);
  if (!opts.isolated) expect(report.features.sharedMemory, 'shared memory without isolation').toBe(false);
  if (!opts.inWorker) expect(report.features.workers, "threads from a page's main thread").toBe(false);
  const c = expectLikeNode(report, node);
  const f = report.features;
  expect(c.variants).toEqual(['simd', ...(f.relaxedSimd ? ['relaxed'] : []), ...(f.workers ? ['threads'] : [])]);
  const isa = f.relaxedSimd ? 'relaxed' : 'simd';
  expect(report.auto.error).toBeNull();
  expect(report.auto.backend).toBe(f.workers ? (isa === 'relaxed' ? 'relaxed-threads' : 'threads') : isa);
  if (!f.relaxedSimd) expect(report.auto.notes).toContain('relaxed: this runtime does not validate relaxed SIMD (on Node 20 run node with --experimental-wasm-relaxed-simd)');
  expect(report.threads.error).toBeNull();
  if (f.workers) {
    expect(report.threads).toEqual({ backend: 'threads', fallback: null, error: null });
  } else {
    const why = !opts.isolated ? escape(NOT_ISOLATED) : f.sharedMemory ? escape(MAIN_THREAD) : escape('this runtime cannot create a shared WebAssembly.Memory');
    expect(report.threads.backend).toBe(isa);
    expect(report.threads.fallback).toMatch(new RegExp(`^threads: ${why}: running on one thread \\('${isa}'\\)$`));
  }
  return c;
}
