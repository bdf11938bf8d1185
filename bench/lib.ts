// Shared pieces of the benchmark suite: one timing primitive over tinybench, the row format
// every suite reports (written to bench/results/latest.json by bench/run.ts), implementation
// names per thread count, the quick-run switch, and the AssemblyScript build of calibration loops.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Bench } from 'tinybench';

/** One measured number. `value` is in `unit` (GFLOP/s, GB/s, tokens/s, x for ratios, ms). */
export interface BenchRow {
  suite: string;
  case: string;
  impl: string;
  metric: string;
  value: number;
  unit: string;
}

/** The median of xs. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
}

/** V8 compiles hot wasm functions in the background: give it a moment between warm-up and timing. */
export const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

/** Median seconds per call of `fn`, measured for about `timeMs` after a warm-up. */
export async function secondsPerCall(fn: () => void, timeMs = 400): Promise<number> {
  const bench = new Bench({ time: timeMs, warmupTime: Math.min(100, timeMs / 4), iterations: 5 });
  bench.add('x', fn);
  await bench.run();
  const task = bench.tasks[0]!;
  const result = task.result as unknown as { latency?: { p50: number }; error?: unknown };
  if (!result.latency) throw new Error(`benchmark failed: ${String(result.error)}`);
  return result.latency.p50 / 1000;
}

/**
 * BENCH_QUICK=1 shortens every budget (development runs: seconds per suite, numbers noisier);
 * a full `npm run bench` leaves it unset.
 */
export const QUICK = !!process.env.BENCH_QUICK && process.env.BENCH_QUICK !== '0';
/** `ms`, or a fifth of it (at least `min`) in a quick run. */
export const budget = (ms: number, min = 50) => (QUICK ? Math.max(min, Math.round(ms / 5)) : ms);

/** The row name of an implementation at a thread count: one thread keeps the plain name ("relaxed"), more add "2t". */
export const threadsImpl = (impl: string, threads: number) => (threads === 1 ? impl : `${impl} ${threads}t`);

/**
 * Compiles an AssemblyScript file of bench/assembly with `flags` (asc also reads asconfig.json:
 * the memory is imported). The bytes are cached in os.tmpdir()/wasmformer-bench/ by a hash of
 * the source, the flags and asc's version: asc's first call in a process takes 20 s here.
 */
export async function compileAsc(file: string, flags: string[]): Promise<WebAssembly.Module> {
  const { createHash } = await import('node:crypto');
  const { existsSync, mkdirSync, renameSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const ascVersion = JSON.parse(readFileSync(new URL('../node_modules/assemblyscript/package.json', import.meta.url), 'utf8')).version;
  const key = createHash('sha256').update(readFileSync(file)).update(JSON.stringify([flags, ascVersion])).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), 'wasmformer-bench');
  const cached = join(dir, `${key}.wasm`);
  if (existsSync(cached)) return new WebAssembly.Module(readFileSync(cached));
  const { default: asc } = await import('assemblyscript/asc');
  const out: Record<string, Uint8Array> = {};
  const { error } = await asc.main(
    [file, '--runtime', 'stub', '-O3', ...flags, '--outFile', 'out.wasm'],
    { writeFile: (name: string, contents: string | Uint8Array) => { if (typeof contents !== 'string') out[name] = contents; } },
  );
  if (error) throw new Error(`asc ${file}: ${error.message} (diagnostics above)`);
  const bytes = out['out.wasm'] as Uint8Array<ArrayBuffer>;
  const module = new WebAssembly.Module(bytes); // compiles: only valid bytes are cached
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${cached}.${process.pid}`, bytes);
  renameSync(`${cached}.${process.pid}`, cached);
  return module;
}

const version = (pkg: string) => {
  const json = JSON.parse(readFileSync(new URL(`../node_modules/${pkg}/package.json`, import.meta.url), 'utf8')) as { version: string };
  return json.version;
};
/** Row names of the peers (bench/peers), without the thread suffix. */
export const TFJS_NAME = `tfjs-wasm ${version('@tensorflow/tfjs-core')}`;
export const ORT_NAME = `ort-web ${version('onnxruntime-web')}`;

/**
 * When `moduleUrl` is the script Node was started with, runs the suite and prints its rows as a
 * table with the wall time (how each *.bench.ts runs on its own).
 * @example
 * ```ts
 * await printWhenMain(import.meta.url, run);
 * ```
 */
export async function printWhenMain(moduleUrl: string, run: () => Promise<BenchRow[]>): Promise<void> {
  if (!isMainModule(moduleUrl)) return;
  const t0 = performance.now();
  const rows = await run();
  console.table(rows.map((r) => ({ case: r.case, impl: r.impl, metric: r.metric, value: Number(r.value.toPrecision(4)), unit: r.unit })));
  console.log(`${((performance.now() - t0) / 1000).toFixed(0)} s`);
}

/** Whether `moduleUrl` (a suite's import.meta.url) is the script node was started with: the suite runs on its own. */
export function isMainModule(moduleUrl: string): boolean {
  return !!process.argv[1] && moduleUrl === pathToFileURL(process.argv[1]).href;
}
