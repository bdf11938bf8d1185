// Training a byte-level BPE: deterministic (same text → same merges), the stated tie rule, exact
// round trips of any text, compression, special tokens, save/load, and the incremental pair counts
// agreeing with a recount from scratch.
import { describe, expect, it } from 'vitest';
import { TokenError } from '../../src/errors.js';
import { BPETokenizer } from '../../src/tokenizers/bpe.js';
import { trainBPE } from '../../src/tokenizers/bpe-train.js';
import { BYTE_TO_CHAR } from '../../src/tokenizers/bytes.js';
import { loadTokenizer } from '../../src/tokenizers/load.js';
import { GPT2_PATTERN, PiecePattern } from '../../src/tokenizers/pretokenize.js';
import { book, MULTILINGUAL, rng, sprinkle } from './fixtures.js';

const training = book('carroll-alice') + book('shakespeare-caesar');

/** The merges a slow, obviously correct trainer picks: recount every pair of every word before each merge. */
function referenceMerges(text: string, merges: number): string[] {
  const counts = new Map<string, number>();
  for (const p of new PiecePattern(GPT2_PATTERN).pieces(text)) counts.set(p, (counts.get(p) ?? 0) + 1);
  const words = [...counts].map(([w, c]) => ({ syms: [...new TextEncoder().encode(w)], c }));
  const names: string[] = BYTE_TO_CHAR.slice();
  const ids = new Map(names.map((n, i) => [n, i]));
  const out: string[] = [];
  for (let m = 0; m < merges; m++) {
    const pairs = new Map<string, { a: number; b: number; n: number }>();
    for (const { syms, c } of words) {
      for (let k = 0; k + 1 < syms.length; k++) {
        const key = `${syms[k]},${syms[k + 1]}`;
        const e = pairs.get(key) ?? { a: syms[k]!, b: syms[k + 1]!, n: 0 };
        e.n += c;
        pairs.set(key, e);
      }
    }
    let best: { a: number; b: number; n: number } | undefined;
    for (const e of pairs.values()) {
      if (!best || e.n > best.n || (e.n === best.n && (e.a < best.a || (e.a === best.a && e.b < best.b)))) best = e;
    }
    if (!best || best.n < 2) break;
    const name = names[best.a]! + names[best.b]!;
    let t = ids.get(name);
    if (t === undefined) { t = names.length; names.push(name); ids.set(name, t); }
    out.push(`${names[best.a]} ${names[best.b]}`);
    for (const w of words) {
      const s: number[] = [];
      for (let k = 0; k < w.syms.length; k++) {
        if (k + 1 < w.syms.length && w.syms[k] === best.a && w.syms[k + 1] === best.b) { s.push(t); k++; } else s.push(w.syms[k]!);
      }
      w.syms = s;
    }
  }
  return out;
}

