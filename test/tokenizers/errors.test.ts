// Bad input gets a TokenizerFormatError (a TokenError) naming the file and the field, line or
// token at fault; bad ids in decode get a TokenError naming the id and its position.
import { describe, expect, it } from 'vitest';
import { TokenError, TokenizerFormatError } from '../../src/errors.js';
import { BPETokenizer } from '../../src/tokenizers/bpe.js';
import { BYTE_TO_CHAR } from '../../src/tokenizers/bytes.js';
import { tokenizerFromHuggingFace } from '../../src/tokenizers/hf-tokenizer.js';
import { loadTokenizer } from '../../src/tokenizers/load.js';
import { WordPieceTokenizer } from '../../src/tokenizers/wordpiece.js';
import { bert, gpt2 } from './fixtures.js';

/** A small byte-level vocab.json: the 256 byte tokens, then `extra`. */
function vocabJson(extra: string[] = []): Record<string, number> {
  const v: Record<string, number> = {};
  [...BYTE_TO_CHAR, ...extra].forEach((t, i) => (v[t] = i));
  return v;
}

/** The TokenizerFormatError `fn` throws. */
function formatError(fn: () => unknown): TokenizerFormatError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TokenizerFormatError);
    expect(err).toBeInstanceOf(TokenError);
    return err as TokenizerFormatError;
  }
  throw new Error('expected a TokenizerFormatError, nothing was thrown');
}

const bpeJson = (patch: (j: Record<string, any>) => void = () => {}) => {
  const j: Record<string, any> = {
    added_tokens: [], normalizer: null, pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false }, post_processor: null, decoder: { type: 'ByteLevel' },
    model: { type: 'BPE', vocab: vocabJson(['he', 'hel']), merges: ['h e', 'he l'] },
  };
  patch(j);
  return j;
};

