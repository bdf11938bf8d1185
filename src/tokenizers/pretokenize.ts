// Pre-tokenization for byte-level BPE: GPT-2's regex
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// run as a hand-written scanner over character classes (letter, number, whitespace, other), which
// gives exactly the pieces JavaScript's regex engine gives (u flag: \s is JavaScript's white space
// and line terminators, classes are per code point) several times faster; any other pattern from a
// tokenizer.json runs as a RegExp.

/**
 * GPT-2's pre-tokenization pattern (also tiktoken's r50k_base and p50k_base). Use with the `gu` flags.
 * @example
 * "I'm here".match(new RegExp(GPT2_PATTERN, 'gu')); // ['I', "'m", ' here']
 */
export const GPT2_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

const LETTER = 1, NUMBER = 2, SPACE = 3, OTHER = 4;
const isL = /\p{L}/u, isN = /\p{N}/u, isS = /\s/u;

function classify(cp: number): number {
  const ch = String.fromCodePoint(cp);
  return isL.test(ch) ? LETTER : isN.test(ch) ? NUMBER : isS.test(ch) ? SPACE : OTHER;
}

/** Class of each BMP code unit (0 = not yet computed); ASCII filled up front. */
const BMP = new Uint8Array(0x10000);
for (let c = 0; c < 0x80; c++) BMP[c] = classify(c);
const ASTRAL = new Map<number, number>();

function classOf(cp: number): number {
  if (cp < 0x10000) {
    let k = BMP[cp]!;
    if (k === 0) BMP[cp] = k = classify(cp);
    return k;
  }
  let k = ASTRAL.get(cp);
  if (k === undefined) {
    if (ASTRAL.size > 4096) ASTRAL.clear();
    ASTRAL.set(cp, (k = classify(cp)));
  }
  return k;
}

/** The class of the code point starting at `i` and its width in code units, packed as class | width << 3. */
function classAt(text: string, i: number, end: number): number {
  const c = text.charCodeAt(i);
  if (c < 0x80) return BMP[c]! | 8;
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < end) {
    const lo = text.charCodeAt(i + 1);
    if (lo >= 0xdc00 && lo <= 0xdfff) return classOf(0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00)) | 16;
  }
  return classOf(c) | 8;
}

/** End of the run of class `k` starting at `i`. */
function runEnd(text: string, i: number, end: number, k: number): number {
  while (i < end) {
    const c = text.charCodeAt(i);
    if (c < 0x80) {
      if (BMP[c] !== k) break;
      i++;
    } else {
      const ck = classAt(text, i, end);
      if ((ck & 7) !== k) break;
      i += ck >> 3;
    }
  }
  return i;
}

/**
 * The end of the GPT-2 pre-token that starts at `i` in `text[.., end)` — what GPT-2's regex matches
 * there. Loop `while (i < end) i = gpt2PieceEnd(text, i, end)` to split a text.
 * @example
 * gpt2PieceEnd("I'm here", 0, 8); // 1 ('I'), then 3 ("'m"), then 8 (' here')
 */
export function gpt2PieceEnd(text: string, i: number, end: number): number {
  const c = text.charCodeAt(i);
  if (c === 39 && i + 1 < end) {
    // 's 't 're 've 'm 'll 'd (case-sensitive)
    const n1 = text.charCodeAt(i + 1);
    if (n1 === 115 || n1 === 116 || n1 === 109 || n1 === 100) return i + 2;
    if (i + 2 < end) {
      const n2 = text.charCodeAt(i + 2);
      if ((n2 === 101 && (n1 === 114 || n1 === 118)) || (n1 === 108 && n2 === 108)) return i + 3;
    }
  }
  if (c === 32 && i + 1 < end) {
    const k = classAt(text, i + 1, end) & 7;
    if (k !== SPACE) return runEnd(text, i + 1, end, k); // ' ?\p{L}+', ' ?\p{N}+', ' ?[^\s\p{L}\p{N}]+'
  }
  const ck = classAt(text, i, end);
  const k = ck & 7;
  if (k !== SPACE) return runEnd(text, i + (ck >> 3), end, k);
  // \s+(?!\S) | \s+ : a whitespace run, less its last character when a non-space follows it
  // (that character then starts the next piece, e.g. ' word'), unless the run is one character.
  const j = runEnd(text, i + 1, end, SPACE); // white space is all in the BMP
  return j === end || j - 1 === i ? j : j - 1;
}

/**
 * A compiled pre-tokenization pattern: GPT-2's runs through {@link gpt2PieceEnd}, any other through
 * a RegExp with the `gu` flags, where the text between matches forms pieces too (Hugging Face's
 * Split with behavior 'Isolated').
 * @example
 * const p = new PiecePattern(GPT2_PATTERN);
 * p.pieces('Hello world'); // ['Hello', ' world']
 */
export class PiecePattern {
  readonly source: string;
  readonly isGpt2: boolean;
  readonly #re: RegExp | null;

  /** Throws SyntaxError when `source` is not a valid JavaScript regex with the u flag. */
  constructor(source: string) {
    this.source = source;
    this.isGpt2 = source === GPT2_PATTERN;
    this.#re = this.isGpt2 ? null : new RegExp(source, 'gu');
  }

  /**
   * Calls `piece(start, end)` for each piece of `text[start, end)`, in order, covering all of it.
   * @example
   * new PiecePattern('\\d').forEach('a1b', 0, 3, (s, e) => console.log(s, e)); // 0 1, 1 2, 2 3
   */
  forEach(text: string, start: number, end: number, piece: (s: number, e: number) => void): void {
    if (this.isGpt2) {
      for (let i = start; i < end; ) {
        const j = gpt2PieceEnd(text, i, end);
        piece(i, j);
        i = j;
      }
      return;
    }
    const re = this.#re!;
    const sub = start === 0 && end === text.length ? text : text.slice(start, end);
    re.lastIndex = 0;
    let last = 0;
    for (let m = re.exec(sub); m !== null; m = re.exec(sub)) {
      const s = m.index, e = s + m[0].length;
      if (e === s) {
        re.lastIndex = s + (sub.codePointAt(s)! > 0xffff ? 2 : 1); // empty match: step past one character
        if (s >= sub.length) break;
        continue;
      }
      if (s > last) piece(start + last, start + s);
      piece(start + s, start + e);
      last = e;
    }
    if (last < sub.length) piece(start + last, start + sub.length);
  }

  /**
   * The pieces of `text` as strings.
   * @example
   * new PiecePattern(GPT2_PATTERN).pieces("it's  2 big"); // ['it', "'s", ' ', ' 2', ' big']
   */
  pieces(text: string): string[] {
    const out: string[] = [];
    this.forEach(text, 0, text.length, (s, e) => out.push(text.slice(s, e)));
    return out;
  }
}
