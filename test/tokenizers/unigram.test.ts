// SentencePiece unigram tokenizers (src/tokenizers/unigram.ts, sentencepiece.ts) against the
// sentencepiece library itself: a model trained by spm_train and the ids spm_encode gave for a
// 782 KB sample (test/fixtures/sentencepiece/make.sh; the tests need neither tool). Also: the
// file reader's refusals, decoding, special tokens and T5's sentinels, the post-processor,
// batches, save/load, and a model folder with spiece.model through loadPretrained.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createRuntime, greedyDecode, hfConfig, loadPretrained, loadTokenizer, readSentencePieceModel, readTokenizerFolder, saveModel, T5,
  TokenError, TokenizerFormatError, UnigramTokenizer,
} from '../../src/index.js';
import { sample, SPECIAL_LINES } from './unigram-sample.js';

const FIX = fileURLToPath(new URL('../fixtures/sentencepiece/', import.meta.url));
const MODEL = readFileSync(join(FIX, 'unigram-1k.model'));
const tok = UnigramTokenizer.fromSentencePiece(MODEL);
const scratch = mkdtempSync(join(tmpdir(), 'wasmformer-unigram-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('UnigramTokenizer = sentencepiece', () => {
  it('the same ids as spm_encode on every line of the 782 KB sample (special tokens as text, as spm does)', () => {
    const lines = sample();
    const want = gunzipSync(readFileSync(join(FIX, 'sample.ids.gz'))).toString('utf8').split('\n');
    expect(want.length).toBe(lines.length + 1);              // a final newline
    let ids = 0;
    const t0 = performance.now();
    lines.forEach((line, i) => {
      const got = Array.from(tok.encode(line, { special: 'text' })).join(' ');
      if (got !== want[i]) throw new Error(`line ${i + 1} ${JSON.stringify(line.slice(0, 80))}:\n got  ${got}\n want ${want[i]}`);
      ids += got === '' ? 0 : got.split(' ').length;
    });
    console.log(`unigram: ${ids} ids for ${lines.length} lines in ${(performance.now() - t0).toFixed(0)} ms (first pass, cold word cache)`);
    expect(ids).toBeGreaterThan(200_000);
  });

  it('reads the model file: pieces, scores, types, special ids, the normalizer', () => {
    const m = readSentencePieceModel(MODEL);
    expect(m.pieces).toHaveLength(1000);
    expect(m.pieces.slice(0, 3)).toEqual([{ piece: '<pad>', score: 0, type: 'control' }, { piece: '</s>', score: 0, type: 'control' }, { piece: '<unk>', score: 0, type: 'unknown' }]);
    expect([m.modelType, m.unkId, m.eosId, m.padId, m.bosId, m.byteFallback]).toEqual([1, 2, 1, 0, -1, false]);
    expect(m.normalizer).toMatchObject({ name: 'nmt_nfkc', addDummyPrefix: true, removeExtraWhitespaces: true, escapeWhitespaces: true });
    expect(m.normalizer.charsmap!.length).toBeGreaterThan(100_000);
    expect(m.pieces.every((p, i) => i < 3 || (p.type === 'normal' && p.score < 0))).toBe(true);
  });

  it('decodes to the normalized text: spaces collapsed and trimmed, NFKC applied; the stream decoder joins to decode', () => {
    expect(tok.decode(tok.encode('  Call me   Ishmael.  '))).toBe('Call me Ishmael.');
    expect(tok.decode(tok.encode('ﬁne ｍｅ'))).toBe('fine me');
    expect(Array.from(tok.encode('ＦＵＬＬ　ｗｉｄｔｈ'))).toEqual(Array.from(tok.encode('FULL width')));
    for (const line of [...sample().slice(0, 200), ...SPECIAL_LINES]) {
      const ids = tok.encode(line);
      const d = tok.decoder();
      expect([...ids].map((id) => d.push(id)).join('') + d.flush()).toBe(tok.decode(ids));
    }
    expect(() => tok.decode([1, 1000])).toThrow(new TokenError('UnigramTokenizer.decode: id 1000 at position 1 is outside [0, 1000)'));
  });

  it('special tokens: matched in text by default, left out by skipSpecialTokens; runs of <unk> become one', () => {
    expect(Array.from(tok.encode('<pad>Call</s>'))).toEqual([0, ...tok.encode('Call'), 1]);
    expect(tok.decode(tok.encode('Call me</s>'), { skipSpecialTokens: true })).toBe('Call me');
    // 日本語 has no pieces: one <unk> for the run, not three
    const ids = Array.from(tok.encode('x 日本語 y'));
    expect(ids.filter((id) => id === tok.unkId)).toHaveLength(1);
    expect(() => tok.encode('a </s>', { special: 'error' })).toThrow(TokenError);
  });

  it('T5\'s sentinels (extraIds): <extra_id_0> is the last id; matched in text; the post-processor appends </s>', () => {
    const t5 = UnigramTokenizer.fromSentencePiece(MODEL, 'spiece.model', { extraIds: 100 });
    expect(t5.vocabSize).toBe(1100);
    expect([t5.tokenToId('<extra_id_0>'), t5.tokenToId('<extra_id_99>')]).toEqual([1099, 1000]);
    const ids = t5.encode('The <extra_id_0> walks in <extra_id_1> park', { addSpecialTokens: true });
    expect(Array.from(ids.slice(-1))).toEqual([1]);                                           // </s>
    expect([...ids].filter((id) => id >= 1000)).toEqual([1099, 1098]);
    expect(t5.decode(ids)).toBe('The<extra_id_0> walks in<extra_id_1> park</s>');
    expect(t5.decode(ids, { skipSpecialTokens: true })).toBe('The walks in park');
    const batch = t5.encodeBatch(['Call me', 'Ishmael, some years ago'], { addSpecialTokens: true });
    expect(batch.ids.length).toBe(2 * batch.ids.length / 2);
    const T = batch.ids.length / 2;
    expect(batch.ids[T - 1]).toBe(t5.padId);                                                  // padded with <pad> = 0
    expect(t5.padId).toBe(0);
    // save / load: the same tokenizer, through loadTokenizer too
    const again = loadTokenizer(t5.save()) as UnigramTokenizer;
    for (const line of sample().slice(500, 700)) expect(Array.from(again.encode(line))).toEqual(Array.from(t5.encode(line)));
    expect(again.tokenToId('<extra_id_5>')).toBe(1094);
  });

  it('refuses what it cannot read, naming the file and field', () => {
    expect(() => UnigramTokenizer.fromSentencePiece(new Uint8Array([0x0a, 0x50, 1, 2]), 'x.model')).toThrow(TokenizerFormatError);
    expect(() => UnigramTokenizer.fromSentencePiece(new TextEncoder().encode('{"model": {}}'), 'x.model')).toThrow(/x\.model: ModelProto: .*not a SentencePiece model/);
    // a BPE model (Llama's kind): one piece, trainer_spec.model_type = 2
    const bpe = new Uint8Array([0x0a, 0x05, 0x0a, 0x01, 0x61, 0x18, 0x01, 0x12, 0x02, 0x18, 0x02, 0x1a, 0x00]);
    expect(() => UnigramTokenizer.fromSentencePiece(bpe, 'llama.model')).toThrow(/llama\.model: trainer_spec\.model_type: model type 2 \(BPE\) is not supported/);
    const cut = MODEL.subarray(0, 5000);
    expect(() => UnigramTokenizer.fromSentencePiece(cut, 'cut.model')).toThrow(/cut\.model: ModelProto: (no trainer_spec \(field 2\): the file is cut short or another format|.*runs past the end) at byte \d+; not a SentencePiece model/);
  });
});

