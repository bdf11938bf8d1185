// Reading a tokenizer from a model folder — a directory (Node, Bun, Deno) or a base URL — its
// SentencePiece spiece.model (T5, Flan-T5: the exact unigram model; its tokenizer.json is a
// conversion of it), else its tokenizer.json, else GPT-2's vocab.json + merges.txt, else BERT's
// vocab.txt (cased or not as tokenizer_config.json's do_lower_case says). The rest of the
// tokenizers take strings and bytes, so they run in browsers and edge functions.
import { FileError, TokenizerFormatError } from '../errors.js';
import { readAll } from '../io/byte-stream.js';
import { openFolder, type Folder } from '../io/folder.js';
import { BPETokenizer } from './bpe.js';
import { tokenizerFromHuggingFace } from './hf-tokenizer.js';
import { UnigramTokenizer } from './unigram.js';
import { WordPieceTokenizer } from './wordpiece.js';

/** The tokenizers a model folder can hold. */
export type FolderTokenizer = BPETokenizer | WordPieceTokenizer | UnigramTokenizer;

/** tokenizer_config.json's fields, or {} without one. */
async function tokenizerConfig(folder: Folder): Promise<Record<string, unknown>> {
  const cfg = await folder.text('tokenizer_config.json');
  if (cfg === null) return {};
  try {
    const v: unknown = JSON.parse(cfg);
    return v !== null && typeof v === 'object' ? v as Record<string, unknown> : {};
  } catch {
    throw new TokenizerFormatError(folder.at('tokenizer_config.json'), '(top level)', 'the file is not valid JSON');
  }
}

/**
 * The tokenizer of a model folder and the file it came from, or null when the folder has none.
 * @example
 * ```ts
 * const found = await tokenizerFromFolder(openFolder('https://example.com/models/bert/'));
 * ```
 */
export async function tokenizerFromFolder(folder: Folder, options: { lowercase?: boolean } = {}): Promise<{ tokenizer: FolderTokenizer; file: string } | null> {
  const spm = await folder.stream('spiece.model');
  if (spm) {
    const extra = (await tokenizerConfig(folder)).extra_ids;
    if (extra !== undefined && !(Number.isInteger(extra) && (extra as number) >= 0)) {
      throw new TokenizerFormatError(folder.at('tokenizer_config.json'), 'extra_ids', `expected an integer ≥ 0, got ${JSON.stringify(extra)}`);
    }
    return { tokenizer: UnigramTokenizer.fromSentencePiece(await readAll(spm), folder.at('spiece.model'), { extraIds: extra as number | undefined }), file: 'spiece.model' };
  }
  const json = await folder.text('tokenizer.json');
  if (json !== null) return { tokenizer: tokenizerFromHuggingFace(json), file: 'tokenizer.json' };
  const [vocab, merges] = [await folder.text('vocab.json'), await folder.text('merges.txt')];
  if (vocab !== null && merges !== null) {
    const specials = vocab.includes('"<|endoftext|>"') ? ['<|endoftext|>'] : [];
    return { tokenizer: BPETokenizer.fromVocabAndMerges(vocab, merges, { specialTokens: specials }), file: 'vocab.json' };
  }
  const txt = await folder.text('vocab.txt');
  if (txt === null) return null;
  let lowercase = options.lowercase;
  if (lowercase === undefined) {
    const lower = (await tokenizerConfig(folder)).do_lower_case;
    if (typeof lower === 'boolean') lowercase = lower;
  }
  return { tokenizer: WordPieceTokenizer.fromVocabTxt(txt, lowercase === undefined ? {} : { lowercase }), file: 'vocab.txt' };
}

/**
 * The tokenizer in folder `dir`: its tokenizer.json, or vocab.json + merges.txt (byte-level BPE),
 * or vocab.txt (WordPiece; `lowercase` as in {@link WordPieceTokenizer.fromVocabTxt}, else from
 * tokenizer_config.json). A folder with none of these throws FileError listing what it looked for.
 * @example
 * const gpt2 = await readTokenizerFolder('models/gpt2');
 */
export async function readTokenizerFolder(dir: string, options: { lowercase?: boolean } = {}): Promise<FolderTokenizer> {
  const found = await tokenizerFromFolder(openFolder(dir), options);
  if (!found) throw new FileError(dir, 'ENOENT', `readTokenizerFolder: ${dir} has no spiece.model, no tokenizer.json, no vocab.json + merges.txt and no vocab.txt`);
  return found.tokenizer;
}
