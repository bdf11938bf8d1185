// Hugging Face tokenizer.json: GPT-2's vocabulary and merges in Hugging Face's schema (merges in
// the older "a b" form and the newer [a, b] form; ByteLevel alone or in a Sequence with Split;
// add_prefix_space; a template post-processor) give r50k's ids and those of Hugging Face's own
// pure-JS tokenizers (@huggingface/tokenizers, a second oracle); what we export loads there with
// the same ids.
import { describe, expect, it } from 'vitest';
import { Tokenizer } from '@huggingface/tokenizers';
import { BPETokenizer } from '../../src/tokenizers/bpe.js';
import { GPT2_PATTERN } from '../../src/tokenizers/pretokenize.js';
import { tokenizerFromHuggingFace, toHuggingFace } from '../../src/tokenizers/hf-tokenizer.js';
import { loadTokenizer } from '../../src/tokenizers/load.js';
import { trainBPE } from '../../src/tokenizers/bpe-train.js';
import { book, firstDifference, gpt2Files, MULTILINGUAL, tiktoken } from './fixtures.js';

const { vocabJson, mergesTxt } = gpt2Files();
const vocab = JSON.parse(vocabJson) as Record<string, number>;
const mergeLines = mergesTxt.split('\n').slice(1).filter((l) => l !== '');

/** GPT-2's tokenizer.json as Hugging Face writes it, with the given merges form and pre-tokenizer. */
function gpt2Json(options: { arrays?: boolean; pre?: object; post?: object | null } = {}): Record<string, unknown> {
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    version: '1.0', truncation: null, padding: null,
    added_tokens: [{ id: 50256, content: '<|endoftext|>', single_word: false, lstrip: false, rstrip: false, normalized: true, special: true }],
    normalizer: null,
    pre_tokenizer: options.pre ?? byteLevel,
    post_processor: options.post === undefined ? { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true } : options.post,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false, byte_fallback: false,
      vocab, merges: options.arrays ? mergeLines.map((l) => l.split(' ')) : mergeLines,
    },
  };
}

const sample = book('melville-moby_dick').slice(0, 150_000) + MULTILINGUAL + ' <|endoftext|> The end.';

describe('tokenizer.json (Hugging Face)', () => {
  it('reads GPT-2 with "a b" merges and with [a, b] merges: r50k\'s ids and Hugging Face\'s', () => {
    const hf = new Tokenizer(gpt2Json(), {});
    const expected = tiktoken().encode(sample, 'all');
    for (const arrays of [false, true]) {
      const tok = tokenizerFromHuggingFace(JSON.stringify(gpt2Json({ arrays })));
      expect(tok).toBeInstanceOf(BPETokenizer);
      const ids = tok.encode(sample);
      expect(firstDifference(ids, expected)).toBe(-1);
      expect(firstDifference(ids, hf.encode(sample).ids)).toBe(-1);
      expect(tok.decode(ids)).toBe(sample);
      expect(tok.decode(ids, { skipSpecialTokens: true })).toBe(hf.decode(hf.encode(sample).ids, { skip_special_tokens: true, clean_up_tokenization_spaces: false }));
    }
  });

  it('reads a Sequence of Split (GPT-2 regex) + ByteLevel, and a custom Split pattern', () => {
    const pre = { type: 'Sequence', pretokenizers: [
      { type: 'Split', pattern: { Regex: GPT2_PATTERN }, behavior: 'Isolated', invert: false },
      { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
    ] };
    const tok = tokenizerFromHuggingFace(gpt2Json({ pre }));
    expect(firstDifference(tok.encode(sample), tiktoken().encode(sample, 'all'))).toBe(-1);
    // digits one by one (a pattern that is not GPT-2's runs as a RegExp)
    const digits = { type: 'Sequence', pretokenizers: [
      { type: 'Split', pattern: { Regex: '\\p{N}' }, behavior: 'Isolated', invert: false },
      { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: true },
    ] };
    const json = gpt2Json({ pre: digits });
    const text = 'In 1984, 2024 tokens cost $3.50 each. ' + MULTILINGUAL.slice(0, 400);
    expect([...tokenizerFromHuggingFace(json).encode(text)]).toEqual(new Tokenizer(json, {}).encode(text).ids);
  });

  it('adds the prefix space per segment as Hugging Face does (add_prefix_space)', () => {
    const json = gpt2Json({ pre: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true } });
    const tok = tokenizerFromHuggingFace(json), hf = new Tokenizer(json, {});
    for (const text of ['Hello world', ' Hello', 'Hi<|endoftext|>there', sample.slice(0, 5000)]) {
      expect([...tok.encode(text)], text.slice(0, 30)).toEqual(hf.encode(text).ids);
    }
  });

  it('applies a TemplateProcessing post-processor when asked (BOS/EOS around a text, pairs with type ids)', () => {
    const post = {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<|endoftext|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [{ SpecialToken: { id: '<|endoftext|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '<|endoftext|>', type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { '<|endoftext|>': { id: '<|endoftext|>', ids: [50256], tokens: ['<|endoftext|>'] } },
    };
    const json = gpt2Json({ post });
    const tok = tokenizerFromHuggingFace(json), hf = new Tokenizer(json, {});
    expect([...tok.encode('Hello world', { addSpecialTokens: true })]).toEqual([50256, 15496, 995]);
    expect([...tok.encode('Hello world', { addSpecialTokens: true })]).toEqual(hf.encode('Hello world').ids);
    expect([...tok.encode('Hello world')]).toEqual([15496, 995]);
    const pair = tok.encodePair('Hello', 'world');
    const theirs = hf.encode('Hello', { text_pair: 'world', return_token_type_ids: true });
    expect([...pair.ids]).toEqual(theirs.ids);
    expect([...pair.typeIds]).toEqual(theirs.token_type_ids);
  });

  it('exports tokenizer.json that Hugging Face loads with the same ids (GPT-2 and a trained BPE)', () => {
    const gpt2 = BPETokenizer.fromVocabAndMerges(vocabJson, mergesTxt);
    const out = toHuggingFace(gpt2);
    const hf = new Tokenizer(out, {});
    const text = sample.slice(0, 20_000);
    expect(firstDifference(hf.encode(text).ids, gpt2.encode(text))).toBe(-1);
    expect((tokenizerFromHuggingFace(JSON.stringify(out)) as BPETokenizer).encode(text)).toEqual(gpt2.encode(text));
    expect(loadTokenizer(out)).toBeInstanceOf(BPETokenizer); // a tokenizer.json goes through loadTokenizer too

    const trained = trainBPE(book('carroll-alice'), { vocabSize: 600, specialTokens: ['<|endoftext|>'] });
    const t2 = toHuggingFace(trained);
    const hf2 = new Tokenizer(t2, {});
    const probe = book('austen-sense').slice(0, 20_000) + MULTILINGUAL + '<|endoftext|>';
    expect(firstDifference(hf2.encode(probe).ids, trained.encode(probe))).toBe(-1);
    expect(hf2.decode([...trained.encode(probe)], { clean_up_tokenization_spaces: false })).toBe(probe);
  });

  it('infers the model type of older files without model.type', () => {
    const json = gpt2Json();
    delete (json.model as Record<string, unknown>).type;
    expect([...tokenizerFromHuggingFace(json).encode('Hello world')]).toEqual([15496, 995]);
  });
});
