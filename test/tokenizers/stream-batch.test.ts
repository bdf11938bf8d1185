// Streaming decode across UTF-8 characters split between byte-level tokens, and batch encoding
// with padding, truncation and attention masks (any tokenizer, CharTokenizer included).
import { describe, expect, it } from 'vitest';
import { TokenError } from '../../src/errors.js';
import { CharTokenizer } from '../../src/tokenizers/char.js';
import { encodeBatch } from '../../src/tokenizers/batch.js';
import { Utf8Stream } from '../../src/tokenizers/bytes.js';
import { bert, gpt2, MULTILINGUAL, rng } from './fixtures.js';

describe('streaming decode', () => {
  it('emits only whole characters when a character is split across tokens', () => {
    const tok = gpt2();
    const ids = [...tok.encode('🤖!')];
    expect(ids.length).toBeGreaterThan(2); // the robot's 4 bytes take more than one token
    const d = tok.decoder();
    const pieces = ids.map((id) => d.push(id));
    expect(pieces.slice(0, -2).every((p) => p === '')).toBe(true); // nothing until its last byte
    expect(pieces.join('') + d.flush()).toBe('🤖!');
    expect(pieces.at(-2)).toBe('🤖');
  });

  it('joins to exactly decode(ids) on multilingual text, token by token', () => {
    const tok = gpt2();
    const ids = tok.encode(MULTILINGUAL + '<|endoftext|>after');
    const d = tok.decoder();
    let out = '';
    for (const id of ids) {
      const piece = d.push(id);
      expect(piece.includes('\ufffd')).toBe(false); // never half a character
      out += piece;
    }
    expect(out + d.flush()).toBe(MULTILINGUAL + '<|endoftext|>after');
    const skip = tok.decoder({ skipSpecialTokens: true });
    expect([...ids].map((id) => skip.push(id)).join('') + skip.flush()).toBe(tok.decode(ids, { skipSpecialTokens: true }));
  });

  it('gives U+FFFD at flush for an unfinished character, as decode does, then starts over', () => {
    const tok = gpt2();
    const ids = [...tok.encode('日本🤖')];
    const cut = ids.slice(0, -1);
    const d = tok.decoder();
    const streamed = cut.map((id) => d.push(id)).join('') + d.flush();
    expect(streamed).toBe(tok.decode(cut));
    expect(streamed.endsWith('\ufffd')).toBe(true);
    expect(d.push(tok.encode('x')[0]!)).toBe('x');
  });

  it('matches decode on random id sequences (arbitrary byte soup)', () => {
    const tok = gpt2(), r = rng(11);
    for (let t = 0; t < 200; t++) {
      const ids = Array.from({ length: 1 + Math.floor(r() * 20) }, () => Math.floor(r() * 50257));
      const d = tok.decoder();
      expect(ids.map((id) => d.push(id)).join('') + d.flush()).toBe(tok.decode(ids));
    }
  });

  it('Utf8Stream holds back split bytes', () => {
    const s = new Utf8Stream();
    expect(s.push(new Uint8Array([0xe2, 0x82]))).toBe('');
    expect(s.push(new Uint8Array([0xac, 0x41]))).toBe('€A');
    expect(s.push(new Uint8Array([0xf0]))).toBe('');
    expect(s.flush()).toBe('\ufffd');
  });

  it('names a bad id pushed to a decoder', () => {
    const d = gpt2().decoder();
    d.push(1);
    expect(() => d.push(-1)).toThrow(/id -1 at position 1 is outside \[0, 50257\)/);
    expect(() => gpt2().decoder().push(2.5)).toThrow(TokenError);
  });
});

describe('encodeBatch', () => {
  it('pads to the longest on the right with a mask and lengths', () => {
    const tok = gpt2();
    const texts = ['Hello world, how are you?', 'Hi', ''];
    const b = tok.encodeBatch(texts);
    const rows = texts.map((t) => tok.encode(t));
    expect(b.B).toBe(3);
    expect(b.T).toBe(rows[0]!.length);
    expect([...b.lengths]).toEqual(rows.map((r) => r.length));
    expect([...b.ids.subarray(b.T, b.T + rows[1]!.length)]).toEqual([...rows[1]!]);
    expect([...b.attentionMask.subarray(b.T, 2 * b.T)]).toEqual(Array.from({ length: b.T }, (_, i) => (i < rows[1]!.length ? 1 : 0)));
    expect([...b.ids.subarray(2 * b.T)]).toEqual(new Array(b.T).fill(0)); // GPT-2 has no pad token: 0
    expect([...b.attentionMask.subarray(2 * b.T)].every((m) => m === 0)).toBe(true);
  });

  it('pads on the left, to a fixed length, with a chosen pad id', () => {
    const tok = gpt2();
    const b = tok.encodeBatch(['Hello world', 'Hi'], { padTo: 4, side: 'left', padId: 50256 });
    expect(b.T).toBe(4);
    expect([...b.ids]).toEqual([50256, 50256, 15496, 995, 50256, 50256, 50256, 17250]);
    expect([...b.attentionMask]).toEqual([0, 0, 1, 1, 0, 0, 0, 1]);
  });

  it('truncates on either side, keeping [CLS] and [SEP] when they are added', () => {
    const tok = bert();
    const long = 'the quick brown fox jumps over the lazy dog';
    const b = tok.encodeBatch([long, 'short'], { truncate: 5, addSpecialTokens: true });
    expect(b.T).toBe(5);
    expect([...b.ids.subarray(0, 5)]).toEqual([101, ...tok.encode('the quick brown'), 102]);
    expect([...b.ids.subarray(5)]).toEqual([101, 2460, 102, 0, 0]); // 'short' is one token; [PAD] is 0
    expect([...b.lengths]).toEqual([5, 3]);
    const left = tok.encodeBatch([long], { truncate: 3, truncateSide: 'left' });
    expect([...left.ids]).toEqual([...tok.encode('over the lazy dog')].slice(-3));
  });

  it('works for CharTokenizer through the free function', () => {
    const tok = CharTokenizer.fromText('abc');
    const b = encodeBatch(tok, ['abc', 'a'], { side: 'left' });
    expect([...b.ids]).toEqual([0, 1, 2, 0, 0, 0]);
    expect([...b.attentionMask]).toEqual([1, 1, 1, 0, 0, 1]);
  });

  it('names bad options and texts that do not fit', () => {
    const tok = gpt2();
    expect(() => tok.encodeBatch(['Hello world'], { padTo: 1 })).toThrow(/texts\[0\] has 2 tokens, more than padTo 1; pass truncate: 1/);
    expect(() => tok.encodeBatch(['x'], { padTo: -1 })).toThrow(TokenError);
    expect(() => tok.encodeBatch(['x'], { truncate: 1.5 })).toThrow(/truncate is 1.5/);
    expect(() => tok.encodeBatch(['x'], { side: 'up' as 'left' })).toThrow(/side is up/);
    expect(() => bert().encodeBatch(['x'], { truncate: 1, addSpecialTokens: true })).toThrow(/no room for the 2 special tokens/);
    expect(() => tok.encodeBatch([3 as unknown as string])).toThrow(/texts\[0\] is number/);
  });
});
