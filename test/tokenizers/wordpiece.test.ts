// WordPiece with bert-base-uncased's real vocabulary: published tokenizations, the ids of Hugging
// Face's pure-JS tokenizers on a book and multilingual text (from vocab.txt and from a
// tokenizer.json), [CLS]/[SEP] and pairs with token type ids, decoding, save/load.
import { describe, expect, it } from 'vitest';
import { Tokenizer } from '@huggingface/tokenizers';
import { WordPieceTokenizer } from '../../src/tokenizers/wordpiece.js';
import { tokenizerFromHuggingFace, toHuggingFace } from '../../src/tokenizers/hf-tokenizer.js';
import { loadTokenizer } from '../../src/tokenizers/load.js';
import { normalize, BERT_UNCASED } from '../../src/tokenizers/normalize.js';
import { bert, bertVocabTxt, book, firstDifference, MULTILINGUAL } from './fixtures.js';

/** bert-base-uncased's tokenizer.json, in the form Hugging Face writes it. */
function bertJson(): Record<string, unknown> {
  const vocab: Record<string, number> = {};
  bertVocabTxt().split('\n').slice(0, -1).forEach((t, i) => (vocab[t] = i));
  const special = (content: string, id: number) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  return {
    version: '1.0', truncation: null, padding: null,
    added_tokens: [special('[PAD]', 0), special('[UNK]', 100), special('[CLS]', 101), special('[SEP]', 102), special('[MASK]', 103)],
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: '[SEP]', type_id: 1 } }],
      special_tokens: { '[CLS]': { id: '[CLS]', ids: [101], tokens: ['[CLS]'] }, '[SEP]': { id: '[SEP]', ids: [102], tokens: ['[SEP]'] } },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
  };
}

const text = book('austen-emma').slice(0, 200_000) + '\n' + MULTILINGUAL + '\nThe [MASK] sat on the mat. [SEP] Then [CLS]!';

