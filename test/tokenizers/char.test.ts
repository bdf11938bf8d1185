// CharTokenizer: code-point vocabularies (emoji, accents, astral characters sorted by code
// point), nanoGPT's shakespeare_char ids, round trips on real prose, JSON save/load, errors.
import { describe, expect, it } from 'vitest';
import { TokenError } from '../../src/index.js';
import { CharTokenizer } from '../../src/tokenizers/char.js';
import { loadCorpus } from '../helpers/corpus.js';

// nanoGPT's data/shakespeare_char vocabulary: 65 characters, in this order (ids 0..64).
const SHAKESPEARE_CHARS = "\n !$&',-.3:;?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

describe('CharTokenizer', () => {
  it('round-trips text with accents, emoji and astral characters, one token per code point', () => {
    const text = 'Crème brûlée for Zoë 🍮😀 — naïve café; 𝔘𝔫𝔦𝔠𝔬𝔡𝔢, Ω ≈ ∞.\n';
    const tok = CharTokenizer.fromText(text);
    const ids = tok.encode(text);
    expect(ids.length).toBe([...text].length);
    expect(ids.length).toBeLessThan(text.length); // emoji and 𝔘 are two UTF-16 units each
    expect(tok.decode(ids)).toBe(text);
    expect(tok.vocab).toContain('😀');
    // Sorted by code point, not UTF-16 unit: '∞' (U+221E) before '𝔘' (U+1D518) before '🍮' (U+1F36E).
    const cps = tok.vocab.map((c) => c.codePointAt(0)!);
    expect(cps).toEqual([...cps].sort((a, b) => a - b));
    expect(tok.vocab.indexOf('∞')).toBeLessThan(tok.vocab.indexOf('𝔘'));
    expect(tok.vocab.indexOf('𝔘')).toBeLessThan(tok.vocab.indexOf('🍮'));
    expect(tok.vocab.slice(-2)).toEqual(['🍮', '😀']);
  });

  it("gives nanoGPT's shakespeare_char vocabulary and ids on a text with its 65 characters", () => {
    const sample =
      'First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n\n' +
      "MENENIUS:\nWhy, masters, my good friends, mine honest neighbours,\nWill you undo yourselves?\n\n" +
      "KING RICHARD III:\nNow is the winter of our discontent -- made glorious summer; & so $ ? !\n" +
      "Enter 3 Murderers. PROSPERO: 'Tis the jest of XANTHIPPE.\n" +
      'QUICKLY, JOVIAL ZEBRA: quiz of vexing, waxy bumpkins.\n';
    const tok = CharTokenizer.fromText(sample);
    expect(tok.vocabSize).toBe(65);
    expect(tok.vocab.join('')).toBe(SHAKESPEARE_CHARS);
    expect([...tok.encode('\n !A Za z')]).toEqual([0, 1, 2, 13, 1, 38, 39, 1, 64]);
    expect(tok.decode(tok.encode(sample))).toBe(sample);
  });

  it('round-trips the whole prose corpus', () => {
    const text = loadCorpus();
    const tok = CharTokenizer.fromText(text);
    const ids = tok.encode(text);
    expect(ids.length).toBe(text.length); // ASCII: one unit per character
    expect(Math.max(...ids.subarray(0, 10_000))).toBeLessThan(tok.vocabSize);
    expect(tok.decode(ids)).toBe(text);
  });

  it('saves to JSON and loads back the same ids', () => {
    const tok = CharTokenizer.fromText('héllo wörld 👋');
    const json = tok.save();
    expect(JSON.parse(json)).toEqual({ type: 'char', vocab: tok.vocab });
    expect(tok.toJSON()).toEqual({ type: 'char', vocab: [' ', 'd', 'h', 'l', 'o', 'r', 'w', 'é', 'ö', '👋'] });
    const back = CharTokenizer.load(json);
    expect(back.vocab).toEqual(tok.vocab);
    expect(back.encode('wörld 👋')).toEqual(tok.encode('wörld 👋'));
    // A stored vocabulary keeps its order: ids are positions, whatever the order.
    expect([...CharTokenizer.fromJSON({ type: 'char', vocab: ['b', 'a'] }).encode('ab')]).toEqual([1, 0]);
  });

  it('names the unknown character, its code point and its position', () => {
    const tok = CharTokenizer.fromText('abc');
    expect(() => tok.encode('ab😀c')).toThrow(TokenError);
    expect(() => tok.encode('ab😀c')).toThrow(/character "😀" \(U\+1F600\) at position 2 is not in the vocabulary of 3 characters/);
    // Positions count code points: 'd' is UTF-16 unit 3 but character 2.
    expect(() => CharTokenizer.fromText('a😀').encode('😀ad')).toThrow(/character "d" \(U\+0064\) at position 2 .* of 2 characters/);
    expect(tok.encode('')).toEqual(new Int32Array(0));
  });

  it('names the bad id and its position on decode', () => {
    const tok = CharTokenizer.fromText('abc');
    expect(() => tok.decode([0, 3])).toThrow(/id 3 at position 1 is outside \[0, 3\)/);
    expect(() => tok.decode([-1])).toThrow(/id -1 at position 0 is outside/);
    expect(() => tok.decode([1, 2, 1.5])).toThrow(/id 1\.5 at position 2 is not an integer in \[0, 3\)/);
    expect(() => tok.decode([NaN])).toThrow(TokenError);
    expect(tok.decode(new Int32Array([2, 1, 0]))).toBe('cba');
  });

  it('validates vocabularies from JSON and text', () => {
    expect(() => CharTokenizer.fromText('')).toThrow(/text is empty/);
    expect(() => CharTokenizer.fromJSON({ type: 'char', vocab: ['a', 'b', 'a'] })).toThrow(/entry 2 "a" \(U\+0061\) repeats entry 0/);
    expect(() => CharTokenizer.fromJSON({ type: 'char', vocab: ['a', ''] })).toThrow(/entry 1 is empty/);
    expect(() => CharTokenizer.fromJSON({ type: 'char', vocab: ['ab'] })).toThrow(/entry 0 is "ab" \(2 characters\)/);
    expect(() => CharTokenizer.fromJSON({ type: 'char', vocab: [7] })).toThrow(/entry 0 is number 7/);
    expect(() => CharTokenizer.fromJSON({ type: 'bpe', vocab: [] })).toThrow(/type is string "bpe", expected 'char'/);
    expect(() => CharTokenizer.fromJSON({ type: 'char' })).toThrow(/vocab is undefined/);
    expect(() => CharTokenizer.fromJSON([1])).toThrow(TokenError);
    expect(() => CharTokenizer.load('{"type": "char", ')).toThrow(/not valid JSON/);
  });
});
