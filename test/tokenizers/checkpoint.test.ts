// Tokenizers in training checkpoints: a BPE, a WordPiece and a CharTokenizer stored with a model
// come back from the bytes with the same ids (tokenizerFromCheckpoint dispatches on the saved
// type); a checkpoint without one gives undefined; a damaged one is a CheckpointError.
import { describe, expect, it } from 'vitest';
import { CheckpointError } from '../../src/errors.js';
import { createRuntime } from '../../src/runtime.js';
import { GPT } from '../../src/models/gpt.js';
import { checkpointBytes, parseCheckpoint, tokenizerFromCheckpoint } from '../../src/train/checkpoint.js';
import { encodeSafetensors } from '../../src/io/safetensors.js';
import { CharTokenizer } from '../../src/tokenizers/char.js';
import { BPETokenizer } from '../../src/tokenizers/bpe.js';
import { WordPieceTokenizer } from '../../src/tokenizers/wordpiece.js';
import { trainBPE } from '../../src/tokenizers/bpe-train.js';
import { bert, book, MULTILINGUAL } from './fixtures.js';

const rt = await createRuntime({ variant: 'simd' });

describe('tokenizers in checkpoints', () => {
  it('stores and restores a BPE, a WordPiece and a CharTokenizer', () => {
    const bpe = trainBPE(book('carroll-alice'), { vocabSize: 400, specialTokens: ['<|endoftext|>'] });
    const model = new GPT(rt, { vocabSize: bpe.vocabSize, blockSize: 8, nLayer: 1, nHead: 1, dModel: 8 }, { seed: 1 });
    const text = book('carroll-alice').slice(0, 5000) + MULTILINGUAL;
    const cases: [{ save(): string; encode(t: string): Int32Array }, new (...a: never[]) => unknown, string][] = [
      [bpe, BPETokenizer, text],
      [bert(), WordPieceTokenizer, text],
      [CharTokenizer.fromText(text), CharTokenizer, text],
    ];
    for (const [tok, kind, sample] of cases) {
      const ckpt = parseCheckpoint(checkpointBytes(model, { tokenizer: tok, position: { step: 1 } }));
      const back = tokenizerFromCheckpoint(ckpt)!;
      expect(back).toBeInstanceOf(kind);
      expect(back.encode(sample)).toEqual(tok.encode(sample));
      expect(ckpt.tokenizer).toBe(tok.save()); // the metadata field keeps its earlier meaning
    }
    expect(tokenizerFromCheckpoint(parseCheckpoint(checkpointBytes(model)))).toBeUndefined();
  });

  it('loads the CharTokenizer of an earlier checkpoint, and refuses a damaged tokenizer by name', () => {
    const weights = { 'transformer.wte.weight': { dtype: 'F32' as const, shape: [1], data: new Float32Array(1) } };
    const old = parseCheckpoint(encodeSafetensors({ ...weights }, { format: 'wasmformer-gpt-1', tokenizer: '{"type":"char","vocab":["a","b"]}' }));
    expect(tokenizerFromCheckpoint(old)!.decode([1, 0])).toBe('ba');
    const bad = parseCheckpoint(encodeSafetensors({ ...weights }, { tokenizer: '{"type":"bpe","version":1,"vocab":["a"]' }));
    expect(() => tokenizerFromCheckpoint(bad)).toThrow(CheckpointError);
    expect(() => tokenizerFromCheckpoint(bad)).toThrow(/checkpoint: its tokenizer does not load: saved tokenizer: \(top level\): not valid JSON/);
  });
});
