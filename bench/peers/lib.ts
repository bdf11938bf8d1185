// Shared pieces of the peer benchmarks: a timing loop for async calls (warm-up, a pause for V8's
// background tier-up, then the median of timed calls with the process's CPU time alongside), and
// the child-process plumbing (each peer runs in its own `node --import tsx` process, because
// thread counts are fixed per process) that passes JSON in through argv and out through stdout.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** op(A) (M, K) · op(B) (K, N); with transA A is stored (K, M), with transB B is stored (N, K). */
export interface Shape { m: number; k: number; n: number; transA?: boolean; transB?: boolean }

/** One timed call site: the median seconds per call and CPU seconds / wall seconds over the timed calls. */
export interface Timing { seconds: number; calls: number; cpuPerWall: number }

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Times `fn`: warm-up calls for a quarter of the budget (at least `minWarmup` calls), a 100 ms
 * pause, then calls until the budget is spent (at least `minCalls`). Returns the median.
 */
export async function timeCalls(fn: () => Promise<unknown> | unknown, budgetMs: number, minWarmup = 3, minCalls = 5): Promise<Timing> {
  let start = performance.now();
  for (let i = 0; i < minWarmup || performance.now() - start < budgetMs / 4; i++) await fn();
  await sleep(100);
  const times: number[] = [];
  const cpu0 = process.cpuUsage();
  start = performance.now();
  while (times.length < minCalls || performance.now() - start < (budgetMs * 3) / 4) {
    const t0 = performance.now();
    await fn();
    times.push((performance.now() - t0) / 1000);
  }
  const wall = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { seconds: median(times), calls: times.length, cpuPerWall: (cpu.user + cpu.system) / 1e6 / wall };
}

/** Deterministic N(0, std²) samples: xorshift32 + Box–Muller. */
export function randomNormal(n: number, seed: number, std = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  const uniform = () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return (s + 0.5) / 4294967296;
  };
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(uniform())) * std;
    const t = 2 * Math.PI * uniform();
    out[i] = r * Math.cos(t);
    if (i + 1 < n) out[i + 1] = r * Math.sin(t);
  }
  return out;
}

/** Prefix of the one stdout line a child writes its result on (anything else it prints is ignored). */
export const RESULT = '@@result ';

/** Child side: print `value` as the result line. */
export function reply(value: unknown): void {
  process.stdout.write(RESULT + JSON.stringify(value) + '\n');
}

/** Child side: the JSON request the parent passed as the last argument. */
export function request<T>(): T {
  return JSON.parse(process.argv[process.argv.length - 1]!) as T;
}

/**
 * Parent side: runs `node --experimental-wasm-relaxed-simd --import tsx <file> <json>` with this
 * process's node binary and returns the child's result line, parsed. Throws with the child's
 * stderr if it fails or prints no result.
 */
export function runChild<T>(file: URL, args: unknown, timeoutMs = 600_000): Promise<T> {
  const argv = ['--experimental-wasm-relaxed-simd', '--import', 'tsx', fileURLToPath(file), JSON.stringify(args)];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, argv, { timeout: timeoutMs, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      const line = stdout.split('\n').find((l) => l.startsWith(RESULT));
      if (error || !line) {
        reject(new Error(`${fileURLToPath(file)} failed (${error?.message ?? 'no result line'}):\n${stderr.slice(-4000)}`));
        return;
      }
      resolve(JSON.parse(line.slice(RESULT.length)) as T);
    });
  });
}
