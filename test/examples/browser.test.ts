// The browser demo (examples/browser/) end to end in each browser engine — Chromium, Firefox
// ESR and WebKitGTK (test/runtimes/browsers.ts launches them): its own server (build +
// COOP/COEP/CSP headers) on 127.0.0.1, the page cross-origin isolated, training in the worker
// with the loss falling, the loss chart and the attention heatmap drawn, generation streaming
// character by character, the page responsive throughout, and no error anywhere. Leaves a
// screenshot per engine in test-output/browser-demo-<engine>.png.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer, type DemoServer } from '../../examples/browser/serve.js';
import { launchBrowser, type Browser, type Engine, type Tab } from '../../tools/browsers.js';

const OUT = fileURLToPath(new URL('../../test-output/', import.meta.url));
/** The test builds into its own folder, apart from a developer's examples/browser/dist. */
const BUILD_DIR = join(OUT, 'browser-demo');
const STEPS = 40;
/**
 * The loss must fall by at least this much (nats) from step 0 to step 39. Measured with the
 * default model and seed: 3.97 → 2.38, the same in Node and Chromium (the first loss is
 * ≈ ln(alphabet size) = ln 51 = 3.93; after 40 steps the model knows letter and word frequencies).
 */
const MIN_LOSS_DROP = 0.5;
const GENERATE_CHARS = 200;
/** Generous bounds that only a frozen page would miss, even on a loaded 2-core machine. */
const MAX_ROUND_TRIP_MS = 5000;
const MIN_FRAMES_WHILE_TRAINING = 5;
/** WebKit trains on one thread with the plain simd build, the slowest of the three. */
const WAIT_MS = 90_000;

/**
 * The backend the demo's Worker must report on its isolated page: the relaxed build where the
 * engine validates relaxed SIMD (else the simd build, and the page's loader notes must say why),
 * on a pool of one thread per core (at most 8) in Chromium and Firefox; WebKitGTK 2.50 runs one
 * thread (no global SharedArrayBuffer even when isolated: see test/runtimes/webkit.test.ts).
 */
function expectedBackend(engine: Engine, relaxed: boolean, cores: number): string {
  if (engine === 'webkit' || cores === 1) return relaxed ? 'relaxed' : 'simd';
  return `${relaxed ? 'relaxed-threads' : 'threads'} × ${Math.min(cores, 8)} threads`;
}

/** Whether each engine validates relaxed SIMD; Firefox: from 153 ESR on (140 ESR did not), so it is read from the page. */
const VALIDATES_RELAXED: Record<Engine, boolean | 'by version'> = { chromium: true, firefox: 'by version', webkit: false };

/** What the page exposes as `wasmformerDemo` (see main.ts). */
interface DemoState {
  backend: string;
  ready: boolean;
  training: boolean;
  generating: boolean;
  hasModel: boolean;
  losses: { step: number; loss: number }[];
  step: number;
  target: number;
  elapsedMs: number;
  generated: string;
}

/** Counters the test installs in the page once it has loaded, before training starts. */
interface Probe {
  frames: number;
  framesWhileTraining: number;
  longestFrameGapWhileTrainingMs: number;
  /** Durations of the page's tasks over 50 ms (PerformanceObserver 'longtask', Chromium only), for the log. */
  longTasksMs: number[];
  outputLengths: number[];
}

declare global {
  var wasmformerDemo: DemoState;
  var browserDemoProbe: Probe;
}

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));
const demo = (tab: Tab) => tab.evaluate(() => ({ ...globalThis.wasmformerDemo, losses: [...globalThis.wasmformerDemo.losses] }));
const text = (tab: Tab, selector: string) => tab.evaluate((s) => document.querySelector(s)?.textContent ?? null, selector);
const value = (tab: Tab, selector: string) => tab.evaluate((s) => (document.querySelector(s) as HTMLInputElement | HTMLTextAreaElement).value, selector);
const disabled = (tab: Tab, selector: string) => tab.evaluate((s) => (document.querySelector(s) as HTMLButtonElement).disabled, selector);
const count = (tab: Tab, selector: string) => tab.evaluate((s) => document.querySelectorAll(s).length, selector);

