// readTokenizerFolder: a folder's tokenizer.json, else vocab.json + merges.txt, else vocab.txt;
// a folder with none of them is a FileError.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileError } from '../../src/errors.js';
import { BPETokenizer } from '../../src/tokenizers/bpe.js';
import { readTokenizerFolder } from '../../src/tokenizers/files.js';
import { toHuggingFace } from '../../src/tokenizers/hf-tokenizer.js';
import { trainBPE } from '../../src/tokenizers/bpe-train.js';
import { WordPieceTokenizer } from '../../src/tokenizers/wordpiece.js';
import { bertVocabTxt, book, gpt2Files } from './fixtures.js';

const made: string[] = [];
afterAll(() => made.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
const folder = (files: Record<string, string>) => {
  const dir = mkdtempSync(join(tmpdir(), 'wasmformer-tok-'));
  made.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
};

describe('readTokenizerFolder', () => {
  it('reads GPT-2 files, a tokenizer.json (preferred) and a vocab.txt', async () => {
    const { vocabJson, mergesTxt } = gpt2Files();
    const gpt2 = await readTokenizerFolder(folder({ 'vocab.json': vocabJson, 'merges.txt': mergesTxt }));
    expect(gpt2).toBeInstanceOf(BPETokenizer);
    expect([...gpt2.encode('Hello world')]).toEqual([15496, 995]);
    const trained = trainBPE(book('carroll-alice').slice(0, 50_000), { vocabSize: 300 });
    const both = await readTokenizerFolder(folder({ 'tokenizer.json': JSON.stringify(toHuggingFace(trained)), 'vocab.json': vocabJson, 'merges.txt': mergesTxt }) + '/');
    expect(both.vocabSize).toBe(trained.vocabSize);
    const bert = await readTokenizerFolder(folder({ 'vocab.txt': bertVocabTxt() }));
    expect(bert).toBeInstanceOf(WordPieceTokenizer);
    expect([...bert.encode('Hello, my dog is cute', { addSpecialTokens: true })]).toEqual([101, 7592, 1010, 2026, 3899, 2003, 10140, 102]);
  });

  it('names the folder when it holds no tokenizer', async () => {
    const dir = folder({ 'merges.txt': '' });
    await expect(readTokenizerFolder(dir)).rejects.toThrow(FileError);
    await expect(readTokenizerFolder(dir)).rejects.toThrow(/has no spiece\.model, no tokenizer\.json, no vocab\.json \+ merges\.txt and no vocab\.txt/);
  });
});