describe('tokenizer errors', () => {
  it('GPT-2 files: malformed JSON, bad merges.txt lines, merges of unknown tokens', () => {
    const ok = '#version: 0.2\nh e\n';
    let e = formatError(() => BPETokenizer.fromVocabAndMerges('{"a": 0,', ok));
    expect(e.file).toBe('vocab.json');
    expect(e.message).toMatch(/^vocab\.json: \(top level\): not valid JSON/);
    e = formatError(() => BPETokenizer.fromVocabAndMerges(vocabJson(['he']), '#version: 0.2\nh e\nx\n'));
    expect(e.message).toBe('merges.txt: line 3: expected "left right" (two tokens and one space), got "x"');
    e = formatError(() => BPETokenizer.fromVocabAndMerges(vocabJson(['he']), '#version: 0.2\nh e\nhe zz\n'));
    expect(e.where).toBe('line 3');
    expect(e.message).toMatch(/merge "he zz": token "zz" is not in the vocabulary/);
    e = formatError(() => BPETokenizer.fromVocabAndMerges(vocabJson(['he']), '#version: 0.2\nh e\nhe l\n'));
    expect(e.message).toMatch(/line 3: merge "he l": the merged token "hel" is not in the vocabulary/);
    expect(BPETokenizer.fromVocabAndMerges(vocabJson(['he']), ok).encode('hehe').length).toBe(2);
  });

  it('vocabularies: repeated ids, gaps, missing byte tokens, repeated tokens', () => {
    let e = formatError(() => BPETokenizer.fromVocabAndMerges({ ...vocabJson(), extra: 36 }, ''));
    expect(e.message).toBe('vocab.json: extra: id 36 is also given to "$"; each id must name one token');
    e = formatError(() => BPETokenizer.fromVocabAndMerges({ ...vocabJson(), extra: 300 }, ''));
    expect(e.message).toMatch(/ids are not contiguous: 257 tokens, the largest id is 300, and no token has id 256/);
    e = formatError(() => BPETokenizer.fromVocabAndMerges({ a: 0, b: 1 }, ''));
    expect(e.message).toMatch(/needs all 256 byte tokens; "Ā" \(byte 0x00\) is missing/);
    e = formatError(() => BPETokenizer.fromVocabAndMerges({ ...vocabJson(), x: -1 }, ''));
    expect(e.message).toMatch(/x: expected a non-negative integer id, got -1/);
    e = formatError(() => new BPETokenizer({ vocab: [...BYTE_TO_CHAR, 'a'], merges: [] }));
    expect(e.message).toMatch(/BPE config: vocab\[256\]: token "a" repeats id 97/);
    e = formatError(() => WordPieceTokenizer.fromVocabTxt('[UNK]\na\nb\na\n'));
    expect(e.message).toBe('vocab.txt: line 4: token "a" repeats line 2');
    e = formatError(() => WordPieceTokenizer.fromVocabTxt('[UNK]\n\nb\n'));
    expect(e.message).toBe('vocab.txt: line 2: empty token');
    e = formatError(() => WordPieceTokenizer.fromVocabTxt('a\nb\n'));
    expect(e.message).toMatch(/the unknown token "\[UNK\]" is not in the vocabulary/);
  });

  it('tokenizer.json: unsupported model types, normalizers, pre-tokenizers, decoders and post-processors are named', () => {
    expect(tokenizerFromHuggingFace(bpeJson()).encode('hello').length).toBe(3); // the baseline loads: 'hel', 'l', 'o'
    const cases: [(j: Record<string, any>) => void, RegExp][] = [
      [(j) => (j.model.type = 'Unigram'), /model\.type: model type "Unigram" is not supported/],
      [(j) => (j.model = { type: 'WordLevel', vocab: {} }), /model type "WordLevel" is not supported/],
      [(j) => (j.normalizer = { type: 'Precompiled', precompiled_charsmap: '' }), /normalizer\.type: normalizer "Precompiled" is not supported/],
      [(j) => (j.normalizer = { type: 'Sequence', normalizers: [{ type: 'NFC' }, { type: 'Replace' }] }), /normalizer\.normalizers\[1\]\.type: normalizer "Replace"/],
      [(j) => (j.pre_tokenizer = { type: 'Metaspace', replacement: '▁' }), /pre_tokenizer\.type: pre_tokenizer "Metaspace" is not supported for BPE/],
      [(j) => (j.pre_tokenizer = null), /needs a ByteLevel pre_tokenizer/],
      [(j) => (j.pre_tokenizer = { type: 'Sequence', pretokenizers: [{ type: 'Split', pattern: { Regex: '\\s' }, behavior: 'Removed' }, { type: 'ByteLevel' }] }), /Split with behavior "Removed" is not supported/],
      [(j) => (j.pre_tokenizer = { type: 'Sequence', pretokenizers: [{ type: 'Split', pattern: { Regex: "(?i:'s)" }, behavior: 'Isolated' }, { type: 'ByteLevel' }] }), /is not a JavaScript regex/],
      [(j) => (j.decoder = { type: 'Metaspace' }), /decoder\.type: decoder "Metaspace" is not supported with this model \(supported: ByteLevel\)/],
      [(j) => (j.post_processor = { type: 'Weird' }), /post_processor\.type: post_processor "Weird" is not supported/],
      [(j) => (j.model.byte_fallback = true), /model\.byte_fallback: byte_fallback is not supported/],
      [(j) => (j.model.dropout = 0.1), /model\.dropout: BPE dropout is not supported/],
      [(j) => (j.model.merges = ['h e', 'he zz']), /tokenizer\.json: model\.merges\[1\]: merge "he zz": token "zz" is not in the vocabulary/],
      [(j) => (j.model.merges = ['h e', 'he x']), /model\.merges\[1\]: merge "he x": the merged token "hex" is not in the vocabulary/],
      [(j) => (j.model.merges = ['h e', ['he']]), /model\.merges\[1\]: expected "left right" or \[left, right\]/],
      [(j) => (j.added_tokens = [{ id: 256, content: '<s>', special: true }]), /added_tokens\[0\]: "<s>" has id 256, which model\.vocab gives to "he"/],
      [(j) => (j.added_tokens = [{ id: 300, content: '<s>', special: true }]), /ids are not contiguous/],
      [(j) => (j.model.vocab = []), /model\.vocab: expected an object, got \[\]/],
    ];
    for (const [patch, re] of cases) expect(() => tokenizerFromHuggingFace(bpeJson(patch)), re.source).toThrow(re);
    const wp = (patch: (j: Record<string, any>) => void) => {
      const j: Record<string, any> = { normalizer: { type: 'BertNormalizer' }, pre_tokenizer: { type: 'BertPreTokenizer' }, model: { type: 'WordPiece', unk_token: '[UNK]', vocab: { '[UNK]': 0, a: 1 } } };
      patch(j);
      return j;
    };
    expect(tokenizerFromHuggingFace(wp(() => {})).encode('a b').length).toBe(2);
    expect(() => tokenizerFromHuggingFace(wp((j) => (j.pre_tokenizer = { type: 'Digits' })))).toThrow(/pre_tokenizer "Digits" is not supported for WordPiece/);
    expect(() => tokenizerFromHuggingFace(wp((j) => (j.decoder = { type: 'ByteLevel' })))).toThrow(/decoder "ByteLevel" is not supported with this model \(supported: WordPiece\)/);
    expect(() => tokenizerFromHuggingFace(wp((j) => (j.model.unk_token = '<unk>')))).toThrow(/unknown token "<unk>" is not in the vocabulary/);
    expect(() => tokenizerFromHuggingFace('{"model": ')).toThrow(/^tokenizer\.json: \(top level\): not valid JSON/);
    expect(() => tokenizerFromHuggingFace('[]')).toThrow(/expected an object, got \[\]/);
  });

  it('saved tokenizers: unknown types and fields, wrong versions', () => {
    expect(() => loadTokenizer('{"type": "sentencepiece-bpe"}')).toThrow(/saved tokenizer: type: unknown tokenizer type "sentencepiece-bpe" \(known: 'char', 'bpe', 'wordpiece', 'unigram'/);
    expect(() => loadTokenizer('{"type": "unigram"}')).toThrow(/saved tokenizer: version: expected 1/);
    expect(() => loadTokenizer('not json')).toThrow(/saved tokenizer: \(top level\): not valid JSON/);
    const saved = JSON.parse(bert().save());
    expect(() => loadTokenizer({ ...saved, extra: 1 })).toThrow(/saved tokenizer: extra: unknown field/);
    expect(() => loadTokenizer({ ...saved, version: 2 })).toThrow(/saved tokenizer: version: expected 1, got 2/);
    expect(() => loadTokenizer({ ...saved, vocab: ['[UNK]', 'a', 'a'] })).toThrow(/vocab\[2\]: token "a" repeats id 1/);
    expect(() => loadTokenizer({ type: 'char', vocab: ['a', 'a'] })).toThrow(TokenError);
  });

  it('decode names an id out of range and its position', () => {
    const tok = gpt2();
    expect(() => tok.decode([15496, 50257])).toThrow(/BPETokenizer\.decode: id 50257 at position 1 is outside \[0, 50257\)/);
    expect(() => tok.decode([-1])).toThrow(/id -1 at position 0 is outside/);
    expect(() => tok.decode([1, 0.5])).toThrow(/id 0\.5 at position 1 is not an integer in \[0, 50257\)/);
    expect(() => tok.decode([NaN])).toThrow(TokenError);
    expect(() => bert().decode([0, 1, 99999])).toThrow(/WordPieceTokenizer\.decode: id 99999 at position 2/);
    expect(() => tok.encode(undefined as unknown as string)).toThrow(/expected a string, got undefined/);
  });
});