/** Frames drawn (requestAnimationFrame) while the worker trains: a blocked page draws none. */
function installProbe(): void {
  const probe: Probe = { frames: 0, framesWhileTraining: 0, longestFrameGapWhileTrainingMs: 0, longTasksMs: [], outputLengths: [] };
  globalThis.browserDemoProbe = probe;
  if (PerformanceObserver.supportedEntryTypes?.includes('longtask')) {
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) probe.longTasksMs.push(Math.round(entry.duration));
    }).observe({ type: 'longtask', buffered: true });
  }
  let last = 0;
  const frame = (t: number) => {
    probe.frames++;
    if (globalThis.wasmformerDemo?.training) {
      probe.framesWhileTraining++;
      if (last > 0) probe.longestFrameGapWhileTrainingMs = Math.max(probe.longestFrameGapWhileTrainingMs, t - last);
      last = t;
    } else {
      last = 0;
    }
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
}

let server: DemoServer;

beforeAll(async () => {
  mkdirSync(OUT, { recursive: true });
  server = await startServer({ port: 0, outdir: BUILD_DIR });
}, 60_000);

afterAll(async () => {
  await server?.close();
});

describe('examples/browser: the demo server', () => {
  it('serves the page isolated, wasm as application/wasm, a CSP that allows wasm, and nothing outside its folder', async () => {
    const page = await fetch(server.url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect(page.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
    expect(page.headers.get('content-security-policy')).toContain("'wasm-unsafe-eval'");
    expect(await page.text()).toContain('<script type="module" src="main.js">');
    for (const name of ['relaxed', 'simd']) {
      const wasm = await fetch(new URL(`wasm/${name}.wasm`, server.url));
      expect(wasm.status).toBe(200);
      expect(wasm.headers.get('content-type')).toBe('application/wasm');
      expect(WebAssembly.validate(new Uint8Array(await wasm.arrayBuffer()))).toBe(true);
    }
    for (const js of ['main.js', 'worker.js']) {
      const res = await fetch(new URL(js, server.url));
      expect(res.headers.get('content-type')).toMatch(/^text\/javascript/);
      expect(res.headers.get('cross-origin-embedder-policy')).toBe('require-corp'); // the worker must be isolated too
      await res.arrayBuffer();
    }
    for (const bad of ['..%2Fworker.ts', '..%2F..%2F..%2Fpackage.json', 'nothing-here.js']) {
      const res = await fetch(server.url + bad);
      expect(res.status, bad).toBe(404);
      await res.arrayBuffer();
    }
    const post = await fetch(server.url, { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
  });

});

for (const engine of ['chromium', 'firefox', 'webkit'] as const) {
  describe(`examples/browser: live training demo in ${engine}`, () => {
    let browser: Browser;

    beforeAll(async () => {
      browser = await launchBrowser(engine);
    }, 90_000);

    afterAll(async () => {
      await browser?.close();
    });

    /**
     * Opens the demo at `query`, checks it is cross-origin isolated and its worker is ready, runs
     * `body`, and fails listing every error the page reported (the demo shows its own errors
     * in #error too); on any failure the message lists them as well.
     */
    async function withDemo(query: string, body: (tab: Tab) => Promise<void>): Promise<void> {
      const tab = await browser.open(server.url + query, { width: 1280, height: 900 });
      try {
        expect(await tab.evaluate(() => globalThis.crossOriginIsolated)).toBe(true);
        await tab.evaluate(installProbe);
        await tab.waitFor(() => globalThis.wasmformerDemo?.ready || !document.querySelector('#error')?.hasAttribute('hidden'), undefined, WAIT_MS, `${engine}: the demo's worker ready`);
        await body(tab);
        expect(await tab.problems()).toEqual([]);
        expect(await text(tab, '#error')).toBe('');
      } catch (err) {
        const problems = [...(await tab.problems().catch(() => [])), `#error: ${await text(tab, '#error').catch(() => '?')}`];
        if (err instanceof Error) err.message += `\n\nOn the page (${browser.version}):\n${problems.join('\n')}`;
        throw err;
      } finally {
        await tab.close();
      }
    }

    it('trains in a worker (loss falls), draws the chart and the heatmap, streams generation, stays responsive', () => withDemo(`?steps=${STEPS}&seed=1`, async (tab) => {
      // 1. Settings from the URL, then the real "Train" button.
      const backend = await text(tab, '#backend');
      // never the JS fallback: each engine's best build, in the demo's Worker on an isolated page;
      // without relaxed SIMD the page's loader notes must say why it runs the simd build
      const cores = await tab.evaluate(() => navigator.hardwareConcurrency);
      const notes = (await text(tab, '#notes')) ?? '';
      const relaxed = !notes.includes('relaxed: this runtime does not validate relaxed SIMD');
      if (VALIDATES_RELAXED[engine] !== 'by version') expect(relaxed, `${browser.version} validates relaxed SIMD (loader notes: ${notes})`).toBe(VALIDATES_RELAXED[engine]);
      expect(backend).toBe(expectedBackend(engine, relaxed, cores));
      expect(await text(tab, '#isolation')).toMatch(/^yes/);
      expect(await disabled(tab, '#generate')).toBe(true); // no model yet
      await tab.click('#train');

      // 2. While it trains, the page answers at once: round trips through evaluate.
      const roundTrips: number[] = [];
      let sawTraining = false;
      const started = Date.now();
      for (;;) {
        const t0 = Date.now();
        const s = await tab.evaluate(() => ({ training: globalThis.wasmformerDemo.training, step: globalThis.wasmformerDemo.step }));
        if (s.training) {
          roundTrips.push(Date.now() - t0);
          if (s.step > 0) sawTraining = true;
        }
        if (!s.training && s.step >= STEPS) break;
        if (Date.now() - started > WAIT_MS) throw new Error(`training did not finish: ${JSON.stringify(s)}`);
        await sleep(50);
      }
      expect(sawTraining).toBe(true);
      expect(Math.max(...roundTrips)).toBeLessThan(MAX_ROUND_TRIP_MS);
      const probe = await tab.evaluate(() => globalThis.browserDemoProbe);
      expect(probe.framesWhileTraining).toBeGreaterThanOrEqual(MIN_FRAMES_WHILE_TRAINING);

      // 3. The loss falls: every step reported once, in order, from ≈ ln(alphabet) down.
      const trained = await demo(tab);
      expect(trained.losses.map((p) => p.step)).toEqual(Array.from({ length: STEPS }, (_, i) => i));
      const alphabet = new Set(await value(tab, '#text'));
      const first = trained.losses[0]!.loss;
      const last = trained.losses.at(-1)!.loss;
      expect(Math.abs(first - Math.log(alphabet.size))).toBeLessThan(0.5);
      expect(last).toBeLessThan(first - MIN_LOSS_DROP);
      const stepsPerSecond = trained.step / (trained.elapsedMs / 1000);

      // 4. The chart (one polyline point per step) and the heatmap (layers × heads panels of T × T cells).
      await tab.waitFor((n) => document.querySelector('#chart g.series polyline')?.getAttribute('points')?.split(' ').length === n, STEPS, WAIT_MS, 'the loss chart');
      await tab.waitFor((n) => document.querySelector('#attention-info')?.textContent?.startsWith(`after ${n} steps`), STEPS, WAIT_MS, 'the heatmap');
      const panels = await count(tab, '#attention svg g.cells');
      expect(panels).toBe(2 * 4); // default: 2 layers × 4 heads
      expect(await count(tab, '#attention svg g.cells rect')).toBe(panels * 24 * 24); // PROBE_CHARS = 24 characters
      expect(await text(tab, '#stats')).toContain(`step ${STEPS} / ${STEPS}`);

      // 5. The buttons: "Train" continues the same model, "Stop" stops it.
      await tab.click('#train');
      await tab.waitFor((n) => globalThis.wasmformerDemo.step >= n, STEPS + 3, WAIT_MS, 'training continued');
      await tab.click('#stop');
      await tab.waitFor(() => !globalThis.wasmformerDemo.training && document.querySelector('#stats')?.textContent?.includes('—'), undefined, WAIT_MS, 'training stopped');
      const continued = await demo(tab);
      expect(continued.losses[0]!.loss).toBe(first); // the same run, not a new model
      expect(continued.losses.length).toBe(continued.step);
      expect(continued.step).toBeGreaterThan(STEPS);
      expect(continued.step).toBeLessThanOrEqual(2 * STEPS);
      expect(await disabled(tab, '#train')).toBe(false);
      expect(await disabled(tab, '#stop')).toBe(true);

      // 6. "Generate": the text appears character by character (recorded at every DOM change).
      await tab.evaluate(() => {
        const output = document.querySelector('#output')!;
        new MutationObserver(() => globalThis.browserDemoProbe.outputLengths.push(output.textContent!.length))
          .observe(output, { childList: true, characterData: true, subtree: true });
      });
      await tab.fill('#length', String(GENERATE_CHARS));
      await tab.fill('#prompt', 'Shall I');
      await tab.click('#generate');
      await tab.waitFor(() => globalThis.wasmformerDemo.generating === false && document.querySelector('#gen-info')?.textContent !== '', undefined, WAIT_MS, 'generation');
      const output = (await text(tab, '#output'))!;
      const generated = (await demo(tab)).generated;
      expect(output).toBe(`Shall I${generated}`);
      expect([...generated]).toHaveLength(GENERATE_CHARS);
      expect([...generated].filter((ch) => !alphabet.has(ch))).toEqual([]);
      const lengths = (await tab.evaluate(() => globalThis.browserDemoProbe.outputLengths)).filter((n) => n > 'Shall I'.length);
      expect(lengths.at(-1)).toBe(output.length);
      expect(lengths.every((n, i) => i === 0 || n >= lengths[i - 1]!)).toBe(true); // it only grows
      expect(new Set(lengths).size).toBeGreaterThanOrEqual(20); // in many steps, not all at once
      const genInfo = await text(tab, '#gen-info');

      await tab.screenshot(join(OUT, `browser-demo-${engine}.png`));
      console.log(
        `browser demo in ${browser.version}: ${backend}, ${stepsPerSecond.toFixed(1)} steps/s (2 layers, d_model 96, batch 16 × 64 characters), loss ${first.toFixed(3)} → ${last.toFixed(3)} in ${STEPS} steps; ` +
          `${probe.framesWhileTraining} frames while training (longest gap ${Math.round(probe.longestFrameGapWhileTrainingMs)} ms), ` +
          `slowest round trip ${Math.max(...roundTrips)} ms, page tasks over 50 ms: [${probe.longTasksMs.join(', ')}]; generation: ${genInfo}`,
      );
    }), 4 * WAIT_MS);

    it('reads the model and training settings from the URL and starts itself with autostart=1', () => withDemo('?layers=1&heads=2&dmodel=32&context=32&batch=4&steps=5&lr=0.01&autostart=1', async (tab) => {
      await tab.waitFor(() => !globalThis.wasmformerDemo.training && globalThis.wasmformerDemo.step === 5, undefined, WAIT_MS, 'five steps');
      expect(await value(tab, '#dmodel')).toBe('32');
      expect(await text(tab, '#model-info')).toContain('1 layer × 2 heads, d_model 32');
      await tab.waitFor(() => document.querySelector('#attention-info')?.textContent?.startsWith('after 5 steps'), undefined, WAIT_MS, 'the heatmap');
      expect(await count(tab, '#attention svg g.cells')).toBe(1 * 2);
      expect(await count(tab, '#attention svg g.cells rect')).toBe(2 * 24 * 24);
    }), 2 * WAIT_MS);
  });
}
