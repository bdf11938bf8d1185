// Shared pieces of the benchmark suite: one timing primitive over tinybench and the
// row format every suite reports (written to bench/results/latest.json by bench/run.ts).
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
