// Normalizers (Hugging Face tokenizers' semantics): Unicode normal forms, lowercase, accent
// stripping, strip, and BERT's normalizer — clean text (drop NUL, U+FFFD and control/format/
// unassigned characters except \t \n \r; turn white space into ' '), put spaces around CJK
// ideographs, strip accents (NFD, drop Mn), lowercase — in that order.
import { formatError, Fields, item, type Place } from './json.js';

/** One normalization step, as stored in a saved tokenizer. */
export type NormalizerStep =
  | { type: 'bert'; cleanText: boolean; handleChineseChars: boolean; stripAccents: boolean | null; lowercase: boolean }
  | { type: 'nfc' | 'nfd' | 'nfkc' | 'nfkd' | 'lowercase' | 'stripAccents' }
  | { type: 'strip'; left: boolean; right: boolean };

/**
 * BERT uncased's normalizer (bert-base-uncased's tokenizer.json).
 * @example
 * normalize('Ça VA', [BERT_UNCASED]); // 'ca va'
 */
export const BERT_UNCASED: NormalizerStep = { type: 'bert', cleanText: true, handleChineseChars: true, stripAccents: null, lowercase: true };

const CONTROL = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\u{FFFD}]/u;
const CONTROL_G = /(?![\t\n\r])[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\u{FFFD}]/gu;
const WHITE_G = /\p{White_Space}/gu;
const MN_G = /\p{Mn}/gu;

/**
 * Whether `cp` is a CJK ideograph in BERT's sense (the CJK Unified Ideographs blocks and extensions
 * A–E, and the compatibility ideographs). Hangul, kana and CJK punctuation are not.
 * @example
 * isCjkIdeograph('中'.codePointAt(0)!); // true
 */
export function isCjkIdeograph(cp: number): boolean {
  return (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0x3400 && cp <= 0x4dbf) || (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) || (cp >= 0x2b740 && cp <= 0x2b81f) || (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0x2f800 && cp <= 0x2fa1f);
}

const CJK_G = /[\u{4E00}-\u{9FFF}\u{3400}-\u{4DBF}\u{20000}-\u{2A6DF}\u{2A700}-\u{2CEAF}\u{F900}-\u{FAFF}\u{2F800}-\u{2FA1F}]/gu;

function bert(text: string, s: Extract<NormalizerStep, { type: 'bert' }>): string {
  if (s.cleanText) {
    if (CONTROL.test(text)) text = text.replace(CONTROL_G, '');
    text = text.replace(WHITE_G, ' ');
  }
  if (s.handleChineseChars) text = text.replace(CJK_G, ' $& ');
  if (s.stripAccents ?? s.lowercase) text = stripAccents(text.normalize('NFD'));
  if (s.lowercase) text = text.toLowerCase();
  return text;
}

/** Drops nonspacing marks (Mn); with NFD first, 'é' → 'e'. */
function stripAccents(text: string): string {
  return text.replace(MN_G, '');
}

function hasNonAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) >= 0x80) return true;
  return false;
}

/**
 * `text` through each step in order.
 * @example
 * normalize('Héllo\u00a0WORLD 中文', [BERT_UNCASED]); // 'hello world  中  文 '
 */
export function normalize(text: string, steps: readonly NormalizerStep[]): string {
  for (const s of steps) {
    switch (s.type) {
      case 'bert': text = bert(text, s); break;
      case 'nfc': case 'nfd': case 'nfkc': case 'nfkd':
        if (hasNonAscii(text)) text = text.normalize(s.type.toUpperCase() as 'NFC'); break;
      case 'lowercase': text = text.toLowerCase(); break;
      case 'stripAccents': text = stripAccents(text); break;
      case 'strip': text = s.left && s.right ? text.replace(/^\p{White_Space}+|\p{White_Space}+$/gu, '') : s.left ? text.replace(/^\p{White_Space}+/u, '') : s.right ? text.replace(/\p{White_Space}+$/u, '') : text; break;
    }
  }
  return text;
}