describe('WordPiece (bert-base-uncased)', () => {
  it('gives published tokenizations', () => {
    const tok = bert();
    expect(tok.vocabSize).toBe(30522);
    expect([...tok.encode('Hello, my dog is cute', { addSpecialTokens: true })]).toEqual([101, 7592, 1010, 2026, 3899, 2003, 10140, 102]);
    expect(tok.tokenize('I have a new GPU!')).toEqual(['i', 'have', 'a', 'new', 'gp', '##u', '!']);
    expect([...tok.encode('i like strawberries')]).toEqual([1045, 2066, 13137, 20968]);
    expect(tok.tokenize('i like strawberries')).toEqual(['i', 'like', 'straw', '##berries']);
    expect(tok.tokenize('unaffable')).toEqual(['una', '##ffa', '##ble']);
    expect(tok.tokenize('Héllò hôw are ü?')).toEqual(['hello', 'how', 'are', 'u', '?']);
    expect(tok.tokenize('中文')).toEqual(['中', '文']);
    expect(tok.tokenToId('[CLS]')).toBe(101);
    expect(tok.padId).toBe(0);
    expect(tok.unkId).toBe(100);
  });

  it("gives Hugging Face's ids on a book and multilingual text, from vocab.txt and from tokenizer.json", () => {
    const json = bertJson();
    const hf = new Tokenizer(json, {});
    const theirs = hf.encode(text, { add_special_tokens: false }).ids;
    const fromTxt = bert().encode(text);
    expect(firstDifference(fromTxt, theirs)).toBe(-1);
    const fromJson = tokenizerFromHuggingFace(JSON.stringify(json));
    expect(fromJson).toBeInstanceOf(WordPieceTokenizer);
    expect(firstDifference(fromJson.encode(text), theirs)).toBe(-1);
    expect([...fromJson.encode(text, { addSpecialTokens: true })]).toEqual(hf.encode(text).ids);
    // what we export loads there with the same ids
    const back = new Tokenizer(toHuggingFace(bert()), {});
    expect(firstDifference(back.encode(text).ids, bert().encode(text, { addSpecialTokens: true }))).toBe(-1);
  });

  it('encodes pairs as [CLS] A [SEP] B [SEP] with token type ids', () => {
    const tok = bert(), hf = new Tokenizer(bertJson(), {});
    const { ids, typeIds } = tok.encodePair('Who wrote Emma?', 'Jane Austen wrote it.');
    const theirs = hf.encode('Who wrote Emma?', { text_pair: 'Jane Austen wrote it.', return_token_type_ids: true });
    expect([...ids]).toEqual(theirs.ids);
    expect([...typeIds]).toEqual(theirs.token_type_ids);
    expect(ids[0]).toBe(101);
    expect([...typeIds].filter((t) => t === 1).length).toBe(tok.encode('Jane Austen wrote it.').length + 1);
  });

  it('gives [UNK] for a word with an unknown piece or over max_input_chars_per_word', () => {
    const tok = bert();
    expect(tok.tokenize('a' + 'b'.repeat(99))).not.toContain('[UNK]'); // 100 characters
    expect(tok.tokenize('a' + 'b'.repeat(100))).toEqual(['[UNK]']);  // 101
    expect(tok.tokenize('🤖 ok')).toEqual(['[UNK]', 'ok']);
    const small = new WordPieceTokenizer({ vocab: ['[UNK]', 'un', '##able', 'a'], maxInputCharsPerWord: 6 });
    expect(small.tokenize('unable')).toEqual(['un', '##able']);
    expect(small.tokenize('unables')).toEqual(['[UNK]']);
    expect(small.tokenize('unablx a')).toEqual(['[UNK]', 'a']);
  });

  it('normalizes as BERT: clean text, CJK spacing, accents, lowercase', () => {
    expect(normalize('Héllo\u00a0WORLD\u0000\u200b 中文\tX', [BERT_UNCASED])).toBe('hello world  中  文  x');
    // cased: accents are stripped only when lowercasing, unless strip_accents says otherwise
    expect(normalize('Naïve', [{ ...BERT_UNCASED, lowercase: false } as typeof BERT_UNCASED])).toBe('Naïve');
    expect(normalize('Naïve', [{ ...BERT_UNCASED, lowercase: false, stripAccents: true } as typeof BERT_UNCASED])).toBe('Naive');
    const cased = WordPieceTokenizer.fromVocabTxt(bertVocabTxt(), { lowercase: false });
    expect(cased.tokenize('Hello')).not.toEqual(bert().tokenize('Hello')); // the uncased vocabulary has no 'Hello'
  });

  it("decodes as Hugging Face's WordPiece decoder (token by token cleanup), skipping specials on request", () => {
    const tok = bert();
    expect(tok.decode([7592, 1010, 2088, 999])).toBe('hello, world!');
    expect(tok.decode(tok.encode('Hello, my dog is cute.', { addSpecialTokens: true }))).toBe('[CLS] hello, my dog is cute. [SEP]');
    expect(tok.decode(tok.encode('Hello, my dog is cute.', { addSpecialTokens: true }), { skipSpecialTokens: true })).toBe('hello, my dog is cute.');
    expect(tok.decode(tok.encode('strawberries'))).toBe('strawberries');
    const ids = tok.encode(book('carroll-alice').slice(0, 5000));
    const d = tok.decoder();
    expect([...ids].map((id) => d.push(id)).join('') + d.flush()).toBe(tok.decode(ids));
    expect(() => tok.decode([30522])).toThrow(/id 30522 at position 0 is outside \[0, 30522\)/);
  });

  it('saves and loads (also through loadTokenizer) with the same ids', () => {
    const tok = bert();
    const json = tok.save();
    expect(JSON.parse(json).type).toBe('wordpiece');
    const back = loadTokenizer(json) as WordPieceTokenizer;
    expect(back).toBeInstanceOf(WordPieceTokenizer);
    expect(back.encode(text)).toEqual(tok.encode(text));
    expect(back.encodePair('a', 'b')).toEqual(tok.encodePair('a', 'b'));
    expect(back.save()).toBe(json);
  });

  it('splits words the Whitespace and WhitespaceSplit ways too', () => {
    const json = bertJson();
    for (const type of ['Whitespace', 'WhitespaceSplit']) {
      json.pre_tokenizer = { type };
      const sample = "Hello, world! It's 3.14 — naïve_café.  ok";
      expect([...tokenizerFromHuggingFace(json).encode(sample)], type).toEqual(new Tokenizer(json, {}).encode(sample, { add_special_tokens: false }).ids);
    }
  });
});