describe('trainBPE', () => {
  it('is deterministic and reaches the target size: 256 bytes, then merges, then special tokens', () => {
    const a = trainBPE(training, { vocabSize: 1000, specialTokens: ['<|endoftext|>', '<|pad|>'] });
    const b = trainBPE(training, { vocabSize: 1000, specialTokens: ['<|endoftext|>', '<|pad|>'] });
    expect(a.save()).toBe(b.save());
    expect(a.vocabSize).toBe(1000);
    expect(a.idToToken(0)).toBe(BYTE_TO_CHAR[0]);
    expect(a.idToToken(255)).toBe(BYTE_TO_CHAR[255]);
    expect(a.idToToken(998)).toBe('<|endoftext|>');
    expect(a.idToToken(999)).toBe('<|pad|>');
    expect([...a.specialTokens]).toEqual([['<|endoftext|>', 998], ['<|pad|>', 999]]);
    expect(a.mergeCount).toBeGreaterThanOrEqual(998 - 256);
  });

  it('picks the same merges as a recount from scratch before every merge (ties: smaller left id, then right id)', () => {
    const text = book('blake-poems').slice(0, 30_000);
    const tok = trainBPE(text, { vocabSize: 256 + 120 });
    expect(tok.merges.map(([x, y]) => `${x} ${y}`)).toEqual(referenceMerges(text, 120));
    // a hand-made tie: 'ab' and 'cd' both occur twice; (a, b) has the smaller left id, so it goes first
    expect(trainBPE('ab\ncd\nab\ncd', { vocabSize: 258 }).merges).toEqual([['a', 'b'], ['c', 'd']]);
    expect(trainBPE('cd\nab\ncd\nab', { vocabSize: 258 }).merges).toEqual([['a', 'b'], ['c', 'd']]); // text order does not matter
    // with spaces: ' c' is (Ġ, c), and Ġ (byte 0x20) has a smaller id than 'a'
    expect(trainBPE('ab cd ab cd', { vocabSize: 257 }).merges).toEqual([['Ġ', 'c']]);
  });

  it('round-trips any text exactly and compresses text like its training text', () => {
    const tok = trainBPE(training, { vocabSize: 2000, specialTokens: ['<|endoftext|>'] });
    for (const text of [book('carroll-alice').slice(0, 40_000), MULTILINGUAL, sprinkle(book('austen-emma').slice(0, 20_000), 5), '', ' ', '\u0000\uffff\ud800x', '<|endoftext|>a<|endoftext|>']) {
      expect(tok.decode(tok.encode(text))).toBe(text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd'));
    }
    const held = book('carroll-alice').slice(100_000, 140_000); // seen in training, still a fair check
    const unseen = book('austen-emma').slice(0, 100_000);
    for (const text of [held, unseen]) {
      const bytes = new TextEncoder().encode(text).length;
      expect(tok.encode(text).length).toBeLessThan(bytes / 2.5); // 2,000 ids: ~3 bytes per token on English prose
    }
    const r = rng(5);
    for (let t = 0; t < 200; t++) {
      const s = String.fromCodePoint(...Array.from({ length: 1 + Math.floor(r() * 12) }, () => Math.floor(r() * 0x2ffff) % 0xd800));
      expect(tok.decode(tok.encode(s))).toBe(s);
    }
  });

  it('never learns from special tokens in the text, and they encode as one id', () => {
    const text = 'one<|endoftext|>two<|endoftext|>three<|endoftext|>'.repeat(50);
    const tok = trainBPE(text, { vocabSize: 300, specialTokens: ['<|endoftext|>'] });
    expect(tok.merges.some(([x, y]) => (x + y).includes('|'))).toBe(false);
    expect([...tok.encode('<|endoftext|>')]).toEqual([tok.vocabSize - 1]);
  });

  it('saves, loads (BPETokenizer.load and loadTokenizer) and gives the same ids', () => {
    const tok = trainBPE(training, { vocabSize: 700, specialTokens: ['<|endoftext|>'] });
    const json = tok.save();
    const back = BPETokenizer.load(json);
    const any = loadTokenizer(JSON.parse(json));
    const text = book('austen-persuasion').slice(0, 30_000) + MULTILINGUAL;
    expect(back.encode(text)).toEqual(tok.encode(text));
    expect((any as BPETokenizer).encode(text)).toEqual(tok.encode(text));
    expect(back.decode(back.encode(text))).toBe(text);
  });

  it('stops early when no pair occurs minFrequency times, and reports progress', () => {
    const tok = trainBPE('abcdefg', { vocabSize: 400 });
    expect(tok.vocabSize).toBe(256);
    expect(trainBPE('abcdefg', { vocabSize: 400, minFrequency: 1 }).vocabSize).toBe(256 + 6);
    const seen: number[] = [];
    trainBPE(training, { vocabSize: 456, onProgress: (n) => seen.push(n) });
    expect(seen.length).toBeGreaterThan(10);
    expect(seen).toEqual([...seen].sort((x, y) => x - y));
  });

  it('trains on several texts without joining them', () => {
    const one = trainBPE(['ab', 'ab'], { vocabSize: 257 });
    expect(one.merges).toEqual([['a', 'b']]);
    expect(trainBPE(['a', 'b'], { vocabSize: 257, minFrequency: 1 }).vocabSize).toBe(256); // no pair spans the two
  });

  it('names bad options', () => {
    expect(() => trainBPE('x', { vocabSize: 100 })).toThrow(TokenError);
    expect(() => trainBPE('x', { vocabSize: 256, specialTokens: ['<s>'] })).toThrow(/vocabSize 256 is below the 256 byte tokens \+ 1 special tokens/);
    expect(() => trainBPE('x', { vocabSize: 300, specialTokens: ['<s>', '<s>'] })).toThrow(/distinct non-empty strings/);
    expect(() => trainBPE([7 as unknown as string], { vocabSize: 300 })).toThrow(/expected text strings, got number/);
  });
});
