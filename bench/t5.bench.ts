// A Flan-T5-shaped encoder–decoder end to end: flan-t5-small's shape (d_model 512, 6 heads of
// d_kv 64, 8 + 8 blocks, gated-GELU feed-forward, an untied head, vocabulary 32128) with random
// weights, saved once by this bench in Hugging Face layout, then per format (f32, f16, int8 —
// the last two held only in that format) and thread count:
// - load: `loadPretrained` from that folder (warm file cache), the bytes held and the wasm memory after it;
// - greedy decoding (`decodeTokens`) of 32 tokens from a 32-token source, tokens/s after the first;
// - the wasm memory after decoding (which never shrinks: the peak).
// Executed directly it prints the rows:
//   node --expose-gc --experimental-wasm-relaxed-simd --import tsx bench/t5.bench.ts   (BENCH_QUICK=1: short)
import { QUICK, printWhenMain, type BenchRow } from './lib.js';
import { formatRuns, type Loaded, type Row } from './hf-folder.js';
import { decodeTokens, T5, type EncoderDecoder } from '../src/index.js';

const SUITE = 't5';
/** flan-t5-small's shape. */
export const FLAN_T5_SMALL = { vocabSize: 32128, dModel: 512, nHead: 6, dKv: 64, nLayer: 8, dFF: 1024, feedForward: 'gated-gelu' as const, tieWordEmbeddings: false, dropout: 0 };
const SOURCE = Array.from({ length: 32 }, (_, i) => 100 + i * 37);
const TOKENS = QUICK ? 8 : 32;

/** Memory held and greedy decoding of one loaded format at one thread count. */
async function ours({ rt, model, impl, weightBytes }: Loaded, row: Row): Promise<number> {
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
  return d;
}

/** Rows: f32 / f16 / int8 at 1 and 2 threads, and int8 decode / f32 decode. */
export function run(): Promise<BenchRow[]> {
  return formatRuns(SUITE, 'wasmformer-bench-flan-t5-small', (rt) => new T5(rt, FLAN_T5_SMALL, { seed: 1 }), 1, ours);
}

await printWhenMain(import.meta.url, run);
