// A Flan-T5-shaped encoder–decoder end to end: flan-t5-small's shape (d_model 512, 6 heads of
// d_kv 64, 8 + 8 blocks, gated-GELU feed-forward, an untied head, vocabulary 32128) with random
// weights, saved once by this bench in Hugging Face layout, then per format (f32, f16, int8 —
// the last two held only in that format) and thread count:
// - load: `loadPretrained` from that folder (warm file cache), the bytes held and the wasm memory after it;
// - greedy decoding (`decodeTokens`) of 32 tokens from a 32-token source, tokens/s after the first;
// - the wasm memory after decoding (which never shrinks: the peak).
// Executed directly it prints the rows:
//   node --expose-gc --experimental-wasm-relaxed-simd --import tsx bench/t5.bench.ts   (BENCH_QUICK=1: short)
import { rmSync } from 'node:fs';
import { QUICK, printWhenMain, type BenchRow } from './lib.js';
import { eachFormat, loadFolder, modelFolder } from './hf-folder.js';
import { decodeTokens, T5, type EncoderDecoder } from '../src/index.js';

const SUITE = 't5';
/** flan-t5-small's shape. */
export const FLAN_T5_SMALL = { vocabSize: 32128, dModel: 512, nHead: 6, dKv: 64, nLayer: 8, dFF: 1024, feedForward: 'gated-gelu' as const, tieWordEmbeddings: false, dropout: 0 };
const SOURCE = Array.from({ length: 32 }, (_, i) => 100 + i * 37);
const TOKENS = QUICK ? 8 : 32;
type Row = (c: string, impl: string, metric: string, value: number, unit: string) => void;

async function ours(dir: string, dtype: 'f32' | 'f16' | 'int8', threads: number, row: Row): Promise<number | null> {
  const loaded = await loadFolder(dir, dtype, threads);
  if (!loaded) return null;
  const { rt, model, impl, loadMs, weightBytes } = loaded;
  try {
    row('load (warm file cache)', impl, 'ms', loadMs, 'ms');
    row('weight bytes held', impl, 'MiB', weightBytes / 2 ** 20, 'MiB');
    row('wasm memory after load', impl, 'MiB', rt.memoryReport().memoryBytes / 2 ** 20, 'MiB');
    const decode = () => {
      let first = 0, n = -1;
      for (const _ of decodeTokens(model as EncoderDecoder, SOURCE, { maxLength: TOKENS + 1, minLength: TOKENS })) if (++n === 0) first = performance.now();
      return n / ((performance.now() - first) / 1000);
    };
    decode();   // the packed or quantized copies, the pages
    const d = Math.max(decode(), QUICK ? 0 : decode());
    row(`greedy decode, source ${SOURCE.length}`, impl, 'tokens/s', d, 'tokens/s');
    row('wasm memory after decoding (it never shrinks: the peak)', impl, 'MiB', rt.memoryReport().memoryBytes / 2 ** 20, 'MiB');
    model.dispose();
    return d;
  } finally {
    rt.dispose();
  }
}

/** Rows: f32 / f16 / int8 at 1 and 2 threads, and int8 decode / f32 decode. */
export async function run(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const row: Row = (c, impl, metric, value, unit) => rows.push({ suite: SUITE, case: c, impl, metric, value, unit });
  const dir = await modelFolder('wasmformer-bench-flan-t5-small', (rt) => new T5(rt, FLAN_T5_SMALL, { seed: 1 }));
  const decode = await eachFormat((dtype, threads) => ours(dir, dtype, threads, row));
  for (const threads of [1, 2]) {
    const f32 = decode[`f32 ${threads}`], int8 = decode[`int8 ${threads}`];
    if (f32 && int8) row('int8 decode / f32 decode', `${threads}t`, 'x', int8 / f32, 'x');
  }
  if (process.env.BENCH_KEEP_FOLDER !== '1') rmSync(dir, { recursive: true, force: true });
  return rows;
}

await printWhenMain(import.meta.url, run);
