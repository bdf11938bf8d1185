// What the pretrained-model benches share: a Hugging Face folder of random weights written once
// (config.json + model.safetensors, in the OS temp dir), and each measured model loaded from it
// into a fresh runtime of a given thread count, with the bytes it holds.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median, settle, threadsImpl, type BenchRow } from './lib.js';
import { createRuntime, hfConfig, loadPretrained, saveModel, writeFileAtomic, type Model, type Runtime } from '../src/index.js';

/** The folder `name` under the temp dir, written once from `make`'s model (random weights), its weights read once into the file cache. */
export async function modelFolder(name: string, make: (rt: Runtime) => Model): Promise<string> {
  const dir = join(tmpdir(), name);
  try {
    readFileSync(join(dir, 'config.json'));
    readFileSync(join(dir, 'model.safetensors'));   // into the file cache
    return dir;
  } catch {
    mkdirSync(dir, { recursive: true });
  }
  const rt = await createRuntime({ variant: 'simd', threads: 1 });
  try {
    const model = make(rt);
    writeFileSync(join(dir, 'config.json'), JSON.stringify(hfConfig(model), null, 2));
    await writeFileAtomic(join(dir, 'model.safetensors'), saveModel(model));
  } finally {
    rt.dispose();
  }
  return dir;
}

/** A loaded model in its own runtime (relaxed build, simd where relaxed cannot run). */
export interface Loaded {
  rt: Runtime;
  model: Model;
  /** e.g. 'relaxed 2t int8' */
  impl: string;
  dtype: 'f32' | 'f16' | 'int8';
  threads: number;
  /** The median of the loads timed (`loads`), each into a fresh runtime. */
  loadMs: number;
  /** The weights' own bytes in this format: held matrices (values and scales) and the f32 rest. */
  weightBytes: number;
}

/**
 * `dir` loaded with `dtype` on `threads` threads, `loads` times, each into a fresh runtime (the
 * first touches of fresh memory are most of a load, and this VM's cost for them moves between
 * runs): the last one kept, the median time reported. Null where that many threads cannot run.
 * The caller disposes `rt`.
 */
export async function loadFolder(dir: string, dtype: 'f32' | 'f16' | 'int8', threads: number, loads = 1): Promise<Loaded | null> {
  const times: number[] = [];
  for (let i = 0; ; i++) {
    let rt: Runtime;
    try {
      rt = await createRuntime({ threads, onThreadsUnavailable: 'error' });
    } catch {
      return null;
    }
    try {
      const impl = `${threadsImpl(rt.backend.replace('-threads', '') as 'simd' | 'relaxed', threads)} ${dtype}`;
      const t0 = performance.now();
      const { model } = await loadPretrained(rt, dir, { dtype, tokenizer: false });
      times.push(performance.now() - t0);
      if (i + 1 < loads) {
        rt.dispose();
        (globalThis as { gc?: () => void }).gc?.();
        await settle();
        continue;
      }
      const weightBytes = model.params.list().reduce((n, p) => n + (p.held ? p.held.bytes : 4 * p.spec.shape.reduce((a, b) => a * b, 1)), 0);
      return { rt, model, impl, dtype, threads, loadMs: median(times), weightBytes };
    } catch (err) {
      rt.dispose();
      throw err;
    }
  }
}

/** Adds one bench row: case, impl, metric, value, unit. */
export type Row = (c: string, impl: string, metric: string, value: number, unit: string) => void;

/**
 * The run both pretrained-model benches make: the folder `name` (written once from `make`); for
 * f32, f16 and int8 at 1 and 2 threads in turn, the folder loaded `loads` times (the load-time
 * row), `measure` on the model (its decode tokens/s), the runtime disposed, a collection and a
 * pause; then `after` (peers, timed once ours are done), the int8 / f32 decode rows, and the
 * folder removed (BENCH_KEEP_FOLDER=1 keeps it). A thread count that cannot run is left out.
 */
export async function formatRuns(suite: string, name: string, make: (rt: Runtime) => Model, loads: number,
  measure: (loaded: Loaded, row: Row) => Promise<number>,
  after?: (decode: Record<string, number>, row: Row) => Promise<void>): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const row: Row = (c, impl, metric, value, unit) => rows.push({ suite, case: c, impl, metric, value, unit });
  const dir = await modelFolder(name, make);
  const decode: Record<string, number> = {};
  for (const threads of [1, 2]) {
    for (const dtype of ['f32', 'f16', 'int8'] as const) {
      const loaded = await loadFolder(dir, dtype, threads, loads);
      if (loaded) {
        try {
          row(loads > 1 ? `load (warm file cache), median of ${loads}` : 'load (warm file cache)', loaded.impl, 'ms', loaded.loadMs, 'ms');
          decode[`${dtype} ${threads}`] = await measure(loaded, row);
        } finally {
          loaded.model.dispose();
          loaded.rt.dispose();
        }
      }
      (globalThis as { gc?: () => void }).gc?.();
      await settle();
    }
  }
  await after?.(decode, row);
  for (const threads of [1, 2]) {
    const f32 = decode[`f32 ${threads}`], int8 = decode[`int8 ${threads}`];
    if (f32 && int8) row('int8 decode / f32 decode', `${threads}t`, 'x', int8 / f32, 'x');
  }
  if (process.env.BENCH_KEEP_FOLDER !== '1') rmSync(dir, { recursive: true, force: true });
  return rows;
}
