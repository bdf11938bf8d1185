// Byte-level BPE against GPT-2's real vocabulary: the ids of js-tiktoken's r50k_base (GPT-2's
// encoding) on over 1 MB of real text, exact decoding, GPT-2's pre-tokenization regex, special
// tokens, save/load, and gpt-3-encoder's ids on a sample.
import { describe, expect, it } from 'vitest';
import { encode as gpt3Encode } from 'gpt-3-encoder';
import { TokenError } from '../../src/errors.js';
import { BPETokenizer } from '../../src/tokenizers/bpe.js';
import { BYTE_TO_CHAR } from '../../src/tokenizers/bytes.js';
import { loadTokenizer } from '../../src/tokenizers/load.js';
import { GPT2_PATTERN, PiecePattern } from '../../src/tokenizers/pretokenize.js';
import { book, firstDifference, gpt2, gpt2Files, MULTILINGUAL, realText, rng, tiktoken } from './fixtures.js';

describe('byte-level BPE with GPT-2 vocabulary', () => {
  it("gives js-tiktoken r50k_base's ids on > 1 MB of real text, and decodes it back exactly", () => {
    const text = realText();
    expect(new TextEncoder().encode(text).length).toBeGreaterThan(1_000_000);
    const ours = gpt2().encode(text);
    const theirs = tiktoken().encode(text);
    const at = firstDifference(ours, theirs);
    expect(at, `first difference at token ${at}: ours ${ours.slice(Math.max(0, at - 3), at + 3)}, r50k ${theirs.slice(Math.max(0, at - 3), at + 3)}`).toBe(-1);
    expect(ours.length).toBe(theirs.length);
    expect(gpt2().decode(ours)).toBe(text);
  });

  it('agrees with r50k on multilingual text and seeded random strings of tricky characters', () => {
    const tok = gpt2(), tt = tiktoken();
    expect([...tok.encode(MULTILINGUAL)]).toEqual(tt.encode(MULTILINGUAL));
    const alphabet = ['a', 'Z', 'é', '1', '٣', "'", 's', 're', ' ', '  ', '\n', '\t', '\r\n', '\u00a0', '\u3000', '!', '.', '😀', '𝔘', '中', '’', '_', 'x\u0301', '\ufeff', '\u2028'];
    const r = rng(3);
    for (let t = 0; t < 2000; t++) {
      let s = '';
      for (let k = 1 + Math.floor(r() * 16); k > 0; k--) s += alphabet[Math.floor(r() * alphabet.length)];
      expect([...tok.encode(s)], JSON.stringify(s)).toEqual(tt.encode(s));
      expect(tok.decode(tok.encode(s))).toBe(s);
    }
  });

  it('knows published GPT-2 ids', () => {
    const tok = gpt2();
    expect(tok.vocabSize).toBe(50257);
    expect(tok.mergeCount).toBe(50000);
    expect([...tok.encode('Hello world')]).toEqual([15496, 995]);
    expect([...tok.encode(' the')]).toEqual([262]);
    expect(tok.tokenToId('Ġthe')).toBe(262);
    expect(tok.idToToken(50256)).toBe('<|endoftext|>');
    expect(tok.idToToken(50257)).toBeUndefined();
    expect([...tok.encode('')]).toEqual([]);
    expect(tok.decode([])).toBe('');
  });

  it("matches gpt-3-encoder's own encoder on a sample (its encode is quadratic, so a short one)", () => {
    const sample = book('austen-persuasion').slice(0, 20_000) + MULTILINGUAL.slice(0, 300);
    expect([...gpt2().encode(sample)]).toEqual(gpt3Encode(sample));
  });

  it('splits text exactly as the GPT-2 regex (u flag) does', () => {
    const re = new RegExp(GPT2_PATTERN, 'gu');
    const p = new PiecePattern(GPT2_PATTERN);
    for (const text of [MULTILINGUAL, book('carroll-alice').slice(0, 30_000), "it's  a  test\n\n  x  \t\n", ' ', '  ', "'", "''s", ' \u00a0x']) {
      expect(p.pieces(text)).toEqual([...text.matchAll(re)].map((m) => m[0]));
    }
    // a custom pattern runs as a regex, and the text between matches forms pieces too
    expect(new PiecePattern('\\d+').pieces('ab12cd3')).toEqual(['ab', '12', 'cd', '3']);
  });

  it('handles long words (the heap path) and long white-space runs as r50k does', () => {
    const tok = gpt2(), tt = tiktoken();
    // (r50k's merge loop is quadratic in a word's length, so these stay a few thousand bytes)
    for (const s of ['a'.repeat(2000), '1234567890'.repeat(150), ' '.repeat(1500) + 'x', 'ab'.repeat(800), '🤖'.repeat(300), 'x' + '\n'.repeat(1000)]) {
      expect([...tok.encode(s)]).toEqual(tt.encode(s));
      expect(tok.decode(tok.encode(s))).toBe(s);
    }
  });

  it('encodes special tokens as allowed, as text, or refuses them', () => {
    const tok = gpt2(), tt = tiktoken();
    const text = 'Hello<|endoftext|> world';
    expect([...tok.encode(text)]).toEqual([15496, 50256, 995]);
    expect([...tok.encode(text)]).toEqual(tt.encode(text, 'all'));
    expect([...tok.encode(text, { special: 'text' })]).toEqual(tt.encode(text, [], []));
    expect([...tok.encode(text, { special: ['<|endoftext|>'] })]).toEqual([15496, 50256, 995]);
    expect([...tok.encode(text, { special: [] })]).toEqual(tt.encode(text, [], []));
    expect(() => tok.encode(text, { special: 'error' })).toThrow(TokenError);
    expect(() => tok.encode(text, { special: 'error' })).toThrow(/special token "<\|endoftext\|>" at position 5/);
    expect(tok.decode([15496, 50256, 995])).toBe(text);
    expect(tok.decode([15496, 50256, 995], { skipSpecialTokens: true })).toBe('Hello world');
    expect([...tok.specialTokens]).toEqual([['<|endoftext|>', 50256]]);
    expect(tok.padId).toBe(0);
  });

  it('decodes bytes that do not form UTF-8 as U+FFFD, as r50k does; lone surrogates encode as U+FFFD', () => {
    const tok = gpt2();
    const robot = [...tok.encode('🤖')]; // four bytes in more than one token
    expect(robot.length).toBeGreaterThan(1);
    expect(tok.decode(robot.slice(0, 1))).toBe('\ufffd');
    expect(tok.decode(robot.slice(0, 1))).toBe(tiktoken().decode(robot.slice(0, 1)));
    expect([...tok.encode('a\ud800b')]).toEqual(tiktoken().encode('a\ud800b'));
    expect(tok.decode(tok.encode('a\ud800b'))).toBe('a\ufffdb');
  });

  it('saves to JSON and loads back the same ids; loadTokenizer dispatches on the type', () => {
    const tok = gpt2();
    const json = tok.save();
    const obj = JSON.parse(json);
    expect(obj.type).toBe('bpe');
    expect(obj.vocab.length).toBe(50257);
    const back = BPETokenizer.load(json);
    const viaAny = loadTokenizer(json);
    expect(viaAny).toBeInstanceOf(BPETokenizer);
    const text = book('carroll-alice').slice(0, 50_000) + MULTILINGUAL + '<|endoftext|>';
    const ids = tok.encode(text);
    expect(back.encode(text)).toEqual(ids);
    expect((viaAny as BPETokenizer).encode(text)).toEqual(ids);
    expect(back.decode(ids)).toBe(text);
    expect(back.save()).toBe(json);
  });

  it('builds from the parsed vocab.json object too, and with add_prefix_space', () => {
    const { vocabJson, mergesTxt } = gpt2Files();
    const tok = BPETokenizer.fromVocabAndMerges(JSON.parse(vocabJson), mergesTxt, { addPrefixSpace: true });
    expect([...tok.encode('Hello world')]).toEqual([18435, 995]); // 'ĠHello', 'Ġworld'
    expect([...tok.encode(' Hello')]).toEqual([18435]);             // already starts with a space
    expect(tok.decode(tok.encode('Hello'))).toBe(' Hello');
  });

  it('keeps the byte table GPT-2 publishes', () => {
    expect(BYTE_TO_CHAR[0x20]).toBe('Ġ');
    expect(BYTE_TO_CHAR[0x0a]).toBe('Ċ');
    expect(BYTE_TO_CHAR[0x00]).toBe('Ā');
    expect(BYTE_TO_CHAR[0xad]).toBe('ŃĀ'.charAt(0)); // the last of the 68 remapped bytes, U+0143
    expect(BYTE_TO_CHAR[0x41]).toBe('A');
    expect(new Set(BYTE_TO_CHAR).size).toBe(256);
  });
});