describe('a T5 folder with spiece.model', () => {
  it('loadPretrained reads its tokenizer (sentinels from tokenizer_config.json) and the model decodes text in, text out', async () => {
    const rt = await createRuntime({ variant: 'simd', threads: 1 });
    const m = new T5(rt, { vocabSize: 1128, nLayer: 1, nHead: 2, dModel: 16, dFF: 32, feedForward: 'gated-gelu', tieWordEmbeddings: false }, { seed: 2 });
    const dir = join(scratch, 't5');
    cpSync(FIX, dir, { recursive: true });
    writeFileSync(join(dir, 'spiece.model'), MODEL);
    writeFileSync(join(dir, 'config.json'), JSON.stringify(hfConfig(m)));
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ extra_ids: 100, model_max_length: 512 }));
    writeFileSync(join(dir, 'model.safetensors'), saveModel(m));
    const { model, tokenizer } = await loadPretrained(rt, dir);
    expect(tokenizer).toBeInstanceOf(UnigramTokenizer);
    const t = tokenizer as UnigramTokenizer;
    expect(t.vocabSize).toBe(1100);
    const src = t.encode('translate: Call me Ishmael.', { addSpecialTokens: true });
    const out = greedyDecode(model as T5, [src], { maxLength: 6 })[0]!;
    expect(out.length).toBeGreaterThan(0);
    expect(typeof t.decode(out, { skipSpecialTokens: true })).toBe('string');
    expect((await readTokenizerFolder(dir))).toBeInstanceOf(UnigramTokenizer);
    // a tokenizer_config.json whose extra_ids is not a count is named
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ extra_ids: 'many' }));
    await expect(loadPretrained(rt, dir)).rejects.toThrow(/tokenizer_config\.json: extra_ids: expected an integer ≥ 0, got "many"/);
    model.dispose();
    m.dispose();
  });
});
