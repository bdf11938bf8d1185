// What the pretrained-model benches share: a Hugging Face folder of random weights written once
// (config.json + model.safetensors, in the OS temp dir), and each measured model loaded from it
// into a fresh runtime of a given thread count, with the bytes it holds.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median, settle, threadsImpl } from './lib.js';
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
      return { rt, model, impl, loadMs: median(times), weightBytes };
    } catch (err) {
      rt.dispose();
      throw err;
    }
  }
}

/**
 * `measure` for f32, f16 and int8 at 1 and 2 threads in turn (a collection and a pause between),
 * its results by `${dtype} ${threads}` (a thread count that cannot run is left out).
 */
export async function eachFormat(measure: (dtype: 'f32' | 'f16' | 'int8', threads: number) => Promise<number | null>): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const threads of [1, 2]) {
    for (const dtype of ['f32', 'f16', 'int8'] as const) {
      const d = await measure(dtype, threads);
      if (d !== null) out[`${dtype} ${threads}`] = d;
      (globalThis as { gc?: () => void }).gc?.();
      await settle();
    }
  }
  return out;
}
