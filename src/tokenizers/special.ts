// Added tokens (special tokens such as <|endoftext|> or [CLS], and other added words): found in the
// text before any normalization or pre-tokenization and given their ids directly, as Hugging Face's
// tokenizers do. Matching is leftmost, then longest. The caller chooses per encode whether special
// tokens written in the text count (EncodeOptions.special).
import { TokenError } from '../errors.js';

/** One added token, as tokenizer.json's added_tokens lists it (camelCase). */
export interface AddedToken {
  id: number;
  content: string;
  /** A special token: skipped by `decode(ids, { skipSpecialTokens: true })`, subject to EncodeOptions.special. Default true. */
  special?: boolean;
  /** Also swallow the white space before it. */
  lstrip?: boolean;
  /** Also swallow the white space after it. */
  rstrip?: boolean;
  /** Match only as a whole word (not inside letters, digits or '_'). */
  singleWord?: boolean;
}

/**
 * What encode does with special tokens written in the text: 'allow' (default) gives their ids;
 * 'text' encodes them as ordinary text; 'error' throws TokenError naming the token and its position
 * (for untrusted input); a list allows just those tokens (the others are ordinary text). Added
 * tokens that are not special always match.
 */
export type SpecialMode = 'allow' | 'text' | 'error' | readonly string[];

/** A piece of a text split at added tokens: ordinary text `[start, end)`, or an added token's id. */
export type Segment = { start: number; end: number; id: -1 } | { start: number; end: number; id: number };

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const WORD = /[\p{L}\p{N}_]/u;

/**
 * The added tokens of a tokenizer, and the splitter that finds them in a text.
 * @example
 * const added = new AddedTokens([{ id: 3, content: '<|endoftext|>' }]);
 * added.split('a<|endoftext|>b', 'allow'); // [{start:0,end:1,id:-1}, {start:1,end:14,id:3}, {start:14,end:15,id:-1}]
 */
export class AddedTokens {
  readonly list: readonly Required<AddedToken>[];
  readonly #byContent = new Map<string, Required<AddedToken>>();
  readonly #specialIds = new Set<number>();
  readonly #patterns = new Map<string, RegExp | null>();

  /** Tokens with empty content throw TokenError; a repeated content keeps its first id. */
  constructor(tokens: readonly AddedToken[]) {
    const list: Required<AddedToken>[] = [];
    for (const t of tokens) {
      if (t.content === '') throw new TokenError(`added token ${t.id} has empty content`);
      const full = { special: true, lstrip: false, rstrip: false, singleWord: false, ...t };
      if (this.#byContent.has(full.content)) continue;
      this.#byContent.set(full.content, full);
      if (full.special) this.#specialIds.add(full.id);
      list.push(full);
    }
    this.list = list;
  }

  /** Whether `id` is a special token's. */
  isSpecial(id: number): boolean {
    return this.#specialIds.has(id);
  }

  /** The added token whose content is `content`. */
  get(content: string): Required<AddedToken> | undefined {
    return this.#byContent.get(content);
  }

  /** The regex matching the tokens `mode` lets through (null when none can match). */
  #pattern(mode: SpecialMode): RegExp | null {
    const key = typeof mode === 'string' ? mode : `[${mode.join('\u0000')}]`;
    let re = this.#patterns.get(key);
    if (re === undefined) {
      const allowed = (t: Required<AddedToken>) =>
        !t.special || mode === 'allow' || mode === 'error' || (typeof mode !== 'string' && mode.includes(t.content));
      const contents = this.list.filter(allowed).map((t) => t.content).sort((a, b) => b.length - a.length);
      re = contents.length ? new RegExp(contents.map(escapeRe).join('|'), 'gu') : null;
      if (this.#patterns.size > 16) this.#patterns.clear();
      this.#patterns.set(key, re);
    }
    return re;
  }

  /**
   * `text` cut into ordinary text and added tokens. With mode 'error' a special token in the text
   * throws TokenError with its position (UTF-16 units).
   * @example
   * new AddedTokens([{ id: 0, content: '[CLS]' }]).split('[CLS] hi', 'text'); // [{ start: 0, end: 8, id: -1 }]
   */
  split(text: string, mode: SpecialMode = 'allow'): Segment[] {
    const re = this.list.length ? this.#pattern(mode) : null;
    if (re === null) return [{ start: 0, end: text.length, id: -1 }];
    const out: Segment[] = [];
    let last = 0;
    re.lastIndex = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      const tok = this.#byContent.get(m[0])!;
      let s = m.index, e = s + m[0].length;
      if (tok.singleWord && ((s > 0 && WORD.test(text[s - 1]!)) || (e < text.length && WORD.test(text[e]!)))) {
        re.lastIndex = s + 1;
        continue;
      }
      if (tok.special && mode === 'error') {
        throw new TokenError(`encode: the text holds the special token ${JSON.stringify(tok.content)} at position ${s}; pass { special: 'allow' } to encode it as id ${tok.id}, or { special: 'text' } to encode it as plain text`);
      }
      if (tok.lstrip) while (s > last && /\s/u.test(text[s - 1]!)) s--;
      if (tok.rstrip) while (e < text.length && /\s/u.test(text[e]!)) e++;
      if (s > last) out.push({ start: last, end: s, id: -1 });
      out.push({ start: s, end: e, id: tok.id });
      last = e;
      re.lastIndex = e;
    }
    if (last < text.length || out.length === 0) out.push({ start: last, end: text.length, id: -1 });
    return out;
  }
}