const SIMPLE: Record<string, NormalizerStep['type']> = { NFC: 'nfc', NFD: 'nfd', NFKC: 'nfkc', NFKD: 'nfkd', Lowercase: 'lowercase', StripAccents: 'stripAccents' };

/**
 * The steps of a tokenizer.json `normalizer` (null → none): BertNormalizer, NFC, NFD, NFKC, NFKD,
 * Lowercase, StripAccents, Strip, and Sequence of those. Any other type throws
 * TokenizerFormatError naming it.
 * @example
 * normalizerFromHuggingFace({ type: 'Lowercase' }, { file: 'tokenizer.json', path: 'normalizer' }); // [{ type: 'lowercase' }]
 */
export function normalizerFromHuggingFace(v: unknown, p: Place): NormalizerStep[] {
  if (v === null || v === undefined) return [];
  const f = Fields.of(v, p);
  const type = f.string('type');
  if (type === 'Sequence') {
    const { items, place } = f.array('normalizers');
    return items.flatMap((x, i) => normalizerFromHuggingFace(x, item(place, i)));
  }
  if (type === 'BertNormalizer') {
    return [{ type: 'bert', cleanText: f.boolean('clean_text', true), handleChineseChars: f.boolean('handle_chinese_chars', true), stripAccents: f.booleanOrNull('strip_accents'), lowercase: f.boolean('lowercase', true) }];
  }
  if (type === 'Strip') return [{ type: 'strip', left: f.boolean('strip_left', true), right: f.boolean('strip_right', true) }];
  const simple = SIMPLE[type];
  if (simple) return [{ type: simple } as NormalizerStep];
  throw formatError(f.at('type'), `normalizer ${JSON.stringify(type)} is not supported (supported: BertNormalizer, NFC, NFD, NFKC, NFKD, Lowercase, StripAccents, Strip, Sequence)`);
}

/**
 * The tokenizer.json form of normalizer steps (null for none).
 * @example
 * normalizerToHuggingFace([{ type: 'nfc' }]); // { type: 'NFC' }
 */
export function normalizerToHuggingFace(steps: readonly NormalizerStep[]): object | null {
  const one = (s: NormalizerStep): object => {
    switch (s.type) {
      case 'bert': return { type: 'BertNormalizer', clean_text: s.cleanText, handle_chinese_chars: s.handleChineseChars, strip_accents: s.stripAccents, lowercase: s.lowercase };
      case 'strip': return { type: 'Strip', strip_left: s.left, strip_right: s.right };
      default: return { type: Object.keys(SIMPLE).find((k) => SIMPLE[k] === s.type)! };
    }
  };
  if (steps.length === 0) return null;
  return steps.length === 1 ? one(steps[0]!) : { type: 'Sequence', normalizers: steps.map(one) };
}

/**
 * Saved normalizer steps, checked.
 * @example
 * normalizerSteps([{ type: 'nfc' }], { file: 'saved tokenizer', path: 'normalizer' });
 */
export function normalizerSteps(v: unknown, p: Place): NormalizerStep[] {
  if (!Array.isArray(v)) throw formatError(p, 'expected an array of normalizer steps');
  return v.map((x, i) => {
    const f = Fields.of(x, item(p, i));
    const type = f.string('type');
    if (type === 'bert') return { type, cleanText: f.boolean('cleanText', true), handleChineseChars: f.boolean('handleChineseChars', true), stripAccents: f.booleanOrNull('stripAccents'), lowercase: f.boolean('lowercase', true) };
    if (type === 'strip') return { type, left: f.boolean('left', true), right: f.boolean('right', true) };
    if (Object.values(SIMPLE).includes(type as NormalizerStep['type'])) return { type } as NormalizerStep;
    throw formatError(f.at('type'), `unknown normalizer step ${JSON.stringify(type)}`);
  });
}
